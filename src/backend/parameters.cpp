// Deterministic, BN-folded parameters for every backend.
#include "esm/backend/parameters.hpp"

#include <cmath>

#include "esm/common/random.hpp"

namespace esm::backend {

namespace {

/// Per-layer stream: independent of every other layer, so adding a layer does not change the
/// weights of the others.
rng layer_rng(std::uint64_t seed, std::size_t index) { return rng(seed * 0x9e3779b97f4a7c15ULL + index + 1); }

struct bn_stats {
  std::vector<double> scale, shift;  ///< y = scale * x + shift
};

bn_stats random_bn(rng& r, std::int64_t channels) {
  bn_stats bn;
  for (std::int64_t c = 0; c < channels; ++c) {
    const double gamma = 0.5 + r.uniform01();
    const double beta = 0.1 * r.normal();
    const double mean = 0.1 * r.normal();
    const double var = 0.5 + r.uniform01();
    const double s = gamma / std::sqrt(var + batch_norm_epsilon);
    bn.scale.push_back(s);
    bn.shift.push_back(beta - mean * s);
  }
  return bn;
}

}  // namespace

std::vector<layer_parameters> make_parameters(const net::network& net, std::uint64_t seed) {
  std::vector<layer_parameters> params(net.layers.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const net::layer& l = net.layers[i];
    rng r = layer_rng(seed, i);
    layer_parameters& p = params[i];
    if (l.kind == net::op_kind::conv || l.kind == net::op_kind::fully_connected) {
      const std::int64_t out = l.out.c;
      const std::int64_t fan_in = l.kind == net::op_kind::conv ? (l.in.c / l.groups) * l.kernel * l.kernel
                                                               : l.in.c * l.in.h * l.in.w;
      // Variance-preserving scale (He for rectifier-like activations, LeCun for linear outputs).
      const bool rectifier = l.act == net::activation::relu || l.act == net::activation::relu6 ||
                             l.act == net::activation::hswish;
      const double stddev = std::sqrt((rectifier ? 2.0 : 1.0) / static_cast<double>(fan_in));
      // Uniform on [-a, a] with a = sqrt(3) * stddev has the same variance as the normal
      // initialisers and costs one draw a weight instead of a logarithm and a sine: the weights were
      // most of what compiling a network cost (docs/lab/2026-12-07-timed-share.md).
      const double half_width = std::sqrt(3.0) * stddev;
      std::vector<double> w(static_cast<std::size_t>(out * fan_in));
      for (auto& v : w) v = half_width * (2.0 * r.uniform01() - 1.0);
      std::vector<double> b(static_cast<std::size_t>(out), 0.0);
      if (l.bias) {
        for (auto& v : b) v = 0.1 * r.normal();
      }
      if (l.batch_norm) {
        const bn_stats bn = random_bn(r, out);
        for (std::int64_t o = 0; o < out; ++o) {
          const auto oi = static_cast<std::size_t>(o);
          for (std::int64_t k = 0; k < fan_in; ++k) w[static_cast<std::size_t>(o * fan_in + k)] *= bn.scale[oi];
          b[oi] = b[oi] * bn.scale[oi] + bn.shift[oi];
        }
      }
      p.weight.assign(w.begin(), w.end());
      p.bias.assign(b.begin(), b.end());
    } else if (l.kind == net::op_kind::batch_norm) {
      const bn_stats bn = random_bn(r, l.out.c);
      p.weight.assign(bn.scale.begin(), bn.scale.end());
      p.bias.assign(bn.shift.begin(), bn.shift.end());
    }
  }
  return params;
}

std::vector<float> make_input(const net::network& net, std::uint64_t seed) {
  rng r(seed ^ 0x5eedf00dULL);
  std::vector<float> x(static_cast<std::size_t>(net.input.elements()));
  for (auto& v : x) v = static_cast<float>(r.normal());
  return x;
}

}  // namespace esm::backend
