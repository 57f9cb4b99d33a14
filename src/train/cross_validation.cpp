// Distributed k-fold cross-validation and final fit.
#include "esm/train/cross_validation.hpp"

#include <chrono>
#include <cmath>
#include <cstring>
#include <set>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/surrogate/folds.hpp"
#include "esm/surrogate/tuning_cache.hpp"
#include "esm/train/folds.hpp"
#include "esm/train/intervals.hpp"

namespace esm::train {

void cv_options::validate() const {
  if (kinds.empty()) throw usage_error("--kinds must name at least one model kind");
  for (const auto& k : kinds) (void)surrogate::make_regressor(k);  // throws usage_error naming it
  if (folds < 2) throw usage_error("--folds must be at least 2, got " + std::to_string(folds));
  if (members < 1) throw usage_error("--members must be at least 1");
}

namespace {

/// Labels each fit trains on, per training set: corrected for group effects, or as measured.
std::vector<std::vector<double>> fit_labels(const cluster::communicator& comm, surrogate::matrix_view x,
                                            const std::vector<double>& y, const cv_options& o,
                                            const std::vector<std::vector<std::size_t>>& sets,
                                            std::vector<group_effect_estimate>* estimates) {
  if (!o.label_groups.empty() && o.label_groups.size() != y.size()) {
    throw error("cross-validation: " + std::to_string(o.label_groups.size()) + " label groups for " +
                std::to_string(y.size()) + " rows");
  }
  if (has_groups(o.label_groups)) return group_corrected_labels(comm, x, y, o.label_groups, sets, o.seed, 5, estimates);
  std::vector<std::vector<double>> out;
  for (const auto& s : sets) out.push_back(surrogate::select(y, s));
  return out;
}

}  // namespace

std::uint64_t task_seed(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  rng r(seed ^ (0x9e3779b97f4a7c15ULL * (stream + 1)) ^ (index * 0xbf58476d1ce4e5b9ULL));
  return r.next();
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Element-wise sum onto rank 0 (every element is written by exactly one rank, zeros elsewhere).
void reduce_to_root(const cluster::communicator& comm, std::vector<double>& v) {
  if (comm.size() == 1) return;
  std::vector<double> out(comm.rank() == 0 ? v.size() : 0);
  ESM_MPI(MPI_Reduce(v.data(), comm.rank() == 0 ? out.data() : nullptr, static_cast<int>(v.size()), MPI_DOUBLE,
                     MPI_SUM, 0, comm.get()));
  if (comm.rank() == 0) v = std::move(out);
}

cv_model_result summarise(std::string name, std::vector<double> member_mean, std::vector<double> spread,
                          const std::vector<double>& y, const std::vector<int>& bins,
                          const std::vector<std::size_t>& fold_of_row, double seconds) {
  cv_model_result r;
  r.model = std::move(name);
  r.overall = surrogate::evaluate(member_mean, y);
  r.per_bin = surrogate::evaluate_by_group(member_mean, y, bins);
  r.interval_hits = cross_conformal_hits(member_mean, y, bins, fold_of_row, interval_level);
  r.train_seconds = seconds;
  r.predictions = std::move(member_mean);
  r.spread = std::move(spread);
  return r;
}

}  // namespace

cv_report cross_validate(const cluster::communicator& comm, surrogate::matrix_view x, const std::vector<double>& y,
                         const std::vector<int>& bins, const cv_options& o) {
  o.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n = y.size(), kinds = o.kinds.size(), folds = o.folds, members = o.members;
  cv_report report;
  if (!o.fold_groups.empty() && o.fold_groups.size() != n) {
    throw error("cross-validation: " + std::to_string(o.fold_groups.size()) + " fold groups for " + std::to_string(n) + " rows");
  }
  report.fold_of_row = assign_folds(bins, o.fold_groups, folds, o.seed);
  report.folds_by = folds_by(o.fold_groups);
  std::set<std::int64_t> kept_whole;
  for (auto g : o.fold_groups) {
    if (g >= 0) kept_whole.insert(g);
  }
  report.fold_group_count = kept_whole.size();

  // oof[(k * members + m) * n + row]: member m of kind k predicting `row` from the fold holding it.
  std::vector<double> oof(kinds * members * n, 0.0), seconds(kinds * folds * members, 0.0);
  const std::size_t tasks = kinds * folds * members;
  std::vector<surrogate::fold_split> splits;
  for (std::size_t f = 0; f < folds; ++f) splits.push_back(surrogate::split_fold(report.fold_of_row, f));
  std::vector<std::vector<std::size_t>> train_sets;
  for (const auto& s : splits) train_sets.push_back(s.train);
  const auto labels = fit_labels(comm, x, y, o, train_sets, &report.group_effects);
  surrogate::tuning_cache tuning;  // this rank's members of one fold and kind search once
  for (std::size_t t = static_cast<std::size_t>(comm.rank()); t < tasks; t += static_cast<std::size_t>(comm.size())) {
    const std::size_t k = t / (folds * members), f = (t / members) % folds, m = t % members;
    const auto& split = splits[f];
    const auto task_start = std::chrono::steady_clock::now();
    auto model = surrogate::make_regressor(o.kinds[k], &tuning);
    model->fit(surrogate::select_rows(x, split.train), labels[f], task_seed(o.seed, 0, t));
    const auto p = model->predict(surrogate::select_rows(x, split.test));
    for (std::size_t i = 0; i < split.test.size(); ++i) oof[(k * members + m) * n + split.test[i]] = p[i];
    seconds[t] = seconds_since(task_start);
  }
  reduce_to_root(comm, oof);
  reduce_to_root(comm, seconds);
  if (comm.rank() != 0) return {};

  std::vector<double> all_mean(n, 0.0), all_sq(n, 0.0);
  double all_seconds = 0;
  for (std::size_t k = 0; k < kinds; ++k) {
    std::vector<double> mean(n, 0.0), sq(n, 0.0);
    for (std::size_t m = 0; m < members; ++m) {
      for (std::size_t i = 0; i < n; ++i) {
        const double p = oof[(k * members + m) * n + i];
        mean[i] += p / static_cast<double>(members);
        sq[i] += p * p / static_cast<double>(members);
        // The all-kinds ensemble weighs kinds equally and members within a kind equally.
        all_mean[i] += p / static_cast<double>(members * kinds);
        all_sq[i] += p * p / static_cast<double>(members * kinds);
      }
    }
    std::vector<double> spread(n);
    for (std::size_t i = 0; i < n; ++i) spread[i] = std::sqrt(std::max(0.0, sq[i] - mean[i] * mean[i])) / mean[i];
    double s = 0;
    for (std::size_t t = k * folds * members; t < (k + 1) * folds * members; ++t) s += seconds[t];
    all_seconds += s;
    report.models.push_back(summarise(o.kinds[k], std::move(mean), std::move(spread), y, bins, report.fold_of_row, s));
  }
  if (kinds > 1) {
    std::vector<double> spread(n);
    for (std::size_t i = 0; i < n; ++i) spread[i] = std::sqrt(std::max(0.0, all_sq[i] - all_mean[i] * all_mean[i])) / all_mean[i];
    report.models.push_back(summarise("ensemble", std::move(all_mean), std::move(spread), y, bins, report.fold_of_row, all_seconds));
    surrogate::matrix per_kind(n, kinds);
    for (std::size_t k = 0; k < kinds; ++k) {
      for (std::size_t i = 0; i < n; ++i) per_kind(i, k) = report.models[k].predictions[i];
    }
    // Cross-fitted: fold f's rows are blended with weights fitted on the other folds' rows only.
    report.stack_weights = surrogate::stacking_weights(per_kind, y);
    for (const auto& split : splits) {
      report.fold_stack_weights.push_back(
          surrogate::stacking_weights(surrogate::select_rows(per_kind, split.train), surrogate::select(y, split.train)));
    }
    std::vector<double> stacked(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& w = report.fold_stack_weights[report.fold_of_row[i]];
      for (std::size_t k = 0; k < kinds; ++k) stacked[i] += w[k] * per_kind(i, k);
    }
    report.models.push_back(summarise("stacked", std::move(stacked), report.models[kinds].spread, y, bins, report.fold_of_row, all_seconds));
  }
  report.wall_seconds = seconds_since(t0);
  return report;
}

surrogate::ensemble_regressor fit_final(const cluster::communicator& comm, surrogate::matrix_view x,
                                        const std::vector<double>& y, const cv_options& o,
                                        std::vector<double> kind_weights, group_effect_estimate* group_effects) {
  o.validate();
  std::vector<std::size_t> all_rows(y.size());
  for (std::size_t i = 0; i < all_rows.size(); ++i) all_rows[i] = i;
  std::vector<group_effect_estimate> estimates;
  const auto labels = std::move(fit_labels(comm, x, y, o, {all_rows}, &estimates).front());
  if (group_effects && !estimates.empty()) *group_effects = std::move(estimates.front());
  if (comm.size() > 1) {
    std::uint64_t count = kind_weights.size();
    ESM_MPI(MPI_Bcast(&count, 1, MPI_UINT64_T, 0, comm.get()));
    kind_weights.resize(count);
    ESM_MPI(MPI_Bcast(kind_weights.data(), static_cast<int>(count), MPI_DOUBLE, 0, comm.get()));
  }
  const std::size_t tasks = o.kinds.size() * o.members;
  std::string mine;  // this rank's fitted members: (task index, serialized state) pairs
  surrogate::tuning_cache tuning;  // this rank's members of one kind search once
  for (std::size_t t = static_cast<std::size_t>(comm.rank()); t < tasks; t += static_cast<std::size_t>(comm.size())) {
    auto model = surrogate::make_regressor(o.kinds[t / o.members], &tuning);
    model->fit(x, labels, task_seed(o.seed, 1, t));
    const std::string bytes = model->save().serialize();
    const std::uint64_t header[2] = {t, bytes.size()};
    mine.append(reinterpret_cast<const char*>(header), sizeof header);
    mine += bytes;
  }
  const auto gathered = comm.size() == 1 ? std::vector<std::string>{mine} : cluster::all_gather(comm, mine);
  std::vector<std::unique_ptr<surrogate::regressor>> members(tasks);
  for (const auto& part : gathered) {
    std::string_view in(part);
    while (!in.empty()) {
      std::uint64_t header[2];
      if (in.size() < sizeof header) throw error("fit_final: truncated member message");
      std::memcpy(header, in.data(), sizeof header);
      in.remove_prefix(sizeof header);
      if (header[0] >= tasks || in.size() < header[1]) throw error("fit_final: malformed member message");
      members[header[0]] = surrogate::load_regressor(surrogate::model_state::deserialize(in.substr(0, header[1])));
      in.remove_prefix(header[1]);
    }
  }
  std::vector<std::size_t> group(tasks);
  for (std::size_t t = 0; t < tasks; ++t) group[t] = t / o.members;
  surrogate::ensemble_options eo;
  eo.members_per_kind = o.members;
  return surrogate::ensemble_regressor::from_members(std::move(members), std::move(group), eo, std::move(kind_weights));
}

}  // namespace esm::train
