// OFA MobileNetV3 (once-for-all, ofa_mbv3.py), width multipliers 1.0 and 1.2.
//
// Genes (47): [0] width index (0: w1.0, 1: w1.2), [1] resolution, [2..6] stage depths,
// [7..26] kernel of block (stage * 4 + position), [27..46] expand ratio; 0 where inactive.
// Text: ofa-mbv3:w1.2:r192:d=2,3,4,2,3:k=3,5-3,5,7-...:e=3,4-6,4,3-...
#include "space/ofa_mbv3.hpp"

#include <array>

#include "esm/common/error.hpp"
#include "esm/net/builder.hpp"
#include "space/ofa_util.hpp"
#include "space/text.hpp"

namespace esm::space {

namespace {

constexpr int stages = 5;
constexpr int max_depth = 4;
constexpr int g_width = 0, g_res = 1, g_depth = 2, g_kernel = 7, g_expand = 27, gene_count = 47;
const std::vector<int> depth_choices{2, 3, 4};
const std::vector<int> kernel_choices{3, 5, 7};
const std::vector<int> expand_choices{3, 4, 6};
const std::vector<std::string> width_names{"w1.0", "w1.2"};
constexpr std::array<double, 2> width_mult{1.0, 1.2};

// Per elastic stage, as in OFA: base width, stride of the first block, h-swish, squeeze-excite.
constexpr std::array<int, stages> base_width{24, 40, 80, 112, 160};
constexpr std::array<int, stages> stage_stride{2, 2, 2, 1, 2};
constexpr std::array<bool, stages> stage_hswish{false, false, true, true, true};
constexpr std::array<bool, stages> stage_se{false, true, false, true, true};

std::string hwc(const net::shape4& s) {
  return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c);
}

/// One mobile inverted bottleneck; returns the output layer. `expand` = 1 has no 1x1 expansion.
int mbconv(net::builder& b, int x, int out_channels, int kernel, int expand, int stride, bool hswish, bool se,
           const std::string& name) {
  using net::activation;
  const net::shape4 in = b.shape_of(x);
  const activation act = hswish ? activation::hswish : activation::relu;
  const int mid = expand == 1 ? static_cast<int>(in.c) : make_divisible(py_round(static_cast<double>(in.c) * expand));
  int y = x;
  if (expand != 1) y = b.conv(name + ".expand", y, {.out_channels = mid, .kernel = 1, .act = act});
  y = b.conv(name + ".depthwise", y, {.out_channels = mid, .kernel = kernel, .stride = stride, .groups = mid, .act = act});
  if (se) {
    const int se_mid = make_divisible(mid / 4);
    const int pooled = b.global_avg_pool(name + ".se.pool", y);
    const int reduce = b.conv(name + ".se.reduce", pooled,
                              {.out_channels = se_mid, .bias = true, .batch_norm = false, .act = activation::relu});
    const int scale = b.conv(name + ".se.expand", reduce,
                             {.out_channels = mid, .bias = true, .batch_norm = false, .act = activation::hsigmoid});
    y = b.channel_scale(name + ".se.scale", y, scale);
  }
  y = b.conv(name + ".project", y, {.out_channels = out_channels, .kernel = 1});
  const bool identity = stride == 1 && in.c == out_channels;
  if (identity) y = b.add(name + ".residual", y, x, activation::none);
  const net::shape4 out = b.shape_of(y);
  b.end_block("expanded_conv-input:" + hwc(in) + "-output:" + hwc(out) + "-expand:" + std::to_string(mid) +
              "-kernel:" + std::to_string(kernel) + "-stride:" + std::to_string(stride) +
              "-idskip:" + (identity ? "1" : "0") + "-se:" + (se ? "1" : "0") + "-hs:" + (hswish ? "1" : "0"));
  return y;
}

}  // namespace

std::string_view ofa_mbv3::name() const { return "ofa-mbv3"; }

std::string ofa_mbv3::choices_text() const {
  return "OFA MobileNetV3 (once-for-all ofa_mbv3.py). Variants w1.0, w1.2. 5 elastic stages, depth {2,3,4}; "
         "per block kernel {3,5,7} and expand ratio {3,4,6}; resolution 128..224 step 4.";
}

std::vector<std::string> ofa_mbv3::variants() const { return width_names; }

std::string_view ofa_mbv3::variant_of(const arch& a) const {
  return width_names.at(static_cast<std::size_t>(a.genes.at(g_width)));
}

std::vector<std::string> ofa_mbv3::gene_names() const {
  std::vector<std::string> names{"width", "resolution"};
  for (int s = 0; s < stages; ++s) names.push_back("d" + std::to_string(s + 1));
  for (const char* kind : {"k", "e"}) {
    for (int s = 0; s < stages; ++s) {
      for (int p = 0; p < max_depth; ++p) names.push_back(std::string(kind) + std::to_string(s + 1) + "." + std::to_string(p + 1));
    }
  }
  return names;
}

gene_layout ofa_mbv3::layout() const {
  gene_layout l;
  l.stage_slots.assign(stages, max_depth);
  for (int s = 0; s < stages; ++s) l.slot_offset.push_back(s * max_depth);
  l.block_dims = {{"k", kernel_choices, g_kernel}, {"e", expand_choices, g_expand}};
  l.global_dims = {{"width", {0, 1}, g_width}, {"resolution", resolutions(), g_res}};
  return l;
}

search_space::structure ofa_mbv3::elastic_structure(const sample_constraints&) const {
  return {std::vector<std::vector<int>>(stages, depth_choices), 9, {}};
}

arch ofa_mbv3::assemble(const sample_constraints& c, const std::vector<int>& depths,
                        const std::vector<int>& block_choices, const std::vector<int>&) const {
  arch a{std::string(name()), std::vector<int>(gene_count, 0)};
  a.genes[g_width] = *c.variant == "w1.2" ? 1 : 0;
  a.genes[g_res] = *c.resolution;
  std::size_t next = 0;
  for (int s = 0; s < stages; ++s) {
    a.genes[static_cast<std::size_t>(g_depth + s)] = depths[static_cast<std::size_t>(s)];
    for (int p = 0; p < depths[static_cast<std::size_t>(s)]; ++p) {
      const int choice = block_choices[next++];
      a.genes[static_cast<std::size_t>(g_kernel + s * max_depth + p)] = kernel_choices[static_cast<std::size_t>(choice / 3)];
      a.genes[static_cast<std::size_t>(g_expand + s * max_depth + p)] = expand_choices[static_cast<std::size_t>(choice % 3)];
    }
  }
  return a;
}

std::string ofa_mbv3::format(const arch& a) const {
  std::vector<std::vector<int>> k, e;
  std::vector<std::vector<int>> d(1);
  for (int s = 0; s < stages; ++s) {
    const int depth_s = a.genes.at(static_cast<std::size_t>(g_depth + s));
    d[0].push_back(depth_s);
    k.emplace_back();
    e.emplace_back();
    for (int p = 0; p < depth_s; ++p) {
      k.back().push_back(a.genes.at(static_cast<std::size_t>(g_kernel + s * max_depth + p)));
      e.back().push_back(a.genes.at(static_cast<std::size_t>(g_expand + s * max_depth + p)));
    }
  }
  return std::string(name()) + ":" + width_names.at(static_cast<std::size_t>(a.genes.at(g_width))) + ":r" +
         std::to_string(a.genes.at(g_res)) + ":d=" + text::format_groups(d) + ":k=" + text::format_groups(k) +
         ":e=" + text::format_groups(e);
}

arch ofa_mbv3::parse(std::string_view s) const {
  const auto f = text::split(s, ':');
  if (f.size() != 6 || f[0] != name()) {
    throw usage_error("malformed ofa-mbv3 architecture '" + std::string(s.substr(0, 80)) +
                      "': expected ofa-mbv3:wW:rR:d=..:k=..:e=..");
  }
  arch a{std::string(name()), std::vector<int>(gene_count, 0)};
  if (f[1] == "w1.0") {
    a.genes[g_width] = 0;
  } else if (f[1] == "w1.2") {
    a.genes[g_width] = 1;
  } else {
    throw usage_error("unknown ofa-mbv3 width '" + std::string(f[1]) + "' (w1.0 or w1.2)");
  }
  a.genes[g_res] = text::parse_resolution(f[2]);
  const auto d = text::parse_groups(text::field(f[3], "d"), "depth");
  const auto k = text::parse_groups(text::field(f[4], "k"), "kernel");
  const auto e = text::parse_groups(text::field(f[5], "e"), "expand ratio");
  if (d.size() != 1 || d[0].size() != stages) {
    throw usage_error("ofa-mbv3 depth '" + std::string(f[3]) + "' must list 5 stage depths");
  }
  if (k.size() != stages || e.size() != stages) {
    throw usage_error("ofa-mbv3 kernels and expand ratios need 5 '-'-separated stages");
  }
  for (int st = 0; st < stages; ++st) {
    const auto si = static_cast<std::size_t>(st);
    const int depth_s = d[0][si];
    text::require_one_of(depth_choices, depth_s, "ofa-mbv3 stage depth");
    if (static_cast<int>(k[si].size()) != depth_s || static_cast<int>(e[si].size()) != depth_s) {
      throw usage_error("ofa-mbv3 stage " + std::to_string(st + 1) + " has depth " + std::to_string(depth_s) +
                        " but " + std::to_string(k[si].size()) + " kernels and " + std::to_string(e[si].size()) +
                        " expand ratios");
    }
    a.genes[static_cast<std::size_t>(g_depth + st)] = depth_s;
    for (int p = 0; p < depth_s; ++p) {
      const auto pi = static_cast<std::size_t>(p);
      text::require_one_of(kernel_choices, k[si][pi], "ofa-mbv3 kernel");
      text::require_one_of(expand_choices, e[si][pi], "ofa-mbv3 expand ratio");
      a.genes[static_cast<std::size_t>(g_kernel + st * max_depth + p)] = k[si][pi];
      a.genes[static_cast<std::size_t>(g_expand + st * max_depth + p)] = e[si][pi];
    }
  }
  return a;
}

int ofa_mbv3::depth(const arch& a) const {
  int sum = 0;
  for (int s = 0; s < stages; ++s) sum += a.genes.at(static_cast<std::size_t>(g_depth + s));
  return sum;
}

int ofa_mbv3::resolution(const arch& a) const { return a.genes.at(g_res); }

net::network ofa_mbv3::build(const arch& a, int batch) const {
  using net::activation;
  const double wm = width_mult.at(static_cast<std::size_t>(a.genes.at(g_width)));
  const int r = resolution(a);
  const int stem_width = make_divisible(16 * wm);
  const int first_block_width = make_divisible(16 * wm);
  const int final_expand_width = make_divisible(960 * wm);
  const int last_width = make_divisible(1280 * wm);

  net::builder b(format(a), {batch, 3, r, r});
  b.begin_block("first_conv", false, -1, -1);
  int x = b.conv("first_conv", net::network_input, {.out_channels = stem_width, .kernel = 3, .stride = 2, .act = activation::hswish});
  b.end_block("Conv-input:" + hwc(b.shape_of(net::network_input)) + "-output:" + hwc(b.shape_of(x)));

  b.begin_block("mbconv", false, 0, 0);
  x = mbconv(b, x, first_block_width, 3, 1, 1, false, false, "first_block");

  for (int s = 0; s < stages; ++s) {
    const int width = make_divisible(base_width[static_cast<std::size_t>(s)] * wm);
    for (int p = 0; p < a.genes.at(static_cast<std::size_t>(g_depth + s)); ++p) {
      const int kernel = a.genes.at(static_cast<std::size_t>(g_kernel + s * max_depth + p));
      const int expand = a.genes.at(static_cast<std::size_t>(g_expand + s * max_depth + p));
      b.begin_block("mbconv", true, s + 1, p);
      x = mbconv(b, x, width, kernel, expand, p == 0 ? stage_stride[static_cast<std::size_t>(s)] : 1,
                 stage_hswish[static_cast<std::size_t>(s)], stage_se[static_cast<std::size_t>(s)],
                 "stage" + std::to_string(s + 1) + ".block" + std::to_string(p + 1));
    }
  }

  const net::shape4 before_expand = b.shape_of(x);
  b.begin_block("final_expand", false, -1, -1);
  x = b.conv("final_expand", x, {.out_channels = final_expand_width, .kernel = 1, .act = activation::hswish});
  b.end_block("Conv_1-input:" + hwc(before_expand) + "-output:" + hwc(b.shape_of(x)));

  const net::shape4 before_pool = b.shape_of(x);
  b.begin_block("global_pool", false, -1, -1);
  x = b.global_avg_pool("global_pool", x);
  b.end_block("AvgPool2D-input:" + hwc(before_pool) + "-output:" + hwc(b.shape_of(x)));

  b.begin_block("feature_mix", false, -1, -1);
  const net::shape4 before_mix = b.shape_of(x);
  x = b.conv("feature_mix", x, {.out_channels = last_width, .kernel = 1, .batch_norm = false, .act = activation::hswish});
  b.end_block("Conv_2-input:" + hwc(before_mix) + "-output:" + hwc(b.shape_of(x)));

  b.begin_block("classifier", false, -1, -1);
  const net::shape4 before_fc = b.shape_of(x);
  x = b.fully_connected("classifier", x, 1000);
  b.end_block("Logits-input:" + hwc(before_fc) + "-output:1000");
  return std::move(b).finish();
}

}  // namespace esm::space
