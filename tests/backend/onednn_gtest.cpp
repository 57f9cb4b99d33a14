// The oneDNN backend against the reference executor (each op kind alone, then one small network
// per space), its arena planner, and the backend registry.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "backend/onednn/memory_plan.hpp"
#include "backend/space_cases.hpp"
#include "esm/backend/backend.hpp"
#include "esm/backend/reference.hpp"
#include "esm/common/error.hpp"
#include "esm/net/builder.hpp"
#include "esm/space/space.hpp"

namespace esm::backend {
namespace {

using net::activation;
using net::builder;
using net::conv_spec;

constexpr activation every_activation[] = {activation::none,   activation::relu,     activation::relu6,
                                           activation::hswish, activation::hsigmoid, activation::sigmoid};

std::string activation_name(const ::testing::TestParamInfo<activation>& param) {
  return std::string(net::to_string(param.param));
}

/// max |cpu - reference| / max |reference|. fp32 rounding errors scale with the magnitude of
/// the values being summed, not with each output: an output that happens to be near zero would
/// make an elementwise relative error meaningless, so errors are measured against the
/// tensor's scale. A wrong index, padding or fusion shows up as an O(1) error.
/// One thread by default: OpenMP teams spin at barriers, and on a loaded 2-core CI machine
/// (or under ctest -j) two-thread runs are slow without testing anything more; the
/// multi-threaded paths are covered by the batch-2 space networks.
double relative_error(const net::network& n, int threads = 1) {
  compile_options options;
  options.seed = 5;
  options.threads = threads;
  const auto exe = make_backend("cpu")->compile(n, options);
  exe->run();
  const std::vector<float> actual = exe->output();
  const std::vector<double> expected = reference_forward(n, make_parameters(n, 5), make_input(n, 5));
  EXPECT_EQ(actual.size(), expected.size());
  double scale = 0.0, worst = 0.0;
  for (std::size_t i = 0; i < expected.size() && i < actual.size(); ++i) {
    scale = std::max(scale, std::abs(expected[i]));
    worst = std::max(worst, std::abs(static_cast<double>(actual[i]) - expected[i]));
  }
  EXPECT_GT(scale, 0.0) << "degenerate test network: all outputs zero";
  return worst / scale;
}

constexpr double tolerance = 1e-4;

conv_spec spec(int out_channels, int kernel, int stride = 1, int groups = 1, activation act = activation::none) {
  conv_spec s;
  s.out_channels = out_channels;
  s.kernel = kernel;
  s.stride = stride;
  s.groups = groups;
  s.act = act;
  return s;
}

/// Odd spatial size and channel counts that are not multiples of the SIMD blocks exercise
/// padding at the borders and in blocked channel layouts.
constexpr net::shape4 small_input{2, 12, 9, 9};

// --- convolution -------------------------------------------------------------------------

class ConvActivation : public ::testing::TestWithParam<activation> {};

TEST_P(ConvActivation, DenseGroupedDepthwiseAndStrided) {
  for (const auto& [kernel, stride, groups, out] :
       {std::tuple{3, 1, 1, 20}, {1, 1, 1, 16}, {3, 2, 1, 8}, {5, 1, 12, 12}, {7, 2, 12, 12}, {3, 1, 4, 8}}) {
    builder b("conv", small_input);
    b.conv("conv", net::network_input, spec(out, kernel, stride, groups, GetParam()));
    const net::network n = std::move(b).finish();
    EXPECT_LE(relative_error(n), tolerance) << "k" << kernel << " s" << stride << " g" << groups;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryActivation, ConvActivation, ::testing::ValuesIn(every_activation),
                         activation_name);

TEST(OnednnOps, ConvWithRealBiasAndNoBatchNorm) {
  builder b("se", small_input);
  conv_spec s = spec(6, 1, 1, 1, activation::relu);
  s.bias = true;
  s.batch_norm = false;
  b.conv("reduce", net::network_input, s);
  EXPECT_LE(relative_error(std::move(b).finish()), tolerance);
}

// --- residual add ------------------------------------------------------------------------

class ResidualActivation : public ::testing::TestWithParam<activation> {};

TEST_P(ResidualActivation, FusedIntoConvInPlace) {
  // MobileNet-style: the block input feeds the expand conv and the add; the project conv is
  // read only by the add, so it absorbs the add as a sum post-op writing into the input's tensor.
  builder b("mb", small_input);
  const int stem = b.conv("stem", net::network_input, spec(12, 3, 1, 1, activation::relu));
  const int expand = b.conv("expand", stem, spec(24, 1, 1, 1, activation::hswish));
  const int project = b.conv("project", expand, spec(12, 1, 1, 1, GetParam()));
  b.add("add", project, stem, GetParam());
  EXPECT_LE(relative_error(std::move(b).finish()), tolerance);
}

INSTANTIATE_TEST_SUITE_P(EveryActivation, ResidualActivation, ::testing::ValuesIn(every_activation),
                         activation_name);

TEST(OnednnOps, ResidualWhoseAddendIsComputedAfterTheConv) {
  // ResNet downsampling block: add(conv3, shortcut conv) with the shortcut built after conv3.
  builder b("res", small_input);
  const int conv3 = b.conv("conv3", net::network_input, spec(16, 3, 2));
  const int down = b.conv("down", net::network_input, spec(16, 1, 2));
  b.add("add", conv3, down, activation::relu);
  EXPECT_LE(relative_error(std::move(b).finish()), tolerance);
}

TEST(OnednnOps, ResidualWhoseAddendIsReadLaterIsNotOverwritten) {
  builder b("res", small_input);
  const int stem = b.conv("stem", net::network_input, spec(12, 3));
  const int conv = b.conv("conv", stem, spec(12, 3));
  const int add = b.add("add", conv, stem, activation::relu);
  b.concat("cat", {add, stem});  // stem is read after the add: the add must not write into it
  EXPECT_LE(relative_error(std::move(b).finish()), tolerance);
}

TEST(OnednnOps, ResidualOnTheNetworkInputAndUnfusedAdd) {
  builder b("res", small_input);
  const int conv = b.conv("conv", net::network_input, spec(12, 3));
  const int pool = b.max_pool("pool", conv, 3, 1, 1);
  const int fused = b.add("fused", conv, net::network_input, activation::none);  // conv read twice: no fusion
  b.add("plain", pool, fused, activation::relu6);                                // first input not a conv
  EXPECT_LE(relative_error(std::move(b).finish()), tolerance);
}

// --- pooling, normalization, squeeze-excite, concat, fc ----------------------------------

TEST(OnednnOps, MaxPoolAndAvgPoolWithPadding) {
  builder b("pool", small_input);
  const int conv = b.conv("conv", net::network_input, spec(16, 3));
  const int max = b.max_pool("max", conv, 3, 2, 1);
  const int avg = b.avg_pool("avg", max, 3, 1, 1, false);
  b.avg_pool("ceil", avg, 2, 2, 0, true);  // 5 -> 3 with one column and row of end padding
  const net::network n = std::move(b).finish();
  ASSERT_EQ(n.layers.back().pad_end, 1);
  EXPECT_LE(relative_error(n), tolerance);
}

TEST(OnednnOps, PoolingOfThePlainInput) {
  builder b("pool", small_input);
  const int avg = b.avg_pool("ceil", net::network_input, 2, 2, 0, true);
  b.max_pool("max", avg, 3, 2, 1);
  EXPECT_LE(relative_error(std::move(b).finish()), tolerance);
}

TEST(OnednnOps, StandaloneActivationsAfterPoolAndConcat) {
  // The builder gives pools and concats no activation, but the IR allows one; they run as
  // in-place eltwise primitives (hsigmoid as two).
  for (activation act : every_activation) {
    builder b("act", small_input);
    const int conv = b.conv("conv", net::network_input, spec(8, 3));
    const int pool = b.max_pool("pool", conv, 3, 1, 1);
    b.concat("cat", {pool, conv});
    net::network n = std::move(b).finish();
    n.layers[1].act = act;
    n.layers[2].act = act;
    EXPECT_LE(relative_error(n), tolerance) << net::to_string(act);
  }
}

TEST(OnednnOps, BatchNormWithEveryActivation) {
  for (activation act : every_activation) {
    builder b("bn", small_input);
    const int conv = b.conv("conv", net::network_input, spec(20, 3));
    b.batch_norm("bn", conv, act);
    EXPECT_LE(relative_error(std::move(b).finish()), tolerance) << net::to_string(act);
  }
}

TEST(OnednnOps, SqueezeExcite) {
  builder b("se", small_input);
  const int dw = b.conv("dw", net::network_input, spec(12, 3, 1, 12, activation::relu));
  const int pool = b.global_avg_pool("pool", dw);
  conv_spec reduce = spec(4, 1, 1, 1, activation::relu), expand = spec(12, 1, 1, 1, activation::hsigmoid);
  reduce.bias = expand.bias = true;
  reduce.batch_norm = expand.batch_norm = false;
  const int r = b.conv("reduce", pool, reduce);
  const int e = b.conv("expand", r, expand);
  b.channel_scale("scale", dw, e);
  EXPECT_LE(relative_error(std::move(b).finish()), tolerance);
}

TEST(OnednnOps, ConcatOfMixedFormats) {
  // The plain network input next to blocked conv outputs of uneven channel counts.
  builder b("cat", small_input);
  const int a = b.conv("a", net::network_input, spec(8, 3));
  const int c = b.conv("c", net::network_input, spec(5, 1));
  const int cat = b.concat("cat", {net::network_input, a, c});
  b.batch_norm("bn", cat, activation::relu);
  EXPECT_LE(relative_error(std::move(b).finish()), tolerance);
}

TEST(OnednnOps, FullyConnectedAfterPoolAndOnSpatialInput) {
  for (bool pooled : {true, false}) {
    builder b("fc", small_input);
    const int conv = b.conv("conv", net::network_input, spec(16, 3, 2, 1, activation::relu));
    const int from = pooled ? b.global_avg_pool("pool", conv) : conv;
    b.fully_connected("fc", from, 10);
    EXPECT_LE(relative_error(std::move(b).finish()), tolerance) << (pooled ? "pooled" : "spatial");
  }
}

TEST(OnednnOps, TwoThreadsMatchToo) {
  builder b("two", small_input);
  const int conv = b.conv("conv", net::network_input, spec(16, 3, 1, 1, activation::relu));
  b.add("add", b.conv("project", conv, spec(16, 1)), conv, activation::none);
  EXPECT_LE(relative_error(std::move(b).finish(), 2), tolerance);
}

// --- one small network per space ---------------------------------------------------------

std::string space_case_name(const ::testing::TestParamInfo<std::tuple<space_case, int>>& param) {
  return std::string(std::get<0>(param.param).label) + "_batch" + std::to_string(std::get<1>(param.param));
}

class SpaceNetwork : public ::testing::TestWithParam<std::tuple<space_case, int>> {};

TEST_P(SpaceNetwork, MatchesReference) {
  const auto& [c, batch] = GetParam();
  const space::arch a = space::parse_any(c.arch);
  const net::network n = space::find_space(a.space).build(a, batch);
  EXPECT_LE(relative_error(n, batch), tolerance) << c.arch;  // batch 2 on two threads
}

INSTANTIATE_TEST_SUITE_P(Spaces, SpaceNetwork, ::testing::Combine(::testing::ValuesIn(space_cases), ::testing::Values(1, 2)),
                         space_case_name);

TEST(SpaceNetworkOdd, ResNetWithCeilModePoolPadding) {
  // r132: 33 -> 17 -> 9 -> 5 in the shortcut avg pools, each with one row/column of end padding.
  const space::arch a = space::parse_any("ofa-resnet50:r132:d=0,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,20-20,20");
  EXPECT_LE(relative_error(space::find_space(a.space).build(a, 1)), tolerance);
}

// --- executable behaviour and registry ---------------------------------------------------

TEST(OnednnExecutable, RepeatedRunsAgreeAndDescribeThemselves) {
  builder b("rep", small_input);
  const int conv = b.conv("conv", net::network_input, spec(12, 3, 1, 1, activation::relu));
  b.add("add", b.conv("project", conv, spec(12, 1)), conv, activation::none);
  const net::network n = std::move(b).finish();
  compile_options options;
  options.threads = 1;
  const auto exe = make_backend("cpu")->compile(n, options);
  exe->run();
  const std::vector<float> first = exe->output();
  EXPECT_GE(exe->timed_run_ms(), 0.0);
  EXPECT_EQ(exe->output(), first);  // the in-place residual must not leak into the next pass
  const std::string text = exe->description();
  EXPECT_NE(text.find("oneDNN "), std::string::npos) << text;
  EXPECT_NE(text.find("1 thread"), std::string::npos) << text;
  EXPECT_NE(text.find("ISA "), std::string::npos) << text;
  EXPECT_NE(text.find("fp32"), std::string::npos) << text;
  // One recorded kernel per primitive but reorders: the two convs (the second with its add).
  const auto kernels = exe->algorithms();
  ASSERT_EQ(kernels.size(), 2u);
  EXPECT_EQ(kernels[0].layer, 0);
  EXPECT_EQ(kernels[1].layer, 1);
  for (const auto& k : kernels) EXPECT_FALSE(k.name.empty() || k.name == "unknown") << k.name;
  EXPECT_NE(text.find("kernels " + kernels[0].name), std::string::npos) << text;
}

TEST(OnednnBackend, RejectsFp16AndNegativeThreads) {
  builder b("x", small_input);
  b.global_avg_pool("pool", net::network_input);
  const net::network n = std::move(b).finish();
  const auto backend = make_backend("cpu");
  compile_options options;
  options.prec = precision::fp16;
  try {
    (void)backend->compile(n, options);
    FAIL() << "fp16 accepted";
  } catch (const usage_error& e) {
    EXPECT_STREQ(e.what(), "cpu backend: precision fp16 is for GPUs; on CPUs use bf16 or int8");
  }
  options.prec = precision::fp32;
  options.threads = -1;
  EXPECT_THROW((void)backend->compile(n, options), usage_error);
}

TEST(BackendRegistry, KnowsCpuAndRejectsUnknownNames) {
  const auto cpu = make_backend("cpu");
  EXPECT_EQ(cpu->name(), "cpu");
  EXPECT_EQ(cpu->version().rfind("oneDNN ", 0), 0u) << cpu->version();
  const auto names = available_backends();
  EXPECT_NE(std::find(names.begin(), names.end(), "cpu"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "reference"), names.end());
  EXPECT_THROW((void)make_backend("nope"), usage_error);
}

// --- arena planning ----------------------------------------------------------------------

TEST(MemoryPlan, OverlappingLifetimesNeverShareBytes) {
  using onednn::buffer_request;
  const std::vector<buffer_request> requests = {{100, 0, 2}, {300, 1, 3}, {50, 2, 2}, {200, 3, 5}, {10, 4, 5}};
  const auto plan = onednn::plan_memory(requests, 64);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % 64, 0u);
    EXPECT_LE(plan.offsets[i] + requests[i].bytes, plan.total_bytes);
    for (std::size_t j = 0; j < i; ++j) {
      const bool live_together =
          requests[i].first_step <= requests[j].last_step && requests[j].first_step <= requests[i].last_step;
      const bool bytes_overlap = plan.offsets[i] < plan.offsets[j] + requests[j].bytes &&
                                 plan.offsets[j] < plan.offsets[i] + requests[i].bytes;
      EXPECT_FALSE(live_together && bytes_overlap) << i << " and " << j;
    }
  }
}

TEST(MemoryPlan, ReusesBytesOfDeadTensors) {
  // A chain: each tensor is read only by the next step, so two buffers suffice.
  const auto plan = onednn::plan_memory({{256, 0, 1}, {256, 1, 2}, {256, 2, 3}, {256, 3, 4}}, 64);
  EXPECT_EQ(plan.total_bytes, 512u);
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
  EXPECT_NE(plan.offsets[0], plan.offsets[1]);
}

}  // namespace
}  // namespace esm::backend
