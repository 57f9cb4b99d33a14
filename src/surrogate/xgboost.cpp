// Gradient-boosted trees through the XGBoost C API.
#include "esm/surrogate/xgboost.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "esm/common/error.hpp"
#include "support.hpp"
#include "xgboost_api.hpp"

namespace esm::surrogate {

namespace {

constexpr std::uint64_t state_version = 1;

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
};

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

}  // namespace

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
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0)) fail("validation_fraction must be in [0, 1)");
  if (early_stopping_rounds > 0 && validation_fraction == 0.0)
    fail("early stopping needs validation_fraction > 0");
}

xgboost_regressor::xgboost_regressor(xgboost_options options) : options_(std::move(options)) { options_.validate(); }
xgboost_regressor::~xgboost_regressor() = default;
xgboost_regressor::xgboost_regressor(xgboost_regressor&&) noexcept = default;
xgboost_regressor& xgboost_regressor::operator=(xgboost_regressor&&) noexcept = default;

bool xgboost_regressor::fitted() const { return booster_ != nullptr; }

void xgboost_regressor::fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) {
  check_training_data("xgboost", x, y_ms);
  const auto t = detail::to_target(y_ms, options_.log_target);
  const bool early_stopping = options_.early_stopping_rounds > 0;
  auto split = early_stopping ? detail::split_holdout(x.rows, options_.validation_fraction, detail::derive_seed(seed, 1))
                              : detail::holdout_split{detail::iota(x.rows), {}};
  const bool validate = !split.holdout.empty();

  const auto train_x = to_floats(x, split.train);
  const auto train_t = to_floats(t, split.train);
  const auto train = xgb::make_dmatrix(train_x.data(), split.train.size(), x.cols, train_t.data());
  const auto valid_x = to_floats(x, split.holdout);
  const auto valid_t = select(t, split.holdout);
  xgb::dmatrix valid;
  if (validate) valid = xgb::make_dmatrix(valid_x.data(), split.holdout.size(), x.cols);

  auto h = std::make_unique<handles>();
  h->booster = validate ? xgb::make_booster({train.get(), valid.get()}) : xgb::make_booster({train.get()});
  const auto& b = h->booster;
  set_runtime_params(b);
  xgb::set_param(b, "validate_parameters", "1");
  xgb::set_param(b, "objective", "reg:squarederror");
  xgb::set_param(b, "tree_method", "hist");
  // XGBoost's seed is a signed 32-bit value in its random engine; keep it in range.
  xgb::set_param(b, "seed", std::to_string(detail::derive_seed(seed, 2) % 2147483647ULL));
  xgb::set_param(b, "max_depth", std::to_string(options_.max_depth));
  xgb::set_param(b, "eta", param_text(options_.eta));
  xgb::set_param(b, "subsample", param_text(options_.subsample));
  xgb::set_param(b, "colsample_bytree", param_text(options_.colsample_bytree));
  xgb::set_param(b, "min_child_weight", param_text(options_.min_child_weight));
  xgb::set_param(b, "lambda", param_text(options_.reg_lambda));
  // Starting from the mean target saves the first rounds' worth of trees on log-latencies far from 0.5.
  const double mean_t = std::accumulate(train_t.begin(), train_t.end(), 0.0) / static_cast<double>(train_t.size());
  xgb::set_param(b, "base_score", param_text(mean_t));

  std::size_t best_round = 0;
  double best_rmse = std::numeric_limits<double>::infinity();
  std::size_t rounds = 0;
  for (std::size_t round = 0; round < options_.rounds; ++round) {
    ESM_XGB(XGBoosterUpdateOneIter(b.get(), static_cast<int>(round), train.get()));
    rounds = round + 1;
    if (!validate) continue;
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* pred = nullptr;
    // The booster caches `valid`'s margins, so each round adds only its new tree.
    ESM_XGB(XGBoosterPredictFromDMatrix(b.get(), valid.get(), predict_config, &shape, &dim, &pred));
    double sse = 0;
    for (std::size_t i = 0; i < valid_t.size(); ++i) sse += (pred[i] - valid_t[i]) * (pred[i] - valid_t[i]);
    const double rmse = std::sqrt(sse / static_cast<double>(valid_t.size()));
    if (rmse < best_rmse) {
      best_rmse = rmse;
      best_round = round;
    } else if (round - best_round >= options_.early_stopping_rounds) {
      break;
    }
  }
  if (validate && best_round + 1 < rounds) {
    BoosterHandle sliced = nullptr;
    ESM_XGB(XGBoosterSlice(b.get(), 0, static_cast<int>(best_round + 1), 1, &sliced));
    h->booster = xgb::booster(sliced);
    set_runtime_params(h->booster);
    rounds = best_round + 1;
  }
  booster_ = std::move(h);
  features_ = x.cols;
  rounds_kept_ = rounds;
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
  detail::check_header(state, kind(), state_version);
  xgboost_options o;
  detail::read_options<xgboost_options>(state, o, option_fields);
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
  return std::make_unique<xgboost_regressor>(options_);
}

}  // namespace esm::surrogate
