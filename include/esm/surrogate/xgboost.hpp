// Gradient-boosted trees through XGBoost's C API (the trees are XGBoost's; esm only drives it).
// Histogram method on one thread with a fixed seed, so fits are deterministic; the fitted booster
// is saved as XGBoost's own UBJSON model bytes inside the model state.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "esm/common/error.hpp"
#include "esm/surrogate/regressor.hpp"

namespace esm {

/// An XGBoost C call failed. what(): "<call> failed at file.cpp:123: <XGBGetLastError()>".
class xgboost_error : public error {
 public:
  using error::error;
};

}  // namespace esm

namespace esm::surrogate {

class tuning_cache;

struct xgboost_options {
  std::size_t rounds = 400;  ///< boosting rounds (trees); the most kept with early stopping
  std::size_t max_depth = 6;
  double eta = 0.05;              ///< learning rate
  double subsample = 0.8;         ///< row fraction per tree (drawn from the seed)
  double colsample_bytree = 0.8;  ///< feature fraction per tree (drawn from the seed)
  double min_child_weight = 1.0;
  double reg_lambda = 1.0;        ///< L2 on leaf weights
  /// Histogram bins per feature (hist method). XGBoost's default, 256, lets the 1.7 quantile
  /// sketch merge distinct feature values even on a few hundred rows; 1024 keeps the split
  /// candidates of datasets that size (accuracy on five real datasets: neutral within the
  /// partition noise, docs/performance.md §4i). Models saved before this option existed were
  /// fitted with 256.
  std::size_t max_bin = 1024;
  /// Stop after this many rounds without improvement of the validation RMSE (in target space)
  /// and keep the best round's trees; 0 turns early stopping off (all rows train).
  std::size_t early_stopping_rounds = 0;
  double validation_fraction = 0.1;  ///< held out only when early stopping is on
  bool log_target = true;            ///< fit log(latency); false: fit latency in ms directly
  /// Fit the conditional median (XGBoost's reg:absoluteerror) instead of the mean; early stopping
  /// and tuning then follow the validation mean absolute error instead of the RMSE. esm scores
  /// models by absolute relative error (MAPE, share within ±10%): on labels whose noise is skewed
  /// (a few slow runs) a mean of log-latency is pulled towards them and a median is not.
  bool absolute_loss = false;
  /// Pick max_depth, min_child_weight, eta and the number of trees by inner K-fold CV on the
  /// training rows (xgboost_tuning_grid, early stopping on each inner fold) before the final fit.
  /// The inner folds and the inner fits' seeds are fixed, so the choice depends only on the rows:
  /// every member, rank and rank count picks the same, and a tuning_cache given to the model keeps
  /// it for the next fit on the same rows. After fit, options() holds the chosen
  /// values and tune is kept (a clone tunes again on its own rows). Off by default here (explicit
  /// options are used as given); make_regressor("xgboost"), i.e. esm train, turns it on.
  bool tune = false;

  /// Throws esm::usage_error naming the first bad field.
  void validate() const;
};

/// The tuning grid (small on purpose: it runs inside every fit). Trees: up to max_rounds, the
/// inner folds' mean best round (early stopping after early_stopping_rounds without improvement).
struct xgboost_tuning_grid {
  std::vector<std::size_t> max_depth{2, 4, 6};
  std::vector<double> min_child_weight{1.0, 4.0};
  std::vector<double> eta{0.1, 0.3};
  std::size_t max_rounds = 600;
  std::size_t early_stopping_rounds = 25;
  std::size_t inner_folds = 3;
};

/// The choice of one tuning run (exposed for tests).
struct xgboost_tuned {
  std::size_t max_depth = 0, rounds = 0;
  double min_child_weight = 0, eta = 0;
  double inner_rmse = 0;  ///< mean over inner folds, in target space (mean absolute error with absolute_loss)
};

/// Inner K-fold grid search on (x, y) with `base`'s other options. Deterministic in (x, y, grid).
[[nodiscard]] xgboost_tuned tune_xgboost(matrix_view x, std::span<const double> y_ms, const xgboost_options& base,
                                         const xgboost_tuning_grid& grid = {});

class xgboost_regressor final : public regressor {
 public:
  /// `cache` (owned by the caller, outliving the fits; may be null) keeps the tuning's searches
  /// for this model and its clones.
  explicit xgboost_regressor(xgboost_options options = {}, tuning_cache* cache = nullptr);
  ~xgboost_regressor() override;
  xgboost_regressor(const xgboost_regressor&) = delete;
  xgboost_regressor& operator=(const xgboost_regressor&) = delete;
  xgboost_regressor(xgboost_regressor&&) noexcept;
  xgboost_regressor& operator=(xgboost_regressor&&) noexcept;

  [[nodiscard]] std::string_view kind() const override { return "xgboost"; }
  /// XGBoost's seed (row and column subsampling) and the validation split come from `seed`.
  void fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) override;
  /// Features are rounded to float, as XGBoost trains on them.
  void predict_into(matrix_view x, std::span<double> out_ms) const override;
  [[nodiscard]] model_state save() const override;
  void load(const model_state& state) override;
  [[nodiscard]] bool fitted() const override;
  [[nodiscard]] std::size_t feature_count() const override { return features_; }
  [[nodiscard]] std::unique_ptr<regressor> clone_unfitted() const override;

  [[nodiscard]] const xgboost_options& options() const { return options_; }
  /// Trees kept by the last fit (rounds, or the best round + 1 with early stopping).
  [[nodiscard]] std::size_t rounds_kept() const { return rounds_kept_; }

 private:
  struct handles;
  xgboost_options options_;
  tuning_cache* cache_ = nullptr;
  std::unique_ptr<handles> booster_;
  std::size_t features_ = 0;
  std::size_t rounds_kept_ = 0;
};

}  // namespace esm::surrogate
