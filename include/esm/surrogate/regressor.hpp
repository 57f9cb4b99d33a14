// The one interface every latency surrogate implements, and the table of the kinds that implement it.
//
// Contract shared by all kinds:
//  - targets are latencies in ms, finite and > 0; fit() throws esm::error otherwise;
//  - models fit a transformed target (log-latency by default) and predict() returns linear ms;
//  - fit() is single-threaded and a pure function of (x, y, seed, options): the same inputs give
//    bit-identical predictions on the same build;
//  - save() captures everything predict() needs, options included, and load() of that state into
//    a model of the same kind predicts bit-identically.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "esm/surrogate/matrix.hpp"
#include "esm/surrogate/model_state.hpp"

namespace esm::surrogate {

class regressor {
 public:
  virtual ~regressor() = default;

  /// The registered kind (kind_table()): the value of the state's "kind" entry.
  [[nodiscard]] virtual std::string_view kind() const = 0;

  /// Fits rows x (one architecture encoding per row) to latencies y_ms (y_ms.size() == x.rows).
  /// Replaces any earlier fit.
  virtual void fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) = 0;

  /// Predicted latencies in ms for every row of x into out (out.size() == x.rows). Throws
  /// esm::error when unfitted or when x.cols differs from the fitted feature count.
  virtual void predict_into(matrix_view x, std::span<double> out_ms) const = 0;

  /// Predicted latencies in ms, one per row of x.
  [[nodiscard]] std::vector<double> predict(matrix_view x) const;

  [[nodiscard]] virtual model_state save() const = 0;
  /// Replaces options and fitted state with `state` (throws esm::error for another kind or a
  /// malformed state).
  virtual void load(const model_state& state) = 0;

  [[nodiscard]] virtual bool fitted() const = 0;
  /// Features the model was fitted on (0 when unfitted).
  [[nodiscard]] virtual std::size_t feature_count() const = 0;

  /// A new, unfitted model of the same kind and options (ensembles make members from it).
  [[nodiscard]] virtual std::unique_ptr<regressor> clone_unfitted() const = 0;

 protected:
  regressor() = default;
  regressor(const regressor&) = default;
  regressor& operator=(const regressor&) = default;
};

class tuning_cache;

/// One surrogate kind, registered once in kind_table() (src/surrogate/regressor.cpp): every
/// factory, loader, default list and help text reads it.
struct surrogate_kind {
  std::string_view name;         ///< the value of a model state's "kind" entry and of --kinds
  std::string_view description;  ///< one line, for help texts
  /// A new, unfitted model in esm train's configuration (tuning on where the kind tunes), keeping
  /// its hyper-parameter searches in `cache` (may be null; see tuning_cache.hpp).
  std::unique_ptr<regressor> (*make)(tuning_cache* cache);
  /// A model loaded from a state of this kind (throws esm::error for a malformed state).
  std::unique_ptr<regressor> (*load)(const model_state& state);
  bool in_default_set;  ///< fitted by esm train unless --kinds says otherwise
};

/// Every registered kind, in the order help texts list them.
[[nodiscard]] std::span<const surrogate_kind> kind_table();

/// The registered kind called `name`, or nullptr.
[[nodiscard]] const surrogate_kind* find_kind(std::string_view name);

/// Names of the kinds in the default set, in table order: esm train's --kinds default.
[[nodiscard]] std::vector<std::string> default_kinds();

/// Which kinds kind_names() lists.
enum class kind_set { all, defaults };

/// The names of `which` kinds joined by `separator`, for help and error texts
/// ("ridge, mlp, xgboost, hybrid, ensemble").
[[nodiscard]] std::string kind_names(kind_set which = kind_set::all, std::string_view separator = ", ");

/// A registered kind's model in esm train's configuration (kind_table()'s make), keeping its and
/// its clones' tuning searches in `cache` when one is given (owned by the caller, outliving their
/// fits; share one between the fits of one cross-validation or final fit). Throws
/// esm::usage_error naming the kind and the known ones for an unknown kind.
[[nodiscard]] std::unique_ptr<regressor> make_regressor(std::string_view kind, tuning_cache* cache = nullptr);

/// A model of the state's "kind", loaded from it (throws esm::error for an unknown kind).
[[nodiscard]] std::unique_ptr<regressor> load_regressor(const model_state& state);

/// Throws esm::error unless x has rows, y_ms.size() == x.rows, every x is finite and every y is
/// finite and > 0. `who` names the model in the message.
void check_training_data(std::string_view who, matrix_view x, std::span<const double> y_ms);

/// Throws esm::error unless the model is fitted, x.cols == features and out.size() == x.rows.
void check_prediction_args(std::string_view who, bool fitted, std::size_t features, matrix_view x,
                           std::span<const double> out);

}  // namespace esm::surrogate
