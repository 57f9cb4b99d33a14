// ESM's closed loop, the orchestration around the pure policy (policy.hpp): measure a
// depth-balanced initial sample, then repeat { cross-validate surrogates, judge the ±10% accuracy
// of every depth bin, stop or draw the next batch } on all MPI ranks, growing ONE dataset.
//
// Measuring is `esm profile`'s machinery (profile::run_profile) run on the dataset's pending rows;
// a new batch is appended with dataset::extend before it is measured. Every iteration leaves one
// /loop row per depth bin (schema.hpp: loop_row), written before its batch is appended, so that
// --resume can tell where it stopped: it finishes the pending rows, then trains the next iteration.
// Collective over MPI_COMM_WORLD like `esm profile`; rank 0 prints one line per iteration.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "esm/profile/job_config.hpp"
#include "esm/cluster/mpi.hpp"
#include "esm/loop/policy.hpp"
#include "esm/train/folds.hpp"

namespace esm::loop {

/// The [loop] section of a job configuration.
struct loop_config {
  settings policy;                              ///< threshold, initial, batch, budget, ... strategy
  std::string encoding = "fcc";                 ///< features::encoding_spec text
  std::vector<std::string> kinds{"ridge", "mlp"};
  std::size_t folds = 5;
  train::fold_rule folds_by = train::fold_rule::automatic;  ///< loop.folds_by (train/folds.hpp)
  std::size_t members = 1;                      ///< per kind
  std::uint64_t seed = 0;                       ///< CV folds and fits
  /// loop.pool: pool mode. The labels are looked up in this dataset (of esm import, or any esm
  /// dataset's done rows) instead of measured, and every draw takes archs of it the loop does not
  /// hold yet (src/loop/pool.hpp). Empty: the loop measures with esm profile's machinery.
  std::string pool;
  std::string text;  ///< the resolved section ("[loop]\nkey = value\n..."), kept in /loop's config attribute
};

/// The [loop] keys as options "loop.key" (string values, defaults included).
[[nodiscard]] boost::program_options::options_description loop_options();

/// Typed, validated [loop] settings. Throws usage_error naming the key.
[[nodiscard]] loop_config resolve_loop(const boost::program_options::variables_map& vm);

struct loop_request {
  profile::job_config job;  ///< [sample] count is the loop's initial sample
  loop_config loop;
  bool resume = false;
  bool allow_synthetic = false;  ///< pool mode: accept a synthetic pool
  std::string scores_path;       ///< pool mode: CSV of each iteration's held-out scores ("" = none)
  std::string command_line;
};

/// Collective. Returns exit_code::ok (stopped by the policy, or already stopped) or
/// exit_code::interrupted (SIGTERM / SIGUSR1; continue with --resume). Throws collective_error for
/// failures all ranks agree on; aborts all ranks for a failure of one.
[[nodiscard]] int run_loop(const cluster::communicator& world, const loop_request& request);

}  // namespace esm::loop
