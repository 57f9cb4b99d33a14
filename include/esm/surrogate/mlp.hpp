// The multi-layer perceptron: ESM's latency predictor. ReLU hidden layers on standardised inputs,
// He initialisation from esm::rng, Adam on shuffled mini-batches, early stopping on a held-out
// validation split (the best epoch's weights are kept). Training runs in double precision with
// Eigen on one thread; prediction runs a single-precision batched kernel (the NAS loop scores
// millions of candidates).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "esm/surrogate/regressor.hpp"

namespace esm::surrogate {

class tuning_cache;

/// What training minimises. The network's output is always a standardised log-latency, so
/// predictions are positive under either loss.
enum class mlp_loss {
  log_mse,         ///< mean squared error of log-latency
  relative_error,  ///< mean |pred / y - 1| (the quantity ESM's ±5% / ±10% accuracy counts)
};
[[nodiscard]] std::string_view to_string(mlp_loss loss);
[[nodiscard]] mlp_loss parse_mlp_loss(std::string_view text);  ///< throws usage_error

struct mlp_options {
  // Defaults: chosen on a noise-free one-hot latency function (tests/surrogate/synthetic_latency.hpp,
  // 900 training rows, 100 features), where they put 99.4-100% of held-out rows within ±10%
  // (MAPE 1.4-1.9%) over seeds, and small enough that the default 3-member ensemble predicts
  // > 1M rows/s on one core for 100 features (the first layer's cost grows with the feature
  // count). Without the weight decay the network memorises the rows (train MAPE 1%, test 3-7%).
  std::vector<std::size_t> hidden = {32, 32};  ///< ReLU layer widths, input to output
  mlp_loss loss = mlp_loss::log_mse;
  double learning_rate = 3e-3;      ///< Adam step size at the start
  double min_learning_rate = 1e-5;  ///< the plateau halvings stop here
  std::size_t lr_patience = 15;     ///< epochs without validation improvement before halving the step
  std::size_t batch_size = 32;
  std::size_t max_epochs = 600;
  std::size_t patience = 60;         ///< epochs without validation improvement before stopping
  /// Adam steps a fit may take at most (whole epochs; at least one): caps max_epochs where an
  /// epoch has many batches. 40,000 leaves fits of up to ~2,300 rows (batch 32) untouched and
  /// holds a fit on 100,000 rows to 14 epochs. A training setting, not stored in the model file.
  std::size_t max_steps = 40000;
  double validation_fraction = 0.1;  ///< rows held out for early stopping; none when it rounds to 0
  /// Decoupled (AdamW) decay of the weights, not the biases: each step scales them by
  /// 1 - step size * weight_decay.
  double weight_decay = 0.5;
  /// Pick the width (two equal hidden layers of mlp_tuning_widths) and weight_decay
  /// (mlp_tuning_decays) by inner 3-fold CV on the training rows before the fit; inner folds and
  /// fits use a fixed seed, so the choice depends only on the rows (members and ranks agree), and
  /// a tuning_cache given to the model keeps it for the next fit on the same rows. Off by default
  /// here; make_regressor("mlp"), i.e. esm train, turns it on.
  bool tune = false;

  /// Throws esm::usage_error naming the first bad field.
  void validate() const;
};

inline const std::vector<std::size_t> mlp_tuning_widths{32, 64};
inline const std::vector<double> mlp_tuning_decays{0.1, 0.5, 2.0};

class mlp_regressor final : public regressor {
 public:
  /// `cache` (owned by the caller, outliving the fits; may be null) keeps the tuning's searches
  /// for this model and its clones.
  explicit mlp_regressor(mlp_options options = {}, tuning_cache* cache = nullptr);
  ~mlp_regressor() override;
  mlp_regressor(const mlp_regressor&);
  mlp_regressor& operator=(const mlp_regressor&);
  mlp_regressor(mlp_regressor&&) noexcept;
  mlp_regressor& operator=(mlp_regressor&&) noexcept;

  [[nodiscard]] std::string_view kind() const override { return "mlp"; }
  /// Weights, the validation split and the batch order all come from `seed`.
  void fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) override;
  void predict_into(matrix_view x, std::span<double> out_ms) const override;
  [[nodiscard]] model_state save() const override;
  void load(const model_state& state) override;
  [[nodiscard]] bool fitted() const override;
  [[nodiscard]] std::size_t feature_count() const override;
  [[nodiscard]] std::unique_ptr<regressor> clone_unfitted() const override;

  [[nodiscard]] const mlp_options& options() const { return options_; }
  /// Epochs run by the last fit and the epoch whose weights were kept (1-based).
  [[nodiscard]] std::size_t epochs_run() const { return epochs_run_; }
  [[nodiscard]] std::size_t best_epoch() const { return best_epoch_; }
  /// The kept epoch's validation loss (training loss when there was no validation split).
  [[nodiscard]] double best_validation_loss() const { return best_loss_; }

 private:
  struct network;
  mlp_options options_;
  tuning_cache* cache_ = nullptr;
  std::unique_ptr<network> net_;
  std::size_t epochs_run_ = 0;
  std::size_t best_epoch_ = 0;
  double best_loss_ = 0.0;
};

}  // namespace esm::surrogate
