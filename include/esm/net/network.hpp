// The backend-neutral network IR: what an architecture denotes, layer by layer.
//
// A network is a topologically ordered list of layers. Every layer names its producers by index
// (-1 is the network input), carries its output shape (NCHW, batch included), its fused
// activation and its cost. Backends (oneDNN, cuDNN, the reference executor) execute exactly this
// list; the JSON export (`esm describe --json`) writes it so other frameworks can rebuild it.
//
// Conventions (docs/spaces.md has the full contract):
//  - conv layers with `batch_norm` set stand for conv + inference batch-norm; backends fold the BN
//    into the conv's weights and bias. `bias` is a real conv bias (e.g. squeeze-excite convs).
//  - pooling windows start at `-pad_begin`; `pad_end` may exceed `pad_begin` (PyTorch ceil_mode);
//    average pooling divides by the number of in-bounds elements (padding excluded).
//  - `macs` and `params` are per sample (batch-independent), counted like PyTorch would:
//    MACs of conv and fully-connected layers only; params = weights + bias + BN (gamma, beta).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace esm::net {

enum class op_kind {
  conv,             ///< 2-D convolution, groups == in channels means depthwise
  batch_norm,       ///< standalone inference BN (pre-activation nets, not foldable)
  max_pool,         ///< kernel x kernel window
  avg_pool,         ///< kernel x kernel window, padding excluded from the divisor
  global_avg_pool,  ///< H x W -> 1 x 1
  fully_connected,  ///< (N, C, 1, 1) -> (N, K, 1, 1), always with bias
  channel_scale,    ///< inputs[0] * inputs[1] broadcast over H, W (squeeze-excite)
  add,              ///< inputs[0] + inputs[1] (residual), then the activation
  concat,           ///< channel concatenation of all inputs, in order
};

enum class activation { none, relu, relu6, hswish, hsigmoid, sigmoid };

[[nodiscard]] std::string_view to_string(op_kind kind);
[[nodiscard]] std::string_view to_string(activation act);

/// NCHW tensor shape.
struct shape4 {
  std::int64_t n = 0, c = 0, h = 0, w = 0;
  [[nodiscard]] std::int64_t elements() const { return n * c * h * w; }
  friend bool operator==(const shape4&, const shape4&) = default;
};

inline constexpr int network_input = -1;

struct layer {
  std::string name;
  op_kind kind = op_kind::conv;
  std::vector<int> inputs;  ///< producer layer indices; network_input for the image
  shape4 in;                ///< shape of inputs[0] (for concat: the first input)
  shape4 out;
  int kernel = 1;  ///< square kernel / pooling window
  int stride = 1;
  int pad_begin = 0;  ///< top/left padding
  int pad_end = 0;    ///< bottom/right padding
  int groups = 1;
  bool bias = false;        ///< conv/fc bias present in the trained model
  bool batch_norm = false;  ///< conv followed by BN (folded at inference)
  activation act = activation::none;  ///< applied to the layer's result
  int block = -1;                     ///< index into network::blocks, -1 if none
  std::int64_t macs = 0;              ///< multiply-accumulates per sample
  std::int64_t params = 0;            ///< trainable parameters
};

/// A unit of the architecture: a searchable block or a fixed part (stem, head).
struct block {
  std::string signature;  ///< shape-complete key, e.g. OFA's LUT key for ofa-mbv3
  std::string kind;       ///< "mbconv", "bottleneck", "dense_layer", "stem", ...
  bool searchable = false;
  int stage = -1;     ///< stage / dense block index, -1 for fixed parts
  int position = -1;  ///< position inside the stage
  int first_layer = 0, last_layer = 0;  ///< inclusive range into network::layers
};

struct network {
  std::string arch;  ///< canonical text of the architecture
  shape4 input;      ///< N x 3 x R x R
  std::vector<layer> layers;
  std::vector<block> blocks;

  [[nodiscard]] const shape4& output_shape() const { return layers.back().out; }
  [[nodiscard]] std::int64_t total_macs() const;    ///< per sample
  [[nodiscard]] std::int64_t total_params() const;
  /// Shape of the k-th input of layer `index`.
  [[nodiscard]] const shape4& input_shape(int index, int k = 0) const;
};

/// Checks internal consistency (producer order, shapes of every op, block ranges); throws
/// esm::error naming the first broken layer. Spaces call it on every network they build.
void validate(const network& net);

/// The whole IR as JSON (one object: arch, input, layers, blocks, totals).
[[nodiscard]] std::string to_json(const network& net);

}  // namespace esm::net
