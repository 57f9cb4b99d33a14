// Ridge: exact recovery of noise-free linear functions, penalty selection, input checks.
#include "esm/surrogate/ridge.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"

namespace esm::surrogate {
namespace {

constexpr double true_intercept = 3.0;
const std::vector<double> true_slope{2.0, -1.0, 0.5, 0.0, 1.5};

/// Features uniform in [0, 1); f(x) = 3 + 2 x0 - x1 + 0.5 x2 + 1.5 x4 >= 2.
matrix random_features(std::size_t rows, std::uint64_t seed) {
  rng r(seed);
  matrix x(rows, true_slope.size());
  for (double& v : x.data) v = r.uniform01();
  return x;
}

double linear(std::span<const double> row) {
  double v = true_intercept;
  for (std::size_t c = 0; c < row.size(); ++c) v += true_slope[c] * row[c];
  return v;
}

std::vector<double> linear_targets(const matrix& x) {
  std::vector<double> y;
  for (std::size_t i = 0; i < x.rows; ++i) y.push_back(linear(x.row(i)));
  return y;
}

TEST(Ridge, RecoversANoiseFreeLinearFunction) {
  const matrix x = random_features(200, 1);
  const std::vector<double> y = linear_targets(x);
  ridge_options o;
  o.log_target = false;
  ridge_regressor model(o);
  model.fit(x, y, 7);
  // Noise-free data: inner CV prefers the smallest penalty, whose bias is ~alpha relative.
  EXPECT_DOUBLE_EQ(model.alpha(), o.alpha_grid.front());
  const matrix x_test = random_features(50, 2);
  const auto p = model.predict(x_test);
  for (std::size_t i = 0; i < x_test.rows; ++i) EXPECT_NEAR(p[i], linear(x_test.row(i)), 1e-5);
  // Coefficients are on standardised features: back on the raw scale they are the true slopes.
  const model_state s = model.save();
  const auto& scale = s.numbers("feature_scale");
  for (std::size_t c = 0; c < true_slope.size(); ++c)
    EXPECT_NEAR(model.coefficients()[c] / scale[c], true_slope[c], 1e-5) << "feature " << c;
}

TEST(Ridge, LogTargetRecoversAnExponentialOfALinearFunction) {
  const matrix x = random_features(150, 3);
  std::vector<double> y;
  for (std::size_t i = 0; i < x.rows; ++i) y.push_back(std::exp(0.1 * linear(x.row(i))));
  ridge_regressor model;  // log_target by default
  model.fit(x, y, 1);
  const auto p = model.predict(x);
  for (std::size_t i = 0; i < x.rows; ++i) EXPECT_NEAR(p[i] / y[i], 1.0, 1e-6);
}

TEST(Ridge, NoisyDataPicksALargerPenaltyThanNoiseFree) {
  // 30 rows, 20 features of which one matters, noise of the signal's size: shrinkage pays.
  rng r(5);
  matrix x(30, 20);
  for (double& v : x.data) v = r.normal();
  std::vector<double> y;
  for (std::size_t i = 0; i < x.rows; ++i) y.push_back(10.0 + x(i, 0) + 1.5 * r.normal());
  ridge_options o;
  o.log_target = false;
  ridge_regressor model(o);
  model.fit(x, y, 2);
  EXPECT_GT(model.alpha(), 1e-3);
}

TEST(Ridge, PowerLawColumnsEnterAsLogarithms) {
  // Latency ~ MACs^0.7 x exp(0.1 count): linear in log-log. Column 0 (MACs, 1..10) qualifies for
  // a logarithm; column 1 (a block count, with zeros) does not.
  rng r(11);
  const auto make = [&](std::size_t rows) {
    matrix x(rows, 2);
    for (std::size_t i = 0; i < rows; ++i) {
      x(i, 0) = 1.0 + 9.0 * r.uniform01();
      x(i, 1) = static_cast<double>(i % 4);
    }
    return x;
  };
  const auto law = [](std::span<const double> row) { return 0.5 * std::pow(row[0], 0.7) * std::exp(0.1 * row[1]); };
  const matrix x = make(120), x_test = make(40);
  std::vector<double> y;
  for (std::size_t i = 0; i < x.rows; ++i) y.push_back(law(x.row(i)));

  ridge_regressor model;  // tries logs by default
  model.fit(x, y, 3);
  EXPECT_EQ(model.log_columns(), (std::vector<double>{1.0, 0.0}));
  const auto p = model.predict(x_test);
  for (std::size_t i = 0; i < x_test.rows; ++i) EXPECT_NEAR(p[i] / law(x_test.row(i)), 1.0, 1e-4);

  ridge_options raw_only;
  raw_only.try_log_features = false;
  ridge_regressor raw(raw_only);
  raw.fit(x, y, 3);
  EXPECT_EQ(raw.log_columns(), (std::vector<double>{0.0, 0.0}));
  double worst = 0;
  const auto q = raw.predict(x_test);
  for (std::size_t i = 0; i < x_test.rows; ++i) worst = std::max(worst, std::abs(q[i] / law(x_test.row(i)) - 1.0));
  EXPECT_GT(worst, 1e-2) << "a linear fit on raw MACs cannot follow the power law";

  // The logged columns survive save/load, and a value below the training range is clamped, not NaN.
  ridge_regressor loaded;
  loaded.load(model.save());
  EXPECT_EQ(loaded.predict(x_test), p);
  matrix tiny(1, 2);
  tiny(0, 0) = 0.0;
  EXPECT_TRUE(std::isfinite(loaded.predict(tiny)[0]));
}

TEST(Ridge, VersionOneStatesStillLoad) {
  // States written before logged columns existed (version 1) load with every column raw.
  const matrix x = random_features(60, 4);
  const std::vector<double> y = linear_targets(x);
  ridge_options o;
  o.try_log_features = false;
  ridge_regressor model(o);
  model.fit(x, y, 1);
  model_state v1 = model.save();
  v1.set_scalar("version", 1.0);
  ridge_regressor old;
  old.load(v1);
  EXPECT_EQ(old.predict(x), model.predict(x));
  EXPECT_FALSE(old.options().try_log_features);
  model_state v3 = model.save();
  v3.set_scalar("version", 3.0);
  EXPECT_THROW(old.load(v3), error);
}

TEST(Ridge, RejectsBadInputs) {
  const matrix x = random_features(10, 1);
  ridge_regressor model;
  EXPECT_THROW(model.fit(x, std::vector<double>(9, 1.0), 1), error);             // row count
  EXPECT_THROW(model.fit(x, std::vector<double>(10, 0.0), 1), error);            // latency 0
  EXPECT_THROW((void)model.predict(x), error);                                    // not fitted
  ridge_options bad;
  bad.alpha_grid = {1.0, -1.0};
  EXPECT_THROW(ridge_regressor{bad}, usage_error);
  model.fit(x, std::vector<double>(10, 2.0), 1);
  EXPECT_THROW((void)model.predict(matrix(3, 4)), error);                         // feature count
}

}  // namespace
}  // namespace esm::surrogate
