// Execution backends: compile a network IR once, then run and time forward passes.
//
// A backend knows nothing of datasets or MPI. `compile` allocates everything (device memory,
// descriptors, weights, workspaces) so that `run` and `timed_run_ms` do no allocation and no
// set-up: what is timed is the forward pass a deployment would run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "esm/net/network.hpp"

namespace esm::backend {

enum class precision { fp32, fp16 };
[[nodiscard]] std::string_view to_string(precision p);
[[nodiscard]] precision parse_precision(std::string_view text);  ///< throws usage_error

enum class algo_selection {
  find,       ///< benchmark every algorithm per layer at compile time (cudnn.benchmark=True)
  heuristic,  ///< the library's heuristic first choice
};
[[nodiscard]] std::string_view to_string(algo_selection a);
[[nodiscard]] algo_selection parse_algo_selection(std::string_view text);  ///< throws usage_error

struct compile_options {
  precision prec = precision::fp32;
  std::uint64_t seed = 42;  ///< weights and input (backend::make_parameters / make_input)
  // CPU
  int threads = 0;  ///< 0: every core this process may run on (sched_getaffinity)
  // GPU
  int device = 0;
  algo_selection algos = algo_selection::find;
  std::size_t workspace_limit_bytes = std::size_t{256} << 20;
  bool cuda_graph = false;  ///< replay the whole pass from a captured CUDA graph
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
  /// The logits of the last pass, N x K row-major, as fp32.
  [[nodiscard]] virtual std::vector<float> output() = 0;
  /// Per-layer algorithm choices (empty on CPU).
  [[nodiscard]] virtual std::vector<layer_algo> algorithms() const { return {}; }
  /// Human-readable execution details (library version, threads, device, timing mode).
  [[nodiscard]] virtual std::string description() const = 0;
};

class backend {
 public:
  virtual ~backend() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  /// Library versions, e.g. "oneDNN 2.6.3" or "CUDA runtime 13.0, driver 13.0, cuDNN 9.19.0".
  [[nodiscard]] virtual std::string version() const = 0;
  /// True for a backend whose "timings" are computed, not measured (the synthetic backend):
  /// datasets it makes are marked, and esm train refuses them unless asked.
  [[nodiscard]] virtual bool synthetic() const { return false; }
  [[nodiscard]] virtual std::unique_ptr<executable> compile(const net::network& net,
                                                            const compile_options& options) const = 0;
};

/// Names of the backends compiled into this build ("cpu", "cudnn", "reference", "synthetic").
[[nodiscard]] std::vector<std::string> available_backends();
/// Throws usage_error for an unknown name or a backend not compiled in.
[[nodiscard]] std::unique_ptr<backend> make_backend(std::string_view name);

}  // namespace esm::backend
