// The training domain of a model: which variants (widths), resolutions and depth bins its rows
// covered. A surrogate extrapolates badly (a model fitted on r128 alone says little about r212),
// so predictions outside the domain are flagged, never silently returned as if in range.
#pragma once

#include <string>
#include <vector>

#include "esm/space/space.hpp"

namespace esm::train {

struct training_domain {
  std::vector<std::string> variants;  ///< widths seen, sorted (empty: the space has no variants)
  int min_resolution = 0, max_resolution = 0;
  std::vector<int> depth_bins;        ///< depth bins seen, ascending
  /// False for models written before the domain was recorded (model schema 1): nothing is flagged.
  bool known = false;
};

/// The variant (width) of an architecture: the canonical text's second field when the space has
/// variants, else empty.
[[nodiscard]] std::string variant_of(const space::search_space& sp, const space::arch& a);

/// The domain spanned by the training architectures. Pure.
[[nodiscard]] training_domain domain_of(const space::search_space& sp, const std::vector<space::arch>& archs);

/// Why `a` lies outside `d` (empty: inside, or the domain is unknown), e.g. "resolution 212 outside
/// 128..128". Resolutions inside the trained range count as inside (interpolation); variants and
/// depth bins must have been seen. Pure.
[[nodiscard]] std::vector<std::string> outside_reasons(const training_domain& d, const space::search_space& sp,
                                                       const space::arch& a);

/// One line describing the domain, e.g. "widths w1.2, resolutions 128..224, depths 10-20".
[[nodiscard]] std::string describe(const training_domain& d);

}  // namespace esm::train
