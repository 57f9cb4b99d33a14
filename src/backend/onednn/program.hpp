// A network lowered to oneDNN: primitives in execution order and the tensors they exchange.
// Lowering decides every primitive, memory format and reorder; binding (the executable) only
// places the tensors in memory.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <string>
#include <unordered_map>
#include <vector>

#include "esm/backend/parameters.hpp"
#include "esm/net/network.hpp"

namespace esm::backend::onednn {

/// An activation tensor. Consumers read it through `desc`; its bytes live in the arena, except
/// the network input, which keeps its own buffer so that every pass reads the same image.
struct tensor {
  dnnl::memory::desc desc;
  bool external = false;
};

/// A tensor passed to a primitive, viewed through the primitive's own descriptor (same bytes;
/// e.g. the 2-D view of an N x K x 1 x 1 inner-product output).
struct tensor_arg {
  int arg = 0;  ///< DNNL_ARG_*
  int tensor = -1;
  dnnl::memory::desc view;
};

struct step {
  std::string name;  ///< "layer <name> (<primitive>)", used in error messages
  dnnl::primitive primitive;
  std::vector<tensor_arg> tensors;
  std::unordered_map<int, dnnl::memory> constants;  ///< weights, bias, BN statistics (reordered once)
  bool is_reorder = false;
};

struct program {
  std::vector<tensor> tensors;
  std::vector<step> steps;
  int input_tensor = -1;
  int output_tensor = -1;
};

/// Lowers `net` for `engine`; weights are reordered into the primitives' formats on `stream`
/// now, at compile time. Throws onednn_error naming the layer and primitive that failed.
[[nodiscard]] program lower(const net::network& net, const std::vector<layer_parameters>& params,
                            const dnnl::engine& engine, dnnl::stream& stream);

}  // namespace esm::backend::onednn
