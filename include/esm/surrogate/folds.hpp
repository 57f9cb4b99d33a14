// Cross-validation fold assignment, stratified by a label (the depth bin). A pure function of the
// labels, K and the seed: every rank of an MPI job computes the same table, however many ranks run
// the folds.
//
// Rule: labels are visited in ascending order; each label's rows (ascending row index) are shuffled
// with esm::rng(seed) (Fisher-Yates, one generator for the whole call) and dealt round-robin to the
// folds, the deal continuing where the previous label's ended. So every label spreads over the
// folds within one row, and fold sizes differ by at most one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace esm::surrogate {

/// Fold (0 .. k-1) of each row. Throws esm::usage_error for k < 2 or k > labels.size().
[[nodiscard]] std::vector<std::size_t> stratified_folds(std::span<const int> labels, std::size_t k,
                                                        std::uint64_t seed);

/// Folds of whole groups (rows measured together), balanced over the labels as far as whole groups
/// allow. `groups[i] < 0`: row i is a group of its own. Rule: the groups, ordered by their first
/// row, are shuffled with esm::rng(seed) and stably sorted by size, largest first; each goes to the
/// fold that minimises sum_b c_b n_fb / N_b + c n_f / N (c_b: its rows of label b, n_fb: the fold's,
/// N_b: all; c, n_f, N: the same over all labels), i.e. the growth of the squared distance between
/// the fold's counts and its equal share, each label's weighed by its size; ties go to the fold with
/// fewer rows, then the lower index. An empty fold costs 0, so every fold gets a group. Throws
/// esm::usage_error for k < 2, groups.size() != labels.size() or fewer groups than k.
[[nodiscard]] std::vector<std::size_t> grouped_folds(std::span<const int> labels,
                                                     std::span<const std::int64_t> groups, std::size_t k,
                                                     std::uint64_t seed);

/// Unstratified K folds of n rows (every row one label).
[[nodiscard]] std::vector<std::size_t> kfold(std::size_t n, std::size_t k, std::uint64_t seed);

struct fold_split {
  std::vector<std::size_t> train;  ///< rows of the other folds, ascending
  std::vector<std::size_t> test;   ///< rows of this fold, ascending
};

/// The rows of `fold` and the rest, from a fold table.
[[nodiscard]] fold_split split_fold(std::span<const std::size_t> fold_of_row, std::size_t fold);

}  // namespace esm::surrogate
