// Sampling and counting shared by every space, and the space registry.
//
// Every space is "stages with elastic depth, a fixed number of choices per active block, and a
// few global choices". Under that structure the architectures of a given depth are counted by a
// small dynamic programme over stage depths, which gives exact uniform sampling within a bin.
#include "esm/space/space.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "esm/common/error.hpp"
#include "space/densenet.hpp"
#include "space/ofa_mbv3.hpp"
#include "space/ofa_resnet50.hpp"

namespace esm::space {

namespace {

/// ways[i][t]: number of depth assignments of stages i.. with total depth t.
std::vector<std::vector<std::uint64_t>> suffix_ways(const std::vector<std::vector<int>>& stage_depths) {
  int max_total = 0;
  for (const auto& s : stage_depths) max_total += *std::max_element(s.begin(), s.end());
  std::vector<std::vector<std::uint64_t>> ways(stage_depths.size() + 1,
                                               std::vector<std::uint64_t>(static_cast<std::size_t>(max_total) + 1, 0));
  ways.back()[0] = 1;
  for (std::size_t i = stage_depths.size(); i-- > 0;) {
    for (int t = 0; t <= max_total; ++t) {
      for (int d : stage_depths[i]) {
        if (d <= t) ways[i][static_cast<std::size_t>(t)] += ways[i + 1][static_cast<std::size_t>(t - d)];
      }
    }
  }
  return ways;
}

}  // namespace

int gene_layout::total_slots() const {
  int n = 0;
  for (int s : stage_slots) n += s;
  return n;
}

std::vector<int> search_space::resolutions() const {
  std::vector<int> r;
  for (int v = 128; v <= 224; v += 4) r.push_back(v);
  return r;
}

void search_space::check_constraints(const sample_constraints& c) const {
  if (c.resolution) {
    const auto rs = resolutions();
    if (std::find(rs.begin(), rs.end(), *c.resolution) == rs.end()) {
      throw usage_error("resolution " + std::to_string(*c.resolution) + " is not in " + std::string(name()) +
                        " (128..224 step 4)");
    }
  }
  const auto vs = variants();
  if (c.variant && std::find(vs.begin(), vs.end(), *c.variant) == vs.end()) {
    throw usage_error("variant '" + *c.variant + "' is not in " + std::string(name()) +
                      (vs.empty() ? " (it has no variants)" : " (try " + vs.front() + ")"));
  }
}

std::vector<int> search_space::depth_bins() const {
  const auto ways = suffix_ways(elastic_structure({}).stage_depths);
  std::vector<int> bins;
  for (std::size_t t = 0; t < ways[0].size(); ++t) {
    if (ways[0][t] > 0) bins.push_back(static_cast<int>(t));
  }
  return bins;
}

long double search_space::count(const sample_constraints& c, std::optional<int> depth) const {
  check_constraints(c);
  const structure s = elastic_structure(c);
  const auto ways = suffix_ways(s.stage_depths);
  long double globals = c.resolution ? 1.0L : static_cast<long double>(resolutions().size());
  if (!variants().empty() && !c.variant) globals *= static_cast<long double>(variants().size());
  for (int g : s.global_choices) globals *= g;
  long double total = 0;
  for (std::size_t t = 0; t < ways[0].size(); ++t) {
    if (depth && static_cast<int>(t) != *depth) continue;
    total += static_cast<long double>(ways[0][t]) * std::pow(static_cast<long double>(s.choices_per_block), t);
  }
  return total * globals;
}

namespace {

sample_constraints resolve(const search_space& sp, rng& r, sample_constraints c) {
  if (!c.resolution) {
    const auto rs = sp.resolutions();
    c.resolution = rs[r.uniform_index(rs.size())];
  }
  const auto vs = sp.variants();
  if (!vs.empty() && !c.variant) c.variant = vs[r.uniform_index(vs.size())];
  return c;
}

}  // namespace

arch search_space::sample(rng& r, const sample_constraints& c0, std::optional<int> depth) const {
  check_constraints(c0);
  const structure s = elastic_structure(c0);
  const auto ways = suffix_ways(s.stage_depths);
  int total;
  if (depth) {
    if (*depth < 0 || static_cast<std::size_t>(*depth) >= ways[0].size() || ways[0][static_cast<std::size_t>(*depth)] == 0) {
      throw usage_error("depth " + std::to_string(*depth) + " is not possible in " + std::string(name()));
    }
    total = *depth;
  } else {
    // Pick the depth with probability proportional to the number of architectures it holds.
    std::vector<long double> weight(ways[0].size());
    long double sum = 0;
    for (std::size_t t = 0; t < weight.size(); ++t) {
      weight[t] = static_cast<long double>(ways[0][t]) * std::pow(static_cast<long double>(s.choices_per_block), t);
      sum += weight[t];
    }
    long double u = static_cast<long double>(r.uniform01()) * sum;
    total = static_cast<int>(weight.size()) - 1;
    while (total > 0 && weight[static_cast<std::size_t>(total)] == 0) --total;
    for (std::size_t t = 0; t < weight.size(); ++t) {
      if (weight[t] == 0) continue;
      if (u < weight[t]) {
        total = static_cast<int>(t);
        break;
      }
      u -= weight[t];
    }
  }
  // Stage depths uniformly among the assignments with this total.
  std::vector<int> depths;
  int left = total;
  for (std::size_t i = 0; i < s.stage_depths.size(); ++i) {
    std::uint64_t pick = r.uniform_index(ways[i][static_cast<std::size_t>(left)]);
    for (int d : s.stage_depths[i]) {
      if (d > left) continue;
      const std::uint64_t w = ways[i + 1][static_cast<std::size_t>(left - d)];
      if (pick < w) {
        depths.push_back(d);
        left -= d;
        break;
      }
      pick -= w;
    }
  }
  std::vector<int> blocks(static_cast<std::size_t>(total));
  for (auto& b : blocks) b = static_cast<int>(r.uniform_index(static_cast<std::uint64_t>(s.choices_per_block)));
  std::vector<int> globals;
  for (int g : s.global_choices) globals.push_back(static_cast<int>(r.uniform_index(static_cast<std::uint64_t>(g))));
  return assemble(resolve(*this, r, c0), depths, blocks, globals);
}

arch search_space::sample_independent(rng& r, const sample_constraints& c0) const {
  check_constraints(c0);
  const structure s = elastic_structure(c0);
  std::vector<int> depths;
  int total = 0;
  for (const auto& choices : s.stage_depths) {
    depths.push_back(choices[r.uniform_index(choices.size())]);
    total += depths.back();
  }
  std::vector<int> blocks(static_cast<std::size_t>(total));
  for (auto& b : blocks) b = static_cast<int>(r.uniform_index(static_cast<std::uint64_t>(s.choices_per_block)));
  std::vector<int> globals;
  for (int g : s.global_choices) globals.push_back(static_cast<int>(r.uniform_index(static_cast<std::uint64_t>(g))));
  return assemble(resolve(*this, r, c0), depths, blocks, globals);
}

const std::vector<const search_space*>& all_spaces() {
  static const ofa_mbv3 mbv3;
  static const ofa_resnet50 resnet;
  static const densenet dense;
  static const std::vector<const search_space*> spaces{&mbv3, &resnet, &dense};
  return spaces;
}

const search_space& find_space(std::string_view name) {
  for (const auto* s : all_spaces()) {
    if (s->name() == name) return *s;
  }
  std::string known;
  for (const auto* s : all_spaces()) known += (known.empty() ? "" : ", ") + std::string(s->name());
  throw usage_error("unknown search space '" + std::string(name) + "' (known: " + known + ")");
}

arch parse_any(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    throw usage_error("malformed architecture '" + std::string(text.substr(0, 60)) + "': expected SPACE:...");
  }
  return find_space(text.substr(0, colon)).parse(text);
}

std::string format_any(const arch& a) { return find_space(a.space).format(a); }

std::uint64_t arch_id(std::string_view canonical_text) {
  return fnv1a64(canonical_text.data(), canonical_text.size());
}

std::uint64_t arch_id(const arch& a) { return arch_id(format_any(a)); }

std::string describe_json(const arch& a, int batch) {
  const auto& sp = find_space(a.space);
  const net::network n = sp.build(a, batch);
  char head[128];
  std::snprintf(head, sizeof head, "{\"space\": \"%s\", \"id\": \"%016llx\", \"depth\": %d, \"batch\": %d, \"network\": ",
                std::string(sp.name()).c_str(), static_cast<unsigned long long>(arch_id(sp.format(a))), sp.depth(a), batch);
  return head + net::to_json(n) + "}\n";
}

}  // namespace esm::space
