// Search spaces: what an architecture is, its canonical text, its genes and its network.
//
// An `arch` is a space name plus a fixed-length gene vector that says everything about the
// architecture; inactive positions (blocks beyond a stage's depth) are always 0, so two genes
// vectors are equal exactly when the architectures are. The canonical text (docs/spaces.md)
// round-trips exactly through parse/format, and the id is FNV-1a-64 of that text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "esm/common/random.hpp"
#include "esm/net/network.hpp"

namespace esm::space {

struct arch {
  std::string space;
  std::vector<int> genes;
  friend bool operator==(const arch&, const arch&) = default;
};

/// Restrictions a sampler respects. Unset fields are sampled uniformly.
struct sample_constraints {
  std::optional<int> resolution;
  std::optional<std::string> variant;  ///< e.g. "w1.2" for ofa-mbv3
};

/// Where each choice lives in a space's gene vector: what encodings (include/esm/features/)
/// need to read any space generically.
struct gene_layout {
  struct dim {
    std::string name;
    std::vector<int> values;  ///< allowed values, ascending
    int gene_offset = 0;      ///< block dims: gene of slot 0; global dims: the gene itself
  };
  std::vector<int> stage_slots;  ///< maximum blocks per stage
  std::vector<int> slot_offset;  ///< first slot index of each stage
  std::vector<dim> block_dims;   ///< per-block choices; gene = gene_offset + slot (0 = inactive)
  std::vector<dim> global_dims;  ///< whole-network choices (width, resolution, growth, ...)
  [[nodiscard]] int total_slots() const;
};

class search_space {
 public:
  virtual ~search_space() = default;

  [[nodiscard]] virtual std::string_view name() const = 0;
  /// One paragraph: origin of the space and its choice sets (for `esm spaces`).
  [[nodiscard]] virtual std::string choices_text() const = 0;
  /// Named variants (width multipliers); empty when the space has none.
  [[nodiscard]] virtual std::vector<std::string> variants() const { return {}; }
  /// The variant an architecture belongs to (one of variants()); empty when the space has none.
  [[nodiscard]] virtual std::string_view variant_of(const arch&) const { return {}; }
  [[nodiscard]] std::vector<int> resolutions() const;  ///< 128..224 step 4 for every space

  /// Names of the fixed-length gene vector's entries.
  [[nodiscard]] virtual std::vector<std::string> gene_names() const = 0;
  [[nodiscard]] virtual gene_layout layout() const = 0;

  [[nodiscard]] virtual std::string format(const arch& a) const = 0;
  /// Throws usage_error naming the offending token.
  [[nodiscard]] virtual arch parse(std::string_view text) const = 0;

  /// Number of searchable blocks: ESM's depth-bin key.
  [[nodiscard]] virtual int depth(const arch& a) const = 0;
  [[nodiscard]] virtual int resolution(const arch& a) const = 0;
  /// Every depth value an architecture of this space can have, ascending.
  [[nodiscard]] std::vector<int> depth_bins() const;

  /// Number of distinct architectures satisfying the constraints (and depth, when given).
  /// long double: the spaces are far beyond 2^64.
  [[nodiscard]] long double count(const sample_constraints& c, std::optional<int> depth = {}) const;
  /// One architecture uniformly from those satisfying the constraints (and depth, when given).
  /// Throws usage_error if there are none.
  [[nodiscard]] arch sample(rng& r, const sample_constraints& c, std::optional<int> depth = {}) const;
  /// One architecture with every choice independently uniform (OFA's own sampling).
  [[nodiscard]] arch sample_independent(rng& r, const sample_constraints& c) const;

  /// The network the architecture denotes, at the given batch size.
  [[nodiscard]] virtual net::network build(const arch& a, int batch) const = 0;

 protected:
  /// The elastic structure the shared sampling code works on: stages with depth choices, a
  /// number of equally many choices per active block, and independent global choices.
  struct structure {
    std::vector<std::vector<int>> stage_depths;  ///< allowed depths per stage
    int choices_per_block = 1;                   ///< product of per-block choice set sizes
    std::vector<int> global_choices;             ///< sizes of the other (non-block) choices
  };
  [[nodiscard]] virtual structure elastic_structure(const sample_constraints& c) const = 0;
  /// Fill genes from: chosen stage depths, per-block choice indices (flattened, one vector
  /// per active block, each in [0, choices_per_block)), global choice indices.
  [[nodiscard]] virtual arch assemble(const sample_constraints& c, const std::vector<int>& depths,
                                      const std::vector<int>& block_choices,
                                      const std::vector<int>& global_choices) const = 0;
  void check_constraints(const sample_constraints& c) const;
};

/// Every space esm knows, in a fixed order.
[[nodiscard]] const std::vector<const search_space*>& all_spaces();
/// Throws usage_error("unknown search space 'x' (known: ...)").
[[nodiscard]] const search_space& find_space(std::string_view name);
/// Parses an arch text of any space (the space is the text's first field).
[[nodiscard]] arch parse_any(std::string_view text);
[[nodiscard]] std::string format_any(const arch& a);

/// The stable 64-bit id: FNV-1a-64 of the canonical text.
[[nodiscard]] std::uint64_t arch_id(const arch& a);
[[nodiscard]] std::uint64_t arch_id(std::string_view canonical_text);

/// `esm describe --json`: {"space", "id" (16 hex digits), "depth", "batch", "network": net::to_json}
/// for the architecture's network at batch size `batch` (the CLI and the Python package share it).
[[nodiscard]] std::string describe_json(const arch& a, int batch);

}  // namespace esm::space
