// The measurement policy: every number that decides how an architecture is timed, in one struct
// with ESM's defaults, checked by validate() and written into provenance by to_text().
#pragma once

#include <string>
#include <string_view>

namespace esm::measure {

/// How an architecture's latency is labelled.
enum class measure_mode {
  plain,        ///< warm-up, then timed repetitions
  normalised,   ///< plain, bracketed by short reference bursts; label / reference recorded
  interleaved,  ///< a group's repetitions in round-robin bursts with reference bursts (implies normalised)
  crossed,      ///< interleaved twice, half the repetitions each, in two groups of different mates; the
                ///< groups' level errors solved out (crossed.hpp; implies normalised)
};
/// Whether archs are timed in interleaved groups (interleaved and crossed modes).
[[nodiscard]] constexpr bool grouped(measure_mode m) {
  return m == measure_mode::interleaved || m == measure_mode::crossed;
}
[[nodiscard]] std::string_view to_string(measure_mode m);
[[nodiscard]] measure_mode parse_measure_mode(std::string_view text);  ///< throws usage_error

/// When the timed repetitions stop.
enum class stop_rule {
  fixed,     ///< exactly `reps` repetitions
  adaptive,  ///< nvbench-style: until the relative noise is below `max_noise` (bounded)
};
[[nodiscard]] std::string_view to_string(stop_rule s);
[[nodiscard]] stop_rule parse_stop_rule(std::string_view text);  ///< throws usage_error

struct measure_policy {
  // Warm-up: untimed runs until BOTH bounds are met. Warm-up time is the sum of the times the
  // workload reports, which never exceeds the wall time spent, so the wall-time bound holds too.
  int warmup_runs = 10;
  double warmup_ms = 200.0;

  // Timed repetitions and the label.
  stop_rule stop = stop_rule::fixed;
  int reps = 150;               ///< fixed rule; also every arch's count in interleaved and crossed modes
  double trim_fraction = 0.2;   ///< dropped from each end, in [0, 0.5) (statistics.hpp)

  // Adaptive rule (stop == adaptive).
  double max_noise = 0.005;     ///< relative std of the trimmed samples to stop at (0.005 = 0.5%)
  int min_reps = 20;
  int max_reps = 1000;
  double timeout_ms = 15000.0;  ///< stop once this much time was measured, whatever the noise

  // Drift guard: a fixed reference workload timed at start and every `drift_every` archs.
  int drift_every = 25;          ///< archs between checks; 0 turns the guard off
  double drift_threshold = 0.03; ///< relative change of the reference that counts as drift
  int drift_max_retries = 2;     ///< re-measurements of one window before giving up
  int drift_reps = 50;           ///< reference repetitions per check (label: their trimmed mean)
  int drift_calibration = 5;     ///< back-to-back reference readings the baseline is the median of
  double drift_noise_factor = 3; ///< threshold in effect: max(drift_threshold, factor x the readings'
                                 ///< relative spread); 0: drift_threshold alone (drift_guard.hpp)
  int drift_noise_window = 10;   ///< noise samples the estimate keeps learning over (drift_noise);
                                 ///< 0: the calibration's alone
  double drift_shrink_limit = 0.8; ///< one reading lowers the threshold in effect to no less than
                                   ///< this fraction of its previous value, in (0, 1]
  bool drift_follow_common = true; ///< modes with a reference beside each arch: a drift that the
                                   ///< window's own references share is followed (common_mode),
                                   ///< not re-measured

  // Normalisation (normalised and interleaved modes).
  measure_mode mode = measure_mode::plain;
  int bracket_reps = 10;         ///< reference repetitions per bracket / reference burst
  int switch_warmup_runs = 1;    ///< untimed runs before every burst, after switching workloads
  int burst_reps = 10;           ///< interleaved, crossed: an arch's repetitions per burst
  int interleave_group = 8;      ///< interleaved, crossed: archs measured together

  /// Throws usage_error naming the first bad field, e.g. "measure policy: trim_fraction must be
  /// in [0, 0.5), got 0.6".
  void validate() const;
};

/// The fixed reference network of drift checks and normalisation, compiled on the same backend,
/// batch and options as the archs it accompanies: a small, regular ofa-mbv3 (width 1.0, 128 px,
/// every stage depth 2, kernel 3, expand 3), cheap enough to time often and made of the same
/// kinds of layers as the archs, so it feels the same machine slow-downs.
inline constexpr std::string_view reference_arch_text =
    "ofa-mbv3:w1.0:r128:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3";

/// One line for provenance, e.g.
/// "reps=150 warmup>=10runs/200ms trim=0.2 drift=3%/25,retries=2,ref_reps=50,calibration=5,noise_factor=3,
/// noise_window=10,shrink=0.8,common=follow mode=normalised,bracket=10,switch_warmup=1".
[[nodiscard]] std::string to_text(const measure_policy& p);

}  // namespace esm::measure
