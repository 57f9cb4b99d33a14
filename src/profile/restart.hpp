// How a profile run starts: rank 0 builds the plan and the provenance, takes the dataset's run
// lock and decides between creating the dataset and resuming it (what is left to measure); every
// rank learns the outcome by broadcast.
#pragma once

#include <optional>
#include <string>

#include "esm/backend/backend.hpp"
#include "esm/cluster/mpi.hpp"
#include "esm/dataset/run_lock.hpp"
#include "esm/profile/profile.hpp"
#include "profile/messages.hpp"
#include "profile/run_report.hpp"

namespace esm::profile {

/// The environment variable's value, "" when unset.
[[nodiscard]] std::string env_or_empty(const char* name);

/// Rank 0, lock taken: whether to create `req.job.output` or resume it, and its pending rows. A
/// dataset to resume must hold the same configuration (hash) and plan; usage_error otherwise.
void inspect_output(const profile_request& req, start_state& s);

/// Collective. Rank 0 builds the plan and the provenance, takes the run lock and inspects the
/// dataset to resume; every rank learns the outcome. `lock` holds the lock on rank 0.
[[nodiscard]] start_state decide_start(const cluster::communicator& world, const profile_request& req,
                                       const backend::backend& be, std::optional<dataset::run_lock>& lock,
                                       phase_timings& timings);

}  // namespace esm::profile
