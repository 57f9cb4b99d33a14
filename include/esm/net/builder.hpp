// Appends layers to a network while computing shapes, MACs and parameter counts in one place.
// Search spaces describe their networks through this builder only, so the cost conventions of
// network.hpp live here and nowhere else.
#pragma once

#include "esm/net/network.hpp"

namespace esm::net {

struct conv_spec {
  int out_channels = 0;
  int kernel = 1;
  int stride = 1;
  int groups = 1;
  bool bias = false;
  bool batch_norm = true;
  activation act = activation::none;
};

class builder {
 public:
  builder(std::string arch, shape4 input);

  /// Layer index of the most recent layer (network_input before the first).
  [[nodiscard]] int last() const { return static_cast<int>(net_.layers.size()) - 1; }
  [[nodiscard]] const shape4& shape_of(int index) const;

  /// "Same" padding (kernel / 2), PyTorch floor output size.
  int conv(std::string name, int from, const conv_spec& spec);
  int batch_norm(std::string name, int from, activation act);
  int max_pool(std::string name, int from, int kernel, int stride, int pad);
  /// Average pool; `ceil_mode` reproduces PyTorch's ceil_mode=True (extra end padding).
  int avg_pool(std::string name, int from, int kernel, int stride, int pad, bool ceil_mode);
  int global_avg_pool(std::string name, int from);
  int fully_connected(std::string name, int from, int out_features);
  int channel_scale(std::string name, int features, int scale);
  int add(std::string name, int a, int b, activation act);
  int concat(std::string name, std::vector<int> from);

  /// Opens a block; layers appended until end_block() belong to it.
  void begin_block(std::string kind, bool searchable, int stage, int position);
  void end_block(std::string signature);

  /// Validates and returns the network.
  [[nodiscard]] network finish() &&;

 private:
  int push(layer l);
  network net_;
  int open_block_ = -1;
};

}  // namespace esm::net
