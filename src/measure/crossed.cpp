// The crossed design (esm/measure/crossed.hpp).
#include "esm/measure/crossed.hpp"

#include <algorithm>
#include <cmath>

#include "esm/common/error.hpp"

namespace esm::measure {

crossed_design cross_groups(std::size_t arch_count, int group_size) {
  if (arch_count == 0 || group_size < 1) throw error("cross_groups: needs at least one arch and a group size >= 1");
  crossed_design d;
  const std::size_t g = static_cast<std::size_t>(group_size);
  d.groups = static_cast<int>((arch_count + g - 1) / g);
  const auto groups = static_cast<std::size_t>(d.groups);
  d.first.resize(arch_count);
  d.second.resize(arch_count);
  for (std::size_t i = 0; i < arch_count; ++i) {
    d.first[i] = static_cast<int>(i * groups / arch_count);
    d.second[i] = static_cast<int>(groups + i % groups);
  }
  return d;
}

std::vector<double> solve_crossed(const std::vector<double>& y_first, const std::vector<double>& y_second,
                                  const crossed_design& d) {
  const std::size_t n = d.first.size();
  if (y_first.size() != n || y_second.size() != n || d.second.size() != n) {
    throw error("solve_crossed: observation counts do not match the design");
  }
  std::vector<double> a(n);
  for (std::size_t i = 0; i < n; ++i) a[i] = 0.5 * (y_first[i] + y_second[i]);
  if (d.groups < 2) return a;

  const auto groups = static_cast<std::size_t>(2 * d.groups);
  std::vector<double> u(groups, 0.0), sum(groups), count(groups);
  for (int sweep = 0; sweep < 10000; ++sweep) {
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(count.begin(), count.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const auto f = static_cast<std::size_t>(d.first[i]), s = static_cast<std::size_t>(d.second[i]);
      sum[f] += y_first[i] - a[i];
      sum[s] += y_second[i] - a[i];
      count[f] += 1;
      count[s] += 1;
    }
    // Centre the effects over the observations: the constraint that keeps mean(a) = mean(y).
    double total = 0;
    for (std::size_t g = 0; g < groups; ++g) {
      u[g] = count[g] > 0 ? sum[g] / count[g] : 0.0;
      total += u[g] * count[g];
    }
    const double shift = total / static_cast<double>(2 * n);
    for (double& v : u) v -= shift;
    double change = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double next = 0.5 * ((y_first[i] - u[static_cast<std::size_t>(d.first[i])]) +
                                 (y_second[i] - u[static_cast<std::size_t>(d.second[i])]));
      change = std::max(change, std::abs(next - a[i]));
      a[i] = next;
    }
    if (change < 1e-12) break;
  }
  return a;
}

std::vector<measurement> measure_crossed(std::size_t n, const std::function<workload(std::size_t)>& make_arch,
                                         const workload& reference, const measure_policy& p) {
  if (n == 0) throw error("measure_crossed: needs at least one arch");
  const crossed_design d = cross_groups(n, p.interleave_group);
  if (d.groups < 2) {
    std::vector<workload> all;
    for (std::size_t i = 0; i < n; ++i) all.push_back(make_arch(i));
    return measure_interleaved(all, reference, p);
  }

  measure_policy first_pass = p, second_pass = p;
  first_pass.reps = (p.reps + 1) / 2;
  second_pass.reps = p.reps - first_pass.reps;
  std::vector<measurement> passes[2] = {std::vector<measurement>(n), std::vector<measurement>(n)};
  for (int pass = 0; pass < 2; ++pass) {
    const auto& member_of = pass == 0 ? d.first : d.second;
    for (int g = 0; g < d.groups; ++g) {
      std::vector<std::size_t> members;
      for (std::size_t i = 0; i < n; ++i) {
        if (member_of[i] == g + pass * d.groups) members.push_back(i);
      }
      std::vector<workload> workloads;
      for (std::size_t i : members) workloads.push_back(make_arch(i));
      auto measured = measure_interleaved(workloads, reference, pass == 0 ? first_pass : second_pass);
      for (std::size_t k = 0; k < members.size(); ++k) passes[pass][members[k]] = std::move(measured[k]);
    }
  }

  std::vector<double> y_first(n), y_second(n);
  for (std::size_t i = 0; i < n; ++i) {
    y_first[i] = std::log(passes[0][i].normalised);
    y_second[i] = std::log(passes[1][i].normalised);
  }
  // A non-finite ratio (a zero time) would spread through every group effect: then no arch of the
  // window is corrected, each keeps its own two passes' mean.
  const bool finite = std::all_of(y_first.begin(), y_first.end(), [](double v) { return std::isfinite(v); }) &&
                      std::all_of(y_second.begin(), y_second.end(), [](double v) { return std::isfinite(v); });
  const std::vector<double> a = finite ? solve_crossed(y_first, y_second, d)
                                       : std::vector<double>{};

  std::vector<measurement> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    measurement& m = out[i];
    const measurement& one = passes[0][i];
    const measurement& two = passes[1][i];
    m.samples_ms = one.samples_ms;
    m.samples_ms.insert(m.samples_ms.end(), two.samples_ms.begin(), two.samples_ms.end());
    m.stats = summarize(m.samples_ms, p.trim_fraction);
    // The first build's warm-up runs: what a caller recording per-run side results (esm profile's
    // GPU other-mode passes) across the measurement skips at its head.
    m.warmup_runs = one.warmup_runs;
    m.warmup_ms = one.warmup_ms + two.warmup_ms;
    m.reference_ms = std::sqrt(one.reference_ms * two.reference_ms);
    m.normalised = finite ? std::exp(a[i]) : m.stats.trimmed_mean_ms / m.reference_ms;
    m.start_unix_ns = one.start_unix_ns;
    m.end_unix_ns = two.end_unix_ns;
  }
  return out;
}

}  // namespace esm::measure
