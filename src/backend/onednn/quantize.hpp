// The numbers behind the CPU backend's int8 and bf16 lowering: which ISA a precision needs,
// per-tensor activation scales from calibrated ranges, per-output-channel weight scales, and the
// bias and output scales of a quantized convolution. Pure: no oneDNN objects are created here.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backend/onednn/program.hpp"

namespace esm::backend::onednn {

[[nodiscard]] std::string_view isa_name(dnnl::cpu_isa isa);

/// Empty when `isa` (oneDNN's effective ISA, after any ONEDNN_MAX_CPU_ISA cap) has instructions
/// for `prec`; otherwise why not, in one line. bf16 needs AVX512-BF16 (or AMX); int8 needs VNNI
/// (AVX-512 or AVX). oneDNN would otherwise emulate them with fp32 or 16-bit arithmetic, which
/// is not how the precision is deployed.
[[nodiscard]] std::string missing_isa(precision prec, dnnl::cpu_isa isa);

/// An int8 activation tensor: u8 for a range without negative values, s8 otherwise, the scale
/// mapping the largest magnitude to the largest integer.
struct int8_format {
  dnnl::memory::data_type type = dnnl::memory::data_type::s8;
  float scale = 1.f;
};
[[nodiscard]] int8_format int8_format_for(const value_range& range);

/// Symmetric per-output-channel quantization of `weights` (out_channels rows of equal length):
/// `levels` holds the integers in [-127, 127] (as floats, for a reorder to s8), `scales` one per
/// channel, weight = level * scale.
struct quantized_weights {
  std::vector<float> levels;
  std::vector<float> scales;
};
[[nodiscard]] quantized_weights quantize_per_channel(const std::vector<float>& weights, std::int64_t out_channels);

/// oneDNN adds the bias before the output scale, so a quantized convolution's fp32 bias is given
/// in accumulator units: bias / (src_scale * weight_scale[c]).
[[nodiscard]] std::vector<float> bias_in_accumulator_units(const std::vector<float>& bias, float src_scale,
                                                           const std::vector<float>& weight_scales);
/// Per-channel output scales src_scale * weight_scale[c]: the accumulator back in real units.
[[nodiscard]] std::vector<float> dequantizing_scales(float src_scale, const std::vector<float>& weight_scales);

}  // namespace esm::backend::onednn
