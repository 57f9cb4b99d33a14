// XGBoost through its C API: fits, round-trips, early stopping, and C errors as xgboost_error.
#include "esm/surrogate/xgboost.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string_view>
#include <variant>
#include <vector>

#include "esm/surrogate/metrics.hpp"
#include "surrogate/synthetic_latency.hpp"

namespace esm::surrogate {
namespace {

TEST(XGBoost, FitsAndRoundTripsThroughUbjBytes) {
  const auto train = testing::make_synthetic(800, 1);
  const auto test = testing::make_synthetic(300, 2);
  xgboost_regressor model;
  model.fit(train.x, train.y_ms, 3);
  EXPECT_EQ(model.rounds_kept(), model.options().rounds);  // no early stopping by default
  const auto p = model.predict(test.x);
  const auto m = evaluate(p, test.y_ms);
  // Trees on one-hot sums are coarser than the MLP; they still rank and fit well.
  EXPECT_GT(m.within_10, 0.8) << "MAPE " << m.mape_percent;
  EXPECT_GT(m.kendall_tau, 0.8);

  const model_state s = model.save();
  const auto& bytes = s.bytes("booster_ubj");
  ASSERT_GT(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], '{');  // UBJSON object marker
  xgboost_regressor loaded;
  loaded.load(s);
  EXPECT_EQ(loaded.predict(test.x), p);
  EXPECT_EQ(loaded.options().rounds, model.options().rounds);
}

TEST(XGBoost, EarlyStoppingKeepsTheBestRounds) {
  const auto train = testing::make_synthetic(400, 3);
  xgboost_options o;
  o.rounds = 2000;
  o.eta = 0.3;
  o.early_stopping_rounds = 20;
  xgboost_regressor model(o);
  model.fit(train.x, train.y_ms, 1);
  EXPECT_LT(model.rounds_kept(), o.rounds);
  EXPECT_GT(model.rounds_kept(), 5u);
  xgboost_regressor loaded;
  loaded.load(model.save());
  EXPECT_EQ(loaded.rounds_kept(), model.rounds_kept());
  EXPECT_EQ(loaded.predict(train.x), model.predict(train.x));
}

TEST(XGBoost, TuningDependsOnlyOnTheRows) {
  // Members (seeds) and ranks must agree on the choice: it is a function of the rows alone.
  const auto train = testing::make_synthetic(150, 4);
  xgboost_tuning_grid grid;
  grid.max_depth = {2, 4};
  grid.min_child_weight = {1.0};
  grid.eta = {0.15};
  grid.max_rounds = 300;
  const auto a = tune_xgboost(train.x, train.y_ms, xgboost_options{}, grid);
  const auto b = tune_xgboost(train.x, train.y_ms, xgboost_options{}, grid);
  EXPECT_EQ(a.max_depth, b.max_depth);
  EXPECT_EQ(a.rounds, b.rounds);
  EXPECT_EQ(a.inner_rmse, b.inner_rmse);
  EXPECT_TRUE(a.max_depth == 2 || a.max_depth == 4);
  EXPECT_GE(a.rounds, 1u);
  EXPECT_LE(a.rounds, 300u * 3 / 2) << "inner best rounds, scaled by k/(k-1)";

  const auto small = testing::make_synthetic(60, 5);  // the default grid, kept quick
  xgboost_options o;
  o.tune = true;
  xgboost_regressor m1(o), m2(o);
  m1.fit(small.x, small.y_ms, 1);
  m2.fit(small.x, small.y_ms, 99);
  EXPECT_EQ(m1.options().max_depth, m2.options().max_depth);
  EXPECT_EQ(m1.options().eta, m2.options().eta);
  EXPECT_EQ(m1.options().min_child_weight, m2.options().min_child_weight);
  EXPECT_EQ(m1.rounds_kept(), m2.rounds_kept());
  EXPECT_NE(m1.predict(small.x), m2.predict(small.x)) << "the seeds still differ (row and column sampling)";
}

/// A small untuned model of `rounds` trees on `rows` synthetic rows (drawn with `data_seed`).
struct small_fit {
  testing::synthetic_data train;
  xgboost_regressor model;
};
small_fit fit_small(std::size_t rows, std::uint64_t data_seed, std::size_t rounds) {
  small_fit out{testing::make_synthetic(rows, data_seed), xgboost_regressor{}};
  xgboost_options o;
  o.rounds = rounds;
  out.model = xgboost_regressor(o);
  out.model.fit(out.train.x, out.train.y_ms, 1);
  return out;
}

/// `state` without the entry `dropped` (model_state has no erase: states are built, not edited).
model_state without(const model_state& state, std::string_view dropped) {
  model_state out;
  for (const auto& [key, entry] : state.entries()) {
    if (key == dropped) continue;
    if (const auto* numbers = std::get_if<std::vector<double>>(&entry.value)) {
      out.set_numbers(key, entry.shape, *numbers);
    } else if (const auto* text = std::get_if<std::string>(&entry.value)) {
      out.set_text(key, *text);
    } else {
      out.set_bytes(key, std::get<std::vector<std::uint8_t>>(entry.value));
    }
  }
  return out;
}

TEST(XGBoost, MaxBinReachesTheBoosterAndTheState) {
  // 600 rows of continuous features (the synthetic one-hot sums have only a few values per
  // column): 4 bins per feature must give other trees than 1024.
  testing::synthetic_data train{matrix(600, 3), std::vector<double>(600), {}};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (std::size_t r = 0; r < train.x.rows; ++r) {
    for (std::size_t c = 0; c < 3; ++c) train.x(r, c) = unit(rng);
    train.y_ms[r] = 1.0 + train.x(r, 0) + 2.0 * train.x(r, 1) * train.x(r, 1) + 0.5 * train.x(r, 2);
  }
  xgboost_options coarse, fine;
  coarse.rounds = fine.rounds = 60;
  coarse.max_bin = 4;
  xgboost_regressor a(coarse), b(fine);
  a.fit(train.x, train.y_ms, 1);
  b.fit(train.x, train.y_ms, 1);
  EXPECT_EQ(fine.max_bin, 1024u) << "the default";
  EXPECT_NE(a.predict(train.x), b.predict(train.x));
  EXPECT_LT(evaluate(b.predict(train.x), train.y_ms).mape_percent, evaluate(a.predict(train.x), train.y_ms).mape_percent)
      << "more split candidates fit the training rows closer";
  xgboost_regressor loaded;
  loaded.load(a.save());
  EXPECT_EQ(loaded.options().max_bin, 4u);
  EXPECT_EQ(loaded.predict(train.x), a.predict(train.x));

  xgboost_options bad;
  bad.max_bin = 1;
  EXPECT_THROW(xgboost_regressor{bad}, usage_error);
}

TEST(XGBoost, VersionOneStatesLoadWithXGBoostsDefaultBins) {
  // States written before max_bin was an option (version 1) have no options/max_bin: their
  // boosters were fitted with XGBoost's default of 256 bins.
  const auto [train, model] = fit_small(200, 8, 20);
  model_state v1 = without(model.save(), "options/max_bin");
  v1.set_scalar("version", 1.0);
  xgboost_regressor old;
  old.load(v1);
  EXPECT_EQ(old.options().max_bin, 256u);
  EXPECT_EQ(old.predict(train.x), model.predict(train.x));
  model_state v3_without_bins = without(model.save(), "options/max_bin");
  EXPECT_THROW(old.load(v3_without_bins), error) << "version 3 states must record max_bin";
  model_state v4 = model.save();
  v4.set_scalar("version", 4.0);
  EXPECT_THROW(old.load(v4), error);
}

TEST(XGBoost, VersionTwoStatesLoadWithTheSquaredLoss) {
  const auto [train, model] = fit_small(200, 8, 20);
  model_state v2 = without(model.save(), "options/absolute_loss");
  v2.set_scalar("version", 2.0);
  xgboost_regressor old;
  old.load(v2);
  EXPECT_FALSE(old.options().absolute_loss);
  EXPECT_EQ(old.predict(train.x), model.predict(train.x));
}

// DISABLED: fails with Debian's XGBoost 1.7.4 (median fit 10.4% MAPE against the clean latency,
// mean fit 10.9%), while XGBoost 3.2's Python package with the same settings reaches 3.3%: esm's
// absolute loss does not fit the median yet: XGBoost 1.7's absolute loss ignores eta (each tree's
// leaves take the full median of their residuals; docs/decisions.md, issue 28). Enable once esm
// boosts with its own absolute-loss gradient.
TEST(XGBoost, DISABLED_AbsoluteLossFitsTheMedianUnderSkewedNoise) {
  // One in four labels is a slow run (x1.5): the mean of log-latency moves towards them, the
  // median stays on the other three. Scored against the noise-free latency.
  testing::synthetic_data train{matrix(800, 2), std::vector<double>(800), {}};
  std::vector<double> clean(800);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (std::size_t r = 0; r < train.x.rows; ++r) {
    for (std::size_t c = 0; c < 2; ++c) train.x(r, c) = unit(rng);
    clean[r] = 2.0 + 3.0 * train.x(r, 0) + train.x(r, 1);
    train.y_ms[r] = clean[r] * (r % 4 == 0 ? 1.5 : 1.0);
  }
  xgboost_options squared, absolute;
  squared.rounds = absolute.rounds = 300;
  squared.max_depth = absolute.max_depth = 3;
  absolute.absolute_loss = true;
  xgboost_regressor mean_fit(squared), median_fit(absolute);
  mean_fit.fit(train.x, train.y_ms, 1);
  median_fit.fit(train.x, train.y_ms, 1);
  const double median_mape = evaluate(median_fit.predict(train.x), clean).mape_percent;
  EXPECT_LT(median_mape, 4.0);
  EXPECT_GT(evaluate(mean_fit.predict(train.x), clean).mape_percent, 2.0 * median_mape);
  xgboost_regressor loaded;
  loaded.load(median_fit.save());
  EXPECT_TRUE(loaded.options().absolute_loss);
  EXPECT_EQ(loaded.predict(train.x), median_fit.predict(train.x));
}

TEST(XGBoost, CErrorsBecomeXGBoostErrors) {
  const auto fitted = fit_small(100, 3, 5);
  model_state s = fitted.model.save();
  s.set_bytes("booster_ubj", {'{', 'x', 'y'});  // not a model
  xgboost_regressor broken;
  try {
    broken.load(s);
    FAIL() << "a corrupt booster loaded";
  } catch (const xgboost_error& e) {
    EXPECT_NE(std::string(e.what()).find("XGBoosterLoadModelFromBuffer"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(broken.fitted());
}

}  // namespace
}  // namespace esm::surrogate
