// Fake timers for the measurement tests: workloads that report made-up times instantly, so the
// tests check the policy's arithmetic and never depend on this machine's speed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "esm/measure/runner.hpp"

namespace esm::measure::fakes {

/// Reports `values` in order, cycling; `calls` counts every run.
struct scripted {
  std::vector<double> values;
  std::shared_ptr<std::size_t> calls = std::make_shared<std::size_t>(0);

  [[nodiscard]] workload as_workload() const {
    return [values = values, calls = calls] { return values[(*calls)++ % values.size()]; };
  }
};

/// Deterministic "noisy" times, uniform in [lo_ms, hi_ms) (a 64-bit LCG; no std:: distribution,
/// whose output differs between standard libraries).
[[nodiscard]] inline workload noisy(double lo_ms, double hi_ms, std::uint64_t seed = 1) {
  return [lo_ms, hi_ms, state = seed]() mutable {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(state >> 11) / 9007199254740992.0;  // 2^53
    return lo_ms + u * (hi_ms - lo_ms);
  };
}

/// A policy that keeps fake-timer tests short: 1 warm-up run, 5 repetitions, 5-rep drift checks,
/// no untimed runs between bursts; everything else at ESM's defaults (drift every 25 archs, 3%,
/// 2 retries, brackets of 10).
[[nodiscard]] inline measure_policy fast_policy() {
  measure_policy p;
  p.warmup_runs = 1;
  p.warmup_ms = 0;
  p.reps = 5;
  p.drift_reps = 5;
  p.switch_warmup_runs = 0;
  return p;
}

}  // namespace esm::measure::fakes
