// The single-writer lock: the pure policy, and the real lock held by another process.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "esm/common/error.hpp"
#include "esm/dataset/run_lock.hpp"

namespace esm::dataset {
namespace {

const lock_record other{"node12", 4242, "2026-11-27T10:00:00Z", "777"};

TEST(LockRecord, RoundTrips) {
  EXPECT_EQ(parse_lock_record(format(other)), other);
  EXPECT_FALSE(parse_lock_record(""));
  EXPECT_FALSE(parse_lock_record("host=x\npid=abc\n"));
  EXPECT_FALSE(parse_lock_record("garbage"));
}

lock_observation seen(kernel_lock kernel, std::optional<lock_record> recorded, const std::string& host,
                      bool alive = false, double age_s = 0, const std::string& slurm_job = "") {
  return {kernel, std::move(recorded), host, slurm_job, alive, age_s, ""};
}

TEST(DecideLock, KernelLockHeldMeansAnotherLiveRun) {
  const auto d = decide_lock(seen(kernel_lock::held_by_other, other, "node1", false, 1e9), "x.lock");
  EXPECT_FALSE(d.proceed);
  EXPECT_NE(d.message.find("node12"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("4242"), std::string::npos);
}

TEST(DecideLock, NoRecordMeansFree) {
  EXPECT_TRUE(decide_lock(seen(kernel_lock::acquired, std::nullopt, "node1"), "x.lock").proceed);
  EXPECT_TRUE(decide_lock(seen(kernel_lock::unsupported, std::nullopt, "node1"), "x.lock").proceed);
}

TEST(DecideLock, OnThisHostTheKernelLockOrElseThePidDecides) {
  const auto taken = decide_lock(seen(kernel_lock::acquired, other, "node12", true), "x.lock");
  EXPECT_TRUE(taken.proceed);  // the kernel is the authority here: a live pid is a reused one
  EXPECT_NE(taken.message.find("taking over"), std::string::npos);
  EXPECT_FALSE(decide_lock(seen(kernel_lock::unsupported, other, "node12", true), "x.lock").proceed);
  EXPECT_TRUE(decide_lock(seen(kernel_lock::unsupported, other, "node12", false), "x.lock").proceed);
}

TEST(DecideLock, AnotherHostsRecordIsBelievedUntilItsHeartbeatIsStale) {
  for (const auto kernel : {kernel_lock::acquired, kernel_lock::unsupported}) {
    const auto fresh = decide_lock(seen(kernel, other, "node1", false, 20), "x.lock");
    EXPECT_FALSE(fresh.proceed);
    EXPECT_NE(fresh.message.find("delete x.lock"), std::string::npos) << fresh.message;
    EXPECT_NE(fresh.message.find("20 s ago"), std::string::npos) << fresh.message;
    EXPECT_TRUE(decide_lock(seen(kernel, other, "node1", false, stale_after_s + 1), "x.lock").proceed);
  }
}

TEST(DecideLock, ARequeuedSlurmJobTakesOverItsOwnRecordAtOnce) {
  EXPECT_TRUE(decide_lock(seen(kernel_lock::acquired, other, "node1", false, 5, "777"), "x.lock").proceed);
  EXPECT_FALSE(decide_lock(seen(kernel_lock::acquired, other, "node1", false, 5, "778"), "x.lock").proceed);
}

TEST(DecideLock, AnotherHostsRecordOfAnEndedSlurmJobIsStaleAtOnce) {
  auto s = seen(kernel_lock::acquired, other, "node1", false, 5, "778");
  s.recorded_job_state = "FAILED";
  const auto d = decide_lock(s, "x.lock");
  EXPECT_TRUE(d.proceed);
  EXPECT_NE(d.message.find("Slurm reports job 777 FAILED"), std::string::npos) << d.message;
  for (const char* state : {"RUNNING", "COMPLETING", "PENDING", "SUSPENDED", ""}) {
    s.recorded_job_state = state;
    EXPECT_FALSE(decide_lock(s, "x.lock").proceed) << state;
  }
  s.kernel = kernel_lock::held_by_other;  // the kernel's word wins
  s.recorded_job_state = "CANCELLED";
  EXPECT_FALSE(decide_lock(s, "x.lock").proceed);
}

TEST(RunLock, SecondWriterIsRefusedAndADeadHoldersLockIsTakenOver) {
  const auto dir = std::filesystem::temp_directory_path() / ("esm_lock_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string dataset = (dir / "d.h5").string();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // holds the lock until killed, as a run killed with SIGKILL would
    try {
      auto held = run_lock::acquire(dataset, {host_name(), static_cast<long>(::getpid()), "t0", ""});
      (void)!::write(ready[1], "x", 1);
      for (;;) ::pause();
    } catch (...) {
      ::_exit(3);
    }
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);

  try {
    (void)run_lock::acquire(dataset, {host_name(), static_cast<long>(::getpid()), "t1", ""});
    ADD_FAILURE() << "second writer was not refused";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(child)), std::string::npos) << e.what();
  }

  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  {
    auto taken = run_lock::acquire(dataset, {host_name(), static_cast<long>(::getpid()), "t2", ""});
    EXPECT_NE(taken.note().find(std::to_string(child)), std::string::npos) << taken.note();
    EXPECT_TRUE(std::filesystem::exists(lock_path(dataset)));
  }
  EXPECT_FALSE(std::filesystem::exists(lock_path(dataset)));  // a clean release removes the file
  ::close(ready[0]);
  ::close(ready[1]);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace esm::dataset
