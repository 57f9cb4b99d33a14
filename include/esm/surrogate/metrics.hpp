// Accuracy metrics of latency predictions: pure functions of (predicted, true) pairs.
//
// Definitions (n pairs p_i, t_i; t_i > 0 where a ratio is taken):
//  - within(b): share of rows with |p_i / t_i - 1| <= b (ESM's ±5% and ±10% accuracy), in [0, 1];
//  - MAPE: 100 / n * sum |p_i / t_i - 1|, in percent;
//  - RMSE: sqrt(1/n * sum (p_i - t_i)^2), in the unit of the inputs (ms);
//  - R^2: 1 - sum (t_i - p_i)^2 / sum (t_i - mean t)^2;
//  - Kendall tau-b: (C - D) / sqrt((n0 - n1)(n0 - n2)), n0 = n(n-1)/2, n1 / n2 the pairs tied in
//    p / t, C / D the concordant / discordant pairs (pairs tied in either count in neither);
//  - Spearman rho: Pearson correlation of the average ranks (ties share the mean of their ranks).
// A metric that is undefined for the data (fewer than 2 rows for the rank and R^2 metrics, a
// constant input where a denominator vanishes) is NaN rather than an exception, so that per-bin
// breakdowns of small bins still produce a row.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace esm::surrogate {

[[nodiscard]] double within_share(std::span<const double> predicted, std::span<const double> truth, double bound);
[[nodiscard]] double mape_percent(std::span<const double> predicted, std::span<const double> truth);
[[nodiscard]] double rmse(std::span<const double> predicted, std::span<const double> truth);
[[nodiscard]] double r_squared(std::span<const double> predicted, std::span<const double> truth);
/// O(n log n) (Knight's merge-sort count).
[[nodiscard]] double kendall_tau_b(std::span<const double> a, std::span<const double> b);
[[nodiscard]] double spearman_rho(std::span<const double> a, std::span<const double> b);
/// 1-based ranks of v, ties given the mean of the ranks they span ({10, 20, 20, 30} -> {1, 2.5, 2.5, 4}).
[[nodiscard]] std::vector<double> average_ranks(std::span<const double> v);

struct regression_metrics {
  std::size_t n = 0;
  double within_5 = 0;      ///< share in [0, 1] with |pred / true - 1| <= 0.05
  double within_10 = 0;     ///< share in [0, 1] with |pred / true - 1| <= 0.10
  double mape_percent = 0;
  double rmse_ms = 0;
  double r2 = 0;
  double kendall_tau = 0;
  double spearman_rho = 0;
};

/// Every metric above. Throws esm::error for empty or mismatched inputs (all functions here do).
[[nodiscard]] regression_metrics evaluate(std::span<const double> predicted_ms, std::span<const double> truth_ms);

struct group_metrics {
  int label = 0;  ///< e.g. the depth bin
  regression_metrics metrics;
};

/// evaluate() per distinct label (labels[i] belongs to row i), in ascending label order.
[[nodiscard]] std::vector<group_metrics> evaluate_by_group(std::span<const double> predicted_ms,
                                                           std::span<const double> truth_ms,
                                                           std::span<const int> labels);

}  // namespace esm::surrogate
