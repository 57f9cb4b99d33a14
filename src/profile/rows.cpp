// The dataset rows of a profile run (design: rows.hpp).
#include "profile/rows.hpp"

#include <algorithm>
#include <cctype>
#include <new>

namespace esm::profile {

failure classify(const std::exception& e, dataset::error_code otherwise) {
  std::string message = e.what();
  message = message.substr(0, message.find('\n'));
  std::string lower = message;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  const bool oom = dynamic_cast<const std::bad_alloc*>(&e) != nullptr || lower.find("out of memory") != std::string::npos;
  return {oom ? dataset::error_code::out_of_memory : otherwise, message};
}

namespace {

dataset::result_row row_of(const row_origin& o, const measure::measurement& m) {
  dataset::result_row r = dataset::pending_row();
  r.arch_id = o.arch_id;
  r.run = o.run;
  r.rank = o.rank;
  r.device = o.device;
  r.start_unix_s = static_cast<double>(m.start_unix_ns) / 1e9;
  r.end_unix_s = static_cast<double>(m.end_unix_ns) / 1e9;
  return r;
}

}  // namespace

dataset::result_row failed_row(const row_origin& o, const measure::measurement& m, const failure& f) {
  dataset::result_row r = row_of(o, m);
  set_status(r, dataset::row_status::failed);
  r.error_code = static_cast<std::int32_t>(f.code);
  dataset::set_text(r.error_message, f.message);
  return r;
}

dataset::result_row done_row(const row_origin& o, const measure::measurement& m, double other_mode_ms,
                             backend::launch_mode timed) {
  dataset::result_row r = row_of(o, m);
  set_status(r, dataset::row_status::done);
  r.trimmed_mean_ms = m.stats.trimmed_mean_ms;
  r.median_ms = m.stats.median_ms;
  r.mean_ms = m.stats.mean_ms;
  r.std_ms = m.stats.std_ms;
  r.min_ms = m.stats.min_ms;
  r.max_ms = m.stats.max_ms;
  r.p10_ms = m.stats.p10_ms;
  r.p90_ms = m.stats.p90_ms;
  r.reference_ms = m.reference_ms;
  r.normalised = m.normalised;
  const bool graph_timed = timed == backend::launch_mode::graph;
  r.eager_ms = graph_timed ? other_mode_ms : r.trimmed_mean_ms;
  r.graph_ms = graph_timed ? r.trimmed_mean_ms : other_mode_ms;
  r.n = static_cast<std::int32_t>(m.samples_ms.size());
  r.remeasures = m.remeasure_count;
  return r;
}

std::vector<float> kept_samples(const measure::measurement& m, std::int64_t max_samples) {
  const auto kept = std::min<std::size_t>(m.samples_ms.size(), static_cast<std::size_t>(std::max<std::int64_t>(max_samples, 0)));
  return {m.samples_ms.begin(), m.samples_ms.begin() + static_cast<std::ptrdiff_t>(kept)};
}

std::vector<dataset::algo_row> algo_rows(const std::vector<backend::layer_algo>& algos, std::uint64_t arch_row, int run,
                                         int rank) {
  std::vector<dataset::algo_row> rows;
  for (const auto& a : algos) {
    dataset::algo_row ar{};
    ar.workspace_bytes = a.workspace_bytes;
    ar.arch_row = static_cast<std::int64_t>(arch_row);
    ar.run = run;
    ar.rank = rank;
    ar.layer = a.layer;
    ar.algo_id = a.id;
    dataset::set_text(ar.name, a.name);
    rows.push_back(ar);
  }
  return rows;
}

dataset::drift_row drift_row_of(const measure::drift_check& c, std::int64_t arch_row, int run, int rank) {
  dataset::drift_row d{};
  d.time_unix_s = static_cast<double>(c.time_unix_ns) / 1e9;
  d.reference_ms = c.reference_ms;
  d.baseline_ms = c.baseline_ms;
  d.relative_change = c.decision.relative_change;
  d.arch_row = arch_row;
  d.run = run;
  d.rank = rank;
  d.verdict = static_cast<std::int32_t>(c.decision.verdict);
  d.window = static_cast<std::int32_t>(c.decision.archs.size());
  d.threshold = c.threshold;
  return d;
}

dataset::rank_row rank_row_of(const cluster::binding& b, int run) {
  dataset::rank_row r{};
  r.run = run;
  r.rank = b.rank;
  r.local_rank = b.local_rank;
  r.local_size = b.local_size;
  r.device = b.device;
  r.threads = b.threads;
  dataset::set_text(r.host, b.host);
  dataset::set_text(r.device_name, b.device_name);
  dataset::set_text(r.device_uuid, b.uuid);
  dataset::set_text(r.pci_bus_id, b.pci_bus_id);
  dataset::set_text(r.cpus, b.cpus);
  return r;
}

}  // namespace esm::profile
