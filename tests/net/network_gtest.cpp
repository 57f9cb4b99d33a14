// Network IR: per-layer shapes of one full network per space, MACs and parameter counts checked
// against hand arithmetic and against torchvision's published DenseNet parameter counts.
#include <gtest/gtest.h>

#include "esm/common/error.hpp"
#include "esm/net/builder.hpp"
#include "esm/space/space.hpp"

namespace esm::net {
namespace {

struct expected_layer {
  std::string name;
  std::int64_t c, h;  // output channels and (square) spatial size
};

void expect_layers(const network& n, const std::vector<expected_layer>& want) {
  ASSERT_EQ(n.layers.size(), want.size()) << n.arch;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const layer& l = n.layers[i];
    EXPECT_EQ(l.name, want[i].name) << "layer " << i;
    EXPECT_EQ(l.out, (shape4{n.input.n, want[i].c, want[i].h, want[i].h})) << "layer " << i << " " << l.name;
  }
}

const layer& by_name(const network& n, const std::string& name) {
  for (const auto& l : n.layers) {
    if (l.name == name) return l;
  }
  throw std::out_of_range(name);
}

network build(const std::string& text, int batch = 1) {
  const auto a = space::parse_any(text);
  return space::find_space(a.space).build(a, batch);
}

TEST(Shapes, OfaMbv3EveryLayer) {
  // w1.0: stem 16, stages 24/40/80/112/160 (strides 2,2,2,1,2), SE in stages 2, 4, 5.
  // Expand 3 throughout: mid = 3 x in; SE mid = make_divisible(mid // 4, 8).
  const network n = build("ofa-mbv3:w1.0:r224:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3", 2);
  expect_layers(n, {
      {"first_conv", 16, 112}, {"first_block.depthwise", 16, 112}, {"first_block.project", 16, 112},
      {"first_block.residual", 16, 112},
      {"stage1.block1.expand", 48, 112}, {"stage1.block1.depthwise", 48, 56}, {"stage1.block1.project", 24, 56},
      {"stage1.block2.expand", 72, 56}, {"stage1.block2.depthwise", 72, 56}, {"stage1.block2.project", 24, 56},
      {"stage1.block2.residual", 24, 56},
      {"stage2.block1.expand", 72, 56}, {"stage2.block1.depthwise", 72, 28}, {"stage2.block1.se.pool", 72, 1},
      {"stage2.block1.se.reduce", 24, 1}, {"stage2.block1.se.expand", 72, 1}, {"stage2.block1.se.scale", 72, 28},
      {"stage2.block1.project", 40, 28},
      {"stage2.block2.expand", 120, 28}, {"stage2.block2.depthwise", 120, 28}, {"stage2.block2.se.pool", 120, 1},
      {"stage2.block2.se.reduce", 32, 1}, {"stage2.block2.se.expand", 120, 1}, {"stage2.block2.se.scale", 120, 28},
      {"stage2.block2.project", 40, 28}, {"stage2.block2.residual", 40, 28},
      {"stage3.block1.expand", 120, 28}, {"stage3.block1.depthwise", 120, 14}, {"stage3.block1.project", 80, 14},
      {"stage3.block2.expand", 240, 14}, {"stage3.block2.depthwise", 240, 14}, {"stage3.block2.project", 80, 14},
      {"stage3.block2.residual", 80, 14},
      {"stage4.block1.expand", 240, 14}, {"stage4.block1.depthwise", 240, 14}, {"stage4.block1.se.pool", 240, 1},
      {"stage4.block1.se.reduce", 64, 1}, {"stage4.block1.se.expand", 240, 1}, {"stage4.block1.se.scale", 240, 14},
      {"stage4.block1.project", 112, 14},
      {"stage4.block2.expand", 336, 14}, {"stage4.block2.depthwise", 336, 14}, {"stage4.block2.se.pool", 336, 1},
      {"stage4.block2.se.reduce", 88, 1}, {"stage4.block2.se.expand", 336, 1}, {"stage4.block2.se.scale", 336, 14},
      {"stage4.block2.project", 112, 14}, {"stage4.block2.residual", 112, 14},
      {"stage5.block1.expand", 336, 14}, {"stage5.block1.depthwise", 336, 7}, {"stage5.block1.se.pool", 336, 1},
      {"stage5.block1.se.reduce", 88, 1}, {"stage5.block1.se.expand", 336, 1}, {"stage5.block1.se.scale", 336, 7},
      {"stage5.block1.project", 160, 7},
      {"stage5.block2.expand", 480, 7}, {"stage5.block2.depthwise", 480, 7}, {"stage5.block2.se.pool", 480, 1},
      {"stage5.block2.se.reduce", 120, 1}, {"stage5.block2.se.expand", 480, 1}, {"stage5.block2.se.scale", 480, 7},
      {"stage5.block2.project", 160, 7}, {"stage5.block2.residual", 160, 7},
      {"final_expand", 960, 7}, {"global_pool", 960, 1}, {"feature_mix", 1280, 1}, {"classifier", 1000, 1},
  });
}

TEST(Shapes, OfaResNet50EveryLayer) {
  // Width 0.65 everywhere: stem conv 1 = make_divisible(make_divisible(41.6) / 2) = 24, stem out 40,
  // stages 168/336/664/1328; expand 0.2: mid = make_divisible(round(0.2 x out)) = 32/64/136/264.
  // r128: 64 after the stem conv, 32 after max pool, then 32/16/8/4.
  const network n = build("ofa-resnet50:r128:d=0,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,20-20,20");
  std::vector<expected_layer> want{{"stem.conv1", 24, 64}, {"stem.conv3", 40, 64}, {"stem.max_pool", 40, 32},
                                   {"stage1.block1.conv1", 32, 32}, {"stage1.block1.conv2", 32, 32},
                                   {"stage1.block1.conv3", 168, 32}, {"stage1.block1.down.conv", 168, 32},
                                   {"stage1.block1.residual", 168, 32},
                                   {"stage1.block2.conv1", 32, 32}, {"stage1.block2.conv2", 32, 32},
                                   {"stage1.block2.conv3", 168, 32}, {"stage1.block2.residual", 168, 32}};
  const struct {
    int blocks, mid, out, prev, size;
  } stages[] = {{2, 64, 336, 168, 16}, {4, 136, 664, 336, 8}, {2, 264, 1328, 664, 4}};
  int s = 2;
  for (const auto& st : stages) {
    const std::string p = "stage" + std::to_string(s++) + ".block";
    want.push_back({p + "1.conv1", st.mid, st.size * 2});
    want.push_back({p + "1.conv2", st.mid, st.size});
    want.push_back({p + "1.conv3", st.out, st.size});
    want.push_back({p + "1.down.pool", st.prev, st.size});
    want.push_back({p + "1.down.conv", st.out, st.size});
    want.push_back({p + "1.residual", st.out, st.size});
    for (int b = 2; b <= st.blocks; ++b) {
      const std::string q = p + std::to_string(b);
      want.push_back({q + ".conv1", st.mid, st.size});
      want.push_back({q + ".conv2", st.mid, st.size});
      want.push_back({q + ".conv3", st.out, st.size});
      want.push_back({q + ".residual", st.out, st.size});
    }
  }
  want.push_back({"global_pool", 1328, 1});
  want.push_back({"classifier", 1000, 1});
  expect_layers(n, want);
}

TEST(Shapes, DenseNet121EveryLayer) {
  // Growth 32, factor 4 (bottleneck 128): block b layer i sees 64 + 32 i channels (block 1), the
  // transitions halve the channels (256 -> 128, 512 -> 256, 1024 -> 512) and the resolution.
  const std::string f6 = "4,4,4,4,4,4";
  std::string f12 = f6 + "," + f6, f24 = f12 + "," + f12, f16 = f12 + ",4,4,4,4";
  const network n = build("densenet:r224:d=6,12,24,16:g=32,32,32,32:b=" + f6 + "-" + f12 + "-" + f24 + "-" + f16);
  std::vector<expected_layer> want{{"stem.conv", 64, 112}, {"stem.max_pool", 64, 56}};
  const int depths[] = {6, 12, 24, 16};
  std::int64_t channels = 64, size = 56;
  for (int b = 0; b < 4; ++b) {
    for (int i = 0; i < depths[b]; ++i) {
      const std::string p = "block" + std::to_string(b + 1) + ".layer" + std::to_string(i + 1);
      want.push_back({p + ".norm1", channels, size});
      want.push_back({p + ".conv1", 128, size});
      want.push_back({p + ".conv2", 32, size});
      channels += 32;
      want.push_back({p + ".concat", channels, size});
    }
    if (b < 3) {
      const std::string t = "transition" + std::to_string(b + 1);
      want.push_back({t + ".norm", channels, size});
      channels /= 2;
      want.push_back({t + ".conv", channels, size});
      size /= 2;
      want.push_back({t + ".pool", channels, size});
    }
  }
  EXPECT_EQ(channels, 1024);
  want.push_back({"final.norm", 1024, 7});
  want.push_back({"global_pool", 1024, 1});
  want.push_back({"classifier", 1000, 1});
  expect_layers(n, want);
}

TEST(Costs, OfaMbv3SqueezeExciteBlockByHand) {
  // stage2.block1 of w1.0 r224 with k3 e3: in 24 @ 56x56 -> mid 72 -> out 40 @ 28x28, stride 2.
  const network n = build("ofa-mbv3:w1.0:r224:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3");
  // expand 1x1: MACs 24*72*56*56 = 5,419,008; params 24*72 + 2*72 (BN) = 1,872
  EXPECT_EQ(by_name(n, "stage2.block1.expand").macs, 5'419'008);
  EXPECT_EQ(by_name(n, "stage2.block1.expand").params, 1'872);
  // depthwise 3x3 stride 2: MACs 72*9*28*28 = 508,032; params 72*9 + 144 = 792
  EXPECT_EQ(by_name(n, "stage2.block1.depthwise").macs, 508'032);
  EXPECT_EQ(by_name(n, "stage2.block1.depthwise").params, 792);
  // SE: 72 // 4 = 18 -> make_divisible(18, 8) = 16 < 0.9*18 -> 24. reduce 72->24 with bias:
  // MACs 1,728, params 1,728 + 24; expand 24->72: MACs 1,728, params 1,728 + 72.
  EXPECT_EQ(by_name(n, "stage2.block1.se.reduce").params, 1'752);
  EXPECT_EQ(by_name(n, "stage2.block1.se.expand").params, 1'800);
  // project 1x1: MACs 72*40*28*28 = 2,257,920; params 2,880 + 80 = 2,960
  EXPECT_EQ(by_name(n, "stage2.block1.project").macs, 2'257'920);
  // whole block: 5,419,008 + 508,032 + 1,728 + 1,728 + 2,257,920 = 8,188,416 MACs;
  // 1,872 + 792 + 1,752 + 1,800 + 2,960 = 9,176 params.
  for (const auto& b : n.blocks) {
    if (b.stage != 2 || b.position != 0) continue;
    std::int64_t macs = 0, params = 0;
    for (int i = b.first_layer; i <= b.last_layer; ++i) {
      macs += n.layers[static_cast<std::size_t>(i)].macs;
      params += n.layers[static_cast<std::size_t>(i)].params;
    }
    EXPECT_EQ(macs, 8'188'416);
    EXPECT_EQ(params, 9'176);
  }
  // head: final expand 160->960 @7x7 = 7,526,400 MACs; feature mix 960->1280 (no BN, no bias)
  // = 1,228,800 MACs and params; classifier 1280*1000 MACs, + 1000 bias params.
  EXPECT_EQ(by_name(n, "final_expand").macs, 7'526'400);
  EXPECT_EQ(by_name(n, "feature_mix").params, 1'228'800);
  EXPECT_EQ(by_name(n, "classifier").params, 1'281'000);
}

TEST(Costs, OfaResNet50StemAndBottleneckByHand) {
  const network n = build("ofa-resnet50:r224:d=2,0,0,0,0:w=2,2,2,2,2,2:e=25,25-25,25-25,25,25,25-25,25");
  // stem conv 1: 3->32, 3x3, stride 2 -> 112x112: MACs 3*32*9*112*112 = 10,838,016; params 864 + 64
  EXPECT_EQ(by_name(n, "stem.conv1").macs, 10'838'016);
  EXPECT_EQ(by_name(n, "stem.conv1").params, 928);
  // stage 2 block 1: in 256 @56 -> mid round(512*0.25) = 128 -> out 512 @28.
  // conv2 3x3 stride 2: 128*128*9*28*28 = 115,605,504 MACs
  EXPECT_EQ(by_name(n, "stage2.block1.conv2").macs, 115'605'504);
  // downsample: avg pool 2x2 (no MACs) then 1x1 256->512 @28: 256*512*784 = 102,760,448 MACs
  EXPECT_EQ(by_name(n, "stage2.block1.down.conv").macs, 102'760'448);
  EXPECT_EQ(by_name(n, "stage2.block1.down.pool").macs, 0);
}

TEST(Costs, DenseNetMatchesTorchvisionParameterCounts) {
  // torchvision.models.densenet{121,169,201}: sum(p.numel() for p in model.parameters()).
  auto text = [](int d3, int d4) {
    auto fours = [](int n) {
      std::string s;
      for (int i = 0; i < n; ++i) s += (i ? ",4" : "4");
      return s;
    };
    return "densenet:r224:d=6,12," + std::to_string(d3) + "," + std::to_string(d4) + ":g=32,32,32,32:b=" + fours(6) +
           "-" + fours(12) + "-" + fours(d3) + "-" + fours(d4);
  };
  EXPECT_EQ(build(text(24, 16)).total_params(), 7'978'856);
  EXPECT_EQ(build(text(32, 32)).total_params(), 14'149'480);
  EXPECT_EQ(build(text(48, 32)).total_params(), 20'013'928);
}

TEST(Costs, MacsScaleWithResolutionNotBatch) {
  const std::string a = "ofa-mbv3:w1.2:r160:d=3,3,3,3,3:k=5,5,5-5,5,5-5,5,5-5,5,5-5,5,5:e=4,4,4-4,4,4-4,4,4-4,4,4-4,4,4";
  EXPECT_EQ(build(a, 1).total_macs(), build(a, 8).total_macs()) << "MACs are per sample";
  EXPECT_EQ(build(a, 1).total_params(), build(a, 8).total_params());
}

TEST(Builder, CeilModeAvgPoolMatchesPyTorch) {
  // PyTorch AvgPool2d(2, 2, ceil_mode=True) on 7x7 gives 4x4 (last window covers 1 row/col).
  builder b("test", {1, 8, 7, 7});
  const int p = b.avg_pool("pool", network_input, 2, 2, 0, true);
  EXPECT_EQ(b.shape_of(p), (shape4{1, 8, 4, 4}));
  const network n = std::move(b).finish();
  EXPECT_EQ(n.layers[0].pad_begin, 0);
  EXPECT_EQ(n.layers[0].pad_end, 1);
}

TEST(Validate, RejectsBrokenNetworks) {
  builder b("test", {1, 8, 16, 16});
  const int c = b.conv("c", network_input, {.out_channels = 8, .kernel = 3});
  (void)b.add("a", c, network_input, activation::relu);
  network n = std::move(b).finish();
  network wrong_shape = n;
  wrong_shape.layers[0].out.c = 9;
  EXPECT_THROW(validate(wrong_shape), esm::error);
  network forward_ref = n;
  forward_ref.layers[0].inputs = {1};
  EXPECT_THROW(validate(forward_ref), esm::error);
}

TEST(Json, ExportHasEveryLayerAndTotals) {
  const network n = build("ofa-mbv3:w1.0:r128:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3");
  const std::string json = to_json(n);
  EXPECT_NE(json.find("\"total_macs\": " + std::to_string(n.total_macs())), std::string::npos);
  std::size_t count = 0;
  for (std::size_t pos = json.find("\"op\":"); pos != std::string::npos; pos = json.find("\"op\":", pos + 1)) ++count;
  EXPECT_EQ(count, n.layers.size());
}

}  // namespace
}  // namespace esm::net
