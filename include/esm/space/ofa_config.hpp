// Once-for-all's own arch configs <-> esm architectures.
//
// NAS code and published latency tables hold architectures as the dicts of once-for-all's
// set_active_subnet / sample_active_subnet (plus the input resolution "r"): ofa-mbv3
// {ks, e, d, r}, ofa-resnet50 {d, e, w, r}. These pure conversions take and give a parsed config;
// reading one from JSON lives with the file reader (esm/space/arch_file.hpp).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "esm/space/space.hpp"

namespace esm::space {

/// One OFA arch config. A key the config lacks is std::nullopt.
///
/// ofa-mbv3: ks = 20 kernel sizes {3,5,7}, e = 20 expand ratios {3,4,6}, one per block slot
/// (stage * 4 + position), d = 5 stage depths {2,3,4}. ofa-resnet50: d = stem (0: skip the stem's
/// residual block, 2: keep it) then 4 stage depth offsets {0,1,2} over the base depths 2,2,4,2;
/// e = 18 expand ratios {0.2,0.25,0.35} (slots 4,4,6,4 per stage); w = 6 width indices {0,1,2}
/// (stem conv 1 and stem block, stem conv 3, stages 1-4). Both: r = input resolution 128..224
/// step 4. Slots beyond a stage's depth are inactive, but OFA keeps a valid choice in them.
struct ofa_config {
  std::optional<std::vector<int>> ks;
  std::optional<std::vector<double>> e;
  std::optional<std::vector<int>> d;
  std::optional<std::vector<int>> w;
  std::optional<int> r;
  friend bool operator==(const ofa_config&, const ofa_config&) = default;
};

/// The keys of `space`'s OFA configs, in OFA's order ("ks","e","d","r" / "d","e","w","r").
/// Throws usage_error for a space once-for-all has no config format for (densenet).
[[nodiscard]] std::vector<std::string_view> ofa_keys(const search_space& space);

/// The architecture `config` denotes in `space`, at width `variant` (one of space.variants(); ""
/// for a space without variants: an OFA config does not hold the width multiplier). Throws
/// usage_error naming the key and position on a missing or foreign key, a list of the wrong
/// length, or a value outside the space's choices (inactive slots included).
[[nodiscard]] arch from_ofa(const search_space& space, const ofa_config& config, std::string_view variant);

/// The OFA config of `a` (a member of `space`). Inactive slots get OFA's smallest choice
/// (ks 3, e 3 for ofa-mbv3; e 0.2 for ofa-resnet50), so the result is a function of the
/// architecture and from_ofa(space, to_ofa(space, a), space.variant_of(a)) == a.
[[nodiscard]] ofa_config to_ofa(const search_space& space, const arch& a);

}  // namespace esm::space
