// Ridge + residual trees: a linear model of log-latency (ridge, logged power-law columns allowed)
// and gradient-boosted trees on what it leaves, the ratio of the measured latency to the linear
// prediction. The linear part carries the additive structure (each block adds its cost, MACs act
// as a power law) and extrapolates it; the trees add the interactions it cannot express (a block's
// cost depends on the resolution it runs at). On real CPU labels it is the most accurate single
// kind (docs/performance.md §4d); `esm train --kinds ...,hybrid` adds it to the blend.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "esm/surrogate/regressor.hpp"
#include "esm/surrogate/ridge.hpp"
#include "esm/surrogate/xgboost.hpp"

namespace esm::surrogate {

class hybrid_regressor final : public regressor {
 public:
  /// `trees` must fit log targets (log_target = true): they model log(y / linear prediction).
  /// `cache` (owned by the caller, outliving the fits; may be null) keeps the trees' tuning
  /// searches for this model and its clones.
  explicit hybrid_regressor(ridge_options linear = {}, xgboost_options trees = {}, tuning_cache* cache = nullptr);

  [[nodiscard]] std::string_view kind() const override { return "hybrid"; }
  /// The linear part's inner folds use a fixed seed, so members that differ only in `seed` share
  /// it (and the trees' tuning, which depends on the rows alone); the trees draw from `seed`.
  void fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) override;
  void predict_into(matrix_view x, std::span<double> out_ms) const override;
  [[nodiscard]] model_state save() const override;
  void load(const model_state& state) override;
  [[nodiscard]] bool fitted() const override { return linear_.fitted() && trees_.fitted(); }
  [[nodiscard]] std::size_t feature_count() const override { return linear_.feature_count(); }
  [[nodiscard]] std::unique_ptr<regressor> clone_unfitted() const override;

  [[nodiscard]] const ridge_regressor& linear() const { return linear_; }
  [[nodiscard]] const xgboost_regressor& trees() const { return trees_; }

 private:
  ridge_regressor linear_;
  xgboost_regressor trees_;
  ridge_options linear_options_;
  xgboost_options tree_options_;
  tuning_cache* cache_ = nullptr;
};

}  // namespace esm::surrogate
