// The execution plan of the cuDNN backend: where every tensor lives and which steps compute it.
// Pure C++ (no CUDA), so tests can check it on machines without a GPU.
//
// Decisions made here, independent of the device:
//  - Concatenation is free: a concat's output is one buffer and its producers write straight into
//    their channel slices (NCHW views with a batch stride larger than C*H*W). Nested concats
//    (DenseNet's concat of a concat) become slices of slices. Inputs that cannot be placed (the
//    network input, a tensor already placed in another concat, a concat with an activation) get
//    a copy step instead.
//  - A residual add whose input is a conv without activation, read by nobody else, is folded
//    into that conv: one step computes act(conv(x) + bias + z) straight into the add's output.
#pragma once

#include <cstdint>
#include <vector>

#include "esm/net/network.hpp"

namespace esm::backend::cudnn {

/// A tensor inside a buffer, placed for NCHW: element (n, c, h, w) is at
/// offset + n * batch_stride + c * H * W + h * W + w, in elements of the buffer's data type.
/// The same placement in NHWC (channels-last, fp16 option of the backend): the channel offset
/// is offset / (H * W), and element (n, c, h, w) is at that + n * buffer_channels * H * W +
/// (h * W + w) * buffer_channels + c (see nhwc_offset): a channel slice is never packed there.
struct tensor_view {
  int buffer = -1;
  std::int64_t offset = 0;
  std::int64_t batch_stride = 0;  ///< shape.c * H * W when packed; always packed for N = 1
  net::shape4 shape;
  std::int64_t buffer_channels = 0;  ///< channels of the whole buffer (NHWC's pixel stride)
  [[nodiscard]] bool packed() const { return batch_stride == shape.c * shape.h * shape.w; }
  [[nodiscard]] bool packed_nhwc() const { return buffer_channels == shape.c; }
  /// The first element's offset in an NHWC buffer (throws esm::error if offset is not a whole
  /// number of channel planes, which the plan never makes).
  [[nodiscard]] std::int64_t nhwc_offset() const;
};

/// A packed tensor of shape `s` at the start of its own buffer.
[[nodiscard]] tensor_view packed_tensor(const net::shape4& s);

/// Reorders a dense [a][b][h][w] array into [a][h][w][b]: NCHW data (a = N, b = C) or KCRS
/// convolution weights (a = K, b = C per group) into channels-last order.
[[nodiscard]] std::vector<float> to_channels_last(const std::vector<float>& dense, std::int64_t a, std::int64_t b,
                                                  std::int64_t h, std::int64_t w);

enum class step_kind {
  conv,             ///< conv or fully connected: act(conv(x) + bias [+ other]); other = residual z
  batch_norm,       ///< act(x * scale[c] + shift[c])
  pool,             ///< max or average pool of the layer
  global_avg_pool,  ///< mean over H x W
  channel_scale,    ///< x * other[n, c]
  add,              ///< act(x + other)
  copy,             ///< act(x) into a concat slice that x could not be placed in
};

struct step {
  step_kind kind = step_kind::conv;
  int layer = -1;      ///< the IR layer computed (for a fused residual: the conv)
  int fused_add = -1;  ///< the add layer folded into this conv, -1 if none
  tensor_view x;
  tensor_view other;   ///< second operand (see step_kind); buffer -1 when absent
  tensor_view y;
  net::activation act = net::activation::none;
  [[nodiscard]] bool has_other() const { return other.buffer >= 0; }
};

struct execution_plan {
  std::vector<net::shape4> buffers;  ///< dense NCHW allocations
  int input_buffer = -1;             ///< holds the network input
  std::vector<tensor_view> views;    ///< per layer: where its output lives
  std::vector<step> steps;           ///< in execution order
  int fused_residuals = 0;           ///< adds folded into convs
  int concat_slices = 0;             ///< concat inputs written in place
  int concat_copies = 0;             ///< concat inputs copied
  [[nodiscard]] const tensor_view& output() const { return views.back(); }
};

/// Throws esm::error for a network the plan cannot express (never for validated IR).
[[nodiscard]] execution_plan make_plan(const net::network& net);

}  // namespace esm::backend::cudnn
