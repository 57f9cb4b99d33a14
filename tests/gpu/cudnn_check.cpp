// GPU check of the cuDNN backend against the double-precision reference executor (label "gpu").
//
// Plain C++ without GoogleTest: the lent GPU machine has none. Two parts:
//  1. On any machine: the backend's execution plan (buffer placement, concat slices, residual
//     folding) is executed on the CPU, step by step, with the reference executor computing each
//     step, and compared with reference_forward. Every buffer element must be written exactly once.
//     Again with the NHWC addresses of the same placement (backend.layout = nhwc).
//  2. With a CUDA device: every op kind in a tiny network, and one small network per space, at
//     batch 1 and 2, in fp32 and fp16 (NCHW, and NHWC for fp16), with `find` and `heuristic`
//     algorithm selection, plain and CUDA-graph execution, each also run in its other launch mode. Error = max |out - ref| / max |ref|; tolerance 1e-3 for fp32 and 1e-2
//     for fp16 (see fp16_storage_bound).
// One line per case; exit 1 on any failure, 77 ("SKIP: no CUDA device") without a device after
// part 1 passed. `--budget-s S` (tools/gpu-check/gpu-check.sh): no case starts after S seconds; the summary
// line then counts the cases not run, and the exit code is 1 (an incomplete check is no pass).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "backend/cudnn/device_query.hpp"
#include "backend/cudnn/plan.hpp"
#include "esm/backend/backend.hpp"
#include "esm/backend/parameters.hpp"
#include "esm/backend/reference.hpp"
#include "esm/common/error.hpp"
#include "esm/net/builder.hpp"
#include "esm/space/space.hpp"

namespace {

using esm::net::activation;
using esm::net::network_input;
namespace be = esm::backend;
namespace cu = esm::backend::cudnn;

constexpr int skip_exit_code = 77;
constexpr std::uint64_t seed = 42;

struct variant {
  be::precision prec = be::precision::fp32;
  be::algo_selection algos = be::algo_selection::find;
  bool graph = false;
  std::size_t workspace_bytes = std::size_t{256} << 20;
  be::tensor_layout layout = be::tensor_layout::nchw;
};

// fp16: the backend stores every tensor (input, weights, each step's output) in binary16 and
// accumulates in fp32, so its logits differ from the fp64 reference by the rounding of storage
// alone. Part 1 measures that on the CPU (the plan emulator with binary16 storage and exact
// arithmetic) and requires it to stay below a quarter of the fp16 tolerance, so that 1e-2 on the
// GPU tests the backend, not fp16 itself. With make_parameters' variance-preserving weights it is
// 0.2-0.8e-3 on the op networks and 0.4-1.7e-3 on the space networks; with He scaling of every
// layer, linear projections included, MobileNetV3 activations grew to several hundred and that
// error alone was 1.0-1.2e-2.
constexpr double fp32_tolerance = 1e-3;
constexpr double fp16_tolerance = 1e-2;
constexpr double fp16_storage_bound = fp16_tolerance / 4;

struct test_net {
  std::string label;
  esm::net::network net;
  std::vector<variant> variants;
  std::vector<double> reference;  // computed once
};

// ---------------------------------------------------------------------------------------------
// tiny networks, one per op kind and placement pattern

esm::net::conv_spec conv(int out, int kernel, activation act, int stride = 1, int groups = 1, bool bn = true,
                         bool bias = false) {
  return {.out_channels = out, .kernel = kernel, .stride = stride, .groups = groups, .bias = bias, .batch_norm = bn,
          .act = act};
}

struct tiny_spec {
  std::string name;
  int size;  // input is N x 8 x size x size
  std::function<void(esm::net::builder&)> body;
};

std::vector<tiny_spec> tiny_specs() {
  using esm::net::builder;
  const int in = network_input;
  return {
      {"conv3x3_bn_relu", 11, [=](builder& b) { b.conv("c", in, conv(16, 3, activation::relu)); }},
      {"conv3x3s2_bn_none", 11, [=](builder& b) { b.conv("c", in, conv(16, 3, activation::none, 2)); }},
      {"conv1x1_no_bias", 11, [=](builder& b) { b.conv("c", in, conv(16, 1, activation::none, 1, 1, false)); }},
      {"conv5x5_hswish", 11, [=](builder& b) { b.conv("c", in, conv(16, 5, activation::hswish)); }},
      {"conv7x7s2_relu6", 11, [=](builder& b) { b.conv("c", in, conv(16, 7, activation::relu6, 2)); }},
      {"depthwise3x3s2_relu", 11, [=](builder& b) { b.conv("c", in, conv(8, 3, activation::relu, 2, 8)); }},
      {"depthwise7x7_hswish", 11, [=](builder& b) { b.conv("c", in, conv(8, 7, activation::hswish, 1, 8)); }},
      {"grouped3x3_sigmoid", 11, [=](builder& b) { b.conv("c", in, conv(16, 3, activation::sigmoid, 1, 2)); }},
      {"conv1x1_bias_hsigmoid", 11,
       [=](builder& b) {
         const int g = b.global_avg_pool("gap", in);
         b.conv("c", g, conv(16, 1, activation::hsigmoid, 1, 1, false, true));
       }},
      {"batch_norm_relu", 11, [=](builder& b) { b.batch_norm("bn", in, activation::relu); }},
      {"batch_norm_none", 11, [=](builder& b) { b.batch_norm("bn", in, activation::none); }},
      {"max_pool3x3s2p1", 11, [=](builder& b) { b.max_pool("p", in, 3, 2, 1); }},
      {"avg_pool3x3s1p1", 11, [=](builder& b) { b.avg_pool("p", in, 3, 1, 1, false); }},
      {"avg_pool2x2s2_ceil", 11, [=](builder& b) { b.avg_pool("p", in, 2, 2, 0, true); }},
      {"avg_pool3x3s2p1_ceil", 12, [=](builder& b) { b.avg_pool("p", in, 3, 2, 1, true); }},
      {"global_avg_pool", 11, [=](builder& b) { b.global_avg_pool("gap", in); }},
      {"fc_from_1x1", 11,
       [=](builder& b) {
         const int g = b.global_avg_pool("gap", in);
         b.fully_connected("fc", g, 10);
       }},
      {"fc_from_map", 11, [=](builder& b) { b.fully_connected("fc", in, 10); }},
      {"squeeze_excite", 11,
       [=](builder& b) {
         const int x = b.conv("expand", in, conv(16, 1, activation::hswish));
         const int g = b.global_avg_pool("se.pool", x);
         const int r = b.conv("se.reduce", g, conv(4, 1, activation::relu, 1, 1, false, true));
         const int e = b.conv("se.expand", r, conv(16, 1, activation::hsigmoid, 1, 1, false, true));
         b.channel_scale("se.scale", x, e);
       }},
      {"residual_folded_relu", 11,
       [=](builder& b) {
         const int c1 = b.conv("c1", in, conv(8, 3, activation::relu));
         const int c2 = b.conv("c2", c1, conv(8, 3, activation::none));
         b.add("add", c2, c1, activation::relu);
       }},
      {"residual_folded_none", 11,
       [=](builder& b) {
         const int c1 = b.conv("c1", in, conv(8, 3, activation::relu));
         const int c2 = b.conv("c2", c1, conv(8, 1, activation::none));
         b.add("add", c2, c1, activation::none);
       }},
      {"residual_folded_hswish", 11,
       [=](builder& b) {
         const int c1 = b.conv("c1", in, conv(8, 3, activation::relu));
         const int c2 = b.conv("c2", c1, conv(8, 3, activation::none));
         b.add("add", c1, c2, activation::hswish);
       }},
      {"residual_from_input", 11,
       [=](builder& b) {
         const int c = b.conv("c", in, conv(8, 3, activation::none));
         b.add("add", c, in, activation::none);
       }},
      {"residual_unfolded_relu", 11,
       [=](builder& b) {
         const int c1 = b.conv("c1", in, conv(8, 3, activation::relu));
         const int c2 = b.conv("c2", c1, conv(8, 3, activation::relu));
         b.add("add", c2, c1, activation::relu);
       }},
      {"resnet_downsample", 11,
       [=](builder& b) {
         const int c1 = b.conv("c1", in, conv(8, 1, activation::relu));
         const int c2 = b.conv("c2", c1, conv(8, 3, activation::relu, 2));
         const int c3 = b.conv("c3", c2, conv(32, 1, activation::none));
         const int p = b.avg_pool("down.pool", in, 2, 2, 0, true);
         const int d = b.conv("down.conv", p, conv(32, 1, activation::none));
         b.add("add", c3, d, activation::relu);
       }},
      {"concat_then_conv", 11,
       [=](builder& b) {
         const int a = b.conv("a", in, conv(6, 3, activation::relu));
         const int c = b.conv("b", in, conv(10, 1, activation::none));
         const int cat = b.concat("cat", {a, c});
         b.conv("after", cat, conv(8, 3, activation::relu));
       }},
      {"concat_slices_read", 11,
       [=](builder& b) {
         const int a = b.conv("a", in, conv(6, 3, activation::relu));
         const int c = b.conv("b", in, conv(10, 1, activation::none));
         const int cat = b.concat("cat", {a, c});
         const int from_a = b.conv("from_a", a, conv(6, 3, activation::relu));
         const int from_b = b.batch_norm("from_b", c, activation::relu6);
         const int pooled = b.max_pool("pool_a", a, 3, 1, 1);
         b.concat("out", {from_a, cat, from_b, pooled});
       }},
      {"dense_block", 16,
       [=](builder& b) {
         const int stem = b.conv("stem", in, conv(16, 3, activation::relu));
         int x = b.max_pool("stem.pool", stem, 3, 2, 1);
         for (int i = 0; i < 3; ++i) {
           const std::string l = "layer" + std::to_string(i);
           const int n1 = b.batch_norm(l + ".norm1", x, activation::relu);
           const int c1 = b.conv(l + ".conv1", n1, conv(16, 1, activation::relu));
           const int c2 = b.conv(l + ".conv2", c1, conv(8, 3, activation::none, 1, 1, false));
           x = b.concat(l + ".concat", {x, c2});
         }
         const int n = b.batch_norm("transition.norm", x, activation::relu);
         const int t = b.conv("transition.conv", n, conv(20, 1, activation::none, 1, 1, false));
         x = b.avg_pool("transition.pool", t, 2, 2, 0, false);
         const int c1 = b.conv("next.conv1", x, conv(16, 1, activation::relu));
         const int c2 = b.conv("next.conv2", c1, conv(8, 3, activation::none, 1, 1, false));
         x = b.concat("next.concat", {x, c2});
         const int n5 = b.batch_norm("norm5", x, activation::relu);
         const int g = b.global_avg_pool("gap", n5);
         b.fully_connected("fc", g, 10);
       }},
      {"concat_with_input", 11,
       [=](builder& b) {
         const int c = b.conv("c", in, conv(8, 3, activation::relu));
         b.concat("cat", {in, c});
       }},
      {"concat_same_twice", 11,
       [=](builder& b) {
         const int c = b.conv("c", in, conv(8, 3, activation::relu));
         b.concat("cat", {c, c});
       }},
      {"concat_shared_input", 11,
       [=](builder& b) {
         const int a = b.conv("a", in, conv(8, 3, activation::relu));
         const int c1 = b.conv("b", in, conv(4, 1, activation::hswish));
         const int c2 = b.conv("c", in, conv(4, 1, activation::sigmoid));
         const int cat1 = b.concat("cat1", {a, c1});
         const int cat2 = b.concat("cat2", {c2, a});
         b.add("sum", cat1, cat2, activation::none);
       }},
  };
}

std::vector<variant> all_variants() {
  std::vector<variant> v;
  for (const auto prec : {be::precision::fp32, be::precision::fp16}) {
    for (const auto algos : {be::algo_selection::find, be::algo_selection::heuristic}) {
      for (const bool graph : {false, true}) v.push_back({prec, algos, graph});
    }
  }
  v.push_back({be::precision::fp32, be::algo_selection::find, false, 0});  // zero-workspace algorithms
  v.push_back({be::precision::fp16, be::algo_selection::heuristic, true, 0});
  // channels-last fp16 (backend.layout = nhwc)
  v.push_back({be::precision::fp16, be::algo_selection::find, true, std::size_t{256} << 20, be::tensor_layout::nhwc});
  v.push_back({be::precision::fp16, be::algo_selection::heuristic, false, std::size_t{256} << 20, be::tensor_layout::nhwc});
  return v;
}

/// Each precision, selection and mode twice, every pair of them once.
std::vector<variant> pairwise_variants() {
  return {{be::precision::fp32, be::algo_selection::find, false},
          {be::precision::fp32, be::algo_selection::heuristic, true},
          {be::precision::fp16, be::algo_selection::find, true},
          {be::precision::fp16, be::algo_selection::heuristic, false},
          {be::precision::fp16, be::algo_selection::find, true, std::size_t{256} << 20, be::tensor_layout::nhwc}};
}

std::vector<test_net> make_test_nets() {
  std::vector<test_net> nets;
  for (const int batch : {1, 2}) {
    for (const auto& spec : tiny_specs()) {
      esm::net::builder b("test:" + spec.name, {batch, 8, spec.size, spec.size});
      spec.body(b);
      nets.push_back({"op " + spec.name + " b" + std::to_string(batch), std::move(b).finish(), all_variants(), {}});
    }
  }
  const std::vector<std::pair<std::string, std::string>> archs = {
      {"ofa-mbv3 w1.0 r128", "ofa-mbv3:w1.0:r128:d=2,2,2,2,2:k=3,5-7,3-5,7-3,5-7,3:e=3,4-6,3-4,6-3,4-6,3"},
      {"ofa-mbv3 w1.2 r128", "ofa-mbv3:w1.2:r128:d=2,3,2,2,2:k=5,3-3,7,5-7,3-5,5-3,7:e=6,3-4,4,6-3,6-6,4-4,3"},
      {"ofa-resnet50 r128", "ofa-resnet50:r128:d=2,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,20-20,20"},
      // r136: the ceil-mode average pools of the downsampling shortcuts pad asymmetrically.
      {"ofa-resnet50 r136", "ofa-resnet50:r136:d=2,0,0,0,0:w=0,0,0,0,0,0:e=20,25-35,20-25,20,35,20-20,25"},
      {"densenet smallest r128", "densenet:r128:d=4,8,24,16:g=24,24,24,24:b=2,2,2,2-2,2,2,2,2,2,2,2-"
                                 "2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2-2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2"},
  };
  for (const auto& [label, text] : archs) {
    const esm::space::arch a = esm::space::parse_any(text);
    for (const int batch : {1, 2}) {
      nets.push_back({label + " b" + std::to_string(batch), esm::space::find_space(a.space).build(a, batch),
                      pairwise_variants(), {}});
    }
  }
  return nets;
}

/// max |got - ref| / max |ref|; infinity for NaN or a size mismatch.
double relative_error(const std::vector<double>& got, const std::vector<double>& ref) {
  if (got.size() != ref.size() || ref.empty()) return std::numeric_limits<double>::infinity();
  double diff = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) return std::numeric_limits<double>::infinity();
    diff = std::max(diff, std::abs(got[i] - ref[i]));
    scale = std::max(scale, std::abs(ref[i]));
  }
  return scale > 0.0 ? diff / scale : diff;
}

// ---------------------------------------------------------------------------------------------
// part 1: the plan, executed on the CPU

/// One IR layer on its own, fed from the network input (the reference executor computes it).
std::vector<double> single_layer(const esm::net::layer& l, const esm::net::shape4& in_shape,
                                 const be::layer_parameters& params, const std::vector<double>& x) {
  esm::net::network one;
  one.input = in_shape;
  esm::net::layer copy = l;
  copy.inputs = {network_input};
  copy.in = in_shape;
  one.layers.push_back(copy);
  return be::reference_forward(one, {params}, std::vector<float>(x.begin(), x.end()));
}

/// act(x) through the reference executor (a batch_norm with scale 1 and shift 0).
std::vector<double> activated(const std::vector<double>& x, const esm::net::shape4& s, activation act) {
  if (act == activation::none) return x;
  esm::net::layer l;
  l.name = "act";
  l.kind = esm::net::op_kind::batch_norm;
  l.out = s;
  l.act = act;
  be::layer_parameters p;
  p.weight.assign(static_cast<std::size_t>(s.c), 1.0f);
  p.bias.assign(static_cast<std::size_t>(s.c), 0.0f);
  return single_layer(l, s, p, x);
}

/// `x` rounded to the nearest IEEE binary16 value (ties to even; subnormals; overflow to infinity).
double to_half(double x) {
  if (!std::isfinite(x) || x == 0.0) return x;
  const double a = std::abs(x);
  if (a >= 65520.0) return std::copysign(std::numeric_limits<double>::infinity(), x);
  int e = 0;
  (void)std::frexp(a, &e);                  // a = m * 2^e, m in [0.5, 1)
  const int quantum = std::max(e - 11, -24);  // 11 significant bits; subnormals step by 2^-24
  return std::copysign(std::ldexp(std::nearbyint(std::ldexp(a, -quantum)), quantum), x);
}

std::vector<be::layer_parameters> to_half(std::vector<be::layer_parameters> params) {
  for (auto& p : params) {
    for (auto& w : p.weight) w = static_cast<float>(to_half(w));
    for (auto& b : p.bias) b = static_cast<float>(to_half(b));
  }
  return params;
}

class plan_emulator {
 public:
  /// `half_storage`: every buffer holds binary16 values (the input, each step's output), each step
  /// computes exactly from them, like the fp16 backend with fp32 accumulation. The parameters
  /// are the caller's (round them with to_half for that emulation).
  /// `nhwc`: buffers hold channels-last data at the backend's NHWC addresses (tensor_view's
  /// nhwc_offset and buffer_channels), the input reordered by to_channels_last as the backend does.
  explicit plan_emulator(const cu::execution_plan& plan, bool half_storage = false, bool nhwc = false)
      : plan_(plan), half_(half_storage), nhwc_(nhwc) {
    for (const auto& shape : plan.buffers) {
      const auto size = static_cast<std::size_t>(shape.elements());
      data_.emplace_back(size, std::numeric_limits<double>::quiet_NaN());
      writes_.emplace_back(size, 0);
    }
  }

  std::vector<double> run(const esm::net::network& net, const std::vector<be::layer_parameters>& params,
                          const std::vector<float>& input) {
    const auto in_buffer = static_cast<std::size_t>(plan_.input_buffer);
    const esm::net::shape4& in = plan_.buffers[in_buffer];
    const std::vector<float> stored = nhwc_ ? cu::to_channels_last(input, in.n, in.c, in.h, in.w) : input;
    std::transform(stored.begin(), stored.end(), data_[in_buffer].begin(),
                   [&](float v) { return half_ ? to_half(v) : static_cast<double>(v); });
    std::fill(writes_[in_buffer].begin(), writes_[in_buffer].end(), 1);
    for (const cu::step& s : plan_.steps) {
      const esm::net::layer& l = net.layers[static_cast<std::size_t>(s.layer)];
      const std::vector<double> x = gather(s.x);
      std::vector<double> y;
      switch (s.kind) {
        case cu::step_kind::conv:
        case cu::step_kind::batch_norm:
        case cu::step_kind::pool:
        case cu::step_kind::global_avg_pool: {
          esm::net::layer bare = l;
          bare.act = activation::none;
          y = single_layer(bare, s.x.shape, params[static_cast<std::size_t>(s.layer)], x);
          if (s.has_other()) add_into(y, gather(s.other));
          break;
        }
        case cu::step_kind::channel_scale: {
          const std::vector<double> scale = gather(s.other);
          const std::int64_t plane = s.x.shape.h * s.x.shape.w;
          y = x;
          for (std::size_t i = 0; i < y.size(); ++i) y[i] *= scale[i / static_cast<std::size_t>(plane)];
          break;
        }
        case cu::step_kind::add:
          y = x;
          add_into(y, gather(s.other));
          break;
        case cu::step_kind::copy: y = x; break;
      }
      scatter(s.y, activated(y, s.y.shape, s.act));
    }
    for (std::size_t b = 0; b < writes_.size(); ++b) {
      for (const int count : writes_[b]) {
        if (count != 1) throw esm::error("buffer " + std::to_string(b) + " has an element written " +
                                         std::to_string(count) + " times in one pass");
      }
    }
    return gather(plan_.output());
  }

 private:
  static void add_into(std::vector<double>& y, const std::vector<double>& z) {
    if (y.size() != z.size()) throw esm::error("residual operand has another size");
    for (std::size_t i = 0; i < y.size(); ++i) y[i] += z[i];
  }

  /// Calls f(dense index, buffer element) for every element of the view.
  template <class F>
  void for_each(const cu::tensor_view& v, F&& f) const {
    const esm::net::shape4& s = v.shape;
    const std::int64_t plane = s.h * s.w;
    const auto size = static_cast<std::int64_t>(data_.at(static_cast<std::size_t>(v.buffer)).size());
    for (std::int64_t n = 0; n < s.n; ++n) {
      for (std::int64_t c = 0; c < s.c; ++c) {
        for (std::int64_t p = 0; p < plane; ++p) {
          const std::int64_t at = nhwc_ ? v.nhwc_offset() + (n * plane + p) * v.buffer_channels + c
                                        : v.offset + n * v.batch_stride + c * plane + p;
          if (at < 0 || at >= size) throw esm::error("view reaches outside its buffer");
          f(static_cast<std::size_t>((n * s.c + c) * plane + p), static_cast<std::size_t>(at));
        }
      }
    }
  }

  std::vector<double> gather(const cu::tensor_view& v) const {
    std::vector<double> dense(static_cast<std::size_t>(v.shape.elements()));
    const auto& buffer = data_[static_cast<std::size_t>(v.buffer)];
    for_each(v, [&](std::size_t i, std::size_t at) { dense[i] = buffer[at]; });
    return dense;
  }

  void scatter(const cu::tensor_view& v, const std::vector<double>& dense) {
    auto& buffer = data_[static_cast<std::size_t>(v.buffer)];
    auto& writes = writes_[static_cast<std::size_t>(v.buffer)];
    for_each(v, [&](std::size_t i, std::size_t at) {
      buffer[at] = half_ ? to_half(dense.at(i)) : dense.at(i);
      ++writes[at];
    });
  }

  const cu::execution_plan& plan_;
  bool half_;
  bool nhwc_;
  std::vector<std::vector<double>> data_;
  std::vector<std::vector<int>> writes_;
};

/// Part 1 for one network; prints its line and returns whether it passed.
bool check_plan(test_net& t) {
  try {
    const auto params = be::make_parameters(t.net, seed);
    const auto input = be::make_input(t.net, seed);
    if (t.reference.empty()) t.reference = be::reference_forward(t.net, params, input);
    const cu::execution_plan plan = cu::make_plan(t.net);
    const double err = relative_error(plan_emulator(plan).run(t.net, params, input), t.reference);
    const bool pass = err <= 1e-5;
    std::printf("%s  plan on CPU                       %-28s err %.2e  (%zu steps, %d residuals folded, %d concat slices, "
                "%d copies)\n",
                pass ? "PASS" : "FAIL", t.label.c_str(), err, plan.steps.size(), plan.fused_residuals,
                plan.concat_slices, plan.concat_copies);
    const double half_err =
        relative_error(plan_emulator(plan, /*half_storage=*/true).run(t.net, to_half(params), input), t.reference);
    const bool half_pass = half_err <= fp16_storage_bound;
    std::printf("%s  plan on CPU, fp16 storage         %-28s err %.2e  (bound %.1e: fp16 rounding alone)\n",
                half_pass ? "PASS" : "FAIL", t.label.c_str(), half_err, fp16_storage_bound);
    const double nhwc_err =
        relative_error(plan_emulator(plan, /*half_storage=*/false, /*nhwc=*/true).run(t.net, params, input), t.reference);
    const bool nhwc_pass = nhwc_err <= 1e-5;
    std::printf("%s  plan on CPU, NHWC placement       %-28s err %.2e\n", nhwc_pass ? "PASS" : "FAIL", t.label.c_str(),
                nhwc_err);
    return pass && half_pass && nhwc_pass;
  } catch (const std::exception& e) {
    std::printf("FAIL  plan on CPU                       %-28s %s\n", t.label.c_str(), e.what());
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// part 2: the device

bool check_on_device(const be::backend& cudnn, const test_net& t, const variant& v) {
  const double tolerance = v.prec == be::precision::fp32 ? fp32_tolerance : fp16_tolerance;
  char mode[80];
  std::snprintf(mode, sizeof mode, "%s %s %-9s %-5s ws=%zuMiB", std::string(be::to_string(v.prec)).c_str(),
                std::string(be::to_string(v.layout)).c_str(), std::string(be::to_string(v.algos)).c_str(),
                v.graph ? "graph" : "plain", v.workspace_bytes >> 20);
  try {
    be::compile_options options;
    options.prec = v.prec;
    options.seed = seed;
    options.algos = v.algos;
    options.cuda_graph = v.graph;
    options.both_launch_modes = true;
    options.workspace_limit_bytes = v.workspace_bytes;
    options.layout = v.layout;
    const auto exe = cudnn.compile(t.net, options);
    exe->run();
    const std::vector<float> first = exe->output();
    const double ms = exe->timed_run_ms();
    const std::vector<float> second = exe->output();
    // The other launch mode must compute the same logits (graph replay vs eager launches).
    const auto other_ms = exe->timed_other_mode_ms();
    const std::vector<float> third = exe->output();
    const double err = std::max({relative_error(std::vector<double>(first.begin(), first.end()), t.reference),
                                 relative_error(std::vector<double>(second.begin(), second.end()), t.reference),
                                 relative_error(std::vector<double>(third.begin(), third.end()), t.reference)});
    std::string problem;
    if (!(ms > 0.0)) problem = "timed_run_ms returned " + std::to_string(ms);
    if (!other_ms || !(*other_ms > 0.0)) problem = "no timing in the other launch mode";
    if (exe->timed_mode() != (v.graph ? be::launch_mode::graph : be::launch_mode::eager)) problem = "timed_mode is wrong";
    if ((exe->description().find("NHWC") != std::string::npos) != (v.layout == be::tensor_layout::nhwc)) {
      problem = "description: wrong layout";
    }
    for (const auto& a : exe->algorithms()) {
      if (a.name.rfind("CUDNN_CONVOLUTION_FWD_ALGO_", 0) != 0 || a.workspace_bytes > v.workspace_bytes) {
        problem = "bad algorithm record for layer " + std::to_string(a.layer) + ": " + a.name;
      }
    }
    if ((exe->description().find("execution: CUDA graph") != std::string::npos) != v.graph) problem = "description: wrong mode";
    const bool pass = err <= tolerance && problem.empty();
    std::printf("%s  %s  %-28s err %.2e  (tol %.0e, %.3f ms)%s%s\n", pass ? "PASS" : "FAIL", mode, t.label.c_str(),
                err, tolerance, ms, problem.empty() ? "" : "  ", problem.c_str());
    return pass;
  } catch (const std::exception& e) {
    std::printf("FAIL  %s  %-28s %s\n", mode, t.label.c_str(), e.what());
    return false;
  }
}

/// What the MPI binding records: CUDA's identity of device 0, in nvidia-smi's form.
bool check_device_identity(const be::backend& cudnn) {
  try {
    const auto query = cudnn.devices();
    if (!query) throw std::runtime_error("the cudnn backend offers no device query");
    const auto id = query->select(0);
    const bool uuid_ok = id.uuid.size() == 40 && id.uuid.rfind(id.mig ? "MIG-" : "GPU-", 0) == 0;
    const bool bus_ok = id.pci_bus_id.size() == 12 && id.pci_bus_id[4] == ':' && id.pci_bus_id[10] == '.';
    const bool pass = uuid_ok && bus_ok && !id.name.empty() && query->count() >= 1;
    std::printf("%s  device identity: %d visible; device 0 = %s %s [%s]%s\n", pass ? "PASS" : "FAIL", query->count(),
                id.name.c_str(), id.uuid.c_str(), id.pci_bus_id.c_str(), id.mig ? " MIG" : "");
    return pass;
  } catch (const std::exception& e) {
    std::printf("FAIL  device identity: %s\n", e.what());
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  double budget_s = std::numeric_limits<double>::infinity();
  for (int i = 1; i < argc; ++i) {
    char* end = nullptr;
    if (std::string(argv[i]) == "--budget-s" && i + 1 < argc) {
      budget_s = std::strtod(argv[i + 1], &end);
      if (*end == '\0' && budget_s > 0) {
        ++i;
        continue;
      }
    }
    std::printf("usage: %s [--budget-s SECONDS > 0]\n", argv[0]);
    return 2;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto over_budget = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() > budget_s;
  };
  std::vector<test_net> nets;
  try {
    nets = make_test_nets();
  } catch (const std::exception& e) {
    std::printf("FAIL  building the test networks: %s\n", e.what());
    return 1;
  }
  int failures = 0, cases = 0;
  for (auto& t : nets) {
    ++cases;
    failures += check_plan(t) ? 0 : 1;
  }

  {  // the text form of CUDA's UUID bytes the binding compares (nvidia-smi -L's form)
    const unsigned char bytes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0xfe, 0xff};
    const std::string gpu = cu::uuid_text(bytes, false), mig = cu::uuid_text(bytes, true);
    const bool pass = gpu == "GPU-00010203-0405-0607-0809-0a0b0c0dfeff" && mig == "MIG-00010203-0405-0607-0809-0a0b0c0dfeff";
    std::printf("%s  uuid text on CPU                  %s %s\n", pass ? "PASS" : "FAIL", gpu.c_str(), mig.c_str());
    ++cases;
    failures += pass ? 0 : 1;
  }

  const cu::device_census census = cu::count_devices();
  if (census.count == 0) {
    std::printf("%d plan checks, %d failed\n", cases, failures);
    if (failures > 0) return 1;
    std::printf("SKIP: no CUDA device (%s)\n", census.problem.c_str());
    return skip_exit_code;
  }

  int not_run = 0;
  try {
    const auto cudnn = be::make_backend("cudnn");
    std::printf("backend: %s\ndevice: %s\n", cudnn->version().c_str(), cu::describe_device(0).c_str());
    failures += check_device_identity(*cudnn) ? 0 : 1;
    ++cases;
    bool described = false;
    for (const auto& t : nets) {
      for (const auto& v : t.variants) {
        if (over_budget()) {
          ++not_run;
          continue;
        }
        ++cases;
        failures += check_on_device(*cudnn, t, v) ? 0 : 1;
        if (!described) {
          be::compile_options options;
          std::printf("description: %s\n", cudnn->compile(t.net, options)->description().c_str());
          described = true;
        }
      }
    }
  } catch (const std::exception& e) {
    std::printf("FAIL  %s\n", e.what());
    ++failures;
  }
  if (not_run > 0) {
    std::printf("%d cases, %d failed, %d not run (budget of %.0f s reached)\n", cases, failures, not_run, budget_s);
    return 1;
  }
  std::printf("%d cases, %d failed\n", cases, failures);
  return failures == 0 ? 0 : 1;
}
