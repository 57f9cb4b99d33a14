// The surrogates' data currency: a dense row-major matrix of doubles (one row per architecture,
// one column per encoding feature) and a non-owning view of one. Public headers take these rather
// than Eigen types so that callers (dataset, loop, NAS code) never see Eigen or XGBoost.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace esm::surrogate {

/// rows x cols doubles, element (r, c) at data[r * cols + c].
struct matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> data;

  matrix() = default;
  /// Zero-filled.
  matrix(std::size_t rows_, std::size_t cols_);
  /// Takes `values` (row-major); throws esm::error unless values.size() == rows * cols.
  matrix(std::size_t rows_, std::size_t cols_, std::vector<double> values);

  [[nodiscard]] double& operator()(std::size_t r, std::size_t c) { return data[r * cols + c]; }
  [[nodiscard]] double operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
  [[nodiscard]] std::span<const double> row(std::size_t r) const { return {data.data() + r * cols, cols}; }
  [[nodiscard]] std::span<double> row(std::size_t r) { return {data.data() + r * cols, cols}; }
};

/// A read-only row-major window onto rows x cols doubles owned elsewhere (a matrix, a slice of a
/// caller's buffer): predictions over large candidate batches need no copy.
struct matrix_view {
  std::size_t rows = 0;
  std::size_t cols = 0;
  const double* data = nullptr;

  matrix_view() = default;
  matrix_view(const matrix& m) : rows(m.rows), cols(m.cols), data(m.data.data()) {}  // NOLINT: implicit on purpose
  /// Throws esm::error unless values.size() == rows * cols.
  matrix_view(std::size_t rows_, std::size_t cols_, std::span<const double> values);

  [[nodiscard]] double operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
  [[nodiscard]] std::span<const double> row(std::size_t r) const { return {data + r * cols, cols}; }
  /// Rows [first, first + count) as a view.
  [[nodiscard]] matrix_view row_block(std::size_t first, std::size_t count) const;
};

/// The rows `index` of x, in that order (fold subsets, bootstrap samples; repeats allowed).
[[nodiscard]] matrix select_rows(matrix_view x, std::span<const std::size_t> index);

/// The elements `index` of v, in that order.
[[nodiscard]] std::vector<double> select(std::span<const double> v, std::span<const std::size_t> index);

}  // namespace esm::surrogate
