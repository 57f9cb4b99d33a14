// Fold rules of esm train, esm loop and esm features (design: include/esm/train/folds.hpp).
#include "esm/train/folds.hpp"

#include <set>
#include <string>

#include "esm/common/error.hpp"
#include "esm/surrogate/folds.hpp"
#include "esm/train/group_effects.hpp"

namespace esm::train {

namespace {

/// Groups folds can hold: each group once, each ungrouped row once.
std::size_t fold_units(std::span<const std::int64_t> groups) {
  std::set<std::int64_t> seen;
  std::size_t alone = 0;
  for (auto g : groups) {
    if (g < 0) {
      ++alone;
    } else {
      seen.insert(g);
    }
  }
  return seen.size() + alone;
}

}  // namespace

fold_rule parse_fold_rule(std::string_view text, std::string_view setting) {
  if (text == "auto") return fold_rule::automatic;
  if (text == "groups") return fold_rule::groups;
  if (text == "rows") return fold_rule::rows;
  throw usage_error("unknown " + std::string(setting) + " '" + std::string(text) + "' (auto, groups, rows)");
}

std::vector<std::int64_t> fold_groups(const dataset::contents& c, std::span<const std::size_t> rows, fold_rule rule,
                                      std::size_t folds) {
  if (rule == fold_rule::rows) return {};
  auto groups = measuring_groups(c, rows);
  const bool usable = has_groups(groups) && fold_units(groups) >= folds;
  if (usable) return groups;
  if (rule == fold_rule::automatic) return {};
  if (!has_groups(groups)) {
    throw usage_error("folds by groups: the dataset has no measuring groups (only interleaved profiles have them; "
                      "crossed ones solve their groups' levels out); use --folds-by rows");
  }
  throw usage_error("folds by groups: " + std::to_string(fold_units(groups)) + " measuring groups, fewer than " +
                    std::to_string(folds) + " folds");
}

std::string_view folds_by(std::span<const std::int64_t> fold_groups) { return has_groups(fold_groups) ? "groups" : "rows"; }

std::vector<std::size_t> assign_folds(std::span<const int> bins, std::span<const std::int64_t> fold_groups,
                                      std::size_t folds, std::uint64_t seed) {
  if (has_groups(fold_groups)) return surrogate::grouped_folds(bins, fold_groups, folds, seed);
  return surrogate::stratified_folds(bins, folds, seed);
}

}  // namespace esm::train
