// The latency dataset's schema, version 3: the row types of its tables and the names of its parts.
//
// One HDF5 file per run plan. Every table row below has fixed-size fields only (no variable-length
// types), and the file stores exactly these bytes: the HDF5 compound types (src/dataset/types.cpp)
// use little-endian standard member types at these offsets, so memory and file layout are identical
// on the little-endian machines esm runs on (checked at compile time). Row i of /results and
// /samples belongs to row i of /archs. docs/dataset.md is the field-by-field contract.
//
// This header is pure C++: no HDF5, no MPI, no backend (the drift verdicts are the measurement
// layer's, below this one).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "esm/measure/drift_guard.hpp"

namespace esm::dataset {

/// 2: /drift rows carry the drift threshold in effect. 3: /results rows carry eager_ms and
/// graph_ms (a GPU row's latency with per-layer launches and as a CUDA graph replay). Readers take
/// 1 to 3 (threshold NaN for 1, eager_ms and graph_ms NaN before 3); a run appends only to a file
/// of the current version.
inline constexpr std::int64_t schema_version = 3;
inline constexpr std::int64_t oldest_readable_schema_version = 1;
/// Canonical texts are stored fixed-length, sized to the longest of the plan (+1 for the
/// terminator); longer than this many characters is refused.
inline constexpr std::size_t max_arch_text_bytes = 512;

/// /results.status (an HDF5 enum type in the file, so readers see the names).
enum class row_status : std::int32_t {
  pending = 0,  ///< not measured yet (the fill value), or abandoned by an interrupted run
  done = 1,     ///< measured; every statistic is valid
  failed = 2,   ///< compile or run failed; error_code / error_message say why
};
[[nodiscard]] std::string_view to_string(row_status s);

/// /results.error_code.
enum class error_code : std::int32_t {
  none = 0,
  compile_failed = 1,  ///< the backend could not build the network
  run_failed = 2,      ///< a forward pass threw
  out_of_memory = 3,   ///< device or host memory exhausted
  unstable = 4,        ///< the measurement policy gave up (noise or drift beyond its limits)
  internal = 5,        ///< anything else
};
[[nodiscard]] std::string_view to_string(error_code e);

/// Copies `text` into a fixed char field, NUL-terminated and NUL-padded, truncating to N - 1 chars.
template <std::size_t N>
void set_text(char (&field)[N], std::string_view text) {
  const std::size_t n = text.size() < N ? text.size() : N - 1;
  for (std::size_t i = 0; i < N; ++i) field[i] = i < n ? text[i] : '\0';
}
/// The text of a fixed char field (up to the first NUL).
template <std::size_t N>
[[nodiscard]] std::string get_text(const char (&field)[N]) {
  std::size_t n = 0;
  while (n < N && field[n] != '\0') ++n;
  return std::string(field, n);
}

/// One row of /results (272 bytes; 256 before version 3). Times in milliseconds, timestamps in
/// seconds since the Unix epoch (UTC). Statistics are NaN while the row is pending or failed.
/// The statistics from trimmed_mean_ms to p90_ms describe the timed launch mode (the samples):
/// on GPU the one backend.cuda_graph selects, on CPU the only one.
struct result_row {
  std::uint64_t arch_id;     ///< = /archs/id of the same row (a self-check for readers)
  double trimmed_mean_ms;    ///< ESM's label
  double median_ms;
  double mean_ms;
  double std_ms;             ///< sample standard deviation
  double min_ms;
  double max_ms;
  double p10_ms;
  double p90_ms;
  double reference_ms;       ///< reference network's latency timed closest to this row
  double normalised;         ///< trimmed_mean_ms / reference_ms (dimensionless)
  double start_unix_s;       ///< measurement start (compile excluded)
  double end_unix_s;
  std::int32_t status;       ///< row_status
  std::int32_t run;          ///< index into /runs (which invocation measured the row), -1 if pending
  std::int32_t rank;         ///< MPI rank within that run, -1 if pending
  std::int32_t device;       ///< device index used (GPU), -1 on CPU
  std::int32_t n;            ///< repetitions summarised (= valid entries of the /samples row)
  std::int32_t remeasures;   ///< times the policy re-measured the arch
  std::int32_t error_code;   ///< error_code
  char error_message[124];   ///< first line of the failure (NUL-terminated)
  double eager_ms;           ///< trimmed mean with per-layer launches (CPU: = trimmed_mean_ms); NaN before version 3
  double graph_ms;           ///< trimmed mean of CUDA graph replays (GPU); NaN on CPU and before version 3
};
static_assert(sizeof(result_row) == 272);

/// A result row's status (stored as the int32 value of the HDF5 enum /results.status).
[[nodiscard]] constexpr row_status status_of(const result_row& r) { return static_cast<row_status>(r.status); }
constexpr void set_status(result_row& r, row_status s) { r.status = static_cast<std::int32_t>(s); }

/// The value of a row that has not been measured: status pending, statistics NaN.
[[nodiscard]] result_row pending_row();

/// One row of /drift: one reading of the reference network by a rank's drift guard.
struct drift_row {
  double time_unix_s;
  double reference_ms;     ///< the reading
  double baseline_ms;      ///< what the guard compared it with
  double relative_change;  ///< (reference_ms - baseline_ms) / baseline_ms, signed
  std::int64_t arch_row;   ///< the last /archs row of the window the check judged, -1 for none
  std::int32_t run;
  std::int32_t rank;
  std::int32_t verdict;    ///< measure::drift_verdict: ok 0, drift 1, remeasured 2, gave_up 3, common_mode 4, transient 5
  std::int32_t window;     ///< archs in the judged window
  double threshold;        ///< |relative_change| above this was drift (the calibrated one); NaN in version 1 files
};
static_assert(sizeof(drift_row) == 64);

// /drift.verdict stores measure::drift_verdict (the drift guard's own verdicts); the file's enum
// type takes its names from measure::to_string. The numbers are part of the file format:
static_assert(static_cast<int>(measure::drift_verdict::ok) == 0 && static_cast<int>(measure::drift_verdict::drift) == 1 &&
              static_cast<int>(measure::drift_verdict::remeasured) == 2 &&
              static_cast<int>(measure::drift_verdict::gave_up) == 3 &&
              static_cast<int>(measure::drift_verdict::common_mode) == 4 &&
              static_cast<int>(measure::drift_verdict::transient) == 5);

/// One row of /algos: the algorithm a GPU backend chose for one layer of one arch.
struct algo_row {
  std::uint64_t workspace_bytes;
  std::int64_t arch_row;
  std::int32_t run;
  std::int32_t rank;
  std::int32_t layer;   ///< index into the network IR's layers
  std::int32_t algo_id;
  char name[64];        ///< e.g. "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM"
};
static_assert(sizeof(algo_row) == 96);

/// One row of /ranks: where a rank of a run ran.
struct rank_row {
  std::int32_t run;
  std::int32_t rank;
  std::int32_t local_rank;   ///< rank among the ranks on the same host
  std::int32_t local_size;
  std::int32_t device;       ///< device index bound (GPU), -1 on CPU
  std::int32_t threads;      ///< CPU threads given to the backend
  char host[64];
  char device_name[96];      ///< GPU name, or "cpu"
  char device_uuid[48];      ///< GPU UUID, empty on CPU
  char pci_bus_id[32];       ///< GPU PCI bus id, empty on CPU
  char cpus[128];            ///< CPU list the rank was pinned to ("0-3,8"), empty if not pinned
};
static_assert(sizeof(rank_row) == 392);

/// One row of /loop (208 bytes): one depth bin of one iteration of `esm loop`. An iteration
/// trains on the dataset's first `samples` rows, cross-validates, and decides; its rows are
/// written together, after the decision. Absent from datasets made by `esm profile` alone.
struct loop_row {
  std::uint64_t samples;    ///< /archs rows when the iteration trained (measured or failed)
  std::uint64_t n;          ///< usable rows of this bin
  double within_10;         ///< share of the bin's out-of-fold predictions within ±10%, in [0, 1] (NaN if n is 0)
  double threshold;         ///< the share every bin had to reach
  std::int32_t iteration;   ///< 0 for the initial sample
  std::int32_t bin;         ///< depth bin
  std::int32_t stop;        ///< 1 when the iteration decided to stop
  std::int32_t next_count;  ///< archs drawn for the next iteration (0 when stopping)
  char strategy[16];        ///< "weighted", "random" or "uncertainty"
  char model[16];           ///< the CV model whose accuracy counts ("stacked" or "ensemble")
  char decision[128];       ///< the decision in words
};
static_assert(sizeof(loop_row) == 208);

/// One architecture of the plan (a row of the /archs group's column datasets).
struct arch_entry {
  std::string text;       ///< canonical text
  std::uint64_t id = 0;   ///< FNV-1a-64 of the text
  std::vector<int> genes; ///< fixed length per space
  std::int32_t depth = 0;
  std::int32_t resolution = 0;
  std::int64_t macs = 0;    ///< per sample
  std::int64_t params = 0;
};

/// Provenance written once, as root attributes, when the file is created.
struct provenance {
  std::string command_line;
  std::string config_text;   ///< the fully resolved job configuration (INI)
  std::string config_hash;   ///< 16 hex digits; resume requires the same hash
  std::string space;
  std::string variant;       ///< "" when the space has none
  std::vector<std::string> gene_names;
  std::string backend;
  std::string precision;
  std::int64_t batch_size = 1;
  std::uint64_t sample_seed = 0;
  std::uint64_t weights_seed = 0;
  std::string measure_policy;  ///< text of the measurement policy
  std::string mpi_library_version;
  std::string backend_version;
  std::int64_t max_samples = 0;  ///< width of /samples
  /// The random draw of measuring groups (profile/partition.hpp: draw_groups over the plan's rows
  /// with this seed and size): the archs measured together. 0 and 0 in files of older esm
  /// versions, whose groups were consecutive archs in decreasing-MACs order.
  std::uint64_t group_seed = 0;
  std::int64_t group_size = 0;
  std::string start_time;        ///< ISO 8601 UTC, the creating run's start
  /// Root attribute synthetic = 1 (absent otherwise): the latencies were computed by the synthetic
  /// backend, not measured. esm train refuses such a dataset unless --allow-synthetic.
  bool synthetic = false;
  /// Set only in a dataset of `esm import` (backend "imported"): latencies measured elsewhere, by
  /// others. imported_from: where they come from (--source); device: what they were measured on
  /// (--device); input_sha256: "FILE=HEX" of each input file, comma separated. Empty otherwise.
  std::string imported_from;
  std::string device;
  std::string input_sha256;
};

/// Per-run provenance (/runs/<k> attributes).
struct run_info {
  std::string command_line;
  std::string host;            ///< rank 0's host
  std::int64_t pid = 0;        ///< rank 0's pid
  std::int64_t world_size = 1;
  std::string partition;       ///< "lpt" or "dynamic"
  std::string start_time;      ///< ISO 8601 UTC
  std::string slurm_job_id;    ///< "" when not under Slurm
  std::string slurm_array_job_id;
  std::string slurm_array_task_id;
};

/// How a run ended (/runs/<k> attributes written by writer::close). Identical on every rank.
struct run_end {
  std::string outcome;          ///< "complete", "interrupted" or "failed"
  std::string end_time;         ///< ISO 8601 UTC
  std::uint64_t rows_done = 0;  ///< rows this run measured (done or failed)
  double hdf5_seconds = 0;      ///< the largest per-rank time in HDF5 calls
};

/// Names of the file's objects and root attributes.
namespace names {
inline constexpr const char* archs = "archs";
inline constexpr const char* results = "results";
inline constexpr const char* samples = "samples";
inline constexpr const char* ranks = "ranks";
inline constexpr const char* drift = "drift";
inline constexpr const char* algos = "algos";
inline constexpr const char* runs = "runs";
inline constexpr const char* loop = "loop";
inline constexpr const char* active_run = "active_run";  ///< root attribute present while a run writes
}  // namespace names

}  // namespace esm::dataset
