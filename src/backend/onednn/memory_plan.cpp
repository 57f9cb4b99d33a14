// Greedy-by-size arena placement of tensors with known step ranges.
#include "backend/onednn/memory_plan.hpp"

#include <algorithm>
#include <numeric>

namespace esm::backend::onednn {

namespace {

std::size_t align_up(std::size_t bytes, std::size_t alignment) { return (bytes + alignment - 1) / alignment * alignment; }

bool live_together(const buffer_request& a, const buffer_request& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

struct interval {
  std::size_t begin, end;
};

/// Lowest aligned offset where `bytes` fit between the (sorted) occupied intervals.
std::size_t first_fit(std::vector<interval> occupied, std::size_t bytes, std::size_t alignment) {
  std::sort(occupied.begin(), occupied.end(), [](const interval& a, const interval& b) { return a.begin < b.begin; });
  std::size_t offset = 0;
  for (const interval& o : occupied) {
    if (offset + bytes <= o.begin) break;
    offset = std::max(offset, align_up(o.end, alignment));
  }
  return offset;
}

}  // namespace

memory_plan plan_memory(const std::vector<buffer_request>& requests, std::size_t alignment_bytes) {
  std::vector<std::size_t> order(requests.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return requests[a].bytes > requests[b].bytes; });
  memory_plan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<std::size_t> placed;
  for (std::size_t r : order) {
    std::vector<interval> occupied;
    for (std::size_t p : placed) {
      if (live_together(requests[r], requests[p])) {
        occupied.push_back({plan.offsets[p], plan.offsets[p] + requests[p].bytes});
      }
    }
    plan.offsets[r] = first_fit(std::move(occupied), requests[r].bytes, alignment_bytes);
    plan.total_bytes = std::max(plan.total_bytes, align_up(plan.offsets[r] + requests[r].bytes, alignment_bytes));
    placed.push_back(r);
  }
  return plan;
}

}  // namespace esm::backend::onednn
