// The drift-guarded batch driver (esm/measure/batch.hpp).
#include "esm/measure/batch.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>
#include <vector>

#include "esm/measure/crossed.hpp"
#include "esm/measure/statistics.hpp"

namespace esm::measure {

namespace {

class batch_driver {
 public:
  batch_driver(std::size_t count, const workload_factory& make_arch, const workload& reference,
               const measure_policy& p, const result_sink& on_final, batch_carry* carry,
               const measurement_start& on_start)
      : make_arch_(make_arch),
        reference_(reference),
        p_(p),
        on_final_(on_final),
        on_start_(on_start),
        carry_(carry) {
    out_.results.resize(count);
  }

  batch_result run() {
    const std::size_t count = out_.results.size();
    const bool uses_reference = p_.drift_every > 0 || p_.mode != measure_mode::plain;
    if (uses_reference && !(carry_ && carry_->reference_warm)) {
      (void)warm_up(reference_, p_.warmup_runs, p_.warmup_ms);
    }
    if (p_.drift_every > 0) {
      double home_ms = not_measured;
      if (carry_ && carry_->baseline_ms > 0 && carry_->noise) {
        out_.baseline_ms = carry_->baseline_ms;
        home_ms = carry_->home_ms > 0 ? carry_->home_ms : carry_->baseline_ms;
        noise_ = carry_->noise;
        baseline_window_ms_ = carry_->baseline_window_ms > 0 ? carry_->baseline_window_ms : out_.baseline_ms;
      } else {
        std::vector<double> readings;
        for (int i = 0; i < p_.drift_calibration; ++i) readings.push_back(reference_check_ms(reference_, p_));
        out_.baseline_unix_ns = unix_time_ns();
        out_.calibration = calibrate_drift(readings, p_.drift_threshold, p_.drift_noise_factor);
        out_.baseline_ms = out_.calibration.baseline_ms;
        home_ms = out_.baseline_ms;
        noise_.emplace(p_.drift_threshold, p_.drift_noise_factor, p_.drift_noise_window, p_.drift_shrink_limit);
        noise_->calibrate(readings);
        baseline_window_ms_ = out_.baseline_ms;  // until a window's references replace it
      }
      guard_.emplace(p_.drift_every, noise_->threshold(), p_.drift_max_retries);
      guard_->set_baseline(home_ms, out_.baseline_ms);
    }
    const std::size_t group = window();
    std::vector<std::size_t> archs;
    for (std::size_t first = 0; first < count; first += group) {
      archs.clear();
      for (std::size_t i = first; i < std::min(first + group, count); ++i) archs.push_back(i);
      measure(archs, /*again=*/false);
      if (!guard_) {
        finalise(archs);
        continue;
      }
      bool due = false;
      for (std::size_t i : archs) due = guard_->on_arch_done(i) || due;
      if (due) check_until_settled();
    }
    if (guard_ && !guard_->unchecked().empty()) check_until_settled();
    if (carry_) {
      carry_->reference_warm = carry_->reference_warm || uses_reference;
      if (guard_) {
        carry_->baseline_ms = guard_->baseline_ms();
        carry_->home_ms = guard_->home_ms();
        carry_->noise = noise_;
        carry_->baseline_window_ms = baseline_window_ms_;
      }
    }
    return std::move(out_);
  }

 private:
  /// Archs measured together: one, an interleaved group, or a crossed window of group^2.
  [[nodiscard]] std::size_t window() const {
    const auto group = static_cast<std::size_t>(p_.interleave_group);
    if (p_.mode == measure_mode::crossed) return group * group;
    return p_.mode == measure_mode::interleaved ? group : 1;
  }

  void measure(std::span<const std::size_t> archs, bool again) {
    const std::size_t group = window();
    for (std::size_t first = 0; first < archs.size(); first += group) {
      const auto part = archs.subspan(first, std::min(group, archs.size() - first));
      if (on_start_) {
        for (std::size_t i : part) on_start_(i);
      }
      std::vector<measurement> fresh;
      if (p_.mode == measure_mode::crossed) {
        fresh = measure_crossed(part.size(), [&](std::size_t k) { return make_arch_(part[k]); }, reference_, p_);
      } else if (p_.mode == measure_mode::interleaved) {
        std::vector<workload> workloads;
        for (std::size_t i : part) workloads.push_back(make_arch_(i));
        fresh = measure_interleaved(workloads, reference_, p_);
      } else {
        const workload w = make_arch_(part[0]);
        fresh.push_back(p_.mode == measure_mode::plain ? measure_plain(w, p_) : measure_bracketed(w, reference_, p_));
      }
      for (std::size_t k = 0; k < part.size(); ++k) {
        measurement& slot = out_.results[part[k]];
        fresh[k].remeasure_count = again ? slot.remeasure_count + 1 : 0;
        slot = std::move(fresh[k]);
      }
      measurements_ += part.size();
    }
  }

  /// The level of the references timed beside the unchecked window's archs (the median of their
  /// reference_ms), NaN in plain mode or when following common drift is off.
  [[nodiscard]] double window_reference_level() const {
    if (p_.mode == measure_mode::plain || !p_.drift_follow_common) return not_measured;
    std::vector<double> levels;
    for (std::size_t i : guard_->unchecked()) {
      const double ms = out_.results[i].reference_ms;
      if (std::isfinite(ms) && ms > 0.0) levels.push_back(ms);
    }
    if (levels.empty()) return not_measured;
    std::sort(levels.begin(), levels.end());
    return percentile_sorted(levels, 0.5);
  }

  /// A reading beyond the threshold is confirmed before it can cost a re-measurement of the
  /// window: by the window's own references where the mode times them (drift_guard::on_check),
  /// else by a second reading taken at once: on the VM of docs/lab/2026-12-07-timed-share.md every
  /// drifted reading of a quiet 440-arch run was a moment after its window (the re-measurement's
  /// check came back within the threshold), and each cost a window of 25 archs (~25 s) where a
  /// second reading costs one reference burst. An unconfirmed reading is recorded as `transient`
  /// (and learnt from: it is the machine's noise); the second reading is then the check's.
  [[nodiscard]] drift_check reading() {
    drift_check c;
    c.reference_ms = reference_check_ms(reference_, p_);
    c.time_unix_ns = unix_time_ns();
    c.measurements_so_far = measurements_;
    c.baseline_ms = guard_->baseline_ms();
    c.threshold = guard_->threshold();
    if (!guard_->beyond(c.reference_ms)) return c;
    // Where the mode times references beside the window's archs, the guard judges the window by
    // them (drift_guard::on_check: transient or common_mode); no second reading is needed.
    if (std::isfinite(window_reference_level() / baseline_window_ms_)) return c;
    const double second = reference_check_ms(reference_, p_);
    if (guard_->beyond(second)) return c;  // confirmed: the first reading is judged, as before
    c.decision.verdict = drift_verdict::transient;
    c.decision.relative_change = (c.reference_ms - c.baseline_ms) / c.baseline_ms;
    out_.checks.push_back(c);
    noise_->add(c.reference_ms);
    guard_->set_threshold(noise_->threshold());
    drift_check next;
    next.reference_ms = second;
    next.time_unix_ns = unix_time_ns();
    next.measurements_so_far = measurements_;
    next.baseline_ms = guard_->baseline_ms();
    next.threshold = guard_->threshold();
    return next;
  }

  void check_until_settled() {
    for (;;) {
      drift_check c = reading();
      // The window's references against their level when the baseline was set: both changes are
      // then measured from the same moment.
      const double level = window_reference_level();
      c.decision = guard_->on_check(c.reference_ms, level / baseline_window_ms_ - 1.0);  // NaN stays NaN
      out_.checks.push_back(c);
      // The reading is judged by what was learnt before it, then learnt from.
      noise_->add(c.reference_ms);
      guard_->set_threshold(noise_->threshold());
      if (c.decision.verdict != drift_verdict::drift) {
        if (guard_->baseline_ms() != c.baseline_ms && std::isfinite(level)) baseline_window_ms_ = level;
        finalise(c.decision.archs);
        return;
      }
      measure(c.decision.archs, /*again=*/true);
    }
  }

  void finalise(std::span<const std::size_t> archs) {
    if (!on_final_) return;
    for (std::size_t i : archs) on_final_(i, out_.results[i]);
  }

  const workload_factory& make_arch_;
  const workload& reference_;
  const measure_policy& p_;
  const result_sink& on_final_;
  const measurement_start& on_start_;
  batch_carry* carry_;
  batch_result out_;
  std::optional<drift_guard> guard_;
  std::optional<drift_noise> noise_;
  double baseline_window_ms_ = not_measured;  ///< the windows' reference level when the baseline was set
  std::size_t measurements_ = 0;
};

}  // namespace

batch_result measure_batch(std::size_t count, const workload_factory& make_arch, const workload& reference,
                           const measure_policy& p, const result_sink& on_final, batch_carry* carry,
                           const measurement_start& on_start) {
  p.validate();
  return batch_driver(count, make_arch, reference, p, on_final, carry, on_start).run();
}

}  // namespace esm::measure
