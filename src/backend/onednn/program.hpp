// A network lowered to oneDNN: primitives in execution order and the tensors they exchange.
// Lowering decides every primitive, memory format and reorder; binding (the executable) only
// places the tensors in memory.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <string>
#include <unordered_map>
#include <vector>

#include "esm/backend/backend.hpp"
#include "esm/backend/parameters.hpp"
#include "esm/net/network.hpp"

namespace esm::backend::onednn {

/// An activation tensor. Consumers read it through `desc`; its bytes live in the arena, except
/// the network input, which keeps its own buffer so that every pass reads the same image.
struct tensor {
  dnnl::memory::desc desc;
  bool external = false;
  float scale = 1.f;  ///< int8 tensors: the real value is the stored integer times this; 1 otherwise
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
  int layer = -1;              ///< the IR layer the step belongs to (a fused conv+add: the conv)
  std::string implementation;  ///< oneDNN's implementation, e.g. "brgconv:avx512_core_bf16"
};

struct program {
  std::vector<tensor> tensors;
  std::vector<step> steps;
  int input_tensor = -1;
  int output_tensor = -1;
  std::vector<int> layer_tensor;  ///< per IR layer: the tensor holding its output (-1: fused away)
};

/// The smallest and largest value of a tensor over the calibration inputs.
struct value_range {
  float min = 0.f, max = 0.f;
};

/// What the network computes in. bf16: activations and weights in bf16, fp32 for an op where
/// oneDNN has only its reference kernel in bf16. int8: convolutions and inner products on u8/s8
/// activations (per-tensor scales from `ranges`) and s8 weights (per-output-channel scales), the
/// other ops in fp32; every conversion between them is a reorder step of the pass.
struct lowering_options {
  precision prec = precision::fp32;
  std::vector<value_range> layer_ranges;  ///< int8 only: per IR layer, its output's range
  value_range input_range;                ///< int8 only: the network input's range
  bool fuse_residuals = true;             ///< false: every layer keeps its own output (calibration)
};

/// Lowers `net` for `engine`; weights are reordered into the primitives' formats on `stream`
/// now, at compile time. Throws onednn_error naming the layer and primitive that failed.
[[nodiscard]] program lower(const net::network& net, const std::vector<layer_parameters>& params,
                            const lowering_options& options, const dnnl::engine& engine, dnnl::stream& stream);

}  // namespace esm::backend::onednn
