// The MLP: accuracy on a noise-free synthetic latency function, the fast predict kernel against a
// plain double-precision forward pass, batching independence, and the relative-error loss.
#include "esm/surrogate/mlp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "esm/common/error.hpp"
#include "esm/surrogate/metrics.hpp"
#include "surrogate/synthetic_latency.hpp"

namespace esm::surrogate {
namespace {

/// The network written out as plain loops in double, from the saved state (row-major weights).
std::vector<double> reference_forward(const model_state& s, matrix_view x) {
  const auto& mean = s.numbers("input_mean");
  const auto& scale = s.numbers("input_scale");
  const std::size_t layers = s.count("layers");
  std::vector<double> out;
  for (std::size_t r = 0; r < x.rows; ++r) {
    std::vector<double> a;
    for (std::size_t c = 0; c < x.cols; ++c) a.push_back((x(r, c) - mean[c]) / scale[c]);
    for (std::size_t l = 0; l < layers; ++l) {
      const std::string prefix = "layer/" + std::to_string(l) + "/";
      const auto& w = s.numbers(prefix + "weight");
      const auto& b = s.numbers(prefix + "bias");
      std::vector<double> next(b.size());
      for (std::size_t j = 0; j < b.size(); ++j) {
        double v = b[j];
        for (std::size_t k = 0; k < a.size(); ++k) v += w[j * a.size() + k] * a[k];
        next[j] = l + 1 < layers ? std::max(v, 0.0) : v;
      }
      a = std::move(next);
    }
    out.push_back(std::exp(s.scalar("target_mean") + s.scalar("target_scale") * a[0]));
  }
  return out;
}

TEST(Mlp, ReachesTenPercentAccuracyOnANoiseFreeLatencyFunction) {
  const auto train = testing::make_synthetic(1000, 1);
  const auto test = testing::make_synthetic(500, 2);
  mlp_regressor model;  // default options: ESM's predictor as shipped
  model.fit(train.x, train.y_ms, 42);
  const auto m = evaluate(model.predict(test.x), test.y_ms);
  EXPECT_GE(m.within_10, 0.99) << "MAPE " << m.mape_percent << "%, within 5% " << m.within_5 << ", epochs "
                               << model.epochs_run() << " (best " << model.best_epoch() << ")";
  EXPECT_GT(m.kendall_tau, 0.9);
  EXPECT_LE(model.best_epoch(), model.epochs_run());
}

TEST(Mlp, FastKernelMatchesADoublePrecisionForwardPass) {
  const auto train = testing::make_synthetic(200, 3);
  const auto test = testing::make_synthetic(77, 4);
  mlp_options o;
  o.hidden = {24, 9, 5};  // widths that are not multiples of the vector width
  o.max_epochs = 30;
  mlp_regressor model(o);
  model.fit(train.x, train.y_ms, 1);
  const auto fast = model.predict(test.x);
  const auto reference = reference_forward(model.save(), test.x);
  // The kernel runs in single precision: agreement to float rounding, not bit for bit.
  for (std::size_t i = 0; i < fast.size(); ++i) EXPECT_NEAR(fast[i] / reference[i], 1.0, 1e-5) << "row " << i;
}

TEST(Mlp, PredictionsDoNotDependOnTheBatch) {
  const auto train = testing::make_synthetic(200, 3);
  const auto test = testing::make_synthetic(150, 5);
  mlp_options o;
  o.max_epochs = 10;
  mlp_regressor model(o);
  model.fit(train.x, train.y_ms, 1);
  const auto all = model.predict(test.x);
  // Row by row and in odd blocks (across tile and chunk edges): the same bits per row.
  for (std::size_t first : {0u, 1u, 63u, 64u, 130u}) {
    for (std::size_t count : {1u, 3u, 5u, 20u}) {
      if (first + count > test.x.rows) continue;
      const auto part = model.predict(matrix_view(test.x).row_block(first, count));
      for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(part[i], all[first + i]) << first << "+" << i;
    }
  }
}

TEST(Mlp, RelativeErrorLossTrains) {
  const auto train = testing::make_synthetic(500, 6);
  const auto test = testing::make_synthetic(200, 7);
  mlp_options o;
  o.loss = mlp_loss::relative_error;
  o.max_epochs = 150;
  mlp_regressor model(o);
  model.fit(train.x, train.y_ms, 3);
  const auto m = evaluate(model.predict(test.x), test.y_ms);
  EXPECT_GE(m.within_10, 0.9) << "MAPE " << m.mape_percent;
  EXPECT_EQ(mlp_regressor().options().loss, mlp_loss::log_mse);  // log space is the default
  EXPECT_EQ(load_regressor(model.save())->predict(test.x), model.predict(test.x));
}

TEST(Mlp, TuningDependsOnlyOnTheRows) {
  // Members (seeds) and ranks must agree on the width and decay: a function of the rows alone.
  const auto train = testing::make_synthetic(60, 6);
  mlp_options o;
  o.tune = true;
  o.max_epochs = 60;  // the grid is the point, not the accuracy
  mlp_regressor a(o), b(o);
  a.fit(train.x, train.y_ms, 1);
  b.fit(train.x, train.y_ms, 77);
  EXPECT_EQ(a.options().hidden, b.options().hidden);
  EXPECT_EQ(a.options().weight_decay, b.options().weight_decay);
  EXPECT_EQ(a.options().hidden.size(), 2u);
  EXPECT_NE(std::find(mlp_tuning_widths.begin(), mlp_tuning_widths.end(), a.options().hidden[0]),
            mlp_tuning_widths.end());
  EXPECT_NE(std::find(mlp_tuning_decays.begin(), mlp_tuning_decays.end(), a.options().weight_decay),
            mlp_tuning_decays.end());
  EXPECT_NE(a.predict(train.x), b.predict(train.x)) << "the seeds still differ (initialisation, batches)";
}

TEST(Mlp, OptionsAreChecked) {
  mlp_options o;
  o.hidden = {};
  EXPECT_THROW(mlp_regressor{o}, usage_error);
  o = {};
  o.validation_fraction = 1.0;
  EXPECT_THROW(mlp_regressor{o}, usage_error);
  EXPECT_EQ(parse_mlp_loss("relative_error"), mlp_loss::relative_error);
  EXPECT_THROW((void)parse_mlp_loss("huber"), usage_error);
}

}  // namespace
}  // namespace esm::surrogate

namespace esm::surrogate {
// max_steps bounds the epochs where an epoch holds many batches (a 100,000-row fit), and leaves
// a fit whose epochs are few batches alone.
TEST(Mlp, StepBudgetCapsTheEpochs) {
  const auto train = testing::make_synthetic(1000, 1);
  mlp_options o;
  o.max_steps = 100;  // 900 training rows / 32 = 29 steps an epoch: 3 epochs
  mlp_regressor capped(o);
  capped.fit(train.x, train.y_ms, 42);
  EXPECT_EQ(capped.epochs_run(), 3u);
  mlp_regressor free_run;  // default budget: far more epochs than that before early stopping
  free_run.fit(train.x, train.y_ms, 42);
  EXPECT_GT(free_run.epochs_run(), 3u);
}

}  // namespace esm::surrogate
