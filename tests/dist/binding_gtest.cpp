// Device choice, the shared-GPU check and the CPU split: pure decisions, made-up machines.
#include <gtest/gtest.h>

#include "esm/common/error.hpp"
#include "esm/dist/binding.hpp"

namespace esm::dist {
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
  EXPECT_EQ(cpu_list_text({3, 0, 1, 2, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(cpu_list_text({}), "");
  EXPECT_EQ(cpu_list_text({5}), "5");
}

TEST(CpuListText, ParsesBack) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list(""), std::vector<int>{});
  EXPECT_THROW((void)parse_cpu_list("a-b"), error);
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
}  // namespace esm::dist
