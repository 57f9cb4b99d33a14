// The reference executor: every op of the network IR as plain loops in double precision (the
// correctness oracle), and the slow "reference" backend that times it.
#include "esm/backend/reference.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "backend/factories.hpp"
#include "esm/common/error.hpp"
#include "esm/version.hpp"

namespace esm::backend {

namespace {

using tensor = std::vector<double>;  ///< NCHW, dense

double activate(net::activation act, double x) {
  const auto relu6 = [](double v) { return std::min(std::max(v, 0.0), 6.0); };
  switch (act) {
    case net::activation::none: return x;
    case net::activation::relu: return std::max(x, 0.0);
    case net::activation::relu6: return relu6(x);
    case net::activation::hswish: return x * relu6(x + 3.0) / 6.0;
    case net::activation::hsigmoid: return relu6(x + 3.0) / 6.0;
    case net::activation::sigmoid: return 1.0 / (1.0 + std::exp(-x));
  }
  return x;
}

tensor activated(tensor t, net::activation act) {
  if (act != net::activation::none) {
    for (double& v : t) v = activate(act, v);
  }
  return t;
}

std::size_t at(const net::shape4& s, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  return static_cast<std::size_t>(((n * s.c + c) * s.h + h) * s.w + w);
}

/// Output positions [lo, hi) whose input index o * stride - pad + offset lies inside [0, in).
std::pair<std::int64_t, std::int64_t> valid_outputs(std::int64_t out, std::int64_t in, int stride, int pad,
                                                    int offset) {
  const std::int64_t shift = pad - offset;  // input = o * stride - shift
  std::int64_t lo = shift <= 0 ? 0 : (shift + stride - 1) / stride;
  std::int64_t hi = in + shift <= 0 ? 0 : (in + shift - 1) / stride + 1;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
  return {lo, hi};
}

/// One output plane of one conv output channel accumulates one input plane times one kernel.
void accumulate_plane(const net::layer& l, const double* in_plane, const float* kernel, double* out_plane) {
  for (int kh = 0; kh < l.kernel; ++kh) {
    const auto [oh_lo, oh_hi] = valid_outputs(l.out.h, l.in.h, l.stride, l.pad_begin, kh);
    for (int kw = 0; kw < l.kernel; ++kw) {
      const auto [ow_lo, ow_hi] = valid_outputs(l.out.w, l.in.w, l.stride, l.pad_begin, kw);
      const double wv = kernel[kh * l.kernel + kw];
      for (std::int64_t oh = oh_lo; oh < oh_hi; ++oh) {
        const double* in_row = in_plane + (oh * l.stride - l.pad_begin + kh) * l.in.w;
        double* out_row = out_plane + oh * l.out.w;
        for (std::int64_t ow = ow_lo; ow < ow_hi; ++ow) out_row[ow] += wv * in_row[ow * l.stride - l.pad_begin + kw];
      }
    }
  }
}

tensor conv(const net::layer& l, const tensor& in, const layer_parameters& p) {
  tensor out(static_cast<std::size_t>(l.out.elements()));
  const std::int64_t in_per_group = l.in.c / l.groups, out_per_group = l.out.c / l.groups;
  const std::int64_t plane_out = l.out.h * l.out.w;
  const std::int64_t kernel_size = static_cast<std::int64_t>(l.kernel) * l.kernel;
  for (std::int64_t n = 0; n < l.out.n; ++n) {
    for (std::int64_t o = 0; o < l.out.c; ++o) {
      double* out_plane = out.data() + at(l.out, n, o, 0, 0);
      std::fill(out_plane, out_plane + plane_out, static_cast<double>(p.bias[static_cast<std::size_t>(o)]));
      const std::int64_t first_in = (o / out_per_group) * in_per_group;
      for (std::int64_t ci = 0; ci < in_per_group; ++ci) {
        const float* kernel = p.weight.data() + (o * in_per_group + ci) * kernel_size;
        accumulate_plane(l, in.data() + at(l.in, n, first_in + ci, 0, 0), kernel, out_plane);
      }
    }
  }
  return activated(std::move(out), l.act);
}

tensor batch_norm(const net::layer& l, const tensor& in, const layer_parameters& p) {
  tensor out(in.size());
  const std::int64_t plane = l.out.h * l.out.w;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<std::size_t>((static_cast<std::int64_t>(i) / plane) % l.out.c);
    out[i] = static_cast<double>(p.weight[c]) * in[i] + static_cast<double>(p.bias[c]);
  }
  return activated(std::move(out), l.act);
}

/// Max or average over the window starting at -pad_begin; out-of-bounds elements are not part
/// of the window (max ignores them, the average divides by the in-bounds count).
tensor pool(const net::layer& l, const tensor& in, bool is_max) {
  tensor out(static_cast<std::size_t>(l.out.elements()));
  for (std::int64_t n = 0; n < l.out.n; ++n) {
    for (std::int64_t c = 0; c < l.out.c; ++c) {
      for (std::int64_t oh = 0; oh < l.out.h; ++oh) {
        const std::int64_t h0 = oh * l.stride - l.pad_begin;
        const std::int64_t h_lo = std::max<std::int64_t>(h0, 0), h_hi = std::min(h0 + l.kernel, l.in.h);
        for (std::int64_t ow = 0; ow < l.out.w; ++ow) {
          const std::int64_t w0 = ow * l.stride - l.pad_begin;
          const std::int64_t w_lo = std::max<std::int64_t>(w0, 0), w_hi = std::min(w0 + l.kernel, l.in.w);
          double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
          for (std::int64_t h = h_lo; h < h_hi; ++h) {
            for (std::int64_t w = w_lo; w < w_hi; ++w) {
              const double v = in[at(l.in, n, c, h, w)];
              acc = is_max ? std::max(acc, v) : acc + v;
            }
          }
          if (!is_max) acc /= static_cast<double>((h_hi - h_lo) * (w_hi - w_lo));
          out[at(l.out, n, c, oh, ow)] = acc;
        }
      }
    }
  }
  return activated(std::move(out), l.act);
}

tensor global_avg_pool(const net::layer& l, const tensor& in) {
  tensor out(static_cast<std::size_t>(l.out.elements()));
  const std::int64_t plane = l.in.h * l.in.w;
  for (std::size_t nc = 0; nc < out.size(); ++nc) {
    const double* first = in.data() + static_cast<std::int64_t>(nc) * plane;
    double sum = 0.0;
    for (std::int64_t i = 0; i < plane; ++i) sum += first[i];
    out[nc] = sum / static_cast<double>(plane);
  }
  return activated(std::move(out), l.act);
}

tensor fully_connected(const net::layer& l, const tensor& in, const layer_parameters& p) {
  tensor out(static_cast<std::size_t>(l.out.elements()));
  const std::int64_t features = l.in.c * l.in.h * l.in.w;
  for (std::int64_t n = 0; n < l.out.n; ++n) {
    const double* x = in.data() + n * features;
    for (std::int64_t k = 0; k < l.out.c; ++k) {
      const float* row = p.weight.data() + k * features;
      double sum = static_cast<double>(p.bias[static_cast<std::size_t>(k)]);
      for (std::int64_t j = 0; j < features; ++j) sum += static_cast<double>(row[j]) * x[j];
      out[static_cast<std::size_t>(n * l.out.c + k)] = sum;
    }
  }
  return activated(std::move(out), l.act);
}

/// inputs[0] (N, C, H, W) times inputs[1] (N, C, 1, 1).
tensor channel_scale(const net::layer& l, const tensor& features, const tensor& scale) {
  tensor out(features.size());
  const std::int64_t plane = l.out.h * l.out.w;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = features[i] * scale[static_cast<std::size_t>(i / plane)];
  return activated(std::move(out), l.act);
}

tensor add(const net::layer& l, const tensor& a, const tensor& b) {
  tensor out(a.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = a[i] + b[i];
  return activated(std::move(out), l.act);
}

tensor concat(const net::network& net, int index, const std::vector<const tensor*>& parts) {
  const net::layer& l = net.layers[static_cast<std::size_t>(index)];
  tensor out;
  out.reserve(static_cast<std::size_t>(l.out.elements()));
  for (std::int64_t n = 0; n < l.out.n; ++n) {
    for (std::size_t k = 0; k < parts.size(); ++k) {
      const net::shape4& s = net.input_shape(index, static_cast<int>(k));
      const std::int64_t sample = s.c * s.h * s.w;
      const auto first = parts[k]->begin() + n * sample;
      out.insert(out.end(), first, first + sample);
    }
  }
  return activated(std::move(out), l.act);
}

tensor evaluate(const net::network& net, std::size_t index, const std::vector<const tensor*>& in,
                const layer_parameters& p) {
  const net::layer& l = net.layers[index];
  switch (l.kind) {
    case net::op_kind::conv: return conv(l, *in[0], p);
    case net::op_kind::batch_norm: return batch_norm(l, *in[0], p);
    case net::op_kind::max_pool: return pool(l, *in[0], true);
    case net::op_kind::avg_pool: return pool(l, *in[0], false);
    case net::op_kind::global_avg_pool: return global_avg_pool(l, *in[0]);
    case net::op_kind::fully_connected: return fully_connected(l, *in[0], p);
    case net::op_kind::channel_scale: return channel_scale(l, *in[0], *in[1]);
    case net::op_kind::add: return add(l, *in[0], *in[1]);
    case net::op_kind::concat: return concat(net, static_cast<int>(index), in);
  }
  throw error("layer " + l.name + ": unknown op kind");
}

/// Index of the last layer reading each layer's output, so intermediate results can be freed.
std::vector<std::size_t> last_uses(const net::network& net) {
  std::vector<std::size_t> last(net.layers.size(), net.layers.size());  // the output lives on
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    for (int from : net.layers[i].inputs) {
      if (from != net::network_input) last[static_cast<std::size_t>(from)] = i;
    }
  }
  last.back() = net.layers.size();
  return last;
}

}  // namespace

std::vector<double> reference_forward(const net::network& net, const std::vector<layer_parameters>& params,
                                      const std::vector<float>& input) {
  if (net.layers.empty()) throw error("reference_forward: empty network");
  if (params.size() != net.layers.size() || input.size() != static_cast<std::size_t>(net.input.elements())) {
    throw error("reference_forward: parameters or input do not match network " + net.arch);
  }
  const tensor image(input.begin(), input.end());
  const std::vector<std::size_t> last = last_uses(net);
  std::vector<tensor> outputs(net.layers.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    std::vector<const tensor*> in;
    for (int from : net.layers[i].inputs) {
      in.push_back(from == net::network_input ? &image : &outputs[static_cast<std::size_t>(from)]);
    }
    outputs[i] = evaluate(net, i, in, params[i]);
    for (int from : net.layers[i].inputs) {
      if (from != net::network_input && last[static_cast<std::size_t>(from)] == i) {
        tensor().swap(outputs[static_cast<std::size_t>(from)]);
      }
    }
  }
  return std::move(outputs.back());
}

namespace {

class reference_executable final : public executable {
 public:
  reference_executable(const net::network& net, std::uint64_t seed)
      : net_(net), params_(make_parameters(net, seed)), input_(make_input(net, seed)) {}

  void run() override { logits_ = reference_forward(net_, params_, input_); }

  double timed_run_ms() override {
    const auto start = std::chrono::steady_clock::now();
    run();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }

  std::vector<float> output() override { return {logits_.begin(), logits_.end()}; }

  std::string description() const override {
    return "esm reference executor (plain loops, fp64, 1 thread, steady_clock)";
  }

 private:
  net::network net_;
  std::vector<layer_parameters> params_;
  std::vector<float> input_;
  std::vector<double> logits_;
};

class reference_backend final : public backend {
 public:
  std::string_view name() const override { return "reference"; }
  std::string version() const override { return "esm reference " + version_string(); }
  void check(const compile_options& options) const override {
    if (options.prec != precision::fp32) {
      throw usage_error("reference backend computes in fp64 and accepts precision fp32 only");
    }
  }
  std::unique_ptr<executable> compile(const net::network& net, const compile_options& options) const override {
    check(options);
    return std::make_unique<reference_executable>(net, options.seed);
  }
};

}  // namespace

std::unique_ptr<backend> make_reference_backend() { return std::make_unique<reference_backend>(); }

}  // namespace esm::backend
