// How an architecture is timed: warm-up, timed repetitions under a stopping criterion, reference
// brackets and interleaved groups. What runs is a `workload` (one repetition, returning its own
// time in ms: a backend executable's timed_run_ms, or a fake timer in tests); when to stop is a
// stopping_criterion; printing is left to the caller.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "esm/measure/policy.hpp"
#include "esm/measure/statistics.hpp"
#include "esm/measure/stopping.hpp"

namespace esm::measure {

/// Runs one repetition and returns its time in ms (finite, >= 0; anything else throws esm::error
/// when the runner sees it). May keep state; called from one thread.
using workload = std::function<double()>;

inline constexpr double not_measured = std::numeric_limits<double>::quiet_NaN();

/// One architecture's label and everything needed to judge it later.
struct measurement {
  summary stats;                        ///< of samples_ms; stats.trimmed_mean_ms is the label
  std::vector<double> samples_ms;       ///< every timed repetition, in order
  int warmup_runs = 0;                  ///< untimed runs the warm-up took
  double warmup_ms = 0;                 ///< time they reported
  double reference_before_ms = not_measured;  ///< reference bracket before the arch (normalised mode)
  double reference_after_ms = not_measured;   ///< and after it
  double reference_ms = not_measured;   ///< reference latency closest in time (mean of the brackets;
                                        ///< interleaved: trimmed mean of the group's reference bursts)
  double normalised = not_measured;     ///< stats.trimmed_mean_ms / reference_ms
  int remeasure_count = 0;              ///< times the drift guard had this arch measured again
  std::int64_t start_unix_ns = 0;       ///< system_clock, for provenance only (never for timing)
  std::int64_t end_unix_ns = 0;
};

struct warmup_result {
  int runs = 0;
  double ms = 0;  ///< sum of the times the workload reported
};

/// Now, as unix time in ns (system_clock): provenance timestamps.
[[nodiscard]] std::int64_t unix_time_ns();

/// Untimed runs until at least `min_runs` runs AND at least `min_ms` of reported time.
[[nodiscard]] warmup_result warm_up(const workload& w, int min_runs, double min_ms);

/// Timed repetitions until `stop` is satisfied.
[[nodiscard]] std::vector<double> time_reps(const workload& w, const stopping_criterion& stop);

/// `untimed_runs` runs (re-warming caches after another workload ran), then `reps` timed ones.
[[nodiscard]] std::vector<double> time_burst(const workload& w, int reps, int untimed_runs);

/// arch_ms / mean(reference_before_ms, reference_after_ms).
[[nodiscard]] double normalised_latency(double arch_ms, double reference_before_ms, double reference_after_ms);

/// Warm-up (p.warmup_runs / p.warmup_ms), then timed repetitions (p.stop). Like every function
/// below, expects a policy that passed validate() (measure_batch and esm bench call it).
[[nodiscard]] measurement measure_plain(const workload& arch, const measure_policy& p);

/// Reference burst, measure_plain(arch), reference burst; each burst p.switch_warmup_runs untimed
/// runs then p.bracket_reps timed ones, its value the trimmed mean. `reference` must already be
/// warmed up (measure_batch does it once per process).
[[nodiscard]] measurement measure_bracketed(const workload& arch, const workload& reference, const measure_policy& p);

/// One architecture on its own (esm bench, the Python package's esm.bench): measure_plain in plain
/// mode; in normalised mode the reference is warmed up first, then measure_bracketed. Interleaved
/// mode needs a group of archs: usage_error.
[[nodiscard]] measurement measure_single(const workload& arch, const workload& reference, const measure_policy& p);

/// Warms every arch up, then runs interleave_schedule(archs.size(), p.reps, p.burst_reps,
/// p.bracket_reps), every burst preceded by p.switch_warmup_runs untimed runs. Each result's
/// reference_ms is the trimmed mean of all reference samples of the group. `reference` must
/// already be warmed up. Throws esm::error for an empty group or an adaptive p.stop.
[[nodiscard]] std::vector<measurement> measure_interleaved(std::span<const workload> archs, const workload& reference,
                                                           const measure_policy& p);

/// The drift guard's reading: p.switch_warmup_runs untimed runs, p.drift_reps timed ones, their
/// trimmed mean in ms.
[[nodiscard]] double reference_check_ms(const workload& reference, const measure_policy& p);

}  // namespace esm::measure
