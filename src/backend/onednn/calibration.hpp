// int8 calibration: the range of every layer's output over a few random inputs, from fp32 passes
// of the same network and weights.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <vector>

#include "backend/onednn/program.hpp"

namespace esm::backend::onednn {

/// `inputs` fp32 passes over make_input(net, seed + 1 + k), k < inputs (never the input the
/// executable then runs on, make_input(net, seed)); fills options.layer_ranges and
/// options.input_range. Every layer keeps its own output (no residual fusion, no memory reuse),
/// so each range is the layer's own.
void calibrate(const net::network& net, const std::vector<layer_parameters>& params, std::uint64_t seed, int inputs,
               lowering_options& options, const dnnl::engine& engine, dnnl::stream& stream);

}  // namespace esm::backend::onednn
