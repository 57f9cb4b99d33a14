// Accuracy metrics; the definitions are documented in esm/surrogate/metrics.hpp.
#include "esm/surrogate/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <string>

#include "esm/common/error.hpp"

namespace esm::surrogate {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

void require_pairs(std::span<const double> a, std::span<const double> b, const char* what) {
  if (a.empty() || a.size() != b.size())
    throw error(std::string(what) + ": need equally many predictions and truths (at least one), got " +
                std::to_string(a.size()) + " and " + std::to_string(b.size()));
}

double relative_error(double predicted, double truth) { return std::abs(predicted / truth - 1.0); }

/// Pairs within groups of equal values: sum over groups of size g of g(g-1)/2. `sorted` must be
/// ordered so that equal elements are adjacent under `equal`.
template <class Equal>
std::uint64_t tied_pairs(std::span<const std::size_t> sorted, Equal equal) {
  std::uint64_t pairs = 0;
  std::uint64_t run = 1;
  for (std::size_t i = 1; i <= sorted.size(); ++i) {
    if (i < sorted.size() && equal(sorted[i - 1], sorted[i])) {
      ++run;
    } else {
      pairs += run * (run - 1) / 2;
      run = 1;
    }
  }
  return pairs;
}

/// Sorts idx[lo, hi) by key ascending (stable) and returns the pairs i < j with key[i] > key[j].
std::uint64_t sort_counting_inversions(std::vector<std::size_t>& idx, std::vector<std::size_t>& tmp,
                                       std::span<const double> key, std::size_t lo, std::size_t hi) {
  if (hi - lo < 2) return 0;
  const std::size_t mid = lo + (hi - lo) / 2;
  std::uint64_t inversions = sort_counting_inversions(idx, tmp, key, lo, mid) +
                             sort_counting_inversions(idx, tmp, key, mid, hi);
  std::size_t i = lo, j = mid, o = lo;
  while (i < mid && j < hi) {
    if (key[idx[j]] < key[idx[i]]) {
      inversions += mid - i;  // idx[j] jumps every element left in the left half
      tmp[o++] = idx[j++];
    } else {
      tmp[o++] = idx[i++];
    }
  }
  while (i < mid) tmp[o++] = idx[i++];
  while (j < hi) tmp[o++] = idx[j++];
  std::copy(tmp.begin() + static_cast<std::ptrdiff_t>(lo), tmp.begin() + static_cast<std::ptrdiff_t>(hi),
            idx.begin() + static_cast<std::ptrdiff_t>(lo));
  return inversions;
}

double pearson(std::span<const double> a, std::span<const double> b) {
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  if (saa == 0.0 || sbb == 0.0) return nan;
  return sab / std::sqrt(saa * sbb);
}

}  // namespace

double within_share(std::span<const double> predicted, std::span<const double> truth, double bound) {
  require_pairs(predicted, truth, "within_share");
  // The slack lets ratios that sit on the bound on paper (1.05 / 1.0 - 1 = 0.0500000000000000444)
  // count as inside.
  const double limit = bound + 1e-12;
  std::size_t inside = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) inside += relative_error(predicted[i], truth[i]) <= limit ? 1 : 0;
  return static_cast<double>(inside) / static_cast<double>(truth.size());
}

double mape_percent(std::span<const double> predicted, std::span<const double> truth) {
  require_pairs(predicted, truth, "mape_percent");
  double sum = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) sum += relative_error(predicted[i], truth[i]);
  return 100.0 * sum / static_cast<double>(truth.size());
}

double rmse(std::span<const double> predicted, std::span<const double> truth) {
  require_pairs(predicted, truth, "rmse");
  double sum = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) sum += (predicted[i] - truth[i]) * (predicted[i] - truth[i]);
  return std::sqrt(sum / static_cast<double>(truth.size()));
}

double r_squared(std::span<const double> predicted, std::span<const double> truth) {
  require_pairs(predicted, truth, "r_squared");
  const double mean = std::accumulate(truth.begin(), truth.end(), 0.0) / static_cast<double>(truth.size());
  double ss_res = 0, ss_tot = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    ss_res += (truth[i] - predicted[i]) * (truth[i] - predicted[i]);
    ss_tot += (truth[i] - mean) * (truth[i] - mean);
  }
  return ss_tot == 0.0 ? nan : 1.0 - ss_res / ss_tot;
}

double kendall_tau_b(std::span<const double> a, std::span<const double> b) {
  require_pairs(a, b, "kendall_tau_b");
  const std::uint64_t n = a.size();
  std::vector<std::size_t> idx(a.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  // Knight (1966): order by (a, b); pairs tied in a are then never inverted in b, so the
  // inversions of b in this order are exactly the discordant pairs.
  std::sort(idx.begin(), idx.end(), [&](std::size_t i, std::size_t j) {
    return a[i] < a[j] || (a[i] == a[j] && b[i] < b[j]);
  });
  const std::uint64_t tied_a = tied_pairs(idx, [&](std::size_t i, std::size_t j) { return a[i] == a[j]; });
  const std::uint64_t tied_ab =
      tied_pairs(idx, [&](std::size_t i, std::size_t j) { return a[i] == a[j] && b[i] == b[j]; });
  std::vector<std::size_t> tmp(idx.size());
  const std::uint64_t discordant = sort_counting_inversions(idx, tmp, b, 0, idx.size());
  const std::uint64_t tied_b = tied_pairs(idx, [&](std::size_t i, std::size_t j) { return b[i] == b[j]; });

  const std::uint64_t pairs = n * (n - 1) / 2;
  // C + D = pairs - tied_a - tied_b + tied_ab (pairs tied in both were subtracted twice).
  const double concordant_minus_discordant = static_cast<double>(pairs - tied_a - tied_b + tied_ab) -
                                             2.0 * static_cast<double>(discordant);
  const double denominator = std::sqrt(static_cast<double>(pairs - tied_a) * static_cast<double>(pairs - tied_b));
  return denominator == 0.0 ? nan : concordant_minus_discordant / denominator;
}

std::vector<double> average_ranks(std::span<const double> v) {
  std::vector<std::size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t i, std::size_t j) { return v[i] < v[j]; });
  std::vector<double> ranks(v.size());
  for (std::size_t first = 0; first < idx.size();) {
    std::size_t last = first + 1;
    while (last < idx.size() && v[idx[last]] == v[idx[first]]) ++last;
    // Ranks first+1 .. last (1-based) share their mean.
    const double rank = 0.5 * static_cast<double>(first + 1 + last);
    for (std::size_t i = first; i < last; ++i) ranks[idx[i]] = rank;
    first = last;
  }
  return ranks;
}

double spearman_rho(std::span<const double> a, std::span<const double> b) {
  require_pairs(a, b, "spearman_rho");
  return pearson(average_ranks(a), average_ranks(b));
}

regression_metrics evaluate(std::span<const double> predicted_ms, std::span<const double> truth_ms) {
  regression_metrics m;
  m.n = truth_ms.size();
  m.within_5 = within_share(predicted_ms, truth_ms, 0.05);
  m.within_10 = within_share(predicted_ms, truth_ms, 0.10);
  m.mape_percent = mape_percent(predicted_ms, truth_ms);
  m.rmse_ms = rmse(predicted_ms, truth_ms);
  m.r2 = r_squared(predicted_ms, truth_ms);
  m.kendall_tau = kendall_tau_b(predicted_ms, truth_ms);
  m.spearman_rho = spearman_rho(predicted_ms, truth_ms);
  return m;
}

std::vector<group_metrics> evaluate_by_group(std::span<const double> predicted_ms, std::span<const double> truth_ms,
                                             std::span<const int> labels) {
  require_pairs(predicted_ms, truth_ms, "evaluate_by_group");
  if (labels.size() != truth_ms.size())
    throw error("evaluate_by_group: " + std::to_string(labels.size()) + " labels for " +
                std::to_string(truth_ms.size()) + " rows");
  std::map<int, std::pair<std::vector<double>, std::vector<double>>> groups;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    auto& [p, t] = groups[labels[i]];
    p.push_back(predicted_ms[i]);
    t.push_back(truth_ms[i]);
  }
  std::vector<group_metrics> out;
  out.reserve(groups.size());
  for (const auto& [label, pt] : groups) out.push_back({label, evaluate(pt.first, pt.second)});
  return out;
}

}  // namespace esm::surrogate
