// What a profile run prints: rank 0's progress lines, the opening and closing lines, and the
// --timings lines (phase times, collective writes, CPU time, peak memory) gathered over the ranks.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "esm/cluster/mpi.hpp"
#include "esm/dataset/dataset.hpp"

namespace esm::profile {

using steady = std::chrono::steady_clock;

[[nodiscard]] double seconds_since(steady::time_point start);

/// "42s", "3m07s", "2h05m"; "?" for a negative or non-finite duration.
[[nodiscard]] std::string duration_text(double s);

/// Wall times of the phases whose cost grows with the rank count or the plan, not with the archs a
/// rank measures (esm profile --timings; docs/performance.md#scaling-to-hundreds-of-ranks).
struct phase_timings {
  double plan_s = 0;         ///< rank 0: sampling the plan, building each network for its MACs
  double inspect_s = 0;      ///< rank 0: the run lock and reading a dataset to resume
  double broadcast_s = 0;    ///< this rank: encoding (rank 0) and receiving rank 0's decisions
  double decode_s = 0;       ///< this rank: decoding them (the plan's entries)
  std::uint64_t broadcast_bytes = 0;
  double bind_s = 0;         ///< this rank: binding (rank table gathered)
  double create_s = 0;       ///< creating the file (rank 0 builds it)
  double open_s = 0;         ///< this rank: the collective open for writing
  double round_wait_s = 0;   ///< this rank: waiting at round ends for the others (their chunk in flight)
};

/// Rank 0's progress lines: rewritten in place on a terminal, one line each otherwise.
class progress_printer {
 public:
  progress_printer(std::int64_t total, std::int64_t done_before, double interval_s);

  /// `finished`: rows done before this run + rows final on any rank now (the shared counter);
  /// `written`: rows flushed to the file; `failed`, `remeasures`: this run's, as written.
  void update(std::int64_t finished, std::int64_t written, std::int64_t failed, std::int64_t remeasures, bool force);
  void finish_line();

 private:
  std::int64_t total_;
  std::int64_t done_before_;
  double interval_s_;
  bool tty_;
  bool open_line_ = false;
  steady::time_point start_ = steady::now();
  double last_ = -1e300;
  std::int64_t last_finished_ = -1;
  std::int64_t last_written_ = -1;
};

/// Collective: the --timings lines, printed by rank 0. A collective write costs what its slowest
/// rank spent in it, so each write and flush is taken at its maximum over the ranks.
void print_timings(const cluster::communicator& world, const phase_timings& t, const dataset::io_stats& io);

}  // namespace esm::profile
