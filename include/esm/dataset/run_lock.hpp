// One writer per dataset: a lock file beside the dataset, held with a POSIX record lock (fcntl).
//
// Why this design: the kernel (or the cluster file system's lock manager) drops an fcntl lock when
// its process dies, however it dies, so a run killed with SIGKILL never blocks --resume; the file's
// text (host, pid, start time, Slurm job) names the holder in the refusal message. HDF5's own
// flock-based locking cannot serve: the MPI-IO driver does not take it and it is off or unsupported
// on many parallel file systems. Where the file system refuses record locks (ENOLCK, EOPNOTSUPP,
// ENOSYS: e.g. Lustre mounted without flock), the record decides: a holder on this host is checked
// with kill(pid, 0); a holder on another host cannot be checked, so the run is refused with the
// lock file's path to delete by hand. Only rank 0 takes the lock; the others learn the verdict.
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

/// The pure policy above: whether to proceed given the kernel's answer, the record found in the
/// lock file, this host's name and whether the recorded pid is alive here.
[[nodiscard]] lock_decision decide_lock(kernel_lock kernel, const std::optional<lock_record>& recorded,
                                        std::string_view this_host, bool recorded_pid_alive,
                                        std::string_view lock_path);

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
  void release() noexcept;

 private:
  run_lock(int fd, std::string path, std::string note) : fd_(fd), path_(std::move(path)), note_(std::move(note)) {}
  int fd_ = -1;
  std::string path_;
  std::string note_;
};

/// This machine's host name.
[[nodiscard]] std::string host_name();

}  // namespace esm::dataset
