// Device choice, the shared-GPU check and the CPU split: pure decisions, made-up machines.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "esm/common/error.hpp"
#include "esm/cluster/binding.hpp"

namespace esm::cluster {
namespace {

TEST(ChooseDevice, OneVisibleDeviceIsUsed) {
  EXPECT_EQ(choose_device(1, 0, 1, false), 0);
  EXPECT_EQ(choose_device(1, 3, 4, false), 0);  // Slurm --gpus-per-task: each rank sees its own
}

TEST(ChooseDevice, LocalRankWhenEnoughDevices) {
  EXPECT_EQ(choose_device(4, 0, 4, false), 0);
  EXPECT_EQ(choose_device(4, 3, 4, false), 3);
  EXPECT_EQ(choose_device(8, 2, 4, false), 2);
}

TEST(ChooseDevice, TooFewDevicesIsAnErrorUnlessSharingIsAllowed) {
  EXPECT_THROW((void)choose_device(2, 2, 4, false), usage_error);
  EXPECT_EQ(choose_device(2, 2, 4, true), 0);
  EXPECT_EQ(choose_device(2, 3, 4, true), 1);
}

TEST(ChooseDevice, NoDeviceIsAnError) { EXPECT_THROW((void)choose_device(0, 0, 1, true), usage_error); }

binding gpu(int rank, const std::string& host, const std::string& uuid) {
  binding b;
  b.rank = rank;
  b.host = host;
  b.device = 0;
  b.uuid = uuid;
  return b;
}

TEST(SharedDevice, DistinctUuidsPass) {
  EXPECT_FALSE(find_shared_device({gpu(0, "a", "GPU-1"), gpu(1, "a", "GPU-2"), gpu(2, "b", "GPU-1")}));
}

TEST(SharedDevice, SameUuidOnOneHostIsReported) {
  const auto message = find_shared_device({gpu(0, "a", "GPU-1"), gpu(1, "b", "GPU-9"), gpu(2, "a", "GPU-1")});
  ASSERT_TRUE(message);
  EXPECT_NE(message->find("ranks 0 and 2"), std::string::npos) << *message;
  EXPECT_NE(message->find("GPU-1"), std::string::npos);
}

TEST(SharedDevice, CpuRanksAreIgnored) {
  binding cpu;
  cpu.host = "a";
  EXPECT_FALSE(find_shared_device({cpu, cpu}));
}

// ---- simulated nodes: what CUDA shows each rank, through the injectable device query ----------

/// CUDA as one process sees it: its visible devices in CUDA's order. Records which ordinal was made current.
class fake_cuda final : public backend::device_query {
 public:
  explicit fake_cuda(std::vector<backend::device_identity> devices) : devices_(std::move(devices)) {
    for (std::size_t i = 0; i < devices_.size(); ++i) devices_[i].ordinal = static_cast<int>(i);
  }
  int count() const override { return static_cast<int>(devices_.size()); }
  backend::device_identity select(int ordinal) const override {
    selected = ordinal;
    return devices_.at(static_cast<std::size_t>(ordinal));
  }
  mutable int selected = -1;

 private:
  std::vector<backend::device_identity> devices_;
};

backend::device_identity gpu_id(const std::string& uuid, const std::string& bus, bool mig = false) {
  backend::device_identity d;
  d.name = mig ? "NVIDIA A100-SXM4-40GB MIG 1g.5gb" : "NVIDIA H100 80GB HBM3";
  d.uuid = uuid;
  d.pci_bus_id = bus;
  d.mig = mig;
  return d;
}

/// Binds every rank of `nodes` (host -> one fake_cuda per local rank) as bind_rank does.
std::vector<binding> bind_all(const std::vector<std::pair<std::string, std::vector<fake_cuda>>>& nodes, bool share) {
  std::vector<binding> all;
  for (const auto& [host, ranks] : nodes) {
    for (std::size_t local = 0; local < ranks.size(); ++local) {
      const auto id = select_gpu(ranks[local], static_cast<int>(local), static_cast<int>(ranks.size()), share);
      binding b;
      b.rank = static_cast<int>(all.size());
      b.host = host;
      b.local_rank = static_cast<int>(local);
      b.local_size = static_cast<int>(ranks.size());
      b.device = id.ordinal;
      b.device_name = id.name;
      b.uuid = id.uuid;
      b.pci_bus_id = id.pci_bus_id;
      b.mig = id.mig;
      b.visible_devices = ranks[local].count();
      all.push_back(b);
    }
  }
  return all;
}

TEST(SimulatedNode, SlurmCgroupsShowEveryTaskItsOwnGpuAsDeviceZero) {
  // srun --gpus-per-task=1 with ConstrainDevices=yes: two nodes, two tasks each, each sees one GPU.
  const std::vector<std::pair<std::string, std::vector<fake_cuda>>> nodes{
      {"n1", {fake_cuda({gpu_id("GPU-a0", "0000:17:00.0")}), fake_cuda({gpu_id("GPU-a1", "0000:65:00.0")})}},
      {"n2", {fake_cuda({gpu_id("GPU-b0", "0000:17:00.0")}), fake_cuda({gpu_id("GPU-b1", "0000:65:00.0")})}}};
  const auto all = bind_all(nodes, false);
  EXPECT_FALSE(find_shared_device(all));
  ASSERT_EQ(all.size(), 4u);
  for (const auto& b : all) EXPECT_EQ(b.device, 0);
  // Each rank records its own GPU (the /proc-based binding gave every rank the node's first).
  EXPECT_EQ(all[1].uuid, "GPU-a1");
  EXPECT_EQ(all[1].pci_bus_id, "0000:65:00.0");
  EXPECT_EQ(all[3].uuid, "GPU-b1");
  EXPECT_NE(rank_table(all).find("GPU-b1"), std::string::npos);
}

TEST(SimulatedNode, MigInstancesOfOneGpuAreSeparateDevices) {
  // Two MIG slices of one A100: one bus id, two MIG UUIDs; each task sees its slice as device 0.
  const std::vector<std::pair<std::string, std::vector<fake_cuda>>> nodes{
      {"n1",
       {fake_cuda({gpu_id("MIG-11111111-2222-3333-4444-555555555555", "0000:17:00.0", true)}),
        fake_cuda({gpu_id("MIG-66666666-7777-8888-9999-000000000000", "0000:17:00.0", true)})}}};
  const auto all = bind_all(nodes, false);
  EXPECT_FALSE(find_shared_device(all));
  EXPECT_TRUE(all[0].mig && all[1].mig);
  EXPECT_NE(rank_table(all).find("MIG-66666666-7777-8888-9999-000000000000 MIG"), std::string::npos) << rank_table(all);
}

TEST(SimulatedNode, VisibleDevicesByUuidFollowCudasOrderNotTheBus) {
  // CUDA_VISIBLE_DEVICES=GPU-c,GPU-a on every rank: CUDA numbers them in that order.
  const fake_cuda view({gpu_id("GPU-c", "0000:b1:00.0"), gpu_id("GPU-a", "0000:17:00.0")});
  const std::vector<std::pair<std::string, std::vector<fake_cuda>>> nodes{{"n1", {view, view}}};
  const auto all = bind_all(nodes, false);
  EXPECT_FALSE(find_shared_device(all));
  EXPECT_EQ(all[0].device, 0);
  EXPECT_EQ(all[0].uuid, "GPU-c");
  EXPECT_EQ(all[0].pci_bus_id, "0000:b1:00.0");
  EXPECT_EQ(all[1].device, 1);
  EXPECT_EQ(all[1].uuid, "GPU-a");
}

TEST(SimulatedNode, ATrulySharedGpuIsRefused) {
  // Both tasks shown the same physical GPU (e.g. CUDA_VISIBLE_DEVICES=0 for each, no cgroups).
  const fake_cuda same({gpu_id("GPU-a0", "0000:17:00.0")});
  const std::vector<std::pair<std::string, std::vector<fake_cuda>>> nodes{{"n1", {same, same}}};
  const auto all = bind_all(nodes, false);
  const auto message = find_shared_device(all);
  ASSERT_TRUE(message);
  EXPECT_NE(message->find("ranks 0 and 1 on host n1 share GPU GPU-a0"), std::string::npos) << *message;
}

TEST(SimulatedNode, SameUuidOnTwoHostsIsNotSharing) {
  // Identical UUIDs cannot occur on two hosts, but the check is per host by design.
  const std::vector<std::pair<std::string, std::vector<fake_cuda>>> nodes{
      {"n1", {fake_cuda({gpu_id("GPU-x", "0000:17:00.0")})}}, {"n2", {fake_cuda({gpu_id("GPU-x", "0000:17:00.0")})}}};
  EXPECT_FALSE(find_shared_device(bind_all(nodes, false)));
}

TEST(SimulatedNode, TheSyntheticBackendsQueryShowsItsListInOrder) {
  // run.synthetic_gpus: every rank of a host is shown the same list and takes its local rank's GPU.
  const auto query = backend::make_simulated_device_query({"GPU-a", "MIG-b"});
  ASSERT_EQ(query->count(), 2);
  const auto second = select_gpu(*query, 1, 2, false);
  EXPECT_EQ(second.uuid, "MIG-b");
  EXPECT_TRUE(second.mig);
  EXPECT_NE(second.pci_bus_id, query->select(0).pci_bus_id);
  EXPECT_THROW((void)query->select(2), error);
  EXPECT_THROW((void)select_gpu(*backend::make_simulated_device_query({}), 0, 1, false), usage_error);
}

TEST(SimulatedNode, OnlyTheChosenOrdinalIsMadeCurrent) {
  const fake_cuda four({gpu_id("GPU-0", "a"), gpu_id("GPU-1", "b"), gpu_id("GPU-2", "c"), gpu_id("GPU-3", "d")});
  EXPECT_EQ(select_gpu(four, 2, 4, false).uuid, "GPU-2");
  EXPECT_EQ(four.selected, 2);
  EXPECT_THROW((void)select_gpu(fake_cuda({}), 0, 1, false), usage_error);
  EXPECT_THROW((void)select_gpu(fake_cuda({gpu_id("", "a")}), 0, 1, false), error);
}

TEST(DriverGpus, MissingProcFolderMeansNoExtraInformation) {
  EXPECT_TRUE(driver_gpus("/nonexistent/esm/proc/driver/nvidia/gpus").empty());
}

TEST(DriverGpus, ListsEveryGpuOfTheNodeByBus) {
  const auto root = std::filesystem::temp_directory_path() / ("esm_binding_gpus_" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  for (const auto& [bus, uuid] : {std::pair{"0000:65:00.0", "GPU-b"}, std::pair{"0000:17:00.0", "GPU-a"}}) {
    std::filesystem::create_directories(root / bus);
    std::ofstream(root / bus / "information") << "Model: \t\t NVIDIA H100 80GB HBM3\nGPU UUID: \t " << uuid
                                              << "\nBus Location: \t " << bus << "\n";
  }
  const auto gpus = driver_gpus(root);
  std::filesystem::remove_all(root);
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0].uuid, "GPU-a");
  EXPECT_EQ(gpus[0].pci_bus_id, "0000:17:00.0");
  EXPECT_EQ(gpus[1].name, "NVIDIA H100 80GB HBM3");
}

TEST(PlanCpus, IdenticalSetsAreSplitIntoDisjointSlices) {
  const std::vector<std::vector<int>> allowed(2, {0, 1, 2, 3, 4, 5, 6, 7});
  const auto r0 = plan_cpus(allowed, 0, 0), r1 = plan_cpus(allowed, 1, 0);
  EXPECT_EQ(r0.threads, 4);
  EXPECT_EQ(r0.cpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(r1.cpus, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_TRUE(r1.note.empty());
  const auto explicit_threads = plan_cpus(allowed, 1, 2);
  EXPECT_EQ(explicit_threads.cpus, (std::vector<int>{2, 3}));
}

TEST(PlanCpus, LauncherBindingIsKept) {
  const std::vector<std::vector<int>> allowed{{0, 1}, {2, 3}};
  const auto plan = plan_cpus(allowed, 1, 0);
  EXPECT_TRUE(plan.cpus.empty());  // nothing to change
  EXPECT_EQ(plan.threads, 2);
}

TEST(PlanCpus, OversubscriptionIsNotPinnedAndSaysSo) {
  const std::vector<std::vector<int>> allowed(4, {0, 1});
  const auto plan = plan_cpus(allowed, 3, 0);
  EXPECT_EQ(plan.threads, 1);
  EXPECT_TRUE(plan.cpus.empty());
  EXPECT_FALSE(plan.note.empty());
}

TEST(PlanCpus, PartlyOverlappingSetsAreNotPinned) {
  const std::vector<std::vector<int>> allowed{{0, 1, 2}, {2, 3}};
  const auto plan = plan_cpus(allowed, 0, 0);
  EXPECT_TRUE(plan.cpus.empty());
  EXPECT_FALSE(plan.note.empty());
}

TEST(CpuListText, CompressesRanges) {
  EXPECT_EQ(int_ranges_text({3, 0, 1, 2, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(int_ranges_text({}), "");
  EXPECT_EQ(int_ranges_text({5}), "5");
}

TEST(CpuListText, ParsesBack) {
  EXPECT_EQ(parse_int_ranges("0-3,8,10-11"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_int_ranges(""), std::vector<int>{});
  EXPECT_THROW((void)parse_int_ranges("a-b"), error);
}

TEST(RankTable, OneLinePerRank) {
  binding cpu;
  cpu.rank = 1;
  cpu.host = "node7";
  cpu.threads = 4;
  cpu.cpus = "4-7";
  const auto text = rank_table({gpu(0, "node7", "GPU-abc"), cpu});
  EXPECT_NE(text.find("Rank   0"), std::string::npos) << text;
  EXPECT_NE(text.find("GPU-abc"), std::string::npos);
  EXPECT_NE(text.find("cpu threads 4 cpus 4-7"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

}  // namespace
}  // namespace esm::cluster
