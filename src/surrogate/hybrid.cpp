// Ridge + residual trees (see hybrid.hpp).
#include "esm/surrogate/hybrid.hpp"

#include <vector>

#include "esm/common/error.hpp"
#include "support.hpp"

namespace esm::surrogate {

namespace {
constexpr std::uint64_t state_version = 1;
constexpr std::uint64_t linear_seed = 0x6879627269640001ULL;  // fixed: members share the linear part
}  // namespace

hybrid_regressor::hybrid_regressor(ridge_options linear, xgboost_options trees, tuning_cache* cache)
    : linear_(linear), trees_(trees), linear_options_(std::move(linear)), tree_options_(trees), cache_(cache) {
  if (!tree_options_.log_target) throw usage_error("hybrid: the residual trees must fit log targets");
}

void hybrid_regressor::fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) {
  check_training_data("hybrid", x, y_ms);
  ridge_regressor linear(linear_options_);
  linear.fit(x, y_ms, linear_seed);
  // What the linear part leaves, as a ratio (> 0): the trees fit its logarithm.
  std::vector<double> ratio = linear.predict(x);
  for (std::size_t i = 0; i < ratio.size(); ++i) ratio[i] = y_ms[i] / ratio[i];
  xgboost_regressor trees(tree_options_, cache_);
  trees.fit(x, ratio, seed);
  linear_ = std::move(linear);
  trees_ = std::move(trees);
}

void hybrid_regressor::predict_into(matrix_view x, std::span<double> out_ms) const {
  check_prediction_args("hybrid", fitted(), feature_count(), x, out_ms);
  linear_.predict_into(x, out_ms);
  std::vector<double> ratio(x.rows);
  trees_.predict_into(x, ratio);
  for (std::size_t i = 0; i < x.rows; ++i) out_ms[i] *= ratio[i];
}

model_state hybrid_regressor::save() const {
  if (!fitted()) throw error("hybrid save: the model is not fitted");
  model_state s;
  detail::write_header(s, kind(), state_version);
  s.insert_prefixed("linear/", linear_.save());
  s.insert_prefixed("trees/", trees_.save());
  return s;
}

void hybrid_regressor::load(const model_state& state) {
  detail::check_header(state, kind(), state_version);
  ridge_regressor linear;
  linear.load(state.extract_prefixed("linear/"));
  xgboost_regressor trees;
  trees.load(state.extract_prefixed("trees/"));
  if (linear.feature_count() != trees.feature_count()) {
    throw error("model state: hybrid parts disagree on the feature count (" + std::to_string(linear.feature_count()) +
                " vs " + std::to_string(trees.feature_count()) + ")");
  }
  if (!trees.options().log_target) throw error("model state: hybrid trees must fit log targets");
  linear_options_ = linear.options();
  tree_options_ = trees.options();
  linear_ = std::move(linear);
  trees_ = std::move(trees);
}

std::unique_ptr<regressor> hybrid_regressor::clone_unfitted() const {
  return std::make_unique<hybrid_regressor>(linear_options_, tree_options_, cache_);
}

}  // namespace esm::surrogate
