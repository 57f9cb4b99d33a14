// Device census, device description and library versions.
#include "backend/cudnn/device_query.hpp"

#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstdio>

#include "backend/cudnn/check.hpp"

namespace esm::backend::cudnn {

namespace {

/// CUDA encodes versions as 1000 * major + 10 * minor.
std::string cuda_version_text(int v) { return std::to_string(v / 1000) + '.' + std::to_string((v % 1000) / 10); }

/// cuDNN 9 encodes versions as 10000 * major + 100 * minor + patch.
std::string cudnn_version_text(std::size_t v) {
  return std::to_string(v / 10000) + '.' + std::to_string((v % 10000) / 100) + '.' + std::to_string(v % 100);
}

}  // namespace

device_census count_devices() noexcept {
  device_census census;
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    census.problem = std::string("cudaGetDeviceCount: ") + cudaGetErrorName(status) + " (" +
                     cudaGetErrorString(status) + ")";
    cudaGetLastError();  // reset the runtime's last error so later checks start clean
    return census;
  }
  census.count = count;
  if (count == 0) census.problem = "cudaGetDeviceCount reports 0 devices";
  return census;
}

std::string describe_device(int device) {
  cudaDeviceProp prop{};
  ESM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  char memory[32];
  std::snprintf(memory, sizeof memory, "%.1f GiB", static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  return std::string(prop.name) + " (device " + std::to_string(device) + ", sm_" + std::to_string(prop.major) +
         std::to_string(prop.minor) + ", " + std::to_string(prop.multiProcessorCount) + " SMs, " + memory + ")";
}

std::string library_versions() {
  int runtime = 0, driver = 0;
  const std::string runtime_text =
      cudaRuntimeGetVersion(&runtime) == cudaSuccess ? cuda_version_text(runtime) : std::string("unknown");
  const std::string driver_text =
      cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0 ? cuda_version_text(driver) : std::string("none");
  const std::size_t loaded = cudnnGetVersion();
  std::string text = "CUDA runtime " + runtime_text + ", driver " + driver_text + ", cuDNN " + cudnn_version_text(loaded);
  if (loaded != static_cast<std::size_t>(CUDNN_VERSION)) {
    text += " (built with cuDNN headers " + cudnn_version_text(CUDNN_VERSION) + ")";
  }
  return text;
}

}  // namespace esm::backend::cudnn
