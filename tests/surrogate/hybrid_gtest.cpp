// Ridge + residual trees: the trees pick up what the linear part cannot express, members share the
// linear part, and the state round-trips.
#include "esm/surrogate/hybrid.hpp"

#include <gtest/gtest.h>

#include "esm/common/error.hpp"
#include "esm/surrogate/metrics.hpp"
#include "surrogate/synthetic_latency.hpp"

namespace esm::surrogate {
namespace {

xgboost_options tuned_trees() {
  xgboost_options o;
  o.tune = true;
  return o;
}

TEST(Hybrid, TreesFixWhatTheLinearPartMisses) {
  // Additive block costs in ms plus two interactions: a linear model of log-latency bends the sum
  // and cannot express the interactions at all.
  const auto train = testing::make_synthetic(800, 1);
  const auto test = testing::make_synthetic(300, 2);
  ridge_regressor linear;
  linear.fit(train.x, train.y_ms, 3);
  hybrid_regressor model({}, tuned_trees());
  model.fit(train.x, train.y_ms, 3);
  const auto lin = evaluate(linear.predict(test.x), test.y_ms);
  const auto hyb = evaluate(model.predict(test.x), test.y_ms);
  EXPECT_LT(hyb.mape_percent, 0.85 * lin.mape_percent) << "ridge " << lin.mape_percent << "%";
  EXPECT_GT(hyb.within_10, 0.95);
  EXPECT_EQ(model.feature_count(), train.x.cols);
}

TEST(Hybrid, MembersShareTheLinearPartAndRoundTrip) {
  const auto train = testing::make_synthetic(300, 4);
  const auto test = testing::make_synthetic(50, 5);
  hybrid_regressor a({}, tuned_trees());
  a.fit(train.x, train.y_ms, 1);
  const auto b = a.clone_unfitted();
  EXPECT_FALSE(b->fitted());
  b->fit(train.x, train.y_ms, 2);
  const auto& bh = dynamic_cast<const hybrid_regressor&>(*b);
  EXPECT_EQ(bh.linear().coefficients(), a.linear().coefficients()) << "the linear part ignores the member seed";
  EXPECT_NE(b->predict(test.x), a.predict(test.x)) << "the trees draw rows and columns from the seed";

  const model_state s = a.save();
  EXPECT_EQ(s.text("kind"), "hybrid");
  const auto loaded = load_regressor(s);
  EXPECT_EQ(loaded->kind(), "hybrid");
  EXPECT_EQ(loaded->predict(test.x), a.predict(test.x));
  EXPECT_EQ(make_regressor("hybrid")->kind(), "hybrid");

  model_state wrong_kind = s;
  wrong_kind.set_text("kind", "ridge");
  hybrid_regressor h;
  EXPECT_THROW(h.load(wrong_kind), error);
  EXPECT_THROW((void)h.predict(test.x), error) << "unfitted";
  xgboost_options raw;
  raw.log_target = false;
  EXPECT_THROW(hybrid_regressor({}, raw), usage_error);
}

}  // namespace
}  // namespace esm::surrogate
