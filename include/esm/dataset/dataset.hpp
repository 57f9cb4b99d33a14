// The latency dataset file: collective creation, collective batched writes, a serial reader.
//
// Parallel-HDF5 rules kept here: creation, extent changes and attribute writes are collective
// (every rank of the communicator calls them with identical arguments); raw data goes through
// collective transfers in which a rank with nothing to write selects none; every batch ends with
// H5Fflush, so a crash loses at most the batch in flight. The file uses the 1.8 object format
// (never superblock v3: a killed writer must not leave it unopenable). This layer knows nothing of
// backends, measurement policies or how ranks share work; the MPI communicator is only handed to
// HDF5's MPI-IO driver.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "esm/dataset/schema.hpp"

namespace esm::dataset {

/// Where one rank's rows go in an extendible table: `offset` is the exclusive prefix sum of the
/// ranks' counts, `total` their sum (the same on every rank). The caller computes it collectively.
struct append_slot {
  std::uint64_t offset = 0;
  std::uint64_t total = 0;
};

/// One rank's part of a collective batch write.
struct batch {
  std::vector<std::uint64_t> rows;           ///< /archs rows, any order, unique across ranks
  std::vector<result_row> results;           ///< one per row
  std::vector<std::vector<float>> samples;   ///< one per row; longer than max_samples is an error
  std::vector<drift_row> drift;
  std::vector<algo_row> algos;
};

/// Time spent in HDF5 by this rank and how its raw-data transfers ran.
struct io_stats {
  double seconds = 0;             ///< wall time inside writer calls (open and close included)
  std::uint64_t batches = 0;
  std::uint64_t rows = 0;         ///< result rows this rank wrote
  std::uint64_t independent_transfers = 0;  ///< transfers HDF5 did not run collectively
  std::string last_independent_cause;       ///< H5Pget_mpio_no_collective_cause, if any
  /// Per write_batch call, in order: seconds in the collective writes (results, samples, drift and
  /// algorithm appends) and in the H5Fflush that ends it (esm profile --timings).
  std::vector<double> batch_write_seconds, batch_flush_seconds;
};

/// Name under which `create` builds a new file before it is renamed to `path`.
[[nodiscard]] std::string partial_path(const std::string& path);

/// Creates the file at `file_path` (truncating), with the root attributes and /archs, /results
/// pre-sized (all rows pending) and /samples (NaN) for the plan; extendible tables start empty.
/// Every rank calls it; rank 0 alone builds the file in memory (HDF5's core driver) and writes it
/// with plain write()s, so that a full disk is one clean error on one rank (file_error naming the
/// OS's reason, the file removed), never parallel HDF5 failing on some ranks half-way through its
/// metadata. Callers agree on the outcome (cluster::all_or_none), build at partial_path(path) and
/// rename once it succeeded.
void create(MPI_Comm comm, const std::string& file_path, const provenance& prov, const run_info& first_run,
            const std::vector<arch_entry>& plan);

/// Serial (rank 0, before the collective open): whether the file system takes `bytes` more bytes
/// for the existing file at `path` (posix_fallocate past its end, then truncated back: its bytes
/// are left as they were). Throws file_error naming the OS's reason (disk full, file size limit,
/// not writable). Parallel HDF5 has no way to agree on a write that fails on one rank only, so a
/// full disk is caught here, before any rank writes.
void check_room(const std::string& path, std::uint64_t bytes);

/// Collective: appends `entries` to the plan of the dataset at `path` (no writer open): /archs
/// grows by entries.size() rows, /results by as many pending rows (arch_id set), /samples by as
/// many NaN rows, and the root attribute arch_count follows. /archs/text is rewritten wider when
/// an entry's text is longer than its width. Values must be identical on every rank; ids already
/// in the plan are the caller's to avoid. Flushes and closes before returning.
void extend(MPI_Comm comm, const std::string& path, const std::vector<arch_entry>& entries);

/// The closed loop's record (/loop): the [loop] settings it ran with and one row per (iteration, bin).
struct loop_table {
  std::string config;  ///< /loop attribute "config": the resolved [loop] section
  std::vector<loop_row> rows;
};

/// Collective: appends `rows` to /loop, creating it on first use with attribute config = `config`.
/// Values must be identical on every rank (rank 0 writes). Flushes and closes before returning.
void append_loop_rows(MPI_Comm comm, const std::string& path, const std::vector<loop_row>& rows, std::string_view config);

/// Serial: the /loop table of a dataset (empty when it has none).
[[nodiscard]] loop_table read_loop(const std::string& path);

/// An open dataset being written by one run (collective object: every method is collective).
class writer {
 public:
  /// Collective open for writing; starts run k (= number of /runs groups), records `info` under
  /// /runs/<k> and sets the root attribute active_run to `marker` until close().
  writer(MPI_Comm comm, const std::string& path, const run_info& info, const std::string& marker);
  ~writer();  ///< without close(): closes the handles, leaves the run marked unfinished
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  [[nodiscard]] int run_index() const;
  [[nodiscard]] std::uint64_t rows() const;         ///< /archs rows
  [[nodiscard]] std::int64_t max_samples() const;   ///< /samples width

  /// Appends this rank's rows to /ranks.
  void append_ranks(const std::vector<rank_row>& mine, append_slot slot);
  /// Writes this rank's results and samples, appends its drift and algorithm rows, then flushes.
  void write_batch(const batch& mine, append_slot drift, append_slot algos);
  /// Records the run's end under /runs/<k>, clears active_run, updates the root end_time, flushes
  /// and closes. `end` must be identical on every rank.
  void close(const run_end& end);

  [[nodiscard]] const io_stats& stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A /results row for a latency measured elsewhere (esm import): done, trimmed_mean_ms =
/// `latency_ms`, n = 0; every other statistic, the reference and the times are NaN, eager_ms and
/// graph_ms too: nothing esm did not see is filled in.
[[nodiscard]] result_row imported_row(std::uint64_t arch_id, double latency_ms);

/// Collective (esm import calls it on one rank): creates the dataset at `path` for `plan` and
/// writes every row as imported_row(plan[i].id, latency_ms[i]) in one run, closed "complete".
/// prov.max_samples must be 0 (/samples is rows x 0). Leaves a partial file at `path` on error:
/// callers write to a temporary name and rename.
void write_imported(MPI_Comm comm, const std::string& path, const provenance& prov, const run_info& run,
                    const std::vector<arch_entry>& plan, const std::vector<double>& latency_ms);

/// One /runs/<k> group.
struct run_record {
  int index = 0;
  run_info info;
  run_end end;  ///< end.outcome is "running" and end.end_time "" if the run never closed the file
};

/// Everything in a dataset file, read serially (no MPI needed).
struct contents {
  std::int64_t schema_version = 0;
  std::string esm_version, esm_git_commit, hdf5_version, units;
  std::string end_time;    ///< last clean close of any run; "" if none closed cleanly
  std::string active_run;  ///< "" unless a run holds the file (or was killed holding it)
  std::string slurm_job_id, slurm_array_job_id, slurm_array_task_id;
  provenance prov;         ///< prov.start_time: the creating run's start
  std::vector<arch_entry> archs;
  std::vector<result_row> results;
  std::vector<float> samples;  ///< rows x prov.max_samples, row-major (only when asked for)
  std::vector<drift_row> drift;
  std::vector<algo_row> algos;
  std::vector<rank_row> ranks;
  std::vector<run_record> runs;
};

/// Reads a dataset serially. Throws usage_error when the file is missing or not an esm dataset
/// (names the problem: schema version, missing object).
[[nodiscard]] contents read(const std::string& path, bool with_samples = false);

/// Current UTC time as ISO 8601 ("2026-11-27T10:15:03Z") and as seconds since the epoch.
[[nodiscard]] std::string iso_utc_now();
[[nodiscard]] double unix_now_s();

}  // namespace esm::dataset
