// Hyper-parameter searches kept between fits on the same rows, in an object the caller owns.
//
// The tuning kinds (mlp, xgboost and the hybrid's trees) search their hyper-parameters by inner CV
// inside fit(). The inner folds and fits use fixed seeds, so a search's result is a function of the
// rows, the targets and the options it reads, never of the fit's seed: the members of one
// cross-validation fold, which fit the same rows with different seeds, would repeat the same search
// member after member. Whoever fits them (cross-validation, the final fit) owns one tuning_cache
// and hands it to the models (make_regressor, or the models' constructors); the models and their
// clone_unfitted() copies look the search up before running it. A model without a cache searches
// on every fit. With or without a cache, predictions are bit for bit the same.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>

#include "esm/surrogate/mlp.hpp"
#include "esm/surrogate/xgboost.hpp"

namespace esm::surrogate {

/// Entries are keyed by a hash of the rows, the targets and all the model's options, so two
/// configurations never share a search (a fitted model's clone, whose options hold the choice,
/// searches again). Bounded by its owner: one small entry (tens of bytes) per distinct search,
/// i.e. per (kind, training rows) of the owner's fits, kept as long as the owner keeps the cache;
/// clear() empties it. Not synchronised: share one between fits that run one after another (esm's fits are
/// single-threaded and every MPI rank owns its own); threads fitting at once need one each.
class tuning_cache {
 public:
  tuning_cache() = default;
  tuning_cache(const tuning_cache&) = delete;
  tuning_cache& operator=(const tuning_cache&) = delete;
  tuning_cache(tuning_cache&&) noexcept = default;
  tuning_cache& operator=(tuning_cache&&) noexcept = default;
  ~tuning_cache() = default;

  /// Searches held (MLP and XGBoost together).
  [[nodiscard]] std::size_t size() const { return mlp_.size() + xgboost_.size(); }
  void clear() {
    mlp_.clear();
    xgboost_.clear();
  }

  /// The search named `key` (a hash of the rows, the targets and the options the search reads),
  /// run by `search` the first time it is asked for. For the models' fit().
  template <class Search>
  [[nodiscard]] const mlp_options& mlp(std::uint64_t key, Search&& search) {
    return find_or_run(mlp_, key, std::forward<Search>(search));
  }
  template <class Search>
  [[nodiscard]] const xgboost_tuned& xgboost(std::uint64_t key, Search&& search) {
    return find_or_run(xgboost_, key, std::forward<Search>(search));
  }

 private:
  template <class Value, class Search>
  static const Value& find_or_run(std::map<std::uint64_t, Value>& entries, std::uint64_t key, Search&& search) {
    auto it = entries.find(key);
    if (it == entries.end()) it = entries.emplace(key, std::forward<Search>(search)()).first;
    return it->second;
  }

  std::map<std::uint64_t, mlp_options> mlp_;
  std::map<std::uint64_t, xgboost_tuned> xgboost_;
};

}  // namespace esm::surrogate
