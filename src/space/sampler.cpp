// Deterministic unique sampling over depth bins.
#include "esm/space/sampler.hpp"

#include <algorithm>
#include <cmath>

#include "esm/common/error.hpp"

namespace esm::space {

sample_policy parse_policy(std::string_view text) {
  if (text == "uniform") return sample_policy::uniform;
  if (text == "balanced") return sample_policy::balanced;
  if (text == "weighted") return sample_policy::weighted;
  throw usage_error("unknown sampling policy '" + std::string(text) + "' (uniform, balanced, weighted)");
}

std::string_view to_string(sample_policy p) {
  switch (p) {
    case sample_policy::uniform: return "uniform";
    case sample_policy::balanced: return "balanced";
    case sample_policy::weighted: return "weighted";
  }
  return "?";
}

std::map<int, std::size_t> apportion(std::size_t count, const std::map<int, double>& weights) {
  double sum = 0;
  for (const auto& [bin, w] : weights) {
    if (!(w >= 0) || !std::isfinite(w)) throw usage_error("bin weight for depth " + std::to_string(bin) + " must be >= 0");
    sum += w;
  }
  if (sum <= 0) throw usage_error("bin weights sum to zero");
  std::map<int, std::size_t> out;
  std::vector<std::pair<double, int>> remainders;
  std::size_t given = 0;
  for (const auto& [bin, w] : weights) {
    const double exact = static_cast<double>(count) * w / sum;
    const auto whole = static_cast<std::size_t>(std::floor(exact));
    out[bin] = whole;
    given += whole;
    remainders.emplace_back(exact - static_cast<double>(whole), bin);
  }
  std::stable_sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; given < count; ++i, ++given) ++out[remainders[i % remainders.size()].second];
  return out;
}

namespace {

constexpr std::size_t attempts_per_arch = 1000;

}  // namespace

std::vector<arch> sample_archs(const search_space& space, const sample_request& req) {
  std::vector<arch> out;
  out.reserve(std::min<std::size_t>(req.count, std::size_t{1} << 16));
  sample_each(space, req, [&](const arch& a) { out.push_back(a); });
  return out;
}

void sample_each(const search_space& space, const sample_request& req, const std::function<void(const arch&)>& sink) {
  if (req.count == 0) throw usage_error("sample count must be positive");
  rng r(req.seed);
  std::unordered_set<std::uint64_t> seen = req.exclude;
  std::size_t drawn = 0;

  const auto draw_unique = [&](std::optional<int> depth, bool independent) {
    for (std::size_t attempt = 0; attempt < attempts_per_arch; ++attempt) {
      arch a = independent ? space.sample_independent(r, req.constraints) : space.sample(r, req.constraints, depth);
      if (seen.insert(arch_id(space.format(a))).second) {
        ++drawn;
        sink(a);
        return;
      }
    }
    throw usage_error("could not find a new unique architecture" +
                      (depth ? " of depth " + std::to_string(*depth) : std::string()) + " after " +
                      std::to_string(attempts_per_arch) + " tries: the bin is (nearly) exhausted");
  };

  if (req.policy == sample_policy::uniform) {
    const long double available = space.count(req.constraints) - static_cast<long double>(req.exclude.size());
    if (static_cast<long double>(req.count) > available) {
      throw usage_error("asked for " + std::to_string(req.count) + " unique architectures but the space holds " +
                        std::to_string(static_cast<double>(available)));
    }
    for (std::size_t i = 0; i < req.count; ++i) draw_unique(std::nullopt, true);
    return;
  }

  std::map<int, double> weights;
  if (req.policy == sample_policy::balanced) {
    for (int bin : space.depth_bins()) weights[bin] = 1.0;
  } else {
    const auto bins = space.depth_bins();
    for (const auto& [bin, w] : req.bin_weights) {
      if (std::find(bins.begin(), bins.end(), bin) == bins.end()) {
        throw usage_error("depth bin " + std::to_string(bin) + " does not exist in " + std::string(space.name()));
      }
      weights[bin] = w;
    }
    if (weights.empty()) throw usage_error("weighted sampling needs bin weights");
  }
  const auto quota = apportion(req.count, weights);
  for (const auto& [bin, n] : quota) {
    const long double capacity = space.count(req.constraints, bin);
    if (static_cast<long double>(n) > capacity) {
      throw usage_error("depth bin " + std::to_string(bin) + " holds only " + std::to_string(static_cast<double>(capacity)) +
                        " unique architectures but " + std::to_string(n) + " were requested");
    }
  }
  // Round robin over the bins: every prefix of the list stays close to the requested mix.
  std::map<int, std::size_t> left = quota;
  while (drawn < req.count) {
    for (auto& [bin, n] : left) {
      if (n == 0) continue;
      draw_unique(bin, false);
      --n;
    }
  }
}

}  // namespace esm::space
