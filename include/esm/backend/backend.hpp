// Execution backends: compile a network IR once, then run and time forward passes.
//
// A backend knows nothing of datasets or MPI. `compile` allocates everything (device memory,
// descriptors, weights, workspaces) so that `run` and `timed_run_ms` do no allocation and no
// set-up: what is timed is the forward pass a deployment would run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "esm/net/network.hpp"

namespace esm::backend {

/// fp16: GPU backends (cudnn); bf16 and int8: the CPU backend on CPUs with the instructions for
/// them (AVX512-BF16 or AMX; VNNI), refused elsewhere.
enum class precision { fp32, fp16, bf16, int8 };
[[nodiscard]] std::string_view to_string(precision p);
[[nodiscard]] precision parse_precision(std::string_view text);  ///< throws usage_error

enum class algo_selection {
  find,       ///< benchmark every algorithm per layer at compile time (cudnn.benchmark=True)
  heuristic,  ///< the library's heuristic first choice
};
[[nodiscard]] std::string_view to_string(algo_selection a);
[[nodiscard]] algo_selection parse_algo_selection(std::string_view text);  ///< throws usage_error

/// How a GPU backend stores activations. NHWC (channels-last) is what tensor cores read directly
/// in fp16; NCHW makes cuDNN transpose around each tensor-core convolution.
enum class tensor_layout { nchw, nhwc };
[[nodiscard]] std::string_view to_string(tensor_layout l);
[[nodiscard]] tensor_layout parse_tensor_layout(std::string_view text);  ///< throws usage_error

/// The launch mode of a GPU pass: one launch per kernel from the host, or one CUDA graph replay.
enum class launch_mode { eager, graph };
[[nodiscard]] std::string_view to_string(launch_mode m);

struct compile_options {
  precision prec = precision::fp32;
  std::uint64_t seed = 42;  ///< weights and input (backend::make_parameters / make_input)
  // CPU
  int threads = 0;  ///< 0: every core this process may run on (sched_getaffinity)
  // GPU
  int device = 0;
  algo_selection algos = algo_selection::find;
  std::size_t workspace_limit_bytes = std::size_t{256} << 20;
  bool cuda_graph = false;  ///< timed_run_ms replays the whole pass from a captured CUDA graph
  /// GPU: also capture a graph when cuda_graph is false, so timed_other_mode_ms can time replays
  /// (`esm profile` records both launch modes per row). A pass that cannot be captured then
  /// leaves only eager timing, and the description says why.
  bool both_launch_modes = false;
  tensor_layout layout = tensor_layout::nchw;  ///< GPU activations' memory layout (nhwc: fp16 only)
  // synthetic backend
  double synthetic_sleep_ms = 0;  ///< sleep per pass, standing in for the device's time
};

/// The algorithm chosen for one layer (GPU backends), recorded so a study can replay it.
struct layer_algo {
  int layer = -1;
  std::string name;  ///< e.g. "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM"
  int id = -1;
  std::size_t workspace_bytes = 0;
};

class executable {
 public:
  virtual ~executable() = default;
  /// One forward pass; returns when the result is complete.
  virtual void run() = 0;
  /// One forward pass timed the right way for the device, in milliseconds
  /// (monotonic clock on CPU, CUDA events on the backend's stream on GPU).
  [[nodiscard]] virtual double timed_run_ms() = 0;
  /// The launch mode timed_run_ms measures (CPU backends: eager).
  [[nodiscard]] virtual launch_mode timed_mode() const { return launch_mode::eager; }
  /// One pass timed in the other launch mode than timed_run_ms (GPU: eager launches beside graph
  /// replays, or the reverse), in ms; nullopt where the backend has no other mode (CPU).
  [[nodiscard]] virtual std::optional<double> timed_other_mode_ms() { return std::nullopt; }
  /// The logits of the last pass, N x K row-major, as fp32.
  [[nodiscard]] virtual std::vector<float> output() = 0;
  /// Per-layer algorithm choices (empty on CPU).
  [[nodiscard]] virtual std::vector<layer_algo> algorithms() const { return {}; }
  /// Human-readable execution details (library version, threads, device, timing mode).
  [[nodiscard]] virtual std::string description() const = 0;
};

/// A device as its runtime identifies it (CUDA's own numbering, after Slurm's cgroups and
/// CUDA_VISIBLE_DEVICES have renumbered what the process sees).
struct device_identity {
  int ordinal = -1;        ///< the runtime's device number within this process
  std::string name;        ///< "NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB MIG 1g.5gb"
  std::string uuid;        ///< "GPU-8c1f...", or "MIG-..." for a MIG instance
  std::string pci_bus_id;  ///< "0000:17:00.0" (a MIG instance reports its parent GPU's)
  bool mig = false;        ///< a MIG compute instance: a slice of a GPU, isolated from its siblings
};

/// What a GPU runtime says about the devices this process sees. Injectable so that the binding
/// policy (src/cluster) is tested with made-up nodes; the cudnn backend answers through CUDA.
class device_query {
 public:
  virtual ~device_query() = default;
  /// Devices visible to this process (0 without a driver or device; never throws).
  [[nodiscard]] virtual int count() const = 0;
  /// Makes `ordinal` this process's current device and identifies it. Throws esm::error.
  [[nodiscard]] virtual device_identity select(int ordinal) const = 0;
};

class backend {
 public:
  virtual ~backend() = default;
  /// The devices a GPU backend would run on; nullptr for CPU backends.
  [[nodiscard]] virtual std::unique_ptr<device_query> devices() const { return nullptr; }
  [[nodiscard]] virtual std::string_view name() const = 0;
  /// Library versions, e.g. "oneDNN 2.6.3" or "CUDA runtime 13.0, driver 13.0, cuDNN 9.19.0".
  [[nodiscard]] virtual std::string version() const = 0;
  /// True for a backend whose "timings" are computed, not measured (the synthetic backend):
  /// datasets it makes are marked, and esm train refuses them unless asked.
  [[nodiscard]] virtual bool synthetic() const { return false; }
  /// Throws usage_error when `options` cannot run here (a precision this backend does not offer,
  /// or this CPU has no instructions for), before anything is measured or written; compile()
  /// refuses the same options.
  virtual void check(const compile_options& options) const { (void)options; }
  [[nodiscard]] virtual std::unique_ptr<executable> compile(const net::network& net,
                                                            const compile_options& options) const = 0;
};

/// Names of the backends compiled into this build ("cpu", "cudnn", "reference", "synthetic").
[[nodiscard]] std::vector<std::string> available_backends();
/// Throws usage_error for an unknown name or a backend not compiled in.
[[nodiscard]] std::unique_ptr<backend> make_backend(std::string_view name);

/// A device query that shows this process the GPUs `uuids` ("GPU-..." or "MIG-...", in that order,
/// named "simulated GPU") and makes none current: CUDA's stand-in for the synthetic backend, so that
/// device binding across ranks and hosts runs on machines without a GPU (esm profile's
/// run.synthetic_gpus). Every rank given the same list sees the same devices, as on a node whose
/// ranks all see all of its GPUs.
[[nodiscard]] std::unique_ptr<device_query> make_simulated_device_query(std::vector<std::string> uuids);

}  // namespace esm::backend
