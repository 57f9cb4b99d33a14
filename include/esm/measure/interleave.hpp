// The order of an interleaved measurement, as a pure function: a group of archs shares the same
// stretch of time, so slow drift of the machine's speed lands on all of them (and on the
// reference) alike instead of on whichever arch happened to run during it.
#pragma once

#include <cstddef>
#include <vector>

namespace esm::measure {

/// One burst: `reps` timed repetitions of one workload.
struct burst {
  static constexpr int reference = -1;
  int workload = reference;  ///< arch index within the group, or `reference`
  int reps = 0;
};

/// Reference burst, then ceil(reps / burst_reps) rounds of [arch 0 burst, ..., arch n-1 burst,
/// reference burst]. Every arch gets exactly `reps` repetitions: bursts of `burst_reps`, the last
/// round's burst holding the remainder. The leading reference burst makes the reference's samples
/// span the same time as the archs' (symmetric around them). Every reference burst has
/// `reference_burst_reps`. Throws esm::error for arch_count == 0 or non-positive counts.
[[nodiscard]] std::vector<burst> interleave_schedule(std::size_t arch_count, int reps, int burst_reps,
                                                     int reference_burst_reps);

}  // namespace esm::measure
