// Warm-up, timed repetitions, brackets and interleaving, driven by fake timers.
#include "esm/measure/runner.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "esm/common/error.hpp"
#include "measure/fake_workloads.hpp"

namespace esm::measure {
namespace {

TEST(WarmUp, HonoursTheRunCountWhenRunsAreSlow) {
  // 50 ms runs: 4 runs would pass 200 ms, but at least 10 runs are required.
  fakes::scripted w{{50.0}};
  const auto r = warm_up(w.as_workload(), 10, 200.0);
  EXPECT_EQ(r.runs, 10);
  EXPECT_DOUBLE_EQ(r.ms, 500.0);
  EXPECT_EQ(*w.calls, 10u);
}

TEST(WarmUp, HonoursTheTimeWhenRunsAreFast) {
  // 0.25 ms runs: 10 runs give 2.5 ms; 200 ms needs 800 runs.
  fakes::scripted w{{0.25}};
  const auto r = warm_up(w.as_workload(), 10, 200.0);
  EXPECT_EQ(r.runs, 800);
  EXPECT_DOUBLE_EQ(r.ms, 200.0);
}

TEST(WarmUp, ZeroBoundsMeanNoRuns) {
  fakes::scripted w{{1.0}};
  EXPECT_EQ(warm_up(w.as_workload(), 0, 0.0).runs, 0);
}

TEST(MeasurePlain, WarmUpRunsAreNotSamples) {
  // Call k reports k + 1 ms: warm-up takes calls 0..9 (1..10 ms, 55 ms < 60 ms -> one more,
  // call 10 = 11 ms, total 66 ms), then 5 timed repetitions report 12..16 ms.
  std::vector<double> script;
  for (int k = 0; k < 16; ++k) script.push_back(k + 1.0);
  fakes::scripted w{script};
  measure_policy p;
  p.warmup_runs = 10;
  p.warmup_ms = 60.0;
  p.reps = 5;
  const measurement m = measure_plain(w.as_workload(), p);
  EXPECT_EQ(m.warmup_runs, 11);
  EXPECT_DOUBLE_EQ(m.warmup_ms, 66.0);
  EXPECT_EQ(m.samples_ms, (std::vector<double>{12, 13, 14, 15, 16}));
  EXPECT_EQ(m.stats.n, 5u);
  EXPECT_DOUBLE_EQ(m.stats.trimmed_mean_ms, 14.0);  // 5 * 0.2 = 1: keep 13 14 15
  EXPECT_TRUE(std::isnan(m.reference_ms));
  EXPECT_TRUE(std::isnan(m.normalised));
  EXPECT_EQ(m.remeasure_count, 0);
  EXPECT_LE(m.start_unix_ns, m.end_unix_ns);
  EXPECT_GT(m.start_unix_ns, 0);
}

TEST(MeasurePlain, AnInvalidTimeIsAnError) {
  measure_policy p;
  p.warmup_runs = 0;
  p.warmup_ms = 0;
  fakes::scripted negative{{1.0, -1.0}};
  EXPECT_THROW((void)measure_plain(negative.as_workload(), p), esm::error);
  fakes::scripted nan{{std::nan("")}};
  EXPECT_THROW((void)measure_plain(nan.as_workload(), p), esm::error);
}

TEST(Normalisation, DividesByTheMeanOfTheBrackets) {
  EXPECT_DOUBLE_EQ(normalised_latency(6.0, 2.0, 4.0), 2.0);  // 6 / ((2 + 4) / 2)
  EXPECT_DOUBLE_EQ(normalised_latency(1.5, 3.0, 3.0), 0.5);
}

TEST(MeasureBracketed, ReferenceBeforeAndAfterTheArch) {
  // The machine slows down while the arch runs: the reference reads 2 ms before, 3 ms after.
  auto level = std::make_shared<double>(2.0);
  auto reference_calls = std::make_shared<int>(0);
  const workload reference = [level, reference_calls] {
    ++*reference_calls;
    return *level;
  };
  const workload arch = [level] {
    *level = 3.0;
    return 5.0;
  };
  measure_policy p = fakes::fast_policy();
  p.mode = measure_mode::normalised;
  p.switch_warmup_runs = 1;
  const measurement m = measure_bracketed(arch, reference, p);
  EXPECT_EQ(*reference_calls, 22);  // two brackets of 1 untimed + 10 timed
  EXPECT_DOUBLE_EQ(m.reference_before_ms, 2.0);
  EXPECT_DOUBLE_EQ(m.reference_after_ms, 3.0);
  EXPECT_DOUBLE_EQ(m.reference_ms, 2.5);
  EXPECT_DOUBLE_EQ(m.stats.trimmed_mean_ms, 5.0);
  EXPECT_DOUBLE_EQ(m.normalised, 2.0);  // 5 / 2.5
  EXPECT_EQ(m.samples_ms.size(), 5u);
}

TEST(MeasureInterleaved, RunsTheScheduleAndSharesOneReference) {
  // Every run appends its workload's name to `log`, so the order can be checked run by run.
  auto log = std::make_shared<std::string>();
  const auto named = [log](char name, double ms) -> workload {
    return [log, name, ms] {
      log->push_back(name);
      return ms;
    };
  };
  const std::vector<workload> archs{named('a', 4.0), named('b', 6.0)};
  const workload reference = named('R', 2.0);
  measure_policy p = fakes::fast_policy();  // 1 warm-up run, no untimed runs before bursts
  p.mode = measure_mode::interleaved;
  p.reps = 4;
  p.burst_reps = 2;
  p.bracket_reps = 1;
  const auto ms = measure_interleaved(archs, reference, p);
  // warm-up a, warm-up b, then R [a a b b R] x 2
  EXPECT_EQ(*log, "abRaabbRaabbR");
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].samples_ms, (std::vector<double>{4, 4, 4, 4}));
  EXPECT_EQ(ms[1].samples_ms.size(), 4u);
  EXPECT_EQ(ms[0].warmup_runs, 1);
  EXPECT_DOUBLE_EQ(ms[0].reference_ms, 2.0);
  EXPECT_DOUBLE_EQ(ms[0].normalised, 2.0);  // 4 / 2
  EXPECT_DOUBLE_EQ(ms[1].normalised, 3.0);  // 6 / 2

  p.switch_warmup_runs = 1;
  log->clear();
  (void)measure_interleaved(archs, reference, p);
  EXPECT_EQ(*log, "abRRaaabbbRRaaabbbRR");  // one untimed run before every burst
}

TEST(MeasureInterleaved, AveragesSlowDriftOverTheGroup) {
  // The machine slows by 1% per run of anything; interleaving spreads that over both archs and
  // the reference, so equal archs get (nearly) equal labels, unlike back-to-back timing.
  auto factor = std::make_shared<double>(1.0);
  const auto drifting = [factor](double ms) -> workload {
    return [factor, ms] {
      *factor *= 1.01;
      return ms * *factor;
    };
  };
  const std::vector<workload> archs{drifting(3.0), drifting(3.0)};
  measure_policy p = fakes::fast_policy();
  p.mode = measure_mode::interleaved;
  p.reps = 40;
  p.burst_reps = 2;
  p.bracket_reps = 2;
  const auto ms = measure_interleaved(archs, drifting(3.0), p);
  EXPECT_NEAR(ms[0].normalised / ms[1].normalised, 1.0, 0.03);
  EXPECT_NEAR(ms[0].normalised, 1.0, 0.05);
}

TEST(MeasureInterleaved, RejectsAdaptiveStop) {
  measure_policy p;
  p.stop = stop_rule::adaptive;
  const std::vector<workload> archs{[] { return 1.0; }};
  EXPECT_THROW((void)measure_interleaved(archs, [] { return 1.0; }, p), esm::error);
}

TEST(ReferenceCheck, TrimmedMeanOfDriftReps) {
  // 1 untimed run (1000 ms, ignored), then 5 timed: 1 2 3 4 100 -> drop 1 each side -> 3.
  fakes::scripted w{{1000, 1, 2, 3, 4, 100}};
  measure_policy p;
  p.drift_reps = 5;
  p.switch_warmup_runs = 1;
  EXPECT_DOUBLE_EQ(reference_check_ms(w.as_workload(), p), 3.0);
}

}  // namespace
}  // namespace esm::measure
