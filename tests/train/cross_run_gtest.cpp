// Cross-run validation: the scores against a re-measurement (made-up numbers), and matching a
// re-measurement's rows to the training rows by arch id (synthetic datasets).
#include "esm/train/cross_run.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "train/synthetic_dataset.hpp"

namespace esm::train {
namespace {

TEST(CrossRun, ScoresTheModelAndTheRetestGapOnCommonArchsAndNewArchsApart) {
  // B's rows 0-3 are A's rows 2, 0, 1, 3; row 4 is new. A's labels against B's: 1.1/1, 2/2, 2.7/3,
  // 4.4/4: relative errors 10%, 0, 10%, 10%. The model: 1.05, 1.9, 3, 4.2 on the common rows (5%,
  // 5%, 0, 5%), 5.5 on the new row (10%).
  const std::vector<double> label_a{2.0, 2.7, 1.1, 4.4};
  const std::vector<double> label_b{1.0, 2.0, 3.0, 4.0, 5.0};
  const std::vector<std::ptrdiff_t> a_row{2, 0, 1, 3, -1};
  const std::vector<double> p{1.05, 1.9, 3.0, 4.2, 5.5};
  const std::vector<double> lo{1.0, 1.0, 3.1, 3.0, 5.0}, hi{1.1, 2.1, 3.2, 5.0, 6.0};
  const auto s = score_cross_run(p, lo, hi, label_b, a_row, label_a);
  EXPECT_EQ(s.common, 4u);
  EXPECT_EQ(s.new_archs, 1u);
  EXPECT_NEAR(s.model.mape_percent, 3.75, 1e-9);
  EXPECT_NEAR(s.retest.mape_percent, 7.5, 1e-9);
  EXPECT_NEAR(s.mape_ratio, 0.5, 1e-9);
  EXPECT_NEAR(s.retest.within_10, 1.0, 1e-12) << "10% is inside +-10%";
  EXPECT_NEAR(s.model_new.mape_percent, 10.0, 1e-9);
  EXPECT_EQ(s.model_new.n, 1u);
  // Signed model errors +5%, -5%, 0, +5%: median +2.5%; retest +10%, 0, -10%, +10%: median +5%.
  EXPECT_NEAR(s.median_signed_error, 0.025, 1e-12);
  EXPECT_NEAR(s.retest_median_signed, 0.05, 1e-12);
  EXPECT_NEAR(s.coverage_90, 0.75, 1e-12) << "row 2's interval 3.1..3.2 misses 3";
  EXPECT_NEAR(s.coverage_90_new, 1.0, 1e-12);
}

TEST(CrossRun, NoIntervalsNoGapAndBadInput) {
  const std::vector<double> y{1.0, 2.0}, nan2{std::nan(""), std::nan("")};
  const std::vector<std::ptrdiff_t> both{0, 1}, none{-1, -1};
  const auto s = score_cross_run(y, nan2, nan2, y, both, y);
  EXPECT_TRUE(std::isnan(s.mape_ratio)) << "A equal to B: no gap to divide by";
  EXPECT_TRUE(std::isnan(s.coverage_90));
  EXPECT_EQ(s.model_new.n, 0u);
  EXPECT_THROW((void)score_cross_run(y, nan2, nan2, y, none, y), error);
  EXPECT_THROW((void)score_cross_run(y, nan2, nan2, std::vector<double>{1.0}, both, y), error);
}

class Retest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("esm_cross_run_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    // a and b: the same 60 archs (seed 5); b's noise draws are shifted by its one group of 1000.
    test::write_synthetic_dataset((dir_ / "a.h5").string(), 60, 0.02, 5);
    test::write_synthetic_dataset((dir_ / "b.h5").string(), 60, 0.02, 5, 0, 0, 1000, 0.0);
    test::write_synthetic_dataset((dir_ / "more.h5").string(), 90, 0.02, 5);
    test::write_synthetic_dataset((dir_ / "other.h5").string(), 60, 0.02, 77);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static std::string at(const char* name) { return (dir_ / name).string(); }
  static inline std::filesystem::path dir_;
};

TEST_F(Retest, MatchesRowsByArchIdAndRefusesDatasetsWithNothingInCommon) {
  const auto a = load_training_data(dataset::read(at("a.h5")), label_kind::trimmed_mean);
  const auto r = load_retest(at("b.h5"), a, false);
  EXPECT_EQ(r.common, 60u);
  ASSERT_EQ(r.a_row.size(), r.b.y.size());
  double differ = 0;
  for (std::size_t i = 0; i < r.a_row.size(); ++i) {
    ASSERT_GE(r.a_row[i], 0);
    EXPECT_EQ(a.ids[static_cast<std::size_t>(r.a_row[i])], r.b.ids[i]);
    differ += a.y[static_cast<std::size_t>(r.a_row[i])] != r.b.y[i];
  }
  EXPECT_GT(differ, 50) << "b re-measures a with other noise";
  EXPECT_EQ(r.b.label, a.label);

  const auto more = load_retest(at("more.h5"), a, false);
  EXPECT_GT(more.common, 0u);
  EXPECT_EQ(more.common + static_cast<std::size_t>(std::count(more.a_row.begin(), more.a_row.end(), -1)), more.b.y.size());

  EXPECT_THROW((void)load_retest(at("other.h5"), a, false), usage_error);
  EXPECT_THROW((void)load_retest(at("missing.h5"), a, false), file_error);
  auto resnet = a;
  resnet.space = "ofa-resnet50";
  EXPECT_THROW((void)load_retest(at("b.h5"), resnet, false), usage_error);
}

}  // namespace
}  // namespace esm::train
