// Batched single-precision inference of a ReLU MLP: the predict path the NAS loop runs millions of
// times. Input standardisation is folded into the first layer; rows go through all layers in
// cache-sized chunks with register-blocked tiles; no allocation per row.
//
// Every output is computed as bias + x_0 w_0 + x_1 w_1 + ... in that order, one rounding per
// operation and no fused multiply-add, so the AVX2 clone of the kernel and the portable one give
// bit-identical results.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "esm/surrogate/matrix.hpp"

namespace esm::surrogate::detail {

class dense_forward {
 public:
  /// One layer as trained: weight (out x in) column-major, so weight[k * out + j] multiplies input k
  /// for output j; ReLU after every layer but the last.
  struct layer_view {
    std::size_t in = 0;
    std::size_t out = 0;
    const double* weight = nullptr;
    const double* bias = nullptr;
  };

  dense_forward() = default;
  /// The network z = (x - input_mean) / input_scale -> layers; the last layer has one output.
  dense_forward(std::span<const double> input_mean, std::span<const double> input_scale,
                std::span<const layer_view> layers);

  [[nodiscard]] std::size_t inputs() const { return inputs_; }
  [[nodiscard]] bool empty() const { return layers_.empty(); }

  /// The network's output for every row of x (x.cols == inputs(), out.size() == x.rows).
  void run(matrix_view x, std::span<double> out) const;

 private:
  struct layer {
    std::size_t in = 0;
    std::size_t out_padded = 0;  ///< out rounded up to the 8-float vector width, zero weights
    std::vector<float> weight;   ///< in x out_padded, row k = input k's weights
    std::vector<float> bias;     ///< out_padded
    bool relu = true;
  };
  std::size_t inputs_ = 0;
  std::size_t widest_ = 0;  ///< largest out_padded
  std::vector<layer> layers_;
};

}  // namespace esm::surrogate::detail
