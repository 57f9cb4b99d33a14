// esm compare: reproducibility of two latency datasets of the same architectures (two runs, two
// machines, two days): the rows done in both, matched by arch id, and how far B's label is from A's.
//
// The printed numbers are a contract shared with analysis/compare.py (the pytest checks that both
// print the same): one "name value" line each, relative difference = B / A - 1, shares in [0, 1].
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/measure/statistics.hpp"
#include "esm/surrogate/metrics.hpp"
#include "esm/train/training_data.hpp"

namespace po = boost::program_options;

namespace esm::cli {

namespace {

/// arch id -> label of a dataset's done rows with a positive finite label (the first row of an id
/// wins; plans have unique ids).
std::unordered_map<std::uint64_t, double> labels_by_id(const dataset::contents& c, train::label_kind label) {
  const auto values = train::label_values(c, label);
  std::unordered_map<std::uint64_t, double> out;
  for (std::size_t i = 0; i < c.results.size() && i < c.archs.size(); ++i) {
    if (status_of(c.results[i]) != dataset::row_status::done) continue;
    if (std::isfinite(values[i]) && values[i] > 0) out.emplace(c.archs[i].id, values[i]);
  }
  return out;
}

std::string line(const char* name, double value) {
  char text[96];
  std::snprintf(text, sizeof text, "%-20s %.12g\n", name, value);
  return text;
}

/// A and B measured in two precisions (two devices) are compared only when asked: their gap is
/// then a speed-up, not a reproducibility figure. "unknown" (imported latencies) is not checked.
std::string precisions_line(const dataset::provenance& a, const dataset::provenance& b, const std::string& path_b,
                            bool across_precisions) {
  const bool known = a.precision != "unknown" && b.precision != "unknown";
  if (!known || a.precision == b.precision) return "";
  if (!across_precisions) {
    throw usage_error("'" + path_b + "' was measured in precision " + b.precision + ", A in " + a.precision +
                      " (another device); pass --across-precisions to compare them anyway");
  }
  return "# precisions differ: A " + a.precision + ", B " + b.precision + " (B/A - 1 is a speed-up, not noise)\n";
}

std::string report(const std::string& path_a, const std::string& path_b, train::label_kind label,
                   bool across_precisions) {
  const auto contents_a = dataset::read(path_a, train::needs_samples(label));
  const auto contents_b = dataset::read(path_b, train::needs_samples(label));
  const std::string precisions = precisions_line(contents_a.prov, contents_b.prov, path_b, across_precisions);
  const auto a = labels_by_id(contents_a, label);
  const auto b = labels_by_id(contents_b, label);
  for (const auto& [path, labels] : {std::pair{&path_a, &a}, std::pair{&path_b, &b}}) {
    if (labels->empty()) {
      throw usage_error("'" + *path + "' has no done architectures with a positive " +
                        std::string(train::to_string(label)) + " label");
    }
  }
  std::vector<std::uint64_t> common;
  for (const auto& [id, v] : a) {
    if (b.contains(id)) common.push_back(id);
  }
  if (common.size() < 2) {
    throw usage_error("'" + path_a + "' and '" + path_b + "' have " + std::to_string(common.size()) +
                      " done architectures in common (need at least 2; same space and plan?)");
  }
  // By id, not in the hash maps' arbitrary order: sums then add up in the same order on every run
  // and in analysis/compare.py.
  std::sort(common.begin(), common.end());
  std::vector<double> va, vb, abs_rel;
  double signed_sum = 0;
  for (const auto id : common) {
    va.push_back(a.at(id));
    vb.push_back(b.at(id));
    const double rel = vb.back() / va.back() - 1.0;
    signed_sum += rel;
    abs_rel.push_back(std::abs(rel));
  }
  const double n = static_cast<double>(common.size());
  double abs_sum = 0;
  for (const double v : abs_rel) abs_sum += v;
  std::sort(abs_rel.begin(), abs_rel.end());

  std::string out = "# esm compare " + path_a + " " + path_b + ": label " + std::string(train::to_string(label)) +
                    ", rows done in both matched by arch id, rel diff = B/A - 1\n" + precisions;
  out += line("n_done_a", static_cast<double>(a.size()));
  out += line("n_done_b", static_cast<double>(b.size()));
  out += line("n_common", n);
  out += line("mean_abs_rel_diff", abs_sum / n);
  out += line("median_abs_rel_diff", measure::percentile_sorted(abs_rel, 0.5));
  out += line("mean_rel_diff", signed_sum / n);
  out += line("within_5", surrogate::within_share(vb, va, 0.05));
  out += line("within_10", surrogate::within_share(vb, va, 0.10));
  out += line("spearman", surrogate::spearman_rho(va, vb));
  out += line("kendall_tau_b", surrogate::kendall_tau_b(va, vb));
  return out;
}

}  // namespace

int compare(const args& a) {
  po::options_description opts("esm compare options");
  std::vector<std::string> paths;
  std::string label, out;
  opts.add_options()
      ("dataset", po::value(&paths)->multitoken(), "the two dataset files A and B (positional)")
      ("label", po::value(&label)->default_value("trimmed"), "label compared: trimmed (ms), normalised, interleaved, graph or eager (ms)")
      ("out", po::value(&out), "write to FILE instead of stdout")
      ("across-precisions", po::bool_switch(), "compare datasets measured in different precisions (fp32 vs bf16: a speed-up)");
  po::positional_options_description positional;
  positional.add("dataset", -1);
  po::variables_map vm;
  if (!parse(a, opts, vm, "esm compare A.h5 B.h5 [--label trimmed|normalised|interleaved|graph|eager] [--across-precisions]", &positional)) return 0;
  if (paths.size() != 2) {
    throw usage_error("give two dataset files A.h5 B.h5 (got " + std::to_string(paths.size()) + ")");
  }
  write_output(out, report(paths[0], paths[1], train::parse_label(label), vm["across-precisions"].as<bool>()));
  return 0;
}

}  // namespace esm::cli
