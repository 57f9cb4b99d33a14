// Training domain: what the rows covered, and why an architecture falls outside it.
#include "esm/train/domain.hpp"

#include <algorithm>
#include <set>

#include "esm/common/int_ranges.hpp"

namespace esm::train {

std::string variant_of(const space::search_space& sp, const space::arch& a) { return std::string(sp.variant_of(a)); }

training_domain domain_of(const space::search_space& sp, const std::vector<space::arch>& archs) {
  training_domain d;
  if (archs.empty()) return d;
  std::set<std::string> variants;
  std::set<int> bins;
  d.min_resolution = sp.resolution(archs.front());
  d.max_resolution = d.min_resolution;
  for (const auto& a : archs) {
    if (auto v = variant_of(sp, a); !v.empty()) variants.insert(std::move(v));
    const int r = sp.resolution(a);
    d.min_resolution = std::min(d.min_resolution, r);
    d.max_resolution = std::max(d.max_resolution, r);
    bins.insert(sp.depth(a));
  }
  d.variants.assign(variants.begin(), variants.end());
  d.depth_bins.assign(bins.begin(), bins.end());
  d.known = true;
  return d;
}

std::vector<std::string> outside_reasons(const training_domain& d, const space::search_space& sp, const space::arch& a) {
  std::vector<std::string> why;
  if (!d.known) return why;
  if (!d.variants.empty()) {
    const std::string_view v = sp.variant_of(a);  // no copy: predict checks every arch
    if (std::find(d.variants.begin(), d.variants.end(), v) == d.variants.end()) {
      why.push_back("width " + std::string(v) + " not trained");
    }
  }
  const int r = sp.resolution(a);
  if (r < d.min_resolution || r > d.max_resolution) {
    why.push_back("resolution " + std::to_string(r) + " outside " + std::to_string(d.min_resolution) + ".." +
                  std::to_string(d.max_resolution));
  }
  const int depth = sp.depth(a);
  if (!std::binary_search(d.depth_bins.begin(), d.depth_bins.end(), depth)) {
    why.push_back("depth " + std::to_string(depth) + " not trained");
  }
  return why;
}

std::string describe(const training_domain& d) {
  if (!d.known) return "unknown (model written before esm recorded it)";
  std::string out;
  if (!d.variants.empty()) {
    out += "widths ";
    for (std::size_t i = 0; i < d.variants.size(); ++i) out += (i ? "," : "") + d.variants[i];
    out += ", ";
  }
  out += "resolutions " + std::to_string(d.min_resolution) + ".." + std::to_string(d.max_resolution);
  out += ", depths " + int_ranges_text(d.depth_bins);  // runs as a-b, as CPU lists
  return out;
}

}  // namespace esm::train
