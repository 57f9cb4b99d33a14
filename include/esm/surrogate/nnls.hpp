// Non-negative least squares: min |A x - b|^2 subject to x >= 0, by Lawson and Hanson's active-set
// method (Solving Least Squares Problems, 1974, ch. 23). Used for the stacked blend's kind weights
// (train/cross_validation.hpp); pure, so unit-tested against hand-solved problems.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "esm/surrogate/matrix.hpp"

namespace esm::surrogate {

struct nnls_result {
  std::vector<double> x;        ///< the solution, every entry >= 0
  std::size_t iterations = 0;   ///< outer iterations (columns moved into the passive set)
  bool converged = true;        ///< false: stopped at the iteration limit (3 * columns) with the best x so far
};

/// Solves min |A x - b|^2, x >= 0. Throws esm::error when b's length is not a.rows, for an empty
/// A or a non-finite entry. Deterministic: the same input gives the same bits.
[[nodiscard]] nnls_result nnls(matrix_view a, std::span<const double> b);

}  // namespace esm::surrogate
