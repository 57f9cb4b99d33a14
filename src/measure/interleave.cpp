// The interleaving scheduler (esm/measure/interleave.hpp).
#include "esm/measure/interleave.hpp"

#include <algorithm>

#include "esm/common/error.hpp"

namespace esm::measure {

std::vector<burst> interleave_schedule(std::size_t arch_count, int reps, int burst_reps, int reference_burst_reps) {
  if (arch_count == 0 || reps < 1 || burst_reps < 1 || reference_burst_reps < 1) {
    throw error("interleave_schedule: needs at least one arch and positive repetition counts");
  }
  const int rounds = (reps + burst_reps - 1) / burst_reps;
  std::vector<burst> order;
  order.reserve(1 + static_cast<std::size_t>(rounds) * (arch_count + 1));
  order.push_back({burst::reference, reference_burst_reps});
  for (int r = 0; r < rounds; ++r) {
    const int this_round = std::min(burst_reps, reps - r * burst_reps);
    for (std::size_t a = 0; a < arch_count; ++a) order.push_back({static_cast<int>(a), this_round});
    order.push_back({burst::reference, reference_burst_reps});
  }
  return order;
}

}  // namespace esm::measure
