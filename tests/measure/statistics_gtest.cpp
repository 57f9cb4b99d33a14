// Statistics against hand-computed values (the arithmetic is in the comments).
#include "esm/measure/statistics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "esm/common/error.hpp"

namespace esm::measure {
namespace {

TEST(TrimCount, FloorOfNTimesFractionFromEachEnd) {
  EXPECT_EQ(trim_count(150, 0.2), 30u);  // 150 * 0.2 = 30
  EXPECT_EQ(trim_count(10, 0.2), 2u);    // 10 * 0.2 = 2
  EXPECT_EQ(trim_count(7, 0.2), 1u);     // 7 * 0.2 = 1.4 -> 1
  EXPECT_EQ(trim_count(5, 0.2), 1u);     // 5 * 0.2 = 1
  EXPECT_EQ(trim_count(4, 0.2), 0u);     // 4 * 0.2 = 0.8 -> 0
  EXPECT_EQ(trim_count(1, 0.2), 0u);
  EXPECT_EQ(trim_count(0, 0.2), 0u);
  EXPECT_EQ(trim_count(10, 0.0), 0u);
  EXPECT_EQ(trim_count(3, 0.49), 1u);    // 1.47 -> 1, one sample kept
  // 100 * 0.29 is 28.999999999999996 in floating point; on paper it is 29.
  EXPECT_EQ(trim_count(100, 0.29), 29u);
}

TEST(TrimmedMeanAfter, DropsTheWarmUpCompanionsThenTrims) {
  // Three passes beside warm-up runs (slow, cold), then ten: trim 0.2 drops two at each end.
  const std::vector<double> v{50, 40, 30, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100};
  EXPECT_DOUBLE_EQ(trimmed_mean_after(v, 3, 0.2), (3 + 4 + 5 + 6 + 7 + 8) / 6.0);
  EXPECT_DOUBLE_EQ(trimmed_mean_after(v, 0, 0.0), 265.0 / 13);
  EXPECT_TRUE(std::isnan(trimmed_mean_after(v, 13, 0.2)));  // nothing beyond the warm-up
  EXPECT_TRUE(std::isnan(trimmed_mean_after({}, 0, 0.2)));   // a CPU row: no other launch mode
}

TEST(Percentile, LinearInterpolationLikeNumpy) {
  const std::vector<double> s{1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile_sorted(s, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(percentile_sorted(s, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(percentile_sorted(s, 0.25), 1.75);  // pos 0.75: 1 + 0.75 * (2 - 1); np.percentile -> 1.75
  EXPECT_DOUBLE_EQ(percentile_sorted(s, 0.5), 2.5);    // pos 1.5: 2 + 0.5 * (3 - 2)
  EXPECT_DOUBLE_EQ(percentile_sorted(s, 0.9), 3.7);    // pos 2.7: 3 + 0.7 * (4 - 3)
  const std::vector<double> one{7.5};
  EXPECT_DOUBLE_EQ(percentile_sorted(one, 0.1), 7.5);
  EXPECT_THROW((void)percentile_sorted(std::vector<double>{}, 0.5), esm::error);
}

TEST(Summarize, TenSamplesDropTwoEachSide) {
  // sorted: 1 9 10 10 11 11 12 12 13 100; k = floor(10 * 0.2) = 2 drops {1, 9} and {13, 100}.
  const std::vector<double> x{10, 11, 12, 13, 100, 9, 10, 11, 12, 1};
  const summary s = summarize(x, 0.2);
  EXPECT_EQ(s.n, 10u);
  EXPECT_EQ(s.trimmed_n, 6u);
  EXPECT_DOUBLE_EQ(s.trimmed_mean_ms, 11.0);  // (10 + 10 + 11 + 11 + 12 + 12) / 6 = 66 / 6
  EXPECT_DOUBLE_EQ(s.median_ms, 11.0);        // pos 4.5: (11 + 11) / 2
  EXPECT_DOUBLE_EQ(s.mean_ms, 18.9);          // 189 / 10
  EXPECT_DOUBLE_EQ(s.min_ms, 1.0);
  EXPECT_DOUBLE_EQ(s.max_ms, 100.0);
  EXPECT_NEAR(s.p10_ms, 8.2, 1e-12);           // pos 0.9: 1 + 0.9 * (9 - 1)
  EXPECT_NEAR(s.p90_ms, 21.7, 1e-12);          // pos 8.1: 13 + 0.1 * (100 - 13)
  // deviations from 18.9: -8.9 -7.9 -6.9 -5.9 81.1 -9.9 -8.9 -7.9 -6.9 -17.9
  // squares sum to 7408.9 -> / 9 = 823.2111 -> std 28.69166
  EXPECT_NEAR(s.std_ms, 28.691656, 1e-5);
  // kept 10 10 11 11 12 12 around 11: squares 1 1 0 0 1 1 = 4 -> / 5 = 0.8 -> std 0.894427 / 11
  EXPECT_NEAR(s.noise, 0.0813116, 1e-6);
}

TEST(Summarize, OddCountDropsFloorEachSide) {
  // 7 * 0.2 = 1.4 -> drop one each side: keep 2 4 8 16 32.
  const std::vector<double> x{64, 1, 32, 2, 16, 4, 8};
  const summary s = summarize(x, 0.2);
  EXPECT_EQ(s.trimmed_n, 5u);
  EXPECT_DOUBLE_EQ(s.trimmed_mean_ms, 12.4);  // 62 / 5
  EXPECT_DOUBLE_EQ(s.median_ms, 8.0);         // s[3]
  EXPECT_NEAR(s.mean_ms, 127.0 / 7.0, 1e-12);
  EXPECT_NEAR(s.p10_ms, 1.6, 1e-12);           // pos 0.6: 1 + 0.6 * (2 - 1)
  EXPECT_NEAR(s.p90_ms, 44.8, 1e-12);          // pos 5.4: 32 + 0.4 * (64 - 32)
}

TEST(Summarize, AllEqualHasNoSpread) {
  const std::vector<double> x(150, 2.5);
  const summary s = summarize(x, 0.2);
  EXPECT_EQ(s.trimmed_n, 90u);  // 150 - 2 * 30
  EXPECT_DOUBLE_EQ(s.trimmed_mean_ms, 2.5);
  EXPECT_DOUBLE_EQ(s.median_ms, 2.5);
  EXPECT_DOUBLE_EQ(s.p10_ms, 2.5);
  EXPECT_DOUBLE_EQ(s.p90_ms, 2.5);
  EXPECT_DOUBLE_EQ(s.std_ms, 0.0);
  EXPECT_DOUBLE_EQ(s.noise, 0.0);
}

TEST(Summarize, SingleSampleIsEveryStatisticWithZeroStd) {
  const summary s = summarize(std::vector<double>{3.5}, 0.2);
  EXPECT_EQ(s.n, 1u);
  EXPECT_EQ(s.trimmed_n, 1u);
  for (double v : {s.trimmed_mean_ms, s.median_ms, s.mean_ms, s.min_ms, s.max_ms, s.p10_ms, s.p90_ms}) {
    EXPECT_DOUBLE_EQ(v, 3.5);
  }
  EXPECT_DOUBLE_EQ(s.std_ms, 0.0);  // n - 1 = 0: defined as 0, not NaN
}

TEST(Summarize, NoTrimIsTheMean) {
  const std::vector<double> x{1, 2, 3, 10};
  EXPECT_DOUBLE_EQ(summarize(x, 0.0).trimmed_mean_ms, 4.0);
  EXPECT_DOUBLE_EQ(trimmed_mean(x, 0.0), 4.0);
  EXPECT_DOUBLE_EQ(trimmed_mean(x, 0.25), 2.5);  // 4 * 0.25 = 1: keep 2 3
}

TEST(Summarize, EmptyThrows) {
  EXPECT_THROW((void)summarize(std::vector<double>{}, 0.2), esm::error);
  EXPECT_THROW((void)trimmed_mean(std::vector<double>{}, 0.2), esm::error);
}

}  // namespace
}  // namespace esm::measure
