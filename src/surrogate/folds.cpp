// Stratified fold assignment; the rule is documented in esm/surrogate/folds.hpp.
#include "esm/surrogate/folds.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "support.hpp"

namespace esm::surrogate {

std::vector<std::size_t> stratified_folds(std::span<const int> labels, std::size_t k, std::uint64_t seed) {
  if (k < 2 || k > labels.size())
    throw usage_error("folds: need 2 <= k <= rows, got k = " + std::to_string(k) + " for " +
                      std::to_string(labels.size()) + " rows");
  std::map<int, std::vector<std::size_t>> rows_of;  // ascending label, rows ascending within
  for (std::size_t i = 0; i < labels.size(); ++i) rows_of[labels[i]].push_back(i);

  std::vector<std::size_t> fold(labels.size());
  rng r(seed);
  std::size_t next = 0;
  for (auto& [label, rows] : rows_of) {
    detail::shuffle(rows, r);
    for (std::size_t row : rows) {
      fold[row] = next;
      next = (next + 1) % k;
    }
  }
  return fold;
}

std::vector<std::size_t> grouped_folds(std::span<const int> labels, std::span<const std::int64_t> groups,
                                       std::size_t k, std::uint64_t seed) {
  if (groups.size() != labels.size()) {
    throw usage_error("folds: " + std::to_string(groups.size()) + " group ids for " + std::to_string(labels.size()) + " rows");
  }
  if (k < 2) throw usage_error("folds: need k >= 2, got " + std::to_string(k));
  // Units in order of their first row: a group's rows, or one ungrouped row.
  std::vector<std::vector<std::size_t>> units;
  std::map<std::int64_t, std::size_t> unit_of_group;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (groups[i] < 0) {
      units.push_back({i});
      continue;
    }
    const auto [it, fresh] = unit_of_group.emplace(groups[i], units.size());
    if (fresh) units.emplace_back();
    units[it->second].push_back(i);
  }
  if (units.size() < k) {
    throw usage_error("folds: " + std::to_string(units.size()) + " measuring groups, fewer than k = " + std::to_string(k) +
                      " folds of whole groups");
  }
  auto order = detail::iota(units.size());
  rng r(seed);
  detail::shuffle(order, r);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return units[a].size() > units[b].size(); });

  std::map<int, std::size_t> label_index;  // ascending label -> column
  for (int l : labels) label_index.emplace(l, 0);
  std::size_t column = 0;
  for (auto& [label, index] : label_index) index = column++;
  std::vector<double> label_total(label_index.size(), 0.0);
  for (int l : labels) label_total[label_index[l]] += 1;
  const double total = static_cast<double>(labels.size());

  std::vector<std::vector<double>> count(k, std::vector<double>(label_index.size(), 0.0));  // fold x label
  std::vector<double> size(k, 0.0);
  std::vector<std::size_t> fold(labels.size());
  std::map<std::size_t, double> mine;  // label column -> this unit's rows
  for (std::size_t u : order) {
    const auto& unit = units[u];
    mine.clear();
    for (std::size_t row : unit) mine[label_index[labels[row]]] += 1;
    const double n = static_cast<double>(unit.size());
    std::size_t best = 0;
    double best_cost = 0;
    for (std::size_t f = 0; f < k; ++f) {
      double cost = n * size[f] / total;
      for (const auto& [c, m] : mine) cost += m * count[f][c] / label_total[c];
      if (f == 0 || cost < best_cost || (cost == best_cost && size[f] < size[best])) {
        best = f;
        best_cost = cost;
      }
    }
    for (const auto& [c, m] : mine) count[best][c] += m;
    size[best] += n;
    for (std::size_t row : unit) fold[row] = best;
  }
  return fold;
}

std::vector<std::size_t> kfold(std::size_t n, std::size_t k, std::uint64_t seed) {
  return stratified_folds(std::vector<int>(n, 0), k, seed);
}

fold_split split_fold(std::span<const std::size_t> fold_of_row, std::size_t fold) {
  fold_split s;
  for (std::size_t i = 0; i < fold_of_row.size(); ++i) (fold_of_row[i] == fold ? s.test : s.train).push_back(i);
  return s;
}

}  // namespace esm::surrogate
