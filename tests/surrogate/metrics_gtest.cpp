// Metrics against hand-computed values (the arithmetic is in the comments).
#include "esm/surrogate/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"

namespace esm::surrogate {
namespace {

// truth 1 2 3 4, predicted 1.1 1.9 3.2 3.8
const std::vector<double> truth{1, 2, 3, 4};
const std::vector<double> pred{1.1, 1.9, 3.2, 3.8};

TEST(Metrics, WithinShareCountsTheBoundItself) {
  // |p/t - 1| = 0.1, 0.05, 0.0667, 0.05
  EXPECT_DOUBLE_EQ(within_share(pred, truth, 0.05), 0.5);  // rows 2 and 4 sit on the bound
  EXPECT_DOUBLE_EQ(within_share(pred, truth, 0.10), 1.0);  // row 1 sits on the bound
  EXPECT_DOUBLE_EQ(within_share(pred, truth, 0.01), 0.0);
}

TEST(Metrics, MapeRmseR2) {
  // MAPE: (0.1 + 0.05 + 0.2/3 + 0.05) / 4 * 100 = 0.26667 / 4 * 100 = 6.6667 %
  EXPECT_NEAR(mape_percent(pred, truth), 100.0 * (0.1 + 0.05 + 0.2 / 3.0 + 0.05) / 4.0, 1e-12);
  // RMSE: squared errors 0.01 0.01 0.04 0.04 -> mean 0.025 -> sqrt 0.158114
  EXPECT_NEAR(rmse(pred, truth), std::sqrt(0.025), 1e-12);
  // R^2: mean t = 2.5, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5, SS_res = 0.1 -> 1 - 0.1 / 5 = 0.98
  EXPECT_NEAR(r_squared(pred, truth), 0.98, 1e-12);
  EXPECT_TRUE(std::isnan(r_squared(std::vector<double>{1, 2}, std::vector<double>{3, 3})));  // SS_tot = 0
}

TEST(Metrics, KendallTauBWithTies) {
  // a 1 2 3 4 / b 1 3 2 2: pairs (1,2) (1,3) (1,4) concordant; (2,3) (2,4) discordant; (3,4) tied
  // in b. C = 3, D = 2, n0 = 6, n1 = 0, n2 = 1: tau_b = (3 - 2) / sqrt(6 * 5) = 1 / sqrt(30).
  EXPECT_NEAR(kendall_tau_b(std::vector<double>{1, 2, 3, 4}, std::vector<double>{1, 3, 2, 2}), 1.0 / std::sqrt(30.0),
              1e-15);
  // a 1 1 2 3 / b 1 2 2 3: (1,2) tied in a, (2,3) tied in b, the other 4 pairs concordant:
  // tau_b = 4 / sqrt((6 - 1) * (6 - 1)) = 0.8.
  EXPECT_NEAR(kendall_tau_b(std::vector<double>{1, 1, 2, 3}, std::vector<double>{1, 2, 2, 3}), 0.8, 1e-15);
  EXPECT_DOUBLE_EQ(kendall_tau_b(std::vector<double>{1, 2, 3}, std::vector<double>{3, 2, 1}), -1.0);
  EXPECT_TRUE(std::isnan(kendall_tau_b(std::vector<double>{1, 1, 1}, std::vector<double>{1, 2, 3})));
  EXPECT_TRUE(std::isnan(kendall_tau_b(std::vector<double>{1}, std::vector<double>{1})));
}

TEST(Metrics, KendallMatchesTheQuadraticDefinition) {
  // Values from a small set so that ties are frequent in both inputs.
  rng r(3);
  std::vector<double> a(300), b(300);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<double>(r.uniform_index(12));
    b[i] = a[i] + static_cast<double>(r.uniform_index(9));
  }
  double c = 0, d = 0, ta = 0, tb = 0, n0 = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = i + 1; j < a.size(); ++j) {
      ++n0;
      const double s = (a[i] - a[j]) * (b[i] - b[j]);
      c += s > 0;
      d += s < 0;
      ta += a[i] == a[j];
      tb += b[i] == b[j];
    }
  EXPECT_NEAR(kendall_tau_b(a, b), (c - d) / std::sqrt((n0 - ta) * (n0 - tb)), 1e-12);
}

TEST(Metrics, SpearmanUsesAverageRanks) {
  EXPECT_EQ(average_ranks(std::vector<double>{10, 20, 20, 30}), (std::vector<double>{1, 2.5, 2.5, 4}));
  EXPECT_EQ(average_ranks(std::vector<double>{5, 1, 5, 5}), (std::vector<double>{3, 1, 3, 3}));  // ranks 2,3,4
  // ranks a 1 2.5 2.5 4, b 1 2 3 4, both means 2.5: deviations -1.5 0 0 1.5 and -1.5 -0.5 0.5 1.5;
  // sum ab = 4.5, sum aa = 4.5, sum bb = 5: rho = 4.5 / sqrt(22.5) = sqrt(0.9).
  EXPECT_NEAR(spearman_rho(std::vector<double>{10, 20, 20, 30}, std::vector<double>{1, 2, 3, 4}), std::sqrt(0.9),
              1e-15);
  EXPECT_DOUBLE_EQ(spearman_rho(std::vector<double>{1, 4, 9}, std::vector<double>{2, 3, 100}), 1.0);  // monotone
}

TEST(Metrics, EvaluateAndPerGroupBreakdown) {
  const auto m = evaluate(pred, truth);
  EXPECT_EQ(m.n, 4u);
  EXPECT_DOUBLE_EQ(m.within_5, 0.5);
  EXPECT_DOUBLE_EQ(m.within_10, 1.0);
  EXPECT_NEAR(m.r2, 0.98, 1e-12);
  EXPECT_DOUBLE_EQ(m.kendall_tau, 1.0);  // same order
  EXPECT_DOUBLE_EQ(m.spearman_rho, 1.0);

  // Bins given out of order; the breakdown comes back in ascending label order.
  const std::vector<int> bins{12, 8, 12, 8};
  const auto groups = evaluate_by_group(pred, truth, bins);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].label, 8);  // rows 2 and 4: errors 0.05 and 0.05
  EXPECT_EQ(groups[0].metrics.n, 2u);
  EXPECT_NEAR(groups[0].metrics.mape_percent, 5.0, 1e-9);
  EXPECT_DOUBLE_EQ(groups[0].metrics.within_5, 1.0);
  EXPECT_EQ(groups[1].label, 12);  // rows 1 and 3: errors 0.1 and 0.0667
  EXPECT_DOUBLE_EQ(groups[1].metrics.within_5, 0.0);
  EXPECT_NEAR(groups[1].metrics.mape_percent, 100.0 * (0.1 + 0.2 / 3.0) / 2.0, 1e-9);

  // A one-row bin still gets a row; its rank metrics are undefined.
  const auto single = evaluate_by_group(std::vector<double>{1.0}, std::vector<double>{1.0}, std::vector<int>{4});
  ASSERT_EQ(single.size(), 1u);
  EXPECT_TRUE(std::isnan(single[0].metrics.kendall_tau));
  EXPECT_DOUBLE_EQ(single[0].metrics.within_5, 1.0);
}

TEST(Metrics, RejectsMismatchedInputs) {
  EXPECT_THROW((void)mape_percent(std::vector<double>{1, 2}, std::vector<double>{1}), error);
  EXPECT_THROW((void)evaluate(std::vector<double>{}, std::vector<double>{}), error);
  EXPECT_THROW((void)evaluate_by_group(pred, truth, std::vector<int>{1, 2}), error);
}

}  // namespace
}  // namespace esm::surrogate
