// The drift guard state machine on made-up reference readings.
#include "esm/measure/drift_guard.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "esm/common/error.hpp"

namespace esm::measure {
namespace {

using archs = std::vector<std::size_t>;

TEST(DriftGuard, ChecksEveryKArchsAndAcceptsTheWindow) {
  drift_guard g(3, 0.03, 2);
  g.set_baseline(10.0);
  EXPECT_FALSE(g.on_arch_done(0));
  EXPECT_FALSE(g.on_arch_done(1));
  EXPECT_TRUE(g.on_arch_done(2));
  const auto d = g.on_check(10.2);  // +2%
  EXPECT_EQ(d.verdict, drift_verdict::ok);
  EXPECT_NEAR(d.relative_change, 0.02, 1e-12);
  EXPECT_EQ(d.archs, (archs{0, 1, 2}));
  EXPECT_TRUE(g.unchecked().empty());
  EXPECT_FALSE(g.on_arch_done(3));  // the count restarts after a check
}

TEST(DriftGuard, DriftRedoesTheWindowThenAcceptsIt) {
  drift_guard g(3, 0.03, 2);
  g.set_baseline(10.0);
  for (std::size_t i = 0; i < 3; ++i) (void)g.on_arch_done(i);
  (void)g.on_check(10.0);
  for (std::size_t i = 3; i < 6; ++i) (void)g.on_arch_done(i);
  const auto d = g.on_check(11.0);  // +10%
  EXPECT_EQ(d.verdict, drift_verdict::drift);
  EXPECT_NEAR(d.relative_change, 0.1, 1e-12);
  EXPECT_EQ(d.archs, (archs{3, 4, 5}));
  EXPECT_EQ(g.retries(), 1);
  EXPECT_EQ(g.unchecked(), (archs{3, 4, 5}));  // still pending until a check passes
  const auto again = g.on_check(10.1);
  EXPECT_EQ(again.verdict, drift_verdict::remeasured);
  EXPECT_EQ(again.archs, (archs{3, 4, 5}));
  EXPECT_EQ(g.retries(), 0);
  EXPECT_DOUBLE_EQ(g.baseline_ms(), 10.0);
}

TEST(DriftGuard, PersistentDriftGivesUpAfterTheRetryBoundAndRebaselines) {
  drift_guard g(2, 0.03, 2);
  g.set_baseline(10.0);
  (void)g.on_arch_done(0);
  (void)g.on_arch_done(1);
  EXPECT_EQ(g.on_check(11.0).verdict, drift_verdict::drift);  // retry 1
  EXPECT_EQ(g.on_check(11.0).verdict, drift_verdict::drift);  // retry 2
  const auto d = g.on_check(11.0);                            // bound reached
  EXPECT_EQ(d.verdict, drift_verdict::gave_up);
  EXPECT_EQ(d.archs, (archs{0, 1}));
  EXPECT_DOUBLE_EQ(g.baseline_ms(), 11.0);
  (void)g.on_arch_done(2);
  (void)g.on_arch_done(3);
  EXPECT_EQ(g.on_check(11.1).verdict, drift_verdict::ok);  // +0.9% of the new level
}

TEST(DriftGuard, GivingUpRebaselinesOnTheMedianOfTheDriftedReadingsNotTheLast) {
  // The readings of bench/test_retest.sh's interleaved run: noise around the old level, the last
  // reading an outlier. The last as baseline (11.0) would make the next window give up as well.
  drift_guard g(2, 0.03, 2);
  g.set_baseline(9.275);
  (void)g.on_arch_done(0);
  (void)g.on_arch_done(1);
  EXPECT_EQ(g.on_check(9.906).verdict, drift_verdict::drift);
  EXPECT_EQ(g.on_check(8.912).verdict, drift_verdict::drift);
  EXPECT_EQ(g.on_check(10.989).verdict, drift_verdict::gave_up);
  EXPECT_DOUBLE_EQ(g.baseline_ms(), 9.906);
  // Readings within the threshold of an earlier window do not count towards the next median.
  (void)g.on_arch_done(2);
  EXPECT_EQ(g.on_check(9.95).verdict, drift_verdict::ok);
  (void)g.on_arch_done(3);
  (void)g.on_arch_done(4);
  EXPECT_EQ(g.on_check(12.0).verdict, drift_verdict::drift);
  EXPECT_EQ(g.on_check(12.2).verdict, drift_verdict::drift);
  EXPECT_EQ(g.on_check(std::nan("")).verdict, drift_verdict::gave_up);
  EXPECT_DOUBLE_EQ(g.baseline_ms(), 12.1);  // median of 12.0 and 12.2; the NaN is not a level
}

TEST(DriftGuard, SpeedUpsCountAndTheThresholdItselfDoesNot) {
  drift_guard g(1, 0.03, 0);
  g.set_baseline(100.0);
  (void)g.on_arch_done(0);
  EXPECT_EQ(g.on_check(103.0).verdict, drift_verdict::ok);  // exactly 3%
  (void)g.on_arch_done(1);
  // No retries allowed: a 4% speed-up is given up on at once.
  EXPECT_EQ(g.on_check(96.0).verdict, drift_verdict::gave_up);
}

TEST(DriftGuard, ArchsAreNotCountedTwiceInAWindow) {
  drift_guard g(5, 0.03, 2);
  g.set_baseline(1.0);
  (void)g.on_arch_done(7);
  (void)g.on_arch_done(7);
  EXPECT_EQ(g.unchecked(), (archs{7}));
}

TEST(DriftGuard, ANanReadingIsDrift) {
  drift_guard g(1, 0.03, 1);
  g.set_baseline(1.0);
  (void)g.on_arch_done(0);
  EXPECT_EQ(g.on_check(std::nan("")).verdict, drift_verdict::drift);
  EXPECT_EQ(g.on_check(std::nan("")).verdict, drift_verdict::gave_up);
  EXPECT_DOUBLE_EQ(g.baseline_ms(), 1.0);  // never re-baselined on a NaN
}

TEST(DriftGuard, RejectsBadSettings) {
  EXPECT_THROW(drift_guard(0, 0.03, 2), esm::error);
  EXPECT_THROW(drift_guard(25, 0.0, 2), esm::error);
  EXPECT_THROW(drift_guard(25, 0.03, -1), esm::error);
  drift_guard g(25, 0.03, 2);
  EXPECT_THROW((void)g.on_check(1.0), esm::error);  // no baseline yet
  EXPECT_THROW(g.set_baseline(0.0), esm::error);
}

TEST(DriftCalibration, BaselineIsTheMedianAndTheNoiseTheScaledMadOneOutlierDoesNotSet) {
  // Sorted 9, 10, 10.5, 11, 30: median 10.5; |deviations| 0, 0.5, 0.5, 1.5, 19.5: MAD 0.5.
  const std::vector<double> readings{10.0, 11.0, 9.0, 10.5, 30.0};
  const auto c = calibrate_drift(readings, 0.03, 3.0);
  EXPECT_EQ(c.readings, 5);
  EXPECT_DOUBLE_EQ(c.baseline_ms, 10.5);
  EXPECT_NEAR(c.noise, 1.4826 * 0.5 / 10.5, 1e-12);
  EXPECT_NEAR(c.threshold, 3.0 * 1.4826 * 0.5 / 10.5, 1e-12);  // 21.2%: above the 3% floor
}

TEST(DriftCalibration, EvenCountsAverageTheTwoMiddleValues) {
  // Median 2.5; |deviations| 1.5, 0.5, 0.5, 1.5: MAD 1.0.
  const auto c = calibrate_drift(std::vector<double>{4.0, 1.0, 3.0, 2.0}, 0.03, 1.0);
  EXPECT_DOUBLE_EQ(c.baseline_ms, 2.5);
  EXPECT_NEAR(c.noise, 1.4826 / 2.5, 1e-12);
  EXPECT_NEAR(c.threshold, 1.4826 / 2.5, 1e-12);
}

TEST(DriftCalibration, TheFloorHoldsOnAQuietMachineAndWithoutANoiseFactor) {
  // Median 10, MAD 0: a steady reference leaves the configured threshold in force.
  const auto quiet = calibrate_drift(std::vector<double>{10.0, 10.0, 10.1}, 0.03, 3.0);
  EXPECT_DOUBLE_EQ(quiet.noise, 0.0);
  EXPECT_DOUBLE_EQ(quiet.threshold, 0.03);
  // Noise factor 0: the floor alone, however noisy the readings.
  const auto fixed = calibrate_drift(std::vector<double>{10.0, 13.0, 7.0}, 0.03, 0.0);
  EXPECT_NEAR(fixed.noise, 1.4826 * 3.0 / 10.0, 1e-12);
  EXPECT_DOUBLE_EQ(fixed.threshold, 0.03);
  // One reading cannot show a spread.
  const auto single = calibrate_drift(std::vector<double>{4.2}, 0.03, 3.0);
  EXPECT_DOUBLE_EQ(single.baseline_ms, 4.2);
  EXPECT_DOUBLE_EQ(single.noise, 0.0);
  EXPECT_DOUBLE_EQ(single.threshold, 0.03);
}

TEST(DriftCalibration, FailedReadingsAreSkippedAndNoneLeftIsAnError) {
  const auto c = calibrate_drift(std::vector<double>{std::nan(""), 2.0, 0.0, -1.0, 4.0}, 0.05, 3.0);
  EXPECT_EQ(c.readings, 2);
  EXPECT_DOUBLE_EQ(c.baseline_ms, 3.0);
  EXPECT_THROW((void)calibrate_drift(std::vector<double>{std::nan(""), 0.0}, 0.03, 3.0), esm::error);
  EXPECT_THROW((void)calibrate_drift(std::vector<double>{}, 0.03, 3.0), esm::error);
  EXPECT_THROW((void)calibrate_drift(std::vector<double>{1.0}, 0.0, 3.0), esm::error);
  EXPECT_THROW((void)calibrate_drift(std::vector<double>{1.0}, 0.03, -1.0), esm::error);
  EXPECT_THROW((void)calibrate_drift(std::vector<double>{1.0}, 0.03, std::nan("")), esm::error);
}

TEST(DriftGuard, ReportsTheThresholdItJudgesWith) {
  drift_guard g(1, 0.2224, 0);
  EXPECT_DOUBLE_EQ(g.threshold(), 0.2224);
  g.set_baseline(1.0);
  (void)g.on_arch_done(0);
  EXPECT_EQ(g.on_check(1.2).verdict, drift_verdict::ok);  // +20%: noise at this threshold
  (void)g.on_arch_done(1);
  EXPECT_EQ(g.on_check(1.25).verdict, drift_verdict::gave_up);
}

TEST(DriftGuard, AfterATransientSlowdownTheNextWindowIsJudgedAgainstHomeAgain) {
  // The readings of a 2-rank quickstart (threshold 20%, one retry): a slowdown gives up and moves
  // the baseline to 8.053; when the machine is back, the next window drifts from 8.053 but is
  // within 20% of home (5.456): it is re-measured once and then passes against home.
  drift_guard g(6, 0.2, 1);
  g.set_baseline(5.456);
  for (std::size_t i = 0; i < 6; ++i) (void)g.on_arch_done(i);
  EXPECT_EQ(g.on_check(7.548).verdict, drift_verdict::drift);
  EXPECT_EQ(g.on_check(8.558).verdict, drift_verdict::gave_up);
  EXPECT_DOUBLE_EQ(g.baseline_ms(), 8.053);
  EXPECT_DOUBLE_EQ(g.home_ms(), 5.456);
  for (std::size_t i = 6; i < 12; ++i) (void)g.on_arch_done(i);
  const auto back = g.on_check(5.554);
  EXPECT_EQ(back.verdict, drift_verdict::drift);  // its archs may have run at the slow level
  EXPECT_NEAR(back.relative_change, (5.554 - 8.053) / 8.053, 1e-12);
  EXPECT_EQ(back.archs, (archs{6, 7, 8, 9, 10, 11}));
  EXPECT_DOUBLE_EQ(g.baseline_ms(), 5.456);
  EXPECT_EQ(g.on_check(5.359).verdict, drift_verdict::remeasured);  // -1.8% of home
}

TEST(DriftGuard, ALastingShiftStaysTheBaselineWhileReadingsStayAwayFromHome) {
  drift_guard g(1, 0.03, 0);
  g.set_baseline(1.0);
  (void)g.on_arch_done(0);
  EXPECT_EQ(g.on_check(1.5).verdict, drift_verdict::gave_up);
  (void)g.on_arch_done(1);
  EXPECT_EQ(g.on_check(1.52).verdict, drift_verdict::ok);  // +1.3% of the new level
  (void)g.on_arch_done(2);
  EXPECT_EQ(g.on_check(1.2).verdict, drift_verdict::gave_up);  // neither level: a third one
  EXPECT_DOUBLE_EQ(g.baseline_ms(), 1.2);
  EXPECT_DOUBLE_EQ(g.home_ms(), 1.0);
}

TEST(DriftGuard, CarriedStateKeepsHomeAndTheCurrentLevel) {
  drift_guard g(1, 0.05, 1);
  g.set_baseline(1.0, 1.4);
  (void)g.on_arch_done(0);
  EXPECT_EQ(g.on_check(1.41).verdict, drift_verdict::ok);
  (void)g.on_arch_done(1);
  EXPECT_EQ(g.on_check(1.02).verdict, drift_verdict::drift);
  EXPECT_DOUBLE_EQ(g.baseline_ms(), 1.0);
  EXPECT_THROW(g.set_baseline(1.0, 0.0), esm::error);
  EXPECT_THROW(g.set_baseline(std::nan(""), 1.0), esm::error);
}

TEST(DriftVerdict, Names) {
  EXPECT_EQ(to_string(drift_verdict::ok), "ok");
  EXPECT_EQ(to_string(drift_verdict::drift), "drift");
  EXPECT_EQ(to_string(drift_verdict::remeasured), "remeasured");
  EXPECT_EQ(to_string(drift_verdict::gave_up), "gave_up");
  EXPECT_EQ(to_string(drift_verdict::common_mode), "common_mode");
}

TEST(DriftGuardCommonMode, ADriftTheWindowsReferencesShareIsFollowedWithoutARemeasure) {
  drift_guard g(3, 0.03, 2);
  g.set_baseline(10.0);
  for (std::size_t i = 0; i < 3; ++i) (void)g.on_arch_done(i);
  const auto d = g.on_check(11.0, 0.09);  // +10%, the window's own references +9%
  EXPECT_EQ(d.verdict, drift_verdict::common_mode);
  EXPECT_EQ(d.archs, (archs{0, 1, 2}));
  EXPECT_EQ(g.retries(), 0);
  EXPECT_DOUBLE_EQ(g.baseline_ms(), 11.0);  // the machine's new level
  EXPECT_DOUBLE_EQ(g.home_ms(), 10.0);
  for (std::size_t i = 3; i < 6; ++i) (void)g.on_arch_done(i);
  EXPECT_EQ(g.on_check(11.1, 0.0).verdict, drift_verdict::ok);
}

TEST(DriftGuardCommonMode, AWindowWhoseReferencesMovedAgainstTheReadingIsFinalAtTheWindowsLevel) {
  // The reading +10%, the window's references -9%: the archs ran at the window's level beside their
  // references; the reading is a moment later. Nothing re-measured, the baseline at the window's level.
  drift_guard g(3, 0.03, 2);
  g.set_baseline(10.0);
  for (std::size_t i = 0; i < 3; ++i) (void)g.on_arch_done(i);
  const auto d = g.on_check(11.0, -0.09);
  EXPECT_EQ(d.verdict, drift_verdict::common_mode);
  EXPECT_EQ(d.archs, (archs{0, 1, 2}));
  EXPECT_NEAR(g.baseline_ms(), 9.1, 1e-12);
  EXPECT_DOUBLE_EQ(g.home_ms(), 10.0);
}

TEST(DriftGuardCommonMode, ADriftIsRemeasuredWhereNoReferenceWasTimedBesideTheArchs) {
  drift_guard g(3, 0.03, 2);
  g.set_baseline(10.0);
  for (std::size_t i = 0; i < 3; ++i) (void)g.on_arch_done(i);
  EXPECT_EQ(g.on_check(11.0, std::numeric_limits<double>::quiet_NaN()).verdict, drift_verdict::drift);
  EXPECT_EQ(g.on_check(11.0).verdict, drift_verdict::drift);  // the plain mode's default
}

TEST(DriftGuardTransient, AReadingThatTheWindowsOwnReferencesContradictKeepsTheWindow) {
  drift_guard g(3, 0.03, 2);
  g.set_baseline(10.0);
  for (std::size_t i = 0; i < 3; ++i) (void)g.on_arch_done(i);
  const auto d = g.on_check(11.5, 0.005);  // +15% now, the window's references +0.5%
  EXPECT_EQ(d.verdict, drift_verdict::transient);
  EXPECT_EQ(d.archs, (archs{0, 1, 2}));  // final as measured
  EXPECT_EQ(g.retries(), 0);
  EXPECT_DOUBLE_EQ(g.baseline_ms(), 10.0);  // the baseline stays
  EXPECT_TRUE(g.unchecked().empty());
  // During a re-measurement too (one that a failed reference run started): the re-measured
  // window's references are steady.
  for (std::size_t i = 3; i < 6; ++i) (void)g.on_arch_done(i);
  EXPECT_EQ(g.on_check(11.5, std::numeric_limits<double>::quiet_NaN()).verdict, drift_verdict::drift);
  EXPECT_EQ(g.on_check(11.5, -0.01).verdict, drift_verdict::transient);
  EXPECT_EQ(g.retries(), 0);
}

TEST(DriftGuardThreshold, CanBeChangedAsTheNoiseEstimateLearns) {
  drift_guard g(1, 0.03, 0);
  g.set_baseline(10.0);
  (void)g.on_arch_done(0);
  g.set_threshold(0.2);
  EXPECT_EQ(g.on_check(11.0).verdict, drift_verdict::ok);
  EXPECT_THROW(g.set_threshold(0.0), error);
}

TEST(DriftNoise, ANoisyCalibrationFollowedByQuietReadingsLowersTheThresholdToTheFloor) {
  drift_noise n(0.03, 3, 10, 0.8);
  n.calibrate(std::vector<double>{1.00, 1.08, 0.95, 1.03, 0.92});
  EXPECT_NEAR(n.threshold(), 3 * 1.4826 * 0.05, 1e-9);
  double before = n.threshold();
  int readings = 0;
  while (n.threshold() > 0.03 && readings < 50) {
    n.add(readings % 2 ? 1.002 : 0.999);
    ++readings;
    EXPECT_GE(n.threshold(), 0.8 * before - 1e-12);  // shrinks by a fifth at most (rises freely)
    before = n.threshold();
  }
  EXPECT_DOUBLE_EQ(n.threshold(), 0.03);
  EXPECT_LE(readings, 16);  // a majority of quiet samples, then the shrink limit's steps
  EXPECT_GE(readings, 6);   // never on the first few quiet readings
}

TEST(DriftNoise, AQuietCalibrationFollowedByNoiseRaisesTheThresholdOnceNoiseIsTheMajority) {
  drift_noise n(0.03, 3, 10, 0.8);
  n.calibrate(std::vector<double>{1.000, 1.001, 0.999, 1.000, 1.001});
  EXPECT_DOUBLE_EQ(n.threshold(), 0.03);
  const std::vector<double> noisy{1.06, 0.95, 1.04, 0.94, 1.05, 0.96, 1.02, 0.97};
  for (std::size_t k = 0; k < 4; ++k) n.add(noisy[k]);
  EXPECT_DOUBLE_EQ(n.threshold(), 0.03);  // one outlier, or a minority of them, does not set it
  for (std::size_t k = 4; k < noisy.size(); ++k) n.add(noisy[k]);
  EXPECT_GT(n.threshold(), 0.15);  // successive changes of ~8%: noise ~6%, threshold 3x
}

TEST(DriftNoise, AWindowOfZeroKeepsTheCalibrationsThreshold) {
  drift_noise n(0.03, 3, 0, 0.8);
  n.calibrate(std::vector<double>{1.00, 1.08, 0.95, 1.03, 0.92});
  const double calibrated = n.threshold();
  for (int k = 0; k < 20; ++k) n.add(1.0);
  EXPECT_DOUBLE_EQ(n.threshold(), calibrated);
}

TEST(DriftNoise, FailedReadingsTeachNothing) {
  drift_noise n(0.03, 3, 10, 0.8);
  n.calibrate(std::vector<double>{1.0, 1.0, 1.0});
  n.add(std::numeric_limits<double>::quiet_NaN());
  n.add(-1.0);
  EXPECT_EQ(n.samples(), 3u);
  EXPECT_DOUBLE_EQ(n.threshold(), 0.03);
}

TEST(DriftNoise, RejectsBadSettings) {
  EXPECT_THROW(drift_noise(0.0, 3, 10, 0.8), error);
  EXPECT_THROW(drift_noise(0.03, -1, 10, 0.8), error);
  EXPECT_THROW(drift_noise(0.03, 3, -1, 0.8), error);
  EXPECT_THROW(drift_noise(0.03, 3, 10, 0.0), error);
  EXPECT_THROW(drift_noise(0.03, 3, 10, 1.5), error);
}

}  // namespace
}  // namespace esm::measure
