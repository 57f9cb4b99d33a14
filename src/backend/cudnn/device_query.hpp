// Device questions asked before compiling anything (GPU tests and tools), in plain C++ so their
// callers need no CUDA headers.
#pragma once

#include <memory>
#include <string>

#include "esm/backend/backend.hpp"

namespace esm::backend::cudnn {

struct device_census {
  int count = 0;
  std::string problem;  ///< why none is usable (cudaGetDeviceCount's error), empty when count > 0
};

/// Never throws: no driver or no device gives count 0 and the reason.
[[nodiscard]] device_census count_devices() noexcept;

/// "NVIDIA H100 80GB HBM3 (device 0, sm_90, 132 SMs, 79.1 GiB)"; throws esm::cuda_error.
[[nodiscard]] std::string describe_device(int device);

/// The devices this process sees, identified by CUDA itself: cudaGetDeviceCount, then per device
/// cudaSetDevice, cudaGetDeviceProperties (name, uuid) and cudaDeviceGetPCIBusId. This is what the
/// MPI binding compares across ranks (Slurm's cgroups renumber every task's GPU to 0).
[[nodiscard]] std::unique_ptr<device_query> make_cuda_device_query();

/// "GPU-8c1f0b2a-...": the 16 bytes of a CUDA UUID in nvidia-smi's text form, "MIG-" for a MIG instance.
[[nodiscard]] std::string uuid_text(const unsigned char (&bytes)[16], bool mig);

/// "CUDA runtime 13.0, driver 13.0, cuDNN 9.19.0" (plus the header version when it differs from
/// the loaded library). Works without a device.
[[nodiscard]] std::string library_versions();

}  // namespace esm::backend::cudnn
