// Places the activation tensors of a compiled network in one arena, reusing the bytes of
// tensors that are no longer live (as deployment runtimes do), so memory and cache footprint
// match a real inference and large batches of deep networks fit.
#pragma once

#include <cstddef>
#include <vector>

namespace esm::backend::onednn {

struct buffer_request {
  std::size_t bytes = 0;
  int first_step = 0;  ///< first step that writes or reads the tensor
  int last_step = 0;   ///< last step that reads or writes it (inclusive)
};

struct memory_plan {
  std::vector<std::size_t> offsets;  ///< one per request, multiples of the alignment
  std::size_t total_bytes = 0;
};

/// Greedy by size: largest tensors first, each at the lowest aligned offset that overlaps no
/// already placed tensor whose step range intersects its own. Pure and deterministic.
[[nodiscard]] memory_plan plan_memory(const std::vector<buffer_request>& requests, std::size_t alignment_bytes = 64);

}  // namespace esm::backend::onednn
