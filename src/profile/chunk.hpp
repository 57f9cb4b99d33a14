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

/// Where a rank's next chunk comes from.
class work_source {
 public:
  /// Static share (LPT), in the order to measure.
  explicit work_source(std::vector<std::uint64_t> mine) : rows_(std::move(mine)) {}
  /// Dynamic: chunks of the cost-ordered list of all pending rows, from a shared counter.
  work_source(std::vector<std::uint64_t> all, cluster::shared_counter& counter) : rows_(std::move(all)), counter_(&counter) {}

  [[nodiscard]] bool has_more() const { return !exhausted_; }

  std::vector<std::uint64_t> next(int chunk) {
    const auto n = static_cast<std::int64_t>(rows_.size());
    std::int64_t first = next_;
    if (counter_) first = counter_->fetch_add(chunk);
    const std::int64_t last = std::min<std::int64_t>(first + chunk, n);
    if (!counter_) next_ = last;
    std::vector<std::uint64_t> out;
    for (std::int64_t i = first; i < last; ++i) out.push_back(rows_[static_cast<std::size_t>(i)]);
    if (out.empty() || (!counter_ && next_ >= n)) exhausted_ = true;
    return out;
  }

 private:
  std::vector<std::uint64_t> rows_;
  cluster::shared_counter* counter_ = nullptr;
  std::int64_t next_ = 0;
  bool exhausted_ = false;
};

}  // namespace esm::profile
