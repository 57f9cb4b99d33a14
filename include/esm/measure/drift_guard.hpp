// The drift guard's decisions, as a pure state machine: it is fed "arch i finished" and "the
// reference measured X ms" and answers whether a check is due and which archs to re-measure.
// No clocks and no workloads here; measure/batch.hpp runs it with real ones.
//
// Protocol:
//   set_baseline(ref_ms)                 once, before the first arch
//   on_arch_done(i) -> check due?        after every arch measured for the first time
//   on_check(ref_ms, window_change) -> decision
//                                        when due, and once at the end if unchecked() is not empty
//     drift      : re-measure decision.archs, then call on_check again (no on_arch_done for them)
//     ok         : decision.archs are final
//     remeasured : a re-measurement came back within the threshold; decision.archs are final
//     gave_up    : still drifting after max_retries re-measurements; decision.archs are final as
//                  they are, and the baseline moves to the median of the window's drifted
//                  readings (a lasting shift is the machine's new state: comparing later windows
//                  with the old level would re-measure all of them for nothing; the median, not
//                  the last reading, so that one outlier does not become the new level).
//     common_mode: the reading is beyond the threshold and the references timed beside the
//                  window's archs (window_change: their level against theirs when the baseline
//                  was set; at calibration, the calibrated level) moved beyond it too: the archs
//                  ran at a moved level with their references, which the normalised labels
//                  cancel. decision.archs are final without a re-measurement. The baseline follows
//                  the reading where it lies within the threshold of the window's move, else the
//                  window's own level (baseline x (1 + window_change)): the reading is a moment
//                  after the window, and the machine may have moved again. Only where
//                  window_change is finite (modes that time a reference beside each arch), so in
//                  those modes a window is re-measured only when its references failed.
//     transient  : the reading is beyond the threshold but the references timed beside the
//                  window's archs (window_change) are within it: the archs ran at the baseline's
//                  speed, the reading is a moment after the window. decision.archs are final as
//                  measured; the baseline stays. (measure_batch also records a transient row,
//                  with no archs, for a reading that a second reading taken at once did not
//                  confirm, where the mode times no reference beside the archs.)
//   The calibrated baseline stays the guard's "home" level. A reading that drifts from a moved
//   baseline but lies within the threshold of home means the machine came back: the window is
//   still re-measured (its archs may have run at the other level), and judged against home from
//   then on, so a transient slowdown costs one re-measurement instead of another gave_up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

namespace esm::measure {

/// Fixed values: they are stored as integers in datasets.
enum class drift_verdict : std::int32_t {
  ok = 0,
  drift = 1,
  remeasured = 2,
  gave_up = 3,
  common_mode = 4,
  transient = 5,
};
[[nodiscard]] std::string_view to_string(drift_verdict v);

struct drift_decision {
  drift_verdict verdict = drift_verdict::ok;
  double relative_change = 0;        ///< (ref_ms - baseline) / baseline, signed
  std::vector<std::size_t> archs;    ///< drift: the archs to re-measure; otherwise: those now final
};

/// The guard's starting point, from several back-to-back readings of the reference.
struct drift_calibration {
  double baseline_ms = 0;  ///< median of the readings
  double noise = 0;        ///< relative spread of one reading: 1.4826 * MAD / median (0 with one reading)
  double threshold = 0;    ///< the threshold in effect: max(floor, noise_factor * noise)
  int readings = 0;        ///< finite readings > 0 that went in
};

/// A threshold below the reference's own reading-to-reading noise re-measures windows for noise,
/// and on a shared machine gives up on most of them. So the threshold in effect is the configured
/// one (`floor`) or `noise_factor` times the noise, whichever is larger (noise_factor 0: the floor
/// alone). The spread is the MAD's, so one outlier among the readings does not set it. Readings
/// that are NaN or <= 0 (failed runs) are skipped; throws esm::error when none is left, or for
/// floor <= 0 or noise_factor < 0.
[[nodiscard]] drift_calibration calibrate_drift(std::span<const double> readings_ms, double floor,
                                                double noise_factor);

/// The threshold in effect, learnt from every reference reading of the run, not only from the
/// calibration's: a run calibrated at a noisy moment would otherwise stay insensitive, and one
/// calibrated at a quiet moment re-measure windows for the machine's ordinary wander.
///
/// The estimate is 1.4826 x the median of the last `window` noise samples (a robust standard
/// deviation of one reading). The calibration gives one sample per reading, |reading - median| /
/// median; every later reading gives |reading - previous| / previous / sqrt(2) (the difference of
/// two readings has sqrt(2) times one reading's spread). Successive check readings are a window
/// of archs apart, so the estimate includes how far the machine wanders over one window: what a
/// re-measure of the window would meet again. The threshold in effect is max(floor, noise_factor
/// x noise), as at calibration; it rises at once, but one reading lowers it to no less than
/// `shrink_limit` x its previous value, so a few quiet readings do not make a noisy machine's
/// guard hair-triggered. window 0: the calibration's estimate alone (the guard before learning).
class drift_noise {
 public:
  /// Throws esm::error unless floor > 0, noise_factor >= 0, window >= 0, shrink_limit in (0, 1].
  drift_noise(double floor, double noise_factor, int window, double shrink_limit);

  /// Starts over from calibration readings (as calibrate_drift: NaN and <= 0 skipped); the last
  /// good one is the previous reading of the next add().
  void calibrate(std::span<const double> readings_ms);
  /// One more reading (a drift check's); NaN or <= 0 is ignored.
  void add(double reading_ms);

  [[nodiscard]] double noise() const { return noise_; }          ///< relative, one reading
  [[nodiscard]] double threshold() const { return threshold_; }  ///< in effect now
  [[nodiscard]] std::size_t samples() const { return samples_.size(); }

 private:
  void update(bool limit_shrink);

  double floor_;
  double noise_factor_;
  std::size_t window_;
  double shrink_limit_;
  std::vector<double> samples_;  ///< oldest first
  double previous_ms_ = 0;       ///< 0: none yet
  double noise_ = 0;
  double threshold_ = 0;
};

class drift_guard {
 public:
  /// `check_every` >= 1 archs between checks; drift is |relative change| > `threshold`.
  /// Throws esm::error for check_every < 1, threshold <= 0 or max_retries < 0.
  drift_guard(int check_every, double threshold, int max_retries);

  /// The reference's latency at start, ms (> 0): home and current level. Resets the guard.
  void set_baseline(double reference_ms);
  /// Carried state: the calibrated home level and the current (possibly moved) one, ms (> 0).
  void set_baseline(double home_ms, double current_ms);

  /// Arch `arch` was measured (first time); returns true when a check is due now.
  [[nodiscard]] bool on_arch_done(std::size_t arch);

  /// The reference measured `reference_ms` at a check. `window_change`: the relative change of
  /// the references timed beside the window's archs since the baseline was set (NaN when the mode
  /// times none): with it a drift that archs and reference share is a common_mode verdict rather
  /// than a re-measurement.
  [[nodiscard]] drift_decision on_check(double reference_ms, double window_change = std::numeric_limits<double>::quiet_NaN());

  /// Whether a reading lies beyond the threshold of the current baseline (NaN counts as beyond).
  [[nodiscard]] bool beyond(double reference_ms) const;

  /// The threshold in effect from now on (> 0): drift_noise's, as it learns.
  void set_threshold(double threshold);

  [[nodiscard]] double baseline_ms() const { return baseline_ms_; }
  [[nodiscard]] double home_ms() const { return home_ms_; }
  [[nodiscard]] double threshold() const { return threshold_; }
  /// Archs measured since the last good check, in order (the window a drift re-measures).
  [[nodiscard]] const std::vector<std::size_t>& unchecked() const { return window_; }
  /// Re-measurements of the current window so far.
  [[nodiscard]] int retries() const { return retries_; }

 private:
  int check_every_;
  double threshold_;
  int max_retries_;
  double baseline_ms_ = 0;
  double home_ms_ = 0;
  std::vector<std::size_t> window_;
  std::vector<double> drifted_readings_;  ///< this window's finite readings beyond the threshold
  int since_check_ = 0;
  int retries_ = 0;
};

}  // namespace esm::measure
