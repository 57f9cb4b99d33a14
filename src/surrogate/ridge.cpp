// Ridge regression: closed form on standardised features, penalty by inner K-fold CV.
#include "esm/surrogate/ridge.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "eigen_support.hpp"
#include "esm/common/error.hpp"
#include "esm/surrogate/folds.hpp"
#include "support.hpp"

namespace esm::surrogate {

namespace {

// Version 2 added log_columns and log_floor; version 1 states (no logged columns) still load.
constexpr std::uint64_t state_version = 2;

const detail::option_field<ridge_options> option_fields[] = {
    {"inner_folds", &ridge_options::inner_folds},
    {"log_target", &ridge_options::log_target},
};

/// Columns that may enter as logarithms: every training value > 0 and max >= 2 min. Sets `floor`
/// to half the column's minimum (predictions clamp to it) and returns whether any qualified.
bool loggable_columns(matrix_view x, std::vector<double>& mask, std::vector<double>& floor) {
  mask.assign(x.cols, 0.0);
  floor.assign(x.cols, 0.0);
  bool any = false;
  for (std::size_t c = 0; c < x.cols; ++c) {
    double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
    for (std::size_t r = 0; r < x.rows; ++r) {
      lo = std::min(lo, x(r, c));
      hi = std::max(hi, x(r, c));
    }
    if (x.rows > 0 && lo > 0.0 && hi >= 2.0 * lo) {
      mask[c] = 1.0;
      floor[c] = 0.5 * lo;
      any = true;
    }
  }
  return any;
}

matrix with_logs(matrix_view x, std::span<const double> mask, std::span<const double> floor) {
  matrix out(x.rows, x.cols, std::vector<double>(x.data, x.data + x.rows * x.cols));
  for (std::size_t c = 0; c < x.cols; ++c) {
    if (mask[c] == 0.0) continue;
    for (std::size_t r = 0; r < x.rows; ++r) out(r, c) = std::log(std::max(out(r, c), floor[c]));
  }
  return out;
}

/// Standardisation and one coefficient vector per penalty, fitted on (x, t).
struct ridge_path {
  detail::column_scaling scaling;
  double target_mean = 0.0;
  std::vector<Eigen::VectorXd> coef;  ///< per alpha, on standardised features
};

detail::row_matrix standardised(matrix_view x, const detail::column_scaling& s) {
  const auto mean = detail::as_eigen(std::span<const double>(s.mean));
  const auto scale = detail::as_eigen(std::span<const double>(s.scale));
  return (detail::as_eigen(x).rowwise() - mean.transpose()).array().rowwise() / scale.transpose().array();
}

ridge_path solve_path(matrix_view x, std::span<const double> t, std::span<const double> alphas) {
  ridge_path path;
  path.scaling = detail::fit_column_scaling(x);
  const auto z = standardised(x, path.scaling);
  const auto tv = detail::as_eigen(t);
  path.target_mean = tv.mean();
  const double n = static_cast<double>(x.rows);
  // Features are centred, so the intercept (the target mean) is unpenalised and drops out here.
  const Eigen::MatrixXd gram = (z.transpose() * z) / n;
  const Eigen::VectorXd rhs = (z.transpose() * (tv.array() - path.target_mean).matrix()) / n;
  for (double alpha : alphas) {
    Eigen::MatrixXd system = gram;
    system.diagonal().array() += alpha;
    const Eigen::LDLT<Eigen::MatrixXd> ldlt(system);
    if (ldlt.info() != Eigen::Success) throw error("ridge fit: LDLT failed for alpha " + std::to_string(alpha));
    path.coef.push_back(ldlt.solve(rhs));
  }
  return path;
}

/// Target-space predictions of coefficients `coef` under `path`'s standardisation.
Eigen::VectorXd path_predict(const ridge_path& path, const Eigen::VectorXd& coef, matrix_view x) {
  return (standardised(x, path.scaling) * coef).array() + path.target_mean;
}

}  // namespace

void ridge_options::validate() const {
  if (alpha_grid.empty()) throw usage_error("ridge options: alpha_grid is empty");
  for (double a : alpha_grid)
    if (!(a > 0.0) || !std::isfinite(a))
      throw usage_error("ridge options: alpha_grid values must be finite and > 0, got " + std::to_string(a));
  if (inner_folds < 2) throw usage_error("ridge options: inner_folds must be >= 2");
}

ridge_regressor::ridge_regressor(ridge_options options) : options_(std::move(options)) { options_.validate(); }

void ridge_regressor::fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) {
  check_training_data("ridge", x, y_ms);
  const auto t = detail::to_target(y_ms, options_.log_target);
  const auto& grid = options_.alpha_grid;

  // Candidate inputs: the raw columns, and (when some qualify) the same with the loggable columns
  // replaced by their logarithms. Which columns qualify depends on x only, never on the targets.
  std::vector<double> mask, floor;
  const bool logs = options_.try_log_features && loggable_columns(x, mask, floor);
  std::vector<matrix> inputs(1, matrix(x.rows, x.cols, std::vector<double>(x.data, x.data + x.rows * x.cols)));
  if (logs) inputs.push_back(with_logs(x, mask, floor));

  // The largest penalty on the raw columns is the safe choice when there is nothing to validate on.
  std::size_t best = grid.size() - 1, best_input = 0;
  const std::size_t k = std::min(options_.inner_folds, x.rows);
  if ((grid.size() > 1 || inputs.size() > 1) && k >= 2) {
    const auto fold_of_row = kfold(x.rows, k, detail::derive_seed(seed, 1));
    std::vector<std::vector<double>> sse(inputs.size(), std::vector<double>(grid.size(), 0.0));
    for (std::size_t f = 0; f < k; ++f) {
      const auto split = split_fold(fold_of_row, f);
      const auto t_train = select(t, split.train);
      const auto t_test = select(t, split.test);
      const auto t_test_map = detail::as_eigen(std::span<const double>(t_test));
      for (std::size_t in = 0; in < inputs.size(); ++in) {
        const matrix x_train = select_rows(inputs[in], split.train);
        const matrix x_test = select_rows(inputs[in], split.test);
        const auto path = solve_path(x_train, t_train, grid);
        for (std::size_t a = 0; a < grid.size(); ++a)
          sse[in][a] += (path_predict(path, path.coef[a], x_test) - t_test_map).squaredNorm();
      }
    }
    // Strictly smaller error wins, visiting the raw columns first and each grid from the largest
    // penalty down: ties go to the raw columns and the larger (simpler) model.
    double best_sse = std::numeric_limits<double>::infinity();
    for (std::size_t in = 0; in < inputs.size(); ++in) {
      for (std::size_t a = grid.size(); a-- > 0;) {
        if (sse[in][a] < best_sse) {
          best_sse = sse[in][a];
          best = a;
          best_input = in;
        }
      }
    }
  }

  alpha_ = grid[best];
  if (best_input == 1) {
    log_columns_ = std::move(mask);
    log_floor_ = std::move(floor);
  } else {
    log_columns_.assign(x.cols, 0.0);
    log_floor_.assign(x.cols, 0.0);
  }
  const auto path = solve_path(inputs[best_input], t, std::span<const double>(&alpha_, 1));
  feature_mean_ = path.scaling.mean;
  feature_scale_ = path.scaling.scale;
  coef_.assign(path.coef.front().begin(), path.coef.front().end());
  intercept_ = path.target_mean;
}

void ridge_regressor::predict_into(matrix_view x, std::span<double> out_ms) const {
  check_prediction_args("ridge", fitted(), coef_.size(), x, out_ms);
  // Folding the standardisation into raw-feature weights saves a temporary of x's size.
  Eigen::VectorXd w(static_cast<Eigen::Index>(coef_.size()));
  double bias = intercept_;
  for (std::size_t c = 0; c < coef_.size(); ++c) {
    w[static_cast<Eigen::Index>(c)] = coef_[c] / feature_scale_[c];
    bias -= w[static_cast<Eigen::Index>(c)] * feature_mean_[c];
  }
  // Logged columns: their weight applies to log(max(x, floor)), added row by row below.
  std::vector<std::size_t> logged;
  for (std::size_t c = 0; c < log_columns_.size(); ++c) {
    if (log_columns_[c] == 0.0) continue;
    logged.push_back(c);
  }
  Eigen::VectorXd w_raw = w;
  for (std::size_t c : logged) w_raw[static_cast<Eigen::Index>(c)] = 0.0;
  auto out = detail::as_eigen(out_ms);
  out.noalias() = detail::as_eigen(x) * w_raw;
  out.array() += bias;
  for (std::size_t r = 0; r < x.rows; ++r) {
    for (std::size_t c : logged) {
      out[static_cast<Eigen::Index>(r)] += w[static_cast<Eigen::Index>(c)] * std::log(std::max(x(r, c), log_floor_[c]));
    }
  }
  if (options_.log_target) out = out.array().exp();
}

model_state ridge_regressor::save() const {
  if (!fitted()) throw error("ridge save: the model is not fitted");
  model_state s;
  detail::write_header(s, kind(), state_version);
  s.set_vector("options/alpha_grid", options_.alpha_grid);
  detail::write_options<ridge_options>(s, options_, option_fields);
  s.set_scalar("options/try_log_features", options_.try_log_features ? 1.0 : 0.0);
  s.set_scalar("alpha", alpha_);
  s.set_vector("log_columns", log_columns_);
  s.set_vector("log_floor", log_floor_);
  s.set_vector("feature_mean", feature_mean_);
  s.set_vector("feature_scale", feature_scale_);
  s.set_vector("coef", coef_);
  s.set_scalar("intercept", intercept_);
  return s;
}

void ridge_regressor::load(const model_state& state) {
  // Version 1 (no logged columns) and 2 both load; the header check names the version otherwise.
  const bool v1 = state.contains("version") && state.count("version") == 1;
  detail::check_header(state, kind(), v1 ? 1 : state_version);
  ridge_options o;
  o.alpha_grid = state.numbers("options/alpha_grid");
  detail::read_options<ridge_options>(state, o, option_fields);
  o.try_log_features = !v1 && state.count("options/try_log_features") != 0;  // v1 predates the option
  o.validate();
  const std::uint64_t d = state.shape("coef").empty() ? 0 : state.shape("coef").front();
  const std::vector<std::uint64_t> shape{d};
  auto mean = state.numbers("feature_mean", shape);
  auto scale = state.numbers("feature_scale", shape);
  auto coef = state.numbers("coef", shape);
  if (d == 0) throw error("model state: ridge 'coef' is empty");
  auto log_columns = v1 ? std::vector<double>(d, 0.0) : state.numbers("log_columns", shape);
  auto log_floor = v1 ? std::vector<double>(d, 0.0) : state.numbers("log_floor", shape);
  for (std::size_t c = 0; c < d; ++c) {
    if ((log_columns[c] != 0.0 && log_columns[c] != 1.0) || (log_columns[c] == 1.0 && !(log_floor[c] > 0.0))) {
      throw error("model state: ridge 'log_columns'/'log_floor' malformed at column " + std::to_string(c));
    }
  }
  options_ = std::move(o);
  alpha_ = state.scalar("alpha");
  log_columns_ = std::move(log_columns);
  log_floor_ = std::move(log_floor);
  feature_mean_ = std::move(mean);
  feature_scale_ = std::move(scale);
  coef_ = std::move(coef);
  intercept_ = state.scalar("intercept");
}

std::unique_ptr<regressor> ridge_regressor::clone_unfitted() const { return std::make_unique<ridge_regressor>(options_); }

}  // namespace esm::surrogate
