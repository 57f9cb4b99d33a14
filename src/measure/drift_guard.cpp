// The drift guard state machine (esm/measure/drift_guard.hpp).
#include "esm/measure/drift_guard.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "esm/common/error.hpp"
#include "esm/measure/statistics.hpp"

namespace esm::measure {

std::string_view to_string(drift_verdict v) {
  switch (v) {
    case drift_verdict::ok: return "ok";
    case drift_verdict::drift: return "drift";
    case drift_verdict::remeasured: return "remeasured";
    case drift_verdict::gave_up: return "gave_up";
    case drift_verdict::common_mode: return "common_mode";
    case drift_verdict::transient: return "transient";
  }
  return "?";
}

namespace {

double median_of(std::vector<double> v) {  // v not empty
  std::sort(v.begin(), v.end());
  return percentile_sorted(v, 0.5);
}

}  // namespace

drift_calibration calibrate_drift(std::span<const double> readings_ms, double floor, double noise_factor) {
  if (!(floor > 0.0) || !(noise_factor >= 0.0) || !std::isfinite(floor) || !std::isfinite(noise_factor)) {
    throw error("calibrate_drift: needs a finite floor > 0 and noise_factor >= 0");
  }
  std::vector<double> good;
  for (double r : readings_ms) {
    if (std::isfinite(r) && r > 0.0) good.push_back(r);
  }
  if (good.empty()) throw error("drift guard: no valid reference reading to take the baseline from");
  drift_calibration c;
  c.readings = static_cast<int>(good.size());
  c.baseline_ms = median_of(good);
  if (good.size() >= 2) {
    std::vector<double> deviations;
    for (double r : good) deviations.push_back(std::abs(r - c.baseline_ms));
    // 1.4826 makes the MAD estimate a normal distribution's standard deviation.
    c.noise = 1.4826 * median_of(std::move(deviations)) / c.baseline_ms;
  }
  c.threshold = std::max(floor, noise_factor * c.noise);
  return c;
}

drift_noise::drift_noise(double floor, double noise_factor, int window, double shrink_limit)
    : floor_(floor), noise_factor_(noise_factor), window_(static_cast<std::size_t>(std::max(window, 0))),
      shrink_limit_(shrink_limit) {
  if (!(floor > 0.0) || !std::isfinite(floor) || !(noise_factor >= 0.0) || !std::isfinite(noise_factor) || window < 0 ||
      !(shrink_limit > 0.0 && shrink_limit <= 1.0)) {
    throw error("drift_noise: needs floor > 0, noise_factor >= 0, window >= 0 and shrink_limit in (0, 1]");
  }
  threshold_ = floor_;
}

void drift_noise::calibrate(std::span<const double> readings_ms) {
  const auto c = calibrate_drift(readings_ms, floor_, noise_factor_);
  samples_.clear();
  previous_ms_ = 0;
  if (c.readings >= 2) {
    for (double r : readings_ms) {
      if (std::isfinite(r) && r > 0.0) samples_.push_back(std::abs(r - c.baseline_ms) / c.baseline_ms);
    }
  }
  for (double r : readings_ms) {
    if (std::isfinite(r) && r > 0.0) previous_ms_ = r;
  }
  update(/*limit_shrink=*/false);
}

void drift_noise::add(double reading_ms) {
  if (!std::isfinite(reading_ms) || !(reading_ms > 0.0)) return;
  if (window_ > 0 && previous_ms_ > 0.0) {
    samples_.push_back(std::abs(reading_ms - previous_ms_) / previous_ms_ / std::numbers::sqrt2);
    if (samples_.size() > window_) samples_.erase(samples_.begin(), samples_.end() - static_cast<std::ptrdiff_t>(window_));
    update(/*limit_shrink=*/true);
  }
  previous_ms_ = reading_ms;
}

void drift_noise::update(bool limit_shrink) {
  // 1.4826 makes the median absolute deviation a normal distribution's standard deviation.
  noise_ = samples_.empty() ? 0.0 : 1.4826 * median_of(samples_);
  const double target = std::max(floor_, noise_factor_ * noise_);
  threshold_ = limit_shrink ? std::max(target, shrink_limit_ * threshold_) : target;
}

drift_guard::drift_guard(int check_every, double threshold, int max_retries)
    : check_every_(check_every), threshold_(threshold), max_retries_(max_retries) {
  if (check_every < 1 || !(threshold > 0.0) || max_retries < 0) {
    throw error("drift_guard: needs check_every >= 1, threshold > 0, max_retries >= 0");
  }
}

void drift_guard::set_threshold(double threshold) {
  if (!(threshold > 0.0) || !std::isfinite(threshold)) throw error("drift_guard: threshold must be finite and > 0");
  threshold_ = threshold;
}

void drift_guard::set_baseline(double reference_ms) { set_baseline(reference_ms, reference_ms); }

void drift_guard::set_baseline(double home_ms, double current_ms) {
  for (double ms : {home_ms, current_ms}) {
    if (!(ms > 0.0) || !std::isfinite(ms)) {
      throw error("drift_guard: baseline must be a finite time > 0 ms, got " + std::to_string(ms));
    }
  }
  home_ms_ = home_ms;
  baseline_ms_ = current_ms;
  window_.clear();
  drifted_readings_.clear();
  since_check_ = 0;
  retries_ = 0;
}

bool drift_guard::on_arch_done(std::size_t arch) {
  if (std::find(window_.begin(), window_.end(), arch) == window_.end()) window_.push_back(arch);
  ++since_check_;
  return since_check_ >= check_every_;
}

bool drift_guard::beyond(double reference_ms) const {
  return !(std::abs((reference_ms - baseline_ms_) / baseline_ms_) <= threshold_);
}

drift_decision drift_guard::on_check(double reference_ms, double window_change) {
  if (baseline_ms_ <= 0.0) throw error("drift_guard: on_check before set_baseline");
  drift_decision d;
  d.relative_change = (reference_ms - baseline_ms_) / baseline_ms_;
  since_check_ = 0;
  // A NaN reading (a failed reference run) counts as drift rather than as a pass.
  const bool drifted = !(std::abs(d.relative_change) <= threshold_);
  // The references timed beside the window's archs moved beyond the threshold: the archs ran at a
  // moved level and their references with them, which the normalised labels divide out. A
  // re-measure would repeat the window on a machine that keeps moving (docs/measurement.md), so the
  // window is final. The baseline follows the reading where it agrees with the window's move
  // (within the threshold), else the window's own level: the reading is one moment after it.
  const bool window_moved = drifted && std::isfinite(window_change) && std::abs(window_change) > threshold_;
  // The reading moved but the references timed beside the window's archs did not: the archs ran
  // at the baseline's speed and the reading is a moment after them. Keep the window and the baseline.
  const bool window_steady = drifted && std::isfinite(window_change) && std::abs(window_change) <= threshold_;
  if (window_moved || window_steady) {
    d.verdict = window_moved ? drift_verdict::common_mode : drift_verdict::transient;
    if (window_moved) {
      const bool agrees = std::isfinite(reference_ms) && reference_ms > 0.0 &&
                          std::abs(window_change - d.relative_change) <= threshold_;
      baseline_ms_ = agrees ? reference_ms : baseline_ms_ * (1.0 + window_change);
    }
    d.archs = std::move(window_);
    window_.clear();
    drifted_readings_.clear();
    retries_ = 0;
    return d;
  }
  if (drifted && std::isfinite(reference_ms) && reference_ms > 0.0) {
    drifted_readings_.push_back(reference_ms);
    // Back at the calibrated level after a gave_up moved the baseline: judge against home again.
    if (baseline_ms_ != home_ms_ && std::abs(reference_ms - home_ms_) <= threshold_ * home_ms_) baseline_ms_ = home_ms_;
  }
  if (drifted && retries_ < max_retries_) {
    ++retries_;
    d.verdict = drift_verdict::drift;
    d.archs = window_;
    return d;
  }
  if (drifted) {
    d.verdict = drift_verdict::gave_up;
    // The new level is the median of the readings that disagreed with the old one, not the last
    // of them: on a noisy machine the last may be an outlier, and a baseline on an outlier would
    // give up on the next window too (bench/test_retest.sh prof, docs/lab/2026-11-27-test-retest.md).
    if (!drifted_readings_.empty()) baseline_ms_ = median_of(drifted_readings_);
  } else {
    d.verdict = retries_ > 0 ? drift_verdict::remeasured : drift_verdict::ok;
  }
  d.archs = std::move(window_);
  window_.clear();
  drifted_readings_.clear();
  retries_ = 0;
  return d;
}

}  // namespace esm::measure
