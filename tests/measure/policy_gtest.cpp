// measure_policy: defaults, validation messages and the provenance text.
#include "esm/measure/policy.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "esm/common/error.hpp"
#include "esm/space/space.hpp"

namespace esm::measure {
namespace {

/// The usage_error message validate() throws after `change`, or "" when it passes.
std::string validation_error(const std::function<void(measure_policy&)>& change) {
  measure_policy p;
  change(p);
  try {
    p.validate();
  } catch (const usage_error& e) {
    return e.what();
  }
  return "";
}

TEST(MeasurePolicy, DefaultsAreEsmsAndValid) {
  const measure_policy p;
  EXPECT_EQ(p.warmup_runs, 10);
  EXPECT_EQ(p.warmup_ms, 200.0);
  EXPECT_EQ(p.reps, 150);
  EXPECT_EQ(p.trim_fraction, 0.2);
  EXPECT_EQ(p.drift_every, 25);
  EXPECT_EQ(p.drift_threshold, 0.03);
  EXPECT_EQ(p.drift_max_retries, 2);
  EXPECT_NO_THROW(p.validate());
}

TEST(MeasurePolicy, ValidateNamesTheBadField) {
  EXPECT_EQ(validation_error([](measure_policy& p) { p.trim_fraction = 0.5; }),
            "measure policy: trim_fraction must be in [0, 0.5), got 0.5");
  EXPECT_EQ(validation_error([](measure_policy& p) { p.reps = 0; }), "measure policy: reps must be >= 1, got 0");
  EXPECT_NE(validation_error([](measure_policy& p) { p.trim_fraction = -0.1; }).find("trim_fraction"), std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.trim_fraction = std::nan(""); }).find("trim_fraction"),
            std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.warmup_runs = -1; }).find("warmup_runs"), std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.warmup_ms = -5; }).find("warmup_ms"), std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.max_reps = 5; }).find("max_reps must be >= 20"),
            std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.max_noise = 0; }).find("max_noise"), std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.timeout_ms = -1; }).find("timeout_ms"), std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.drift_every = -1; }).find("drift_every"), std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.drift_threshold = 0; }).find("drift_threshold"),
            std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.drift_reps = 0; }).find("drift_reps"), std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.drift_calibration = 0; }).find("drift_calibration"),
            std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.drift_noise_factor = -1; }).find("drift_noise_factor"),
            std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.burst_reps = 0; }).find("burst_reps"), std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) { p.interleave_group = 0; }).find("interleave_group"),
            std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) {
              p.mode = measure_mode::interleaved;
              p.stop = stop_rule::adaptive;
            }).find("stop must be fixed in interleaved mode"),
            std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) {
              p.mode = measure_mode::crossed;
              p.stop = stop_rule::adaptive;
            }).find("stop must be fixed in crossed mode"),
            std::string::npos);
  EXPECT_NE(validation_error([](measure_policy& p) {
              p.mode = measure_mode::crossed;
              p.reps = 1;
            }).find("reps (crossed mode: two passes) must be >= 2, got 1"),
            std::string::npos);
  EXPECT_EQ(validation_error([](measure_policy& p) { p.drift_every = 0; }), "");  // guard off is valid
}

TEST(MeasurePolicy, TextForProvenance) {
  measure_policy p;
  EXPECT_EQ(to_text(p),
            "reps=150 warmup>=10runs/200ms trim=0.2 drift=3%/25,retries=2,ref_reps=50,calibration=5,noise_factor=3,"
            "noise_window=10,shrink=0.8,common=follow "
            "mode=plain");
  p.mode = measure_mode::normalised;
  EXPECT_EQ(to_text(p),
            "reps=150 warmup>=10runs/200ms trim=0.2 drift=3%/25,retries=2,ref_reps=50,calibration=5,noise_factor=3,"
            "noise_window=10,shrink=0.8,common=follow "
            "mode=normalised,bracket=10,switch_warmup=1");
  p.mode = measure_mode::interleaved;
  p.drift_every = 0;
  EXPECT_EQ(to_text(p),
            "reps=150 warmup>=10runs/200ms trim=0.2 drift=off mode=interleaved,burst=10,group=8,bracket=10,switch_warmup=1");
  p.mode = measure_mode::crossed;
  EXPECT_EQ(to_text(p),
            "reps=150 warmup>=10runs/200ms trim=0.2 drift=off mode=crossed,burst=10,group=8,bracket=10,switch_warmup=1");
  p = measure_policy{};
  p.stop = stop_rule::adaptive;
  EXPECT_EQ(to_text(p),
            "stop=adaptive(noise<=0.5%,reps=20..1000,timeout=15000ms) warmup>=10runs/200ms trim=0.2 "
            "drift=3%/25,retries=2,ref_reps=50,calibration=5,noise_factor=3,noise_window=10,shrink=0.8,common=follow "
            "mode=plain");
}

TEST(MeasurePolicy, ParsesModesAndRules) {
  EXPECT_EQ(parse_measure_mode("plain"), measure_mode::plain);
  EXPECT_EQ(parse_measure_mode("normalised"), measure_mode::normalised);
  EXPECT_EQ(parse_measure_mode("interleaved"), measure_mode::interleaved);
  EXPECT_EQ(parse_measure_mode("crossed"), measure_mode::crossed);
  EXPECT_TRUE(grouped(measure_mode::crossed));
  EXPECT_FALSE(grouped(measure_mode::normalised));
  EXPECT_THROW((void)parse_measure_mode("normalized"), usage_error);
  EXPECT_EQ(parse_stop_rule("adaptive"), stop_rule::adaptive);
  EXPECT_EQ(to_string(stop_rule::fixed), "fixed");
  EXPECT_THROW((void)parse_stop_rule("forever"), usage_error);
}

TEST(ReferenceArch, IsCanonicalOfaMbv3Text) {
  const auto a = space::parse_any(reference_arch_text);
  EXPECT_EQ(space::format_any(a), reference_arch_text);
  EXPECT_EQ(space::find_space(a.space).resolution(a), 128);
}

}  // namespace
}  // namespace esm::measure
