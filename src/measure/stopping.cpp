// Stopping criteria (esm/measure/stopping.hpp).
#include "esm/measure/stopping.hpp"

#include <numeric>

#include "esm/measure/statistics.hpp"

namespace esm::measure {

fixed_reps::fixed_reps(int reps) : reps_(reps) {}

bool fixed_reps::done(std::span<const double> samples_ms) const {
  return samples_ms.size() >= static_cast<std::size_t>(reps_);
}

adaptive::adaptive(double max_noise, int min_reps, int max_reps, double timeout_ms, double trim_fraction)
    : max_noise_(max_noise), min_reps_(min_reps), max_reps_(max_reps), timeout_ms_(timeout_ms),
      trim_fraction_(trim_fraction) {}

bool adaptive::done(std::span<const double> samples_ms) const {
  const std::size_t n = samples_ms.size();
  if (n >= static_cast<std::size_t>(max_reps_)) return true;
  if (n > 0 && std::accumulate(samples_ms.begin(), samples_ms.end(), 0.0) >= timeout_ms_) return true;
  if (n < static_cast<std::size_t>(min_reps_) || n == 0) return false;
  return summarize(samples_ms, trim_fraction_).noise <= max_noise_;
}

std::unique_ptr<stopping_criterion> make_criterion(const measure_policy& p) {
  if (p.stop == stop_rule::adaptive) {
    return std::make_unique<adaptive>(p.max_noise, p.min_reps, p.max_reps, p.timeout_ms, p.trim_fraction);
  }
  return std::make_unique<fixed_reps>(p.reps);
}

}  // namespace esm::measure
