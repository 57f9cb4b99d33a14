// Gradient-boosted trees through the XGBoost C API.
#include "esm/surrogate/xgboost.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "esm/common/error.hpp"
#include "esm/surrogate/folds.hpp"
#include "esm/surrogate/tuning_cache.hpp"
#include "support.hpp"
#include "xgboost_api.hpp"

namespace esm::surrogate {

namespace {

// Version 3 records absolute_loss (version 2 states were fitted with the squared loss); version 2
// records max_bin; version 1 states (fitted with XGBoost's default 256 bins) still load.
constexpr std::uint64_t state_version = 3;
constexpr std::size_t version1_max_bin = 256;

const detail::option_field<xgboost_options> option_fields[] = {
    {"rounds", &xgboost_options::rounds},
    {"max_depth", &xgboost_options::max_depth},
    {"eta", &xgboost_options::eta},
    {"subsample", &xgboost_options::subsample},
    {"colsample_bytree", &xgboost_options::colsample_bytree},
    {"min_child_weight", &xgboost_options::min_child_weight},
    {"reg_lambda", &xgboost_options::reg_lambda},
    {"early_stopping_rounds", &xgboost_options::early_stopping_rounds},
    {"validation_fraction", &xgboost_options::validation_fraction},
    {"log_target", &xgboost_options::log_target},
    {"max_bin", &xgboost_options::max_bin},              // version 1 states have every field before this one
    {"absolute_loss", &xgboost_options::absolute_loss},  // last: version 2 states have every field but this one
};

/// What tune_xgboost's choice depends on besides the rows, as a state to hash: every option.
model_state search_inputs(const xgboost_options& o) {
  model_state s;
  detail::write_options<xgboost_options>(s, o, option_fields);
  return s;
}

/// Inputs XGBoost trains on are floats; converting once keeps fit and predict on the same values.
std::vector<float> to_floats(matrix_view x, std::span<const std::size_t> rows) {
  std::vector<float> out;
  out.reserve(rows.size() * x.cols);
  for (std::size_t r : rows)
    for (double v : x.row(r)) out.push_back(static_cast<float>(v));
  return out;
}

std::vector<float> to_floats(std::span<const double> v, std::span<const std::size_t> rows) {
  std::vector<float> out;
  out.reserve(rows.size());
  for (std::size_t r : rows) out.push_back(static_cast<float>(v[r]));
  return out;
}

/// Round-trip decimal text of a parameter (std::to_string keeps only 6 decimals).
std::string param_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// Parameters that are not part of a saved XGBoost model and must be set again after a load.
void set_runtime_params(const xgb::booster& b) {
  xgb::set_param(b, "nthread", "1");
  xgb::set_param(b, "verbosity", "0");
}

constexpr const char* predict_config =
    R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "missing": NaN, "cache_id": 0})";

double mean(std::span<const float> v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double median(std::span<const float> v) {
  std::vector<float> s(v.begin(), v.end());
  const auto mid = s.begin() + static_cast<std::ptrdiff_t>(s.size() / 2);
  std::nth_element(s.begin(), mid, s.end());
  return *mid;
}

struct boosted {
  xgb::booster booster;
  std::size_t rounds = 0;  ///< trees kept
};

struct train_params {
  std::size_t max_depth;
  double eta, min_child_weight;
  std::size_t rounds, early_stopping_rounds;
  std::uint64_t seed;
};

/// A booster grown one tree at a time; with `valid` rows, each round reports their RMSE.
class stepper {
 public:
  stepper(const xgboost_options& o, const train_params& p, std::span<const float> train_x,
          std::span<const float> train_t, std::size_t cols, std::span<const float> valid_x,
          std::span<const double> valid_t)
      : train_(xgb::make_dmatrix(train_x.data(), train_t.size(), cols, train_t.data())),
        valid_t_(valid_t),
        absolute_(o.absolute_loss) {
    if (!valid_t_.empty()) valid_ = xgb::make_dmatrix(valid_x.data(), valid_t_.size(), cols);
    booster_ = valid_ ? xgb::make_booster({train_.get(), valid_.get()}) : xgb::make_booster({train_.get()});
    const auto& b = booster_;
    set_runtime_params(b);
    xgb::set_param(b, "validate_parameters", "1");
    xgb::set_param(b, "objective", o.absolute_loss ? "reg:absoluteerror" : "reg:squarederror");
    xgb::set_param(b, "tree_method", "hist");
    // XGBoost's seed is a signed 32-bit value in its random engine; keep it in range.
    xgb::set_param(b, "seed", std::to_string(p.seed % 2147483647ULL));
    xgb::set_param(b, "max_depth", std::to_string(p.max_depth));
    xgb::set_param(b, "eta", param_text(p.eta));
    xgb::set_param(b, "subsample", param_text(o.subsample));
    xgb::set_param(b, "colsample_bytree", param_text(o.colsample_bytree));
    xgb::set_param(b, "min_child_weight", param_text(p.min_child_weight));
    xgb::set_param(b, "lambda", param_text(o.reg_lambda));
    xgb::set_param(b, "max_bin", std::to_string(o.max_bin));
    // Starting from the mean (median) target saves the first rounds' worth of trees on
    // log-latencies far from 0.5.
    xgb::set_param(b, "base_score", param_text(o.absolute_loss ? median(train_t) : mean(train_t)));
  }

  /// Adds one tree; returns the validation error (NaN without validation rows): RMSE, or the mean
  /// absolute error with absolute_loss.
  double step() {
    ESM_XGB(XGBoosterUpdateOneIter(booster_.get(), static_cast<int>(rounds_), train_.get()));
    ++rounds_;
    if (!valid_) return std::nan("");
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* pred = nullptr;
    // The booster caches `valid`'s margins, so each round adds only its new tree.
    ESM_XGB(XGBoosterPredictFromDMatrix(booster_.get(), valid_.get(), predict_config, &shape, &dim, &pred));
    double sum = 0;
    for (std::size_t i = 0; i < valid_t_.size(); ++i) {
      const double e = pred[i] - valid_t_[i];
      sum += absolute_ ? std::abs(e) : e * e;
    }
    const double mean_error = sum / static_cast<double>(valid_t_.size());
    return absolute_ ? mean_error : std::sqrt(mean_error);
  }

  /// The booster with its first `keep` trees (all of them when keep >= the rounds grown).
  boosted finish(std::size_t keep) && {
    boosted out;
    out.rounds = rounds_;
    out.booster = std::move(booster_);
    if (keep < rounds_) {
      BoosterHandle sliced = nullptr;
      ESM_XGB(XGBoosterSlice(out.booster.get(), 0, static_cast<int>(keep), 1, &sliced));
      out.booster = xgb::booster(sliced);
      set_runtime_params(out.booster);
      out.rounds = keep;
    }
    return out;
  }

 private:
  xgb::dmatrix train_, valid_;
  std::span<const double> valid_t_;
  bool absolute_ = false;
  xgb::booster booster_;
  std::size_t rounds_ = 0;
};

/// The best round of a validation curve so far; stop once `patience` rounds (0: never) bring none better.
struct best_round_tracker {
  std::size_t patience = 0;
  double best_rmse = std::numeric_limits<double>::infinity();
  std::size_t best_round = 0;

  /// Records round `round`'s RMSE; true when boosting should stop.
  bool stop_after(std::size_t round, double rmse) {
    if (rmse < best_rmse) {
      best_rmse = rmse;
      best_round = round;
      return false;
    }
    return patience > 0 && round - best_round >= patience;
  }
};

/// One booster on float rows; with `valid` rows, early stopping on their RMSE keeps the best round.
boosted boost(const xgboost_options& o, const train_params& p, std::span<const float> train_x,
              std::span<const float> train_t, std::size_t cols, std::span<const float> valid_x,
              std::span<const double> valid_t) {
  stepper s(o, p, train_x, train_t, cols, valid_x, valid_t);
  const bool validate = !valid_t.empty();
  best_round_tracker curve{p.early_stopping_rounds};
  for (std::size_t round = 0; round < p.rounds; ++round) {
    const double rmse = s.step();
    if (validate && curve.stop_after(round, rmse)) break;
  }
  return std::move(s).finish(validate ? curve.best_round + 1 : p.rounds);
}

/// Fixed seed of the inner folds and inner fits: tuning is a function of the rows alone.
constexpr std::uint64_t tuning_seed = 0x15ULL;

}  // namespace

xgboost_tuned tune_xgboost(matrix_view all_x, std::span<const double> all_y_ms, const xgboost_options& base,
                           const xgboost_tuning_grid& grid) {
  // Large row sets are searched on a fixed subset (the final fit still sees every row; its tree
  // count is the subset's, a conservative choice for more rows).
  const auto rows = detail::tuning_rows(all_x.rows, detail::max_tuning_rows, tuning_seed);
  const matrix sub_x = select_rows(all_x, rows);
  const std::vector<double> sub_y = select(all_y_ms, rows);
  const matrix_view x = sub_x;
  const std::span<const double> y_ms = sub_y;
  const auto t = detail::to_target(y_ms, base.log_target);
  const std::size_t k = std::min(grid.inner_folds, x.rows);
  xgboost_tuned best;
  best.inner_rmse = std::numeric_limits<double>::infinity();
  if (k < 2) {  // too few rows to validate on: the grid's first (simplest) point, base's rounds
    return {grid.max_depth.front(), base.rounds, grid.min_child_weight.front(), grid.eta.front(), best.inner_rmse};
  }
  const auto fold_of_row = kfold(x.rows, k, tuning_seed);
  struct fold_data {
    std::vector<float> train_x, train_t, valid_x;
    std::vector<double> valid_t;
  };
  std::vector<fold_data> data(k);
  for (std::size_t f = 0; f < k; ++f) {
    const auto split = split_fold(fold_of_row, f);
    data[f] = {to_floats(x, split.train), to_floats(t, split.train), to_floats(x, split.test), select(t, split.test)};
  }
  // The k inner fits of a grid point grow in lockstep and are judged by their mean validation
  // curve (as xgb.cv does): its minimum picks the point and its round picks the tree count, with
  // early stopping on that mean. Each fold's own best round would be an optimistic pick that
  // favours the noisiest curves (a large step on few rows).
  // Visit order = tie order: shallower trees, heavier leaves and the smaller step win ties.
  for (const std::size_t depth : grid.max_depth) {
    for (const double mcw : grid.min_child_weight) {
      for (const double eta : grid.eta) {
        std::vector<stepper> fits;
        fits.reserve(k);
        for (std::size_t f = 0; f < k; ++f) {
          const train_params p{depth, eta, mcw, grid.max_rounds, grid.early_stopping_rounds,
                               detail::derive_seed(tuning_seed, f)};
          fits.emplace_back(base, p, data[f].train_x, data[f].train_t, x.cols, data[f].valid_x, data[f].valid_t);
        }
        best_round_tracker curve{grid.early_stopping_rounds};
        for (std::size_t round = 0; round < grid.max_rounds; ++round) {
          double rmse = 0;
          for (auto& fit : fits) rmse += fit.step() / static_cast<double>(k);
          if (curve.stop_after(round, rmse)) break;
        }
        if (curve.best_rmse < best.inner_rmse) {
          // The final fit sees k/(k-1) times the rows of an inner fit: a few more trees pay off.
          const double scaled =
              static_cast<double>(curve.best_round + 1) * static_cast<double>(k) / static_cast<double>(k - 1);
          best = {depth, static_cast<std::size_t>(std::lround(scaled)), mcw, eta, curve.best_rmse};
        }
      }
    }
  }
  best.rounds = std::max<std::size_t>(best.rounds, 1);
  return best;
}

struct xgboost_regressor::handles {
  xgb::booster booster;
};

void xgboost_options::validate() const {
  auto fail = [](const std::string& what) { throw usage_error("xgboost options: " + what); };
  if (rounds == 0) fail("rounds must be >= 1");
  if (max_depth == 0) fail("max_depth must be >= 1");
  if (!(eta > 0.0 && eta <= 1.0)) fail("eta must be in (0, 1]");
  if (!(subsample > 0.0 && subsample <= 1.0)) fail("subsample must be in (0, 1]");
  if (!(colsample_bytree > 0.0 && colsample_bytree <= 1.0)) fail("colsample_bytree must be in (0, 1]");
  if (!(min_child_weight >= 0.0)) fail("min_child_weight must be >= 0");
  if (!(reg_lambda >= 0.0)) fail("reg_lambda must be >= 0");
  if (max_bin < 2) fail("max_bin must be >= 2");
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0)) fail("validation_fraction must be in [0, 1)");
  if (early_stopping_rounds > 0 && validation_fraction == 0.0)
    fail("early stopping needs validation_fraction > 0");
}

xgboost_regressor::xgboost_regressor(xgboost_options options, tuning_cache* cache)
    : options_(std::move(options)), cache_(cache) {
  options_.validate();
}
xgboost_regressor::~xgboost_regressor() = default;
xgboost_regressor::xgboost_regressor(xgboost_regressor&&) noexcept = default;
xgboost_regressor& xgboost_regressor::operator=(xgboost_regressor&&) noexcept = default;

bool xgboost_regressor::fitted() const { return booster_ != nullptr; }

void xgboost_regressor::fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) {
  check_training_data("xgboost", x, y_ms);
  if (options_.tune) {
    // Members of one fold fit the same rows with different seeds; the choice depends on the rows
    // and the options alone, so the caller's cache (if any) runs the search once per row set.
    const auto search = [&] { return tune_xgboost(x, y_ms, options_); };
    const xgboost_tuned c = cache_ ? cache_->xgboost(detail::tuning_key(x, y_ms, search_inputs(options_)), search) : search();
    options_.max_depth = c.max_depth;
    options_.min_child_weight = c.min_child_weight;
    options_.eta = c.eta;
    options_.rounds = c.rounds;
    options_.early_stopping_rounds = 0;  // the tuned round count replaces it
  }
  const auto t = detail::to_target(y_ms, options_.log_target);
  const bool early_stopping = options_.early_stopping_rounds > 0;
  auto split = early_stopping ? detail::split_holdout(x.rows, options_.validation_fraction, detail::derive_seed(seed, 1))
                              : detail::holdout_split{detail::iota(x.rows), {}};
  const auto train_x = to_floats(x, split.train);
  const auto train_t = to_floats(t, split.train);
  const auto valid_x = to_floats(x, split.holdout);
  const auto valid_t = select(t, split.holdout);
  const train_params p{options_.max_depth, options_.eta, options_.min_child_weight, options_.rounds,
                       options_.early_stopping_rounds, detail::derive_seed(seed, 2)};
  auto b = boost(options_, p, train_x, train_t, x.cols, valid_x, valid_t);
  auto h = std::make_unique<handles>();
  h->booster = std::move(b.booster);
  booster_ = std::move(h);
  features_ = x.cols;
  rounds_kept_ = b.rounds;
}

void xgboost_regressor::predict_into(matrix_view x, std::span<double> out_ms) const {
  check_prediction_args("xgboost", fitted(), features_, x, out_ms);
  if (x.rows == 0) return;
  std::vector<float> values(x.data, x.data + x.rows * x.cols);
  // __array_interface__ of the float buffer, read in place by XGBoost.
  const std::string array = R"({"data": [)" + std::to_string(reinterpret_cast<std::uintptr_t>(values.data())) +
                            R"(, true], "shape": [)" + std::to_string(x.rows) + ", " + std::to_string(x.cols) +
                            R"(], "typestr": "<f4", "version": 3})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* pred = nullptr;
  ESM_XGB(XGBoosterPredictFromDense(booster_->booster.get(), array.c_str(), predict_config, nullptr, &shape, &dim,
                                    &pred));
  for (std::size_t i = 0; i < x.rows; ++i) {
    const double t = pred[i];
    out_ms[i] = options_.log_target ? std::exp(t) : t;
  }
}

model_state xgboost_regressor::save() const {
  if (!fitted()) throw error("xgboost save: the model is not fitted");
  bst_ulong size = 0;
  const char* data = nullptr;
  ESM_XGB(XGBoosterSaveModelToBuffer(booster_->booster.get(), R"({"format": "ubj"})", &size, &data));
  model_state s;
  detail::write_header(s, kind(), state_version);
  s.set_bytes("booster_ubj", std::vector<std::uint8_t>(data, data + size));
  s.set_scalar("features", static_cast<double>(features_));
  s.set_scalar("rounds_kept", static_cast<double>(rounds_kept_));
  detail::write_options<xgboost_options>(s, options_, option_fields);
  return s;
}

void xgboost_regressor::load(const model_state& state) {
  const std::uint64_t version = state.contains("version") ? state.count("version") : state_version;
  detail::check_header(state, kind(), version >= 1 && version < state_version ? version : state_version);
  xgboost_options o;
  const std::span<const detail::option_field<xgboost_options>> fields(option_fields);
  if (version == 1) o.max_bin = version1_max_bin;
  // Older versions lack the newest fields (option_fields lists them in the order they came).
  const std::size_t missing = version < state_version ? state_version - version : 0;
  detail::read_options<xgboost_options>(state, o, fields.first(fields.size() - missing));
  o.validate();
  const auto& model = state.bytes("booster_ubj");
  auto h = std::make_unique<handles>();
  h->booster = xgb::make_booster({});
  ESM_XGB(XGBoosterLoadModelFromBuffer(h->booster.get(), model.data(), model.size()));
  set_runtime_params(h->booster);
  bst_ulong features = 0;
  ESM_XGB(XGBoosterGetNumFeature(h->booster.get(), &features));
  if (features != state.count("features"))
    throw error("model state: xgboost booster has " + std::to_string(features) + " features, 'features' says " +
                std::to_string(state.count("features")));
  options_ = std::move(o);
  booster_ = std::move(h);
  features_ = static_cast<std::size_t>(features);
  rounds_kept_ = state.count("rounds_kept");
}

std::unique_ptr<regressor> xgboost_regressor::clone_unfitted() const {
  return std::make_unique<xgboost_regressor>(options_, cache_);
}

}  // namespace esm::surrogate
