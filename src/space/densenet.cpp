// An OFA-style elastic DenseNet (esm's own; no OFA original). docs/spaces.md is the contract.
//
// torchvision's DenseNet-BC structure (7x7 stem + max pool, pre-activation dense layers
// BN-ReLU-Conv1x1-BN-ReLU-Conv3x3, transitions BN-ReLU-Conv1x1 (compression 0.5)-AvgPool 2x2,
// final BN-ReLU, global pool, classifier) with elastic
//   depth per dense block {4,5,6} {8,10,12} {24,32,40,48} {16,24,32},
//   growth rate per dense block {24,32,40},
//   bottleneck factor per dense layer {2,3,4} (bottleneck channels = factor x growth).
// DenseNet-121 (6,12,24,16), -169 (6,12,32,32) and -201 (6,12,48,32) with growth 32 and factor 4
// are members.
//
// Genes (107): [0] resolution, [1..4] depths, [5..8] growth rates, [9..106] bottleneck factor of
// layer (flattened over blocks of 6,12,48,32 max layers).
// Text: densenet:r192:d=6,12,24,16:g=32,32,32,32:b=4,4,2,...-...-...-...
#include "space/densenet.hpp"

#include <algorithm>
#include <array>

#include "esm/common/error.hpp"
#include "esm/net/builder.hpp"
#include "space/text.hpp"

namespace esm::space {

namespace {

constexpr int blocks = 4;
const std::array<std::vector<int>, blocks> depth_choices{
    std::vector<int>{4, 5, 6}, std::vector<int>{8, 10, 12}, std::vector<int>{24, 32, 40, 48}, std::vector<int>{16, 24, 32}};
constexpr std::array<int, blocks> max_layers{6, 12, 48, 32};
constexpr std::array<int, blocks> layer_offset{0, 6, 18, 66};
const std::vector<int> growth_choices{24, 32, 40};
const std::vector<int> factor_choices{2, 3, 4};
constexpr int g_res = 0, g_depth = 1, g_growth = 5, g_factor = 9, gene_count = 107;
constexpr int stem_channels = 64;

std::string chw(const net::shape4& s) {
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

}  // namespace

std::string_view densenet::name() const { return "densenet"; }

std::string densenet::choices_text() const {
  return "Elastic DenseNet-BC (esm's own, spans DenseNet-121..201). 4 dense blocks, depth {4,5,6} {8,10,12} "
         "{24,32,40,48} {16,24,32}; growth rate {24,32,40} per dense block; bottleneck factor {2,3,4} per "
         "layer; compression 0.5; resolution 128..224 step 4.";
}

std::vector<std::string> densenet::variants() const { return {}; }

std::vector<std::string> densenet::gene_names() const {
  std::vector<std::string> names{"resolution"};
  for (int s = 0; s < blocks; ++s) names.push_back("d" + std::to_string(s + 1));
  for (int s = 0; s < blocks; ++s) names.push_back("g" + std::to_string(s + 1));
  for (int s = 0; s < blocks; ++s) {
    for (int p = 0; p < max_layers[static_cast<std::size_t>(s)]; ++p) {
      names.push_back("b" + std::to_string(s + 1) + "." + std::to_string(p + 1));
    }
  }
  return names;
}

gene_layout densenet::layout() const {
  gene_layout l;
  l.stage_slots.assign(max_layers.begin(), max_layers.end());
  l.slot_offset.assign(layer_offset.begin(), layer_offset.end());
  l.block_dims = {{"b", factor_choices, g_factor}};
  l.global_dims = {{"resolution", resolutions(), g_res}};
  for (int s = 0; s < blocks; ++s) l.global_dims.push_back({"g" + std::to_string(s + 1), growth_choices, g_growth + s});
  return l;
}

search_space::structure densenet::elastic_structure(const sample_constraints&) const {
  return {{depth_choices.begin(), depth_choices.end()}, 3, {3, 3, 3, 3}};
}

arch densenet::assemble(const sample_constraints& c, const std::vector<int>& depths,
                        const std::vector<int>& block_choices, const std::vector<int>& global_choices) const {
  arch a{std::string(name()), std::vector<int>(gene_count, 0)};
  a.genes[g_res] = *c.resolution;
  std::size_t next = 0;
  for (int s = 0; s < blocks; ++s) {
    const auto si = static_cast<std::size_t>(s);
    a.genes[static_cast<std::size_t>(g_depth + s)] = depths[si];
    a.genes[static_cast<std::size_t>(g_growth + s)] = growth_choices[static_cast<std::size_t>(global_choices.at(si))];
    for (int p = 0; p < depths[si]; ++p) {
      a.genes[static_cast<std::size_t>(g_factor + layer_offset[si] + p)] =
          factor_choices[static_cast<std::size_t>(block_choices[next++])];
    }
  }
  return a;
}

std::string densenet::format(const arch& a) const {
  std::vector<std::vector<int>> d(1), g(1), f;
  for (int s = 0; s < blocks; ++s) {
    const auto si = static_cast<std::size_t>(s);
    const int depth_s = a.genes.at(static_cast<std::size_t>(g_depth + s));
    d[0].push_back(depth_s);
    g[0].push_back(a.genes.at(static_cast<std::size_t>(g_growth + s)));
    f.emplace_back();
    for (int p = 0; p < depth_s; ++p) f.back().push_back(a.genes.at(static_cast<std::size_t>(g_factor + layer_offset[si] + p)));
  }
  return std::string(name()) + ":r" + std::to_string(a.genes.at(g_res)) + ":d=" + text::format_groups(d) +
         ":g=" + text::format_groups(g) + ":b=" + text::format_groups(f);
}

arch densenet::parse(std::string_view s) const {
  const auto fields = text::split(s, ':');
  if (fields.size() != 5 || fields[0] != name()) {
    throw usage_error("malformed densenet architecture '" + std::string(s.substr(0, 80)) +
                      "': expected densenet:rR:d=..:g=..:b=..");
  }
  arch a{std::string(name()), std::vector<int>(gene_count, 0)};
  a.genes[g_res] = text::parse_resolution(fields[1]);
  const auto d = text::parse_groups(text::field(fields[2], "d"), "depth");
  const auto g = text::parse_groups(text::field(fields[3], "g"), "growth rate");
  const auto f = text::parse_groups(text::field(fields[4], "b"), "bottleneck factor");
  if (d.size() != 1 || d[0].size() != blocks) {
    throw usage_error("densenet depth '" + std::string(fields[2]) + "' must list 4 dense-block depths");
  }
  if (g.size() != 1 || g[0].size() != blocks) {
    throw usage_error("densenet growth '" + std::string(fields[3]) + "' must list 4 growth rates");
  }
  for (int st = 0; st < blocks; ++st) {
    const auto si = static_cast<std::size_t>(st);
    const auto& choices = depth_choices[si];
    if (std::find(choices.begin(), choices.end(), d[0][si]) == choices.end()) {  // the message only on failure
      text::require_one_of(choices, d[0][si], "densenet block " + std::to_string(st + 1) + " depth");
    }
    text::require_one_of(growth_choices, g[0][si], "densenet growth rate");
  }
  if (f.size() != blocks) throw usage_error("densenet bottleneck factors need 4 '-'-separated dense blocks");
  for (int st = 0; st < blocks; ++st) {
    const auto si = static_cast<std::size_t>(st);
    if (static_cast<int>(f[si].size()) != d[0][si]) {
      throw usage_error("densenet block " + std::to_string(st + 1) + " has depth " + std::to_string(d[0][si]) + " but " +
                        std::to_string(f[si].size()) + " bottleneck factors");
    }
    a.genes[static_cast<std::size_t>(g_depth + st)] = d[0][si];
    a.genes[static_cast<std::size_t>(g_growth + st)] = g[0][si];
    for (int p = 0; p < d[0][si]; ++p) {
      const int factor = f[si][static_cast<std::size_t>(p)];
      text::require_one_of(factor_choices, factor, "densenet bottleneck factor");
      a.genes[static_cast<std::size_t>(g_factor + layer_offset[si] + p)] = factor;
    }
  }
  return a;
}

int densenet::depth(const arch& a) const {
  int sum = 0;
  for (int s = 0; s < blocks; ++s) sum += a.genes.at(static_cast<std::size_t>(g_depth + s));
  return sum;
}

int densenet::resolution(const arch& a) const { return a.genes.at(g_res); }

net::network densenet::build(const arch& a, int batch) const {
  using net::activation;
  const int r = resolution(a);
  net::builder b(format(a), {batch, 3, r, r});

  b.begin_block("stem", false, -1, -1);
  int x = b.conv("stem.conv", net::network_input, {.out_channels = stem_channels, .kernel = 7, .stride = 2, .act = activation::relu});
  x = b.max_pool("stem.max_pool", x, 3, 2, 1);
  b.end_block("stem-input:3x" + std::to_string(r) + "x" + std::to_string(r) + "-output:" + chw(b.shape_of(x)));

  for (int s = 0; s < blocks; ++s) {
    const auto si = static_cast<std::size_t>(s);
    const int growth = a.genes.at(static_cast<std::size_t>(g_growth + s));
    const std::string prefix = "block" + std::to_string(s + 1);
    for (int p = 0; p < a.genes.at(static_cast<std::size_t>(g_depth + s)); ++p) {
      const int factor = a.genes.at(static_cast<std::size_t>(g_factor + layer_offset[si] + p));
      const std::string name = prefix + ".layer" + std::to_string(p + 1);
      const net::shape4 in = b.shape_of(x);
      b.begin_block("dense_layer", true, s + 1, p);
      int y = b.batch_norm(name + ".norm1", x, activation::relu);
      y = b.conv(name + ".conv1", y, {.out_channels = factor * growth, .kernel = 1, .act = activation::relu});
      y = b.conv(name + ".conv2", y, {.out_channels = growth, .kernel = 3, .batch_norm = false});
      x = b.concat(name + ".concat", {x, y});
      b.end_block("dense_layer-input:" + chw(in) + "-growth:" + std::to_string(growth) +
                  "-bottleneck:" + std::to_string(factor * growth));
    }
    if (s + 1 < blocks) {
      const net::shape4 in = b.shape_of(x);
      b.begin_block("transition", false, s + 1, -1);
      int y = b.batch_norm("transition" + std::to_string(s + 1) + ".norm", x, activation::relu);
      y = b.conv("transition" + std::to_string(s + 1) + ".conv", y,
                 {.out_channels = static_cast<int>(in.c / 2), .kernel = 1, .batch_norm = false});
      x = b.avg_pool("transition" + std::to_string(s + 1) + ".pool", y, 2, 2, 0, false);
      b.end_block("transition-input:" + chw(in) + "-output:" + chw(b.shape_of(x)));
    }
  }
  b.begin_block("classifier", false, -1, -1);
  const net::shape4 before_head = b.shape_of(x);
  x = b.batch_norm("final.norm", x, activation::relu);
  x = b.global_avg_pool("global_pool", x);
  x = b.fully_connected("classifier", x, 1000);
  b.end_block("head-input:" + chw(before_head) + "-output:1000");
  return std::move(b).finish();
}

}  // namespace esm::space
