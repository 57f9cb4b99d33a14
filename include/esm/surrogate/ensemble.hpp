// Ensembles: M members per model kind (different seeds, optionally bootstrapped rows). The
// prediction is the weighted mean of the members' latencies and the uncertainty their weighted
// spread. Members of one kind share their kind's weight equally; kinds are weighted equally, or,
// when stacked, by a non-negative blend fitted to out-of-fold predictions.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "esm/surrogate/regressor.hpp"

namespace esm::surrogate {

struct ensemble_options {
  std::size_t members_per_kind = 3;
  /// Each member fits n rows drawn with replacement from its own seed (bagging); off: every
  /// member sees every row and differs only by its seed.
  bool bootstrap = false;
  /// Blend the kinds by least squares on out-of-fold predictions (relative error, weights clipped
  /// at 0 and renormalised to sum 1). Needs two kinds or more; one kind always has weight 1.
  bool stacked = false;
  std::size_t stacking_folds = 5;

  /// Throws esm::usage_error naming the first bad field.
  void validate() const;
};

/// Per row: the weighted mean of the members' predictions, their weighted population standard
/// deviation sqrt(sum_m w_m (p_m - mean)^2) (weights sum to 1) and std / mean.
struct ensemble_prediction {
  std::vector<double> mean_ms;
  std::vector<double> std_ms;
  std::vector<double> relative_spread;
};

/// The arithmetic above for member_predictions_ms (members x rows) and one weight per member
/// (non-negative, summing to 1). Pure; exposed for tests.
[[nodiscard]] ensemble_prediction combine_members(matrix_view member_predictions_ms,
                                                  std::span<const double> member_weights);

/// Blend weights of the columns of oof_ms (rows x kinds: out-of-fold predictions): the
/// non-negative least-squares solution w >= 0 of min sum_i (sum_k w_k p_ik / y_i - 1)^2 (nnls.hpp),
/// scaled to sum 1, i.e. each kind's share of the blend (all 0: equal weights). Pure; exposed for tests.
[[nodiscard]] std::vector<double> stacking_weights(matrix_view oof_ms, std::span<const double> y_ms);

class ensemble_regressor final : public regressor {
 public:
  /// An empty ensemble, to be load()ed.
  ensemble_regressor();
  /// One group of options.members_per_kind members per prototype (each a clone_unfitted() copy).
  explicit ensemble_regressor(std::vector<std::unique_ptr<regressor>> prototypes, ensemble_options options = {});
  ~ensemble_regressor() override;
  ensemble_regressor(ensemble_regressor&&) noexcept;
  ensemble_regressor& operator=(ensemble_regressor&&) noexcept;

  /// An ensemble of members fitted elsewhere (e.g. on other MPI ranks): member i belongs to
  /// group group_of_member[i]; groups weigh `group_weights` (empty: equally; else non-negative,
  /// summing to 1). Throws esm::error on inconsistent input.
  [[nodiscard]] static ensemble_regressor from_members(std::vector<std::unique_ptr<regressor>> members,
                                                       std::vector<std::size_t> group_of_member,
                                                       ensemble_options options = {},
                                                       std::vector<double> group_weights = {});

  [[nodiscard]] std::string_view kind() const override { return "ensemble"; }
  /// Member seeds (and bootstrap samples, and stacking folds) all derive from `seed`.
  void fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) override;
  /// The weighted mean of the members.
  void predict_into(matrix_view x, std::span<double> out_ms) const override;
  [[nodiscard]] ensemble_prediction predict_with_uncertainty(matrix_view x) const;
  [[nodiscard]] model_state save() const override;
  void load(const model_state& state) override;
  [[nodiscard]] bool fitted() const override;
  [[nodiscard]] std::size_t feature_count() const override;
  [[nodiscard]] std::unique_ptr<regressor> clone_unfitted() const override;

  [[nodiscard]] const ensemble_options& options() const { return options_; }
  /// Blend weight of each kind group (sums to 1); the group's members share it equally.
  [[nodiscard]] const std::vector<double>& group_weights() const { return group_weights_; }
  [[nodiscard]] std::size_t member_count() const { return members_.size(); }
  [[nodiscard]] const regressor& member(std::size_t i) const { return *members_.at(i); }
  /// Weight of each member in the mean (sums to 1).
  [[nodiscard]] std::vector<double> member_weights() const;

 private:
  void predict_members(matrix_view x, std::vector<double>& member_predictions) const;

  ensemble_options options_;
  std::vector<std::unique_ptr<regressor>> prototypes_;
  std::vector<std::unique_ptr<regressor>> members_;
  std::vector<std::size_t> member_group_;
  std::vector<double> group_weights_;
};

/// ESM's default predictor: options.members_per_kind MLPs with default mlp_options.
[[nodiscard]] std::unique_ptr<ensemble_regressor> make_default_ensemble(ensemble_options options = {});

}  // namespace esm::surrogate
