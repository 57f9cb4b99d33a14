// The regressor interface's shared parts: the table of kinds (factory, state dispatch, names) and
// the argument checks.
#include "esm/surrogate/regressor.hpp"

#include <cmath>
#include <string>

#include "esm/common/error.hpp"
#include "esm/surrogate/adapted.hpp"
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

namespace {

template <class Model>
std::unique_ptr<regressor> load_as(const model_state& state) {
  auto model = std::make_unique<Model>();
  model->load(state);
  return model;
}

std::unique_ptr<regressor> make_ridge(tuning_cache* /*cache: nothing to keep*/) { return std::make_unique<ridge_regressor>(); }

std::unique_ptr<regressor> make_tuned_mlp(tuning_cache* cache) {
  mlp_options o;  // esm train's kind: width and weight decay by inner CV (issue 15)
  o.tune = true;
  return std::make_unique<mlp_regressor>(o, cache);
}

std::unique_ptr<regressor> make_tuned_xgboost(tuning_cache* cache) {
  // esm train's kind: hyper-parameters by inner CV on the training rows (issue 15: a fixed
  // configuration was half as accurate as a tuned XGBoost on real labels).
  xgboost_options o;
  o.tune = true;
  o.absolute_loss = true;  // the median, as esm's scores are absolute errors (docs/decisions.md)
  return std::make_unique<xgboost_regressor>(o, cache);
}

std::unique_ptr<regressor> make_hybrid(tuning_cache* cache) {
  xgboost_options trees;  // tuned like the xgboost kind, on the linear part's residual ratios
  trees.tune = true;
  trees.absolute_loss = true;  // the median of the ratio, as the xgboost kind
  return std::make_unique<hybrid_regressor>(ridge_options{}, trees, cache);
}

// Its MLPs do not tune: nothing to keep in a cache.
std::unique_ptr<regressor> make_ensemble(tuning_cache* /*cache*/) { return make_default_ensemble(); }

// The one declaration of the kinds. Loaders start from a default model: load() replaces every
// option with the state's.
const surrogate_kind kinds[] = {
    {"ridge", "ridge regression of log-latency; penalty and logged columns by inner CV", &make_ridge,
     &load_as<ridge_regressor>, true},
    {"mlp", "multi-layer perceptron; width and weight decay by inner CV", &make_tuned_mlp, &load_as<mlp_regressor>,
     true},
    {"xgboost", "gradient-boosted trees (XGBoost, absolute loss of log-latency); depth, leaf weight, step and tree count by inner CV",
     &make_tuned_xgboost, &load_as<xgboost_regressor>, true},
    {"hybrid", "ridge plus XGBoost trees (tuned as xgboost, absolute loss) on the ratios it leaves", &make_hybrid,
     &load_as<hybrid_regressor>, true},
    {"ensemble", "the library's default predictor: 3 MLPs with default options, untuned", &make_ensemble,
     &load_as<ensemble_regressor>, false},
};

}  // namespace

std::span<const surrogate_kind> kind_table() { return kinds; }

const surrogate_kind* find_kind(std::string_view name) {
  for (const auto& k : kinds)
    if (k.name == name) return &k;
  return nullptr;
}

std::vector<std::string> default_kinds() {
  std::vector<std::string> out;
  for (const auto& k : kinds)
    if (k.in_default_set) out.emplace_back(k.name);
  return out;
}

std::string kind_names(kind_set which, std::string_view separator) {
  std::string out;
  for (const auto& k : kinds) {
    if (which == kind_set::defaults && !k.in_default_set) continue;
    if (!out.empty()) out += separator;
    out += k.name;
  }
  return out;
}

std::unique_ptr<regressor> make_regressor(std::string_view kind, tuning_cache* cache) {
  const surrogate_kind* k = find_kind(kind);
  if (!k) throw usage_error("unknown surrogate kind '" + std::string(kind) + "' (" + kind_names() + ")");
  return k->make(cache);
}

std::unique_ptr<regressor> load_regressor(const model_state& state) {
  const std::string& kind = state.text("kind");
  // esm adapt's models are not a kind esm train fits (they need fitted sources): outside the table.
  if (kind == "adapted") return load_as<adapted_regressor>(state);
  const surrogate_kind* k = find_kind(kind);
  if (!k) throw error("model state: unknown kind '" + kind + "' (" + kind_names() + ")");
  return k->load(state);
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
