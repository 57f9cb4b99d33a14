// Eigen views of the surrogates' plain matrices (Eigen stays inside src/surrogate/).
#pragma once

// esm_core compiles with -fopenmp (oneDNN's runtime); without this Eigen's products would run on
// the OpenMP team, and fits would no longer be single-threaded and bit-reproducible.
#ifndef EIGEN_DONT_PARALLELIZE
#define EIGEN_DONT_PARALLELIZE
#endif
#include <Eigen/Dense>

#include <span>

#include "esm/surrogate/matrix.hpp"

namespace esm::surrogate::detail {

using row_matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

[[nodiscard]] inline Eigen::Map<const row_matrix> as_eigen(matrix_view x) {
  return {x.data, static_cast<Eigen::Index>(x.rows), static_cast<Eigen::Index>(x.cols)};
}

[[nodiscard]] inline Eigen::Map<const Eigen::VectorXd> as_eigen(std::span<const double> v) {
  return {v.data(), static_cast<Eigen::Index>(v.size())};
}

[[nodiscard]] inline Eigen::Map<Eigen::VectorXd> as_eigen(std::span<double> v) {
  return {v.data(), static_cast<Eigen::Index>(v.size())};
}

}  // namespace esm::surrogate::detail
