// Summary statistics of per-repetition latencies: ESM's label (the trimmed mean) and the numbers
// reported beside it. Pure functions of the samples, so the definitions below are the contract.
//
// Definitions (n samples, sorted ascending s[0] <= ... <= s[n-1]):
//  - trimmed mean with fraction f: drop k = floor(n * f) samples from EACH end and average the
//    n - 2k kept ones (scipy.stats.trim_mean's rule). f < 0.5 keeps at least one sample.
//    ESM's label is f = 0.2: n = 150 -> k = 30; n = 10 -> k = 2; n = 7 -> k = 1 (7 * 0.2 = 1.4);
//    n = 4 -> k = 0 (0.8); n = 1 -> k = 0.
//  - percentile q in [0, 1]: linear interpolation between closest ranks, numpy's default
//    ("linear"): position p = q * (n - 1), value = s[floor(p)] + (p - floor(p)) * (s[floor(p)+1] - s[floor(p)]).
//    The median is the 0.5 percentile (the mean of the two middle samples for even n).
//  - std: sample standard deviation (divisor n - 1); 0 for n = 1 rather than NaN so that every
//    field of a summary is a finite number.
#pragma once

#include <cstddef>
#include <span>

namespace esm::measure {

/// Samples dropped from each end by a trimmed mean of `n` samples with `trim_fraction` in [0, 0.5).
[[nodiscard]] std::size_t trim_count(std::size_t n, double trim_fraction);

/// Percentile `q` in [0, 1] of samples already sorted ascending (linear interpolation, as above).
/// Throws esm::error for an empty span.
[[nodiscard]] double percentile_sorted(std::span<const double> sorted, double q);

/// Trimmed mean of unsorted samples. Throws esm::error for an empty span.
[[nodiscard]] double trimmed_mean(std::span<const double> samples, double trim_fraction);

/// Trimmed mean of the samples after the first `skip` (those that accompanied warm-up runs), NaN
/// when none is left: how a GPU row's other launch mode is summarised (docs/measurement.md).
[[nodiscard]] double trimmed_mean_after(std::span<const double> samples, std::size_t skip, double trim_fraction);

struct summary {
  std::size_t n = 0;            ///< samples summarised
  std::size_t trimmed_n = 0;    ///< samples kept by the trimmed mean (n - 2 * trim_count)
  double trimmed_mean_ms = 0;   ///< ESM's label
  double median_ms = 0;
  double mean_ms = 0;
  double std_ms = 0;            ///< sample std (n - 1) of all samples
  double min_ms = 0;
  double max_ms = 0;
  double p10_ms = 0;
  double p90_ms = 0;
  double noise = 0;             ///< relative noise: sample std / mean of the kept (trimmed) samples
};

/// Summary of unsorted per-repetition times in ms. Throws esm::error for an empty span.
[[nodiscard]] summary summarize(std::span<const double> samples_ms, double trim_fraction);

}  // namespace esm::measure
