// Kernels for what cuDNN lacks (see kernels.hpp). Grid-stride loops over output elements,
// 32-bit index arithmetic when the tensor allows it, fp32 arithmetic for fp16 data.
#include "backend/cudnn/kernels.hpp"

#include <cuda_fp16.h>

#include <algorithm>
#include <cfloat>

namespace esm::backend::cudnn::kernels {

namespace {

constexpr int threads_per_block = 256;

__device__ __forceinline__ float load(const float* p) { return *p; }
__device__ __forceinline__ float load(const __half* p) { return __half2float(*p); }
__device__ __forceinline__ void store(float* p, float v) { *p = v; }
__device__ __forceinline__ void store(__half* p, float v) { *p = __float2half_rn(v); }

__device__ __forceinline__ float activate(float x, int act) {
  switch (act) {
    case 1: return fmaxf(x, 0.0f);
    case 2: return fminf(fmaxf(x, 0.0f), 6.0f);
    case 3: return x * fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    case 4: return fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    case 5: return 1.0f / (1.0f + expf(-x));
    default: return x;
  }
}

/// Kernel-side copy of a view: data pointer typed, sizes in the index type.
template <class T, class I>
struct tensor {
  T* data;
  I c, hw, batch_stride, c_stride, p_stride;
  bool channels_last;
  __device__ __forceinline__ T* at(I n, I ch, I p) const { return data + n * batch_stride + ch * c_stride + p * p_stride; }
  /// Logical (n, ch, p) of the i-th element, walking memory order (channels fastest in NHWC) so
  /// that neighbouring threads touch neighbouring elements.
  __device__ __forceinline__ void split(I i, I& n, I& ch, I& p) const {
    if (channels_last) {
      ch = i % c;
      const I np = i / c;
      p = np % hw;
      n = np / hw;
    } else {
      p = i % hw;
      const I nc = i / hw;
      ch = nc % c;
      n = nc / c;
    }
  }
};

template <class T, class I>
tensor<T, I> make(const view& v) {
  const std::int64_t hw = v.h * v.w;
  const std::int64_t c_stride = v.channels_last ? 1 : hw;
  const std::int64_t p_stride = v.channels_last ? v.pixel_stride : 1;
  return {static_cast<T*>(v.data), static_cast<I>(v.c),        static_cast<I>(hw), static_cast<I>(v.batch_stride),
          static_cast<I>(c_stride), static_cast<I>(p_stride), v.channels_last};
}

template <class T, class I>
struct pointwise_args {
  tensor<T, I> in, out, factor, addend;
  const float* scale;
  const float* shift;
  const T* bias;
  I total;
  int act;
};

template <class T, class I>
__global__ void pointwise_kernel(pointwise_args<T, I> a) {
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.total;
       i += static_cast<I>(gridDim.x) * blockDim.x) {
    I n, ch, p;
    a.out.split(i, n, ch, p);
    float v = load(a.in.at(n, ch, p));
    if (a.scale != nullptr) v *= a.scale[ch];
    if (a.factor.data != nullptr) v *= load(a.factor.at(n, ch, 0));
    if (a.shift != nullptr) v += a.shift[ch];
    if (a.bias != nullptr) v += load(a.bias + ch);
    if (a.addend.data != nullptr) v += load(a.addend.at(n, ch, p));
    store(a.out.at(n, ch, p), activate(v, a.act));
  }
}

template <class T, class I>
struct pool_args {
  tensor<T, I> in, out;
  I in_h, in_w, out_h, out_w, total;
  int kernel, stride, pad_begin, act;
  bool is_max;
};

template <class T, class I>
__global__ void pool_kernel(pool_args<T, I> a) {
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.total;
       i += static_cast<I>(gridDim.x) * blockDim.x) {
    I n, ch, op;
    a.out.split(i, n, ch, op);
    const I ow = op % a.out_w;
    const I oh = op / a.out_w;
    // Signed window bounds: the window may start in the padding.
    const long long h0 = static_cast<long long>(oh) * a.stride - a.pad_begin;
    const long long w0 = static_cast<long long>(ow) * a.stride - a.pad_begin;
    const long long h_lo = h0 < 0 ? 0 : h0, w_lo = w0 < 0 ? 0 : w0;
    const long long h_hi = min(h0 + a.kernel, static_cast<long long>(a.in_h));
    const long long w_hi = min(w0 + a.kernel, static_cast<long long>(a.in_w));
    float acc = a.is_max ? -FLT_MAX : 0.0f;
    for (long long h = h_lo; h < h_hi; ++h) {
      for (long long w = w_lo; w < w_hi; ++w) {
        const float v = load(a.in.at(n, ch, static_cast<I>(h * a.in_w + w)));
        acc = a.is_max ? fmaxf(acc, v) : acc + v;
      }
    }
    if (!a.is_max) {
      const long long count = (h_hi - h_lo) * (w_hi - w_lo);
      acc = count > 0 ? acc / static_cast<float>(count) : 0.0f;
    }
    store(a.out.at(n, ch, oh * a.out_w + ow), activate(acc, a.act));
  }
}

/// One warp per (n, c) plane.
template <class T, class I>
__global__ void global_avg_pool_kernel(tensor<T, I> in, tensor<T, I> out, I planes, int act) {
  const unsigned lane = threadIdx.x % 32u;
  const I warps = static_cast<I>(gridDim.x) * (blockDim.x / 32u);
  for (I plane = (static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x) / 32u; plane < planes; plane += warps) {
    const I n = plane / in.c, ch = plane % in.c;
    float sum = 0.0f;
    for (I p = lane; p < in.hw; p += 32u) sum += load(in.at(n, ch, p));
    for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (lane == 0) store(out.at(n, ch, 0), activate(sum / static_cast<float>(in.hw), act));
  }
}

template <class T, class I>
__global__ void to_float_kernel(tensor<T, I> in, float* out, I total) {
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<I>(gridDim.x) * blockDim.x) {
    const I p = i % in.hw, nc = i / in.hw;
    out[i] = load(in.at(nc / in.c, nc % in.c, p));
  }
}

__global__ void float_to_half_kernel(const float* in, __half* out, long long count) {
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    out[i] = __float2half_rn(in[i]);
  }
}

unsigned blocks_for(std::int64_t work_items) {
  const std::int64_t blocks = (work_items + threads_per_block - 1) / threads_per_block;
  return static_cast<unsigned>(std::clamp<std::int64_t>(blocks, 1, 65536));
}

/// True when every element offset of the views fits in 32 bits.
bool fits_32bit(std::initializer_list<const view*> views) {
  for (const view* v : views) {
    if (v->data == nullptr) continue;
    const std::int64_t sample = std::max({v->batch_stride, v->c * v->h * v->w, v->pixel_stride * v->h * v->w});
    if ((v->n + 1) * sample >= (std::int64_t{1} << 31)) return false;
  }
  return true;
}

template <class T, class I>
void launch_pointwise(cudaStream_t stream, const view& in, const view& out, const pointwise_terms& t, act_code act) {
  const std::int64_t total = out.n * out.c * out.h * out.w;
  pointwise_args<T, I> a{make<T, I>(in), make<T, I>(out), make<T, I>(t.factor), make<T, I>(t.addend),
                         t.scale,        t.shift,         static_cast<const T*>(t.bias), static_cast<I>(total),
                         static_cast<int>(act)};
  pointwise_kernel<T, I><<<blocks_for(total), threads_per_block, 0, stream>>>(a);
}

template <class T, class I>
void launch_pool(cudaStream_t stream, const view& in, const view& out, const pool_window& w, act_code act) {
  const std::int64_t total = out.n * out.c * out.h * out.w;
  pool_args<T, I> a{make<T, I>(in),          make<T, I>(out),   static_cast<I>(in.h), static_cast<I>(in.w),
                    static_cast<I>(out.h),   static_cast<I>(out.w), static_cast<I>(total), w.kernel,
                    w.stride,                w.pad_begin,       static_cast<int>(act), w.is_max};
  pool_kernel<T, I><<<blocks_for(total), threads_per_block, 0, stream>>>(a);
}

template <class T, class I>
void launch_global_avg_pool(cudaStream_t stream, const view& in, const view& out, act_code act) {
  const std::int64_t planes = in.n * in.c;
  global_avg_pool_kernel<T, I><<<blocks_for(planes * 32), threads_per_block, 0, stream>>>(
      make<T, I>(in), make<T, I>(out), static_cast<I>(planes), static_cast<int>(act));
}

template <class T, class I>
void launch_to_float(cudaStream_t stream, const view& in, float* out) {
  const std::int64_t total = in.n * in.c * in.h * in.w;
  to_float_kernel<T, I><<<blocks_for(total), threads_per_block, 0, stream>>>(make<T, I>(in), out,
                                                                              static_cast<I>(total));
}

/// Calls f(T{}, I{}) for the element type and the narrowest safe index type (C++17: the CUDA
/// dialect CMake knows for every nvcc).
template <class F>
cudaError_t dispatch(element type, bool narrow, const F& f) {
  if (type == element::f32) {
    narrow ? f(float{}, 0u) : f(float{}, 0ull);
  } else {
    narrow ? f(__half{}, 0u) : f(__half{}, 0ull);
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t pointwise(element type, cudaStream_t stream, const view& in, const view& out, const pointwise_terms& terms,
                      act_code act) {
  if (out.n * out.c * out.h * out.w == 0) return cudaSuccess;
  return dispatch(type, fits_32bit({&in, &out, &terms.factor, &terms.addend}),
                  [&](auto t, auto i) { launch_pointwise<decltype(t), decltype(i)>(stream, in, out, terms, act); });
}

cudaError_t pool(element type, cudaStream_t stream, const view& in, const view& out, const pool_window& window,
                 act_code act) {
  if (out.n * out.c * out.h * out.w == 0) return cudaSuccess;
  return dispatch(type, fits_32bit({&in, &out}),
                  [&](auto t, auto i) { launch_pool<decltype(t), decltype(i)>(stream, in, out, window, act); });
}

cudaError_t global_avg_pool(element type, cudaStream_t stream, const view& in, const view& out, act_code act) {
  if (in.n * in.c == 0) return cudaSuccess;
  return dispatch(type, fits_32bit({&in, &out}),
                  [&](auto t, auto i) { launch_global_avg_pool<decltype(t), decltype(i)>(stream, in, out, act); });
}

cudaError_t to_float(element type, cudaStream_t stream, const view& in, float* out) {
  if (in.n * in.c * in.h * in.w == 0) return cudaSuccess;
  return dispatch(type, fits_32bit({&in}), [&](auto t, auto i) { launch_to_float<decltype(t), decltype(i)>(stream, in, out); });
}

cudaError_t float_to_half(cudaStream_t stream, const float* in, void* out, std::int64_t count) {
  if (count == 0) return cudaSuccess;
  float_to_half_kernel<<<blocks_for(count), threads_per_block, 0, stream>>>(in, static_cast<__half*>(out),
                                                                            static_cast<long long>(count));
  return cudaGetLastError();
}

}  // namespace esm::backend::cudnn::kernels
