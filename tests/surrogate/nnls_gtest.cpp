// Non-negative least squares: hand-solved problems, a case where clipping the unconstrained
// solution is wrong, and the optimality conditions on random problems.
#include "esm/surrogate/nnls.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/surrogate/ensemble.hpp"

namespace esm::surrogate {
namespace {

TEST(Nnls, AnInteriorSolutionIsTheLeastSquaresSolution) {
  // A x = b exactly for x = (1, 2) >= 0.
  const matrix a(3, 2, {1.0, 0.0, 0.0, 1.0, 1.0, 1.0});
  const auto r = nnls(a, std::vector<double>{1.0, 2.0, 3.0});
  ASSERT_TRUE(r.converged);
  EXPECT_NEAR(r.x[0], 1.0, 1e-12);
  EXPECT_NEAR(r.x[1], 2.0, 1e-12);
}

TEST(Nnls, DiffersFromClippingTheUnconstrainedSolution) {
  // A = [e1, e2, e1 + e2 + e3], b = (1, 2, -1): least squares is exact at (2, 3, -1); clipping gives
  // (2, 3, 0), residual norm sqrt(3). NNLS refits the passive columns: (1, 2, 0), residual norm 1,
  // and the held column's gradient a3 . r = -1 <= 0 proves it optimal.
  const matrix a(3, 3, {1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0});
  const auto r = nnls(a, std::vector<double>{1.0, 2.0, -1.0});
  ASSERT_TRUE(r.converged);
  EXPECT_NEAR(r.x[0], 1.0, 1e-12);
  EXPECT_NEAR(r.x[1], 2.0, 1e-12);
  EXPECT_EQ(r.x[2], 0.0);
}

TEST(Nnls, AllNegativeCorrelationGivesZero) {
  const matrix a(2, 2, {1.0, 2.0, 3.0, 1.0});
  const auto r = nnls(a, std::vector<double>{-1.0, -2.0});
  EXPECT_EQ(r.x, (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(r.iterations, 0u);
}

TEST(Nnls, DuplicateColumnsStayFinite) {
  const matrix a(3, 2, {1.0, 1.0, 2.0, 2.0, 3.0, 3.0});
  const auto r = nnls(a, std::vector<double>{2.0, 4.0, 6.0});
  EXPECT_NEAR(r.x[0] + r.x[1], 2.0, 1e-10);
  EXPECT_GE(r.x[0], 0.0);
  EXPECT_GE(r.x[1], 0.0);
}

TEST(Nnls, MeetsTheOptimalityConditionsOnRandomProblems) {
  rng g(7);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t rows = 3 + g.uniform_index(20), cols = 1 + g.uniform_index(6);
    matrix a(rows, cols);
    std::vector<double> b(rows);
    for (auto& v : a.data) v = g.normal();
    for (auto& v : b) v = g.normal();
    const auto r = nnls(a, b);
    ASSERT_TRUE(r.converged);
    // KKT: x >= 0; gradient w = A^T (b - A x) <= 0 everywhere and = 0 where x > 0.
    std::vector<double> residual(b);
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t j = 0; j < cols; ++j) residual[i] -= a(i, j) * r.x[j];
    }
    for (std::size_t j = 0; j < cols; ++j) {
      double w = 0;
      for (std::size_t i = 0; i < rows; ++i) w += a(i, j) * residual[i];
      ASSERT_GE(r.x[j], 0.0);
      ASSERT_LE(w, 1e-9) << "trial " << trial << " column " << j;
      if (r.x[j] > 0) {
        ASSERT_NEAR(w, 0.0, 1e-9) << "trial " << trial << " column " << j;
      }
    }
  }
}

TEST(Nnls, RefusesMismatchedOrNonFiniteInput) {
  const matrix a(2, 1, {1.0, 2.0});
  EXPECT_THROW((void)nnls(a, std::vector<double>{1.0}), error);
  EXPECT_THROW((void)nnls(a, std::vector<double>{1.0, std::nan("")}), error);
}

TEST(Nnls, StackingWeightsAreTheNormalisedNnlsSolutionNotClippedLeastSquares) {
  // Predictions / targets (targets 1) of three kinds. Least squares is (-2.857, 2.857, 1.429):
  // clipping and renormalising would give (0, 2/3, 1/3); NNLS refits kinds 2 and 3 alone to
  // (210/443, 860/1329), i.e. shares (63/149, 86/149) (solved exactly with fractions).
  const matrix p(5, 3, {1.2, 1.1, 0.9, 1.1, 0.9, 1.1, 0.8, 0.7, 0.9, 0.7, 0.7, 0.7, 1.1, 1.1, 0.7});
  const auto raw = nnls(p, std::vector<double>(5, 1.0));
  EXPECT_NEAR(raw.x[0], 0.0, 1e-12);
  EXPECT_NEAR(raw.x[1], 210.0 / 443.0, 1e-12);
  EXPECT_NEAR(raw.x[2], 860.0 / 1329.0, 1e-12);
  const auto w = stacking_weights(p, std::vector<double>(5, 1.0));
  EXPECT_NEAR(w[0], 0.0, 1e-12);
  EXPECT_NEAR(w[1], 63.0 / 149.0, 1e-12);
  EXPECT_NEAR(w[2], 86.0 / 149.0, 1e-12);
}

}  // namespace
}  // namespace esm::surrogate
