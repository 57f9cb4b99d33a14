// The oneDNN backend in bf16 and int8 against the reference executor (fp64), one small network
// per space, with the tolerances of docs/decisions.md; the ISA rule and the int8 arithmetic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "backend/onednn/quantize.hpp"
#include "backend/space_cases.hpp"
#include "esm/backend/backend.hpp"
#include "esm/backend/reference.hpp"
#include "esm/common/error.hpp"
#include "esm/space/space.hpp"

namespace esm::backend {
namespace {

/// bf16 keeps 8 significant bits (relative rounding 2^-9 per value); errors of a few dozen
/// layers add up to a few per cent of the logits' scale, a wrong layout or fusion to O(1).
constexpr double bf16_max_relative_error = 0.05;
/// int8 with per-tensor activation and per-channel weight scales: the logits stay nearly
/// parallel to the exact ones (measured 0.994-0.9999), and at least half of the images keep their
/// top-1 class (measured 5 of 8 for MobileNetV3, whose depthwise and hswish layers lose most,
/// 8 of 8 elsewhere; random weights leave the top logits close together).
constexpr double int8_min_cosine = 0.99;
constexpr double int8_min_top1_agreement = 0.5;
constexpr int images = 8;  ///< random images per network (the batch)

struct agreement {
  double relative_error = 0;  ///< max |x - ref| / max |ref| (as tests/backend/onednn_gtest.cpp)
  double cosine = 0;          ///< of the whole logit tensor with the reference's
  double top1 = 0;            ///< share of images whose arg-max class matches the reference's
};

agreement against_reference(const net::network& n, const std::vector<double>& want, precision prec) {
  compile_options options;
  options.seed = 5;
  options.threads = 1;
  options.prec = prec;
  const auto exe = make_backend("cpu")->compile(n, options);
  exe->run();
  const std::vector<float> got = exe->output();
  EXPECT_EQ(got.size(), want.size());
  agreement a;
  double scale = 0, worst = 0, dot = 0, got_norm = 0, want_norm = 0;
  for (std::size_t i = 0; i < want.size() && i < got.size(); ++i) {
    scale = std::max(scale, std::abs(want[i]));
    worst = std::max(worst, std::abs(got[i] - want[i]));
    dot += got[i] * want[i];
    got_norm += static_cast<double>(got[i]) * got[i];
    want_norm += want[i] * want[i];
  }
  a.relative_error = worst / scale;
  a.cosine = dot / std::sqrt(got_norm * want_norm);
  const auto classes = static_cast<std::size_t>(n.output_shape().c);
  int same = 0;
  for (std::size_t b = 0; b < static_cast<std::size_t>(n.output_shape().n); ++b) {
    const auto first_got = got.begin() + static_cast<std::ptrdiff_t>(b * classes);
    const auto first_want = want.begin() + static_cast<std::ptrdiff_t>(b * classes);
    same += std::max_element(first_got, first_got + static_cast<std::ptrdiff_t>(classes)) - first_got ==
            std::max_element(first_want, first_want + static_cast<std::ptrdiff_t>(classes)) - first_want;
  }
  a.top1 = same / static_cast<double>(n.output_shape().n);
  std::printf("%s %s: relative error %.4f, cosine %.5f, top-1 agreement %.3f\n", n.arch.c_str(),
              std::string(to_string(prec)).c_str(), a.relative_error, a.cosine, a.top1);
  return a;
}

net::network build(const space_case& c) {
  const space::arch a = space::parse_any(c.arch);
  return space::find_space(a.space).build(a, images);
}

std::string case_name(const ::testing::TestParamInfo<space_case>& param) { return param.param.label; }

class ReducedPrecision : public ::testing::TestWithParam<space_case> {};

/// Both precisions in one test: the fp64 reference of 8 images is most of the test's time.
TEST_P(ReducedPrecision, Bf16WithinRelativeErrorAndInt8ParallelWithTop1Kept) {
  const bool bf16 = onednn::missing_isa(precision::bf16, dnnl::get_effective_cpu_isa()).empty();
  const bool int8 = onednn::missing_isa(precision::int8, dnnl::get_effective_cpu_isa()).empty();
  if (!bf16 && !int8) GTEST_SKIP() << "this CPU has neither AVX512-BF16 nor VNNI";
  const net::network n = build(GetParam());
  const std::vector<double> want = reference_forward(n, make_parameters(n, 5), make_input(n, 5));
  if (bf16) {
    const agreement a = against_reference(n, want, precision::bf16);
    EXPECT_LE(a.relative_error, bf16_max_relative_error);
    EXPECT_GT(a.relative_error, 0.0) << "bit-identical to fp64: the network did not run in bf16";
  }
  if (int8) {
    const agreement a = against_reference(n, want, precision::int8);
    EXPECT_GE(a.cosine, int8_min_cosine);
    EXPECT_GE(a.top1, int8_min_top1_agreement);
  }
}

INSTANTIATE_TEST_SUITE_P(Spaces, ReducedPrecision, ::testing::ValuesIn(space_cases), case_name);

TEST(ReducedPrecisionKernels, ConvolutionsRunTheLowPrecisionKernels) {
  const space::arch a = space::parse_any(space_cases[0].arch);
  const net::network n = space::find_space(a.space).build(a, 1);
  for (const auto& [prec, word] : {std::pair{precision::bf16, "bf16"}, std::pair{precision::int8, "int8"}}) {
    if (!onednn::missing_isa(prec, dnnl::get_effective_cpu_isa()).empty()) continue;
    compile_options options;
    options.threads = 1;
    options.prec = prec;
    const auto exe = make_backend("cpu")->compile(n, options);
    EXPECT_NE(exe->description().find(std::string(", ") + word + ","), std::string::npos) << exe->description();
    int low = 0;
    for (const auto& k : exe->algorithms()) {
      const bool bf16_kernel = k.name.find("bf16") != std::string::npos;
      const bool int8_kernel = k.name.find("vnni") != std::string::npos || k.name.find("amx") != std::string::npos;
      low += prec == precision::bf16 ? bf16_kernel : int8_kernel;
      EXPECT_NE(k.name.rfind("ref", 0), 0u) << "reference kernel in layer " << k.layer;
    }
    EXPECT_GE(low, 20) << word << ": " << exe->description();  // the network's ~50 convolutions
  }
}

// --- the ISA rule, with made-up CPUs -------------------------------------------------------

TEST(PrecisionIsa, Bf16NeedsAvx512Bf16AndInt8NeedsVnni) {
  using dnnl::cpu_isa;
  using onednn::missing_isa;
  for (const cpu_isa isa : {cpu_isa::avx2, cpu_isa::avx512_core, cpu_isa::avx2_vnni, cpu_isa::avx512_core_vnni,
                            cpu_isa::avx512_core_bf16, cpu_isa::avx512_core_amx}) {
    EXPECT_EQ(missing_isa(precision::fp32, isa), "");
  }
  EXPECT_EQ(missing_isa(precision::bf16, cpu_isa::avx512_core),
            "cpu backend: precision bf16 needs AVX512-BF16 or AMX, which this CPU lacks (oneDNN's effective ISA "
            "here: avx512_core); oneDNN would only emulate it");
  EXPECT_NE(missing_isa(precision::bf16, cpu_isa::avx512_core_vnni), "");
  EXPECT_NE(missing_isa(precision::bf16, cpu_isa::avx2_vnni), "");
  EXPECT_EQ(missing_isa(precision::bf16, cpu_isa::avx512_core_bf16), "");
  EXPECT_EQ(missing_isa(precision::bf16, cpu_isa::avx512_core_amx), "");
  EXPECT_NE(missing_isa(precision::int8, cpu_isa::avx2), "");
  EXPECT_NE(missing_isa(precision::int8, cpu_isa::avx512_core), "");
  EXPECT_EQ(missing_isa(precision::int8, cpu_isa::avx2_vnni), "");
  EXPECT_EQ(missing_isa(precision::int8, cpu_isa::avx512_core_vnni), "");
  EXPECT_EQ(missing_isa(precision::int8, cpu_isa::avx512_core_amx), "");
  EXPECT_NE(missing_isa(precision::fp16, cpu_isa::avx512_core_amx), "");
}

// --- int8 arithmetic -------------------------------------------------------------------------

TEST(Int8Scales, NonNegativeRangesAreU8AndOthersS8) {
  const auto relu = onednn::int8_format_for({0.f, 5.1f});
  EXPECT_EQ(relu.type, dnnl::memory::data_type::u8);
  EXPECT_FLOAT_EQ(relu.scale, 5.1f / 255.f);
  const auto signed_range = onednn::int8_format_for({-6.35f, 2.f});
  EXPECT_EQ(signed_range.type, dnnl::memory::data_type::s8);
  EXPECT_FLOAT_EQ(signed_range.scale, 6.35f / 127.f);
  EXPECT_FLOAT_EQ(onednn::int8_format_for({0.f, 0.f}).scale, 1.f);  // all zero: any scale is exact
}

TEST(Int8Scales, WeightsPerOutputChannelWithBiasInAccumulatorUnits) {
  // Two channels of three weights; the largest magnitude of each maps to 127.
  const auto q = onednn::quantize_per_channel({0.5f, -1.f, 0.25f, 0.02f, 0.012f, -0.005f}, 2);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_FLOAT_EQ(q.scales[0], 1.f / 127.f);
  EXPECT_FLOAT_EQ(q.scales[1], 0.02f / 127.f);
  EXPECT_EQ(q.levels, (std::vector<float>{64.f, -127.f, 32.f, 127.f, 76.f, -32.f}));  // 63.5: to even
  const auto bias = onednn::bias_in_accumulator_units({1.f, -2.f}, 0.5f, q.scales);
  EXPECT_FLOAT_EQ(bias[0], 1.f / (0.5f / 127.f));
  EXPECT_FLOAT_EQ(bias[1], -2.f / (0.5f * 0.02f / 127.f));
  const auto out = onednn::dequantizing_scales(0.5f, q.scales);
  EXPECT_FLOAT_EQ(out[1], 0.5f * 0.02f / 127.f);
}

}  // namespace
}  // namespace esm::backend
