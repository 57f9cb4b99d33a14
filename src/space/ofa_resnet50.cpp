// OFA ResNet50 (once-for-all, ofa_resnets.py): deep stem with an optional residual block,
// bottleneck blocks with avgpool-conv downsampling, elastic depth / expand ratio / width.
//
// Genes (30): [0] resolution, [1] stem block present (0/1), [2..5] stage depth offsets {0,1,2},
// [6..11] width indices (stem conv 1 + stem block, stem conv 3, stages 1-4) into {0.65,0.8,1.0},
// [12..29] expand ratio of block (flattened over stages of 4,4,6,4 max blocks) in percent.
// Text (OFA's d/w/e config): ofa-resnet50:r192:d=2,1,0,2,1:w=2,2,1,0,2,1:e=25,35,20-...
// d[0] is 2 when the stem's residual block is present and 0 when skipped, as in OFA.
#include "space/ofa_resnet50.hpp"

#include <array>

#include "esm/common/error.hpp"
#include "esm/net/builder.hpp"
#include "space/ofa_util.hpp"
#include "space/text.hpp"

namespace esm::space {

namespace {

constexpr int stages = 4;
constexpr std::array<int, stages> base_depth{2, 2, 4, 2};
constexpr std::array<int, stages> max_blocks{4, 4, 6, 4};
constexpr std::array<int, stages> block_offset{0, 4, 8, 14};
constexpr std::array<int, stages> stage_base_width{256, 512, 1024, 2048};
constexpr std::array<int, stages> stage_stride{1, 2, 2, 2};
constexpr int g_res = 0, g_stem = 1, g_depth = 2, g_width = 6, g_expand = 12, gene_count = 30;
const std::vector<int> offset_choices{0, 1, 2};
const std::vector<int> width_choices{0, 1, 2};
const std::vector<int> expand_percent{20, 25, 35};
constexpr std::array<double, 3> width_mult{0.65, 0.8, 1.0};

std::string chw(const net::shape4& s) {
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

int bottleneck(net::builder& b, int x, int out_channels, int expand_pct, int stride, const std::string& name) {
  using net::activation;
  const net::shape4 in = b.shape_of(x);
  const int mid = make_divisible(py_round(out_channels * expand_pct / 100.0));
  int y = b.conv(name + ".conv1", x, {.out_channels = mid, .kernel = 1, .act = activation::relu});
  y = b.conv(name + ".conv2", y, {.out_channels = mid, .kernel = 3, .stride = stride, .act = activation::relu});
  y = b.conv(name + ".conv3", y, {.out_channels = out_channels, .kernel = 1});
  int shortcut = x;
  if (stride != 1 || in.c != out_channels) {
    if (stride != 1) shortcut = b.avg_pool(name + ".down.pool", shortcut, stride, stride, 0, true);
    shortcut = b.conv(name + ".down.conv", shortcut, {.out_channels = out_channels, .kernel = 1});
  }
  y = b.add(name + ".residual", y, shortcut, activation::relu);
  b.end_block("bottleneck-input:" + chw(in) + "-output:" + chw(b.shape_of(y)) + "-mid:" + std::to_string(mid) +
              "-stride:" + std::to_string(stride) + "-down:" + (shortcut == x ? "0" : "1"));
  return y;
}

}  // namespace

std::string_view ofa_resnet50::name() const { return "ofa-resnet50"; }

std::string ofa_resnet50::choices_text() const {
  return "OFA ResNet50 (once-for-all ofa_resnets.py). Stem residual block on/off; 4 stages over base depths "
         "2,2,4,2 plus {0,1,2}; expand ratio {0.2,0.25,0.35} per block; width {0.65,0.8,1.0} for the two stem "
         "convs and each stage; resolution 128..224 step 4.";
}

std::vector<std::string> ofa_resnet50::variants() const { return {}; }

std::vector<std::string> ofa_resnet50::gene_names() const {
  std::vector<std::string> names{"resolution", "stem_block"};
  for (int s = 0; s < stages; ++s) names.push_back("d" + std::to_string(s + 1));
  for (const char* w : {"w_stem1", "w_stem3", "w1", "w2", "w3", "w4"}) names.emplace_back(w);
  for (int s = 0; s < stages; ++s) {
    for (int p = 0; p < max_blocks[static_cast<std::size_t>(s)]; ++p) {
      names.push_back("e" + std::to_string(s + 1) + "." + std::to_string(p + 1));
    }
  }
  return names;
}

gene_layout ofa_resnet50::layout() const {
  gene_layout l;
  l.stage_slots.assign(max_blocks.begin(), max_blocks.end());
  l.slot_offset.assign(block_offset.begin(), block_offset.end());
  l.block_dims = {{"e", expand_percent, g_expand}};
  l.global_dims = {{"resolution", resolutions(), g_res}, {"stem_block", {0, 1}, g_stem}};
  const char* widths[] = {"w_stem1", "w_stem3", "w1", "w2", "w3", "w4"};
  for (int i = 0; i < 6; ++i) l.global_dims.push_back({widths[i], {0, 1, 2}, g_width + i});
  return l;
}

search_space::structure ofa_resnet50::elastic_structure(const sample_constraints&) const {
  structure st;
  for (int s = 0; s < stages; ++s) {
    const int base = base_depth[static_cast<std::size_t>(s)];
    st.stage_depths.push_back({base, base + 1, base + 2});
  }
  st.choices_per_block = 3;
  st.global_choices = {2, 3, 3, 3, 3, 3, 3};  // stem block, six widths
  return st;
}

arch ofa_resnet50::assemble(const sample_constraints& c, const std::vector<int>& depths,
                            const std::vector<int>& block_choices, const std::vector<int>& global_choices) const {
  arch a{std::string(name()), std::vector<int>(gene_count, 0)};
  a.genes[g_res] = *c.resolution;
  a.genes[g_stem] = global_choices.at(0);
  for (int i = 0; i < 6; ++i) a.genes[static_cast<std::size_t>(g_width + i)] = global_choices.at(static_cast<std::size_t>(i + 1));
  std::size_t next = 0;
  for (int s = 0; s < stages; ++s) {
    const auto si = static_cast<std::size_t>(s);
    a.genes[static_cast<std::size_t>(g_depth + s)] = depths[si] - base_depth[si];
    for (int p = 0; p < depths[si]; ++p) {
      a.genes[static_cast<std::size_t>(g_expand + block_offset[si] + p)] =
          expand_percent[static_cast<std::size_t>(block_choices[next++])];
    }
  }
  return a;
}

std::string ofa_resnet50::format(const arch& a) const {
  std::vector<std::vector<int>> d(1), w(1), e;
  d[0].push_back(a.genes.at(g_stem) ? 2 : 0);
  for (int s = 0; s < stages; ++s) {
    const auto si = static_cast<std::size_t>(s);
    const int offset = a.genes.at(static_cast<std::size_t>(g_depth + s));
    d[0].push_back(offset);
    e.emplace_back();
    for (int p = 0; p < base_depth[si] + offset; ++p) {
      e.back().push_back(a.genes.at(static_cast<std::size_t>(g_expand + block_offset[si] + p)));
    }
  }
  for (int i = 0; i < 6; ++i) w[0].push_back(a.genes.at(static_cast<std::size_t>(g_width + i)));
  return std::string(name()) + ":r" + std::to_string(a.genes.at(g_res)) + ":d=" + text::format_groups(d) +
         ":w=" + text::format_groups(w) + ":e=" + text::format_groups(e);
}

arch ofa_resnet50::parse(std::string_view s) const {
  const auto f = text::split(s, ':');
  if (f.size() != 5 || f[0] != name()) {
    throw usage_error("malformed ofa-resnet50 architecture '" + std::string(s.substr(0, 80)) +
                      "': expected ofa-resnet50:rR:d=..:w=..:e=..");
  }
  arch a{std::string(name()), std::vector<int>(gene_count, 0)};
  a.genes[g_res] = text::parse_resolution(f[1]);
  const auto d = text::parse_groups(text::field(f[2], "d"), "depth");
  const auto w = text::parse_groups(text::field(f[3], "w"), "width index");
  const auto e = text::parse_groups(text::field(f[4], "e"), "expand ratio");
  if (d.size() != 1 || d[0].size() != stages + 1) {
    throw usage_error("ofa-resnet50 depth '" + std::string(f[2]) + "' must list the stem (0 or 2) and 4 stage offsets");
  }
  if (d[0][0] != 0 && d[0][0] != 2) {
    throw usage_error("ofa-resnet50 stem depth " + std::to_string(d[0][0]) + " is not one of {0,2}");
  }
  a.genes[g_stem] = d[0][0] == 2 ? 1 : 0;
  if (w.size() != 1 || w[0].size() != 6) {
    throw usage_error("ofa-resnet50 width '" + std::string(f[3]) + "' must list 6 width indices");
  }
  for (int i = 0; i < 6; ++i) {
    const int wi = w[0][static_cast<std::size_t>(i)];
    text::require_one_of(width_choices, wi, "ofa-resnet50 width index");
    a.genes[static_cast<std::size_t>(g_width + i)] = wi;
  }
  if (e.size() != stages) throw usage_error("ofa-resnet50 expand ratios need 4 '-'-separated stages");
  for (int st = 0; st < stages; ++st) {
    const auto si = static_cast<std::size_t>(st);
    const int offset = d[0][si + 1];
    text::require_one_of(offset_choices, offset, "ofa-resnet50 depth offset");
    const int blocks = base_depth[si] + offset;
    if (static_cast<int>(e[si].size()) != blocks) {
      throw usage_error("ofa-resnet50 stage " + std::to_string(st + 1) + " has " + std::to_string(blocks) +
                        " blocks but " + std::to_string(e[si].size()) + " expand ratios");
    }
    a.genes[static_cast<std::size_t>(g_depth + st)] = offset;
    for (int p = 0; p < blocks; ++p) {
      const int pct = e[si][static_cast<std::size_t>(p)];
      text::require_one_of(expand_percent, pct, "ofa-resnet50 expand ratio (percent)");
      a.genes[static_cast<std::size_t>(g_expand + block_offset[si] + p)] = pct;
    }
  }
  return a;
}

int ofa_resnet50::depth(const arch& a) const {
  int sum = 0;
  for (int s = 0; s < stages; ++s) sum += base_depth[static_cast<std::size_t>(s)] + a.genes.at(static_cast<std::size_t>(g_depth + s));
  return sum;
}

int ofa_resnet50::resolution(const arch& a) const { return a.genes.at(g_res); }

net::network ofa_resnet50::build(const arch& a, int batch) const {
  using net::activation;
  const auto width = [&](int i) { return width_mult.at(static_cast<std::size_t>(a.genes.at(static_cast<std::size_t>(g_width + i)))); };
  const int mid_stem = make_divisible(make_divisible(64 * width(0)) / 2);
  const int stem_out = make_divisible(64 * width(1));
  const int r = resolution(a);

  net::builder b(format(a), {batch, 3, r, r});
  b.begin_block("stem", false, -1, -1);
  int x = b.conv("stem.conv1", net::network_input, {.out_channels = mid_stem, .kernel = 3, .stride = 2, .act = activation::relu});
  if (a.genes.at(g_stem)) {
    const int y = b.conv("stem.block.conv", x, {.out_channels = mid_stem, .kernel = 3, .act = activation::relu});
    x = b.add("stem.block.residual", y, x, activation::none);
  }
  x = b.conv("stem.conv3", x, {.out_channels = stem_out, .kernel = 3, .act = activation::relu});
  x = b.max_pool("stem.max_pool", x, 3, 2, 1);
  b.end_block("stem-input:3x" + std::to_string(r) + "x" + std::to_string(r) + "-mid:" + std::to_string(mid_stem) +
              "-block:" + std::to_string(a.genes.at(g_stem)) + "-output:" + chw(b.shape_of(x)));

  for (int s = 0; s < stages; ++s) {
    const auto si = static_cast<std::size_t>(s);
    const int out = make_divisible(stage_base_width[si] * width(2 + s));
    for (int p = 0; p < base_depth[si] + a.genes.at(static_cast<std::size_t>(g_depth + s)); ++p) {
      b.begin_block("bottleneck", true, s + 1, p);
      x = bottleneck(b, x, out, a.genes.at(static_cast<std::size_t>(g_expand + block_offset[si] + p)),
                     p == 0 ? stage_stride[si] : 1, "stage" + std::to_string(s + 1) + ".block" + std::to_string(p + 1));
    }
  }
  b.begin_block("classifier", false, -1, -1);
  const net::shape4 before_head = b.shape_of(x);
  x = b.global_avg_pool("global_pool", x);
  x = b.fully_connected("classifier", x, 1000);
  b.end_block("head-input:" + chw(before_head) + "-output:1000");
  return std::move(b).finish();
}

}  // namespace esm::space
