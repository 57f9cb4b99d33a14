// The regressor interface's shared parts: argument checks, the kind factory and state dispatch.
#include "esm/surrogate/regressor.hpp"

#include <cmath>
#include <string>

#include "esm/common/error.hpp"
#include "esm/surrogate/ensemble.hpp"
#include "esm/surrogate/hybrid.hpp"
#include "esm/surrogate/mlp.hpp"
#include "esm/surrogate/ridge.hpp"
#include "esm/surrogate/xgboost.hpp"

namespace esm::surrogate {

std::vector<double> regressor::predict(matrix_view x) const {
  std::vector<double> out(x.rows);
  predict_into(x, out);
  return out;
}

std::unique_ptr<regressor> make_regressor(std::string_view kind) {
  if (kind == "ridge") return std::make_unique<ridge_regressor>();
  if (kind == "mlp") {
    mlp_options o;  // esm train's kind: width and weight decay by inner CV (issue 15)
    o.tune = true;
    return std::make_unique<mlp_regressor>(o);
  }
  if (kind == "xgboost") {
    // esm train's kind: hyper-parameters by inner CV on the training rows (issue 15: a fixed
    // configuration was half as accurate as a tuned XGBoost on real labels).
    xgboost_options o;
    o.tune = true;
    return std::make_unique<xgboost_regressor>(o);
  }
  if (kind == "hybrid") {
    xgboost_options trees;  // tuned like the xgboost kind, on the linear part's residual ratios
    trees.tune = true;
    return std::make_unique<hybrid_regressor>(ridge_options{}, trees);
  }
  if (kind == "ensemble") return make_default_ensemble();
  throw usage_error("unknown surrogate kind '" + std::string(kind) + "' (ridge, mlp, xgboost, hybrid, ensemble)");
}

std::unique_ptr<regressor> load_regressor(const model_state& state) {
  const std::string& kind = state.text("kind");
  std::unique_ptr<regressor> model;
  if (kind == "ensemble") {
    model = std::make_unique<ensemble_regressor>();
  } else if (kind == "ridge" || kind == "mlp" || kind == "xgboost" || kind == "hybrid") {
    model = make_regressor(kind);
  } else {
    throw error("model state: unknown kind '" + kind + "'");
  }
  model->load(state);
  return model;
}

void check_training_data(std::string_view who, matrix_view x, std::span<const double> y_ms) {
  const std::string name(who);
  if (x.rows == 0 || x.cols == 0) throw error(name + " fit: no training rows or no features");
  if (y_ms.size() != x.rows)
    throw error(name + " fit: " + std::to_string(y_ms.size()) + " latencies for " + std::to_string(x.rows) + " rows");
  for (std::size_t i = 0; i < y_ms.size(); ++i)
    if (!std::isfinite(y_ms[i]) || !(y_ms[i] > 0.0))
      throw error(name + " fit: latency of row " + std::to_string(i) + " is " + std::to_string(y_ms[i]) +
                  " (must be finite and > 0)");
  for (std::size_t i = 0; i < x.rows * x.cols; ++i)
    if (!std::isfinite(x.data[i]))
      throw error(name + " fit: feature " + std::to_string(i % x.cols) + " of row " + std::to_string(i / x.cols) +
                  " is not finite");
}

void check_prediction_args(std::string_view who, bool fitted, std::size_t features, matrix_view x,
                           std::span<const double> out) {
  const std::string name(who);
  if (!fitted) throw error(name + " predict: the model is not fitted");
  if (x.cols != features)
    throw error(name + " predict: " + std::to_string(x.cols) + " features, the model was fitted on " +
                std::to_string(features));
  if (out.size() != x.rows)
    throw error(name + " predict: output holds " + std::to_string(out.size()) + " values for " +
                std::to_string(x.rows) + " rows");
}

}  // namespace esm::surrogate
