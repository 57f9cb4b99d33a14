// Checked creation of the CUDA/cuDNN handles owned by handles.hpp.
#include "backend/cudnn/handles.hpp"

namespace esm::backend::cudnn {

namespace {

/// Calls `create(&handle)` and wraps the handle in its owner; `call` names the call for errors.
template <class Owner, class Create>
Owner created(Create create, std::string_view call) {
  typename Owner::handle_type handle{};
  check_cudnn(create(&handle), call);
  return Owner(handle);
}

}  // namespace

cudnn_handle make_cudnn_handle() { return created<cudnn_handle>(cudnnCreate, "cudnnCreate"); }
tensor_descriptor make_tensor_descriptor() {
  return created<tensor_descriptor>(cudnnCreateTensorDescriptor, "cudnnCreateTensorDescriptor");
}
filter_descriptor make_filter_descriptor() {
  return created<filter_descriptor>(cudnnCreateFilterDescriptor, "cudnnCreateFilterDescriptor");
}
convolution_descriptor make_convolution_descriptor() {
  return created<convolution_descriptor>(cudnnCreateConvolutionDescriptor, "cudnnCreateConvolutionDescriptor");
}
activation_descriptor make_activation_descriptor() {
  return created<activation_descriptor>(cudnnCreateActivationDescriptor, "cudnnCreateActivationDescriptor");
}
pooling_descriptor make_pooling_descriptor() {
  return created<pooling_descriptor>(cudnnCreatePoolingDescriptor, "cudnnCreatePoolingDescriptor");
}

stream make_nonblocking_stream() {
  cudaStream_t h = nullptr;
  ESM_CUDA_CHECK(cudaStreamCreateWithFlags(&h, cudaStreamNonBlocking));
  return stream(h);
}

event make_event() {
  cudaEvent_t h = nullptr;
  ESM_CUDA_CHECK(cudaEventCreate(&h));
  return event(h);
}

device_buffer::device_buffer(std::size_t bytes) {
  if (bytes == 0) return;
  ESM_CUDA_CHECK(cudaMalloc(&data_, bytes));
  bytes_ = bytes;
}

device_buffer& device_buffer::operator=(device_buffer&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void device_buffer::reset() noexcept {
  if (data_ != nullptr) ESM_CUDA_CHECK_NOEXCEPT(cudaFree(data_));
  data_ = nullptr;
  bytes_ = 0;
}

}  // namespace esm::backend::cudnn
