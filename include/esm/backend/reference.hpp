// The reference executor: the network IR evaluated with plain loops in double precision.
// It is the correctness oracle for the oneDNN and cuDNN backends (tests and tools/gpu-check/gpu-check.sh)
// and is also registered as the (slow) backend "reference".
#pragma once

#include <vector>

#include "esm/backend/parameters.hpp"
#include "esm/net/network.hpp"

namespace esm::backend {

/// Forward pass of `net` (BN-folded `params` from make_parameters, `input` from make_input).
/// Returns the logits, N x K row-major.
[[nodiscard]] std::vector<double> reference_forward(const net::network& net, const std::vector<layer_parameters>& params,
                                                    const std::vector<float>& input);

}  // namespace esm::backend
