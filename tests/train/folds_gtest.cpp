// Fold rules (groups by default where a dataset has measuring groups) and the cross-validation
// they feed: whole groups per fold, and a stacked blend whose fold k never saw fold k's rows.
#include "esm/train/folds.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <vector>

#include "esm/common/error.hpp"
#include "esm/features/encoding.hpp"
#include "esm/surrogate/ensemble.hpp"
#include "esm/surrogate/folds.hpp"
#include "esm/train/cross_validation.hpp"
#include "esm/train/group_effects.hpp"
#include "esm/train/training_data.hpp"
#include "train/synthetic_dataset.hpp"

namespace esm::train {
namespace {

/// Rows 0-11 in three groups of four (run 0, rank 0, readings 2.0, 2.1, 2.2); rows 12-13 alone.
dataset::contents three_groups() {
  dataset::contents c;
  for (std::size_t i = 0; i < 14; ++i) {
    dataset::result_row r = dataset::pending_row();
    r.run = 0;
    r.rank = 0;
    r.reference_ms = i < 12 ? 2.0 + 0.1 * static_cast<double>(i / 4) : 3.0 + static_cast<double>(i);
    c.results.push_back(r);
  }
  return c;
}

std::vector<std::size_t> all_rows(std::size_t n) {
  std::vector<std::size_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

TEST(FoldRule, GroupsByDefaultWhereTheDatasetHasThemRowsOtherwise) {
  const auto c = three_groups();
  const auto rows = all_rows(14);
  const auto automatic = fold_groups(c, rows, fold_rule::automatic, 5);
  EXPECT_EQ(automatic, measuring_groups(c, rows)) << "3 groups + 2 rows alone = 5 units for 5 folds";
  EXPECT_EQ(folds_by(automatic), "groups");
  EXPECT_EQ(fold_groups(c, rows, fold_rule::groups, 5), automatic);
  EXPECT_TRUE(fold_groups(c, rows, fold_rule::rows, 5).empty());
  EXPECT_EQ(folds_by(std::vector<std::int64_t>{}), "rows");
  // Too few units for the folds: automatic falls back to rows, an explicit groups is refused.
  EXPECT_TRUE(fold_groups(c, rows, fold_rule::automatic, 6).empty());
  EXPECT_THROW((void)fold_groups(c, rows, fold_rule::groups, 6), usage_error);
  // No measuring groups (every reading differs): rows, or a refusal when groups were asked for.
  auto plain = c;
  for (std::size_t i = 0; i < plain.results.size(); ++i) plain.results[i].reference_ms = std::nan("");
  EXPECT_TRUE(fold_groups(plain, rows, fold_rule::automatic, 2).empty());
  EXPECT_THROW((void)fold_groups(plain, rows, fold_rule::groups, 2), usage_error);
  EXPECT_EQ(parse_fold_rule("auto"), fold_rule::automatic);
  EXPECT_EQ(parse_fold_rule("groups"), fold_rule::groups);
  EXPECT_EQ(parse_fold_rule("rows"), fold_rule::rows);
  EXPECT_THROW((void)parse_fold_rule("archs"), usage_error);
}

TEST(FoldRule, RowFoldsAreTheStratifiedFoldsOfBefore) {
  const std::vector<int> bins{3, 4, 3, 4, 5, 5, 3, 4, 5, 3};
  EXPECT_EQ(assign_folds(bins, {}, 3, 9), surrogate::stratified_folds(bins, 3, 9));
  EXPECT_EQ(assign_folds(bins, std::vector<std::int64_t>(10, -1), 3, 9), surrogate::stratified_folds(bins, 3, 9));
}

class GroupedCv : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("esm_grouped_cv_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "grouped.h5").string();
    test::write_synthetic_dataset(path_, 96, 0.01, 4, 0, 0, 8, 0.04);  // 12 groups of 8
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static inline std::filesystem::path dir_;
  static inline std::string path_;
};

TEST_F(GroupedCv, KeepsGroupsWholeAndCrossFitsTheStackedBlend) {
  const auto contents = dataset::read(path_);
  const auto d = load_training_data(contents, label_kind::trimmed_mean);
  const auto x = features::encoder(space::find_space(d.space), features::encoding_spec::parse("fcc")).encode(d.archs);
  cv_options o;
  o.kinds = {"ridge", "xgboost"};
  o.folds = 4;
  o.members = 1;
  o.seed = 2;
  o.fold_groups = fold_groups(contents, d.dataset_rows, fold_rule::automatic, o.folds);
  const surrogate::matrix_view v(x.rows, x.cols, x.data);
  const auto r = cross_validate(cluster::communicator::world(), v, d.y, d.bins, o);
  EXPECT_EQ(r.folds_by, "groups");
  EXPECT_EQ(r.fold_group_count, 12u);
  std::map<std::int64_t, std::size_t> fold_of_group;
  for (std::size_t i = 0; i < d.y.size(); ++i) {
    ASSERT_GE(o.fold_groups[i], 0);
    const auto [it, fresh] = fold_of_group.emplace(o.fold_groups[i], r.fold_of_row[i]);
    EXPECT_EQ(it->second, r.fold_of_row[i]) << "group " << o.fold_groups[i] << " split";
  }

  // Stacked: fold f's rows blended with the weights fitted on the other folds' predictions.
  ASSERT_EQ(r.models.size(), 4u);
  ASSERT_EQ(r.fold_stack_weights.size(), o.folds);
  const auto& stacked = r.models[3];
  ASSERT_EQ(stacked.model, "stacked");
  for (std::size_t f = 0; f < o.folds; ++f) {
    const auto split = surrogate::split_fold(r.fold_of_row, f);
    surrogate::matrix others(split.train.size(), 2);
    std::vector<double> y;
    for (std::size_t j = 0; j < split.train.size(); ++j) {
      for (std::size_t k = 0; k < 2; ++k) others(j, k) = r.models[k].predictions[split.train[j]];
      y.push_back(d.y[split.train[j]]);
    }
    const auto w = surrogate::stacking_weights(others, y);
    EXPECT_EQ(w, r.fold_stack_weights[f]);
    for (std::size_t i : split.test) {
      EXPECT_DOUBLE_EQ(stacked.predictions[i], w[0] * r.models[0].predictions[i] + w[1] * r.models[1].predictions[i]);
    }
  }
  surrogate::matrix every(d.y.size(), 2);
  for (std::size_t i = 0; i < d.y.size(); ++i) {
    for (std::size_t k = 0; k < 2; ++k) every(i, k) = r.models[k].predictions[i];
  }
  EXPECT_EQ(r.stack_weights, surrogate::stacking_weights(every, d.y)) << "the final model's weights see every row";

  // Rows: the folds of before (stratified by depth bin), and groups then are split.
  o.fold_groups.clear();
  const auto rows = cross_validate(cluster::communicator::world(), v, d.y, d.bins, o);
  EXPECT_EQ(rows.folds_by, "rows");
  EXPECT_EQ(rows.fold_of_row, surrogate::stratified_folds(d.bins, o.folds, o.seed));
}

}  // namespace
}  // namespace esm::train
