// Static (LPT) and dynamic work partitioning, and the random draw of measuring groups.
#include "esm/profile/partition.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>
#include <string>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"

namespace esm::profile {

partition_mode parse_partition_mode(std::string_view text) {
  if (text == "lpt") return partition_mode::lpt;
  if (text == "dynamic") return partition_mode::dynamic;
  throw usage_error("unknown partition mode '" + std::string(text) + "' (lpt, dynamic)");
}

std::string_view to_string(partition_mode m) { return m == partition_mode::lpt ? "lpt" : "dynamic"; }

std::vector<std::size_t> by_decreasing_cost(std::span<const double> costs) {
  for (const double c : costs) {
    if (!std::isfinite(c) || c < 0) throw error("job costs must be finite and >= 0");
  }
  std::vector<std::size_t> order(costs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return costs[a] > costs[b]; });
  return order;
}

std::vector<std::vector<std::size_t>> lpt_partition(std::span<const double> costs, int parts) {
  if (parts < 1) throw error("lpt_partition needs at least one part");
  std::vector<std::vector<std::size_t>> out(static_cast<std::size_t>(parts));
  // (load, part) min-heap: the least loaded part, lower index on ties.
  using slot = std::pair<double, int>;
  std::priority_queue<slot, std::vector<slot>, std::greater<>> heap;
  for (int p = 0; p < parts; ++p) heap.emplace(0.0, p);
  for (const std::size_t job : by_decreasing_cost(costs)) {
    auto [load, part] = heap.top();
    heap.pop();
    out[static_cast<std::size_t>(part)].push_back(job);
    heap.emplace(load + costs[job], part);
  }
  return out;
}

std::vector<std::vector<std::size_t>> draw_groups(std::size_t rows, std::size_t group_size, std::uint64_t seed) {
  if (group_size < 1) throw error("draw_groups needs groups of at least one row");
  std::vector<std::size_t> order(rows);
  std::iota(order.begin(), order.end(), std::size_t{0});
  rng r(seed);
  shuffle(order, r);
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t first = 0; first < rows; first += group_size) {
    const auto last = std::min(first + group_size, rows);
    groups.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(first), order.begin() + static_cast<std::ptrdiff_t>(last));
  }
  return groups;
}

std::vector<double> group_costs(const std::vector<std::vector<std::size_t>>& groups, std::span<const double> row_costs) {
  std::vector<double> out;
  out.reserve(groups.size());
  for (const auto& g : groups) {
    double sum = 0;
    for (const std::size_t row : g) sum += row_costs[row];
    out.push_back(sum);
  }
  return out;
}

}  // namespace esm::profile
