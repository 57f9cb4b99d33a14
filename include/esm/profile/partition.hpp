// How the plan's pending architectures are shared among ranks: cost-aware static partitioning
// (longest processing time first, by MACs) or dynamic hand-out from a shared counter.
#pragma once

#include <cstddef>
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

}  // namespace esm::profile
