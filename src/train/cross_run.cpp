// Cross-run validation (design: include/esm/train/cross_run.hpp).
#include "esm/train/cross_run.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/measure/statistics.hpp"

namespace esm::train {

retest_data load_retest(const std::string& path, const training_data& a, bool allow_synthetic) {
  const auto contents = dataset::read(path, needs_samples(a.label));
  if (contents.prov.space != a.space) {
    throw usage_error("--validate-on '" + path + "' is a dataset of space " + contents.prov.space +
                      "; the model is trained on " + a.space);
  }
  if (contents.prov.precision != a.precision) {
    throw usage_error("--validate-on '" + path + "' was measured in precision " + contents.prov.precision +
                      ", the training dataset in " + a.precision + ": a re-measurement must be of the same device and precision");
  }
  if (contents.prov.synthetic && !allow_synthetic) {
    throw usage_error("--validate-on '" + path + "' is synthetic (latencies computed from MACs); pass --allow-synthetic to score against it anyway");
  }
  retest_data r;
  r.path = path;
  try {
    r.b = load_training_data(contents, a.label);
  } catch (const usage_error& e) {
    throw usage_error("--validate-on '" + path + "': " + e.what());
  }
  std::unordered_map<std::uint64_t, std::ptrdiff_t> row_of;
  for (std::size_t i = 0; i < a.ids.size(); ++i) row_of.emplace(a.ids[i], static_cast<std::ptrdiff_t>(i));
  for (const auto id : r.b.ids) {
    const auto it = row_of.find(id);
    r.a_row.push_back(it == row_of.end() ? -1 : it->second);
    if (it != row_of.end()) ++r.common;
  }
  if (r.common == 0) {
    throw usage_error("--validate-on '" + path + "' has no usable architecture in common with the training dataset (" +
                      std::to_string(r.b.y.size()) + " usable rows; a re-measurement of the same plan?)");
  }
  return r;
}

namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return measure::percentile_sorted(v, 0.5);
}

double coverage(const std::vector<double>& lo, const std::vector<double>& hi, const std::vector<double>& y) {
  double hits = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(lo[i]) || !std::isfinite(hi[i])) return std::nan("");
    hits += (y[i] >= lo[i] && y[i] <= hi[i]) ? 1.0 : 0.0;
  }
  return y.empty() ? std::nan("") : hits / static_cast<double>(y.size());
}

}  // namespace

cross_run_scores score_cross_run(std::span<const double> prediction, std::span<const double> lo,
                                 std::span<const double> hi, std::span<const double> label_b,
                                 std::span<const std::ptrdiff_t> a_row, std::span<const double> label_a) {
  const std::size_t n = label_b.size();
  if (prediction.size() != n || lo.size() != n || hi.size() != n || a_row.size() != n) {
    throw error("score_cross_run: predictions, intervals, labels and matches differ in length");
  }
  struct side {
    std::vector<double> p, lo, hi, y, a, signed_model, signed_retest;
  } common, fresh;
  for (std::size_t i = 0; i < n; ++i) {
    auto& s = a_row[i] >= 0 ? common : fresh;
    s.p.push_back(prediction[i]);
    s.lo.push_back(lo[i]);
    s.hi.push_back(hi[i]);
    s.y.push_back(label_b[i]);
    s.signed_model.push_back(prediction[i] / label_b[i] - 1.0);
    if (a_row[i] >= 0) {
      if (static_cast<std::size_t>(a_row[i]) >= label_a.size()) throw error("score_cross_run: a match outside A's rows");
      s.a.push_back(label_a[static_cast<std::size_t>(a_row[i])]);
      s.signed_retest.push_back(s.a.back() / label_b[i] - 1.0);
    }
  }
  if (common.y.empty()) throw error("score_cross_run: no architecture in common");
  cross_run_scores out;
  out.common = common.y.size();
  out.new_archs = fresh.y.size();
  out.model = surrogate::evaluate(common.p, common.y);
  out.retest = surrogate::evaluate(common.a, common.y);
  out.mape_ratio = out.retest.mape_percent > 0 ? out.model.mape_percent / out.retest.mape_percent : std::nan("");
  out.median_signed_error = median_of(common.signed_model);
  out.retest_median_signed = median_of(common.signed_retest);
  out.coverage_90 = coverage(common.lo, common.hi, common.y);
  out.coverage_90_new = coverage(fresh.lo, fresh.hi, fresh.y);
  if (!fresh.y.empty()) out.model_new = surrogate::evaluate(fresh.p, fresh.y);
  return out;
}

}  // namespace esm::train
