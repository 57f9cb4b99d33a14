// Summary statistics; the definitions are documented in esm/measure/statistics.hpp.
#include "esm/measure/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "esm/common/error.hpp"

namespace esm::measure {

namespace {

void require_samples(std::span<const double> samples, const char* what) {
  if (samples.empty()) throw error(std::string(what) + " of no samples");
}

double mean_of(std::span<const double> s) { return std::accumulate(s.begin(), s.end(), 0.0) / static_cast<double>(s.size()); }

double sample_std(std::span<const double> s, double mean) {
  if (s.size() < 2) return 0.0;
  double sum_sq = 0.0;
  for (double x : s) sum_sq += (x - mean) * (x - mean);
  return std::sqrt(sum_sq / static_cast<double>(s.size() - 1));
}

std::span<const double> kept_part(std::span<const double> sorted, double trim_fraction) {
  const std::size_t k = trim_count(sorted.size(), trim_fraction);
  return sorted.subspan(k, sorted.size() - 2 * k);
}

}  // namespace

std::size_t trim_count(std::size_t n, double trim_fraction) {
  // The epsilon keeps products that are integers on paper (e.g. 100 * 0.29 = 28.999999999999996)
  // from losing a sample to rounding.
  const auto k = static_cast<std::size_t>(std::floor(static_cast<double>(n) * trim_fraction + 1e-9));
  // Never drop everything, even for a fraction the policy would reject.
  return n == 0 ? 0 : std::min(k, (n - 1) / 2);
}

double percentile_sorted(std::span<const double> sorted, double q) {
  require_samples(sorted, "percentile");
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  if (lo + 1 >= sorted.size()) return sorted.back();
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

double trimmed_mean(std::span<const double> samples, double trim_fraction) {
  require_samples(samples, "trimmed mean");
  std::vector<double> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  return mean_of(kept_part(sorted, trim_fraction));
}

double trimmed_mean_after(std::span<const double> samples, std::size_t skip, double trim_fraction) {
  if (samples.size() <= skip) return std::numeric_limits<double>::quiet_NaN();
  return trimmed_mean(samples.subspan(skip), trim_fraction);
}

summary summarize(std::span<const double> samples_ms, double trim_fraction) {
  require_samples(samples_ms, "summary");
  std::vector<double> sorted(samples_ms.begin(), samples_ms.end());
  std::sort(sorted.begin(), sorted.end());
  const auto kept = kept_part(sorted, trim_fraction);

  summary s;
  s.n = sorted.size();
  s.trimmed_n = kept.size();
  s.trimmed_mean_ms = mean_of(kept);
  s.median_ms = percentile_sorted(sorted, 0.5);
  s.mean_ms = mean_of(sorted);
  s.std_ms = sample_std(sorted, s.mean_ms);
  s.min_ms = sorted.front();
  s.max_ms = sorted.back();
  s.p10_ms = percentile_sorted(sorted, 0.1);
  s.p90_ms = percentile_sorted(sorted, 0.9);
  s.noise = s.trimmed_mean_ms != 0.0 ? sample_std(kept, s.trimmed_mean_ms) / s.trimmed_mean_ms : 0.0;
  return s;
}

}  // namespace esm::measure
