// The few CUDA kernels the cuDNN backend needs besides cuDNN: activations cuDNN lacks (relu6,
// h-swish, h-sigmoid) fused with bias/residual/scale terms, standalone batch-norm, squeeze-excite
// channel scaling, concat copies, pooling with asymmetric padding, global average pooling and
// fp32 <-> fp16 conversion. Every tensor is an NCHW or NHWC (channels-last) view with its own
// batch stride (a channel slice of a larger buffer); arithmetic is fp32 for both element types.
//
// Each launcher enqueues on `stream` and returns cudaGetLastError(), for the caller's check.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace esm::backend::cudnn::kernels {

enum class element { f32, f16 };

/// Same order as esm::net::activation.
enum class act_code : int { none, relu, relu6, hswish, hsigmoid, sigmoid };

struct view {
  void* data = nullptr;  ///< element (0, 0, 0, 0)
  std::int64_t n = 0, c = 0, h = 0, w = 0;
  std::int64_t batch_stride = 0;  ///< elements between samples
  /// NCHW: element (n, c, p) at n * batch_stride + c * h * w + p. NHWC: at n * batch_stride +
  /// p * pixel_stride + c, the pixel stride being the whole buffer's channel count.
  bool channels_last = false;
  std::int64_t pixel_stride = 1;  ///< NHWC only
};

/// out = act(in * scale[c] * factor[n, c] + shift[c] + bias[c] + addend), every term optional.
struct pointwise_terms {
  const float* scale = nullptr;  ///< per channel, fp32
  const float* shift = nullptr;  ///< per channel, fp32
  const void* bias = nullptr;    ///< per channel, in the element type
  view factor;                   ///< (N, C, 1, 1); absent when data is null
  view addend;                   ///< shaped like out; absent when data is null
};

/// `in` may be `out` (in place).
cudaError_t pointwise(element type, cudaStream_t stream, const view& in, const view& out, const pointwise_terms& terms,
                      act_code act);

/// Window [o * stride - pad_begin, + kernel) clipped to the input; average divides by the
/// number of in-bounds elements (PyTorch count_include_pad=False, ceil_mode padding).
struct pool_window {
  int kernel = 1;
  int stride = 1;
  int pad_begin = 0;
  bool is_max = false;
};
cudaError_t pool(element type, cudaStream_t stream, const view& in, const view& out, const pool_window& window,
                 act_code act);

/// out (N, C, 1, 1) = act(mean of each H x W plane of in).
cudaError_t global_avg_pool(element type, cudaStream_t stream, const view& in, const view& out, act_code act);

/// Packed fp32 -> packed fp16 (round to nearest).
cudaError_t float_to_half(cudaStream_t stream, const float* in, void* out, std::int64_t count);

/// Any view -> packed fp32 (N x C x H x W).
cudaError_t to_float(element type, cudaStream_t stream, const view& in, float* out);

}  // namespace esm::backend::cudnn::kernels
