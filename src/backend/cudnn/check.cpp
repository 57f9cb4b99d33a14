// Status-to-exception conversion for the CUDA runtime and cuDNN.
#include "backend/cudnn/check.hpp"

#include <cstdio>

namespace esm::backend::cudnn {

namespace {

/// "src/backend/cudnn/x.cpp:42" rather than the absolute path the compiler was given.
std::string location(std::source_location where) {
  std::string_view file = where.file_name();
  if (const auto at = file.rfind("/src/"); at != std::string_view::npos) file.remove_prefix(at + 1);
  return std::string(file) + ':' + std::to_string(where.line());
}

std::string cuda_failure_text(cudaError_t status, std::string_view call, std::source_location where) {
  return std::string(call) + " failed: " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ") at " +
         location(where);
}

}  // namespace

std::string cudnn_failure_text(cudnnStatus_t status, std::string_view call, std::source_location where) {
  char detail[512] = {};
  cudnnGetLastErrorString(detail, sizeof detail);
  std::string text = std::string(call) + " failed: " + cudnnGetErrorString(status);
  if (detail[0] != '\0') text += std::string(" (") + detail + ")";
  return text + " at " + location(where);
}

void check_cuda(cudaError_t status, std::string_view call, std::source_location where) {
  if (status != cudaSuccess) throw cuda_error(cuda_failure_text(status, call, where), status);
}

void check_cudnn(cudnnStatus_t status, std::string_view call, std::source_location where) {
  if (status != CUDNN_STATUS_SUCCESS) throw cudnn_error(cudnn_failure_text(status, call, where), status);
}

bool check_cuda_noexcept(cudaError_t status, std::string_view call, std::source_location where) noexcept {
  if (status == cudaSuccess) return true;
  try {
    std::fprintf(stderr, "esm: warning: %s\n", cuda_failure_text(status, call, where).c_str());
  } catch (...) {  // allocation failed while reporting: nothing more to do in a destructor
  }
  return false;
}

bool check_cudnn_noexcept(cudnnStatus_t status, std::string_view call, std::source_location where) noexcept {
  if (status == CUDNN_STATUS_SUCCESS) return true;
  try {
    std::fprintf(stderr, "esm: warning: %s\n", cudnn_failure_text(status, call, where).c_str());
  } catch (...) {
  }
  return false;
}

bool is_unsupported(cudnnStatus_t status) {
  const int category = CUDNN_STATUS_CATEGORY(static_cast<int>(status));
  return category == static_cast<int>(CUDNN_STATUS_NOT_SUPPORTED) || category == static_cast<int>(CUDNN_STATUS_BAD_PARAM);
}

}  // namespace esm::backend::cudnn
