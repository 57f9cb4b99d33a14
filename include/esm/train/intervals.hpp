// Conformal prediction intervals from cross-validation residuals, per depth bin.
//
// Scores are log residuals r = log(y / p) of out-of-fold predictions. Each depth bin b gets a
// centre m_b (median of its r) and a scale s_b (mean |r - m_b|), both shrunk towards the pooled
// values as if the pool added 20 rows; a bin with fewer than min_bin_rows rows uses the pooled
// centre and scale. The normalised scores |r - m_b| / s_b of
// all rows are pooled and their conformal quantile q (the ceil((n+1) level)-th smallest) makes
// the interval p exp(m_b -+ q s_b): per-bin widths, calibrated on every row rather than on the
// ~40 rows of one bin (whose own 95% quantile would be the bin's maximum).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace esm::train {

struct interval_table {
  double level = 0.9;  ///< nominal coverage
  double q = 0;        ///< conformal quantile of the normalised scores
  std::vector<int> bins;             ///< depth bins with their own centre and scale, ascending
  std::vector<double> centre, scale; ///< per bin (log space)
  double pooled_centre = 0, pooled_scale = 0;  ///< for bins not listed
  bool known = false;  ///< false for models written before esm stored intervals
};

inline constexpr std::size_t min_interval_bin_rows = 10;

/// Fits the table on out-of-fold predictions. Throws esm::error for mismatched sizes, no rows or
/// a level outside (0, 1). Pure.
[[nodiscard]] interval_table fit_intervals(const std::vector<double>& predicted, const std::vector<double>& y,
                                           const std::vector<int>& bins, double level = 0.9,
                                           std::size_t min_bin_rows = min_interval_bin_rows);

/// The p-quantile of Student's t with `df` degrees of freedom (df >= 1, p in (0, 1)); numerical,
/// accurate to about 1e-6. Pure.
[[nodiscard]] double student_t_quantile(double p, double df);

/// fit_intervals, then widened where the rows are few: the half-width is at least the normal-theory
/// prediction interval of the log residuals, t_{(1+level)/2, n-1} sd sqrt(1 + 1/n) (sd their sample
/// standard deviation). The conformal quantile alone needs ceil((n+1) level) <= n rows (9 at 90%)
/// and with fewer falls back to the largest score, which under-covers. Needs at least 3 rows for the
/// floor (fewer: the plain table). Pure.
[[nodiscard]] interval_table fit_intervals_small_sample(const std::vector<double>& predicted, const std::vector<double>& y,
                                                        const std::vector<int>& bins, double level = 0.9);

/// [lo, hi] around a prediction of depth bin `bin` (NaN, NaN when the table is unknown).
[[nodiscard]] std::pair<double, double> interval_for(const interval_table& t, double predicted, int bin);

/// Held-out coverage by cross-conformal: the table for fold k is fitted on the other folds' rows
/// (by fit_intervals_small_sample when small_sample), and each row of fold k is checked against it.
/// Returns 1/0 per row (covered or not). Pure.
[[nodiscard]] std::vector<double> cross_conformal_hits(const std::vector<double>& predicted, const std::vector<double>& y,
                                                       const std::vector<int>& bins,
                                                       const std::vector<std::size_t>& fold_of_row, double level = 0.9,
                                                       bool small_sample = false);

}  // namespace esm::train
