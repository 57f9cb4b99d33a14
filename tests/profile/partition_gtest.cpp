// LPT partitioning and the dynamic mode's order, with made-up costs.
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

TEST(Lpt, EveryJobExactlyOnceAndWithinTheBound) {
  std::vector<double> costs;
  for (int i = 0; i < 101; ++i) costs.push_back(static_cast<double>((i * 37) % 23 + 1));
  for (int parts = 1; parts <= 7; ++parts) {
    const auto out = lpt_partition(costs, parts);
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
    // List scheduling's bound (LPT is a list schedule): makespan <= total / m + largest job.
    const double total = std::accumulate(costs.begin(), costs.end(), 0.0);
    const double largest = *std::max_element(costs.begin(), costs.end());
    const double lower = std::max(total / parts, largest);
    EXPECT_LE(worst, total / parts + largest);
    EXPECT_GE(worst, lower);
  }
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

TEST(PartitionMode, Parses) {
  EXPECT_EQ(parse_partition_mode("lpt"), partition_mode::lpt);
  EXPECT_EQ(parse_partition_mode("dynamic"), partition_mode::dynamic);
  EXPECT_THROW((void)parse_partition_mode("static"), usage_error);
}

}  // namespace
}  // namespace esm::profile
