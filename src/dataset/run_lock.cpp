// The dataset's single-writer lock (design: include/esm/dataset/run_lock.hpp).
#include "esm/dataset/run_lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sstream>
#include <utility>

#include "esm/common/error.hpp"

namespace esm::dataset {

std::string format(const lock_record& r) {
  return "host=" + r.host + "\npid=" + std::to_string(r.pid) + "\nstart_time=" + r.start_time +
         "\nslurm_job_id=" + r.slurm_job_id + "\n";
}

std::optional<lock_record> parse_lock_record(std::string_view text) {
  lock_record r;
  bool has_host = false, has_pid = false;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "host") {
      r.host = value;
      has_host = !value.empty();
    } else if (key == "pid") {
      try {
        std::size_t used = 0;
        r.pid = std::stol(value, &used);
        has_pid = used == value.size() && r.pid > 0;
      } catch (const std::exception&) {
        has_pid = false;
      }
    } else if (key == "start_time") {
      r.start_time = value;
    } else if (key == "slurm_job_id") {
      r.slurm_job_id = value;
    }
  }
  if (!has_host || !has_pid) return std::nullopt;
  return r;
}

namespace {

std::string describe(const lock_record& r) {
  std::string text = "host " + r.host + " pid " + std::to_string(r.pid);
  if (!r.start_time.empty()) text += " since " + r.start_time;
  if (!r.slurm_job_id.empty()) text += ", Slurm job " + r.slurm_job_id;
  return text;
}

}  // namespace

lock_decision decide_lock(const lock_observation& seen, std::string_view lock_file) {
  const std::string busy = "the dataset is being written by another run";
  const auto& recorded = seen.recorded;
  if (seen.kernel == kernel_lock::held_by_other) {
    return {false, busy + (recorded ? " (" + describe(*recorded) + ")" : std::string()) +
                       "; wait for it to finish or stop it, then use --resume"};
  }
  if (!recorded) return {true, {}};
  const std::string stale = "taking over the lock of a run that ended without releasing it (" + describe(*recorded) + ")";
  if (recorded->host == seen.this_host) {
    // Here the kernel lock is authoritative (a live pid is then a reused one); without it, the pid is.
    if (seen.kernel == kernel_lock::unsupported && seen.recorded_pid_alive) {
      return {false, busy + " (" + describe(*recorded) + ")"};
    }
    return {true, stale};
  }
  if (!recorded->slurm_job_id.empty() && recorded->slurm_job_id == seen.this_slurm_job_id) return {true, stale};
  if (seen.heartbeat_age_s >= stale_after_s) return {true, stale};
  if (!recorded->slurm_job_id.empty() && slurm_job_ended(seen.recorded_job_state)) {
    return {true, stale + "; Slurm reports job " + recorded->slurm_job_id + " " + seen.recorded_job_state};
  }
  char age[32];
  std::snprintf(age, sizeof age, "%.0f", seen.heartbeat_age_s);
  return {false, busy + " on another host, or one that died there less than " +
                     std::to_string(static_cast<int>(stale_after_s)) + " s ago (" + describe(*recorded) +
                     ", last heartbeat " + age + " s ago); esm cannot check a process on another host: wait, or if " +
                     "that run is gone, delete " + std::string(lock_file)};
}

bool slurm_job_ended(std::string_view job_state) {
  for (const std::string_view ended : {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                                       "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY"}) {
    if (job_state == ended) return true;
  }
  return false;
}

std::string slurm_job_state(const std::string& id) {
  if (id.empty() || id.find_first_not_of("0123456789_") != std::string::npos) return "";  // never into a shell
  FILE* pipe = ::popen(("scontrol show job -o " + id + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return "";
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr && text.size() < 65536) text += buf;
  if (::pclose(pipe) != 0) return "";
  const auto at = text.find(" JobState=");
  if (at == std::string::npos || text.find("JobId=" + id + " ") == std::string::npos) return "";
  const auto from = at + 10;
  return text.substr(from, text.find_first_of(" \n", from) - from);
}

std::string lock_path(const std::string& dataset_path) { return dataset_path + ".lock"; }

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown-host";
  return name;
}

namespace {

std::string read_all(int fd) {
  std::string text;
  char buf[512];
  ::lseek(fd, 0, SEEK_SET);
  for (;;) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got <= 0) break;
    text.append(buf, static_cast<std::size_t>(got));
    if (text.size() > 4096) break;
  }
  return text;
}

bool pid_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

}  // namespace

run_lock run_lock::acquire(const std::string& dataset_path, const lock_record& me) {
  const std::string path = lock_path(dataset_path);
  // Loop until the locked file is the one at `path`: a releasing holder unlinks it, and locking
  // an unlinked inode would let two writers in.
  for (int attempt = 0; attempt < 10; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw usage_error("cannot create the lock file '" + path + "': " + std::strerror(errno));
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    kernel_lock kernel = kernel_lock::acquired;
    if (::fcntl(fd, F_SETLK, &fl) != 0) {
      const int err = errno;
      kernel = (err == EACCES || err == EAGAIN) ? kernel_lock::held_by_other : kernel_lock::unsupported;
    }
    struct stat by_fd {}, by_path {};
    if (kernel == kernel_lock::acquired &&
        (::fstat(fd, &by_fd) != 0 || ::stat(path.c_str(), &by_path) != 0 || by_fd.st_ino != by_path.st_ino ||
         by_fd.st_dev != by_path.st_dev)) {
      ::close(fd);
      continue;
    }
    lock_observation seen;
    seen.kernel = kernel;
    seen.recorded = parse_lock_record(read_all(fd));
    seen.this_host = host_name();
    seen.this_slurm_job_id = me.slurm_job_id;
    seen.recorded_pid_alive = seen.recorded && pid_alive(seen.recorded->pid);
    struct stat info {};
    seen.heartbeat_age_s = ::fstat(fd, &info) == 0 ? std::difftime(std::time(nullptr), info.st_mtime) : 0.0;
    // Slurm is asked only where its answer can matter: another host's record of another job whose
    // heartbeat is still fresh.
    if (kernel != kernel_lock::held_by_other && seen.recorded && seen.recorded->host != seen.this_host &&
        !seen.recorded->slurm_job_id.empty() && seen.recorded->slurm_job_id != me.slurm_job_id &&
        seen.heartbeat_age_s < stale_after_s) {
      seen.recorded_job_state = slurm_job_state(seen.recorded->slurm_job_id);
    }
    const auto decision = decide_lock(seen, path);
    if (!decision.proceed) {
      ::close(fd);
      throw usage_error(decision.message);
    }
    const std::string text = format(me);
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      const int err = errno;
      ::close(fd);
      throw error("cannot write the lock file '" + path + "': " + std::strerror(err));
    }
    ::fsync(fd);
    return run_lock(fd, path, decision.message);
  }
  throw error("could not take the lock file '" + path + "': it keeps being replaced");
}

run_lock::run_lock(run_lock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      note_(std::move(other.note_)),
      last_beat_s_(other.last_beat_s_) {}

void run_lock::heartbeat() noexcept {
  const double now = static_cast<double>(std::time(nullptr));
  if (fd_ < 0 || now - last_beat_s_ < heartbeat_interval_s) return;
  last_beat_s_ = now;
  ::futimens(fd_, nullptr);
}

run_lock& run_lock::operator=(run_lock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    note_ = std::move(other.note_);
    last_beat_s_ = other.last_beat_s_;
  }
  return *this;
}

run_lock::~run_lock() { release(); }

void run_lock::release() noexcept {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still holding the lock: a waiting writer re-checks the inode
  ::close(std::exchange(fd_, -1));
}

}  // namespace esm::dataset
