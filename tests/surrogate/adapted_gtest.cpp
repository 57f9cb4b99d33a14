// The log adapter and the "adapted" kind: made-up devices whose latencies are known functions of a
// source device's, so that what the adapter should choose is known.
#include <gtest/gtest.h>

#include <cmath>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/surrogate/adapted.hpp"
#include "esm/surrogate/ridge.hpp"
#include "synthetic_latency.hpp"

namespace esm::surrogate {
namespace {

/// K rows of log predictions of `sources` made-up source devices and a target that is source
/// `base` times `factor` raised to `slope`, with log noise of sd `noise`.
struct rows {
  matrix z, x;
  std::vector<double> t;
};

rows make_rows(std::size_t k, std::size_t sources, std::size_t base, double slope, double factor, double noise,
               std::uint64_t seed, std::size_t features = 0) {
  rng r(seed);
  rows out{matrix(k, sources), matrix(k, features), std::vector<double>(k)};
  for (std::size_t i = 0; i < k; ++i) {
    const double level = std::log(5.0) + 0.6 * r.normal();  // the arch's "true" log latency
    for (std::size_t j = 0; j < sources; ++j) out.z(i, j) = level * (1.0 + 0.1 * static_cast<double>(j)) + 0.2 * r.normal();
    for (std::size_t f = 0; f < features; ++f) out.x(i, f) = r.normal();
    out.t[i] = slope * out.z(i, base) + std::log(factor) + noise * r.normal();
  }
  return out;
}

TEST(LogAdapter, TenRowsOfARescaledSourceGiveThatSourceAndItsFactorAlone) {
  const auto d = make_rows(10, 3, 1, 1.0, 0.8, 0.01, 1, 6);
  const auto a = fit_log_adapter(d.z, d.x, d.t);
  EXPECT_EQ(a.base, 1u);
  EXPECT_EQ(a.slope_strength, 0.0);
  EXPECT_EQ(a.sources_strength, 0.0);
  EXPECT_EQ(a.features_strength, 0.0);
  EXPECT_NEAR(std::exp(a.intercept), 0.8, 0.01);
  EXPECT_DOUBLE_EQ(a.source_weight[1], 1.0);
  EXPECT_EQ(a.source_weight[0], 0.0);
  EXPECT_LT(std::sqrt(a.loo_mse), 0.02);
}

TEST(LogAdapter, ASlopeInLogSpaceIsFittedWhenTheRowsShowIt) {
  const auto d = make_rows(40, 2, 0, 1.4, 0.5, 0.01, 2);
  const auto a = fit_log_adapter(d.z, matrix(40, 0), d.t);
  EXPECT_EQ(a.base, 0u);
  EXPECT_GT(a.slope_strength, 0.0);
  EXPECT_NEAR(a.source_weight[0] + a.source_weight[1], 1.4, 0.05);
}

TEST(LogAdapter, AResidualOnAFeatureIsCorrectedWithManyRowsAndLeftAloneWithFew) {
  auto many = make_rows(100, 1, 0, 1.0, 1.0, 0.01, 3, 4);
  for (std::size_t i = 0; i < 100; ++i) many.t[i] += 0.3 * many.x(i, 2);
  const auto a = fit_log_adapter(many.z, many.x, many.t);
  EXPECT_GT(a.features_strength, 0.0);
  EXPECT_NEAR(a.feature_weight[2], 0.3, 0.03);
  EXPECT_LT(std::sqrt(a.loo_mse), 0.03);
  // Five rows whose features are pure noise: the one-standard-error rule keeps the rescale.
  const auto few = make_rows(5, 1, 0, 1.0, 1.3, 0.05, 4, 8);
  const auto b = fit_log_adapter(few.z, few.x, few.t);
  EXPECT_EQ(b.features_strength, 0.0);
  EXPECT_EQ(b.slope_strength, 0.0);
}

TEST(LogAdapter, BelowTheRescaleThresholdOnlyTheFactorIsFittedEvenWhereTheRowsShowASlope) {
  const auto d = make_rows(40, 2, 0, 1.4, 0.5, 0.01, 2);
  const auto a = fit_log_adapter(d.z, matrix(40, 0), d.t, {.rescale_only_below = 41});
  EXPECT_EQ(a.slope_strength, 0.0);
  EXPECT_EQ(a.sources_strength, 0.0);
  EXPECT_DOUBLE_EQ(a.source_weight[a.base], 1.0);
  const auto b = fit_log_adapter(d.z, matrix(40, 0), d.t, {.rescale_only_below = 40});
  EXPECT_GT(b.slope_strength, 0.0);
}

TEST(LogAdapter, WithoutSourcesTheRescaleThresholdLeavesTheFeatureRidgeOn) {
  rng r(11);
  const std::size_t k = 8;
  matrix x(k, 2);
  std::vector<double> t(k);
  for (std::size_t i = 0; i < k; ++i) {
    x(i, 0) = r.normal();
    x(i, 1) = r.normal();
    t[i] = 1.0 + 0.5 * x(i, 0) + 0.01 * r.normal();
  }
  const auto a = fit_log_adapter(matrix(k, 0), x, t, {.rescale_only_below = 10});
  EXPECT_GT(a.features_strength, 0.0);
  EXPECT_GT(a.feature_weight[0], 0.3);
}

TEST(LogAdapter, APooledBaseAveragesSourcesWhoseErrorsAreIndependent) {
  rng r(9);
  const std::size_t k = 60;
  matrix z(k, 3);
  std::vector<double> t(k);
  for (std::size_t i = 0; i < k; ++i) {
    t[i] = std::log(5.0) + 0.6 * r.normal();
    z(i, 0) = t[i] + 0.1 * r.normal();
    z(i, 1) = t[i] + 0.1 * r.normal();
    z(i, 2) = t[i] + 0.8 * r.normal();  // a poor source: not in the pool
  }
  const auto a = fit_log_adapter(z, matrix(k, 0), t, {.pooled_bases = true});
  ASSERT_EQ(a.base_sources, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(a.base_label(), "0+1");
  EXPECT_NEAR(a.source_weight[0], 0.5, 0.1);
  EXPECT_NEAR(a.source_weight[1], 0.5, 0.1);
  EXPECT_NEAR(a.source_weight[2], 0.0, 0.05);
  // Without pooling the base is one source.
  EXPECT_EQ(fit_log_adapter(z, matrix(k, 0), t, {.pooled_bases = false}).base_sources.size(), 1u);
}

TEST(LogAdapter, LeaveOneOutIsExactForTheInterceptAlone) {
  const std::vector<double> t{1.0, 2.0, 4.0, 7.0};
  const auto a = fit_log_adapter(matrix(4, 0), matrix(4, 0), t);
  ASSERT_EQ(a.loo_log.size(), 4u);
  EXPECT_NEAR(a.loo_log[0], (2.0 + 4.0 + 7.0) / 3, 1e-12);
  EXPECT_NEAR(a.loo_log[3], (1.0 + 2.0 + 4.0) / 3, 1e-12);
  EXPECT_NEAR(a.intercept, 3.5, 1e-12);
  const auto r = fit_rescaled_best(matrix(4, 1, {0, 0, 0, 0}), t);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(r.loo_log[i], a.loo_log[i], 1e-12);
}

TEST(LogAdapter, TheRescaledBestSourceIsTheOneWithTheSteadiestRatio) {
  const auto d = make_rows(20, 3, 2, 1.0, 2.0, 0.0, 5);
  const auto r = fit_rescaled_best(d.z, d.t);
  EXPECT_EQ(r.base, 2u);
  EXPECT_NEAR(std::exp(r.intercept), 2.0, 1e-9);
}

TEST(LogAdapter, RefusesTooFewRowsAndNonFiniteInputs) {
  EXPECT_THROW((void)fit_log_adapter(matrix(2, 1), matrix(2, 0), std::vector<double>{1, 2}), error);
  auto d = make_rows(6, 1, 0, 1.0, 1.0, 0.1, 6);
  d.z(3, 0) = std::nan("");
  EXPECT_THROW((void)fit_log_adapter(d.z, d.x, d.t), error);
}

TEST(AdaptedRegressor, SavesItsSourcesAndPredictsBitIdenticallyAfterLoad) {
  const auto source_rows = testing::make_synthetic(300, 1);
  auto src = std::make_unique<ridge_regressor>();
  src->fit(source_rows.x, source_rows.y_ms, 1);
  std::vector<std::unique_ptr<regressor>> sources;
  sources.push_back(std::move(src));
  adapted_regressor model(std::move(sources));
  EXPECT_THROW(model.save(), error);  // not fitted
  // The target device: 1.7 times slower, plus a little per-arch noise.
  const auto target = testing::make_synthetic(12, 2);
  std::vector<double> y = target.y_ms;
  rng r(3);
  for (auto& v : y) v *= 1.7 * std::exp(0.02 * r.normal());
  model.fit(target.x, y, 0);
  const auto test = testing::make_synthetic(50, 4);
  const auto p = model.predict(test.x);
  const auto source_p = model.source_log_predictions(test.x);
  for (std::size_t i = 0; i < 50; ++i) EXPECT_NEAR(p[i] / std::exp(source_p(i, 0)), 1.7, 0.1) << i;
  const auto state = model.save();
  EXPECT_EQ(state.text("kind"), "adapted");
  EXPECT_EQ(state.count("sources"), 1u);
  const auto loaded = load_regressor(state);
  EXPECT_EQ(loaded->kind(), "adapted");
  EXPECT_EQ(loaded->predict(test.x), p);
  auto clone = model.clone_unfitted();
  EXPECT_FALSE(clone->fitted());
  clone->fit(target.x, y, 0);
  EXPECT_EQ(clone->predict(test.x), p);
  EXPECT_THROW(adapted_regressor().fit(target.x, y, 0), error);  // no sources
}

}  // namespace
}  // namespace esm::surrogate
