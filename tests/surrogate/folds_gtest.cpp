// Stratified fold assignment: balanced per label, a partition of the rows, a function of the seed.
#include "esm/surrogate/folds.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
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

/// Made-up measuring groups as an interleaved profile makes them: rows in decreasing-cost order
/// (so a group's rows mostly share a depth bin), groups of `size` consecutive rows, a partial last
/// group, and every 13th row alone (a re-measure: group -1).
struct grouped_rows {
  std::vector<int> bins;
  std::vector<std::int64_t> groups;
};
grouped_rows made_up_groups(std::size_t size) {
  grouped_rows g;
  g.bins = depth_bins();
  std::sort(g.bins.begin(), g.bins.end());
  std::int64_t next = 0;
  std::size_t in_group = 0;
  for (std::size_t i = 0; i < g.bins.size(); ++i) {
    if (i % 13 == 12) {
      g.groups.push_back(-1);
      continue;
    }
    g.groups.push_back(next);
    if (++in_group == size) {
      in_group = 0;
      ++next;
    }
  }
  return g;
}

TEST(GroupedFolds, KeepGroupsWholeFillEveryFoldAndBalanceBins) {
  for (std::size_t group_size : {2u, 5u, 8u}) {
    for (std::uint64_t seed : {0u, 1u, 2u}) {
      const auto g = made_up_groups(group_size);
      const std::size_t k = 5;
      const auto fold = grouped_folds(g.bins, g.groups, k, seed);
      ASSERT_EQ(fold.size(), g.bins.size());
      std::map<std::int64_t, std::size_t> fold_of_group;
      std::map<int, std::vector<double>> per_bin;
      std::vector<double> size(k, 0);
      for (std::size_t i = 0; i < fold.size(); ++i) {
        ASSERT_LT(fold[i], k);
        if (g.groups[i] >= 0) {
          const auto [it, fresh] = fold_of_group.emplace(g.groups[i], fold[i]);
          ASSERT_EQ(it->second, fold[i]) << "group " << g.groups[i] << " split across folds";
        }
        per_bin[g.bins[i]].resize(k, 0);
        ++per_bin[g.bins[i]][fold[i]];
        ++size[fold[i]];
      }
      // Whole groups: each fold within one group's rows of its share, and so is each bin's count.
      const double tolerance = static_cast<double>(group_size);
      for (std::size_t f = 0; f < k; ++f) {
        EXPECT_GT(size[f], 0);
        EXPECT_LE(std::abs(size[f] - static_cast<double>(fold.size()) / k), tolerance) << "fold " << f;
      }
      for (const auto& [bin, counts] : per_bin) {
        double n = 0;
        for (double c : counts) n += c;
        for (std::size_t f = 0; f < k; ++f) {
          EXPECT_LE(std::abs(counts[f] - n / k), tolerance) << "bin " << bin << " fold " << f << " size " << group_size;
        }
      }
      EXPECT_EQ(fold, grouped_folds(g.bins, g.groups, k, seed));  // a function of the seed
    }
  }
}

TEST(GroupedFolds, SeedsDifferAndUngroupedRowsAreSpreadLikeGroupsOfOne) {
  const auto g = made_up_groups(8);
  EXPECT_NE(grouped_folds(g.bins, g.groups, 5, 0), grouped_folds(g.bins, g.groups, 5, 1));
  // No groups at all: every row its own unit, so fold sizes and bins are balanced within one row.
  const std::vector<std::int64_t> none(g.bins.size(), -1);
  const auto fold = grouped_folds(g.bins, none, 4, 3);
  std::map<int, std::vector<int>> per_bin;
  for (std::size_t i = 0; i < fold.size(); ++i) {
    per_bin[g.bins[i]].resize(4, 0);
    ++per_bin[g.bins[i]][fold[i]];
  }
  for (const auto& [bin, counts] : per_bin) {
    EXPECT_LE(*std::max_element(counts.begin(), counts.end()) - *std::min_element(counts.begin(), counts.end()), 1) << bin;
  }
}

TEST(GroupedFolds, RefuseFewerGroupsThanFoldsAndMismatchedInput) {
  const std::vector<int> bins(12, 3);
  std::vector<std::int64_t> three(12);
  for (std::size_t i = 0; i < three.size(); ++i) three[i] = static_cast<std::int64_t>(i / 4);
  EXPECT_NO_THROW((void)grouped_folds(bins, three, 3, 0));
  EXPECT_THROW((void)grouped_folds(bins, three, 4, 0), usage_error);
  EXPECT_THROW((void)grouped_folds(bins, std::vector<std::int64_t>(11, 0), 2, 0), usage_error);
  EXPECT_THROW((void)grouped_folds(bins, three, 1, 0), usage_error);
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
