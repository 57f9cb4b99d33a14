// The dataset rows a profile run writes, made from what the measurement and binding layers
// report. Pure functions (no MPI, no HDF5 I/O, no device): unit-tested in tests/profile/rows_gtest.cpp.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "esm/backend/backend.hpp"
#include "esm/cluster/binding.hpp"
#include "esm/dataset/schema.hpp"
#include "esm/measure/batch.hpp"

namespace esm::profile {

/// Why an arch could not be measured.
struct failure {
  dataset::error_code code = dataset::error_code::internal;
  std::string message;  ///< the exception's first line
};

/// `e` as a failure: out_of_memory for std::bad_alloc or a message saying "out of memory"
/// (any case), `otherwise` for anything else.
[[nodiscard]] failure classify(const std::exception& e, dataset::error_code otherwise);

/// Where and by whom a row was measured.
struct row_origin {
  std::uint64_t arch_id = 0;
  int run = 0;
  int rank = 0;
  int device = -1;  ///< -1 on CPU
};

/// The /results row of a failed measurement (status failed, error code and message).
[[nodiscard]] dataset::result_row failed_row(const row_origin& o, const measure::measurement& m, const failure& f);

/// The /results row of a final measurement (status done). `other_mode_ms`: the trimmed mean of
/// the passes in the launch mode that was not timed (NaN without them); `timed`: the mode that
/// was, so that eager_ms and graph_ms land in their columns.
[[nodiscard]] dataset::result_row done_row(const row_origin& o, const measure::measurement& m, double other_mode_ms,
                                           backend::launch_mode timed);

/// The repetitions kept in /samples: the first `max_samples` of the measurement's.
[[nodiscard]] std::vector<float> kept_samples(const measure::measurement& m, std::int64_t max_samples);

/// The /algos rows of one arch (dataset row `arch_row`): one per layer the backend chose an algorithm for.
[[nodiscard]] std::vector<dataset::algo_row> algo_rows(const std::vector<backend::layer_algo>& algos,
                                                       std::uint64_t arch_row, int run, int rank);

/// The /drift row of one drift check; `arch_row`: the dataset row of the window's last arch (-1: none).
[[nodiscard]] dataset::drift_row drift_row_of(const measure::drift_check& c, std::int64_t arch_row, int run, int rank);

/// The /ranks row of a rank's binding in run `run`.
[[nodiscard]] dataset::rank_row rank_row_of(const cluster::binding& b, int run);

}  // namespace esm::profile
