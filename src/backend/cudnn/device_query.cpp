// Device census, device description and library versions.
#include "backend/cudnn/device_query.hpp"

#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cctype>
#include <cstdio>
#include <cstring>

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

std::string uuid_text(const unsigned char (&bytes)[16], bool mig) {
  std::string text = mig ? "MIG-" : "GPU-";
  char hex[3];
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    std::snprintf(hex, sizeof hex, "%02x", bytes[i]);
    text += hex;
  }
  return text;
}

namespace {

/// CUDA names a MIG compute instance after its profile: "NVIDIA A100-SXM4-40GB MIG 1g.5gb".
bool is_mig_name(const std::string& name) {
  const auto at = name.find(" MIG ");
  return at != std::string::npos && at + 5 < name.size() && std::isdigit(static_cast<unsigned char>(name[at + 5]));
}

class cuda_device_query final : public device_query {
 public:
  int count() const override { return count_devices().count; }

  device_identity select(int ordinal) const override {
    ESM_CUDA_CHECK(cudaSetDevice(ordinal));
    cudaDeviceProp prop{};
    ESM_CUDA_CHECK(cudaGetDeviceProperties(&prop, ordinal));
    char bus[32] = {};
    ESM_CUDA_CHECK(cudaDeviceGetPCIBusId(bus, static_cast<int>(sizeof bus), ordinal));
    device_identity id;
    id.ordinal = ordinal;
    id.name = prop.name;
    id.mig = is_mig_name(id.name);
    // CUDA 13's uuid is cuDeviceGetUuid_v2's: a MIG instance's own UUID, not its parent GPU's.
    unsigned char raw[16];
    std::memcpy(raw, prop.uuid.bytes, sizeof raw);
    id.uuid = uuid_text(raw, id.mig);
    id.pci_bus_id = bus;
    for (auto& ch : id.pci_bus_id) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return id;
  }
};

}  // namespace

std::unique_ptr<device_query> make_cuda_device_query() { return std::make_unique<cuda_device_query>(); }

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
