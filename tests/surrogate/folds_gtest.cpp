// Stratified fold assignment: balanced per label, a partition of the rows, a function of the seed.
#include "esm/surrogate/folds.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "esm/common/error.hpp"
#include "surrogate/support.hpp"

namespace esm::surrogate {
namespace {

std::vector<int> depth_bins() {
  // 103 rows in four bins of uneven sizes (40, 31, 25, 7), interleaved as a dataset would be.
  std::vector<int> labels;
  for (int i = 0; i < 40; ++i) labels.push_back(12);
  for (int i = 0; i < 31; ++i) labels.push_back(16);
  for (int i = 0; i < 25; ++i) labels.push_back(20);
  for (int i = 0; i < 7; ++i) labels.push_back(8);
  std::vector<int> interleaved;
  for (std::size_t i = 0; i < labels.size(); ++i) interleaved.push_back(labels[(i * 37) % labels.size()]);
  return interleaved;
}

TEST(Folds, EveryBinSpreadsEvenlyAndFoldSizesDifferByAtMostOne) {
  const auto labels = depth_bins();
  const std::size_t k = 5;
  const auto fold = stratified_folds(labels, k, 11);
  ASSERT_EQ(fold.size(), labels.size());  // each row gets exactly one fold
  std::map<int, std::vector<std::size_t>> per_bin;
  std::vector<std::size_t> size(k, 0);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    ASSERT_LT(fold[i], k);
    per_bin[labels[i]].resize(k, 0);
    ++per_bin[labels[i]][fold[i]];
    ++size[fold[i]];
  }
  for (const auto& [label, counts] : per_bin) {
    const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
    EXPECT_LE(*hi - *lo, 1u) << "bin " << label;
  }
  const auto [lo, hi] = std::minmax_element(size.begin(), size.end());
  EXPECT_LE(*hi - *lo, 1u);

  // The splits partition the rows: each row is in exactly one test set.
  std::vector<int> tested(labels.size(), 0);
  for (std::size_t f = 0; f < k; ++f) {
    const auto s = split_fold(fold, f);
    EXPECT_EQ(s.train.size() + s.test.size(), labels.size());
    for (std::size_t row : s.test) ++tested[row];
  }
  EXPECT_TRUE(std::all_of(tested.begin(), tested.end(), [](int t) { return t == 1; }));
}

TEST(Folds, DependOnlyOnLabelsKAndSeed) {
  const auto labels = depth_bins();
  const auto a = stratified_folds(labels, 4, 99);
  (void)stratified_folds(labels, 4, 5);  // no hidden state between calls
  EXPECT_EQ(stratified_folds(labels, 4, 99), a);
  EXPECT_NE(stratified_folds(labels, 4, 100), a);
  // Pinned so that every machine, compiler and rank count gets this table (esm::rng is portable).
  EXPECT_EQ(stratified_folds(std::vector<int>{3, 1, 3, 1, 3, 2}, 2, 42), (std::vector<std::size_t>{1, 1, 0, 0, 1, 0}));
}

TEST(Folds, UnstratifiedKFoldAndBadK) {
  const auto f = kfold(10, 3, 1);
  std::vector<std::size_t> size(3, 0);
  for (std::size_t v : f) ++size[v];
  EXPECT_EQ(size, (std::vector<std::size_t>{4, 3, 3}));  // dealt round-robin from fold 0
  EXPECT_THROW((void)kfold(10, 1, 1), usage_error);
  EXPECT_THROW((void)kfold(3, 4, 1), usage_error);
}

}  // namespace
}  // namespace esm::surrogate

// The subset a tuning search runs on (src/surrogate/support.hpp): every row up to the limit,
// else a fixed-size, sorted, duplicate-free subset that depends only on (n, limit, seed).
TEST(TuningRows, AllRowsUpToTheLimitElseAFixedSubset) {
  using esm::surrogate::detail::tuning_rows;
  const auto small = tuning_rows(500, 4000, 1);
  ASSERT_EQ(small.size(), 500u);
  for (std::size_t i = 0; i < small.size(); ++i) EXPECT_EQ(small[i], i);

  const auto big = tuning_rows(100000, 4000, 1);
  ASSERT_EQ(big.size(), 4000u);
  EXPECT_TRUE(std::is_sorted(big.begin(), big.end()));
  EXPECT_EQ(std::adjacent_find(big.begin(), big.end()), big.end());
  EXPECT_LT(big.back(), 100000u);
  EXPECT_GT(big.back(), 90000u);  // spread over the rows, not the first 4,000
  EXPECT_EQ(big, tuning_rows(100000, 4000, 1));
  EXPECT_NE(big, tuning_rows(100000, 4000, 2));
}
