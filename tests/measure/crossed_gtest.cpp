// The crossed design: group assignment, the least-squares solve and the measurement against fake
// workloads whose every build carries its group's level error.
#include "esm/measure/crossed.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <vector>

#include "esm/common/error.hpp"
#include "esm/measure/batch.hpp"
#include "measure/fake_workloads.hpp"

namespace esm::measure {
namespace {

/// Deterministic normal-ish draws (sum of 12 LCG uniforms minus 6), so the test does not depend
/// on a standard library's distributions.
struct draws {
  std::uint64_t state;
  double uniform() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  }
  double normal() {
    double s = -6;
    for (int k = 0; k < 12; ++k) s += uniform();
    return s;
  }
};

/// Whether every group of the design is linked to every other through shared archs.
bool connected(const crossed_design& d) {
  std::vector<int> root(static_cast<std::size_t>(2 * d.groups));
  for (std::size_t g = 0; g < root.size(); ++g) root[g] = static_cast<int>(g);
  const auto find = [&](int g) {
    while (root[static_cast<std::size_t>(g)] != g) g = root[static_cast<std::size_t>(g)];
    return g;
  };
  for (std::size_t i = 0; i < d.first.size(); ++i) root[static_cast<std::size_t>(find(d.first[i]))] = find(d.second[i]);
  for (int g = 1; g < 2 * d.groups; ++g) {
    if (find(g) != find(0)) return false;
  }
  return true;
}

TEST(CrossGroups, NearEqualBlocksThenStridesLinkingEveryGroup) {
  const auto d = cross_groups(25, 8);
  ASSERT_EQ(d.groups, 4);
  std::vector<int> sizes(8, 0);
  std::vector<std::vector<int>> spread(4, std::vector<int>(4, 0));  // [block][second-pass group]
  for (std::size_t i = 0; i < 25; ++i) {
    ++sizes[static_cast<std::size_t>(d.first[i])];
    ++sizes[static_cast<std::size_t>(d.second[i])];
    EXPECT_EQ(d.second[i], 4 + static_cast<int>(i % 4));
    if (i > 0) {
      EXPECT_GE(d.first[i], d.first[i - 1]);  // consecutive blocks
    }
    ++spread[static_cast<std::size_t>(d.first[i])][static_cast<std::size_t>(d.second[i] - 4)];
  }
  for (int s : sizes) {
    EXPECT_GE(s, 6);
    EXPECT_LE(s, 7);
  }
  // A block of 6-7 spreads over the 4 second-pass groups as evenly as it can.
  for (const auto& row : spread) {
    for (int c : row) {
      EXPECT_GE(c, 1);
      EXPECT_LE(c, 2);
    }
  }
  EXPECT_TRUE(connected(d));
  // A full window (group^2 archs): no two archs share both their groups.
  const auto full = cross_groups(64, 8);
  EXPECT_TRUE(connected(full));
  for (std::size_t i = 0; i < 64; ++i) {
    for (std::size_t j = i + 1; j < 64; ++j) {
      EXPECT_FALSE(full.first[i] == full.first[j] && full.second[i] == full.second[j]) << i << " " << j;
    }
  }
  EXPECT_EQ(cross_groups(8, 8).groups, 1);
  EXPECT_EQ(cross_groups(9, 8).groups, 2);
  EXPECT_TRUE(connected(cross_groups(9, 8)));
  EXPECT_THROW((void)cross_groups(0, 8), esm::error);
  EXPECT_THROW((void)cross_groups(5, 0), esm::error);
}

TEST(SolveCrossed, RecoversArchsUpToOneShiftAndKeepsTheLevel) {
  const auto d = cross_groups(30, 6);  // 5 groups per pass
  std::vector<double> truth(30), effect(10), y1(30), y2(30);
  draws r{7};
  for (double& e : effect) e = 0.03 * r.normal();
  double mean_y = 0;
  for (std::size_t i = 0; i < 30; ++i) {
    truth[i] = std::log(1.0 + 0.1 * static_cast<double>(i));
    y1[i] = truth[i] + effect[static_cast<std::size_t>(d.first[i])];
    y2[i] = truth[i] + effect[static_cast<std::size_t>(d.second[i])];
    mean_y += (y1[i] + y2[i]) / 60;
  }
  const auto a = solve_crossed(y1, y2, d);
  double mean_a = 0;
  for (double v : a) mean_a += v / 30;
  EXPECT_NEAR(mean_a, mean_y, 1e-12);
  for (std::size_t i = 1; i < 30; ++i) EXPECT_NEAR(a[i] - a[0], truth[i] - truth[0], 1e-9) << i;
  EXPECT_THROW((void)solve_crossed({1.0}, y2, d), esm::error);
}

TEST(SolveCrossed, BeatsThePlainMeanWhenGroupEffectsDominate) {
  // Group effects of 2% and per-observation noise of 1%, the sizes seen on the quiet 440-arch runs.
  const auto d = cross_groups(64, 8);
  double solved_error = 0, mean_error = 0;
  for (std::uint64_t trial = 0; trial < 20; ++trial) {
    draws r{100 + trial};
    std::vector<double> effect(16), y1(64), y2(64);
    for (double& e : effect) e = 0.02 * r.normal();
    for (std::size_t i = 0; i < 64; ++i) {
      y1[i] = effect[static_cast<std::size_t>(d.first[i])] + 0.01 * r.normal();
      y2[i] = effect[static_cast<std::size_t>(d.second[i])] + 0.01 * r.normal();
    }
    const auto a = solve_crossed(y1, y2, d);
    double ma = 0, mm = 0;
    for (std::size_t i = 0; i < 64; ++i) {
      ma += a[i] / 64;
      mm += 0.5 * (y1[i] + y2[i]) / 64;
    }
    for (std::size_t i = 0; i < 64; ++i) {  // the truth is 0 for every arch: spread around the level
      solved_error += std::abs(a[i] - ma);
      mean_error += std::abs(0.5 * (y1[i] + y2[i]) - mm);
    }
  }
  EXPECT_LT(solved_error, 0.75 * mean_error);
}

/// Every build takes the level error of the block of `group` builds it falls in (measure_crossed
/// builds a group's archs one after another, right before timing them); arch i takes base(i) ms
/// times that, the reference 1 ms.
struct grouped_machine {
  std::size_t group = 4;
  std::size_t builds = 0;
  std::vector<double> effects{1.00, 1.05, 0.96, 1.02, 0.97, 1.04, 0.99, 1.03};
  static double base(std::size_t i) { return 2.0 + 0.25 * static_cast<double>(i); }
  workload make(std::size_t i) {
    const double e = effects[(builds++ / group) % effects.size()];
    return [i, e] { return base(i) * e; };
  }
};

TEST(MeasureCrossed, RemovesEveryGroupsLevelError) {
  measure_policy p = fakes::fast_policy();
  p.reps = 6;
  p.burst_reps = 2;
  p.bracket_reps = 2;
  p.interleave_group = 4;
  grouped_machine machine;
  const auto ms = measure_crossed(16, [&](std::size_t i) { return machine.make(i); }, [] { return 1.0; }, p);
  EXPECT_EQ(machine.builds, 32u);  // each arch built once per pass
  ASSERT_EQ(ms.size(), 16u);
  const double scale = ms[0].normalised / grouped_machine::base(0);
  for (std::size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(ms[i].samples_ms.size(), 6u);
    EXPECT_DOUBLE_EQ(ms[i].reference_ms, 1.0);
    EXPECT_NEAR(ms[i].normalised / grouped_machine::base(i), scale, 1e-9) << i;
  }
  EXPECT_NEAR(scale, 1.0, 0.02);  // the level: the effects' mean

  // Interleaved mode on the same machine keeps each group's error.
  p.mode = measure_mode::interleaved;
  grouped_machine again;
  const auto one = measure_batch(16, [&](std::size_t i) { return again.make(i); }, [] { return 1.0; }, p);
  EXPECT_NEAR(one.results[4].normalised / grouped_machine::base(4), 1.05, 1e-9);
}

TEST(MeasureCrossed, AWindowOfOneGroupIsPlainInterleaving) {
  measure_policy p = fakes::fast_policy();
  p.reps = 5;
  p.interleave_group = 8;
  grouped_machine machine;
  const auto ms = measure_crossed(3, [&](std::size_t i) { return machine.make(i); }, [] { return 1.0; }, p);
  EXPECT_EQ(machine.builds, 3u);
  for (const auto& m : ms) EXPECT_EQ(m.samples_ms.size(), 5u);
}

TEST(MeasureBatch, CrossedModeMeasuresWindowsAndStartsEachMeasurementOnce) {
  measure_policy p = fakes::fast_policy();
  p.mode = measure_mode::crossed;
  p.reps = 4;
  p.interleave_group = 3;  // windows of 9: {0..8}, {9..17}, {18, 19}
  p.drift_every = 0;
  grouped_machine machine;
  machine.group = 3;
  std::vector<int> starts(20, 0);
  std::vector<int> builds(20, 0);
  const auto r = measure_batch(
      20,
      [&](std::size_t i) {
        ++builds[i];
        return machine.make(i);
      },
      [] { return 1.0; }, p, {}, nullptr, [&](std::size_t i) { ++starts[i]; });
  for (std::size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(starts[i], 1) << i;
    EXPECT_EQ(builds[i], i < 18 ? 2 : 1) << i;
    EXPECT_EQ(r.results[i].samples_ms.size(), 4u);
  }
  // Within a crossed window the labels follow the archs, whatever group each build landed in.
  for (std::size_t i = 1; i < 9; ++i) {
    EXPECT_NEAR(r.results[i].normalised / grouped_machine::base(i), r.results[0].normalised / grouped_machine::base(0),
                1e-9);
  }
}

}  // namespace
}  // namespace esm::measure
