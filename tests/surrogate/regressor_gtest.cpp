// Every model kind: save -> load predicts bit-identically, the same seed fits identically, and the
// factory and state dispatch agree on the kind names.
#include "esm/surrogate/regressor.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "esm/common/error.hpp"
#include "esm/surrogate/ensemble.hpp"
#include "esm/surrogate/hybrid.hpp"
#include "esm/surrogate/mlp.hpp"
#include "esm/surrogate/ridge.hpp"
#include "esm/surrogate/tuning_cache.hpp"
#include "esm/surrogate/xgboost.hpp"
#include "surrogate/synthetic_latency.hpp"

namespace esm::surrogate {
namespace {

/// Small, quick variants of each kind (the test is about state, not accuracy).
std::unique_ptr<regressor> quick_model(const std::string& kind) {
  mlp_options mlp;
  mlp.hidden = {16, 8};
  mlp.max_epochs = 15;
  xgboost_options xgb;
  xgb.rounds = 20;
  if (kind == "ridge") return std::make_unique<ridge_regressor>();
  if (kind == "mlp") return std::make_unique<mlp_regressor>(mlp);
  if (kind == "xgboost") return std::make_unique<xgboost_regressor>(xgb);
  if (kind == "hybrid") return std::make_unique<hybrid_regressor>(ridge_options{}, xgb);
  if (kind != "ensemble") throw std::logic_error("quick_model: no quick variant of '" + kind + "'");
  std::vector<std::unique_ptr<regressor>> prototypes;
  prototypes.push_back(std::make_unique<mlp_regressor>(mlp));
  prototypes.push_back(std::make_unique<ridge_regressor>());
  prototypes.push_back(std::make_unique<xgboost_regressor>(xgb));
  ensemble_options o;
  o.members_per_kind = 2;
  o.bootstrap = true;
  o.stacked = true;
  o.stacking_folds = 3;
  return std::make_unique<ensemble_regressor>(std::move(prototypes), o);
}

class EveryKind : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryKind, SaveLoadPredictsBitIdentically) {
  const auto train = testing::make_synthetic(300, 1);
  const auto test = testing::make_synthetic(101, 2);  // not a multiple of any tile or chunk
  auto model = quick_model(GetParam());
  EXPECT_EQ(model->kind(), GetParam());
  model->fit(train.x, train.y_ms, 5);
  ASSERT_TRUE(model->fitted());
  EXPECT_EQ(model->feature_count(), train.x.cols);
  const model_state state = model->save();
  EXPECT_EQ(state.text("kind"), GetParam());
  const auto loaded = load_regressor(state);
  EXPECT_EQ(loaded->kind(), GetParam());
  EXPECT_EQ(loaded->predict(test.x), model->predict(test.x));  // bit for bit
  EXPECT_EQ(loaded->save(), state);                              // and the state itself round-trips
  for (double p : model->predict(test.x)) EXPECT_GT(p, 0.0);
}

TEST_P(EveryKind, SameSeedSamePredictionsOtherSeedOthers) {
  const auto train = testing::make_synthetic(300, 1);
  const auto test = testing::make_synthetic(64, 2);
  auto a = quick_model(GetParam());
  auto b = a->clone_unfitted();
  EXPECT_FALSE(b->fitted());
  a->fit(train.x, train.y_ms, 9);
  b->fit(train.x, train.y_ms, 9);
  EXPECT_EQ(a->predict(test.x), b->predict(test.x));
  if (GetParam() != "ridge") {  // ridge's seed only picks CV folds; on this data the penalty agrees
    b->fit(train.x, train.y_ms, 10);
    EXPECT_NE(a->predict(test.x), b->predict(test.x));
  }
}

std::vector<std::string> registered_names() {
  std::vector<std::string> out;
  for (const auto& k : kind_table()) out.emplace_back(k.name);
  return out;
}

// Every registered kind, so a new row in the table needs a quick variant above.
INSTANTIATE_TEST_SUITE_P(Surrogate, EveryKind, ::testing::ValuesIn(registered_names()));

TEST(Regressor, TheTableIsWhatTheFactoryAndTheDefaultsRead) {
  EXPECT_EQ(registered_names(), (std::vector<std::string>{"ridge", "mlp", "xgboost", "hybrid", "ensemble"}));
  for (const auto& k : kind_table()) {
    EXPECT_EQ(k.make(nullptr)->kind(), k.name);
    EXPECT_EQ(make_regressor(k.name)->kind(), k.name);
    EXPECT_EQ(find_kind(k.name), &k);
    EXPECT_FALSE(k.description.empty()) << k.name;
  }
  EXPECT_EQ(default_kinds(), (std::vector<std::string>{"ridge", "mlp", "xgboost", "hybrid"}));
  EXPECT_EQ(kind_names(), "ridge, mlp, xgboost, hybrid, ensemble");
  EXPECT_EQ(kind_names(kind_set::defaults, ","), "ridge,mlp,xgboost,hybrid");
  EXPECT_EQ(find_kind("forest"), nullptr);
}

TEST(Regressor, EsmTrainsConfigurationTunes) {
  const auto mlp = make_regressor("mlp");
  EXPECT_TRUE(dynamic_cast<const mlp_regressor&>(*mlp).options().tune);
  const auto xgb = make_regressor("xgboost");
  EXPECT_TRUE(dynamic_cast<const xgboost_regressor&>(*xgb).options().tune);
  const auto hybrid = make_regressor("hybrid");
  EXPECT_TRUE(dynamic_cast<const hybrid_regressor&>(*hybrid).trees().options().tune);
  const auto ensemble = make_regressor("ensemble");
  EXPECT_EQ(dynamic_cast<const ensemble_regressor&>(*ensemble).options().members_per_kind, 3u);
}

TEST(Regressor, UnknownKindsAreNamedWithTheKnownOnes) {
  try {
    (void)make_regressor("forest");
    FAIL() << "no usage_error";
  } catch (const usage_error& e) {
    EXPECT_EQ(std::string(e.what()), "unknown surrogate kind 'forest' (ridge, mlp, xgboost, hybrid, ensemble)");
  }
  model_state s;
  s.set_text("kind", "forest");
  EXPECT_THROW((void)load_regressor(s), error);
  // A state of one kind does not load into another.
  const auto train = testing::make_synthetic(50, 1);
  ridge_regressor ridge;
  ridge.fit(train.x, train.y_ms, 1);
  mlp_regressor mlp;
  EXPECT_THROW(mlp.load(ridge.save()), error);
}

/// Quick tuning variants of the kinds that tune (the grid is the point, not the accuracy).
std::unique_ptr<regressor> quick_tuning_model(const std::string& kind, tuning_cache* cache) {
  xgboost_options trees;
  trees.tune = true;
  if (kind == "xgboost") return std::make_unique<xgboost_regressor>(trees, cache);
  if (kind == "hybrid") return std::make_unique<hybrid_regressor>(ridge_options{}, trees, cache);
  mlp_options mlp;
  mlp.tune = true;
  mlp.max_epochs = 40;
  return std::make_unique<mlp_regressor>(mlp, cache);
}

class TuningKind : public ::testing::TestWithParam<std::string> {};

TEST_P(TuningKind, MembersShareTheCallersCacheAndPredictAsWithout) {
  const auto train = testing::make_synthetic(60, 11);
  const auto other = testing::make_synthetic(60, 12);
  const auto test = testing::make_synthetic(30, 13);
  tuning_cache cache;
  const auto prototype = quick_tuning_model(GetParam(), &cache);
  for (std::uint64_t seed : {1, 2}) {  // members of one fold: the same rows, other seeds
    auto member = prototype->clone_unfitted();
    member->fit(train.x, train.y_ms, seed);
    EXPECT_EQ(cache.size(), 1u) << "one search for the rows, whichever member asks";
    auto uncached = quick_tuning_model(GetParam(), nullptr);
    uncached->fit(train.x, train.y_ms, seed);
    EXPECT_EQ(member->predict(test.x), uncached->predict(test.x)) << "seed " << seed;
  }
  auto member = prototype->clone_unfitted();
  member->fit(other.x, other.y_ms, 1);
  EXPECT_EQ(cache.size(), 2u) << "other rows, another search";
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Surrogate, TuningKind, ::testing::Values("mlp", "xgboost", "hybrid"));

TEST(TuningCache, KeysTheOptionsTooSoKindsAndConfigurationsNeverShareASearch) {
  const auto train = testing::make_synthetic(60, 11);
  tuning_cache cache;
  mlp_options o;
  o.tune = true;
  o.max_epochs = 40;
  mlp_regressor a(o, &cache);
  a.fit(train.x, train.y_ms, 1);
  o.learning_rate = 1e-3;  // another configuration on the same rows
  mlp_regressor b(o, &cache);
  b.fit(train.x, train.y_ms, 1);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(b.options().learning_rate, 1e-3) << "its own options, not a's search";
  mlp_regressor uncached(o);
  uncached.fit(train.x, train.y_ms, 1);
  EXPECT_EQ(b.predict(train.x), uncached.predict(train.x));
}

TEST(TuningCache, MakeRegressorHandsItToTheModels) {
  const auto train = testing::make_synthetic(40, 14);
  tuning_cache cache;
  auto ridge = make_regressor("ridge", &cache);
  ridge->fit(train.x, train.y_ms, 1);
  EXPECT_EQ(cache.size(), 0u) << "ridge does not tune through the cache";
  auto xgb = make_regressor("xgboost", &cache);
  xgb->fit(train.x, train.y_ms, 1);
  EXPECT_EQ(cache.size(), 1u);
  auto hybrid = make_regressor("hybrid", &cache);
  hybrid->fit(train.x, train.y_ms, 1);
  EXPECT_EQ(cache.size(), 2u) << "the hybrid's trees search on the linear part's ratios";
}

}  // namespace
}  // namespace esm::surrogate
