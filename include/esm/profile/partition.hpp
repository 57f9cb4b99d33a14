// How the plan's pending architectures are shared among ranks: cost-aware static partitioning
// (longest processing time first, by MACs) or dynamic hand-out from a shared counter, of measuring
// groups drawn at random (so a group's shared level error is not tied to the archs' cost).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace esm::profile {

enum class partition_mode {
  lpt,      ///< static: each rank gets its share up front (no communication while measuring)
  dynamic,  ///< ranks take the next chunk of the cost-sorted list from a counter on rank 0
};
[[nodiscard]] partition_mode parse_partition_mode(std::string_view text);  ///< throws usage_error
[[nodiscard]] std::string_view to_string(partition_mode m);

/// Longest-processing-time-first: jobs in decreasing cost (ties: lower index first) each go to the
/// part with the least total cost so far (ties: lower part). Returns, per part, its job indices in
/// the order assigned (costliest first). Deterministic; costs must be finite and >= 0.
[[nodiscard]] std::vector<std::vector<std::size_t>> lpt_partition(std::span<const double> costs, int parts);

/// Job indices sorted by decreasing cost (ties: lower index first): the dynamic mode's order.
[[nodiscard]] std::vector<std::size_t> by_decreasing_cost(std::span<const double> costs);

/// Measuring groups drawn at random: rows 0..rows-1 in a Fisher-Yates order of esm::rng(`seed`),
/// cut into consecutive groups of `group_size` (>= 1; the last may be smaller). A function of
/// its three arguments alone, so a resume (and any reader of the dataset's provenance, which
/// records seed and size) draws the same groups. Throws esm::error for group_size < 1.
[[nodiscard]] std::vector<std::vector<std::size_t>> draw_groups(std::size_t rows, std::size_t group_size,
                                                                std::uint64_t seed);

/// `groups` with only the rows for which keep(row) is true, in their order; groups left empty are
/// dropped. A resume measures what is pending of each original group together, and never mixes
/// two groups.
template <class Keep>
[[nodiscard]] std::vector<std::vector<std::size_t>> kept_groups(const std::vector<std::vector<std::size_t>>& groups,
                                                                Keep keep) {
  std::vector<std::vector<std::size_t>> out;
  for (const auto& g : groups) {
    std::vector<std::size_t> part;
    for (const std::size_t row : g) {
      if (keep(row)) part.push_back(row);
    }
    if (!part.empty()) out.push_back(std::move(part));
  }
  return out;
}

/// Each group's cost: the sum of its rows' `row_costs` (the work unit LPT and the dynamic mode
/// hand out is a whole group).
[[nodiscard]] std::vector<double> group_costs(const std::vector<std::vector<std::size_t>>& groups,
                                              std::span<const double> row_costs);

}  // namespace esm::profile
