// XGBoost through its C API: fits, round-trips, early stopping, and C errors as xgboost_error.
#include "esm/surrogate/xgboost.hpp"

#include <gtest/gtest.h>

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

TEST(XGBoost, CErrorsBecomeXGBoostErrors) {
  const auto train = testing::make_synthetic(100, 3);
  xgboost_options o;
  o.rounds = 5;
  xgboost_regressor model(o);
  model.fit(train.x, train.y_ms, 1);
  model_state s = model.save();
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
