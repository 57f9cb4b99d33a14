// ISA requirements of the reduced precisions and the scale arithmetic of int8 lowering.
#include "backend/onednn/quantize.hpp"

#include <algorithm>
#include <cmath>

namespace esm::backend::onednn {

namespace {

/// oneDNN's cpu_isa values are bit sets: an ISA has a feature when it holds all of its bits.
bool has(dnnl::cpu_isa isa, dnnl::cpu_isa feature) {
  const auto bits = static_cast<unsigned>(feature);
  return (static_cast<unsigned>(isa) & bits) == bits;
}

/// A scale for a range that is zero everywhere (a dead channel or ReLU of negatives): any
/// positive value quantizes it exactly; 1 keeps the arithmetic finite.
float positive_or_one(float scale) { return std::isfinite(scale) && scale > 0.f ? scale : 1.f; }

}  // namespace

std::string_view isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::all: return "all";
  }
  return "unknown";
}

std::string missing_isa(precision prec, dnnl::cpu_isa isa) {
  const std::string here = " (oneDNN's effective ISA here: " + std::string(isa_name(isa)) + ")";
  switch (prec) {
    case precision::fp32: return "";
    case precision::fp16: return "cpu backend: precision fp16 is for GPUs; on CPUs use bf16 or int8";
    case precision::bf16:
      if (has(isa, dnnl::cpu_isa::avx512_core_bf16)) return "";
      return "cpu backend: precision bf16 needs AVX512-BF16 or AMX, which this CPU lacks" + here +
             "; oneDNN would only emulate it";
    case precision::int8:
      if (has(isa, dnnl::cpu_isa::avx512_core_vnni) || has(isa, dnnl::cpu_isa::avx2_vnni)) return "";
      return "cpu backend: precision int8 needs VNNI (AVX512-VNNI or AVX-VNNI), which this CPU lacks" + here;
  }
  return "cpu backend: unknown precision";
}

int8_format int8_format_for(const value_range& range) {
  if (range.min >= 0.f) return {dnnl::memory::data_type::u8, positive_or_one(range.max / 255.f)};
  return {dnnl::memory::data_type::s8, positive_or_one(std::max(-range.min, range.max) / 127.f)};
}

quantized_weights quantize_per_channel(const std::vector<float>& weights, std::int64_t out_channels) {
  quantized_weights q;
  q.levels.resize(weights.size());
  const std::size_t row = out_channels > 0 ? weights.size() / static_cast<std::size_t>(out_channels) : 0;
  for (std::size_t c = 0; c < static_cast<std::size_t>(out_channels); ++c) {
    const auto first = weights.begin() + static_cast<std::ptrdiff_t>(c * row);
    float largest = 0.f;
    for (auto w = first; w != first + static_cast<std::ptrdiff_t>(row); ++w) largest = std::max(largest, std::abs(*w));
    const float scale = positive_or_one(largest / 127.f);
    q.scales.push_back(scale);
    for (std::size_t k = 0; k < row; ++k) {
      q.levels[c * row + k] = std::clamp(std::nearbyint(weights[c * row + k] / scale), -127.f, 127.f);
    }
  }
  return q;
}

std::vector<float> bias_in_accumulator_units(const std::vector<float>& bias, float src_scale,
                                             const std::vector<float>& weight_scales) {
  std::vector<float> out(bias.size());
  for (std::size_t c = 0; c < bias.size(); ++c) out[c] = bias[c] / (src_scale * weight_scales.at(c));
  return out;
}

std::vector<float> dequantizing_scales(float src_scale, const std::vector<float>& weight_scales) {
  std::vector<float> out;
  out.reserve(weight_scales.size());
  for (const float w : weight_scales) out.push_back(src_scale * w);
  return out;
}

}  // namespace esm::backend::onednn
