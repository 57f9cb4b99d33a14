// The closed loop's decisions, with made-up per-bin accuracies.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace esm::loop
