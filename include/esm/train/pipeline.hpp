// The training pipeline shared by `esm train` and `esm loop`: read a dataset, pick its label and
// usable rows, encode the architectures, cross-validate the surrogate kinds over the ranks and fit
// the final ensemble. Collective over `world`; every rank reads the file.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "esm/cluster/mpi.hpp"
#include "esm/features/encoding.hpp"
#include "esm/features/lut.hpp"
#include "esm/surrogate/ensemble.hpp"
#include "esm/train/cross_validation.hpp"
#include "esm/train/folds.hpp"
#include "esm/train/group_effects.hpp"
#include "esm/train/training_data.hpp"

namespace esm::train {

/// How the final model weighs its kinds, or whether one is fitted at all.
enum class final_fit {
  none,     ///< cross-validation only
  stacked,  ///< kind weights fitted on the CV predictions
  equal,    ///< every kind alike
};

struct training_request {
  std::string dataset_path;
  std::string label = "auto";          ///< parse_label text, or "auto" (default_label)
  features::encoding_spec encoding;
  const features::lut_table* lut = nullptr;  ///< for the lut encoding
  cv_options cv;                       ///< kinds, folds, members, seed; label_groups are set here
  bool group_effects = true;           ///< fit on labels corrected for measuring-group effects
  fold_rule folds_by = fold_rule::automatic;  ///< whole measuring groups or rows per fold (train/folds.hpp)
  bool allow_synthetic = false;        ///< accept a dataset of the synthetic backend
  final_fit final_model = final_fit::stacked;
  std::string folds_setting = "--folds";  ///< the folds setting's name, for error messages
  /// Runs inside the agreement after the rows are checked (e.g. a probe of the output's
  /// directory, a check of a validation dataset against these rows), so that its usage_error ends
  /// every rank with one line.
  std::function<void(const training_data&)> before_fitting;
};

struct training_result {
  std::size_t dataset_archs = 0;  ///< rows of the dataset, usable or not
  training_data data;             ///< the usable rows and their labels
  features::feature_matrix x;     ///< the encoded usable rows
  cv_options cv;                  ///< as used (with the measuring groups)
  cv_report report;
  std::optional<surrogate::ensemble_regressor> model;  ///< unless final_fit::none
  group_effect_estimate effects;  ///< the correction fitted on all rows (has_groups(cv.label_groups))
};

/// Collective. Throws collective_error (on every rank) for a bad dataset or request: usage errors
/// name the problem (a synthetic dataset without allow_synthetic, fewer usable rows than folds).
[[nodiscard]] training_result run_training(const cluster::communicator& world, const training_request& request);

}  // namespace esm::train
