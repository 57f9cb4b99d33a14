// esm info: what a latency dataset holds: provenance, progress by status, per-rank and per-host throughput,
// latency by depth bin and the drift guard's events (computed by dataset::summarize; printed here,
// one function per section).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/dataset/fields.hpp"
#include "esm/dataset/run_lock.hpp"
#include "esm/dataset/summary.hpp"
#include "esm/measure/drift_guard.hpp"
#include "esm/train/model_file.hpp"

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

/// The value of `key` in section `section` of a resolved job text ("" when absent).
std::string resolved_value(const std::string& text, const std::string& section, const std::string& key) {
  std::istringstream in(text);
  std::string line, current;
  while (std::getline(in, line)) {
    if (!line.empty() && line.front() == '[') {
      current = line;
    } else if (current == "[" + section + "]" && line.rfind(key + " = ", 0) == 0) {
      return line.substr(key.size() + 3);
    }
  }
  return "";
}

/// Where the plan came from: a sample (its seed) or a file (sample.policy = file: path, SHA-256).
std::string plan_origin(const dataset::provenance& p) {
  if (resolved_value(p.config_text, "sample", "policy") != "file") return "sample seed " + std::to_string(p.sample_seed);
  return "from " + resolved_value(p.config_text, "sample", "file") + " (sha256 " +
         resolved_value(p.config_text, "sample", "file_sha256").substr(0, 16) + "...)";
}

void print_header(std::ostream& os, const std::string& path, const dataset::contents& c) {
  const auto& p = c.prov;
  os << "dataset      " << path << "  (schema " << c.schema_version << ", " << c.units << ")\n"
     << "made by      esm " << c.esm_version << ", " << c.hdf5_version << ", " << p.mpi_library_version << '\n'
     << "space        " << p.space << (p.variant.empty() ? "" : " " + p.variant) << ", " << c.archs.size()
     << " archs, " << plan_origin(p) << '\n'
     << "backend      " << p.backend << " " << p.precision << " batch " << p.batch_size
     << (p.backend_version.empty() ? "" : "  (" + p.backend_version + ")") << "\n"
     << (p.synthetic ? "SYNTHETIC    latencies computed from MACs, not measured (esm train needs --allow-synthetic)\n" : "")
     << (p.backend == "imported" ? "IMPORTED     measured elsewhere, not by esm: " + p.device + "; source: " + p.imported_from +
                                        "\n             inputs: " + p.input_sha256 + " (sha256)\n"
                                  : "")
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
}

void print_status(std::ostream& os, const dataset::summary& s) {
  os << "\nstatus       done " << s.done << "   failed " << s.failed << "   pending " << s.pending << "   \n";
  if (s.eager_graph_rows > 0) {
    os << format("launch modes eager / graph replay: median %.2f over %zu rows (esm train's default label: graph)\n",
                 s.eager_over_graph_median, s.eager_graph_rows);
  }
}

void print_runs(std::ostream& os, const dataset::contents& c) {
  os << "\nruns\n";
  for (const auto& run : c.runs) {
    os << format("  %-3d %-20s -> %-20s %-11s %3lld ranks %-7s %6llu rows  HDF5 %.2f s", run.index,
                 run.info.start_time.c_str(), run.end.end_time.empty() ? "?" : run.end.end_time.c_str(),
                 run.end.outcome.c_str(), static_cast<long long>(run.info.world_size), run.info.partition.c_str(),
                 static_cast<unsigned long long>(run.end.rows_done), run.end.hdf5_seconds)
       << (run.info.slurm_job_id.empty() ? "" : "  slurm " + run.info.slurm_job_id) << '\n';
  }
}

void print_ranks(std::ostream& os, const dataset::summary& s) {
  os << "\nper rank     run rank   rows   archs/s  (timed share)  where\n";
  for (const auto& r : s.ranks) {
    os << format("             %3d %4d %6zu %9.3f  (%5.1f%%)       ", r.run, r.rank, r.rows, r.archs_per_s(),
                 100.0 * r.timed_share())
       << r.where << '\n';
  }
}

void print_hosts(std::ostream& os, const dataset::summary& s) {
  if (s.hosts.empty()) return;
  os << "\nper host     run ranks   rows   archs/s  host\n";
  for (const auto& h : s.hosts) {
    os << format("             %3d %5d %6zu %9.3f  ", h.run, h.ranks, h.rows, h.archs_per_s()) << h.host << '\n';
  }
}

void print_depths(std::ostream& os, const dataset::summary& s) {
  os << "\nlatency (trimmed mean, ms) by depth\n  depth      n        min     median        max\n";
  for (const auto& d : s.depths) {
    os << format("  %5d %6zu %10.3f %10.3f %10.3f\n", d.depth, d.n, d.min_ms, d.median_ms, d.max_ms);
  }
}

std::string verdict_text(std::int32_t v) { return std::string(measure::to_string(static_cast<measure::drift_verdict>(v))); }

void print_drift(std::ostream& os, const dataset::drift_overview& d, std::size_t max_events) {
  os << "\ndrift checks " << d.checks;
  for (const auto& [v, n] : d.verdicts) os << "   " << verdict_text(v) << " " << n;
  if (d.has_thresholds) os << format("   threshold in effect %.1f%% to %.1f%%", 100.0 * d.lowest_threshold, 100.0 * d.highest_threshold);
  os << '\n';
  for (std::size_t i = 0; i < d.events.size(); ++i) {
    if (i == max_events) {
      os << "  ...\n";
      break;
    }
    const auto& e = d.events[i];
    os << format("  run %d rank %d at %s: reference %.3f ms vs %.3f ms (%+.1f%%, threshold %s) -> %s, window of %d ending at row %lld\n",
                 e.run, e.rank, utc_text(e.time_unix_s).c_str(), e.reference_ms, e.baseline_ms, 100.0 * e.relative_change,
                 std::isfinite(e.threshold) ? format("%.1f%%", 100.0 * e.threshold).c_str() : "not recorded",
                 verdict_text(e.verdict).c_str(), e.window, static_cast<long long>(e.arch_row));
  }
}

void print_failures(std::ostream& os, const std::vector<dataset::failed_arch>& failures, std::size_t max_events) {
  if (failures.empty()) return;
  os << "\nfailures\n";
  for (std::size_t i = 0; i < failures.size() && i < max_events; ++i) {
    const auto& f = failures[i];
    os << "  row " << f.row << " " << dataset::to_string(f.code) << ": " << f.message << '\n';
  }
}

/// The implementations that ran (/algos), most frequent first: cuDNN's algorithms or oneDNN's
/// kernels with their ISA, e.g. "brgconv_1x1:avx512_core_bf16".
void print_algorithms(std::ostream& os, const std::vector<dataset::algo_row>& algos) {
  if (algos.empty()) return;
  std::map<std::string, std::size_t> counts;
  for (const auto& a : algos) ++counts[std::string(a.name, strnlen(a.name, sizeof a.name))];
  std::vector<std::pair<std::string, std::size_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  os << "\nalgorithm choices: " << algos.size() << " layer records\n";
  for (const auto& [name, count] : sorted) os << "  " << std::left << std::setw(48) << name << ' ' << count << '\n';
}

/// Every provenance field and every run's fields, as declared in dataset/fields.hpp.
void print_provenance(std::ostream& os, const dataset::contents& c) {
  os << "\nprovenance\n" << dataset::provenance_text(c.prov);
  for (const auto& run : c.runs) os << "run " << run.index << '\n' << dataset::run_text(run.info, run.end);
}

std::string report(const std::string& path, const dataset::contents& c, std::size_t max_events, bool provenance) {
  const auto s = dataset::summarize(c);
  std::ostringstream os;
  print_header(os, path, c);
  if (provenance) print_provenance(os, c);
  print_status(os, s);
  print_runs(os, c);
  const bool imported = c.prov.backend == "imported";  // no ranks timed anything, no drift guard ran
  if (!imported) {
    print_ranks(os, s);
    print_hosts(os, s);
  }
  print_depths(os, s);
  if (!imported) print_drift(os, s.drift, max_events);
  print_failures(os, s.failures, max_events);
  print_algorithms(os, c.algos);
  return os.str();
}

/// A model file: what it predicts, from which data, and for esm adapt's models their sources.
std::string model_report(const std::string& path) {
  const auto m = train::read_model_file(path);
  const auto& i = m.info;
  std::ostringstream os;
  os << "model        " << path << "  (esm " << i.esm_version << ", " << i.created << ")\n"
     << "space        " << i.space << ", encoding " << i.encoding << ", label " << i.label << '\n'
     << "kinds        ";
  for (std::size_t k = 0; k < i.kinds.size(); ++k) os << (k ? "," : "") << i.kinds[k];
  os << "\ndataset      " << i.dataset_path << "  (" << i.rows_used << " rows used, " << i.rows_excluded << " excluded)\n";
  if (!i.adapted_from.empty()) {
    os << "ADAPTED      by esm adapt from " << i.adapted_from.size() << " source model" << (i.adapted_from.size() == 1 ? "" : "s")
       << " on " << i.adapt_rows << " rows of the target device\n"
       << "fit          " << i.adapt_fit << '\n';
    for (std::size_t k = 0; k < i.adapted_from.size(); ++k) {
      os << "source " << k << "     " << i.adapted_from[k] << "  (sha256 " << i.adapted_from_sha256[k].substr(0, 16) << "...)\n";
    }
  }
  os << (i.adapted_from.empty() ? "cv           " : "leave-one-out\n             ") << "model, n, +-10%, MAPE %, Spearman, 90% coverage\n";
  for (const auto& r : m.cv) {
    if (r.bin >= 0) continue;
    os << format("             %-22s %6zu %6.1f%% %7.2f %8.3f ", r.model.c_str(), r.metrics.n, 100 * r.metrics.within_10,
                 r.metrics.mape_percent, r.metrics.spearman_rho)
       << (std::isnan(r.coverage_90) ? std::string("      -") : format("%6.1f%%", 100 * r.coverage_90)) << '\n';
  }
  return os.str();
}

}  // namespace

int info(const args& a) {
  po::options_description opts("esm info options");
  std::string path, out;
  long long events = 20;  // signed: program_options would wrap "-3" into a huge size_t
  bool provenance = false;
  opts.add_options()
      ("dataset", po::value(&path)->required(), "dataset file written by esm profile (or a model file: its summary)")
      ("events", po::value(&events)->default_value(20), "drift events and failures to list at most")
      ("out", po::value(&out), "write to FILE instead of stdout")
      ("provenance", po::bool_switch(&provenance), "also list every provenance field and each run's fields");
  po::positional_options_description positional;
  positional.add("dataset", 1);
  po::variables_map vm;
  if (!parse(a, opts, vm, "esm info DATASET.h5 [--events N] [--provenance]", &positional)) return 0;
  if (events < 0) throw usage_error("--events must be >= 0, got " + std::to_string(events));
  if (train::is_model_file(path)) {
    write_output(out, model_report(path));
    return 0;
  }
  write_output(out, report(path, dataset::read(path), static_cast<std::size_t>(events), provenance));
  return 0;
}

}  // namespace esm::cli
