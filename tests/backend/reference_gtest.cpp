// The reference executor against values computed by hand, one op kind per tiny network.
#include <gtest/gtest.h>

#include <cmath>

#include "esm/backend/backend.hpp"
#include "esm/backend/reference.hpp"
#include "esm/common/error.hpp"
#include "esm/net/builder.hpp"

namespace esm::backend {
namespace {

using net::activation;
using net::builder;

/// Parameters with every layer empty; tests fill in the layers that have weights.
std::vector<layer_parameters> no_parameters(const net::network& n) { return std::vector<layer_parameters>(n.layers.size()); }

std::vector<float> iota_input(int count, float first = 1.f, float step = 1.f) {
  std::vector<float> x;
  for (int i = 0; i < count; ++i) x.push_back(first + step * static_cast<float>(i));
  return x;
}

void expect_values(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-9) << "element " << i;
}

TEST(ReferenceForward, SingleChannel3x3ConvSamePadding) {
  builder b("conv", {1, 1, 3, 3});
  b.conv("conv", net::network_input, {.out_channels = 1, .kernel = 3});
  const net::network n = std::move(b).finish();
  auto p = no_parameters(n);
  p[0].weight.assign(9, 1.f);  // box filter
  p[0].bias = {0.5f};
  // Input 1 2 3 / 4 5 6 / 7 8 9, zero padding 1: each output sums its in-bounds 3x3 neighbours,
  // e.g. top-left 1+2+4+5 = 12, top-middle 1+2+3+4+5+6 = 21, centre 45; then + 0.5.
  expect_values(reference_forward(n, p, iota_input(9)),
                {12.5, 21.5, 16.5, 27.5, 45.5, 33.5, 24.5, 39.5, 28.5});
}

TEST(ReferenceForward, ConvIsCrossCorrelationWithStride) {
  builder b("conv", {1, 1, 4, 4});
  b.conv("conv", net::network_input, {.out_channels = 1, .kernel = 3, .stride = 2});
  const net::network n = std::move(b).finish();
  auto p = no_parameters(n);
  p[0].weight = {0, 0, 0, 0, 0, 0, 0, 0, 1};  // only the bottom-right tap
  p[0].bias = {0.f};
  // Output (oh, ow) reads input (2 oh - 1 + 2, 2 ow - 1 + 2) = (2 oh + 1, 2 ow + 1) of 1..16
  // row-major: (1,1) = 6, (1,3) = 8, (3,1) = 14, (3,3) = 16. A flipped kernel would read 1, 3, 9, 11.
  expect_values(reference_forward(n, p, iota_input(16)), {6, 8, 14, 16});
}

TEST(ReferenceForward, DepthwiseConvKeepsChannelsApart) {
  builder b("dw", {1, 2, 3, 3});
  b.conv("dw", net::network_input, {.out_channels = 2, .kernel = 3, .groups = 2});
  const net::network n = std::move(b).finish();
  auto p = no_parameters(n);
  p[0].weight.assign(9, 1.f);                       // channel 0: box filter
  p[0].weight.insert(p[0].weight.end(), 9, 2.f);    // channel 1: twice the box filter
  p[0].bias = {0.f, -1.f};
  std::vector<float> x = iota_input(9);  // channel 0: 1..9
  x.insert(x.end(), 9, 1.f);             // channel 1: ones
  // Channel 0 as in the 3x3 test without bias; channel 1 counts in-bounds taps times 2, minus
  // 1: corner 4 * 2 - 1 = 7, edge 6 * 2 - 1 = 11, centre 9 * 2 - 1 = 17.
  expect_values(reference_forward(n, p, x), {12, 21, 16, 27, 45, 33, 24, 39, 28,  //
                                             7, 11, 7, 11, 17, 11, 7, 11, 7});
}

TEST(ReferenceForward, ConvActivations) {
  // A 1x1 identity conv isolates the activation: inputs -4, -1, 0.5, 7.
  const std::vector<std::pair<activation, std::vector<double>>> cases = {
      {activation::none, {-4, -1, 0.5, 7}},
      {activation::relu, {0, 0, 0.5, 7}},
      {activation::relu6, {0, 0, 0.5, 6}},
      // x * relu6(x + 3) / 6: -4 * 0, -1 * 2/6, 0.5 * 3.5/6, 7 * 6/6
      {activation::hswish, {0, -1.0 / 3.0, 0.5 * 3.5 / 6.0, 7}},
      // relu6(x + 3) / 6
      {activation::hsigmoid, {0, 1.0 / 3.0, 3.5 / 6.0, 1}},
      {activation::sigmoid, {1 / (1 + std::exp(4.0)), 1 / (1 + std::exp(1.0)), 1 / (1 + std::exp(-0.5)), 1 / (1 + std::exp(-7.0))}},
  };
  for (const auto& [act, expected] : cases) {
    builder b("act", {1, 1, 2, 2});
    b.conv("conv", net::network_input, {.out_channels = 1, .kernel = 1, .act = act});
    const net::network n = std::move(b).finish();
    auto p = no_parameters(n);
    p[0].weight = {1.f};
    p[0].bias = {0.f};
    SCOPED_TRACE(std::string(net::to_string(act)));
    expect_values(reference_forward(n, p, {-4.f, -1.f, 0.5f, 7.f}), expected);
  }
}

TEST(ReferenceForward, AvgPoolCeilModeExcludesPadding) {
  builder b("pool", {1, 1, 3, 3});
  b.avg_pool("pool", net::network_input, 2, 2, 0, true);
  const net::network n = std::move(b).finish();
  ASSERT_EQ(n.layers[0].pad_end, 1);  // ceil mode: a last window that hangs over the edge
  // Windows over 1..9: {1,2,4,5} -> 3, {3,6} -> 4.5, {7,8} -> 7.5, {9} -> 9 (divisor = in-bounds count).
  expect_values(reference_forward(n, no_parameters(n), iota_input(9)), {3, 4.5, 7.5, 9});
}

TEST(ReferenceForward, AvgPoolSymmetricPaddingExcluded) {
  builder b("pool", {1, 1, 3, 3});
  b.avg_pool("pool", net::network_input, 3, 1, 1, false);
  const net::network n = std::move(b).finish();
  // Corner (1+2+4+5)/4 = 3, top edge (1+..+6)/6 = 3.5, centre 45/9 = 5, right edge (2+3+5+6+8+9)/6 = 5.5 ...
  expect_values(reference_forward(n, no_parameters(n), iota_input(9)), {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7});
}

TEST(ReferenceForward, MaxPoolIgnoresPadding) {
  builder b("pool", {1, 1, 4, 4});
  b.max_pool("pool", net::network_input, 3, 2, 1);
  const net::network n = std::move(b).finish();
  // Input -1..-16 row-major; a zero padding value would win every window. Windows start at
  // -1: rows/cols {0,1} -> -1; rows {0,1} cols {1,2,3} -> -2; rows {1,2,3} cols {0,1} -> -5;
  // rows {1,2,3} cols {1,2,3} -> -6.
  expect_values(reference_forward(n, no_parameters(n), iota_input(16, -1.f, -1.f)), {-1, -2, -5, -6});
}

TEST(ReferenceForward, GlobalPoolAndChannelScale) {
  builder b("se", {1, 2, 2, 2});
  const int pool = b.global_avg_pool("pool", net::network_input);
  b.channel_scale("scale", net::network_input, pool);
  const net::network n = std::move(b).finish();
  // Channel means: (1+2+3+4)/4 = 2.5 and (5+6+7+8)/4 = 6.5; each channel times its own mean.
  expect_values(reference_forward(n, no_parameters(n), iota_input(8)),
                {2.5, 5, 7.5, 10, 32.5, 39, 45.5, 52});
}

TEST(ReferenceForward, AddThenRelu) {
  builder b("res", {1, 1, 2, 2});
  const int conv = b.conv("conv", net::network_input, {.out_channels = 1, .kernel = 1});
  b.add("add", conv, net::network_input, activation::relu);
  const net::network n = std::move(b).finish();
  auto p = no_parameters(n);
  p[0].weight = {2.f};
  p[0].bias = {0.f};
  // 2x + x = 3x for x = 1, -2, 3, -4 -> 3, -6, 9, -12 -> relu.
  expect_values(reference_forward(n, p, {1.f, -2.f, 3.f, -4.f}), {3, 0, 9, 0});
}

TEST(ReferenceForward, ConcatAlongChannelsPerSample) {
  builder b("cat", {2, 1, 2, 2});
  const int conv = b.conv("conv", net::network_input, {.out_channels = 2, .kernel = 1});
  b.concat("cat", {net::network_input, conv});
  const net::network n = std::move(b).finish();
  auto p = no_parameters(n);
  p[0].weight = {1.f, -1.f};  // channel 0: x, channel 1: 10 - x
  p[0].bias = {0.f, 10.f};
  // Sample 0 (x = 1..4): [x | x | 10 - x]; sample 1 (x = 5..8) likewise, after all of sample 0.
  expect_values(reference_forward(n, p, iota_input(8)),
                {1, 2, 3, 4, 1, 2, 3, 4, 9, 8, 7, 6, 5, 6, 7, 8, 5, 6, 7, 8, 5, 4, 3, 2});
}

TEST(ReferenceForward, StandaloneBatchNormScaleShiftRelu) {
  builder b("bn", {1, 2, 1, 2});
  b.batch_norm("bn", net::network_input, activation::relu);
  const net::network n = std::move(b).finish();
  auto p = no_parameters(n);
  p[0].weight = {2.f, 0.5f};  // folded scale
  p[0].bias = {1.f, -1.f};    // folded shift
  // Channel 0: 2 * 1 + 1 = 3, 2 * -2 + 1 = -3 -> 0; channel 1: 0.5 * 3 - 1 = 0.5, 0.5 * 4 - 1 = 1.
  expect_values(reference_forward(n, p, {1.f, -2.f, 3.f, 4.f}), {3, 0, 0.5, 1});
}

TEST(ReferenceForward, FullyConnectedFlattensCHW) {
  builder b("fc", {2, 1, 2, 2});
  b.fully_connected("fc", net::network_input, 2);
  const net::network n = std::move(b).finish();
  auto p = no_parameters(n);
  p[0].weight = {1, 10, 100, 1000, 0.5f, 0.5f, 0.5f, 0.5f};  // K x (C*H*W), row-major
  p[0].bias = {0.25f, -3.f};
  // Sample 0 (1 2 3 4): 1 + 20 + 300 + 4000 + 0.25 = 4321.25, (1+2+3+4)/2 - 3 = 2;
  // sample 1 (5 6 7 8): 5 + 60 + 700 + 8000 + 0.25 = 8765.25, 26/2 - 3 = 10.
  expect_values(reference_forward(n, p, iota_input(8)), {4321.25, 2, 8765.25, 10});
}

TEST(ReferenceForward, RejectsMismatchedInput) {
  builder b("fc", {1, 1, 2, 2});
  b.fully_connected("fc", net::network_input, 2);
  const net::network n = std::move(b).finish();
  EXPECT_THROW((void)reference_forward(n, no_parameters(n), {1.f}), error);
}

TEST(ReferenceBackend, RunsReferenceForwardOnSharedParameters) {
  builder b("small", {1, 3, 8, 8});
  const int c = b.conv("conv", net::network_input, {.out_channels = 4, .kernel = 3, .stride = 2, .act = activation::hswish});
  const int g = b.global_avg_pool("pool", c);
  b.fully_connected("fc", g, 5);
  const net::network n = std::move(b).finish();
  const auto backend = make_backend("reference");
  EXPECT_EQ(backend->name(), "reference");
  compile_options options;
  options.seed = 7;
  const auto exe = backend->compile(n, options);
  EXPECT_GE(exe->timed_run_ms(), 0.0);
  const std::vector<double> expected = reference_forward(n, make_parameters(n, 7), make_input(n, 7));
  const std::vector<float> logits = exe->output();
  ASSERT_EQ(logits.size(), 5u);
  for (std::size_t i = 0; i < logits.size(); ++i) EXPECT_FLOAT_EQ(logits[i], static_cast<float>(expected[i]));
  options.prec = precision::fp16;
  EXPECT_THROW((void)backend->compile(n, options), usage_error);
}

}  // namespace
}  // namespace esm::backend
