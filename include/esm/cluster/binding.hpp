// Which device and which CPUs each rank uses (nccl-tests habits): local rank from the node's
// shared-memory communicator, one GPU per rank, disjoint CPU sets for CPU backends, a check that
// no two ranks of a host share a GPU, and rank 0's rank -> device table.
//
// The decisions (choose_device, select_gpu, find_shared_device, plan_cpus) are pure and
// unit-tested; the rest gathers facts and applies them. A GPU is identified by CUDA itself, through
// the backend's device_query (no CUDA here: the backends own it), because only CUDA knows what a
// process sees: Slurm's cgroups (ConstrainDevices) show every task its own GPU as device 0,
// CUDA_VISIBLE_DEVICES may name UUIDs or MIG instances, and CUDA orders devices fastest first.
// /proc/driver/nvidia is extra information only (how many GPUs the node has).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "esm/backend/backend.hpp"
#include "esm/common/int_ranges.hpp"

namespace esm::cluster {

class communicator;

/// A GPU as the driver's /proc files describe it (every GPU of the node, whatever the cgroup shows).
struct device_info {
  std::string name;        ///< "NVIDIA H100 80GB HBM3"
  std::string uuid;        ///< "GPU-8c1f..."
  std::string pci_bus_id;  ///< "0000:17:00.0"
};

/// The device for a rank: the only visible one; else the local rank when there are enough;
/// else, with `allow_sharing`, local_rank % visible. Throws usage_error otherwise (and for 0 devices).
[[nodiscard]] int choose_device(int visible_devices, int local_rank, int local_size, bool allow_sharing);

/// Chooses this rank's ordinal among the `query.count()` devices CUDA shows it (choose_device),
/// makes it current and returns CUDA's identity of it. Throws usage_error for no device / too few.
[[nodiscard]] backend::device_identity select_gpu(const backend::device_query& query, int local_rank, int local_size,
                                                  bool allow_sharing);

/// Where one rank runs (gathered from every rank after binding).
struct binding {
  int rank = 0;
  int local_rank = 0;
  int local_size = 1;
  long pid = 0;
  std::string host;
  int device = -1;  ///< CUDA ordinal in this rank's process; -1: CPU
  std::string device_name;
  std::string uuid;        ///< CUDA's: "GPU-..." or "MIG-..."
  std::string pci_bus_id;  ///< CUDA's (a MIG instance: its parent GPU's)
  bool mig = false;
  int visible_devices = 0;  ///< devices CUDA shows this rank
  int node_gpus = -1;       ///< GPUs /proc/driver/nvidia lists on the host; -1 without it
  int threads = 0;   ///< CPU threads for the backend (0 on GPU: the backend decides)
  std::string cpus;  ///< pinned CPU list, "" if not pinned
};

/// Two ranks on one host bound to the same UUID: "ranks 0 and 2 on host h share GPU-..."; nullopt
/// when every (host, uuid) pair is unique. CUDA ordinals and bus ids are not compared: every rank
/// may see its GPU as device 0, and MIG instances of one GPU share its bus id while being separate
/// devices. Empty UUIDs (CPU) are ignored.
[[nodiscard]] std::optional<std::string> find_shared_device(const std::vector<binding>& all);

/// nccl-tests style table, one line per rank, for rank 0 to print.
[[nodiscard]] std::string rank_table(const std::vector<binding>& all);

/// CPU budget of one rank.
struct cpu_plan {
  std::vector<int> cpus;  ///< CPUs to pin to (empty: leave the affinity alone)
  int threads = 1;
  std::string note;       ///< a warning worth printing ("" when none)
};

/// Splits the CPUs among the ranks of a node. `allowed` holds each local rank's current affinity.
///  - the launcher already gave the ranks disjoint sets: keep them, threads = set size (or the
///    requested count, if smaller);
///  - all ranks see the same set: rank r gets the r-th slice of `threads_per_rank` CPUs
///    (0: set size / ranks, at least 1);
///  - not enough CPUs for disjoint slices, or sets that overlap partly: no pinning, and a note.
[[nodiscard]] cpu_plan plan_cpus(const std::vector<std::vector<int>>& allowed, int local_rank, int threads_per_rank);

/// This process's CPU affinity (sched_getaffinity).
[[nodiscard]] std::vector<int> current_cpus();
/// Pins this process (and the threads it creates later) to `cpus` (sched_setaffinity).
void pin_to(const std::vector<int>& cpus);

/// Every GPU the driver lists under `root` (one folder per GPU with an "information" file), sorted
/// by bus id. Empty when the folder is missing (no driver, a container without /proc/driver).
/// Not what a process may use: cgroups and CUDA_VISIBLE_DEVICES decide that (select_gpu).
[[nodiscard]] std::vector<device_info> driver_gpus(const std::filesystem::path& root = "/proc/driver/nvidia/gpus");

}  // namespace esm::cluster
