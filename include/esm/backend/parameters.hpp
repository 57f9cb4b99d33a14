// Deterministic weights and inputs shared by every backend, so that the reference executor,
// oneDNN and cuDNN compute the same function and their outputs can be compared.
//
// Weights are random uniform with the variance of He / LeCun initialisation (so activations keep
// their magnitude through deep networks; uniform because it is cheap to draw), batch-norm statistics random, and BN is already folded: a conv/fc layer gets one
// weight tensor (OIHW, grouped: O x I/groups x K x K) and one bias vector (zeros where the layer
// has neither bias nor BN); a standalone batch_norm layer gets a per-channel scale and shift.
#pragma once

#include <cstdint>
#include <vector>

#include "esm/net/network.hpp"

namespace esm::backend {

struct layer_parameters {
  std::vector<float> weight;  ///< conv: OIHW; fc: K x C; batch_norm: scale per channel
  std::vector<float> bias;    ///< conv/fc: per output channel; batch_norm: shift per channel
};

/// One entry per layer (empty for layers without parameters). Depends only on the layer's
/// shapes, its index and the seed.
[[nodiscard]] std::vector<layer_parameters> make_parameters(const net::network& net, std::uint64_t seed);

/// The network input, N x 3 x R x R, standard normal.
[[nodiscard]] std::vector<float> make_input(const net::network& net, std::uint64_t seed);

/// Batch-norm epsilon used when folding (PyTorch's default).
inline constexpr double batch_norm_epsilon = 1e-5;

}  // namespace esm::backend
