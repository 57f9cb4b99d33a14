// Calibration passes: an fp32 program with one buffer per tensor, run on random inputs, each
// layer's output read back in plain fp32.
#include "backend/onednn/calibration.hpp"

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "backend/onednn/check.hpp"
#include "backend/onednn/primitives.hpp"

namespace esm::backend::onednn {

namespace {

void widen(value_range& r, const std::vector<float>& values) {
  for (const float v : values) {
    r.min = std::min(r.min, v);
    r.max = std::max(r.max, v);
  }
}

std::vector<float> plain_copy(const dnnl::memory& m, const dnnl::engine& engine, dnnl::stream& stream) {
  const dnnl::memory::desc plain = plain_desc(m.get_desc().dims());
  std::vector<float> out(plain.get_size() / sizeof(float));
  dnnl::memory target(plain, engine, out.data());
  dnnl::memory source = m;
  dnnl::reorder(source, target).execute(stream, source, target);
  stream.wait();
  return out;
}

}  // namespace

void calibrate(const net::network& net, const std::vector<layer_parameters>& params, std::uint64_t seed, int inputs,
               lowering_options& options, const dnnl::engine& engine, dnnl::stream& stream) {
  lowering_options fp32;
  fp32.fuse_residuals = false;
  const program prog = lower(net, params, fp32, engine, stream);
  std::vector<float> input(static_cast<std::size_t>(net.input.elements()));
  std::vector<dnnl::memory> buffers;
  checked("calibration buffers", [&] {
    for (const tensor& t : prog.tensors) {
      buffers.push_back(t.external ? dnnl::memory(t.desc, engine, input.data()) : dnnl::memory(t.desc, engine));
    }
  });
  constexpr float inf = std::numeric_limits<float>::infinity();
  options.layer_ranges.assign(net.layers.size(), {inf, -inf});
  options.input_range = {inf, -inf};
  for (int k = 0; k < inputs; ++k) {
    const std::vector<float> image = make_input(net, seed + 1 + static_cast<std::uint64_t>(k));
    std::copy(image.begin(), image.end(), input.begin());
    widen(options.input_range, image);
    for (const step& s : prog.steps) {
      std::unordered_map<int, dnnl::memory> args = s.constants;
      for (const tensor_arg& a : s.tensors) {
        const dnnl::memory& m = buffers[static_cast<std::size_t>(a.tensor)];
        args.emplace(a.arg, dnnl::memory(a.view, engine, m.get_data_handle()));
      }
      checked(s.name, [&] { s.primitive.execute(stream, args); });
    }
    stream.wait();
    for (std::size_t l = 0; l < net.layers.size(); ++l) {
      const int t = prog.layer_tensor[l];
      checked("calibration readback", [&] {
        widen(options.layer_ranges[l], plain_copy(buffers[static_cast<std::size_t>(t)], engine, stream));
      });
    }
  }
}

}  // namespace esm::backend::onednn
