// The one place where CUDA runtime and cuDNN status codes become esm errors.
//
// Every CUDA/cuDNN call of the backend goes through ESM_CUDA_CHECK / ESM_CUDNN_CHECK, which pass
// the call's text and source location to a check function; a failure throws esm::cuda_error or
// esm::cudnn_error "<call> failed: <status name> (<library message>) at <file>:<line>".
// Destructors use the *_noexcept variants, which print the same line to stderr instead.
#pragma once

#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <source_location>
#include <string>
#include <string_view>

#include "esm/common/error.hpp"

namespace esm {

/// A CUDA runtime call failed.
class cuda_error : public error {
 public:
  cuda_error(const std::string& what, cudaError_t status) : error(what), status_(status) {}
  [[nodiscard]] cudaError_t status() const { return status_; }

 private:
  cudaError_t status_;
};

/// A cuDNN call failed.
class cudnn_error : public error {
 public:
  cudnn_error(const std::string& what, cudnnStatus_t status) : error(what), status_(status) {}
  [[nodiscard]] cudnnStatus_t status() const { return status_; }

 private:
  cudnnStatus_t status_;
};

}  // namespace esm

namespace esm::backend::cudnn {

/// Throws esm::cuda_error unless `status` is cudaSuccess.
void check_cuda(cudaError_t status, std::string_view call, std::source_location where = std::source_location::current());
/// Throws esm::cudnn_error unless `status` is CUDNN_STATUS_SUCCESS.
void check_cudnn(cudnnStatus_t status, std::string_view call,
                 std::source_location where = std::source_location::current());

/// For destructors: prints the failure to stderr and returns false instead of throwing.
bool check_cuda_noexcept(cudaError_t status, std::string_view call,
                         std::source_location where = std::source_location::current()) noexcept;
bool check_cudnn_noexcept(cudnnStatus_t status, std::string_view call,
                          std::source_location where = std::source_location::current()) noexcept;

/// The message a failed cuDNN call would carry (for errors raised after a handled status).
[[nodiscard]] std::string cudnn_failure_text(cudnnStatus_t status, std::string_view call, std::source_location where);

/// True for the status categories that mean "this configuration is not available" (NOT_SUPPORTED
/// and BAD_PARAM families), for which the executor has an exact fallback.
[[nodiscard]] bool is_unsupported(cudnnStatus_t status);

}  // namespace esm::backend::cudnn

#define ESM_CUDA_CHECK(call) ::esm::backend::cudnn::check_cuda((call), #call)
#define ESM_CUDNN_CHECK(call) ::esm::backend::cudnn::check_cudnn((call), #call)
#define ESM_CUDA_CHECK_NOEXCEPT(call) ::esm::backend::cudnn::check_cuda_noexcept((call), #call)
#define ESM_CUDNN_CHECK_NOEXCEPT(call) ::esm::backend::cudnn::check_cudnn_noexcept((call), #call)
