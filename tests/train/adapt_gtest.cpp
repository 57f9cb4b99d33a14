// esm select's pure parts: the spread of picks over an embedding, and the compact features.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/space/space.hpp"
#include "esm/train/adapt.hpp"
#include "esm/train/intervals.hpp"

namespace esm::train {
namespace {

surrogate::matrix line_of(std::size_t n) {
  surrogate::matrix m(n, 1);
  for (std::size_t i = 0; i < n; ++i) m(i, 0) = static_cast<double>(i);
  return m;
}

TEST(SpreadPicks, TenPicksOfAUniformLineFallOneInEachTenth) {
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    const auto picks = spread_picks(line_of(1000), 10, seed);
    ASSERT_EQ(picks.size(), 10u);
    for (std::size_t d = 0; d < 10; ++d) EXPECT_EQ(picks[d] / 100, d) << "seed " << seed;
  }
}

TEST(SpreadPicks, WithinAStratumTheFarthestOfTheCandidatesIsTaken) {
  // Two columns: a strong first one (the strata) and a weak second one on which a stratum's rows
  // differ; picks then avoid sitting beside each other on the second column more than chance would.
  surrogate::matrix e(400, 2);
  for (std::size_t i = 0; i < 400; ++i) {
    e(i, 0) = 10.0 * static_cast<double>(i / 100);
    e(i, 1) = static_cast<double>(i % 100) / 100.0;
  }
  double spread = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const auto p = spread_picks(e, 4, seed);
    double lo = 1, hi = 0;
    for (auto i : p) lo = std::min(lo, e(i, 1)), hi = std::max(hi, e(i, 1));
    spread += (hi - lo) / 50;
  }
  EXPECT_GT(spread, 0.7);  // the range of 4 uniform draws averages 0.6
}

TEST(SpreadPicks, TheSameSeedGivesTheSamePicksAnotherSeedOthers) {
  rng r(5);
  surrogate::matrix e(400, 3);
  for (auto& v : e.data) v = r.normal();
  const auto a = spread_picks(e, 12, 7);
  EXPECT_EQ(a, spread_picks(e, 12, 7));
  EXPECT_NE(a, spread_picks(e, 12, 8));
  EXPECT_EQ(std::set<std::size_t>(a.begin(), a.end()).size(), 12u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
}

TEST(SpreadPicks, DuplicateRowsStillGiveDistinctPicksAndAShortPoolIsRefused) {
  const surrogate::matrix same(6, 2, std::vector<double>(12, 1.0));
  const auto p = spread_picks(same, 6, 0);
  EXPECT_EQ(std::set<std::size_t>(p.begin(), p.end()).size(), 6u);
  EXPECT_THROW((void)spread_picks(line_of(4), 5, 0), usage_error);
}

TEST(SelectionEmbedding, SourcesWeighTwiceTheCompactFeaturesAndConstantsDrop) {
  surrogate::matrix z(4, 2, {1, 2, 2, 4, 3, 6, 4, 8});
  surrogate::matrix c(4, 2, {5, 0, 5, 1, 5, 0, 5, 1});  // the first column is constant
  const auto e = selection_embedding(z, c);
  ASSERT_EQ(e.cols, 3u);
  double src = 0, compact = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    src += e(i, 0) * e(i, 0) + e(i, 1) * e(i, 1);
    compact += e(i, 2) * e(i, 2);
  }
  EXPECT_NEAR(src / 4, 1.0, 1e-12);  // unit variance per column, shared by the block's 2 columns
  EXPECT_NEAR(compact / 4, 0.25, 1e-12);
}

TEST(CompactFeatures, StageDepthsSumToTheDepthAndMacsGrowWithResolution) {
  const auto& sp = space::find_space("ofa-mbv3");
  const std::string blocks = ":d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3";
  const auto small = sp.parse("ofa-mbv3:w1.2:r128" + blocks);
  const auto big = sp.parse("ofa-mbv3:w1.2:r224" + blocks);
  const auto f = compact_features(sp, {small, big});
  ASSERT_EQ(f.cols, 10u);  // log MACs, log params, layers, resolution, depth, 5 stage depths
  EXPECT_EQ(f(0, 3), 128);
  EXPECT_EQ(f(0, 4), 10);
  double stages = 0;
  for (std::size_t s = 5; s < 10; ++s) stages += f(0, s);
  EXPECT_EQ(stages, 10);
  EXPECT_GT(f(1, 0), f(0, 0));
  EXPECT_EQ(f(1, 1), f(0, 1));  // params do not depend on resolution
}

TEST(StudentT, QuantilesMatchTheTables) {
  EXPECT_NEAR(student_t_quantile(0.95, 4), 2.131847, 1e-5);
  EXPECT_NEAR(student_t_quantile(0.95, 9), 1.833113, 1e-5);
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.706205, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.05, 4), -2.131847, 1e-5);
  EXPECT_NEAR(student_t_quantile(0.95, 1000), 1.646379, 1e-5);
  EXPECT_THROW((void)student_t_quantile(1.0, 3), error);
}

TEST(SmallSampleIntervals, FiveRowsGetAtLeastTheStudentTWidthWhereTheConformalQuantileIsTheLargestScore) {
  const std::vector<double> r{-0.1, -0.05, 0.0, 0.05, 0.1};
  std::vector<double> p(5, 2.0), y(5);
  const std::vector<int> bins(5, 3);
  for (std::size_t i = 0; i < 5; ++i) y[i] = p[i] * std::exp(r[i]);
  // sd 0.0790569, t_{0.95, 4} 2.131847, sqrt(1 + 1/5): half-width 0.184621 in log space.
  const auto [lo, hi] = interval_for(fit_intervals_small_sample(p, y, bins, 0.9), 1.0, 3);
  EXPECT_NEAR(std::log(hi), 0.184621, 1e-5);
  EXPECT_NEAR(std::log(lo), -0.184621, 1e-5);
  // The conformal quantile alone stops at the largest residual.
  const auto [plain_lo, plain_hi] = interval_for(fit_intervals(p, y, bins, 0.9), 1.0, 3);
  EXPECT_NEAR(std::log(plain_hi), 0.1, 1e-9);
  EXPECT_NEAR(std::log(plain_lo), -0.1, 1e-9);
}

TEST(SmallSampleIntervals, ManyNormalRowsKeepAboutTheConformalWidth) {
  rng g(7);
  const std::size_t n = 2000;
  std::vector<double> p(n, 1.0), y(n);
  const std::vector<int> bins(n, 0);
  for (auto& v : y) v = std::exp(0.05 * g.normal());
  const double wide = std::log(interval_for(fit_intervals_small_sample(p, y, bins, 0.9), 1.0, 0).second);
  const double plain = std::log(interval_for(fit_intervals(p, y, bins, 0.9), 1.0, 0).second);
  EXPECT_GE(wide, plain);
  EXPECT_LT(wide, 1.05 * plain);
}

}  // namespace
}  // namespace esm::train
