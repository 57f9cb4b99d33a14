// Distributed dataset generation: the `esm profile` run, collective over MPI_COMM_WORLD.
//
// Rank 0 builds the sample plan (esm::space::sample_archs, identical to `esm sample`), takes the
// dataset's run lock, checks a dataset to resume and broadcasts all of it. Every rank binds its
// device or CPU share, then measures its architectures in chunks (one measure::measure_batch call
// each, under the drift guard) taken from a static LPT share or a shared counter. At chunk ends,
// at least every run.flush_interval_s, the ranks meet for one collective write + flush. SIGUSR1
// finishes the arch in flight, SIGTERM abandons it; either way what is final is written and the
// run ends with exit code 3 (resumable). An arch whose compile or run fails is recorded as failed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "esm/dataset/schema.hpp"

#include "esm/profile/job_config.hpp"
#include "esm/cluster/mpi.hpp"
#include "esm/space/space.hpp"

namespace esm::profile {

struct profile_request {
  job_config job;  ///< identical on every rank
  bool resume = false;
  std::string command_line;
  /// When set (rank 0's value counts): the plan to measure instead of sampling [sample]. The closed
  /// loop passes its whole, growing plan with resume = true, so that only its pending rows run.
  std::optional<std::vector<dataset::arch_entry>> plan;
  /// Rank 0 prints the phase times (plan, broadcast, open), every collective write + flush (slowest
  /// rank) and the ranks' peak memory after the run (esm profile --timings).
  bool timings = false;
};

/// The plan entry of `a`: canonical text, id, genes, depth, resolution, MACs and parameters.
[[nodiscard]] dataset::arch_entry plan_entry(const space::search_space& sp, const space::arch& a);

/// Whether SIGTERM or SIGUSR1 has asked this process to stop (after install_stop_handlers).
[[nodiscard]] bool stop_signalled();

/// Collective. Returns exit_code::ok or exit_code::interrupted. Throws collective_error (on every
/// rank) for failures all ranks agree on, e.g. a usage error found by rank 0; aborts all ranks
/// for a failure of one rank that the others cannot know about.
[[nodiscard]] int run_profile(const cluster::communicator& world, const profile_request& request);

/// Installs the SIGTERM / SIGUSR1 handlers (the first of each stops the run gracefully; a second
/// SIGTERM kills as usual).
void install_stop_handlers();

}  // namespace esm::profile
