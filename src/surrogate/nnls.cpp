// Lawson-Hanson non-negative least squares (design: include/esm/surrogate/nnls.hpp).
//
// The passive set P holds the columns free to be positive; the rest are held at 0. Each outer step
// moves the column whose gradient A^T (b - A x) most wants to grow into P; the inner loop solves the
// unconstrained problem on P and, while that solution has a non-positive entry, steps from x towards
// it as far as feasibility allows and returns the columns that hit 0 to the zero set. It ends when
// no held column's gradient is positive (the Karush-Kuhn-Tucker conditions within a tolerance).
#include "esm/surrogate/nnls.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "eigen_support.hpp"
#include "esm/common/error.hpp"

namespace esm::surrogate {

namespace {

/// Least squares on the passive columns (the rest 0). Column-pivoting QR: a passive column that is
/// a copy of another gets a 0 rather than an undefined split.
Eigen::VectorXd solve_passive(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, const std::vector<bool>& passive) {
  std::vector<Eigen::Index> cols;
  for (std::size_t j = 0; j < passive.size(); ++j) {
    if (passive[j]) cols.push_back(static_cast<Eigen::Index>(j));
  }
  Eigen::MatrixXd sub(a.rows(), static_cast<Eigen::Index>(cols.size()));
  for (std::size_t c = 0; c < cols.size(); ++c) sub.col(static_cast<Eigen::Index>(c)) = a.col(cols[c]);
  const Eigen::VectorXd s = sub.colPivHouseholderQr().solve(b);
  Eigen::VectorXd z = Eigen::VectorXd::Zero(a.cols());
  for (std::size_t c = 0; c < cols.size(); ++c) z[cols[c]] = s[static_cast<Eigen::Index>(c)];
  return z;
}

}  // namespace

nnls_result nnls(matrix_view a_view, std::span<const double> b_view) {
  if (a_view.rows != b_view.size() || a_view.rows == 0 || a_view.cols == 0) {
    throw error("nnls: A is " + std::to_string(a_view.rows) + " x " + std::to_string(a_view.cols) + ", b has " +
                std::to_string(b_view.size()) + " entries");
  }
  const Eigen::MatrixXd a = detail::as_eigen(a_view);
  const Eigen::VectorXd b = detail::as_eigen(b_view);
  if (!a.allFinite() || !b.allFinite()) throw error("nnls: A or b has a non-finite entry");
  const Eigen::Index n = a.cols();
  // Lawson-Hanson's tolerance, as MATLAB's lsqnonneg and SciPy use it.
  const double tol = 10.0 * std::numeric_limits<double>::epsilon() * a.cwiseAbs().colwise().sum().maxCoeff() *
                     static_cast<double>(std::max(a.rows(), n));
  std::vector<bool> passive(static_cast<std::size_t>(n), false);
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  nnls_result out;
  const std::size_t limit = 3 * static_cast<std::size_t>(n);
  for (;;) {
    const Eigen::VectorXd w = a.transpose() * (b - a * x);
    Eigen::Index best = -1;
    for (Eigen::Index j = 0; j < n; ++j) {
      if (!passive[static_cast<std::size_t>(j)] && w[j] > tol && (best < 0 || w[j] > w[best])) best = j;
    }
    if (best < 0) break;
    if (out.iterations == limit) {
      out.converged = false;
      break;
    }
    ++out.iterations;
    passive[static_cast<std::size_t>(best)] = true;
    for (std::size_t inner = 0; inner <= static_cast<std::size_t>(n); ++inner) {
      const Eigen::VectorXd z = solve_passive(a, b, passive);
      double alpha = 1.0;
      bool feasible = true;
      for (Eigen::Index j = 0; j < n; ++j) {
        if (!passive[static_cast<std::size_t>(j)] || z[j] > 0) continue;
        feasible = false;
        alpha = std::min(alpha, x[j] / (x[j] - z[j]));
      }
      if (feasible) {
        x = z;
        break;
      }
      x += alpha * (z - x);
      for (Eigen::Index j = 0; j < n; ++j) {
        if (passive[static_cast<std::size_t>(j)] && x[j] <= tol) {
          passive[static_cast<std::size_t>(j)] = false;
          x[j] = 0;
        }
      }
    }
  }
  out.x.resize(static_cast<std::size_t>(n));
  for (Eigen::Index j = 0; j < n; ++j) out.x[static_cast<std::size_t>(j)] = std::max(0.0, x[j]);
  return out;
}

}  // namespace esm::surrogate
