// Ridge regression: the linear baseline. Closed form (LDLT) on standardised features with an
// unpenalised intercept; the penalty, and whether positive wide-ranging columns enter as their
// logarithm, are chosen by inner K-fold cross-validation.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "esm/surrogate/regressor.hpp"

namespace esm::surrogate {

struct ridge_options {
  /// Penalties tried, per row: the solved system is (Z'Z / n + alpha I) b = Z'(t - mean t) / n
  /// on standardised features Z, so alpha does not scale with the row count. 10^-6 .. 10^3.
  std::vector<double> alpha_grid = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0};
  std::size_t inner_folds = 5;  ///< K of the inner cross-validation (fewer rows: one row per fold)
  bool log_target = true;       ///< fit log(latency); false: fit latency in ms directly
  /// Also try, in the inner CV, the model with each column whose training values are all > 0 and
  /// span a factor >= 2 (MACs, params, depth: not counts with zeros) replaced by its logarithm.
  /// Latency follows such columns as a power law, which is linear in log-log; a linear model on
  /// the raw values bends it (on real CPU labels: 3.5% -> 1.8% MAPE for ridge on fcc+extras).
  bool try_log_features = true;

  /// Throws esm::usage_error naming the first bad field.
  void validate() const;
};

class ridge_regressor final : public regressor {
 public:
  explicit ridge_regressor(ridge_options options = {});

  [[nodiscard]] std::string_view kind() const override { return "ridge"; }
  /// Inner folds are drawn from `seed`; ties in CV error go to the larger alpha.
  void fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) override;
  void predict_into(matrix_view x, std::span<double> out_ms) const override;
  [[nodiscard]] model_state save() const override;
  void load(const model_state& state) override;
  [[nodiscard]] bool fitted() const override { return !coef_.empty(); }
  [[nodiscard]] std::size_t feature_count() const override { return coef_.size(); }
  [[nodiscard]] std::unique_ptr<regressor> clone_unfitted() const override;

  [[nodiscard]] const ridge_options& options() const { return options_; }
  /// The chosen penalty (after fit).
  [[nodiscard]] double alpha() const { return alpha_; }
  /// Per column: 1 where the fit uses log(max(x, floor)), the floor half the column's training
  /// minimum; all 0 when the raw columns won the inner CV.
  [[nodiscard]] const std::vector<double>& log_columns() const { return log_columns_; }
  /// Coefficients on the standardised (possibly logged) features and the intercept, in target space.
  [[nodiscard]] const std::vector<double>& coefficients() const { return coef_; }
  [[nodiscard]] double intercept() const { return intercept_; }

 private:
  ridge_options options_;
  double alpha_ = 0.0;
  std::vector<double> log_columns_;
  std::vector<double> log_floor_;
  std::vector<double> feature_mean_;
  std::vector<double> feature_scale_;
  std::vector<double> coef_;
  double intercept_ = 0.0;
};

}  // namespace esm::surrogate
