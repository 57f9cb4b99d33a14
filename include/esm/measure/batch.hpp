// Measuring a list of architectures in one process under the drift guard: the driver that runs
// drift_guard's decisions with real workloads, in any measure_mode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "esm/measure/drift_guard.hpp"
#include "esm/measure/policy.hpp"
#include "esm/measure/runner.hpp"

namespace esm::measure {

/// Builds (compiles) arch `index`'s workload. Called again for a re-measurement, and twice per
/// measurement in crossed mode (once per pass), so a caller never has to keep more than one
/// group's executables alive.
using workload_factory = std::function<workload(std::size_t index)>;

/// Called with an arch's index before each measurement of it (the first and every re-measurement),
/// before its workload is built: where a caller resets what it records per measurement (a failure),
/// since crossed mode builds a workload twice within one measurement.
using measurement_start = std::function<void(std::size_t index)>;

/// Receives each arch's measurement once it is final (its window's drift check passed, was
/// re-measured successfully or gave up; at once when the guard is off), in that order.
using result_sink = std::function<void(std::size_t index, const measurement& m)>;

/// One drift check, as recorded.
struct drift_check {
  std::int64_t time_unix_ns = 0;
  std::size_t measurements_so_far = 0;  ///< arch measurements taken before it, re-measurements included
  double reference_ms = 0;              ///< the reading (reference_check_ms)
  double baseline_ms = 0;               ///< what it was compared with
  double threshold = 0;                 ///< the relative change that counted as drift
  drift_decision decision;              ///< verdict, relative change, the window's archs
};

struct batch_result {
  std::vector<measurement> results;    ///< by arch index
  double baseline_ms = not_measured;   ///< the guard's baseline at start: taken now, or carried over
  std::int64_t baseline_unix_ns = 0;   ///< when it was taken (0: carried over)
  drift_calibration calibration;       ///< how baseline and threshold were set (readings 0: carried over)
  std::vector<drift_check> checks;     ///< every check, in order
};

/// What one measure_batch call hands to the next of the same process (pass one object to every
/// call): the reference stays warmed up and the drift guard keeps the baseline it took in the first
/// call (moved only by a gave_up or common_mode verdict) and the noise estimate it keeps learning.
/// Without it every call re-takes the baseline, and a slowdown that starts between two calls is
/// never seen.
struct batch_carry {
  double baseline_ms = not_measured;  ///< the guard's current baseline, > 0 once taken
  double home_ms = not_measured;      ///< its calibrated level (drift_guard: "home")
  std::optional<drift_noise> noise;   ///< the threshold in effect and what it learnt
  double baseline_window_ms = not_measured;  ///< the windows' reference level when the baseline was set
  bool reference_warm = false;
};

/// Measures archs 0..count-1 in order under `p` (validated first: usage_error). The reference is
/// warmed up once when the guard is on or the mode needs it; the guard (p.drift_every > 0) takes
/// its baseline next (p.drift_calibration readings: calibrate_drift sets baseline and threshold),
/// checks every p.drift_every archs and once at the end, and re-measures a drifting window up to
/// p.drift_max_retries times. Every check's reading then teaches the threshold (drift_noise, over
/// p.drift_noise_window samples); with p.drift_follow_common, in a mode that times a reference
/// beside each arch, a drift that the window's references share is followed (common_mode). Interleaved mode measures groups of
/// p.interleave_group archs together (a re-measured window, too); a check falls due after the
/// group in which the count is reached. Crossed mode measures windows of p.interleave_group^2
/// archs with measure_crossed (a re-measured window, too); a check falls due after the window.
/// With `carry`, the warm-up and the baseline are taken only when it has none yet, and it is
/// updated when the call returns. `on_start` (optional) is called before each measurement.
[[nodiscard]] batch_result measure_batch(std::size_t count, const workload_factory& make_arch,
                                         const workload& reference, const measure_policy& p,
                                         const result_sink& on_final = {}, batch_carry* carry = nullptr,
                                         const measurement_start& on_start = {});

}  // namespace esm::measure
