// OFA arch configs <-> esm architectures. from_ofa checks the config against once-for-all's own
// choice sets (every slot, active or not), then builds the canonical text and lets the space parse
// it, so the gene layout stays known to the space alone; to_ofa reads genes through the space's
// gene_layout.
#include "esm/space/ofa_config.hpp"

#include <cmath>
#include <string>

#include "esm/common/error.hpp"
#include "space/text.hpp"

namespace esm::space {

namespace {

const std::vector<int> mbv3_kernels{3, 5, 7};
const std::vector<int> mbv3_expands{3, 4, 6};
const std::vector<int> mbv3_depths{2, 3, 4};
constexpr int mbv3_stages = 5, mbv3_slots = 4;
const std::vector<int> resnet_stem{0, 2};
const std::vector<int> resnet_offsets{0, 1, 2};
const std::vector<int> resnet_expand_percent{20, 25, 35};
const std::vector<int> resnet_widths{0, 1, 2};
constexpr int resnet_stages = 4, resnet_width_count = 6;

bool is_mbv3(const search_space& s) { return s.name() == "ofa-mbv3"; }
bool is_resnet50(const search_space& s) { return s.name() == "ofa-resnet50"; }

std::string choices_text(const std::vector<int>& choices) {
  std::string out;
  for (int c : choices) out += (out.empty() ? "" : ",") + std::to_string(c);
  return "{" + out + "}";
}

std::string keys_text(const search_space& space) {
  std::string out;
  for (auto k : ofa_keys(space)) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

/// Checks of one config against one space; every message starts with "<space> config: ".
class checker {
 public:
  explicit checker(const search_space& space) : space_(space) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw usage_error(std::string(space_.name()) + " config: " + what);
  }

  template <class T>
  const std::vector<T>& list(const std::optional<std::vector<T>>& v, std::string_view key, std::size_t length) const {
    if (!v) fail("missing key '" + std::string(key) + "' (its keys: " + keys_text(space_) + ")");
    if (v->size() != length) {
      fail("'" + std::string(key) + "' has " + std::to_string(v->size()) + " values, expected " + std::to_string(length));
    }
    return *v;
  }

  void absent(bool present, std::string_view key) const {
    if (present) fail("key '" + std::string(key) + "' is not one of its keys (" + keys_text(space_) + ")");
  }

  void one_of(const std::vector<int>& choices, int value, std::string_view key, std::size_t i) const {
    for (int c : choices) {
      if (c == value) return;
    }
    fail(std::string(key) + "[" + std::to_string(i) + "] = " + std::to_string(value) + " is not one of " +
         choices_text(choices));
  }

  /// An expand ratio as the integer `scale * value`, which must be one of `choices`.
  int scaled(double value, double scale, const std::vector<int>& choices, std::size_t i) const {
    const double v = value * scale;
    const long nearest = std::lround(v);
    const bool exact = std::isfinite(v) && std::abs(v - static_cast<double>(nearest)) < 1e-6;
    for (int c : choices) {
      if (exact && c == nearest) return c;
    }
    std::string set;
    for (int c : choices) set += (set.empty() ? "" : ",") + format_ratio(c / scale);
    fail("e[" + std::to_string(i) + "] = " + format_ratio(value) + " is not one of {" + set + "}");
  }

  int resolution(const std::optional<int>& r) const {
    if (!r) fail("missing key 'r' (its keys: " + keys_text(space_) + ")");
    const auto all = space_.resolutions();
    for (int v : all) {
      if (v == *r) return v;
    }
    fail("r = " + std::to_string(*r) + " is outside the space (" + std::to_string(all.front()) + ".." +
         std::to_string(all.back()) + " step 4)");
  }

  void variant(std::string_view v) const {
    const auto names = space_.variants();
    if (names.empty() && v.empty()) return;
    for (const auto& n : names) {
      if (n == v) return;
    }
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    fail(names.empty() ? "the space has no width variants, but '" + std::string(v) + "' was given"
                       : "width '" + std::string(v) + "' is not one of " + known + " (an OFA config does not hold it)");
  }

 private:
  static std::string format_ratio(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
  }
  const search_space& space_;
};

arch mbv3_from_ofa(const search_space& space, const ofa_config& c, std::string_view variant) {
  const checker check(space);
  check.absent(c.w.has_value(), "w");
  const auto& ks = check.list(c.ks, "ks", mbv3_stages * mbv3_slots);
  const auto& e = check.list(c.e, "e", mbv3_stages * mbv3_slots);
  const auto& d = check.list(c.d, "d", mbv3_stages);
  const int r = check.resolution(c.r);
  check.variant(variant);
  for (std::size_t i = 0; i < d.size(); ++i) check.one_of(mbv3_depths, d[i], "d", i);
  std::vector<std::vector<int>> k_groups(mbv3_stages), e_groups(mbv3_stages);
  for (std::size_t i = 0; i < ks.size(); ++i) {
    check.one_of(mbv3_kernels, ks[i], "ks", i);
    const int expand = check.scaled(e[i], 1.0, mbv3_expands, i);
    const std::size_t stage = i / mbv3_slots;
    if (static_cast<int>(i % mbv3_slots) < d[stage]) {
      k_groups[stage].push_back(ks[i]);
      e_groups[stage].push_back(expand);
    }
  }
  return space.parse(std::string(space.name()) + ":" + std::string(variant) + ":r" + std::to_string(r) +
                     ":d=" + text::format_groups({d}) + ":k=" + text::format_groups(k_groups) +
                     ":e=" + text::format_groups(e_groups));
}

arch resnet50_from_ofa(const search_space& space, const ofa_config& c, std::string_view variant) {
  const checker check(space);
  check.absent(c.ks.has_value(), "ks");
  const auto l = space.layout();
  const auto& d = check.list(c.d, "d", resnet_stages + 1);
  const auto& e = check.list(c.e, "e", static_cast<std::size_t>(l.total_slots()));
  const auto& w = check.list(c.w, "w", resnet_width_count);
  const int r = check.resolution(c.r);
  check.variant(variant);
  check.one_of(resnet_stem, d[0], "d", 0);
  for (std::size_t i = 1; i < d.size(); ++i) check.one_of(resnet_offsets, d[i], "d", i);
  for (std::size_t i = 0; i < w.size(); ++i) check.one_of(resnet_widths, w[i], "w", i);
  std::vector<std::vector<int>> e_groups(resnet_stages);
  for (std::size_t s = 0; s < resnet_stages; ++s) {
    const int slots = l.stage_slots[s];
    const int depth = slots - resnet_offsets.back() + d[s + 1];  // OFA: base depth + offset
    for (int p = 0; p < slots; ++p) {
      const auto i = static_cast<std::size_t>(l.slot_offset[s] + p);
      const int percent = check.scaled(e[i], 100.0, resnet_expand_percent, i);
      if (p < depth) e_groups[s].push_back(percent);
    }
  }
  return space.parse(std::string(space.name()) + ":r" + std::to_string(r) + ":d=" + text::format_groups({d}) +
                     ":w=" + text::format_groups({w}) + ":e=" + text::format_groups(e_groups));
}

const gene_layout::dim& named(const std::vector<gene_layout::dim>& dims, std::string_view name) {
  for (const auto& d : dims) {
    if (d.name == name) return d;
  }
  throw error("gene layout has no dimension '" + std::string(name) + "'");
}

/// Per stage, the number of active slots (a slot is active when its first block choice is set).
std::vector<int> stage_depths(const gene_layout& l, const arch& a) {
  std::vector<int> out;
  const auto& first = l.block_dims.front();
  for (std::size_t s = 0; s < l.stage_slots.size(); ++s) {
    int depth = 0;
    for (int p = 0; p < l.stage_slots[s]; ++p) {
      depth += a.genes.at(static_cast<std::size_t>(first.gene_offset + l.slot_offset[s] + p)) != 0 ? 1 : 0;
    }
    out.push_back(depth);
  }
  return out;
}

/// A block dimension over every slot, inactive slots at the smallest choice.
std::vector<int> slot_values(const gene_layout& l, const gene_layout::dim& dim, const arch& a) {
  std::vector<int> out;
  for (int slot = 0; slot < l.total_slots(); ++slot) {
    const int v = a.genes.at(static_cast<std::size_t>(dim.gene_offset + slot));
    out.push_back(v != 0 ? v : dim.values.front());
  }
  return out;
}

}  // namespace

std::vector<std::string_view> ofa_keys(const search_space& space) {
  if (is_mbv3(space)) return {"ks", "e", "d", "r"};
  if (is_resnet50(space)) return {"d", "e", "w", "r"};
  throw usage_error("space '" + std::string(space.name()) +
                    "' has no once-for-all arch config (ofa-mbv3 and ofa-resnet50 have)");
}

arch from_ofa(const search_space& space, const ofa_config& config, std::string_view variant) {
  (void)ofa_keys(space);  // throws for a space without OFA configs
  return is_mbv3(space) ? mbv3_from_ofa(space, config, variant) : resnet50_from_ofa(space, config, variant);
}

ofa_config to_ofa(const search_space& space, const arch& a) {
  (void)ofa_keys(space);
  if (a.space != space.name()) {
    throw usage_error("architecture of space '" + a.space + "' given for '" + std::string(space.name()) + "'");
  }
  const auto l = space.layout();
  const auto depths = stage_depths(l, a);
  ofa_config c;
  c.r = a.genes.at(static_cast<std::size_t>(named(l.global_dims, "resolution").gene_offset));
  const auto e = slot_values(l, named(l.block_dims, "e"), a);
  if (is_mbv3(space)) {
    c.ks = slot_values(l, named(l.block_dims, "k"), a);
    c.e = std::vector<double>(e.begin(), e.end());
    c.d = depths;
    return c;
  }
  c.e.emplace();
  for (int percent : e) c.e->push_back(percent / 100.0);
  c.d = std::vector<int>{a.genes.at(static_cast<std::size_t>(named(l.global_dims, "stem_block").gene_offset)) ? 2 : 0};
  for (std::size_t s = 0; s < depths.size(); ++s) c.d->push_back(depths[s] - (l.stage_slots[s] - resnet_offsets.back()));
  c.w.emplace();
  for (const auto& dim : l.global_dims) {
    if (dim.name.starts_with("w")) c.w->push_back(a.genes.at(static_cast<std::size_t>(dim.gene_offset)));
  }
  return c;
}

}  // namespace esm::space
