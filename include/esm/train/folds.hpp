// How cross-validation folds are made from a dataset: whole measuring groups per fold (the default
// where the dataset has them) or rows stratified by depth bin. `esm train`, `esm loop` and
// `esm features` (whose fold column the peers use) all call these, so they make the same folds.
//
// Why groups: the archs one rank times together share a level error (train/group_effects.hpp), and
// a rank times its archs in cost order, so that error is tied to the features. Row folds put a
// held-out arch's group mates in the training folds, and CV then scores part of the held-out
// noise as if it were predictable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "esm/dataset/dataset.hpp"

namespace esm::train {

enum class fold_rule {
  automatic,  ///< groups when the dataset has at least `folds` measuring groups, else rows
  groups,     ///< whole measuring groups per fold (usage_error where the dataset has none)
  rows,       ///< rows stratified by depth bin (surrogate::stratified_folds)
};
/// "auto" | "groups" | "rows"; usage_error naming `setting` otherwise.
[[nodiscard]] fold_rule parse_fold_rule(std::string_view text, std::string_view setting = "--folds-by");

/// The group id of each training row that folds keep whole (measuring_groups, group_effects.hpp:
/// -1 for a row alone), or empty for row folds. `rows`: the training rows' /results indices.
/// Throws usage_error for fold_rule::groups on a dataset without measuring groups or with fewer
/// groups (ungrouped rows counting one each) than `folds`.
[[nodiscard]] std::vector<std::int64_t> fold_groups(const dataset::contents& c, std::span<const std::size_t> rows,
                                                    fold_rule rule, std::size_t folds);

/// "groups" when `fold_groups` has a group, else "rows": what the CV table and model file record.
[[nodiscard]] std::string_view folds_by(std::span<const std::int64_t> fold_groups);

/// Fold of each row: surrogate::grouped_folds with groups, else surrogate::stratified_folds
/// (unchanged from before groups existed, so --folds-by rows reproduces older results). Pure.
[[nodiscard]] std::vector<std::size_t> assign_folds(std::span<const int> bins, std::span<const std::int64_t> fold_groups,
                                                    std::size_t folds, std::uint64_t seed);

}  // namespace esm::train
