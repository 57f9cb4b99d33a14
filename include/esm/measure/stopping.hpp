// When to stop timing: a criterion looks at the samples taken so far and says whether there are
// enough. Criteria are pure (no clocks): the time budget of `adaptive` is the measured time, the
// sum of the samples, so they are unit-tested with made-up numbers.
#pragma once

#include <memory>
#include <span>

#include "esm/measure/policy.hpp"

namespace esm::measure {

class stopping_criterion {
 public:
  virtual ~stopping_criterion() = default;
  /// Whether the timed repetitions `samples_ms` (in order, so far) are enough.
  [[nodiscard]] virtual bool done(std::span<const double> samples_ms) const = 0;
};

/// Exactly `reps` repetitions (ESM's default: 150).
class fixed_reps final : public stopping_criterion {
 public:
  explicit fixed_reps(int reps);
  [[nodiscard]] bool done(std::span<const double> samples_ms) const override;

 private:
  int reps_;
};

/// nvbench-style adaptive stop, the first that holds of:
///  - at least `min_reps` samples and relative noise (summary::noise: std / mean of the trimmed
///    samples) <= `max_noise`;
///  - `max_reps` samples;
///  - the samples add up to >= `timeout_ms` (even below min_reps, as nvbench's timeout does).
class adaptive final : public stopping_criterion {
 public:
  adaptive(double max_noise, int min_reps, int max_reps, double timeout_ms, double trim_fraction);
  [[nodiscard]] bool done(std::span<const double> samples_ms) const override;

 private:
  double max_noise_;
  int min_reps_;
  int max_reps_;
  double timeout_ms_;
  double trim_fraction_;
};

/// The criterion `p` asks for (p.stop).
[[nodiscard]] std::unique_ptr<stopping_criterion> make_criterion(const measure_policy& p);

}  // namespace esm::measure
