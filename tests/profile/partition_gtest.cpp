// LPT partitioning, the dynamic mode's order and the random draw of measuring groups, with
// made-up costs.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "esm/common/error.hpp"
#include "esm/profile/partition.hpp"

namespace esm::profile {
namespace {

double load(const std::vector<std::size_t>& part, const std::vector<double>& costs) {
  double sum = 0;
  for (const auto j : part) sum += costs[j];
  return sum;
}

TEST(Lpt, TextbookExample) {
  // Costs 7,6,5,4,3,2 on 3 machines: LPT gives {7,2} {6,3} {5,4}, all loads 9 (optimal here).
  const std::vector<double> costs{3, 7, 5, 2, 6, 4};
  const auto parts = lpt_partition(costs, 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], (std::vector<std::size_t>{1, 3}));  // 7, then 2
  EXPECT_EQ(parts[1], (std::vector<std::size_t>{4, 0}));  // 6, then 3
  EXPECT_EQ(parts[2], (std::vector<std::size_t>{2, 5}));  // 5, then 4
  for (const auto& p : parts) EXPECT_DOUBLE_EQ(load(p, costs), 9.0);
}

/// Every job of `costs` in exactly one part of `out`, and the makespan within list scheduling's
/// bound (LPT is a list schedule): at most total / m + the largest job, at least the larger of them.
void expect_every_job_once_within_the_bound(const std::vector<std::vector<std::size_t>>& out,
                                            const std::vector<double>& costs) {
  std::vector<std::size_t> all;
  double worst = 0;
  for (const auto& p : out) {
    all.insert(all.end(), p.begin(), p.end());
    worst = std::max(worst, load(p, costs));
  }
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> expected(costs.size());
  std::iota(expected.begin(), expected.end(), std::size_t{0});
  EXPECT_EQ(all, expected);
  const auto parts = static_cast<double>(out.size());
  const double total = std::accumulate(costs.begin(), costs.end(), 0.0);
  const double largest = *std::max_element(costs.begin(), costs.end());
  EXPECT_LE(worst, total / parts + largest);
  EXPECT_GE(worst, std::max(total / parts, largest));
}

TEST(Lpt, EveryJobExactlyOnceAndWithinTheBound) {
  std::vector<double> costs;
  for (int i = 0; i < 101; ++i) costs.push_back(static_cast<double>((i * 37) % 23 + 1));
  for (int parts = 1; parts <= 7; ++parts) expect_every_job_once_within_the_bound(lpt_partition(costs, parts), costs);
}

TEST(Lpt, TiesAreDeterministic) {
  const std::vector<double> costs{1, 1, 1, 1};
  const auto parts = lpt_partition(costs, 2);
  EXPECT_EQ(parts[0], (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(parts[1], (std::vector<std::size_t>{1, 3}));
}

TEST(Lpt, MorePartsThanJobsLeavesSomeEmpty) {
  const std::vector<double> costs{5, 1};
  const auto parts = lpt_partition(costs, 4);
  EXPECT_EQ(parts[0], (std::vector<std::size_t>{0}));
  EXPECT_EQ(parts[1], (std::vector<std::size_t>{1}));
  EXPECT_TRUE(parts[2].empty());
  EXPECT_TRUE(parts[3].empty());
}

TEST(Lpt, RejectsBadInput) {
  const std::vector<double> costs{1, -1};
  EXPECT_THROW((void)lpt_partition(costs, 2), error);
  EXPECT_THROW((void)lpt_partition(std::vector<double>{1.0}, 0), error);
}

TEST(Dynamic, OrderIsByDecreasingCostStable) {
  const std::vector<double> costs{2, 9, 2, 5};
  EXPECT_EQ(by_decreasing_cost(costs), (std::vector<std::size_t>{1, 3, 0, 2}));
}

std::vector<std::size_t> flattened(const std::vector<std::vector<std::size_t>>& groups) {
  std::vector<std::size_t> all;
  for (const auto& g : groups) all.insert(all.end(), g.begin(), g.end());
  return all;
}

TEST(MeasuringGroups, EveryRowExactlyOnceInGroupsOfTheGivenSize) {
  const auto groups = draw_groups(103, 8, 7);
  ASSERT_EQ(groups.size(), 13u);  // 12 of 8, the last of 7
  for (std::size_t g = 0; g + 1 < groups.size(); ++g) EXPECT_EQ(groups[g].size(), 8u);
  EXPECT_EQ(groups.back().size(), 7u);
  auto all = flattened(groups);
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> expected(103);
  std::iota(expected.begin(), expected.end(), std::size_t{0});
  EXPECT_EQ(all, expected);
}

TEST(MeasuringGroups, AreAFunctionOfTheSeedAlone) {
  EXPECT_EQ(draw_groups(200, 25, 3), draw_groups(200, 25, 3));
  EXPECT_NE(draw_groups(200, 25, 3), draw_groups(200, 25, 4));
  EXPECT_TRUE(draw_groups(0, 8, 1).empty());
  EXPECT_THROW((void)draw_groups(10, 0, 1), error);
}

TEST(MeasuringGroups, AreNotNeighboursInCostOrder) {
  // Rows 0..399 in decreasing cost, as the plan sorted by MACs would be. Cost-order groups of 25
  // span 24 ranks each; drawn groups span most of the range, and their mean costs barely differ.
  const auto groups = draw_groups(400, 25, 11);
  double widest = 0, lowest_mean = 1e9, highest_mean = 0;
  for (const auto& g : groups) {
    const auto [lo, hi] = std::minmax_element(g.begin(), g.end());
    widest = std::max(widest, static_cast<double>(*hi - *lo));
    const double mean = std::accumulate(g.begin(), g.end(), 0.0) / static_cast<double>(g.size());
    lowest_mean = std::min(lowest_mean, mean);
    highest_mean = std::max(highest_mean, mean);
  }
  EXPECT_GT(widest, 300.0);
  EXPECT_LT(highest_mean - lowest_mean, 200.0);  // cost-order groups: 375 apart
}

TEST(MeasuringGroups, AResumeKeepsThePendingRowsOfEachGroupTogether) {
  const auto groups = draw_groups(40, 8, 5);
  // Every third row done: the pending rest of each group stays one group, in its order.
  const auto pending = kept_groups(groups, [](std::size_t row) { return row % 3 != 0; });
  ASSERT_EQ(pending.size(), groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::vector<std::size_t> expected;
    for (const auto row : groups[g]) {
      if (row % 3 != 0) expected.push_back(row);
    }
    EXPECT_EQ(pending[g], expected);
  }
  // A group with nothing left is dropped.
  const auto one_left = kept_groups(groups, [&](std::size_t row) { return row == groups[2][0]; });
  EXPECT_EQ(one_left, (std::vector<std::vector<std::size_t>>{{groups[2][0]}}));
}

TEST(MeasuringGroups, LptOverWholeGroupsStaysWithinTheListSchedulingBound) {
  // MACs-like costs spread over 10x; groups of 25 on 2..8 ranks.
  std::vector<double> costs;
  for (int i = 0; i < 440; ++i) costs.push_back(100.0 + static_cast<double>((i * 7919) % 900));
  const auto groups = draw_groups(costs.size(), 25, 2);
  const auto per_group = group_costs(groups, costs);
  EXPECT_DOUBLE_EQ(std::accumulate(per_group.begin(), per_group.end(), 0.0),
                   std::accumulate(costs.begin(), costs.end(), 0.0));
  // Whole groups are the jobs: at most one group's cost above the mean load.
  for (int parts = 2; parts <= 8; parts *= 2) {
    expect_every_job_once_within_the_bound(lpt_partition(per_group, parts), per_group);
  }
}

TEST(PartitionMode, Parses) {
  EXPECT_EQ(parse_partition_mode("lpt"), partition_mode::lpt);
  EXPECT_EQ(parse_partition_mode("dynamic"), partition_mode::dynamic);
  EXPECT_THROW((void)parse_partition_mode("static"), usage_error);
}

}  // namespace
}  // namespace esm::profile
