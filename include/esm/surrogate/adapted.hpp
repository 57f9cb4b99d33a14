// A latency model for a new device from a few measured rows: source models' predictions (other
// devices) recalibrated in log space, plus a residual correction on the encoding's features that
// shrinks to nothing when the rows cannot support it (few-shot cross-device transfer, issue 29).
//
// In log space, with z_j = log(source j's prediction) and x the features:
//   log y = z_s + c + a (z_s - mean) + sum_j b_j (z_j - z_s) + sum_k g_k x_k
// s is one base source. Each block (a: slope; b: the other sources; g: the features) is a ridge
// block with its own penalty, from {off, 4 strengths} per block; the intercept c is free. Every
// (s, penalties) candidate is scored by exact leave-one-out on the K rows (the ridge hat matrix in
// its K x K dual form), and the simplest candidate whose LOO mean squared log error is within one
// standard error of the best is kept (the one-standard-error rule). Below 10 rows only the rescale
// is fitted (log_adapter_options): even with that rule, 125 candidates on 5 rows overfit. With no sources the
// same fit is a ridge of log latency on x with its penalty by LOO (esm's "from scratch" baseline).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "esm/surrogate/regressor.hpp"

namespace esm::surrogate {

/// Which candidates fit_log_adapter weighs. Defaults: what the development split of the HELP
/// sweep chose (docs/transfer.md, "How the defaults were chosen").
struct log_adapter_options {
  /// Below this many rows only the plain rescale of the base is fitted (slope, other sources and
  /// features off): leave-one-out over 125 candidates on 5 rows overfits. 0: never. Without
  /// sources it does not apply (the fit is then the from-scratch ridge on the features).
  std::size_t rescale_only_below = 10;
  /// Also try as base the mean log prediction of the best 2, 3, ... sources (ranked by their plain
  /// rescale's leave-one-out error), so that the other-sources block shrinks toward a consensus
  /// rather than toward one source. Off: on the development split it lost 1 point of ±10% at K = 10.
  bool pooled_bases = false;
};

/// The fitted adapter in original units: log y = intercept + sum_j source_weight[j] z_j +
/// sum_k feature_weight[k] x_k.
struct log_adapter {
  std::size_t base = 0;                 ///< index of the base source (0 without sources)
  std::vector<std::size_t> base_sources;  ///< sources averaged into the base (one unless pooled; not stored in a state)
  double intercept = 0;
  std::vector<double> source_weight;    ///< one per source
  std::vector<double> feature_weight;   ///< one per feature column
  /// Chosen penalty strength per block (slope, other sources, features): 0 = block off.
  double slope_strength = 0, sources_strength = 0, features_strength = 0;
  double loo_mse = 0;                   ///< leave-one-out mean squared log error of the choice
  std::vector<double> loo_log;          ///< leave-one-out prediction of each row, log space
  [[nodiscard]] double predict_log(const double* z, const double* x) const;
  /// One line: "base source 2, rescale x0.84, slope off, other sources off, features off".
  [[nodiscard]] std::string describe() const;
  /// The base's sources joined by '+': "2", or "0+3" for a pooled base.
  [[nodiscard]] std::string base_label() const;
};

/// Fits the adapter on K rows: z (K x sources, log predictions; may have 0 columns), x (K x
/// features; may have 0 columns), t (K log latencies). Throws esm::error for fewer than 3 rows,
/// mismatched sizes or non-finite inputs. Pure and deterministic.
[[nodiscard]] log_adapter fit_log_adapter(matrix_view z, matrix_view x, std::span<const double> t,
                                          const log_adapter_options& options = {});

/// The best source by one factor: the source whose log prediction, shifted by the mean log ratio
/// on the K rows, has the least squared log error there; an adapter with only that intercept.
[[nodiscard]] log_adapter fit_rescaled_best(matrix_view z, std::span<const double> t);

/// The surrogate kind "adapted": owns fitted source models (predicting from the same features);
/// fit() fits the log adapter on their predictions. Loaded from a state, it carries its sources.
class adapted_regressor final : public regressor {
 public:
  adapted_regressor() = default;  ///< for load()
  explicit adapted_regressor(std::vector<std::unique_ptr<regressor>> sources, log_adapter_options options = {});

  [[nodiscard]] std::string_view kind() const override { return "adapted"; }
  /// Throws esm::error without sources, or when a source expects another feature count.
  void fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) override;
  void predict_into(matrix_view x, std::span<double> out_ms) const override;
  [[nodiscard]] model_state save() const override;
  void load(const model_state& state) override;
  [[nodiscard]] bool fitted() const override { return fitted_; }
  [[nodiscard]] std::size_t feature_count() const override { return features_; }
  [[nodiscard]] std::unique_ptr<regressor> clone_unfitted() const override;

  [[nodiscard]] const log_adapter& adapter() const { return adapter_; }
  [[nodiscard]] std::size_t source_count() const { return sources_.size(); }
  /// log of every source's prediction for every row of x (rows x sources, row-major).
  [[nodiscard]] matrix source_log_predictions(matrix_view x) const;

 private:
  std::vector<std::unique_ptr<regressor>> sources_;
  log_adapter_options options_;
  log_adapter adapter_;
  std::size_t features_ = 0;
  bool fitted_ = false;
};

}  // namespace esm::surrogate
