// The interleaving schedule.
#include "esm/measure/interleave.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "esm/common/error.hpp"

namespace esm::measure {
namespace {

constexpr int ref = burst::reference;

std::vector<std::pair<int, int>> pairs(const std::vector<burst>& s) {
  std::vector<std::pair<int, int>> out;
  for (const auto& b : s) out.emplace_back(b.workload, b.reps);
  return out;
}

TEST(InterleaveSchedule, RoundRobinBurstsWithReferenceBurstsAndARemainderRound) {
  // 25 reps in bursts of 10: rounds of 10, 10, 5.
  const auto s = interleave_schedule(3, 25, 10, 7);
  const std::vector<std::pair<int, int>> expected{
      {ref, 7}, {0, 10}, {1, 10}, {2, 10}, {ref, 7},  //
      {0, 10}, {1, 10}, {2, 10}, {ref, 7},            //
      {0, 5}, {1, 5}, {2, 5}, {ref, 7}};
  EXPECT_EQ(pairs(s), expected);
}

TEST(InterleaveSchedule, EveryArchGetsExactlyR) {
  for (int reps : {1, 9, 10, 11, 150}) {
    const auto s = interleave_schedule(4, reps, 10, 10);
    std::vector<int> total(4, 0);
    int reference_bursts = 0;
    for (const auto& b : s) {
      if (b.workload == ref) {
        ++reference_bursts;
      } else {
        total[static_cast<std::size_t>(b.workload)] += b.reps;
      }
    }
    EXPECT_EQ(total, std::vector<int>(4, reps)) << "reps " << reps;
    EXPECT_EQ(reference_bursts, (reps + 9) / 10 + 1) << "reps " << reps;
  }
}

TEST(InterleaveSchedule, SingleArchAlternatesWithTheReference) {
  const std::vector<std::pair<int, int>> expected{{ref, 2}, {0, 3}, {ref, 2}, {0, 3}, {ref, 2}};
  EXPECT_EQ(pairs(interleave_schedule(1, 6, 3, 2)), expected);
}

TEST(InterleaveSchedule, RejectsEmptyGroupsAndZeroCounts) {
  EXPECT_THROW((void)interleave_schedule(0, 10, 10, 10), esm::error);
  EXPECT_THROW((void)interleave_schedule(2, 0, 10, 10), esm::error);
  EXPECT_THROW((void)interleave_schedule(2, 10, 0, 10), esm::error);
  EXPECT_THROW((void)interleave_schedule(2, 10, 10, 0), esm::error);
}

}  // namespace
}  // namespace esm::measure
