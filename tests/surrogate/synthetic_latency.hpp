// A noise-free synthetic latency function of a one-hot-ish design, shared by the surrogate tests
// and bench/surrogate_throughput.cpp: `blocks` blocks with `ops` choices each (one-hot, so
// blocks * ops features), a depth that switches trailing blocks off (all-zero one-hot), and
// latency = base + sum of the active blocks' op costs + two interaction terms. Positive by
// construction; deterministic in the seed (esm::rng only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "esm/common/random.hpp"
#include "esm/surrogate/matrix.hpp"

namespace esm::surrogate::testing {

struct synthetic_data {
  matrix x;
  std::vector<double> y_ms;
  std::vector<int> depth;  ///< active blocks per row (the stratification label)
};

struct synthetic_design {
  std::size_t blocks = 20;
  std::size_t ops = 5;
  std::size_t min_depth = 4;
  std::uint64_t cost_seed = 7;  ///< fixes the function; the row seed varies the sample
};

inline synthetic_data make_synthetic(std::size_t rows, std::uint64_t seed, const synthetic_design& d = {}) {
  rng costs(d.cost_seed);
  std::vector<double> cost(d.blocks * d.ops);
  for (auto& c : cost) c = 0.2 + 0.8 * costs.uniform01();  // ms per block and op

  rng r(seed);
  synthetic_data out{matrix(rows, d.blocks * d.ops), std::vector<double>(rows), std::vector<int>(rows)};
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t depth = d.min_depth + r.uniform_index(d.blocks - d.min_depth + 1);
    std::vector<std::size_t> op(d.blocks);
    double latency = 0.5;
    for (std::size_t b = 0; b < depth; ++b) {
      op[b] = r.uniform_index(d.ops);
      out.x(i, b * d.ops + op[b]) = 1.0;
      latency += cost[b * d.ops + op[b]];
    }
    // Interactions: the last op in both of the first two blocks, and op 0 then op 3 in blocks 2, 3.
    if (op[0] == d.ops - 1 && op[1] == d.ops - 1) latency += 0.8;
    if (op[2] == 0 && op[3] == 3) latency += 0.5;
    out.y_ms[i] = latency;
    out.depth[i] = static_cast<int>(depth);
  }
  return out;
}

}  // namespace esm::surrogate::testing
