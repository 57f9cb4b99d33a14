// Move-only owners for every CUDA and cuDNN handle the backend creates. Raw handles only cross
// into C calls through get(); destruction never throws (failures are printed to stderr).
#pragma once

#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstddef>
#include <utility>

#include "backend/cudnn/check.hpp"

namespace esm::backend::cudnn {

template <class Handle, class Deleter>
class unique_handle {
 public:
  using handle_type = Handle;
  unique_handle() = default;
  explicit unique_handle(Handle handle) : handle_(handle) {}
  unique_handle(const unique_handle&) = delete;
  unique_handle& operator=(const unique_handle&) = delete;
  unique_handle(unique_handle&& other) noexcept : handle_(std::exchange(other.handle_, Handle{})) {}
  unique_handle& operator=(unique_handle&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, Handle{});
    }
    return *this;
  }
  ~unique_handle() { reset(); }

  void reset() noexcept {
    if (handle_ != Handle{}) Deleter{}(std::exchange(handle_, Handle{}));
  }
  [[nodiscard]] Handle get() const { return handle_; }
  [[nodiscard]] explicit operator bool() const { return handle_ != Handle{}; }

 private:
  Handle handle_{};
};

struct cudnn_handle_deleter {
  void operator()(cudnnHandle_t h) const noexcept { ESM_CUDNN_CHECK_NOEXCEPT(cudnnDestroy(h)); }
};
struct tensor_descriptor_deleter {
  void operator()(cudnnTensorDescriptor_t h) const noexcept { ESM_CUDNN_CHECK_NOEXCEPT(cudnnDestroyTensorDescriptor(h)); }
};
struct filter_descriptor_deleter {
  void operator()(cudnnFilterDescriptor_t h) const noexcept { ESM_CUDNN_CHECK_NOEXCEPT(cudnnDestroyFilterDescriptor(h)); }
};
struct convolution_descriptor_deleter {
  void operator()(cudnnConvolutionDescriptor_t h) const noexcept {
    ESM_CUDNN_CHECK_NOEXCEPT(cudnnDestroyConvolutionDescriptor(h));
  }
};
struct activation_descriptor_deleter {
  void operator()(cudnnActivationDescriptor_t h) const noexcept {
    ESM_CUDNN_CHECK_NOEXCEPT(cudnnDestroyActivationDescriptor(h));
  }
};
struct pooling_descriptor_deleter {
  void operator()(cudnnPoolingDescriptor_t h) const noexcept { ESM_CUDNN_CHECK_NOEXCEPT(cudnnDestroyPoolingDescriptor(h)); }
};
struct stream_deleter {
  void operator()(cudaStream_t h) const noexcept { ESM_CUDA_CHECK_NOEXCEPT(cudaStreamDestroy(h)); }
};
struct event_deleter {
  void operator()(cudaEvent_t h) const noexcept { ESM_CUDA_CHECK_NOEXCEPT(cudaEventDestroy(h)); }
};
struct graph_deleter {
  void operator()(cudaGraph_t h) const noexcept { ESM_CUDA_CHECK_NOEXCEPT(cudaGraphDestroy(h)); }
};
struct graph_exec_deleter {
  void operator()(cudaGraphExec_t h) const noexcept { ESM_CUDA_CHECK_NOEXCEPT(cudaGraphExecDestroy(h)); }
};

using cudnn_handle = unique_handle<cudnnHandle_t, cudnn_handle_deleter>;
using tensor_descriptor = unique_handle<cudnnTensorDescriptor_t, tensor_descriptor_deleter>;
using filter_descriptor = unique_handle<cudnnFilterDescriptor_t, filter_descriptor_deleter>;
using convolution_descriptor = unique_handle<cudnnConvolutionDescriptor_t, convolution_descriptor_deleter>;
using activation_descriptor = unique_handle<cudnnActivationDescriptor_t, activation_descriptor_deleter>;
using pooling_descriptor = unique_handle<cudnnPoolingDescriptor_t, pooling_descriptor_deleter>;
using stream = unique_handle<cudaStream_t, stream_deleter>;
using event = unique_handle<cudaEvent_t, event_deleter>;
using graph = unique_handle<cudaGraph_t, graph_deleter>;
using graph_exec = unique_handle<cudaGraphExec_t, graph_exec_deleter>;

/// Creators: each checks the create call and returns the owner.
[[nodiscard]] cudnn_handle make_cudnn_handle();
[[nodiscard]] tensor_descriptor make_tensor_descriptor();
[[nodiscard]] filter_descriptor make_filter_descriptor();
[[nodiscard]] convolution_descriptor make_convolution_descriptor();
[[nodiscard]] activation_descriptor make_activation_descriptor();
[[nodiscard]] pooling_descriptor make_pooling_descriptor();
[[nodiscard]] stream make_nonblocking_stream();
[[nodiscard]] event make_event();

/// Device memory from cudaMalloc (nothing for 0 bytes), freed with cudaFree.
class device_buffer {
 public:
  device_buffer() = default;
  explicit device_buffer(std::size_t bytes);
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  device_buffer(device_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  device_buffer& operator=(device_buffer&& other) noexcept;
  ~device_buffer() { reset(); }

  void reset() noexcept;
  [[nodiscard]] void* get() const { return data_; }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  [[nodiscard]] explicit operator bool() const { return data_ != nullptr; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace esm::backend::cudnn
