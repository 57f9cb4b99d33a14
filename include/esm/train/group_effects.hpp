// Measuring-group effects in training labels, and labels corrected for them.
//
// The archs one rank times together (an interleaved group: the same run, rank and reference
// reading) share a random level error against their reference: 2.3% sd on one quiet 440-arch
// run, uncorrelated between runs (docs/lab/2026-12-06-group-error.md). A latency model cannot learn
// it from the arch, but it can be estimated from the group's out-of-fold residuals and taken out
// of the labels a model is fitted on. Only training labels change: cross-validation still scores
// against the labels as measured, and predictions never look at groups.
//
// Model: log y_i = f(x_i) + g_group(i) + e_i. With r_i the out-of-fold log residual of a base model
// (centred over grouped rows), the within-group variance s_w^2 (pooled) and the between-group
// variance s_g^2 = var(group means) - mean(s_w^2 / n_g) give the shrinkage lambda = s_w^2 / s_g^2
// (method of moments), and each group's effect is sum(r) / (n_g + lambda): the best linear
// predictor of g for normal effects. No shared variance (s_g^2 <= 0): no correction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "esm/dataset/dataset.hpp"
#include "esm/cluster/mpi.hpp"
#include "esm/surrogate/matrix.hpp"

namespace esm::train {

/// Group of each given /results row: an id shared by the rows one rank of one run timed with one
/// reference reading, or -1 (no finite reference, or no other given row in its group); all -1 when
/// fewer than two groups of >= 2 rows remain, and on a crossed dataset (its label has the groups'
/// levels solved out already). Pure.
[[nodiscard]] std::vector<std::int64_t> measuring_groups(const dataset::contents& c,
                                                         std::span<const std::size_t> dataset_rows);

/// True when some group id is >= 0.
[[nodiscard]] bool has_groups(std::span<const std::int64_t> groups);

struct group_effect_estimate {
  std::vector<double> log_effect;  ///< per row: its group's shrunk effect (0 for ungrouped rows)
  std::size_t groups = 0;          ///< groups of >= 2 rows
  double shared_sd = 0;            ///< sqrt(s_g^2), log units (0 when s_g^2 <= 0)
  double within_sd = 0;            ///< sqrt(s_w^2), log units
  double shrinkage = 0;            ///< lambda (infinite when s_g^2 <= 0)
};

/// Effects from log residuals log(y / prediction). Throws esm::error for mismatched sizes or a
/// non-finite residual. Pure.
[[nodiscard]] group_effect_estimate estimate_group_effects(std::span<const double> log_residuals,
                                                           std::span<const std::int64_t> groups);

/// Collective. For each training set (rows of x), the labels y of its rows divided by their
/// groups' estimated effects, aligned with the set. The base model ("hybrid", esm's best single
/// kind on the real datasets) is fitted in `inner_folds` folds of the set for out-of-fold residuals;
/// its fits (set, fold) are spread over the ranks, each with a seed from (seed, set, fold) only, so
/// the result does not depend on the rank count. `estimates` (optional) receives each set's estimate.
[[nodiscard]] std::vector<std::vector<double>> group_corrected_labels(
    const cluster::communicator& comm, surrogate::matrix_view x, std::span<const double> y,
    std::span<const std::int64_t> groups, const std::vector<std::vector<std::size_t>>& train_sets,
    std::uint64_t seed, std::size_t inner_folds = 5, std::vector<group_effect_estimate>* estimates = nullptr);

}  // namespace esm::train
