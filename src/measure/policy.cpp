// measure_policy: names, validation and the provenance text.
#include "esm/measure/policy.hpp"

#include <cmath>
#include <cstdio>

#include "esm/common/error.hpp"

namespace esm::measure {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

[[noreturn]] void bad(std::string_view field, std::string_view rule, const std::string& value) {
  throw usage_error("measure policy: " + std::string(field) + " must be " + std::string(rule) + ", got " + value);
}

void at_least(std::string_view field, int value, int minimum) {
  if (value < minimum) bad(field, ">= " + std::to_string(minimum), std::to_string(value));
}

void positive(std::string_view field, double value) {
  if (!std::isfinite(value) || value <= 0.0) bad(field, "a finite number > 0", number(value));
}

}  // namespace

std::string_view to_string(measure_mode m) {
  switch (m) {
    case measure_mode::plain: return "plain";
    case measure_mode::normalised: return "normalised";
    case measure_mode::interleaved: return "interleaved";
    case measure_mode::crossed: return "crossed";
  }
  return "?";
}

measure_mode parse_measure_mode(std::string_view text) {
  for (auto m : {measure_mode::plain, measure_mode::normalised, measure_mode::interleaved, measure_mode::crossed}) {
    if (text == to_string(m)) return m;
  }
  throw usage_error("unknown measurement mode '" + std::string(text) + "' (plain, normalised, interleaved, crossed)");
}

std::string_view to_string(stop_rule s) { return s == stop_rule::adaptive ? "adaptive" : "fixed"; }

stop_rule parse_stop_rule(std::string_view text) {
  if (text == "fixed") return stop_rule::fixed;
  if (text == "adaptive") return stop_rule::adaptive;
  throw usage_error("unknown stopping rule '" + std::string(text) + "' (fixed, adaptive)");
}

void measure_policy::validate() const {
  at_least("warmup_runs", warmup_runs, 0);
  if (!std::isfinite(warmup_ms) || warmup_ms < 0.0) bad("warmup_ms", "a finite number >= 0", number(warmup_ms));
  at_least("reps", reps, 1);
  if (!(trim_fraction >= 0.0 && trim_fraction < 0.5)) bad("trim_fraction", "in [0, 0.5)", number(trim_fraction));
  positive("max_noise", max_noise);
  at_least("min_reps", min_reps, 1);
  at_least("max_reps", max_reps, min_reps);
  positive("timeout_ms", timeout_ms);
  at_least("drift_every", drift_every, 0);
  positive("drift_threshold", drift_threshold);
  at_least("drift_max_retries", drift_max_retries, 0);
  at_least("drift_reps", drift_reps, 1);
  at_least("drift_calibration", drift_calibration, 1);
  if (!std::isfinite(drift_noise_factor) || drift_noise_factor < 0.0) {
    bad("drift_noise_factor", "a finite number >= 0", number(drift_noise_factor));
  }
  at_least("drift_noise_window", drift_noise_window, 0);
  if (!(drift_shrink_limit > 0.0 && drift_shrink_limit <= 1.0)) bad("drift_shrink_limit", "in (0, 1]", number(drift_shrink_limit));
  at_least("bracket_reps", bracket_reps, 1);
  at_least("switch_warmup_runs", switch_warmup_runs, 0);
  at_least("burst_reps", burst_reps, 1);
  at_least("interleave_group", interleave_group, 1);
  if (grouped(mode) && stop == stop_rule::adaptive) {
    // Interleaving spreads a fixed number of repetitions over the group's time span; an adaptive
    // stop would end archs at different times and undo that.
    bad("stop", "fixed in " + std::string(to_string(mode)) + " mode", "adaptive");
  }
  // Each of the two passes needs at least one repetition.
  if (mode == measure_mode::crossed) at_least("reps (crossed mode: two passes)", reps, 2);
}

std::string to_text(const measure_policy& p) {
  std::string t;
  if (p.stop == stop_rule::fixed) {
    t = "reps=" + std::to_string(p.reps);
  } else {
    t = "stop=adaptive(noise<=" + number(p.max_noise * 100.0) + "%,reps=" + std::to_string(p.min_reps) + ".." +
        std::to_string(p.max_reps) + ",timeout=" + number(p.timeout_ms) + "ms)";
  }
  t += " warmup>=" + std::to_string(p.warmup_runs) + "runs/" + number(p.warmup_ms) + "ms";
  t += " trim=" + number(p.trim_fraction);
  if (p.drift_every > 0) {
    t += " drift=" + number(p.drift_threshold * 100.0) + "%/" + std::to_string(p.drift_every) +
         ",retries=" + std::to_string(p.drift_max_retries) + ",ref_reps=" + std::to_string(p.drift_reps) +
         ",calibration=" + std::to_string(p.drift_calibration) + ",noise_factor=" + number(p.drift_noise_factor) +
         ",noise_window=" + std::to_string(p.drift_noise_window) + ",shrink=" + number(p.drift_shrink_limit) +
         ",common=" + (p.drift_follow_common ? "follow" : "remeasure");
  } else {
    t += " drift=off";
  }
  t += " mode=" + std::string(to_string(p.mode));
  if (grouped(p.mode)) {
    t += ",burst=" + std::to_string(p.burst_reps) + ",group=" + std::to_string(p.interleave_group);
  }
  if (p.mode != measure_mode::plain) {
    t += ",bracket=" + std::to_string(p.bracket_reps) + ",switch_warmup=" + std::to_string(p.switch_warmup_runs);
  }
  return t;
}

}  // namespace esm::measure
