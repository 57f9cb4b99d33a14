// The batched MLP inference kernel; the numerical contract is in dense_forward.hpp.
#include "dense_forward.hpp"

#include <algorithm>
#include <cstring>

#include "esm/common/error.hpp"

namespace esm::surrogate::detail {

namespace {

constexpr std::size_t vector_floats = 8;  // one AVX register
constexpr std::size_t tile_rows = 4;
// Rows per chunk: a chunk's activations (chunk x widest floats, twice) stay in L1 while every
// layer's weights stream through once per chunk.
constexpr std::size_t chunk_rows = 64;

std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }

// GCC/Clang vector extension: 8 floats. The default clone lowers it to pairs of SSE operations,
// the AVX2 clone to single instructions; the arithmetic is the same either way.
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

/// y[r][0..8V) = act(b + sum_k x[r][k] w[k][0..8V)) for tile_rows rows: tile_rows x V vector
/// accumulators live in registers while the weights of input k are loaded once for all rows.
template <std::size_t V>
[[gnu::always_inline]] inline void tile(const float* x, std::size_t x_stride, std::size_t in, const float* w,
                                        std::size_t w_stride, const float* b, bool relu, float* y,
                                        std::size_t y_stride) {
  v8f acc[tile_rows][V];
  for (std::size_t v = 0; v < V; ++v) {
    v8f bias;
    std::memcpy(&bias, b + v * vector_floats, sizeof bias);
    for (std::size_t r = 0; r < tile_rows; ++r) acc[r][v] = bias;
  }
  for (std::size_t k = 0; k < in; ++k) {
    v8f wk[V];
    for (std::size_t v = 0; v < V; ++v) std::memcpy(&wk[v], w + k * w_stride + v * vector_floats, sizeof(v8f));
    for (std::size_t r = 0; r < tile_rows; ++r) {
      const float a = x[r * x_stride + k];
      for (std::size_t v = 0; v < V; ++v) acc[r][v] += a * wk[v];
    }
  }
  const v8f zero = {};
  for (std::size_t r = 0; r < tile_rows; ++r) {
    for (std::size_t v = 0; v < V; ++v) {
      v8f out = acc[r][v];
      if (relu) out = reinterpret_cast<v8f>(reinterpret_cast<v8i>(out) & (out > zero));
      std::memcpy(y + r * y_stride + v * vector_floats, &out, sizeof out);
    }
  }
}

/// One layer over `rows` (a multiple of tile_rows) rows. Cloned for AVX2 and a portable baseline,
/// chosen once at load time; "avx2" does not enable FMA, so both clones round identically.
[[gnu::target_clones("avx2", "default")]] void layer_forward(const float* x, std::size_t x_stride, std::size_t rows,
                                                            std::size_t in, const float* w, std::size_t out_padded,
                                                            const float* b, bool relu, float* y,
                                                            std::size_t y_stride) {
  for (std::size_t r0 = 0; r0 < rows; r0 += tile_rows) {
    const float* xr = x + r0 * x_stride;
    float* yr = y + r0 * y_stride;
    std::size_t j0 = 0;
    for (; j0 + 2 * vector_floats <= out_padded; j0 += 2 * vector_floats)
      tile<2>(xr, x_stride, in, w + j0, out_padded, b + j0, relu, yr + j0, y_stride);
    for (; j0 < out_padded; j0 += vector_floats)
      tile<1>(xr, x_stride, in, w + j0, out_padded, b + j0, relu, yr + j0, y_stride);
  }
}

}  // namespace

dense_forward::dense_forward(std::span<const double> input_mean, std::span<const double> input_scale,
                             std::span<const layer_view> layers)
    : inputs_(input_mean.size()) {
  if (layers.empty() || input_scale.size() != inputs_ || layers.front().in != inputs_ || layers.back().out != 1)
    throw error("mlp: inconsistent layer shapes for the inference kernel");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const auto& src = layers[l];
    if (l > 0 && src.in != layers[l - 1].out) throw error("mlp: inconsistent layer shapes for the inference kernel");
    layer dst;
    dst.in = src.in;
    dst.out_padded = round_up(src.out, vector_floats);
    dst.relu = l + 1 < layers.size();
    dst.weight.assign(src.in * dst.out_padded, 0.0f);
    dst.bias.assign(dst.out_padded, 0.0f);
    for (std::size_t j = 0; j < src.out; ++j) {
      double bias = src.bias[j];
      for (std::size_t k = 0; k < src.in; ++k) {
        double wjk = src.weight[k * src.out + j];
        if (l == 0) {
          // W (x - m) / s + b = (W / s) x + (b - W m / s): standardisation costs nothing per row.
          wjk /= input_scale[k];
          bias -= wjk * input_mean[k];
        }
        dst.weight[k * dst.out_padded + j] = static_cast<float>(wjk);
      }
      dst.bias[j] = static_cast<float>(bias);
    }
    widest_ = std::max(widest_, dst.out_padded);
    layers_.push_back(std::move(dst));
  }
}

void dense_forward::run(matrix_view x, std::span<double> out) const {
  if (x.cols != inputs_ || out.size() != x.rows) throw error("mlp: inference arguments do not match the network");
  std::vector<float> input(chunk_rows * inputs_);
  std::vector<float> ping(chunk_rows * widest_);
  std::vector<float> pong(chunk_rows * widest_);
  for (std::size_t first = 0; first < x.rows; first += chunk_rows) {
    const std::size_t rows = std::min(chunk_rows, x.rows - first);
    const std::size_t padded_rows = round_up(rows, tile_rows);
    std::transform(x.data + first * inputs_, x.data + (first + rows) * inputs_, input.begin(),
                   [](double v) { return static_cast<float>(v); });
    // Rows past the end of x go through the network as zeros and are dropped.
    std::fill(input.begin() + static_cast<std::ptrdiff_t>(rows * inputs_),
              input.begin() + static_cast<std::ptrdiff_t>(padded_rows * inputs_), 0.0f);
    const float* cur = input.data();
    std::size_t cur_stride = inputs_;
    float* next = ping.data();
    for (const auto& l : layers_) {
      layer_forward(cur, cur_stride, padded_rows, l.in, l.weight.data(), l.out_padded, l.bias.data(), l.relu, next,
                    l.out_padded);
      cur = next;
      cur_stride = l.out_padded;
      next = next == ping.data() ? pong.data() : ping.data();
    }
    for (std::size_t r = 0; r < rows; ++r) out[first + r] = cur[r * cur_stride];
  }
}

}  // namespace esm::surrogate::detail
