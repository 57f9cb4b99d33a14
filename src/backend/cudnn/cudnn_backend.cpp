// The "cudnn" backend: the network IR executed with cuDNN's convolution and pooling on one CUDA
// stream, plus the kernels of kernels.cu for what cuDNN lacks.
//
// Compile does everything a deployment does once: plan buffers (plan.hpp), upload BN-folded
// weights (converted to fp16 on the device for fp16), choose one algorithm per convolution
// (cudnnFindConvolutionForwardAlgorithmEx or cudnnGetConvolutionForwardAlgorithm_v7, within the
// workspace limit), allocate one workspace of the largest need, run one probing pass that
// falls back exactly where a fused or strided cuDNN call is not supported, and in graph mode
// (or beside eager timing, both_launch_modes) capture one pass into a CUDA graph.
// run()/timed_run_ms() then only enqueue work; timed_other_mode_ms() times the other launch mode.
//
// Layouts: NCHW, or NHWC (channels-last, fp16 only) with the same buffer placement: weights and
// input are reordered on the host before upload, descriptors and kernel views take NHWC strides.
//
// Convolution modes, chosen per step:
//  - fused: cudnnConvolutionBiasActivationForward, y = act(conv(x) + z + bias), for act = relu
//    (any algorithm) and act = none (identity activation, which cuDNN allows only with
//    IMPLICIT_PRECOMP_GEMM); z is the residual of a folded add (alpha2 = 1) or y itself (alpha2 = 0).
//  - unfused: cudnnConvolutionForward, then one pointwise kernel for bias, residual and activation.
//  - packed: as unfused, but through packed scratch tensors, for the rare strided (concat slice)
//    configuration no algorithm supports; the pointwise kernel writes the slice.
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <algorithm>
#include <climits>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <utility>

#include "backend/cudnn/check.hpp"
#include "backend/cudnn/device_query.hpp"
#include "backend/cudnn/handles.hpp"
#include "backend/cudnn/kernels.hpp"
#include "backend/cudnn/plan.hpp"
#include "backend/factories.hpp"
#include "esm/backend/parameters.hpp"
#include "esm/common/error.hpp"

namespace esm::backend::cudnn {

namespace {

using net::op_kind;

constexpr double bytes_per_mib = 1024.0 * 1024.0;

const char* algo_name(cudnnConvolutionFwdAlgo_t algo) {
  switch (algo) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "CUDNN_CONVOLUTION_FWD_ALGO_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "CUDNN_CONVOLUTION_FWD_ALGO_DIRECT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "CUDNN_CONVOLUTION_FWD_ALGO_FFT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED";
    case CUDNN_CONVOLUTION_FWD_ALGO_COUNT: break;
  }
  return "CUDNN_CONVOLUTION_FWD_ALGO_UNKNOWN";
}

int to_int(std::int64_t value, const char* what) {
  if (value < 0 || value > INT_MAX) throw error(std::string("cudnn backend: ") + what + " exceeds cuDNN's int range");
  return static_cast<int>(value);
}

kernels::act_code code_of(net::activation act) { return static_cast<kernels::act_code>(static_cast<int>(act)); }

/// The convolution a conv or fully connected layer denotes (fc: a kernel over the whole input).
struct conv_geometry {
  int out_channels = 0, in_channels_per_group = 0, kernel_h = 1, kernel_w = 1, pad = 0, stride = 1, groups = 1;
};

conv_geometry geometry_of(const net::layer& l) {
  if (l.kind == op_kind::fully_connected) {
    return {to_int(l.out.c, "fc outputs"), to_int(l.in.c, "fc channels"), to_int(l.in.h, "fc height"),
            to_int(l.in.w, "fc width"), 0, 1, 1};
  }
  if (l.pad_end != l.pad_begin) {
    throw error("layer " + l.name + ": convolution with asymmetric padding is not supported by the cudnn backend");
  }
  return {to_int(l.out.c, "conv outputs"), to_int(l.in.c / l.groups, "conv channels"), l.kernel, l.kernel,
          l.pad_begin, l.stride, l.groups};
}

struct algo_choice {
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  cudnnDataType_t compute = CUDNN_DATA_FLOAT;
  std::size_t workspace_bytes = 0;
};

enum class conv_mode { fused, unfused, packed };

struct conv_state {
  conv_geometry geometry;
  tensor_descriptor x_desc, y_desc, z_desc, bias_desc, x_packed_desc, y_packed_desc;
  filter_descriptor w_desc;
  convolution_descriptor conv_desc;
  activation_descriptor act_desc;
  device_buffer weight, bias;          // element type
  device_buffer x_scratch, y_scratch;  // packed mode only
  algo_choice choice;
  conv_mode mode = conv_mode::unfused;
  bool has_bias = false;
};

struct pool_state {
  pooling_descriptor desc;
  tensor_descriptor x_desc, y_desc;
  bool custom = false;  // kernels.cu instead of cudnnPoolingForward
};

struct step_state {
  std::optional<conv_state> conv;
  std::optional<pool_state> pool;
  device_buffer scale, shift;  // batch_norm, fp32
};

/// Algorithm choices per convolution configuration, shared by every executable one backend
/// object compiles (as PyTorch's cudnn.benchmark cache): a configuration is benchmarked once.
class algo_cache {
 public:
  /// nullopt: never searched; a nullopt inside: searched, and no algorithm qualified (for fp16,
  /// commonly no fp32-compute candidate: the next compile goes straight to fp16 compute).
  std::optional<std::optional<algo_choice>> find(const std::string& key) const {
    const std::lock_guard lock(mutex_);
    const auto it = choices_.find(key);
    return it == choices_.end() ? std::nullopt : std::optional<std::optional<algo_choice>>(it->second);
  }
  void store(const std::string& key, const std::optional<algo_choice>& choice) {
    const std::lock_guard lock(mutex_);
    choices_[key] = choice;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::optional<algo_choice>> choices_;
};

class cudnn_executable final : public executable {
 public:
  cudnn_executable(const net::network& net, const compile_options& options, algo_cache& cache);
  ~cudnn_executable() override;
  cudnn_executable(const cudnn_executable&) = delete;
  cudnn_executable& operator=(const cudnn_executable&) = delete;

  void run() override;
  double timed_run_ms() override;
  launch_mode timed_mode() const override { return options_.cuda_graph ? launch_mode::graph : launch_mode::eager; }
  std::optional<double> timed_other_mode_ms() override;
  std::vector<float> output() override;
  std::vector<layer_algo> algorithms() const override { return algorithms_; }
  std::string description() const override { return description_; }

 private:
  // compile
  void allocate_buffers();
  void upload_parameters();
  device_buffer upload(const std::vector<float>& host, bool as_element);
  void upload_into(void* dst, const std::vector<float>& host, bool as_element);
  [[nodiscard]] bool needs_scratch(const tensor_view& v) const;
  void configure(std::size_t index);
  void configure_conv(const step& s, step_state& state);
  void configure_pool(const step& s, step_state& state);
  void choose_conv_algorithm(const step& s, conv_state& c, bool packed);
  std::optional<algo_choice> search_algorithm(conv_state& c, bool packed, const void* x, const void* w, void* y);
  void decide_conv_mode(const step& s, conv_state& c) const;
  void ensure_workspace(std::size_t bytes);
  void capture_graph();
  void summarize();
  [[nodiscard]] double timed_pass_ms(bool replay);

  // execution
  void enqueue_pass();
  void execute(std::size_t index);
  cudnnStatus_t launch_conv(const step& s, conv_state& c);
  void conv_epilogue(const step& s, const conv_state& c, const kernels::view& from);
  void launch_pool(const step& s, pool_state& p);
  void launch_custom_pool(const step& s);
  void launch_pointwise(const kernels::view& in, const kernels::view& out, const kernels::pointwise_terms& terms,
                        net::activation act);

  [[nodiscard]] void* address(const tensor_view& v) const;
  [[nodiscard]] kernels::view kernel_view(const tensor_view& v) const;
  [[nodiscard]] kernels::view packed_view(void* data, const net::shape4& s) const;
  void set_descriptor(const tensor_descriptor& desc, const tensor_view& v) const;
  [[nodiscard]] std::string layer_context(const step& s) const;
  /// Runs f(); an esm error it throws is rethrown, same type, prefixed with the layer.
  template <class F>
  void with_layer_context(const step& s, F&& f) const;

  net::network net_;
  compile_options options_;
  algo_cache& cache_;
  execution_plan plan_;
  kernels::element element_;
  cudnnDataType_t data_type_;
  std::size_t element_bytes_;
  bool nhwc_;  // activations and weights channels-last (fp16 option)
  bool probing_ = false;

  stream stream_;
  cudnn_handle handle_;
  event start_, stop_;
  std::vector<device_buffer> buffers_;
  std::vector<step_state> states_;
  std::vector<layer_parameters> params_;  // host copy, dropped after upload
  device_buffer staging_;                 // fp32 upload staging (fp16 builds) and output staging
  device_buffer workspace_;
  device_buffer find_workspace_;  // compile only
  graph graph_;
  graph_exec graph_exec_;
  std::size_t graph_nodes_ = 0;
  std::string no_graph_reason_;  // both_launch_modes: why no graph could be captured
  std::vector<layer_algo> algorithms_;
  std::string description_;
};

cudnn_executable::cudnn_executable(const net::network& net, const compile_options& options, algo_cache& cache)
    : net_(net),
      options_(options),
      cache_(cache),
      plan_(make_plan(net)),
      element_(options.prec == precision::fp16 ? kernels::element::f16 : kernels::element::f32),
      data_type_(options.prec == precision::fp16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT),
      element_bytes_(options.prec == precision::fp16 ? 2 : 4),
      nhwc_(options.layout == tensor_layout::nhwc) {
  if (nhwc_ && options.prec != precision::fp16) {
    throw usage_error("cudnn backend: layout nhwc is offered for fp16 only (use nchw for fp32)");
  }
  const device_census census = count_devices();
  if (census.count == 0) throw cuda_error("cudnn backend: no CUDA device (" + census.problem + ")", cudaErrorNoDevice);
  if (options.device < 0 || options.device >= census.count) {
    throw usage_error("cudnn backend: CUDA device " + std::to_string(options.device) + " does not exist (" +
                      std::to_string(census.count) + " visible)");
  }
  ESM_CUDA_CHECK(cudaSetDevice(options.device));
  stream_ = make_nonblocking_stream();
  handle_ = make_cudnn_handle();
  ESM_CUDNN_CHECK(cudnnSetStream(handle_.get(), stream_.get()));
  start_ = make_event();
  stop_ = make_event();

  allocate_buffers();
  upload_parameters();
  if (options.algos == algo_selection::find && options.workspace_limit_bytes > 0) {
    std::size_t free_bytes = 0, total_bytes = 0;
    ESM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    find_workspace_ = device_buffer(std::min(options.workspace_limit_bytes, free_bytes / 2));
  }
  states_.resize(plan_.steps.size());
  for (std::size_t i = 0; i < plan_.steps.size(); ++i) configure(i);
  std::size_t workspace_bytes = 0;
  for (const auto& state : states_) {
    if (state.conv) workspace_bytes = std::max(workspace_bytes, state.conv->choice.workspace_bytes);
  }
  ensure_workspace(workspace_bytes);

  // Probing pass: executes every step once, eagerly, replacing unsupported cuDNN calls by their
  // exact fallbacks; it also performs cuDNN's lazy initialisation before any graph capture.
  probing_ = true;
  for (std::size_t i = 0; i < plan_.steps.size(); ++i) execute(i);
  probing_ = false;
  ESM_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  find_workspace_.reset();
  params_.clear();

  if (options.cuda_graph) {
    capture_graph();
  } else if (options.both_launch_modes) {
    // Graph replay is only the companion timing here: a pass that cannot be captured still runs
    // and is timed eagerly.
    try {
      capture_graph();
    } catch (const error& e) {
      no_graph_reason_ = e.what();
      (void)cudaGetLastError();
    }
  }
  summarize();
}

cudnn_executable::~cudnn_executable() {
  ESM_CUDA_CHECK_NOEXCEPT(cudaSetDevice(options_.device));
  if (stream_) ESM_CUDA_CHECK_NOEXCEPT(cudaStreamSynchronize(stream_.get()));
}

// ---------------------------------------------------------------------------------------------
// compile

void cudnn_executable::allocate_buffers() {
  for (const auto& shape : plan_.buffers) {
    const std::size_t bytes = static_cast<std::size_t>(shape.elements()) * element_bytes_;
    buffers_.emplace_back(bytes);
    // Defined contents from the start: a fused conv reads y as z (scaled by 0) on its first pass.
    if (bytes > 0) ESM_CUDA_CHECK(cudaMemsetAsync(buffers_.back().get(), 0, bytes, stream_.get()));
  }
}

device_buffer cudnn_executable::upload(const std::vector<float>& host, bool as_element) {
  const bool convert = as_element && element_ == kernels::element::f16;
  device_buffer dst(host.size() * (convert ? 2 : sizeof(float)));
  upload_into(dst.get(), host, as_element);
  return dst;
}

void cudnn_executable::upload_into(void* dst, const std::vector<float>& host, bool as_element) {
  const std::size_t count = host.size();
  if (count == 0) return;
  // Pageable copies return once the host data is staged, so `host` may go away afterwards.
  if (!as_element || element_ == kernels::element::f32) {
    ESM_CUDA_CHECK(cudaMemcpyAsync(dst, host.data(), count * sizeof(float), cudaMemcpyHostToDevice, stream_.get()));
    return;
  }
  // Stream order keeps the staging buffer's reuse safe: the next copy into it starts after the
  // conversion reading it.
  ESM_CUDA_CHECK(cudaMemcpyAsync(staging_.get(), host.data(), count * sizeof(float), cudaMemcpyHostToDevice,
                                 stream_.get()));
  ESM_CUDA_CHECK(kernels::float_to_half(stream_.get(), static_cast<const float*>(staging_.get()), dst,
                                        static_cast<std::int64_t>(count)));
}

void cudnn_executable::upload_parameters() {
  params_ = make_parameters(net_, options_.seed);
  std::vector<float> input = make_input(net_, options_.seed);
  if (nhwc_) {
    const net::shape4& in = plan_.buffers[static_cast<std::size_t>(plan_.input_buffer)];
    input = to_channels_last(input, in.n, in.c, in.h, in.w);
  }
  // One staging buffer, sized once, for fp32 -> fp16 uploads and for output().
  std::size_t staging_floats = input.size() + static_cast<std::size_t>(plan_.output().shape.elements());
  for (const auto& p : params_) staging_floats = std::max({staging_floats, p.weight.size(), p.bias.size()});
  staging_ = device_buffer(staging_floats * sizeof(float));

  upload_into(buffers_[static_cast<std::size_t>(plan_.input_buffer)].get(), input, true);
}

void cudnn_executable::configure(std::size_t index) {
  const step& s = plan_.steps[index];
  step_state& state = states_[index];
  with_layer_context(s, [&] {
    switch (s.kind) {
      case step_kind::conv: configure_conv(s, state); break;
      case step_kind::pool:
      case step_kind::global_avg_pool: configure_pool(s, state); break;
      case step_kind::batch_norm: {
        const layer_parameters& p = params_[static_cast<std::size_t>(s.layer)];
        state.scale = upload(p.weight, false);
        state.shift = upload(p.bias, false);
        break;
      }
      case step_kind::channel_scale:
      case step_kind::add:
      case step_kind::copy: break;
    }
  });
}

void cudnn_executable::configure_conv(const step& s, step_state& state) {
  const net::layer& l = net_.layers[static_cast<std::size_t>(s.layer)];
  conv_state& c = state.conv.emplace();
  c.geometry = geometry_of(l);
  const conv_geometry& g = c.geometry;
  const layer_parameters& p = params_[static_cast<std::size_t>(s.layer)];
  const std::size_t weights = static_cast<std::size_t>(g.out_channels) * static_cast<std::size_t>(g.in_channels_per_group) *
                              static_cast<std::size_t>(g.kernel_h) * static_cast<std::size_t>(g.kernel_w);
  if (p.weight.size() != weights || p.bias.size() != static_cast<std::size_t>(g.out_channels)) {
    throw error("parameters do not match the convolution");
  }
  c.weight = upload(nhwc_ ? to_channels_last(p.weight, g.out_channels, g.in_channels_per_group, g.kernel_h, g.kernel_w)
                          : p.weight,
                    true);
  c.bias = upload(p.bias, true);
  c.has_bias = l.bias || l.batch_norm || l.kind == op_kind::fully_connected;

  c.x_desc = make_tensor_descriptor();
  c.y_desc = make_tensor_descriptor();
  set_descriptor(c.x_desc, s.x);
  set_descriptor(c.y_desc, s.y);
  if (s.has_other()) {
    c.z_desc = make_tensor_descriptor();
    set_descriptor(c.z_desc, s.other);
  }
  c.bias_desc = make_tensor_descriptor();
  ESM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(c.bias_desc.get(), CUDNN_TENSOR_NCHW, data_type_, 1, g.out_channels, 1, 1));
  c.w_desc = make_filter_descriptor();
  ESM_CUDNN_CHECK(cudnnSetFilter4dDescriptor(c.w_desc.get(), data_type_, nhwc_ ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW,
                                             g.out_channels,
                                             g.in_channels_per_group, g.kernel_h, g.kernel_w));
  c.conv_desc = make_convolution_descriptor();
  c.act_desc = make_activation_descriptor();

  choose_conv_algorithm(s, c, false);
  decide_conv_mode(s, c);
}

void cudnn_executable::choose_conv_algorithm(const step& s, conv_state& c, bool packed) {
  if (packed) {
    if (!c.x_packed_desc) {
      c.x_packed_desc = make_tensor_descriptor();
      c.y_packed_desc = make_tensor_descriptor();
      set_descriptor(c.x_packed_desc, packed_tensor(s.x.shape));
      set_descriptor(c.y_packed_desc, packed_tensor(s.y.shape));
      if (needs_scratch(s.x)) c.x_scratch = device_buffer(static_cast<std::size_t>(s.x.shape.elements()) * element_bytes_);
      c.y_scratch = device_buffer(static_cast<std::size_t>(s.y.shape.elements()) * element_bytes_);
    }
    const void* x = c.x_scratch ? c.x_scratch.get() : address(s.x);
    if (auto choice = search_algorithm(c, true, x, c.weight.get(), c.y_scratch.get())) {
      c.choice = *choice;
      return;
    }
    throw error("no cuDNN convolution algorithm supports this layer within the workspace limit of " +
                std::to_string(options_.workspace_limit_bytes) + " bytes");
  }

  // The output dimensions cuDNN derives must be the IR's.
  const conv_geometry& g = c.geometry;
  ESM_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(c.conv_desc.get(), g.pad, g.pad, g.stride, g.stride, 1, 1,
                                                  CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  ESM_CUDNN_CHECK(cudnnSetConvolutionGroupCount(c.conv_desc.get(), g.groups));
  int n = 0, ch = 0, h = 0, w = 0;
  ESM_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(c.conv_desc.get(), c.x_desc.get(), c.w_desc.get(), &n, &ch, &h, &w));
  if (n != s.y.shape.n || ch != s.y.shape.c || h != s.y.shape.h || w != s.y.shape.w) {
    throw error("cuDNN's convolution output shape differs from the IR's");
  }
  if (auto choice = search_algorithm(c, false, address(s.x), c.weight.get(), address(s.y))) {
    c.choice = *choice;
    return;
  }
  if (!needs_scratch(s.x) && !needs_scratch(s.y)) {
    throw error("no cuDNN convolution algorithm supports this layer within the workspace limit of " +
                std::to_string(options_.workspace_limit_bytes) + " bytes");
  }
  c.mode = conv_mode::packed;
  choose_conv_algorithm(s, c, true);
}

std::optional<algo_choice> cudnn_executable::search_algorithm(conv_state& c, bool packed, const void* x,
                                                              const void* w, void* y) {
  const bool half = data_type_ == CUDNN_DATA_HALF;
  const cudnnTensorDescriptor_t xd = packed ? c.x_packed_desc.get() : c.x_desc.get();
  const cudnnTensorDescriptor_t yd = packed ? c.y_packed_desc.get() : c.y_desc.get();
  const conv_geometry& g = c.geometry;
  const std::size_t limit = options_.workspace_limit_bytes;
  // fp32: true fp32 (FMA math, no TF32). fp16: tensor-op math, fp32 accumulation first, fp16
  // accumulation only where no fp32-accumulating algorithm exists.
  const cudnnMathType_t base_math = half ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
  std::vector<cudnnDataType_t> computes{CUDNN_DATA_FLOAT};
  if (half) computes.push_back(CUDNN_DATA_HALF);

  for (const cudnnDataType_t compute : computes) {
    ESM_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(c.conv_desc.get(), g.pad, g.pad, g.stride, g.stride, 1, 1,
                                                    CUDNN_CROSS_CORRELATION, compute));
    ESM_CUDNN_CHECK(cudnnSetConvolutionGroupCount(c.conv_desc.get(), g.groups));
    ESM_CUDNN_CHECK(cudnnSetConvolutionMathType(c.conv_desc.get(), base_math));

    std::ostringstream key;
    const auto dims = [&key](cudnnTensorDescriptor_t d) {
      cudnnDataType_t t{};
      int v[8] = {};
      ESM_CUDNN_CHECK(cudnnGetTensor4dDescriptor(d, &t, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]));
      for (int e : v) key << e << ',';
    };
    key << options_.device << (nhwc_ ? "|nhwc|" : "|nchw|") << static_cast<int>(options_.algos) << '|' << limit << '|'
        << data_type_ << '|' << compute << '|' << g.out_channels << ',' << g.in_channels_per_group << ',' << g.kernel_h << ','
        << g.kernel_w << ',' << g.pad << ',' << g.stride << ',' << g.groups << '|';
    dims(xd);
    key << '|';
    dims(yd);
    if (const auto hit = cache_.find(key.str())) {
      if (!*hit) continue;  // searched before: nothing qualified with this compute type
      ESM_CUDNN_CHECK(cudnnSetConvolutionMathType(c.conv_desc.get(), (*hit)->math));
      return *hit;
    }

    int max_count = 0;
    ESM_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(handle_.get(), &max_count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<std::size_t>(std::max(max_count, 1)));
    int returned = 0;
    cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
    if (options_.algos == algo_selection::find) {
      status = cudnnFindConvolutionForwardAlgorithmEx(handle_.get(), xd, x, c.w_desc.get(), w, c.conv_desc.get(), yd, y,
                                                      static_cast<int>(perf.size()), &returned, perf.data(),
                                                      find_workspace_.get(), find_workspace_.bytes());
    } else {
      status = cudnnGetConvolutionForwardAlgorithm_v7(handle_.get(), xd, c.w_desc.get(), c.conv_desc.get(), yd,
                                                      static_cast<int>(perf.size()), &returned, perf.data());
    }
    if (is_unsupported(status)) {
      cache_.store(key.str(), std::nullopt);
      continue;
    }
    check_cudnn(status, options_.algos == algo_selection::find ? "cudnnFindConvolutionForwardAlgorithmEx"
                                                               : "cudnnGetConvolutionForwardAlgorithm_v7");

    for (int i = 0; i < returned; ++i) {
      const cudnnConvolutionFwdAlgoPerf_t& candidate = perf[static_cast<std::size_t>(i)];
      if (candidate.status != CUDNN_STATUS_SUCCESS || candidate.memory > limit) continue;
      const cudnnMathType_t math = half ? candidate.mathType : CUDNN_FMA_MATH;
      ESM_CUDNN_CHECK(cudnnSetConvolutionMathType(c.conv_desc.get(), math));
      std::size_t bytes = 0;
      if (cudnnGetConvolutionForwardWorkspaceSize(handle_.get(), xd, c.w_desc.get(), c.conv_desc.get(), yd,
                                                  candidate.algo, &bytes) != CUDNN_STATUS_SUCCESS ||
          bytes > limit) {
        continue;
      }
      const algo_choice choice{candidate.algo, math, compute, bytes};
      cache_.store(key.str(), choice);
      return choice;
    }
    cache_.store(key.str(), std::nullopt);
  }
  return std::nullopt;
}

void cudnn_executable::decide_conv_mode(const step& s, conv_state& c) const {
  if (c.mode == conv_mode::packed) return;
  const bool identity_allowed = c.choice.algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  if (s.act == net::activation::relu) {
    c.mode = conv_mode::fused;
    ESM_CUDNN_CHECK(cudnnSetActivationDescriptor(c.act_desc.get(), CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
  } else if (s.act == net::activation::none && (c.has_bias || s.has_other()) && identity_allowed) {
    c.mode = conv_mode::fused;
    ESM_CUDNN_CHECK(
        cudnnSetActivationDescriptor(c.act_desc.get(), CUDNN_ACTIVATION_IDENTITY, CUDNN_NOT_PROPAGATE_NAN, 0.0));
  } else {
    c.mode = conv_mode::unfused;
  }
}

void cudnn_executable::configure_pool(const step& s, step_state& state) {
  const net::layer& l = net_.layers[static_cast<std::size_t>(s.layer)];
  pool_state& p = state.pool.emplace();
  const bool global = s.kind == step_kind::global_avg_pool;
  if (!global && l.pad_end != l.pad_begin) {
    p.custom = true;  // cuDNN pads symmetrically; ceil-mode windows need the exact kernel
    return;
  }
  p.desc = make_pooling_descriptor();
  p.x_desc = make_tensor_descriptor();
  p.y_desc = make_tensor_descriptor();
  set_descriptor(p.x_desc, s.x);
  set_descriptor(p.y_desc, s.y);
  if (global) {
    ESM_CUDNN_CHECK(cudnnSetPooling2dDescriptor(p.desc.get(), CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                                                CUDNN_NOT_PROPAGATE_NAN, to_int(l.in.h, "pool height"),
                                                to_int(l.in.w, "pool width"), 0, 0, 1, 1));
  } else {
    const cudnnPoolingMode_t mode =
        l.kind == op_kind::max_pool ? CUDNN_POOLING_MAX : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
    ESM_CUDNN_CHECK(cudnnSetPooling2dDescriptor(p.desc.get(), mode, CUDNN_NOT_PROPAGATE_NAN, l.kernel, l.kernel,
                                                l.pad_begin, l.pad_begin, l.stride, l.stride));
  }
  int n = 0, c = 0, h = 0, w = 0;
  ESM_CUDNN_CHECK(cudnnGetPooling2dForwardOutputDim(p.desc.get(), p.x_desc.get(), &n, &c, &h, &w));
  if (n != s.y.shape.n || c != s.y.shape.c || h != s.y.shape.h || w != s.y.shape.w) p.custom = true;
}

void cudnn_executable::ensure_workspace(std::size_t bytes) {
  if (bytes <= workspace_.bytes()) return;
  ESM_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));  // no pending work may use the old one
  workspace_.reset();
  workspace_ = device_buffer(bytes);
}

void cudnn_executable::capture_graph() {
  // Relaxed: cuDNN may make host-side runtime calls (attribute queries, a lazy allocation) that
  // stricter modes refuse while capturing; everything esm enqueues goes to the captured stream.
  ESM_CUDA_CHECK(cudaStreamBeginCapture(stream_.get(), cudaStreamCaptureModeRelaxed));
  try {
    enqueue_pass();
  } catch (...) {
    cudaGraph_t partial = nullptr;
    ESM_CUDA_CHECK_NOEXCEPT(cudaStreamEndCapture(stream_.get(), &partial));
    const graph discarded(partial);  // destroys what was captured so far
    throw;
  }
  cudaGraph_t captured = nullptr;
  ESM_CUDA_CHECK(cudaStreamEndCapture(stream_.get(), &captured));
  graph_ = graph(captured);
  ESM_CUDA_CHECK(cudaGraphGetNodes(graph_.get(), nullptr, &graph_nodes_));
  cudaGraphExec_t exec = nullptr;
  ESM_CUDA_CHECK(cudaGraphInstantiate(&exec, graph_.get(), 0));
  graph_exec_ = graph_exec(exec);
  ESM_CUDA_CHECK(cudaGraphUpload(graph_exec_.get(), stream_.get()));
  ESM_CUDA_CHECK(cudaGraphLaunch(graph_exec_.get(), stream_.get()));  // one replay before timing
  ESM_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
}

void cudnn_executable::summarize() {
  int fused = 0, unfused = 0, packed = 0, cudnn_pools = 0, custom_pools = 0;
  std::size_t largest_workspace = 0;
  for (std::size_t i = 0; i < plan_.steps.size(); ++i) {
    const step_state& state = states_[i];
    if (state.conv) {
      const conv_state& c = *state.conv;
      fused += c.mode == conv_mode::fused;
      unfused += c.mode == conv_mode::unfused;
      packed += c.mode == conv_mode::packed;
      largest_workspace = std::max(largest_workspace, c.choice.workspace_bytes);
      algorithms_.push_back({plan_.steps[i].layer, algo_name(c.choice.algo), static_cast<int>(c.choice.algo),
                             c.choice.workspace_bytes});
    }
    if (state.pool) (state.pool->custom ? custom_pools : cudnn_pools) += 1;
  }
  std::ostringstream os;
  os.precision(3);
  os << "cudnn: " << library_versions() << "; " << describe_device(options_.device) << "; "
     << (data_type_ == CUDNN_DATA_HALF
             ? std::string("fp16 ") + (nhwc_ ? "NHWC" : "NCHW") + ", tensor-op math, fp32 accumulation where cuDNN allows"
             : std::string("fp32 NCHW, FMA math (no TF32)"))
     << "; algorithms: "
     << (options_.algos == algo_selection::find ? "find (cudnnFindConvolutionForwardAlgorithmEx"
                                                : "heuristic (cudnnGetConvolutionForwardAlgorithm_v7")
     << ", cached per configuration), workspace limit " << static_cast<double>(options_.workspace_limit_bytes) / bytes_per_mib
     << " MiB, allocated " << static_cast<double>(workspace_.bytes()) / bytes_per_mib << " MiB"
     << "; execution: "
     << (options_.cuda_graph ? "CUDA graph replay (cudaGraphLaunch, " + std::to_string(graph_nodes_) + " nodes)"
                             : std::string("stream launches"))
     << (options_.cuda_graph || !options_.both_launch_modes
             ? std::string()
             : graph_exec_ ? ", beside CUDA graph replays (" + std::to_string(graph_nodes_) + " nodes)"
                           : ", no graph replays (capture failed: " + no_graph_reason_ + ")")
     << " on a non-blocking stream, timed with CUDA events; plan: " << plan_.steps.size() << " steps, " << fused
     << " fused conv+bias+act, " << unfused << " conv+pointwise, " << packed << " conv via packed scratch, "
     << plan_.fused_residuals << " residual adds folded into convs, " << plan_.concat_slices
     << " concat inputs in place, " << plan_.concat_copies << " concat copies, " << cudnn_pools << " cuDNN pools, "
     << custom_pools << " kernel pools";
  description_ = os.str();
}

// ---------------------------------------------------------------------------------------------
// execution

void cudnn_executable::enqueue_pass() {
  for (std::size_t i = 0; i < plan_.steps.size(); ++i) execute(i);
}

void cudnn_executable::execute(std::size_t index) {
  const step& s = plan_.steps[index];
  step_state& state = states_[index];
  with_layer_context(s, [&] {
    switch (s.kind) {
      case step_kind::conv: {
        conv_state& c = *state.conv;
        for (;;) {
          const cudnnStatus_t status = launch_conv(s, c);
          if (status == CUDNN_STATUS_SUCCESS) break;
          // While probing: a fused call cuDNN refuses (for whatever reason) becomes conv + kernel;
          // an unsupported strided or misaligned one goes through packed scratch tensors.
          const bool to_unfused = probing_ && c.mode == conv_mode::fused;
          const bool to_packed = probing_ && c.mode == conv_mode::unfused && is_unsupported(status) &&
                                 (needs_scratch(s.x) || needs_scratch(s.y));
          if (!to_unfused && !to_packed) {
            check_cudnn(status, c.mode == conv_mode::fused ? "cudnnConvolutionBiasActivationForward"
                                                           : "cudnnConvolutionForward");
          }
          if (to_unfused) {
            c.mode = conv_mode::unfused;
          } else {
            c.mode = conv_mode::packed;
            choose_conv_algorithm(s, c, true);
            ensure_workspace(c.choice.workspace_bytes);
          }
        }
        break;
      }
      case step_kind::pool:
      case step_kind::global_avg_pool: launch_pool(s, *state.pool); break;
      case step_kind::batch_norm: {
        kernels::pointwise_terms terms;
        terms.scale = static_cast<const float*>(state.scale.get());
        terms.shift = static_cast<const float*>(state.shift.get());
        launch_pointwise(kernel_view(s.x), kernel_view(s.y), terms, s.act);
        break;
      }
      case step_kind::channel_scale: {
        kernels::pointwise_terms terms;
        terms.factor = kernel_view(s.other);
        launch_pointwise(kernel_view(s.x), kernel_view(s.y), terms, s.act);
        break;
      }
      case step_kind::add: {
        kernels::pointwise_terms terms;
        terms.addend = kernel_view(s.other);
        launch_pointwise(kernel_view(s.x), kernel_view(s.y), terms, s.act);
        break;
      }
      case step_kind::copy: launch_pointwise(kernel_view(s.x), kernel_view(s.y), {}, s.act); break;
    }
  });
}

cudnnStatus_t cudnn_executable::launch_conv(const step& s, conv_state& c) {
  const float one = 1.0f, zero = 0.0f, alpha2 = s.has_other() ? 1.0f : 0.0f;
  void* y = address(s.y);
  switch (c.mode) {
    case conv_mode::fused:
      return cudnnConvolutionBiasActivationForward(
          handle_.get(), &one, c.x_desc.get(), address(s.x), c.w_desc.get(), c.weight.get(), c.conv_desc.get(),
          c.choice.algo, workspace_.get(), workspace_.bytes(), &alpha2, s.has_other() ? c.z_desc.get() : c.y_desc.get(),
          s.has_other() ? address(s.other) : y, c.bias_desc.get(), c.bias.get(), c.act_desc.get(), c.y_desc.get(), y);
    case conv_mode::unfused: {
      const cudnnStatus_t status =
          cudnnConvolutionForward(handle_.get(), &one, c.x_desc.get(), address(s.x), c.w_desc.get(), c.weight.get(),
                                  c.conv_desc.get(), c.choice.algo, workspace_.get(), workspace_.bytes(), &zero,
                                  c.y_desc.get(), y);
      if (status != CUDNN_STATUS_SUCCESS) return status;
      if (c.has_bias || s.has_other() || s.act != net::activation::none) conv_epilogue(s, c, kernel_view(s.y));
      return status;
    }
    case conv_mode::packed: {
      const void* x = address(s.x);
      if (c.x_scratch) {
        launch_pointwise(kernel_view(s.x), packed_view(c.x_scratch.get(), s.x.shape), {}, net::activation::none);
        x = c.x_scratch.get();
      }
      const cudnnStatus_t status = cudnnConvolutionForward(
          handle_.get(), &one, c.x_packed_desc.get(), x, c.w_desc.get(), c.weight.get(), c.conv_desc.get(),
          c.choice.algo, workspace_.get(), workspace_.bytes(), &zero, c.y_packed_desc.get(), c.y_scratch.get());
      if (status != CUDNN_STATUS_SUCCESS) return status;
      conv_epilogue(s, c, packed_view(c.y_scratch.get(), s.y.shape));
      return status;
    }
  }
  return CUDNN_STATUS_INTERNAL_ERROR;
}

void cudnn_executable::conv_epilogue(const step& s, const conv_state& c, const kernels::view& from) {
  kernels::pointwise_terms terms;
  if (c.has_bias) terms.bias = c.bias.get();
  if (s.has_other()) terms.addend = kernel_view(s.other);
  launch_pointwise(from, kernel_view(s.y), terms, s.act);
}

void cudnn_executable::launch_pool(const step& s, pool_state& p) {
  if (!p.custom) {
    const float one = 1.0f, zero = 0.0f;
    const cudnnStatus_t status =
        cudnnPoolingForward(handle_.get(), p.desc.get(), &one, p.x_desc.get(), address(s.x), &zero, p.y_desc.get(),
                            address(s.y));
    if (status == CUDNN_STATUS_SUCCESS) {
      if (s.act != net::activation::none) launch_pointwise(kernel_view(s.y), kernel_view(s.y), {}, s.act);
      return;
    }
    if (!probing_) check_cudnn(status, "cudnnPoolingForward");
    p.custom = true;  // exact kernel instead (e.g. a strided or misaligned concat slice)
  }
  launch_custom_pool(s);
}

void cudnn_executable::launch_custom_pool(const step& s) {
  const net::layer& l = net_.layers[static_cast<std::size_t>(s.layer)];
  if (s.kind == step_kind::global_avg_pool) {
    ESM_CUDA_CHECK(kernels::global_avg_pool(element_, stream_.get(), kernel_view(s.x), kernel_view(s.y), code_of(s.act)));
    return;
  }
  const kernels::pool_window window{l.kernel, l.stride, l.pad_begin, l.kind == op_kind::max_pool};
  ESM_CUDA_CHECK(kernels::pool(element_, stream_.get(), kernel_view(s.x), kernel_view(s.y), window, code_of(s.act)));
}

void cudnn_executable::launch_pointwise(const kernels::view& in, const kernels::view& out,
                                        const kernels::pointwise_terms& terms, net::activation act) {
  ESM_CUDA_CHECK(kernels::pointwise(element_, stream_.get(), in, out, terms, code_of(act)));
}

void cudnn_executable::run() {
  ESM_CUDA_CHECK(cudaSetDevice(options_.device));
  if (options_.cuda_graph) {
    ESM_CUDA_CHECK(cudaGraphLaunch(graph_exec_.get(), stream_.get()));
  } else {
    enqueue_pass();
  }
  ESM_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
}

double cudnn_executable::timed_run_ms() { return timed_pass_ms(options_.cuda_graph); }

std::optional<double> cudnn_executable::timed_other_mode_ms() {
  if (options_.cuda_graph) return timed_pass_ms(false);
  if (graph_exec_) return timed_pass_ms(true);
  return std::nullopt;
}

double cudnn_executable::timed_pass_ms(bool replay) {
  ESM_CUDA_CHECK(cudaSetDevice(options_.device));
  ESM_CUDA_CHECK(cudaEventRecord(start_.get(), stream_.get()));
  if (replay) {
    ESM_CUDA_CHECK(cudaGraphLaunch(graph_exec_.get(), stream_.get()));
  } else {
    enqueue_pass();
  }
  ESM_CUDA_CHECK(cudaEventRecord(stop_.get(), stream_.get()));
  ESM_CUDA_CHECK(cudaEventSynchronize(stop_.get()));
  float ms = 0.0f;
  ESM_CUDA_CHECK(cudaEventElapsedTime(&ms, start_.get(), stop_.get()));
  return static_cast<double>(ms);
}

std::vector<float> cudnn_executable::output() {
  ESM_CUDA_CHECK(cudaSetDevice(options_.device));
  const tensor_view& out = plan_.output();
  std::vector<float> host(static_cast<std::size_t>(out.shape.elements()));
  ESM_CUDA_CHECK(kernels::to_float(element_, stream_.get(), kernel_view(out), static_cast<float*>(staging_.get())));
  ESM_CUDA_CHECK(cudaMemcpyAsync(host.data(), staging_.get(), host.size() * sizeof(float), cudaMemcpyDeviceToHost,
                                 stream_.get()));
  ESM_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  return host;
}

// ---------------------------------------------------------------------------------------------
// helpers

void* cudnn_executable::address(const tensor_view& v) const {
  const std::int64_t offset = nhwc_ ? v.nhwc_offset() : v.offset;
  return static_cast<char*>(buffers_[static_cast<std::size_t>(v.buffer)].get()) +
         static_cast<std::size_t>(offset) * element_bytes_;
}

bool cudnn_executable::needs_scratch(const tensor_view& v) const {
  // cudaMalloc aligns to 256 bytes; views that are strided or start elsewhere may be refused.
  const bool packed = nhwc_ ? v.packed_nhwc() : v.packed();
  const std::int64_t offset = nhwc_ ? v.nhwc_offset() : v.offset;
  return !packed || (static_cast<std::size_t>(offset) * element_bytes_) % 256 != 0;
}

kernels::view cudnn_executable::kernel_view(const tensor_view& v) const {
  const net::shape4& s = v.shape;
  if (nhwc_) return {address(v), s.n, s.c, s.h, s.w, v.buffer_channels * s.h * s.w, true, v.buffer_channels};
  return {address(v), s.n, s.c, s.h, s.w, v.batch_stride};
}

kernels::view cudnn_executable::packed_view(void* data, const net::shape4& s) const {
  return {data, s.n, s.c, s.h, s.w, s.c * s.h * s.w, nhwc_, nhwc_ ? s.c : 1};
}

void cudnn_executable::set_descriptor(const tensor_descriptor& desc, const tensor_view& v) const {
  const net::shape4& s = v.shape;
  if (nhwc_) {
    const std::int64_t pixel = v.buffer_channels;
    ESM_CUDNN_CHECK(cudnnSetTensor4dDescriptorEx(desc.get(), data_type_, to_int(s.n, "batch"), to_int(s.c, "channels"),
                                                 to_int(s.h, "height"), to_int(s.w, "width"),
                                                 to_int(pixel * s.h * s.w, "batch stride"), 1,
                                                 to_int(s.w * pixel, "row stride"), to_int(pixel, "pixel stride")));
    return;
  }
  ESM_CUDNN_CHECK(cudnnSetTensor4dDescriptorEx(desc.get(), data_type_, to_int(s.n, "batch"), to_int(s.c, "channels"),
                                               to_int(s.h, "height"), to_int(s.w, "width"),
                                               to_int(v.batch_stride, "batch stride"), to_int(s.h * s.w, "plane"),
                                               to_int(s.w, "width"), 1));
}

template <class F>
void cudnn_executable::with_layer_context(const step& s, F&& f) const {
  try {
    std::forward<F>(f)();
  } catch (const cudnn_error& e) {
    throw cudnn_error(layer_context(s) + ": " + e.what(), e.status());
  } catch (const cuda_error& e) {
    throw cuda_error(layer_context(s) + ": " + e.what(), e.status());
  } catch (const error& e) {
    throw error(layer_context(s) + ": " + e.what());
  }
}

std::string cudnn_executable::layer_context(const step& s) const {
  const net::layer& l = net_.layers[static_cast<std::size_t>(s.layer)];
  std::string text = "cudnn backend, layer " + std::to_string(s.layer) + " (" + l.name + ", " +
                     std::string(net::to_string(l.kind));
  if (s.fused_add >= 0) text += " + " + net_.layers[static_cast<std::size_t>(s.fused_add)].name;
  return text + ")";
}

class cudnn_backend final : public backend {
 public:
  std::string_view name() const override { return "cudnn"; }
  std::string version() const override { return library_versions(); }
  std::unique_ptr<device_query> devices() const override { return make_cuda_device_query(); }
  void check(const compile_options& options) const override {
    if (options.prec != precision::fp32 && options.prec != precision::fp16) {
      throw usage_error("cudnn backend: precision " + std::string(to_string(options.prec)) +
                        " is offered on the cpu backend only (cudnn: fp32, fp16)");
    }
  }
  std::unique_ptr<executable> compile(const net::network& net, const compile_options& options) const override {
    check(options);
    return std::make_unique<cudnn_executable>(net, options, cache_);
  }

 private:
  mutable algo_cache cache_;
};

}  // namespace

}  // namespace esm::backend::cudnn

namespace esm::backend {

std::unique_ptr<backend> make_cudnn_backend() { return std::make_unique<cudnn::cudnn_backend>(); }

}  // namespace esm::backend
