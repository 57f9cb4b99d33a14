// The closed loop's pool mode (loop.pool = D.h5): the loop's "measurements" are looked up in a
// dataset measured elsewhere (esm import) instead of timed. The loop's code is unchanged around
// it: the pool replaces esm profile as the thing that fills pending rows, and the samplers draw
// from the pool's archs not yet in the loop's dataset instead of from the whole space. Rank 0
// only: nothing here is collective (files are written through MPI_COMM_SELF).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "esm/dataset/dataset.hpp"
#include "esm/loop/policy.hpp"
#include "esm/profile/job_config.hpp"
#include "esm/space/space.hpp"
#include "esm/surrogate/ensemble.hpp"
#include "esm/surrogate/metrics.hpp"

namespace esm::loop {

/// The archs and latencies of a pool dataset: its done rows with a positive trimmed_mean_ms (and
/// the job's space.resolution, when it sets one).
struct pool {
  std::string path;
  std::string input_sha256;  ///< "FILE=HEX" of the pool file
  dataset::provenance prov;  ///< the pool's own
  std::vector<dataset::arch_entry> archs;
  std::vector<space::arch> parsed;  ///< archs[i] parsed by the space
  std::vector<double> latency_ms;
  std::unordered_map<std::uint64_t, std::size_t> index_of;  ///< arch id -> row
  std::size_t left_out = 0;  ///< pool rows not done, or of another resolution: never drawn
};

/// Reads and checks the pool against the job: same space and width, enough usable archs for
/// loop.initial, not synthetic unless allowed. Throws usage_error naming the file.
[[nodiscard]] pool read_pool(const std::string& path, const profile::job_config& job, std::size_t initial,
                             bool allow_synthetic);

/// The provenance of a loop dataset grown from `p`: backend "imported" (nothing was measured
/// here), the pool's device and source, the pool file's SHA-256, and a measurement text that says
/// the labels were looked up in the pool by esm loop.
[[nodiscard]] dataset::provenance pool_provenance(const pool& p, const profile::job_config& job,
                                                  const std::string& command_line);

/// Rows of the pool not in `taken` (arch ids), in pool order.
[[nodiscard]] std::vector<std::size_t> rows_left(const pool& p, const std::unordered_set<std::uint64_t>& taken);

/// The first `count` archs of a loop from the pool, drawn as [sample] policy says (uniform,
/// balanced over the space's depth bins, or weighted by sample.bin_weights).
[[nodiscard]] std::vector<dataset::arch_entry> initial_from_pool(const pool& p, const profile::job_config& job,
                                                                 const std::vector<int>& bins, std::size_t count);

/// Fills every pending row of the loop dataset at `path` from the pool (creating the file for
/// `plan` first when it does not exist) under the dataset's run lock, as one closed run. Throws
/// usage_error when the file was grown from another pool or holds an arch the pool lacks.
void fill_from_pool(const std::string& path, const pool& p, const dataset::provenance& prov,
                    const dataset::run_info& run, const std::vector<dataset::arch_entry>& plan);

/// The model of one iteration scored on every pool arch not in the loop's dataset.
struct holdout_score {
  std::size_t iteration = 0;
  std::size_t samples = 0;  ///< archs in the loop's dataset
  surrogate::regression_metrics all;
  std::vector<surrogate::group_metrics> per_bin;  ///< by depth bin
};

/// Scores `model` on the pool rows not in `taken`; n = 0 when none is left.
[[nodiscard]] holdout_score score_holdout(const pool& p, const std::unordered_set<std::uint64_t>& taken,
                                          const surrogate::ensemble_regressor& model, const std::string& encoding,
                                          const space::search_space& sp);

/// "pool held-out: 4980 archs, within 10% 97.3%, within 5% 80.1%, MAPE 4.1% (min 91.0% at depth 12)".
[[nodiscard]] std::string holdout_line(const holdout_score& s);

/// Appends the score's rows to the CSV at `path` (header first when the file is new or empty):
/// iteration,archs,bin,n,within_5,within_10,mape_percent, one row "all" and one per depth bin.
void append_holdout_csv(const std::string& path, const holdout_score& s);

}  // namespace esm::loop
