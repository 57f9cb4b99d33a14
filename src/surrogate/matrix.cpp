// matrix and matrix_view construction checks and row selection.
#include "esm/surrogate/matrix.hpp"

#include <algorithm>
#include <string>

#include "esm/common/error.hpp"

namespace esm::surrogate {

namespace {

void require_size(std::size_t rows, std::size_t cols, std::size_t size) {
  if (size != rows * cols)
    throw error("surrogate matrix: " + std::to_string(rows) + " x " + std::to_string(cols) + " needs " +
                std::to_string(rows * cols) + " values, got " + std::to_string(size));
}

}  // namespace

matrix::matrix(std::size_t rows_, std::size_t cols_) : rows(rows_), cols(cols_), data(rows_ * cols_, 0.0) {}

matrix::matrix(std::size_t rows_, std::size_t cols_, std::vector<double> values)
    : rows(rows_), cols(cols_), data(std::move(values)) {
  require_size(rows, cols, data.size());
}

matrix_view::matrix_view(std::size_t rows_, std::size_t cols_, std::span<const double> values)
    : rows(rows_), cols(cols_), data(values.data()) {
  require_size(rows, cols, values.size());
}

matrix_view matrix_view::row_block(std::size_t first, std::size_t count) const {
  if (first + count > rows)
    throw error("surrogate matrix: rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                ") outside " + std::to_string(rows) + " rows");
  matrix_view v;
  v.rows = count;
  v.cols = cols;
  v.data = data + first * cols;
  return v;
}

matrix select_rows(matrix_view x, std::span<const std::size_t> index) {
  matrix out(index.size(), x.cols);
  for (std::size_t i = 0; i < index.size(); ++i) {
    if (index[i] >= x.rows) throw error("surrogate matrix: row " + std::to_string(index[i]) + " out of range");
    const auto src = x.row(index[i]);
    std::copy(src.begin(), src.end(), out.row(i).begin());
  }
  return out;
}

std::vector<double> select(std::span<const double> v, std::span<const std::size_t> index) {
  std::vector<double> out;
  out.reserve(index.size());
  for (std::size_t i : index) {
    if (i >= v.size()) throw error("surrogate: element " + std::to_string(i) + " out of range");
    out.push_back(v[i]);
  }
  return out;
}

}  // namespace esm::surrogate
