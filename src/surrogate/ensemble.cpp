// Ensembles of surrogates: member seeds, bootstrap, stacking weights and the mean/spread arithmetic.
#include "esm/surrogate/ensemble.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/surrogate/folds.hpp"
#include "esm/surrogate/mlp.hpp"
#include "esm/surrogate/nnls.hpp"
#include "support.hpp"

namespace esm::surrogate {

namespace {

constexpr std::uint64_t state_version = 1;

const detail::option_field<ensemble_options> option_fields[] = {
    {"members_per_kind", &ensemble_options::members_per_kind},
    {"bootstrap", &ensemble_options::bootstrap},
    {"stacked", &ensemble_options::stacked},
    {"stacking_folds", &ensemble_options::stacking_folds},
};

// Members predict a block of rows in turn while it is still in cache (a large candidate batch
// would otherwise stream from memory once per member): 256 rows x 100 features = 200 KiB.
constexpr std::size_t block_rows = 256;

/// Sub-streams of the ensemble's seed; member m's seed is derive_seed(seed, member_streams + m).
enum seed_stream : std::uint64_t { stacking_fold_stream = 1, stacking_fit_stream = 2, member_streams = 1000 };

std::string member_prefix(std::size_t m) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "member/%03zu/", m);
  return buf;
}

}  // namespace

void ensemble_options::validate() const {
  if (members_per_kind == 0) throw usage_error("ensemble options: members_per_kind must be >= 1");
  if (stacking_folds < 2) throw usage_error("ensemble options: stacking_folds must be >= 2");
}

ensemble_prediction combine_members(matrix_view member_predictions_ms, std::span<const double> member_weights) {
  if (member_weights.size() != member_predictions_ms.rows || member_weights.empty())
    throw error("ensemble: " + std::to_string(member_weights.size()) + " weights for " +
                std::to_string(member_predictions_ms.rows) + " members");
  const std::size_t rows = member_predictions_ms.cols;
  ensemble_prediction out{std::vector<double>(rows, 0.0), std::vector<double>(rows, 0.0), std::vector<double>(rows)};
  for (std::size_t m = 0; m < member_weights.size(); ++m) {
    const auto p = member_predictions_ms.row(m);
    for (std::size_t i = 0; i < rows; ++i) out.mean_ms[i] += member_weights[m] * p[i];
  }
  for (std::size_t m = 0; m < member_weights.size(); ++m) {
    const auto p = member_predictions_ms.row(m);
    for (std::size_t i = 0; i < rows; ++i) {
      const double d = p[i] - out.mean_ms[i];
      out.std_ms[i] += member_weights[m] * d * d;
    }
  }
  for (std::size_t i = 0; i < rows; ++i) {
    out.std_ms[i] = std::sqrt(out.std_ms[i]);
    out.relative_spread[i] = out.std_ms[i] / out.mean_ms[i];
  }
  return out;
}

std::vector<double> stacking_weights(matrix_view oof_ms, std::span<const double> y_ms) {
  if (oof_ms.rows != y_ms.size() || oof_ms.rows == 0 || oof_ms.cols == 0)
    throw error("stacking: out-of-fold predictions do not match the targets");
  const std::size_t k = oof_ms.cols;
  // Relative error: divide every row by its target, so minimise |A w - 1|^2 with A_ik = p_ik / y_i.
  matrix a(oof_ms.rows, k);
  for (std::size_t i = 0; i < oof_ms.rows; ++i) {
    for (std::size_t c = 0; c < k; ++c) a(i, c) = oof_ms.row(i)[c] / y_ms[i];
  }
  const auto w = nnls(a, std::vector<double>(oof_ms.rows, 1.0)).x;
  double sum = 0;
  for (double v : w) sum += v;
  std::vector<double> out(k, 1.0 / static_cast<double>(k));
  if (sum > 0.0 && std::isfinite(sum))
    for (std::size_t c = 0; c < k; ++c) out[c] = w[c] / sum;
  return out;
}

ensemble_regressor::ensemble_regressor() = default;
ensemble_regressor::~ensemble_regressor() = default;
ensemble_regressor::ensemble_regressor(ensemble_regressor&&) noexcept = default;
ensemble_regressor& ensemble_regressor::operator=(ensemble_regressor&&) noexcept = default;

ensemble_regressor::ensemble_regressor(std::vector<std::unique_ptr<regressor>> prototypes, ensemble_options options)
    : options_(options), prototypes_(std::move(prototypes)) {
  options_.validate();
  if (prototypes_.empty()) throw usage_error("ensemble: needs at least one member kind");
  for (const auto& p : prototypes_)
    if (!p) throw usage_error("ensemble: null member prototype");
}

ensemble_regressor ensemble_regressor::from_members(std::vector<std::unique_ptr<regressor>> members,
                                                    std::vector<std::size_t> group_of_member, ensemble_options options,
                                                    std::vector<double> group_weights) {
  if (members.empty() || members.size() != group_of_member.size()) {
    throw error("ensemble from_members: one group index per member, at least one member");
  }
  const std::size_t groups = *std::max_element(group_of_member.begin(), group_of_member.end()) + 1;
  std::vector<std::unique_ptr<regressor>> prototypes(groups);
  for (std::size_t m = 0; m < members.size(); ++m) {
    if (!members[m] || !members[m]->fitted()) throw error("ensemble from_members: member " + std::to_string(m) + " is not fitted");
    if (members[m]->feature_count() != members[0]->feature_count()) throw error("ensemble from_members: feature counts differ");
    if (!prototypes[group_of_member[m]]) prototypes[group_of_member[m]] = members[m]->clone_unfitted();
  }
  for (const auto& p : prototypes)
    if (!p) throw error("ensemble from_members: a group has no members");
  ensemble_regressor e(std::move(prototypes), options);
  e.members_ = std::move(members);
  e.member_group_ = std::move(group_of_member);
  if (group_weights.empty()) group_weights.assign(groups, 1.0 / static_cast<double>(groups));
  double sum = 0;
  for (double w : group_weights) {
    if (!(w >= 0)) throw error("ensemble from_members: negative or NaN group weight");
    sum += w;
  }
  if (group_weights.size() != groups || std::abs(sum - 1.0) > 1e-9) {
    throw error("ensemble from_members: need one weight per group, summing to 1");
  }
  e.group_weights_ = std::move(group_weights);
  return e;
}

bool ensemble_regressor::fitted() const { return !members_.empty(); }

std::size_t ensemble_regressor::feature_count() const { return fitted() ? members_.front()->feature_count() : 0; }

std::vector<double> ensemble_regressor::member_weights() const {
  std::vector<std::size_t> group_size(group_weights_.size(), 0);
  for (std::size_t g : member_group_) ++group_size[g];
  std::vector<double> w;
  w.reserve(members_.size());
  for (std::size_t g : member_group_) w.push_back(group_weights_[g] / static_cast<double>(group_size[g]));
  return w;
}

void ensemble_regressor::fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) {
  check_training_data("ensemble", x, y_ms);
  if (prototypes_.empty()) throw error("ensemble fit: no member kinds (a loaded ensemble keeps its own)");
  const std::size_t groups = prototypes_.size();

  std::vector<double> weights(groups, 1.0 / static_cast<double>(groups));
  if (options_.stacked && groups > 1) {
    const std::size_t k = std::min(options_.stacking_folds, x.rows);
    if (k < 2) throw error("ensemble fit: stacking needs at least two rows");
    const auto fold_of_row = kfold(x.rows, k, detail::derive_seed(seed, stacking_fold_stream));
    matrix oof(x.rows, groups);
    for (std::size_t f = 0; f < k; ++f) {
      const auto split = split_fold(fold_of_row, f);
      const matrix x_train = select_rows(x, split.train);
      const matrix x_test = select_rows(x, split.test);
      const auto y_train = select(y_ms, split.train);
      for (std::size_t g = 0; g < groups; ++g) {
        auto model = prototypes_[g]->clone_unfitted();
        model->fit(x_train, y_train, detail::derive_seed(detail::derive_seed(seed, stacking_fit_stream), f * groups + g));
        const auto p = model->predict(x_test);
        for (std::size_t i = 0; i < split.test.size(); ++i) oof(split.test[i], g) = p[i];
      }
    }
    weights = stacking_weights(oof, y_ms);
  }

  std::vector<std::unique_ptr<regressor>> members;
  std::vector<std::size_t> member_group;
  for (std::size_t g = 0; g < groups; ++g) {
    for (std::size_t m = 0; m < options_.members_per_kind; ++m) {
      const std::uint64_t member_seed = detail::derive_seed(seed, member_streams + members.size());
      auto model = prototypes_[g]->clone_unfitted();
      if (options_.bootstrap) {
        rng r(detail::derive_seed(member_seed, 1));
        std::vector<std::size_t> rows(x.rows);
        for (auto& row : rows) row = r.uniform_index(x.rows);
        const matrix xb = select_rows(x, rows);
        model->fit(xb, select(y_ms, rows), member_seed);
      } else {
        model->fit(x, y_ms, member_seed);
      }
      members.push_back(std::move(model));
      member_group.push_back(g);
    }
  }
  members_ = std::move(members);
  member_group_ = std::move(member_group);
  group_weights_ = std::move(weights);
}

void ensemble_regressor::predict_members(matrix_view x, std::vector<double>& member_predictions) const {
  if (!fitted()) throw error("ensemble predict: the model is not fitted");
  member_predictions.assign(members_.size() * x.rows, 0.0);
  check_prediction_args("ensemble", true, feature_count(), x, std::span<const double>(member_predictions.data(), x.rows));
  for (std::size_t first = 0; first < x.rows; first += block_rows) {
    const std::size_t n = std::min(block_rows, x.rows - first);
    for (std::size_t m = 0; m < members_.size(); ++m)
      members_[m]->predict_into(x.row_block(first, n),
                                std::span<double>(member_predictions.data() + m * x.rows + first, n));
  }
}

void ensemble_regressor::predict_into(matrix_view x, std::span<double> out_ms) const {
  check_prediction_args("ensemble", fitted(), feature_count(), x, out_ms);
  const auto w = member_weights();
  std::vector<double> p(std::min(block_rows, x.rows));
  for (std::size_t first = 0; first < x.rows; first += block_rows) {
    const std::size_t n = std::min(block_rows, x.rows - first);
    const auto out = out_ms.subspan(first, n);
    std::fill(out.begin(), out.end(), 0.0);
    for (std::size_t m = 0; m < members_.size(); ++m) {
      members_[m]->predict_into(x.row_block(first, n), std::span<double>(p.data(), n));
      // Same order of operations as combine_members(), so both means agree bit for bit.
      for (std::size_t i = 0; i < n; ++i) out[i] += w[m] * p[i];
    }
  }
}

ensemble_prediction ensemble_regressor::predict_with_uncertainty(matrix_view x) const {
  std::vector<double> p;
  predict_members(x, p);
  return combine_members(matrix_view(members_.size(), x.rows, p), member_weights());
}

model_state ensemble_regressor::save() const {
  if (!fitted()) throw error("ensemble save: the model is not fitted");
  model_state s;
  detail::write_header(s, kind(), state_version);
  detail::write_options<ensemble_options>(s, options_, option_fields);
  s.set_vector("group_weights", group_weights_);
  s.set_vector("member_group", detail::to_doubles(member_group_));
  s.set_scalar("members", static_cast<double>(members_.size()));
  for (std::size_t m = 0; m < members_.size(); ++m) s.insert_prefixed(member_prefix(m), members_[m]->save());
  return s;
}

void ensemble_regressor::load(const model_state& state) {
  detail::check_header(state, kind(), state_version);
  ensemble_options o;
  detail::read_options<ensemble_options>(state, o, option_fields);
  o.validate();
  auto weights = state.numbers("group_weights");
  const std::size_t count = state.count("members");
  auto group = detail::to_counts("member_group", state.numbers("member_group", std::vector<std::uint64_t>{count}));
  if (count == 0) throw error("model state: ensemble has no members");
  std::vector<std::unique_ptr<regressor>> members;
  std::vector<std::unique_ptr<regressor>> prototypes(weights.size());
  for (std::size_t m = 0; m < count; ++m) {
    if (group[m] >= weights.size()) throw error("model state: ensemble 'member_group' names a missing group");
    members.push_back(load_regressor(state.extract_prefixed(member_prefix(m))));
    if (m > 0 && members[m]->feature_count() != members[0]->feature_count())
      throw error("model state: ensemble members disagree on the feature count");
    if (!prototypes[group[m]]) prototypes[group[m]] = members[m]->clone_unfitted();
  }
  for (const auto& p : prototypes)
    if (!p) throw error("model state: ensemble group without members");
  options_ = o;
  prototypes_ = std::move(prototypes);
  members_ = std::move(members);
  member_group_ = std::move(group);
  group_weights_ = std::move(weights);
}

std::unique_ptr<regressor> ensemble_regressor::clone_unfitted() const {
  std::vector<std::unique_ptr<regressor>> prototypes;
  for (const auto& p : prototypes_) prototypes.push_back(p->clone_unfitted());
  return std::make_unique<ensemble_regressor>(std::move(prototypes), options_);
}

std::unique_ptr<ensemble_regressor> make_default_ensemble(ensemble_options options) {
  std::vector<std::unique_ptr<regressor>> prototypes;
  prototypes.push_back(std::make_unique<mlp_regressor>());
  return std::make_unique<ensemble_regressor>(std::move(prototypes), options);
}

}  // namespace esm::surrogate
