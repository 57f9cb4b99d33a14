// One rank's measuring of a chunk of the plan: the workloads handed to measure::measure_batch
// (a failing arch recorded, not fatal), the rows its results become, and where chunks come from.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "esm/backend/backend.hpp"
#include "esm/cluster/mpi.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/measure/batch.hpp"
#include "esm/profile/job_config.hpp"
#include "esm/space/space.hpp"

namespace esm::profile {

/// Everything a rank needs to measure, fixed for the run.
struct context {
  const job_config& job;
  const space::search_space& sp;
  const std::vector<dataset::arch_entry>& plan;
  const backend::backend& be;
  backend::compile_options compile;
  measure::workload reference;
  std::int64_t max_samples = 0;
  int run = 0;
  int rank = 0;
  int device = -1;
  cluster::shared_counter* finished = nullptr;   ///< archs final on any rank in this run (progress)
  measure::batch_carry* carry = nullptr;  ///< the drift guard's baseline across this rank's chunks
  std::function<void()> tick;           ///< rank 0: maybe print a progress line
};

/// What a rank hands to the next collective write, plus counters for progress.
struct round_output {
  dataset::batch batch;
  std::int64_t failed = 0;
  std::int64_t remeasures = 0;
};

/// Measures `rows` with one measure_batch call; final results go into `out` as they come. Throws
/// stop_requested when a stop signal cut the chunk short (what was final is in `out`).
void measure_chunk(const std::vector<std::uint64_t>& rows, const context& ctx, round_output& out);

/// Where a rank's next chunk comes from: one measuring group (partition.hpp: draw_groups) per chunk.
class work_source {
 public:
  using group = std::vector<std::uint64_t>;
  /// Static share (LPT over whole groups), in the order to measure.
  explicit work_source(std::vector<group> mine) : groups_(std::move(mine)) {}
  /// Dynamic: the groups of every rank in decreasing cost, each taken whole from a shared counter.
  work_source(std::vector<group> all, cluster::shared_counter& counter) : groups_(std::move(all)), counter_(&counter) {}

  [[nodiscard]] bool has_more() const { return !exhausted_; }

  /// The next group (empty when none is left).
  group next() {
    const auto n = static_cast<std::int64_t>(groups_.size());
    const std::int64_t i = counter_ ? counter_->fetch_add(1) : next_++;
    if (i >= n) {
      exhausted_ = true;
      return {};
    }
    if (!counter_ && next_ >= n) exhausted_ = true;
    return groups_[static_cast<std::size_t>(i)];
  }

 private:
  std::vector<group> groups_;
  cluster::shared_counter* counter_ = nullptr;
  std::int64_t next_ = 0;
  bool exhausted_ = false;
};

}  // namespace esm::profile
