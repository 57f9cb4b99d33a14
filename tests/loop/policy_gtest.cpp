// The closed loop's decisions, with made-up per-bin accuracies.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "esm/common/error.hpp"
#include "esm/loop/policy.hpp"

namespace esm::loop {
namespace {

const std::vector<int> bins{10, 11, 12};

TEST(LoopPolicy, StopsWhenEveryBinMeetsTheThreshold) {
  settings s;
  const auto d = decide(bins, {{10, 20, 0.96}, {11, 20, 1.0}, {12, 20, 0.95}}, 60, 0, s);
  EXPECT_TRUE(d.stop);
  EXPECT_NE(d.reason.find("all 3 bins"), std::string::npos) << d.reason;
}

TEST(LoopPolicy, WeightsTheBinsBelowByTheirDeficit) {
  settings s;  // threshold 0.95, batch 55
  const auto d = decide(bins, {{10, 20, 0.96}, {11, 20, 0.75}, {12, 20, 0.90}}, 60, 0, s);
  EXPECT_FALSE(d.stop);
  EXPECT_EQ(d.next_count, 55u);
  ASSERT_EQ(d.weights.size(), 2u);
  // deficits 0.20 and 0.05, each + 0.02 floor
  EXPECT_NEAR(d.weights.at(11), 0.22, 1e-12);
  EXPECT_NEAR(d.weights.at(12), 0.07, 1e-12);
}

TEST(LoopPolicy, MissingOrSmallBinsNeverCountAsMet) {
  settings s;
  const auto d = decide(bins, {{10, 3, 1.0}, {11, 20, 1.0}}, 23, 0, s);
  EXPECT_FALSE(d.stop);
  EXPECT_EQ(d.weights.size(), 2u) << "bin 10 has 3 < 5 rows, bin 12 has none";
  EXPECT_NEAR(d.weights.at(12), 0.97, 1e-12);
}

TEST(LoopPolicy, BudgetAndIterationCapStop) {
  settings s;
  s.budget = 100;
  s.batch = 30;
  EXPECT_EQ(decide(bins, {{10, 20, 0.5}}, 80, 0, s).next_count, 20u) << "the last batch fills the budget";
  EXPECT_TRUE(decide(bins, {{10, 20, 0.5}}, 100, 0, s).stop);
  EXPECT_TRUE(decide(bins, {{10, 20, 0.5}}, 50, s.max_iterations - 1, s).stop);
}

TEST(LoopPolicy, RandomAndUncertaintyDoNotWeightBins) {
  settings s;
  s.how = strategy::random;
  EXPECT_TRUE(decide(bins, {{10, 20, 0.5}}, 20, 0, s).weights.empty());
}

TEST(LoopPolicy, MostUncertainPicksTheLargestSpreads) {
  EXPECT_EQ(most_uncertain({0.1, 0.5, 0.3, 0.5, 0.0}, 3), (std::vector<std::size_t>{1, 3, 2}));
  EXPECT_EQ(most_uncertain({0.1}, 5).size(), 1u);
}

TEST(LoopPolicy, SettingsAreValidated) {
  settings s;
  s.threshold = 1.5;
  EXPECT_THROW(s.validate(), usage_error);
  s = {};
  s.budget = 10;
  EXPECT_THROW(s.validate(), usage_error);
  EXPECT_THROW((void)parse_strategy("greedy"), usage_error);
}

TEST(LoopPolicy, SizesScheduleEachBatch) {
  settings s;
  s.initial = 10;
  s.sizes = {20, 50, 100};
  s.budget = 1000;
  EXPECT_EQ(decide(bins, {{10, 20, 0.5}}, 10, 0, s).next_count, 10u);
  EXPECT_EQ(decide(bins, {{10, 20, 0.5}}, 20, 1, s).next_count, 30u);
  EXPECT_EQ(decide(bins, {{10, 20, 0.5}}, 57, 2, s).next_count, 43u) << "to the next size above the dataset's";
  const auto last = decide(bins, {{10, 20, 0.5}}, 100, 3, s);
  EXPECT_TRUE(last.stop);
  EXPECT_NE(last.reason.find("loop.sizes"), std::string::npos) << last.reason;
  s.sizes = {20, 20};
  EXPECT_THROW(s.validate(), usage_error);
  s.sizes = {10};
  EXPECT_THROW(s.validate(), usage_error) << "the first size must exceed loop.initial";
}

// Candidates: 6 in bin 10, 2 in bin 11, 0 in bin 12, 4 in bin 13.
const std::vector<int> pool_bins{10, 10, 13, 10, 11, 10, 13, 10, 13, 10, 11, 13};

std::map<int, std::size_t> per_bin(const std::vector<std::size_t>& picked) {
  std::map<int, std::size_t> n;
  for (const auto i : picked) ++n[pool_bins[i]];
  return n;
}

TEST(LoopPolicy, PoolDrawsAreDistinctAndRepeatable) {
  const auto a = draw_from_pool(pool_bins, 7, {}, 42);
  EXPECT_EQ(a.size(), 7u);
  EXPECT_EQ(std::set<std::size_t>(a.begin(), a.end()).size(), 7u);
  EXPECT_EQ(a, draw_from_pool(pool_bins, 7, {}, 42));
  EXPECT_NE(a, draw_from_pool(pool_bins, 7, {}, 43));
  EXPECT_EQ(draw_from_pool(pool_bins, 50, {}, 1).size(), pool_bins.size()) << "never more than the pool holds";
}

TEST(LoopPolicy, PoolDrawsBalanceBinsAndPassOnWhatAnEmptyBinCannotGive) {
  // Equal weights over four bins, 6 archs: bin 12 is empty, bin 11 holds 2; the rest goes to 10 and 13.
  const auto n = per_bin(draw_from_pool(pool_bins, 6, {{10, 1}, {11, 1}, {12, 1}, {13, 1}}, 7));
  EXPECT_EQ(n.at(11), 2u);
  EXPECT_EQ(n.at(10), 2u);
  EXPECT_EQ(n.at(13), 2u);
  EXPECT_FALSE(n.contains(12));
}

TEST(LoopPolicy, PoolDrawsFollowTheWeightsThenFallBackToUniform) {
  // Only bin 11 weighted: both of its archs first, then uniform over the rest.
  const auto picked = draw_from_pool(pool_bins, 5, {{11, 0.3}}, 3);
  ASSERT_EQ(picked.size(), 5u);
  EXPECT_EQ(pool_bins[picked[0]], 11);
  EXPECT_EQ(pool_bins[picked[1]], 11);
  const auto n = per_bin(draw_from_pool(pool_bins, 4, {{10, 3}, {13, 1}}, 5));
  EXPECT_EQ(n.at(10), 3u);
  EXPECT_EQ(n.at(13), 1u);
}

}  // namespace
}  // namespace esm::loop
