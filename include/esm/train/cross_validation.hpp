// K-fold cross-validation and the final fit, with the work spread over the MPI ranks.
//
// Every (model kind, fold, member) fit is an independent task with its own seed, derived only
// from the run's seed and the task's index; ranks take tasks round-robin and rank 0 gathers the
// out-of-fold predictions. Fits are single-threaded and deterministic, so the metrics do not depend
// on the number of ranks (tests/train checks 1 vs 3 ranks).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "esm/cluster/mpi.hpp"
#include "esm/surrogate/ensemble.hpp"
#include "esm/surrogate/metrics.hpp"
#include "esm/train/group_effects.hpp"

namespace esm::train {

struct cv_options {
  std::vector<std::string> kinds = surrogate::default_kinds();  ///< the registry's default set
  std::size_t folds = 5;
  std::size_t members = 5;  ///< per kind
  std::uint64_t seed = 0;
  /// Measuring group of each row (train/group_effects.hpp); empty or all -1: none. With groups,
  /// every fit trains on its rows' labels corrected for the groups' effects, estimated on those
  /// training rows alone; scores stay against the labels as measured.
  std::vector<std::int64_t> label_groups;
  /// Group of each row that the folds keep whole (train/folds.hpp: -1 a row alone); empty: folds
  /// of rows stratified by depth bin.
  std::vector<std::int64_t> fold_groups;
  void validate() const;    ///< throws usage_error
};

/// Metrics of one model (a kind's member-averaged ensemble, or "ensemble" = all kinds averaged).
struct cv_model_result {
  std::string model;
  surrogate::regression_metrics overall;
  std::vector<surrogate::group_metrics> per_bin;
  double train_seconds = 0;            ///< summed over the model's fits (CPU-seconds of one core)
  std::vector<double> predictions;     ///< out-of-fold prediction of every row
  std::vector<double> spread;          ///< member std / mean of every row
  /// 1/0 per row: inside its cross-conformal interval_level interval (train/intervals.hpp), the
  /// interval fitted on the other folds' out-of-fold predictions.
  std::vector<double> interval_hits;
};

/// Nominal coverage of the prediction intervals esm train stores and esm predict reports.
inline constexpr double interval_level = 0.9;

struct cv_report {
  /// One per kind, then "ensemble" (kinds weighted equally) and "stacked" (kinds weighted by
  /// cross-fitted weights: fold k's rows blended by fold_stack_weights[k], fitted on the other
  /// folds' out-of-fold predictions only, so the score never sees the rows it scores).
  std::vector<cv_model_result> models;
  /// Per kind, non-negative, summing to 1 (empty: one kind): fitted on every row's out-of-fold
  /// predictions, for the final model.
  std::vector<double> stack_weights;
  std::vector<std::vector<double>> fold_stack_weights;  ///< per fold, the weights its rows were blended with
  std::vector<std::size_t> fold_of_row;
  std::string folds_by = "rows";  ///< "groups" (whole measuring groups per fold) or "rows"
  std::size_t fold_group_count = 0;  ///< measuring groups the folds kept whole (0: rows)
  std::vector<group_effect_estimate> group_effects;  ///< per fold; empty when labels were not corrected
  double wall_seconds = 0;
};

/// Collective. The report is complete on rank 0 (other ranks get an empty one).
[[nodiscard]] cv_report cross_validate(const cluster::communicator& comm, surrogate::matrix_view x,
                                       const std::vector<double>& y, const std::vector<int>& bins,
                                       const cv_options& options);

/// Collective: the final model on all rows, members fitted across the ranks; returned on every rank.
/// `kind_weights` (rank 0's value is used; empty: equal) weighs the kinds in the ensemble.
/// With options.label_groups, `group_effects` (optional) receives the estimate on all rows.
[[nodiscard]] surrogate::ensemble_regressor fit_final(const cluster::communicator& comm, surrogate::matrix_view x,
                                                      const std::vector<double>& y, const cv_options& options,
                                                      std::vector<double> kind_weights = {},
                                                      group_effect_estimate* group_effects = nullptr);

/// The seed of task `index` of `stream` (0: CV fits, 1: final fits).
[[nodiscard]] std::uint64_t task_seed(std::uint64_t seed, std::uint64_t stream, std::uint64_t index);

}  // namespace esm::train
