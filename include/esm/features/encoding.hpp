// Architecture encodings: ESM's comparison set (one-hot, statistical, feature count FC,
// feature-combination count FCC, lookup-table sum) plus optional analytic extras.
//
// Encoders read any space through its gene_layout, so a new space gets every encoding for free.
// Encoding is pure and cheap (no network is built) except for `lut` and the MACs/params extras,
// which build the network IR of each architecture.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "esm/features/lut.hpp"
#include "esm/space/space.hpp"

namespace esm::features {

enum class encoding_kind {
  onehot,  ///< one-hot of every choice of every block slot (inactive slots all zero) + globals
  stats,   ///< per stage and per network: depth, mean and std of every block choice + globals
  fc,      ///< number of active blocks taking each value of each block choice + globals
  fcc,     ///< number of active blocks per stage taking each combination of block choices + globals
  lut,     ///< sum of per-block latencies from a lookup table
};

[[nodiscard]] encoding_kind parse_encoding(std::string_view text);  ///< throws usage_error
[[nodiscard]] std::string_view to_string(encoding_kind k);

struct encoding_spec {
  encoding_kind kind = encoding_kind::fcc;
  bool extras = false;  ///< append MACs (G), params (M), depth, resolution
  /// Canonical text, stored in model files: "fcc", "onehot+extras", ...
  [[nodiscard]] std::string text() const;
  [[nodiscard]] static encoding_spec parse(std::string_view text);  ///< throws usage_error
};

/// A dense row-major feature matrix.
struct feature_matrix {
  std::size_t rows = 0, cols = 0;
  std::vector<double> data;
  [[nodiscard]] const double* row(std::size_t r) const { return data.data() + r * cols; }
};

class encoder {
 public:
  /// `table` is required for the lut encoding (and ignored otherwise); it must outlive the encoder.
  encoder(const space::search_space& space, encoding_spec spec, const lut_table* table = nullptr);

  [[nodiscard]] std::size_t width() const { return names_.size(); }
  [[nodiscard]] const std::vector<std::string>& feature_names() const { return names_; }
  [[nodiscard]] const encoding_spec& spec() const { return spec_; }

  /// Writes width() values for `a` into `out`. Throws usage_error when `a` is from another space.
  void encode(const space::arch& a, double* out) const;
  [[nodiscard]] feature_matrix encode(const std::vector<space::arch>& archs) const;

 private:
  void encode_blocks(const space::arch& a, double* out) const;
  const space::search_space& space_;
  encoding_spec spec_;
  const lut_table* table_;
  space::gene_layout layout_;
  std::size_t gene_count_;
  std::vector<std::string> names_;
  /// Per block dim and per global dim: value -> position among the dim's values (-1: none),
  /// built once so that encoding does no search per gene (predict encodes every arch).
  std::vector<std::vector<int>> block_position_, global_position_;
};

}  // namespace esm::features
