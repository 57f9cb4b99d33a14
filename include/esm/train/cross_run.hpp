// Cross-run validation: a model trained on run A scored on an independent re-measurement B of the
// same archs (`esm train --validate-on B.h5`), beside the A-vs-B test-retest gap.
//
// Cross-validation scores held-out archs against labels of the run the model was fitted on: a
// run-level shift, or noise shared by archs timed together, is invisible to it. Against B, a
// model's error includes B's own label noise, so the retest gap (A's labels as a predictor of B's)
// is the yardstick: a model that reproduced A's labels exactly scores 1x the gap, one without any
// error about 1/sqrt(2) of it (B's noise alone, when both runs are equally noisy).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "esm/surrogate/metrics.hpp"
#include "esm/train/training_data.hpp"

namespace esm::train {

/// B's usable rows, with the same label as A's, and where each lies in A.
struct retest_data {
  std::string path;
  training_data b;
  std::vector<std::ptrdiff_t> a_row;  ///< per row of b: A's training row of the same arch id, or -1 (a new arch)
  std::size_t common = 0;             ///< rows of b with a_row >= 0
};

/// Reads B and matches its usable rows to A's by arch id. Throws usage_error for a B of another
/// space, a synthetic B without `allow_synthetic`, a B without usable rows of A's label, or one
/// with no arch in common with A; file_error for an unreadable B.
[[nodiscard]] retest_data load_retest(const std::string& path, const training_data& a, bool allow_synthetic);

struct cross_run_scores {
  std::size_t common = 0, new_archs = 0;
  surrogate::regression_metrics model;       ///< the model's predictions against B's labels, common archs
  surrogate::regression_metrics retest;      ///< A's labels against B's labels, common archs
  surrogate::regression_metrics model_new;   ///< the model against B's labels, new archs (n = 0: none)
  double mape_ratio = 0;                ///< model.mape_percent / retest.mape_percent (NaN when the gap is 0)
  double median_signed_error = 0;       ///< median of prediction / B - 1, common archs: a run-level shift
  double retest_median_signed = 0;      ///< median of A / B - 1, common archs
  double coverage_90 = 0;               ///< share of common archs whose B label lies in [lo, hi] (NaN: no intervals)
  double coverage_90_new = 0;           ///< the same for new archs
};

/// Scores predictions of B's rows (`lo`, `hi`: their 90% intervals, NaN when unknown) against
/// B's labels. `a_row` as retest_data::a_row, `label_a` A's training labels. Throws esm::error for
/// mismatched sizes or no common arch. Pure.
[[nodiscard]] cross_run_scores score_cross_run(std::span<const double> prediction, std::span<const double> lo,
                                               std::span<const double> hi, std::span<const double> label_b,
                                               std::span<const std::ptrdiff_t> a_row, std::span<const double> label_a);

}  // namespace esm::train
