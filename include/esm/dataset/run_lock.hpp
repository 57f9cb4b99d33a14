// One writer per dataset: a lock file beside the dataset, held with a POSIX record lock (fcntl).
//
// Why this design: the kernel (or the cluster file system's lock manager) drops an fcntl lock when
// its process dies, however it dies, so a run killed with SIGKILL never blocks --resume; the file's
// text (host, pid, start time, Slurm job) names the holder in the refusal message. HDF5's own
// flock-based locking cannot serve: the MPI-IO driver does not take it and it is off or unsupported
// on many parallel file systems. Only rank 0 takes the lock; the others learn the verdict.
//
// Where the kernel lock cannot be trusted across hosts, the record and a heartbeat decide. A run
// touches the lock file (its mtime) at least every heartbeat_interval_s. A record of this host is
// checked with kill(pid, 0). A record of another host is believed alive while its heartbeat is
// younger than stale_after_s: on file systems whose locks are node-local (Lustre mounted with
// localflock) the kernel would otherwise let a second node in, and where record locks fail outright
// (ENOLCK, EOPNOTSUPP, ENOSYS: Lustre without flock) it is the only evidence. One exception: a
// record of this very Slurm job (a requeued job keeps its id) is stale, as Slurm never runs two
// instances of a job at once. Another: a record of another Slurm job that Slurm itself reports
// ended (FAILED, CANCELLED, ...) is stale too, so a run resumed on other nodes after a node's ranks
// died need not wait out the heartbeat. A job Slurm no longer knows (purged, another cluster's) is
// no evidence either way.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace esm::dataset {

/// What a lock file says about its holder.
struct lock_record {
  std::string host;
  long pid = 0;
  std::string start_time;    ///< ISO 8601 UTC
  std::string slurm_job_id;  ///< "" outside Slurm
  friend bool operator==(const lock_record&, const lock_record&) = default;
};
[[nodiscard]] std::string format(const lock_record& r);
/// nullopt for an empty or unreadable record (e.g. a crash between create and write).
[[nodiscard]] std::optional<lock_record> parse_lock_record(std::string_view text);

/// The outcome of trying the kernel lock.
enum class kernel_lock { acquired, held_by_other, unsupported };

struct lock_decision {
  bool proceed = false;
  std::string message;  ///< why not (a one-line usage error), or a note about a stale record
};

inline constexpr double heartbeat_interval_s = 10;
inline constexpr double stale_after_s = 300;

/// What a would-be writer observed.
struct lock_observation {
  kernel_lock kernel = kernel_lock::acquired;
  std::optional<lock_record> recorded;  ///< the lock file's record, if any
  std::string this_host;
  std::string this_slurm_job_id;        ///< "" outside Slurm
  bool recorded_pid_alive = false;      ///< kill(pid, 0) here (meaningful on the recorded host only)
  double heartbeat_age_s = 0;           ///< since the lock file was last touched
  std::string recorded_job_state;       ///< Slurm's JobState of the recorded job ("" not asked or unknown)
};

/// True for a Slurm JobState after which none of the job's processes run (COMPLETED, FAILED,
/// CANCELLED, TIMEOUT, NODE_FAIL, PREEMPTED, BOOT_FAIL, DEADLINE, OUT_OF_MEMORY). COMPLETING is
/// not: its processes may still be being killed.
[[nodiscard]] bool slurm_job_ended(std::string_view job_state);

/// Slurm's JobState of job `id` (`scontrol show job -o`), "" when scontrol is missing, fails or
/// does not know the job.
[[nodiscard]] std::string slurm_job_state(const std::string& id);

/// The pure policy above. `lock_path` is named in the advice of a refusal.
[[nodiscard]] lock_decision decide_lock(const lock_observation& seen, std::string_view lock_path);

/// Path of the lock file of a dataset.
[[nodiscard]] std::string lock_path(const std::string& dataset_path);

/// Move-only owner of a held dataset lock. Release (destructor) removes the lock file; a process
/// that dies instead leaves a stale record that the next run takes over.
class run_lock {
 public:
  /// Takes the lock for `dataset_path`, recording `me`. Throws usage_error when a live run holds it.
  [[nodiscard]] static run_lock acquire(const std::string& dataset_path, const lock_record& me);
  run_lock(run_lock&& other) noexcept;
  run_lock& operator=(run_lock&& other) noexcept;
  run_lock(const run_lock&) = delete;
  run_lock& operator=(const run_lock&) = delete;
  ~run_lock();

  /// A note for the log when a stale record was taken over ("" otherwise).
  [[nodiscard]] const std::string& note() const { return note_; }
  /// Marks the holder alive (touches the lock file), at most every heartbeat_interval_s.
  void heartbeat() noexcept;
  void release() noexcept;

 private:
  run_lock(int fd, std::string path, std::string note) : fd_(fd), path_(std::move(path)), note_(std::move(note)) {}
  int fd_ = -1;
  std::string path_;
  std::string note_;
  double last_beat_s_ = 0;
};

/// This machine's host name.
[[nodiscard]] std::string host_name();

}  // namespace esm::dataset
