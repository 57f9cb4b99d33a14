// Rank -> device / CPU binding: the pure decisions and the Linux facts they are fed with.
#include "esm/cluster/binding.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "esm/common/error.hpp"

namespace esm::cluster {

int choose_device(int visible_devices, int local_rank, int local_size, bool allow_sharing) {
  if (visible_devices <= 0) throw usage_error("no GPU is visible to this rank (check CUDA_VISIBLE_DEVICES)");
  // One visible device: Slurm's --gpus-per-task layout gives each rank its own (the UUID check
  // catches ranks that were all shown the same one).
  if (visible_devices == 1) return 0;
  if (local_rank < visible_devices) return local_rank;
  if (allow_sharing) return local_rank % visible_devices;
  throw usage_error(std::to_string(local_size) + " ranks on this host but only " + std::to_string(visible_devices) +
                    " GPUs visible: start fewer ranks per node or set backend.share_devices = true");
}

backend::device_identity select_gpu(const backend::device_query& query, int local_rank, int local_size,
                                    bool allow_sharing) {
  const int ordinal = choose_device(query.count(), local_rank, local_size, allow_sharing);
  auto id = query.select(ordinal);
  if (id.uuid.empty()) throw error("CUDA device " + std::to_string(ordinal) + " reported no UUID");
  return id;
}

std::optional<std::string> find_shared_device(const std::vector<binding>& all) {
  std::map<std::pair<std::string, std::string>, int> owner;
  for (const auto& b : all) {
    if (b.uuid.empty()) continue;
    const auto [it, fresh] = owner.emplace(std::make_pair(b.host, b.uuid), b.rank);
    if (!fresh) {
      return "ranks " + std::to_string(it->second) + " and " + std::to_string(b.rank) + " on host " + b.host +
             " share GPU " + b.uuid + " (their timings would disturb each other); give each rank its own GPU or set "
             "backend.share_devices = true";
    }
  }
  return std::nullopt;
}

std::string rank_table(const std::vector<binding>& all) {
  std::string text;
  char line[512];
  for (const auto& b : all) {
    std::snprintf(line, sizeof line, "#  Rank %3d Pid %7ld on %-16s local %d/%d ", b.rank, b.pid, b.host.c_str(),
                  b.local_rank, b.local_size);
    text += line;
    if (b.device >= 0) {
      const std::string seen = b.node_gpus >= 0 ? std::to_string(b.visible_devices) + " of " +
                                                      std::to_string(b.node_gpus) + " on the node"
                                                : std::to_string(b.visible_devices) + " visible";
      std::snprintf(line, sizeof line, "device %2d [%s] %s %s%s (%s)\n", b.device, b.pci_bus_id.c_str(),
                    b.device_name.c_str(), b.uuid.c_str(), b.mig ? " MIG" : "", seen.c_str());
    } else {
      std::snprintf(line, sizeof line, "cpu threads %d cpus %s\n", b.threads, b.cpus.empty() ? "(not pinned)" : b.cpus.c_str());
    }
    text += line;
  }
  return text;
}

cpu_plan plan_cpus(const std::vector<std::vector<int>>& allowed, int local_rank, int threads_per_rank) {
  if (threads_per_rank < 0) throw usage_error("backend.threads must be >= 0");
  const auto& mine = allowed.at(static_cast<std::size_t>(local_rank));
  const int ranks = static_cast<int>(allowed.size());
  cpu_plan plan;

  bool identical = true, disjoint = true;
  std::set<int> seen;
  for (const auto& set : allowed) {
    if (set != allowed.front()) identical = false;
    for (const int cpu : set) {
      if (!seen.insert(cpu).second) disjoint = false;
    }
  }
  if (ranks == 1) disjoint = true;

  if (disjoint) {  // the launcher (or a single rank) already decided
    const int have = static_cast<int>(mine.size());
    plan.threads = threads_per_rank > 0 ? threads_per_rank : std::max(have, 1);
    if (threads_per_rank > have) {
      plan.note = "backend.threads = " + std::to_string(threads_per_rank) + " but this rank may use " +
                  std::to_string(have) + " CPUs: threads will share cores";
    }
    return plan;  // keep the affinity as it is
  }
  if (identical) {
    const int total = static_cast<int>(mine.size());
    plan.threads = threads_per_rank > 0 ? threads_per_rank : std::max(total / ranks, 1);
    if (plan.threads * ranks <= total) {
      std::vector<int> sorted = mine;
      std::sort(sorted.begin(), sorted.end());
      const auto first = sorted.begin() + static_cast<std::ptrdiff_t>(local_rank * plan.threads);
      plan.cpus.assign(first, first + plan.threads);
    } else {
      plan.note = std::to_string(ranks) + " ranks x " + std::to_string(plan.threads) + " threads exceed the " +
                  std::to_string(total) + " CPUs of this host: not pinning; timings will disturb each other";
    }
    return plan;
  }
  plan.threads = threads_per_rank > 0 ? threads_per_rank : std::max(static_cast<int>(mine.size()) / ranks, 1);
  plan.note = "the ranks of this host have partly overlapping CPU sets (launcher binding?): not pinning";
  return plan;
}

std::vector<int> current_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) throw error("sched_getaffinity failed");
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

void pin_to(const std::vector<int>& cpus) {
  if (cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (const int cpu : cpus) CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) throw error("sched_setaffinity to CPUs " + int_ranges_text(cpus) + " failed");
}

namespace {

std::string field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      auto value = line.substr(line.find(':') + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t\r") + 1);
      return value;
    }
  }
  return {};
}

}  // namespace

std::vector<device_info> driver_gpus(const std::filesystem::path& root) {
  // <root>/<bus id>/information: "Model:", "GPU UUID:", "Bus Location:".
  std::vector<device_info> all;
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) return all;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    std::ifstream in(entry.path() / "information");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    device_info d;
    d.name = field(text, "Model");
    d.uuid = field(text, "GPU UUID");
    d.pci_bus_id = field(text, "Bus Location");
    if (!d.uuid.empty()) all.push_back(std::move(d));
  }
  std::sort(all.begin(), all.end(), [](const device_info& a, const device_info& b) { return a.pci_bus_id < b.pci_bus_id; });
  return all;
}

}  // namespace esm::cluster
