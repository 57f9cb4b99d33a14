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

/// Unstratified K folds of n rows (every row one label).
[[nodiscard]] std::vector<std::size_t> kfold(std::size_t n, std::size_t k, std::uint64_t seed);

struct fold_split {
  std::vector<std::size_t> train;  ///< rows of the other folds, ascending
  std::vector<std::size_t> test;   ///< rows of this fold, ascending
};

/// The rows of `fold` and the rest, from a fold table.
[[nodiscard]] fold_split split_fold(std::span<const std::size_t> fold_of_row, std::size_t fold);

}  // namespace esm::surrogate
