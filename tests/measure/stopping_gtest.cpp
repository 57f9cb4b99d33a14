// Stopping criteria on made-up samples.
#include "esm/measure/stopping.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "esm/measure/runner.hpp"
#include "measure/fake_workloads.hpp"

namespace esm::measure {
namespace {

TEST(FixedReps, StopsAtExactlyR) {
  const fixed_reps stop(3);
  EXPECT_FALSE(stop.done(std::vector<double>{}));
  EXPECT_FALSE(stop.done(std::vector<double>{1, 1}));
  EXPECT_TRUE(stop.done(std::vector<double>{1, 1, 1}));
  fakes::scripted w{{2.0}};
  EXPECT_EQ(time_reps(w.as_workload(), stop).size(), 3u);
}

TEST(Adaptive, StopsEarlyOnQuietData) {
  // 10.00 / 10.01 alternating: relative noise ~0.05% < 0.5%, so min_reps is enough.
  const adaptive stop(0.005, 20, 1000, 1e9, 0.2);
  fakes::scripted w{{10.0, 10.01}};
  EXPECT_EQ(time_reps(w.as_workload(), stop).size(), 20u);
}

TEST(Adaptive, RunsToMaxRepsOnNoisyData) {
  // Uniform in [5, 15): relative noise ~0.2, far above 0.5%.
  const adaptive stop(0.005, 20, 200, 1e9, 0.2);
  EXPECT_EQ(time_reps(fakes::noisy(5.0, 15.0), stop).size(), 200u);
}

TEST(Adaptive, TimeoutCountsMeasuredTimeAndOverridesMinReps) {
  // 1000 ms budget: 6 samples adding up to 1000 ms stop although min_reps is 20.
  const adaptive stop(0.005, 20, 1000, 1000.0, 0.2);
  std::vector<double> s{100, 100, 300, 100, 100, 300};  // 1000 ms
  EXPECT_TRUE(stop.done(s));
  s.pop_back();  // 700 ms
  EXPECT_FALSE(stop.done(s));
}

TEST(Adaptive, NoiseThresholdOnHandMadeSamples) {
  // 20 samples, trim 0.2 drops 4 each side; the kept 12 are six 10s and six 11s:
  // mean 10.5, sample std sqrt(12 * 0.25 / 11) = 0.52223 -> noise 0.04974.
  std::vector<double> s;
  for (int i = 0; i < 4; ++i) s.push_back(1.0);
  for (int i = 0; i < 6; ++i) s.push_back(10.0);
  for (int i = 0; i < 6; ++i) s.push_back(11.0);
  for (int i = 0; i < 4; ++i) s.push_back(50.0);
  EXPECT_TRUE(adaptive(0.05, 20, 1000, 1e9, 0.2).done(s));
  EXPECT_FALSE(adaptive(0.049, 20, 1000, 1e9, 0.2).done(s));
}

TEST(MakeCriterion, FollowsThePolicy) {
  measure_policy p;
  p.reps = 4;
  EXPECT_TRUE(make_criterion(p)->done(std::vector<double>(4, 1.0)));
  p.stop = stop_rule::adaptive;
  EXPECT_FALSE(make_criterion(p)->done(std::vector<double>(4, 1.0)));   // below min_reps 20
  EXPECT_TRUE(make_criterion(p)->done(std::vector<double>(20, 1.0)));   // zero noise
}

}  // namespace
}  // namespace esm::measure
