// The drift-guarded batch driver against a fake machine whose speed the test controls.
#include "esm/measure/batch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "esm/common/error.hpp"
#include "measure/fake_workloads.hpp"

namespace esm::measure {
namespace {

/// A machine whose speed factor jumps by 10% once arch 30 has been measured (i.e. when arch 31
/// is built). Arch i takes (1 + i / 100) ms times the factor; the reference takes 1 ms times it.
struct fake_machine {
  bool jump_is_transient = true;  ///< back to normal once a re-measurement starts
  double factor = 1.0;
  std::set<std::size_t> built;
  std::size_t builds = 0;

  workload make(std::size_t i) {
    ++builds;
    if (built.count(i) != 0) {
      if (jump_is_transient) factor = 1.0;
    } else {
      built.insert(i);
      if (i == 31) factor = 1.1;
    }
    return [this, i] { return (1.0 + static_cast<double>(i) / 100.0) * factor; };
  }
  workload reference() {
    return [this] { return factor; };
  }
};

std::vector<std::size_t> range(std::size_t first, std::size_t last) {
  std::vector<std::size_t> v;
  for (std::size_t i = first; i < last; ++i) v.push_back(i);
  return v;
}

TEST(MeasureBatch, TransientDriftRemeasuresExactlyTheWindowSinceTheLastGoodCheck) {
  fake_machine machine;
  std::vector<std::size_t> final_order;
  const auto r = measure_batch(
      60, [&](std::size_t i) { return machine.make(i); }, machine.reference(), fakes::fast_policy(),
      [&](std::size_t i, const measurement&) { final_order.push_back(i); });

  EXPECT_DOUBLE_EQ(r.baseline_ms, 1.0);
  ASSERT_EQ(r.checks.size(), 4u);
  // After arch 24: the reference still reads 1 ms.
  EXPECT_EQ(r.checks[0].decision.verdict, drift_verdict::ok);
  EXPECT_EQ(r.checks[0].decision.archs, range(0, 25));
  EXPECT_EQ(r.checks[0].measurements_so_far, 25u);
  // After arch 49: +10% -> archs 25..49 (and only they) are measured again.
  EXPECT_EQ(r.checks[1].decision.verdict, drift_verdict::drift);
  EXPECT_NEAR(r.checks[1].decision.relative_change, 0.1, 1e-9);
  EXPECT_DOUBLE_EQ(r.checks[1].reference_ms, 1.1);
  EXPECT_EQ(r.checks[1].decision.archs, range(25, 50));
  // The re-measurement ran at normal speed again.
  EXPECT_EQ(r.checks[2].decision.verdict, drift_verdict::remeasured);
  EXPECT_EQ(r.checks[2].decision.archs, range(25, 50));
  EXPECT_EQ(r.checks[2].measurements_so_far, 75u);
  // Archs 50..59: fewer than 25, checked at the end.
  EXPECT_EQ(r.checks[3].decision.verdict, drift_verdict::ok);
  EXPECT_EQ(r.checks[3].decision.archs, range(50, 60));

  EXPECT_EQ(machine.builds, 85u);  // 60 + 25 re-measured
  for (std::size_t i = 0; i < 60; ++i) {
    EXPECT_EQ(r.results[i].remeasure_count, (i >= 25 && i < 50) ? 1 : 0) << "arch " << i;
    EXPECT_NEAR(r.results[i].stats.trimmed_mean_ms, 1.0 + static_cast<double>(i) / 100.0, 1e-12) << "arch " << i;
  }
  EXPECT_EQ(final_order, range(0, 60));  // each arch delivered once, when final
}

TEST(MeasureBatch, PersistentDriftGivesUpAfterTheRetryBound) {
  fake_machine machine;
  machine.jump_is_transient = false;
  const auto r = measure_batch(60, [&](std::size_t i) { return machine.make(i); }, machine.reference(), fakes::fast_policy());

  std::vector<drift_verdict> verdicts;
  for (const auto& c : r.checks) verdicts.push_back(c.decision.verdict);
  EXPECT_EQ(verdicts, (std::vector<drift_verdict>{drift_verdict::ok, drift_verdict::drift, drift_verdict::drift,
                                                  drift_verdict::gave_up, drift_verdict::ok}));
  EXPECT_EQ(r.checks[3].decision.archs, range(25, 50));
  // After giving up, the slower machine is the new baseline, so archs 50..59 pass.
  EXPECT_DOUBLE_EQ(r.checks[4].baseline_ms, 1.1);
  EXPECT_EQ(machine.builds, 110u);  // 60 + 2 x 25
  EXPECT_EQ(r.results[24].remeasure_count, 0);
  EXPECT_EQ(r.results[25].remeasure_count, 2);
  EXPECT_EQ(r.results[49].remeasure_count, 2);
  EXPECT_EQ(r.results[50].remeasure_count, 0);
  EXPECT_NEAR(r.results[35].stats.trimmed_mean_ms, 1.35 * 1.1, 1e-12);
}

TEST(MeasureBatch, GuardOffMeasuresOnceAndDeliversAtOnce) {
  fake_machine machine;
  measure_policy p = fakes::fast_policy();
  p.drift_every = 0;
  std::size_t delivered = 0;
  const auto r = measure_batch(
      40, [&](std::size_t i) { return machine.make(i); }, machine.reference(), p,
      [&](std::size_t i, const measurement&) { EXPECT_EQ(i, delivered++); });
  EXPECT_TRUE(r.checks.empty());
  EXPECT_TRUE(std::isnan(r.baseline_ms));
  EXPECT_EQ(machine.builds, 40u);
  EXPECT_EQ(delivered, 40u);
}

TEST(MeasureBatch, NormalisedModeRecordsTheBracketingReference) {
  fake_machine machine;
  measure_policy p = fakes::fast_policy();
  p.mode = measure_mode::normalised;
  p.bracket_reps = 3;
  const auto r = measure_batch(20, [&](std::size_t i) { return machine.make(i); }, machine.reference(), p);
  ASSERT_EQ(r.checks.size(), 1u);  // only the final check: 20 < 25
  EXPECT_DOUBLE_EQ(r.results[7].reference_ms, 1.0);
  EXPECT_NEAR(r.results[7].normalised, 1.07, 1e-12);
}

TEST(MeasureBatch, InterleavedModeMeasuresGroups) {
  fake_machine machine;
  measure_policy p = fakes::fast_policy();
  p.mode = measure_mode::interleaved;
  p.interleave_group = 2;
  p.burst_reps = 2;
  p.bracket_reps = 2;
  p.drift_every = 3;
  const auto r = measure_batch(5, [&](std::size_t i) { return machine.make(i); }, machine.reference(), p);
  // Groups {0, 1}, {2, 3}: the third arch makes the check due after the second group.
  ASSERT_EQ(r.checks.size(), 2u);
  EXPECT_EQ(r.checks[0].decision.archs, range(0, 4));
  EXPECT_EQ(r.checks[1].decision.archs, range(4, 5));
  for (const auto& m : r.results) {
    EXPECT_EQ(m.samples_ms.size(), 5u);
    EXPECT_DOUBLE_EQ(m.reference_ms, 1.0);
  }
  EXPECT_NEAR(r.results[3].normalised, 1.03, 1e-12);
}

/// Two (or more) measure_batch calls of one rank, as esm profile makes one per chunk: archs take
/// 1 ms times `factor`, the reference `factor` ms; the test moves `factor` between the calls.
/// `transient`: a re-measurement (an arch built again) finds the machine back at normal speed.
struct chunked_machine {
  double factor = 1.0;
  bool transient = true;
  std::set<std::size_t> built;
  std::size_t reference_runs = 0;

  workload make(std::size_t i) {
    if (!built.insert(i).second && transient) factor = 1.0;
    return [this] { return factor; };
  }
  workload reference() {
    return [this] {
      ++reference_runs;
      return factor;
    };
  }
  /// One chunk of `count` archs (indices local to the chunk, as measure_batch numbers them).
  batch_result chunk(std::size_t count, batch_carry* carry) {
    built.clear();
    return measure_batch(count, [this](std::size_t i) { return make(i); }, reference(), fakes::fast_policy(), {},
                         carry);
  }
};

TEST(MeasureBatchCarry, SecondCallKeepsTheFirstBaselineAndSeesADriftBetweenCalls) {
  chunked_machine machine;
  batch_carry carry;
  const auto p = fakes::fast_policy();

  const auto first = machine.chunk(10, &carry);
  EXPECT_DOUBLE_EQ(first.baseline_ms, 1.0);
  EXPECT_NE(first.baseline_unix_ns, 0);
  EXPECT_DOUBLE_EQ(carry.baseline_ms, 1.0);
  EXPECT_TRUE(carry.reference_warm);

  machine.factor = 1.1;  // the machine slows down between the two chunks
  machine.reference_runs = 0;
  const auto second = machine.chunk(10, &carry);
  // No new warm-up and no new baseline burst: the reference ran only for the checks (and once
  // more to confirm the drifted reading).
  EXPECT_DOUBLE_EQ(second.baseline_ms, 1.0);
  EXPECT_EQ(second.baseline_unix_ns, 0);
  EXPECT_EQ(machine.reference_runs, (second.checks.size() + 1) * static_cast<std::size_t>(p.drift_reps));
  // The end-of-chunk check compares with the first chunk's baseline: drift, the chunk re-measured.
  ASSERT_EQ(second.checks.size(), 2u);
  EXPECT_EQ(second.checks[0].decision.verdict, drift_verdict::drift);
  EXPECT_DOUBLE_EQ(second.checks[0].baseline_ms, 1.0);
  EXPECT_NEAR(second.checks[0].decision.relative_change, 0.1, 1e-9);
  EXPECT_EQ(second.checks[0].decision.archs, range(0, 10));
  EXPECT_EQ(second.checks[1].decision.verdict, drift_verdict::remeasured);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(second.results[i].remeasure_count, 1) << "arch " << i;
    EXPECT_NEAR(second.results[i].stats.trimmed_mean_ms, 1.0, 1e-12) << "arch " << i;
  }
  EXPECT_DOUBLE_EQ(carry.baseline_ms, 1.0);
}

TEST(MeasureBatchCarry, APersistentSlowdownMovesTheCarriedBaselineOnlyByGivingUp) {
  chunked_machine machine;
  machine.transient = false;
  batch_carry carry;
  (void)machine.chunk(10, &carry);
  machine.factor = 1.1;
  const auto second = machine.chunk(10, &carry);
  ASSERT_FALSE(second.checks.empty());
  EXPECT_EQ(second.checks.back().decision.verdict, drift_verdict::gave_up);
  EXPECT_DOUBLE_EQ(carry.baseline_ms, 1.1);  // the slower machine is the baseline from now on
  EXPECT_DOUBLE_EQ(carry.home_ms, 1.0);       // and the calibrated level stays home
  const auto third = machine.chunk(10, &carry);
  EXPECT_DOUBLE_EQ(third.baseline_ms, 1.1);
  EXPECT_EQ(third.baseline_unix_ns, 0);
  ASSERT_EQ(third.checks.size(), 1u);
  EXPECT_EQ(third.checks[0].decision.verdict, drift_verdict::ok);
}

TEST(MeasureBatchCarry, WithoutACarryEveryCallTakesItsOwnBaselineAndMissesTheSlowdown) {
  chunked_machine machine;
  const auto p = fakes::fast_policy();
  const auto first = machine.chunk(10, nullptr);
  EXPECT_DOUBLE_EQ(first.baseline_ms, 1.0);

  machine.factor = 1.1;
  machine.reference_runs = 0;
  const auto second = machine.chunk(10, nullptr);
  EXPECT_DOUBLE_EQ(second.baseline_ms, 1.1);  // re-taken on the slower machine
  EXPECT_NE(second.baseline_unix_ns, 0);
  // Warm-up and baseline burst again, besides the one check.
  EXPECT_GT(machine.reference_runs, second.checks.size() * static_cast<std::size_t>(p.drift_reps));
  ASSERT_EQ(second.checks.size(), 1u);
  EXPECT_EQ(second.checks[0].decision.verdict, drift_verdict::ok);
  for (const auto& m : second.results) EXPECT_EQ(m.remeasure_count, 0);
}

/// A reference whose every run returns the next of `readings` (then repeats the last): with
/// drift_reps 1, no warm-up and no untimed runs, run k is reading k.
workload scripted_reference(std::vector<double> readings, std::shared_ptr<std::size_t> calls) {
  return [readings = std::move(readings), calls] {
    const std::size_t k = (*calls)++;
    return readings[std::min(k, readings.size() - 1)];
  };
}

measure_policy one_reading_checks() {
  measure_policy p = fakes::fast_policy();
  p.warmup_runs = 0;
  p.drift_reps = 1;
  p.drift_every = 5;
  p.drift_noise_window = 0;  // the calibration's threshold alone: learning has its own tests below
  return p;
}

TEST(MeasureBatchCalibration, ANoisyReferenceWidensTheThresholdSoNoiseIsNotDrift) {
  // Five calibration readings: median 1.00, |deviations| 0, .08, .05, .03, .08 -> MAD .05,
  // noise 1.4826 * .05 = 7.4%, threshold 3 x 7.4% = 22.2%. The checks then read +6%, -6%, +10%.
  const std::vector<double> readings{1.00, 1.08, 0.95, 1.03, 0.92, 1.06, 0.94, 1.10};
  auto calls = std::make_shared<std::size_t>(0);
  const auto r = measure_batch(15, [](std::size_t) { return workload([] { return 2.0; }); },
                               scripted_reference(readings, calls), one_reading_checks());
  EXPECT_EQ(r.calibration.readings, 5);
  EXPECT_DOUBLE_EQ(r.baseline_ms, 1.0);
  EXPECT_NEAR(r.calibration.noise, 1.4826 * 0.05, 1e-9);
  EXPECT_NEAR(r.calibration.threshold, 3 * 1.4826 * 0.05, 1e-9);
  ASSERT_EQ(r.checks.size(), 3u);
  for (const auto& c : r.checks) {
    EXPECT_EQ(c.decision.verdict, drift_verdict::ok);
    EXPECT_NEAR(c.threshold, 3 * 1.4826 * 0.05, 1e-9);
  }
  for (const auto& m : r.results) EXPECT_EQ(m.remeasure_count, 0);
}

TEST(MeasureBatchCalibration, WithNoiseFactorZeroTheSameNoiseIsTakenForDrift) {
  const std::vector<double> readings{1.00, 1.08, 0.95, 1.03, 0.92, 1.06, 0.94, 1.10};
  auto calls = std::make_shared<std::size_t>(0);
  measure_policy p = one_reading_checks();
  p.drift_noise_factor = 0;
  const auto r = measure_batch(15, [](std::size_t) { return workload([] { return 2.0; }); },
                               scripted_reference(readings, calls), p);
  EXPECT_DOUBLE_EQ(r.calibration.threshold, 0.03);
  ASSERT_FALSE(r.checks.empty());
  EXPECT_EQ(r.checks[0].decision.verdict, drift_verdict::drift);  // +6% > 3%
  EXPECT_DOUBLE_EQ(r.checks[0].threshold, 0.03);
}

TEST(MeasureBatchCalibration, AReadingBeyondTheWidenedThresholdIsStillDrift) {
  // Threshold 22.2% as above; the first check reads +30% (confirmed by a second +30%), its
  // re-measurement 1.0 again.
  const std::vector<double> readings{1.00, 1.08, 0.95, 1.03, 0.92, 1.30, 1.30, 1.00};
  auto calls = std::make_shared<std::size_t>(0);
  const auto r = measure_batch(5, [](std::size_t) { return workload([] { return 2.0; }); },
                               scripted_reference(readings, calls), one_reading_checks());
  ASSERT_EQ(r.checks.size(), 2u);
  EXPECT_EQ(r.checks[0].decision.verdict, drift_verdict::drift);
  EXPECT_EQ(r.checks[1].decision.verdict, drift_verdict::remeasured);
}

TEST(MeasureBatchCarry, TheCalibratedThresholdIsCarriedWithTheBaseline) {
  const std::vector<double> readings{1.00, 1.08, 0.95, 1.03, 0.92, 1.00};
  auto calls = std::make_shared<std::size_t>(0);
  const auto reference = scripted_reference(readings, calls);
  batch_carry carry;
  const auto arch = [](std::size_t) { return workload([] { return 2.0; }); };
  const auto first = measure_batch(5, arch, reference, one_reading_checks(), {}, &carry);
  ASSERT_TRUE(carry.noise.has_value());
  EXPECT_NEAR(carry.noise->threshold(), 3 * 1.4826 * 0.05, 1e-9);
  *calls = 0;  // the second call must not calibrate again: its first run is the check's reading
  const auto second = measure_batch(5, arch, reference, one_reading_checks(), {}, &carry);
  EXPECT_EQ(second.calibration.readings, 0);
  ASSERT_EQ(second.checks.size(), 1u);
  EXPECT_NEAR(second.checks[0].threshold, 3 * 1.4826 * 0.05, 1e-9);
  EXPECT_EQ(*calls, 1u);
}

/// A reference whose run k (drift_reps 1, no warm-up) returns reading(k).
workload reference_from(std::function<double(std::size_t)> reading) {
  return [reading = std::move(reading), k = std::size_t{0}]() mutable { return reading(k++); };
}

std::size_t remeasures_of(const batch_result& r) {
  std::size_t n = 0;
  for (const auto& m : r.results) n += static_cast<std::size_t>(m.remeasure_count);
  return n;
}

TEST(MeasureBatchLearning, ANoisyCalibrationFollowedByAQuietRunSeesADriftItWouldHaveMissed) {
  // Calibrated at 22% (as above), then 20 quiet checks within 0.2%, then a lasting +10% step.
  const std::vector<double> calibration{1.00, 1.08, 0.95, 1.03, 0.92};
  const auto reading = [&](std::size_t k) {
    if (k < calibration.size()) return calibration[k];
    if (k < calibration.size() + 20) return k % 2 ? 1.002 : 0.999;
    return 1.10;
  };
  const auto arch = [](std::size_t) { return workload([] { return 2.0; }); };
  measure_policy p = one_reading_checks();
  p.drift_noise_window = 10;
  const auto learning = measure_batch(105, arch, reference_from(reading), p);
  ASSERT_GE(learning.checks.size(), 21u);
  EXPECT_NEAR(learning.checks[0].threshold, 3 * 1.4826 * 0.05, 1e-9);
  for (std::size_t c = 1; c < 20; ++c) {  // it falls, but by at most a fifth per reading
    EXPECT_GE(learning.checks[c].threshold, 0.8 * learning.checks[c - 1].threshold - 1e-12) << "check " << c;
  }
  EXPECT_DOUBLE_EQ(learning.checks[19].threshold, 0.03);  // down to the floor
  EXPECT_EQ(learning.checks[20].decision.verdict, drift_verdict::drift);

  p.drift_noise_window = 0;  // the calibration's threshold alone: the step passes as noise
  const auto fixed = measure_batch(105, arch, reference_from(reading), p);
  ASSERT_GE(fixed.checks.size(), 21u);
  EXPECT_EQ(fixed.checks[20].decision.verdict, drift_verdict::ok);
  EXPECT_NEAR(fixed.checks[20].threshold, 3 * 1.4826 * 0.05, 1e-9);
}

TEST(MeasureBatchLearning, AQuietCalibrationFollowedByNoiseRaisesTheThresholdAndStopsRemeasuring) {
  // Calibrated within 0.1% (threshold: the 3% floor), then readings scattered by +-6%, each level
  // lasting two readings (so that a drifted reading's confirmation agrees with it).
  const std::vector<double> noisy{1.06, 0.95, 1.04, 0.94, 1.05, 0.96, 1.02, 0.97};
  const auto reading = [&](std::size_t k) {
    return k < 5 ? 1.0 + 0.001 * static_cast<double>(k % 2) : noisy[(k / 2) % noisy.size()];
  };
  const auto arch = [](std::size_t) { return workload([] { return 2.0; }); };
  measure_policy p = one_reading_checks();
  p.drift_noise_window = 10;
  const auto learning = measure_batch(150, arch, reference_from(reading), p);
  EXPECT_DOUBLE_EQ(learning.calibration.threshold, 0.03);
  EXPECT_GT(learning.checks.back().threshold, 0.12);  // four times the floor
  // Once it has learnt (a majority of noisy samples), the windows pass.
  std::size_t late_drifts = 0;
  for (std::size_t c = learning.checks.size() - 20; c < learning.checks.size(); ++c) {
    late_drifts += learning.checks[c].decision.verdict != drift_verdict::ok;
  }
  EXPECT_EQ(late_drifts, 0u);

  p.drift_noise_window = 0;
  const auto fixed = measure_batch(150, arch, reference_from(reading), p);
  EXPECT_GT(remeasures_of(fixed), 3 * remeasures_of(learning));
}

/// Archs and reference both run at the machine's speed `factor`; normalised mode times a reference
/// bracket beside each arch.
TEST(MeasureBatchCommonMode, ADriftThatArchsAndReferenceShareIsFollowedNotRemeasured) {
  double factor = 1.0;
  std::size_t built = 0;
  const auto arch = [&](std::size_t) {
    if (++built == 11) factor = 1.12;  // the machine slows down during the third window, for good
    return workload([&] { return 2.0 * factor; });
  };
  measure_policy p = one_reading_checks();
  p.mode = measure_mode::normalised;
  p.bracket_reps = 1;
  const auto followed = measure_batch(20, arch, workload([&] { return factor; }), p);
  ASSERT_EQ(followed.checks.size(), 4u);
  EXPECT_EQ(followed.checks[2].decision.verdict, drift_verdict::common_mode);
  EXPECT_EQ(followed.checks[3].decision.verdict, drift_verdict::ok);  // judged against the new level
  EXPECT_DOUBLE_EQ(followed.checks[3].baseline_ms, 1.12);
  EXPECT_EQ(remeasures_of(followed), 0u);

  factor = 1.0;
  built = 0;
  p.drift_follow_common = false;
  const auto remeasured = measure_batch(20, arch, workload([&] { return factor; }), p);
  EXPECT_EQ(remeasured.checks[2].decision.verdict, drift_verdict::drift);
  EXPECT_GT(remeasures_of(remeasured), 0u);
}

/// A reading beyond the threshold that the next reading does not confirm is a moment after the
/// window, not the window's level: recorded as transient, nothing re-measured, and the second
/// reading is the check's. A lasting move is confirmed and re-measured as before.
TEST(MeasureBatchConfirmation, AnUnconfirmedDriftedReadingIsTransientAndCostsNoRemeasurement) {
  std::size_t built = 0;
  bool blip = false;
  const auto arch = [&](std::size_t) {
    if (++built == 10) blip = true;  // the reference's next run, the check after archs 5..9, reads +30%
    return workload([] { return 2.0; });
  };
  const auto reference = workload([&] {
    const double ms = blip ? 1.3 : 1.0;
    blip = false;
    return ms;
  });
  measure_policy p = one_reading_checks();
  p.drift_noise_factor = 0;
  const auto r = measure_batch(15, arch, reference, p);
  std::vector<drift_verdict> verdicts;
  for (const auto& c : r.checks) verdicts.push_back(c.decision.verdict);
  EXPECT_EQ(verdicts, (std::vector<drift_verdict>{drift_verdict::ok, drift_verdict::transient, drift_verdict::ok,
                                                  drift_verdict::ok}));
  EXPECT_DOUBLE_EQ(r.checks[1].reference_ms, 1.3);
  EXPECT_NEAR(r.checks[1].decision.relative_change, 0.3, 1e-12);
  EXPECT_TRUE(r.checks[1].decision.archs.empty());
  EXPECT_EQ(r.checks[2].decision.archs, range(5, 10));  // judged on the second reading
  EXPECT_EQ(built, 15u);
  EXPECT_EQ(remeasures_of(r), 0u);

  // The same move, lasting: both readings drift, the window is re-measured.
  built = 0;
  double level = 1.0;
  const auto slow_arch = [&](std::size_t) {
    if (++built == 10) level = 1.3;
    return workload([] { return 2.0; });
  };
  const auto lasting = measure_batch(15, slow_arch, workload([&] { return level; }), p);
  EXPECT_EQ(lasting.checks[1].decision.verdict, drift_verdict::drift);
  EXPECT_GT(remeasures_of(lasting), 0u);
}

TEST(MeasureBatch, ValidatesThePolicy) {
  fake_machine machine;
  measure_policy p = fakes::fast_policy();
  p.trim_fraction = 0.7;
  EXPECT_THROW((void)measure_batch(1, [&](std::size_t i) { return machine.make(i); }, machine.reference(), p),
               usage_error);
}

}  // namespace
}  // namespace esm::measure
