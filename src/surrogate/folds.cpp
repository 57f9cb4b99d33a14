// Stratified fold assignment; the rule is documented in esm/surrogate/folds.hpp.
#include "esm/surrogate/folds.hpp"

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

std::vector<std::size_t> kfold(std::size_t n, std::size_t k, std::uint64_t seed) {
  return stratified_folds(std::vector<int>(n, 0), k, seed);
}

fold_split split_fold(std::span<const std::size_t> fold_of_row, std::size_t fold) {
  fold_split s;
  for (std::size_t i = 0; i < fold_of_row.size(); ++i) (fold_of_row[i] == fold ? s.test : s.train).push_back(i);
  return s;
}

}  // namespace esm::surrogate
