// esm info: what a latency dataset holds: provenance, progress by status, per-rank throughput,
// latency by depth bin and the drift guard's events.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <sstream>
#include <vector>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/dataset/run_lock.hpp"
#include "esm/measure/statistics.hpp"

namespace po = boost::program_options;

namespace esm::cli {

namespace {

std::string format(const char* fmt, auto... values) {
  char line[512];
  std::snprintf(line, sizeof line, fmt, values...);
  return line;
}

std::string utc_text(double unix_s) {
  if (!std::isfinite(unix_s)) return "?";
  const auto t = static_cast<std::time_t>(unix_s);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

/// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ" (as esm writes run times), NaN otherwise.
double unix_of(const std::string& iso) {
  std::tm utc{};
  const char* end = strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  if (end == nullptr || *end != '\0') return NAN;
  return static_cast<double>(timegm(&utc));
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return measure::percentile_sorted(v, 0.5);
}

std::string report(const std::string& path, const dataset::contents& c, std::size_t max_events) {
  using dataset::row_status;
  std::ostringstream os;
  const auto& p = c.prov;
  os << "dataset      " << path << "  (schema " << c.schema_version << ", " << c.units << ")\n"
     << "made by      esm " << c.esm_version << ", " << c.hdf5_version << ", " << p.mpi_library_version << '\n'
     << "space        " << p.space << (p.variant.empty() ? "" : " " + p.variant) << ", " << c.archs.size()
     << " archs, sample seed " << p.sample_seed << '\n'
     << "backend      " << p.backend << " " << p.precision << " batch " << p.batch_size << "  (" << p.backend_version
     << ")\n"
     << (p.synthetic ? "SYNTHETIC    latencies computed from MACs, not measured (esm train needs --allow-synthetic)\n" : "")
     << "measurement  " << p.measure_policy << '\n'
     << "config hash  " << p.config_hash << '\n'
     << "started      " << p.start_time << "  by: " << p.command_line << '\n'
     << "last end     " << (c.end_time.empty() ? "(no run has finished cleanly)" : c.end_time) << '\n';
  if (!c.slurm_job_id.empty()) os << "slurm job    " << c.slurm_job_id << '\n';
  if (!c.active_run.empty()) {
    std::error_code ec;
    const bool locked = std::filesystem::exists(dataset::lock_path(path), ec);
    os << "ACTIVE RUN   " << c.active_run
       << (locked ? "  (running, or killed: --resume takes over a dead run's lock)" : "  (killed: resume it)") << '\n';
  }

  std::map<std::int32_t, std::size_t> by_status;
  for (const auto& r : c.results) ++by_status[r.status];
  os << "\nstatus       ";
  for (const auto s : {row_status::done, row_status::failed, row_status::pending}) {
    os << dataset::to_string(s) << " " << by_status[static_cast<std::int32_t>(s)] << "   ";
  }
  os << '\n';

  // GPU rows of schema 3: how much of an eager pass is the host enqueueing launches.
  std::vector<double> eager_over_graph;
  for (const auto& r : c.results) {
    if (r.status == static_cast<std::int32_t>(row_status::done) && std::isfinite(r.graph_ms) && r.graph_ms > 0 &&
        std::isfinite(r.eager_ms)) {
      eager_over_graph.push_back(r.eager_ms / r.graph_ms);
    }
  }
  if (!eager_over_graph.empty()) {
    os << format("launch modes eager / graph replay: median %.2f over %zu rows (esm train's default label: graph)\n",
                 median_of(eager_over_graph), eager_over_graph.size());
  }

  os << "\nruns\n";
  for (const auto& run : c.runs) {
    os << format("  %-3d %-20s -> %-20s %-11s %3lld ranks %-7s %6llu rows  HDF5 %.2f s", run.index,
                 run.info.start_time.c_str(), run.end.end_time.empty() ? "?" : run.end.end_time.c_str(),
                 run.end.outcome.c_str(), static_cast<long long>(run.info.world_size), run.info.partition.c_str(),
                 static_cast<unsigned long long>(run.end.rows_done), run.end.hdf5_seconds)
       << (run.info.slurm_job_id.empty() ? "" : "  slurm " + run.info.slurm_job_id) << '\n';
  }

  // Throughput per (run, rank): rows finished over the span from the rank's first recorded event
  // (the run's start, a row's start or a drift check) to its last (the run's end when recorded; a
  // re-measured row keeps only its last interval, so rows alone would shorten the span). The timed share is the union of the rows'
  // measurement intervals over that span: interleaved archs of one group overlap in time, and a
  // plain sum would count their shared seconds once per arch.
  struct tally {
    std::size_t rows = 0;
    double first = INFINITY, last = -INFINITY, busy = 0;
    std::vector<std::pair<double, double>> intervals;
  };
  std::map<std::pair<int, int>, tally> ranks;
  for (const auto& r : c.results) {
    if (r.status == static_cast<std::int32_t>(row_status::pending)) continue;
    auto& t = ranks[{r.run, r.rank}];
    ++t.rows;
    if (std::isfinite(r.start_unix_s) && std::isfinite(r.end_unix_s) && r.end_unix_s >= r.start_unix_s) {
      t.first = std::min(t.first, r.start_unix_s);
      t.last = std::max(t.last, r.end_unix_s);
      t.intervals.emplace_back(r.start_unix_s, r.end_unix_s);
    }
  }
  for (auto& [key, t] : ranks) {
    const auto run_it = std::find_if(c.runs.begin(), c.runs.end(), [&](const auto& r) { return r.index == key.first; });
    if (run_it == c.runs.end()) continue;
    const auto& run = *run_it;
    const double start = unix_of(run.info.start_time), end = unix_of(run.end.end_time);
    if (std::isfinite(start)) t.first = std::min(t.first, start);
    if (std::isfinite(end)) t.last = std::max(t.last, end);
  }
  for (const auto& d : c.drift) {
    const auto it = ranks.find({d.run, d.rank});
    if (it == ranks.end() || !std::isfinite(d.time_unix_s)) continue;
    it->second.first = std::min(it->second.first, d.time_unix_s);
    it->second.last = std::max(it->second.last, d.time_unix_s);
  }
  for (auto& [key, t] : ranks) {
    std::sort(t.intervals.begin(), t.intervals.end());
    double covered_to = -INFINITY;
    for (const auto& [start, end] : t.intervals) {
      const double from = std::max(start, covered_to);
      if (end > from) t.busy += end - from;
      covered_to = std::max(covered_to, end);
    }
  }
  std::map<std::pair<int, int>, std::string> where;
  for (const auto& r : c.ranks) {
    where[{r.run, r.rank}] = dataset::get_text(r.host) + " " +
                             (r.device >= 0 ? "gpu " + std::to_string(r.device) + " " + dataset::get_text(r.device_name)
                                            : "cpu x" + std::to_string(r.threads) + " " + dataset::get_text(r.cpus));
  }
  os << "\nper rank     run rank   rows   archs/s  (timed share)  where\n";
  for (const auto& [key, t] : ranks) {
    const double span = t.last - t.first;
    os << format("             %3d %4d %6zu %9.3f  (%5.1f%%)       ", key.first, key.second, t.rows,
                 span > 0 ? static_cast<double>(t.rows) / span : 0.0, span > 0 ? 100.0 * t.busy / span : 0.0)
       << where[key] << '\n';
  }

  std::map<int, std::vector<double>> by_depth;
  for (std::size_t i = 0; i < c.results.size(); ++i) {
    if (c.results[i].status == static_cast<std::int32_t>(row_status::done)) {
      by_depth[c.archs[i].depth].push_back(c.results[i].trimmed_mean_ms);
    }
  }
  os << "\nlatency (trimmed mean, ms) by depth\n  depth      n        min     median        max\n";
  for (const auto& [depth, v] : by_depth) {
    os << format("  %5d %6zu %10.3f %10.3f %10.3f\n", depth, v.size(), *std::min_element(v.begin(), v.end()),
                 median_of(v), *std::max_element(v.begin(), v.end()));
  }

  std::map<std::int32_t, std::size_t> verdicts;
  for (const auto& d : c.drift) ++verdicts[d.verdict];
  os << "\ndrift checks " << c.drift.size();
  for (const auto& [v, n] : verdicts) os << "   " << measure::to_string(static_cast<measure::drift_verdict>(v)) << " " << n;
  double lowest = INFINITY, highest = -INFINITY;
  for (const auto& d : c.drift) {
    if (!std::isfinite(d.threshold)) continue;
    lowest = std::min(lowest, d.threshold);
    highest = std::max(highest, d.threshold);
  }
  if (lowest <= highest) os << format("   threshold in effect %.1f%% to %.1f%%", 100.0 * lowest, 100.0 * highest);
  os << '\n';
  std::size_t shown = 0;
  for (const auto& d : c.drift) {
    if (d.verdict == static_cast<std::int32_t>(measure::drift_verdict::ok)) continue;
    if (shown++ == max_events) {
      os << "  ...\n";
      break;
    }
    os << format("  run %d rank %d at %s: reference %.3f ms vs %.3f ms (%+.1f%%, threshold %s) -> %s, window of %d ending at row %lld\n",
                 d.run, d.rank, utc_text(d.time_unix_s).c_str(), d.reference_ms, d.baseline_ms, 100.0 * d.relative_change,
                 std::isfinite(d.threshold) ? format("%.1f%%", 100.0 * d.threshold).c_str() : "not recorded",
                 std::string(measure::to_string(static_cast<measure::drift_verdict>(d.verdict))).c_str(), d.window,
                 static_cast<long long>(d.arch_row));
  }

  std::size_t failures = 0;
  for (std::size_t i = 0; i < c.results.size(); ++i) {
    const auto& r = c.results[i];
    if (r.status != static_cast<std::int32_t>(row_status::failed)) continue;
    if (failures++ == 0) os << "\nfailures\n";
    if (failures > max_events) continue;
    os << "  row " << i << " " << dataset::to_string(static_cast<dataset::error_code>(r.error_code)) << ": "
       << dataset::get_text(r.error_message) << '\n';
  }
  if (!c.algos.empty()) os << "\nalgorithm choices: " << c.algos.size() << " layer records\n";
  return os.str();
}

}  // namespace

int info(const args& a) {
  po::options_description opts("esm info options");
  std::string path, out;
  long long events = 20;  // signed: program_options would wrap "-3" into a huge size_t
  opts.add_options()
      ("dataset", po::value(&path)->required(), "dataset file written by esm profile")
      ("events", po::value(&events)->default_value(20), "drift events and failures to list at most")
      ("out", po::value(&out), "write to FILE instead of stdout");
  po::positional_options_description positional;
  positional.add("dataset", 1);
  po::variables_map vm;
  if (!parse(a, opts, vm, "esm info DATASET.h5 [--events N]", &positional)) return 0;
  if (events < 0) throw usage_error("--events must be >= 0, got " + std::to_string(events));
  write_output(out, report(path, dataset::read(path), static_cast<std::size_t>(events)));
  return 0;
}

}  // namespace esm::cli
