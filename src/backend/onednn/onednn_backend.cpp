// The "cpu" backend: a network lowered to oneDNN primitives, bound to one activation arena,
// run on the calling thread's OpenMP team and timed with the monotonic clock.
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>

#include "backend/factories.hpp"
#include "backend/onednn/calibration.hpp"
#include "backend/onednn/check.hpp"
#include "backend/onednn/memory_plan.hpp"
#include "backend/onednn/primitives.hpp"
#include "backend/onednn/program.hpp"
#include "backend/onednn/quantize.hpp"
#include "backend/onednn/threading.hpp"

namespace esm::backend {

namespace onednn {

namespace {

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

/// Bytes and step range [first, last] of each tensor in the arena (0 bytes: not in the arena).
std::vector<buffer_request> lifetimes(const program& prog) {
  std::vector<buffer_request> live(prog.tensors.size(), {0, std::numeric_limits<int>::max(), -1});
  for (std::size_t s = 0; s < prog.steps.size(); ++s) {
    for (const tensor_arg& a : prog.steps[s].tensors) {
      buffer_request& r = live[static_cast<std::size_t>(a.tensor)];
      r.first_step = std::min(r.first_step, static_cast<int>(s));
      r.last_step = std::max(r.last_step, static_cast<int>(s));
    }
  }
  live[static_cast<std::size_t>(prog.output_tensor)].last_step = static_cast<int>(prog.steps.size());  // read by output()
  for (std::size_t t = 0; t < live.size(); ++t) {
    const bool in_arena = !prog.tensors[t].external && live[t].last_step >= 0;
    live[t].bytes = in_arena ? prog.tensors[t].desc.get_size() : 0;
  }
  return live;
}

class onednn_executable final : public executable {
 public:
  onednn_executable(const net::network& net, const compile_options& options, int threads)
      : threads_(threads), prec_(options.prec), input_(make_input(net, options.seed)) {
    const std::vector<layer_parameters> params = make_parameters(net, options.seed);
    lowering_options lowering;
    lowering.prec = options.prec;
    if (options.prec == precision::int8) calibrate(net, params, options.seed, calibration_inputs, lowering, engine_, stream_);
    const program prog = lower(net, params, lowering, engine_, stream_);
    bind(prog);
    bind_output(prog, net.output_shape());
  }

  /// Random inputs whose fp32 activations set the int8 scales (docs/decisions.md).
  static constexpr int calibration_inputs = 4;

  void run() override {
    set_thread_count(threads_);
    for (bound_step& s : steps_) {
      checked(s.name, [&] { s.primitive.execute(stream_, s.args); });
    }
    stream_.wait();
  }

  double timed_run_ms() override {
    const auto start = std::chrono::steady_clock::now();
    run();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }

  std::vector<float> output() override {
    checked(output_step_.name, [&] { output_step_.primitive.execute(stream_, output_step_.args); });
    stream_.wait();
    return output_;
  }

  std::string description() const override { return description_; }

  /// The implementation oneDNN chose for each primitive but the reorders, with its IR layer.
  std::vector<layer_algo> algorithms() const override { return kernels_; }

 private:
  struct bound_step {
    std::string name;
    dnnl::primitive primitive;
    std::unordered_map<int, dnnl::memory> args;
  };

  /// Places every tensor in one zeroed arena and gives each step its memory objects, so that
  /// run() only executes primitives.
  void bind(const program& prog) {
    const std::vector<buffer_request> live = lifetimes(prog);
    plan_ = plan_memory(live);
    checked("activation arena", [&] {
      const auto bytes = static_cast<dnnl::memory::dim>(std::max<std::size_t>(plan_.total_bytes, 64));
      arena_ = dnnl::memory({{bytes}, dnnl::memory::data_type::u8, dnnl::memory::format_tag::a}, engine_);
    });
    std::memset(arena_.get_data_handle(), 0, arena_.get_desc().get_size());
    int reorders = 0;
    for (const step& s : prog.steps) {
      bound_step b{s.name, s.primitive, s.constants};
      checked(s.name, [&] {
        for (const tensor_arg& a : s.tensors) b.args.emplace(a.arg, memory_of(prog, a.tensor, a.view));
      });
      steps_.push_back(std::move(b));
      reorders += s.is_reorder ? 1 : 0;
      if (!s.is_reorder) kernels_.push_back({s.layer, s.implementation, -1, 0});
    }
    describe(reorders);
  }

  /// output() converts the result to plain NCHW outside the timed pass.
  void bind_output(const program& prog, const net::shape4& shape) {
    output_.resize(static_cast<std::size_t>(shape.elements()));
    output_step_.name = "network output (reorder)";
    checked(output_step_.name, [&] {
      const auto& result_desc = prog.tensors[static_cast<std::size_t>(prog.output_tensor)].desc;
      const dnnl::memory result = memory_of(prog, prog.output_tensor, result_desc);
      const dnnl::memory target(plain_desc(dims_of(shape)), engine_, output_.data());
      output_step_.primitive = dnnl::reorder(result, target);
      output_step_.args = {{DNNL_ARG_FROM, result}, {DNNL_ARG_TO, target}};
    });
  }

  dnnl::memory memory_of(const program& prog, int tensor, const dnnl::memory::desc& view) {
    if (prog.tensors[static_cast<std::size_t>(tensor)].external) return {view, engine_, input_.data()};
    auto* base = static_cast<unsigned char*>(arena_.get_data_handle());
    return {view, engine_, base + plan_.offsets[static_cast<std::size_t>(tensor)]};
  }

  void describe(int reorders) {
    std::map<std::string, int> counts;
    for (const layer_algo& k : kernels_) ++counts[k.name];
    std::ostringstream text;
    text << onednn_version() << " (" << threading_runtime() << "), " << threads_ << " thread"
         << (threads_ == 1 ? "" : "s") << ", ISA " << isa_name(dnnl::get_effective_cpu_isa()) << ", "
         << to_string(prec_) << ", denormals flushed (FTZ/DAZ), " << steps_.size() << " primitives (" << reorders
         << " reorders), activation arena " << plan_.total_bytes / 1024 << " KiB, steady_clock, kernels";
    const char* separator = " ";
    for (const auto& [name, count] : counts) {
      text << separator << name << " x" << count;
      separator = ", ";
    }
    description_ = text.str();
  }

  int threads_;
  precision prec_;
  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_{engine_};
  std::vector<float> input_;
  memory_plan plan_;
  dnnl::memory arena_;
  std::vector<bound_step> steps_;
  std::vector<layer_algo> kernels_;
  std::vector<float> output_;
  bound_step output_step_;
  std::string description_;
};

class onednn_backend final : public backend {
 public:
  std::string_view name() const override { return "cpu"; }
  /// The library and the ISA its kernels dispatch to (after any ONEDNN_MAX_CPU_ISA cap).
  std::string version() const override {
    return onednn_version() + ", ISA " + std::string(isa_name(dnnl::get_effective_cpu_isa()));
  }

  void check(const compile_options& options) const override {
    if (const std::string why = missing_isa(options.prec, dnnl::get_effective_cpu_isa()); !why.empty()) {
      throw usage_error(why);
    }
  }

  std::unique_ptr<executable> compile(const net::network& net, const compile_options& options) const override {
    check(options);
    const int threads = resolve_threads(options.threads);
    configure_threads(threads);  // before primitive creation: kernels block for the thread count
    return std::make_unique<onednn_executable>(net, options, threads);
  }
};

}  // namespace

}  // namespace onednn

std::unique_ptr<backend> make_onednn_backend() { return std::make_unique<onednn::onednn_backend>(); }

}  // namespace esm::backend
