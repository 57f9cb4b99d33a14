// Stop/continue decisions and next-batch weights of the closed loop.
#include "esm/loop/policy.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/space/sampler.hpp"

namespace esm::loop {

strategy parse_strategy(std::string_view text) {
  if (text == "weighted" || text == "balanced") return strategy::weighted;
  if (text == "random") return strategy::random;
  if (text == "uncertainty") return strategy::uncertainty;
  throw usage_error("unknown loop strategy '" + std::string(text) + "' (weighted, random, uncertainty)");
}

std::string_view to_string(strategy s) {
  switch (s) {
    case strategy::weighted: return "weighted";
    case strategy::random: return "random";
    case strategy::uncertainty: return "uncertainty";
  }
  return "?";
}

void settings::validate() const {
  if (!(threshold > 0 && threshold <= 1)) throw usage_error("loop.threshold must be in (0, 1]");
  if (initial < 2) throw usage_error("loop.initial must be at least 2");
  if (batch < 1) throw usage_error("loop.batch must be at least 1");
  if (budget < initial) throw usage_error("loop.budget must be at least loop.initial");
  if (max_iterations < 1) throw usage_error("loop.max_iterations must be at least 1");
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    if (sizes[k] <= (k == 0 ? initial : sizes[k - 1])) {
      throw usage_error("loop.sizes must increase strictly and start above loop.initial");
    }
  }
  std::size_t largest_step = sizes.empty() ? batch : 0;
  for (std::size_t k = 0; k < sizes.size(); ++k) largest_step = std::max(largest_step, sizes[k] - (k == 0 ? initial : sizes[k - 1]));
  if (how == strategy::uncertainty && candidate_pool < largest_step) {
    throw usage_error("loop.candidate_pool must be at least the largest batch (loop.batch, or a step of loop.sizes)");
  }
}

decision decide(const std::vector<int>& bins, const std::vector<bin_accuracy>& accuracy, std::size_t samples,
                std::size_t iteration, const settings& s) {
  std::map<int, bin_accuracy> by_bin;
  for (const auto& a : accuracy) by_bin[a.bin] = a;
  decision d;
  for (int b : bins) {
    const auto it = by_bin.find(b);
    const bool met = it != by_bin.end() && it->second.n >= s.min_per_bin && it->second.within_10 >= s.threshold;
    if (met) continue;
    const double acc = it == by_bin.end() ? 0.0 : it->second.within_10;
    // Weight by the deficit, with a floor so a bin just below the threshold still gets samples.
    d.weights[b] = std::max(s.threshold - acc, 0.0) + 0.02;
  }
  char text[96];
  if (d.weights.empty()) {
    std::snprintf(text, sizeof text, "all %zu bins >= %.1f%% within 10%%", bins.size(), 100 * s.threshold);
    d.stop = true;
    d.reason = text;
    return d;
  }
  if (samples >= s.budget) {
    d.stop = true;
    d.reason = "sample budget reached with " + std::to_string(d.weights.size()) + " bins below the threshold";
    return d;
  }
  if (iteration + 1 >= s.max_iterations) {
    d.stop = true;
    d.reason = "iteration cap reached with " + std::to_string(d.weights.size()) + " bins below the threshold";
    return d;
  }
  std::size_t step = s.batch;
  if (!s.sizes.empty()) {
    const auto next = std::upper_bound(s.sizes.begin(), s.sizes.end(), samples);
    if (next == s.sizes.end()) {
      d.stop = true;
      d.reason = "last of loop.sizes reached with " + std::to_string(d.weights.size()) + " bins below the threshold";
      return d;
    }
    step = *next - samples;
  }
  d.next_count = std::min(step, s.budget - samples);
  std::snprintf(text, sizeof text, "measure %zu more (%zu bins below %.1f%%)", d.next_count, d.weights.size(),
                100 * s.threshold);
  d.reason = text;
  if (s.how != strategy::weighted) d.weights.clear();
  return d;
}

std::vector<std::size_t> draw_from_pool(const std::vector<int>& candidate_bins, std::size_t count,
                                        const std::map<int, double>& bin_weights, std::uint64_t seed) {
  rng r(seed);
  // Every bin's candidates in a random order; a draw takes from the front.
  std::vector<std::size_t> order(candidate_bins.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  shuffle(order, r);
  count = std::min(count, order.size());
  std::map<int, std::vector<std::size_t>> left;
  for (const auto i : order) left[candidate_bins[i]].push_back(i);
  std::map<int, std::size_t> taken;
  std::vector<std::size_t> out;
  std::map<int, double> open = bin_weights;
  while (out.size() < count) {
    std::erase_if(open, [&](const auto& bw) { return !(bw.second > 0) || taken[bw.first] >= left[bw.first].size(); });
    if (open.empty()) break;
    for (const auto& [bin, n] : space::apportion(count - out.size(), open)) {
      const auto& pool = left[bin];
      for (std::size_t k = 0; k < n && taken[bin] < pool.size(); ++k) out.push_back(pool[taken[bin]++]);
    }
  }
  if (out.size() < count) {  // uniform over what is left (also the whole draw when no weights are given)
    std::vector<char> chosen(candidate_bins.size(), 0);
    for (const auto i : out) chosen[i] = 1;
    for (const auto i : order) {
      if (out.size() == count) break;
      if (!chosen[i]) out.push_back(i);
    }
  }
  return out;
}

std::vector<std::size_t> most_uncertain(const std::vector<double>& spread, std::size_t count) {
  std::vector<std::size_t> order(spread.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  count = std::min(count, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count), order.end(),
                    [&](std::size_t a, std::size_t b) { return spread[a] > spread[b] || (spread[a] == spread[b] && a < b); });
  order.resize(count);
  return order;
}

}  // namespace esm::loop
