// Names of the schema's enum values (also the HDF5 enum member names) and the pending row.
#include "esm/dataset/schema.hpp"

#include <limits>

namespace esm::dataset {

std::string_view to_string(row_status s) {
  switch (s) {
    case row_status::pending: return "pending";
    case row_status::done: return "done";
    case row_status::failed: return "failed";
  }
  return "unknown";
}

std::string_view to_string(error_code e) {
  switch (e) {
    case error_code::none: return "none";
    case error_code::compile_failed: return "compile_failed";
    case error_code::run_failed: return "run_failed";
    case error_code::out_of_memory: return "out_of_memory";
    case error_code::unstable: return "unstable";
    case error_code::internal: return "internal";
  }
  return "unknown";
}

result_row pending_row() {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  result_row r{};
  r.trimmed_mean_ms = r.median_ms = r.mean_ms = r.std_ms = r.min_ms = r.max_ms = r.p10_ms = r.p90_ms = nan;
  r.reference_ms = r.normalised = r.start_unix_s = r.end_unix_s = r.eager_ms = r.graph_ms = nan;
  set_status(r, row_status::pending);
  r.run = r.rank = r.device = -1;
  r.error_code = static_cast<std::int32_t>(error_code::none);
  return r;
}

}  // namespace esm::dataset
