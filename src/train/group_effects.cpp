// Measuring-group effects (esm/train/group_effects.hpp).
#include "esm/train/group_effects.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "esm/common/error.hpp"
#include "esm/surrogate/folds.hpp"
#include "esm/surrogate/regressor.hpp"
#include "esm/train/cross_validation.hpp"
#include "esm/train/training_data.hpp"

namespace esm::train {

std::vector<std::int64_t> measuring_groups(const dataset::contents& c, std::span<const std::size_t> dataset_rows) {
  std::map<measuring_group_key, std::vector<std::size_t>> members;  // key -> positions
  // A crossed dataset's labels already have each group's level solved out, and its reference_ms
  // is the mean of an arch's two groups' readings: rows sharing it are not a measuring group.
  const bool crossed = c.prov.measure_policy.find("mode=crossed") != std::string::npos;
  for (std::size_t k = 0; k < dataset_rows.size(); ++k) {
    if (dataset_rows[k] >= c.results.size()) throw error("measuring_groups: row " + std::to_string(dataset_rows[k]) + " out of range");
    if (crossed) continue;
    const auto& r = c.results[dataset_rows[k]];
    if (!std::isfinite(r.reference_ms) || r.reference_ms <= 0) continue;
    members[group_key(r)].push_back(k);
  }
  std::vector<std::int64_t> out(dataset_rows.size(), -1);
  std::int64_t next = 0;
  for (const auto& [key, positions] : members) {
    if (positions.size() < 2) continue;
    for (std::size_t k : positions) out[k] = next;
    ++next;
  }
  // One group holding every row has no between-group variance to estimate: no groups.
  if (next < 2) std::fill(out.begin(), out.end(), -1);
  return out;
}

bool has_groups(std::span<const std::int64_t> groups) {
  for (auto g : groups) {
    if (g >= 0) return true;
  }
  return false;
}

group_effect_estimate estimate_group_effects(std::span<const double> r, std::span<const std::int64_t> groups) {
  if (r.size() != groups.size()) throw error("estimate_group_effects: residuals and groups differ in length");
  group_effect_estimate e;
  e.log_effect.assign(r.size(), 0.0);
  e.shrinkage = std::numeric_limits<double>::infinity();
  struct sums {
    double sum = 0, sq = 0;
    std::size_t n = 0;
  };
  std::map<std::int64_t, sums> by_group;
  double centre = 0;
  std::size_t grouped = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (!std::isfinite(r[i])) throw error("estimate_group_effects: residual " + std::to_string(i) + " is not finite");
    if (groups[i] < 0) continue;
    centre += r[i];
    ++grouped;
  }
  if (grouped == 0) return e;
  centre /= static_cast<double>(grouped);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (groups[i] < 0) continue;
    auto& s = by_group[groups[i]];
    s.sum += r[i] - centre;
    s.sq += (r[i] - centre) * (r[i] - centre);
    ++s.n;
  }
  // Pooled within-group variance, and the variance of the group means of groups of >= 2 rows.
  double within = 0, mean_of_means = 0, inv_n = 0;
  std::size_t dof = 0;
  for (const auto& [g, s] : by_group) {
    if (s.n < 2) continue;
    within += s.sq - s.sum * s.sum / static_cast<double>(s.n);
    dof += s.n - 1;
    mean_of_means += s.sum / static_cast<double>(s.n);
    inv_n += 1.0 / static_cast<double>(s.n);
    ++e.groups;
  }
  if (e.groups < 2 || dof == 0) return e;
  within /= static_cast<double>(dof);
  mean_of_means /= static_cast<double>(e.groups);
  double between = 0;
  for (const auto& [g, s] : by_group) {
    if (s.n < 2) continue;
    const double m = s.sum / static_cast<double>(s.n) - mean_of_means;
    between += m * m;
  }
  between /= static_cast<double>(e.groups - 1);
  const double shared = between - within * inv_n / static_cast<double>(e.groups);
  e.within_sd = std::sqrt(within);
  if (!(shared > 0)) return e;
  e.shared_sd = std::sqrt(shared);
  e.shrinkage = within / shared;
  std::map<std::int64_t, double> effect;
  for (const auto& [g, s] : by_group) effect[g] = s.n < 2 ? 0.0 : s.sum / (static_cast<double>(s.n) + e.shrinkage);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (groups[i] >= 0) e.log_effect[i] = effect[groups[i]];
  }
  return e;
}

std::vector<std::vector<double>> group_corrected_labels(const cluster::communicator& comm, surrogate::matrix_view x,
                                                        std::span<const double> y, std::span<const std::int64_t> groups,
                                                        const std::vector<std::vector<std::size_t>>& train_sets,
                                                        std::uint64_t seed, std::size_t inner_folds,
                                                        std::vector<group_effect_estimate>* estimates) {
  if (y.size() != x.rows || groups.size() != x.rows) throw error("group_corrected_labels: x, y and groups differ in rows");
  if (inner_folds < 2) throw error("group_corrected_labels: needs at least 2 inner folds");
  // Out-of-fold base predictions of every set, concatenated: offset[s] is where set s starts.
  std::vector<std::size_t> offset(train_sets.size() + 1, 0);
  std::vector<std::vector<std::size_t>> fold_of(train_sets.size());
  for (std::size_t s = 0; s < train_sets.size(); ++s) {
    if (train_sets[s].size() < inner_folds) throw usage_error("group effects: a training set has fewer rows than inner folds");
    offset[s + 1] = offset[s] + train_sets[s].size();
    fold_of[s] = surrogate::kfold(train_sets[s].size(), inner_folds, task_seed(seed, 2, s));
  }
  std::vector<double> oof(offset.back(), 0.0);
  const std::size_t tasks = train_sets.size() * inner_folds;
  for (std::size_t t = static_cast<std::size_t>(comm.rank()); t < tasks; t += static_cast<std::size_t>(comm.size())) {
    const std::size_t s = t / inner_folds, f = t % inner_folds;
    const auto split = surrogate::split_fold(fold_of[s], f);
    std::vector<std::size_t> train_rows, test_rows;
    for (std::size_t k : split.train) train_rows.push_back(train_sets[s][k]);
    for (std::size_t k : split.test) test_rows.push_back(train_sets[s][k]);
    auto base = surrogate::make_regressor("hybrid");
    base->fit(surrogate::select_rows(x, train_rows), surrogate::select(y, train_rows), task_seed(seed, 3, t));
    const auto p = base->predict(surrogate::select_rows(x, test_rows));
    for (std::size_t i = 0; i < split.test.size(); ++i) oof[offset[s] + split.test[i]] = p[i];
  }
  if (comm.size() > 1) {
    // Every element is written by exactly one rank: the sum is the table.
    ESM_MPI(MPI_Allreduce(MPI_IN_PLACE, oof.data(), static_cast<int>(oof.size()), MPI_DOUBLE, MPI_SUM, comm.get()));
  }
  std::vector<std::vector<double>> out(train_sets.size());
  if (estimates) estimates->clear();
  for (std::size_t s = 0; s < train_sets.size(); ++s) {
    const auto& rows = train_sets[s];
    std::vector<double> residual(rows.size());
    std::vector<std::int64_t> g(rows.size());
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const double p = oof[offset[s] + k];
      if (!(p > 0) || !std::isfinite(p)) throw error("group effects: the base model predicted a non-positive latency");
      residual[k] = std::log(y[rows[k]] / p);
      g[k] = groups[rows[k]];
    }
    auto e = estimate_group_effects(residual, g);
    out[s].resize(rows.size());
    for (std::size_t k = 0; k < rows.size(); ++k) out[s][k] = y[rows[k]] * std::exp(-e.log_effect[k]);
    if (estimates) estimates->push_back(std::move(e));
  }
  return out;
}

}  // namespace esm::train
