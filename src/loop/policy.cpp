// Stop/continue decisions and next-batch weights of the closed loop.
#include "esm/loop/policy.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "esm/common/error.hpp"

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
  if (how == strategy::uncertainty && candidate_pool < batch) {
    throw usage_error("loop.candidate_pool must be at least loop.batch");
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
  d.next_count = std::min(s.batch, s.budget - samples);
  std::snprintf(text, sizeof text, "measure %zu more (%zu bins below %.1f%%)", d.next_count, d.weights.size(),
                100 * s.threshold);
  d.reason = text;
  if (s.how != strategy::weighted) d.weights.clear();
  return d;
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
