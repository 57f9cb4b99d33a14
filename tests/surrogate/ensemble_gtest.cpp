// Ensembles: the mean/spread arithmetic, stacking weights, and member bookkeeping.
#include "esm/surrogate/ensemble.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "esm/common/error.hpp"
#include "esm/surrogate/mlp.hpp"
#include "esm/surrogate/ridge.hpp"
#include "surrogate/synthetic_latency.hpp"

namespace esm::surrogate {
namespace {

/// A quick MLP kind and a ridge kind (the tests are about bookkeeping, not accuracy).
std::vector<std::unique_ptr<regressor>> quick_mlp_and_ridge() {
  mlp_options mlp;
  mlp.hidden = {16};
  mlp.max_epochs = 10;
  std::vector<std::unique_ptr<regressor>> prototypes;
  prototypes.push_back(std::make_unique<mlp_regressor>(mlp));
  prototypes.push_back(std::make_unique<ridge_regressor>());
  return prototypes;
}

TEST(Ensemble, MeanAndPopulationStdOfMembers) {
  // 3 members x 2 rows: row 0 predictions 1 2 3, row 1 predictions 10 20 60.
  const matrix p(3, 2, {1, 10, 2, 20, 3, 60});
  const std::vector<double> equal(3, 1.0 / 3.0);
  const auto e = combine_members(p, equal);
  // row 0: mean 2, deviations -1 0 1: variance (1 + 0 + 1) / 3 = 2/3, std 0.8165, spread std / 2.
  EXPECT_NEAR(e.mean_ms[0], 2.0, 1e-15);
  EXPECT_NEAR(e.std_ms[0], std::sqrt(2.0 / 3.0), 1e-15);
  EXPECT_NEAR(e.relative_spread[0], std::sqrt(2.0 / 3.0) / 2.0, 1e-15);
  // row 1: mean 30, deviations -20 -10 30: variance (400 + 100 + 900) / 3 = 466.67, std 21.602.
  EXPECT_NEAR(e.mean_ms[1], 30.0, 1e-12);
  EXPECT_NEAR(e.std_ms[1], std::sqrt(1400.0 / 3.0), 1e-12);
  EXPECT_NEAR(e.relative_spread[1], std::sqrt(1400.0 / 3.0) / 30.0, 1e-15);

  // Weights 0.5 0.25 0.25, row 0: mean 0.5 + 0.5 + 0.75 = 1.75; variance
  // 0.5 * 0.75^2 + 0.25 * 0.25^2 + 0.25 * 1.25^2 = 0.28125 + 0.015625 + 0.390625 = 0.6875.
  const auto w = combine_members(p, std::vector<double>{0.5, 0.25, 0.25});
  EXPECT_NEAR(w.mean_ms[0], 1.75, 1e-15);
  EXPECT_NEAR(w.std_ms[0], std::sqrt(0.6875), 1e-15);
  EXPECT_THROW((void)combine_members(p, std::vector<double>{1.0}), error);
}

TEST(Ensemble, StackingWeightsDropAKindThatOnlyHelpsWithANegativeWeight) {
  const std::vector<double> y{1, 2, 3, 4};
  // Columns / y: a = 1 1.1 0.9 1 and b = 1 1.3 0.7 1; 1.5 a - 0.5 b = 1 exactly, so least squares
  // gives (1.5, -0.5); non-negative, a alone fits best: weights (1, 0).
  const matrix clipped(4, 2, {1.0, 1.0, 2.2, 2.6, 2.7, 2.1, 4.0, 4.0});
  const auto w1 = stacking_weights(clipped, y);
  EXPECT_NEAR(w1[0], 1.0, 1e-9);
  EXPECT_NEAR(w1[1], 0.0, 1e-9);
  // Columns / y alternate 1.1 0.9 and 0.9 1.1: the blend 0.5 / 0.5 is exact.
  const matrix even(4, 2, {1.1, 0.9, 1.8, 2.2, 3.3, 2.7, 3.6, 4.4});
  const auto w2 = stacking_weights(even, y);
  EXPECT_NEAR(w2[0], 0.5, 1e-9);
  EXPECT_NEAR(w2[1], 0.5, 1e-9);
}

TEST(Ensemble, PredictIsTheWeightedMeanOfTheMembers) {
  const auto train = testing::make_synthetic(200, 1);
  const auto test = testing::make_synthetic(40, 2);
  ensemble_options o;
  o.members_per_kind = 3;
  ensemble_regressor model(quick_mlp_and_ridge(), o);
  model.fit(train.x, train.y_ms, 4);
  ASSERT_EQ(model.member_count(), 6u);
  EXPECT_EQ(model.member(0).kind(), "mlp");
  EXPECT_EQ(model.member(5).kind(), "ridge");
  // Unstacked: kinds weigh equally, members share their kind's half.
  EXPECT_EQ(model.group_weights(), (std::vector<double>{0.5, 0.5}));
  const auto w = model.member_weights();
  EXPECT_NEAR(std::accumulate(w.begin(), w.end(), 0.0), 1.0, 1e-15);
  EXPECT_DOUBLE_EQ(w[0], 0.5 / 3.0);

  const auto mean = model.predict(test.x);
  const auto u = model.predict_with_uncertainty(test.x);
  EXPECT_EQ(u.mean_ms, mean);
  for (std::size_t i = 0; i < test.x.rows; ++i) {
    double sum = 0;
    for (std::size_t m = 0; m < model.member_count(); ++m) sum += w[m] * model.member(m).predict(test.x)[i];
    EXPECT_NEAR(mean[i], sum, 1e-12 * sum);
    EXPECT_GT(u.std_ms[i], 0.0);  // members with different seeds and kinds disagree somewhat
    EXPECT_NEAR(u.relative_spread[i], u.std_ms[i] / u.mean_ms[i], 1e-15);
  }
  // Different member seeds give different MLPs.
  EXPECT_NE(model.member(0).predict(test.x), model.member(1).predict(test.x));
}

TEST(Ensemble, StackedBlendAndBootstrap) {
  const auto train = testing::make_synthetic(200, 1);
  ensemble_options o;
  o.members_per_kind = 2;
  o.stacked = true;
  o.bootstrap = true;
  o.stacking_folds = 3;
  ensemble_regressor model(quick_mlp_and_ridge(), o);
  model.fit(train.x, train.y_ms, 8);
  const auto& g = model.group_weights();
  ASSERT_EQ(g.size(), 2u);
  EXPECT_NEAR(g[0] + g[1], 1.0, 1e-15);
  EXPECT_GE(g[0], 0.0);
  EXPECT_GE(g[1], 0.0);
  // Bootstrapped ridge members see different rows, so they differ although ridge has no init.
  EXPECT_NE(model.member(2).predict(train.x), model.member(3).predict(train.x));
}

TEST(Ensemble, DefaultIsMlpMembers) {
  const auto e = make_default_ensemble();
  EXPECT_EQ(e->kind(), "ensemble");
  EXPECT_FALSE(e->fitted());
  EXPECT_THROW(ensemble_regressor({}, {}), usage_error);
  ensemble_regressor empty;
  const auto train = testing::make_synthetic(20, 1);
  EXPECT_THROW(empty.fit(train.x, train.y_ms, 1), error);
}

}  // namespace
}  // namespace esm::surrogate
