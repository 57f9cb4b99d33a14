// Buffer placement (in-place concatenation), residual folding and step order (see plan.hpp).
#include "backend/cudnn/plan.hpp"

#include <cstddef>

#include "esm/common/error.hpp"

namespace esm::backend::cudnn {

namespace {

tensor_view whole(int buffer, const net::shape4& s) { return {buffer, 0, s.c * s.h * s.w, s, s.c}; }

/// Channels [first, first + s.c) of `parent` as a tensor of shape `s`.
tensor_view slice(const tensor_view& parent, std::int64_t first, const net::shape4& s) {
  tensor_view v = parent;
  v.offset = parent.offset + first * s.h * s.w;
  v.shape = s;
  if (s.n == 1) v.batch_stride = s.c * s.h * s.w;  // one sample: the slice is a packed tensor
  return v;
}

/// For every add, the conv input folded into it (-1 if none): a conv without activation whose
/// only reader is the add, so act(conv + bias + other) can be computed in one step.
std::vector<int> fusable_convs(const net::network& net) {
  const std::size_t count = net.layers.size();
  std::vector<int> readers(count, 0);
  for (const auto& l : net.layers) {
    for (int from : l.inputs) {
      if (from != net::network_input) ++readers[static_cast<std::size_t>(from)];
    }
  }
  std::vector<int> conv_of_add(count, -1);
  for (std::size_t i = 0; i < count; ++i) {
    const net::layer& l = net.layers[i];
    if (l.kind != net::op_kind::add) continue;
    for (std::size_t k = 0; k < 2; ++k) {
      const int c = l.inputs[k];
      if (c == net::network_input || c == l.inputs[1 - k]) continue;
      const net::layer& producer = net.layers[static_cast<std::size_t>(c)];
      if (producer.kind == net::op_kind::conv && producer.act == net::activation::none &&
          readers[static_cast<std::size_t>(c)] == 1) {
        conv_of_add[i] = c;
        break;
      }
    }
  }
  return conv_of_add;
}

}  // namespace

std::int64_t tensor_view::nhwc_offset() const {
  const std::int64_t plane = shape.h * shape.w;
  if (plane == 0 || offset % plane != 0) throw error("tensor view offset is not a whole number of channel planes");
  return offset / plane;
}

tensor_view packed_tensor(const net::shape4& s) { return {0, 0, s.c * s.h * s.w, s, s.c}; }

std::vector<float> to_channels_last(const std::vector<float>& dense, std::int64_t a, std::int64_t b, std::int64_t h,
                                    std::int64_t w) {
  if (static_cast<std::int64_t>(dense.size()) != a * b * h * w) throw error("to_channels_last: size mismatch");
  std::vector<float> out(dense.size());
  for (std::int64_t i = 0; i < a; ++i) {
    for (std::int64_t c = 0; c < b; ++c) {
      for (std::int64_t p = 0; p < h * w; ++p) {
        out[static_cast<std::size_t>((i * h * w + p) * b + c)] = dense[static_cast<std::size_t>((i * b + c) * h * w + p)];
      }
    }
  }
  return out;
}

execution_plan make_plan(const net::network& net) {
  if (net.layers.empty()) throw error("cudnn plan: empty network");
  const std::size_t count = net.layers.size();
  execution_plan plan;
  plan.buffers.push_back(net.input);
  plan.input_buffer = 0;
  const tensor_view input_view = whole(0, net.input);

  const std::vector<int> conv_of_add = fusable_convs(net);
  std::vector<bool> folded(count, false);  // conv computed by its add's step
  for (int c : conv_of_add) {
    if (c >= 0) folded[static_cast<std::size_t>(c)] = true;
  }

  // Placement, last layer first: a concat places its producers into its own buffer before they
  // are reached, so nested concats become slices of slices.
  plan.views.resize(count);
  std::vector<bool> placed(count, false);
  std::vector<std::vector<bool>> in_place(count);
  for (std::size_t i = count; i-- > 0;) {
    const net::layer& l = net.layers[i];
    if (!placed[i]) {
      plan.buffers.push_back(l.out);
      plan.views[i] = whole(static_cast<int>(plan.buffers.size()) - 1, l.out);
      placed[i] = true;
    }
    if (conv_of_add[i] >= 0) {
      plan.views[static_cast<std::size_t>(conv_of_add[i])] = plan.views[i];
      placed[static_cast<std::size_t>(conv_of_add[i])] = true;
    }
    if (l.kind != net::op_kind::concat || l.act != net::activation::none) continue;
    in_place[i].assign(l.inputs.size(), false);
    std::int64_t first = 0;
    for (std::size_t k = 0; k < l.inputs.size(); ++k) {
      const int from = l.inputs[k];
      const net::shape4& s = net.input_shape(static_cast<int>(i), static_cast<int>(k));
      if (from != net::network_input && !placed[static_cast<std::size_t>(from)]) {
        plan.views[static_cast<std::size_t>(from)] = slice(plan.views[i], first, s);
        placed[static_cast<std::size_t>(from)] = true;
        in_place[i][k] = true;
        ++plan.concat_slices;
      }
      first += s.c;
    }
  }

  const auto view_of = [&](int from) -> const tensor_view& {
    return from == net::network_input ? input_view : plan.views[static_cast<std::size_t>(from)];
  };
  for (std::size_t i = 0; i < count; ++i) {
    const net::layer& l = net.layers[i];
    step s;
    s.layer = static_cast<int>(i);
    s.x = view_of(l.inputs.at(0));
    s.y = plan.views[i];
    s.act = l.act;
    switch (l.kind) {
      case net::op_kind::conv:
      case net::op_kind::fully_connected:
        if (folded[i]) continue;  // computed by the add's step
        s.kind = step_kind::conv;
        break;
      case net::op_kind::batch_norm: s.kind = step_kind::batch_norm; break;
      case net::op_kind::max_pool:
      case net::op_kind::avg_pool: s.kind = step_kind::pool; break;
      case net::op_kind::global_avg_pool: s.kind = step_kind::global_avg_pool; break;
      case net::op_kind::channel_scale:
        s.kind = step_kind::channel_scale;
        s.other = view_of(l.inputs.at(1));
        break;
      case net::op_kind::add:
        if (const int c = conv_of_add[i]; c >= 0) {
          s.kind = step_kind::conv;
          s.layer = c;
          s.fused_add = static_cast<int>(i);
          s.x = view_of(net.layers[static_cast<std::size_t>(c)].inputs.at(0));
          s.other = view_of(l.inputs[0] == c ? l.inputs[1] : l.inputs[0]);
          ++plan.fused_residuals;
        } else {
          s.kind = step_kind::add;
          s.other = view_of(l.inputs.at(1));
        }
        break;
      case net::op_kind::concat: {
        std::int64_t first = 0;
        for (std::size_t k = 0; k < l.inputs.size(); ++k) {
          const net::shape4& shape = net.input_shape(static_cast<int>(i), static_cast<int>(k));
          if (in_place[i].empty() || !in_place[i][k]) {
            step copy = s;
            copy.kind = step_kind::copy;
            copy.x = view_of(l.inputs[k]);
            copy.y = slice(plan.views[i], first, shape);
            plan.steps.push_back(copy);
            ++plan.concat_copies;
          }
          first += shape.c;
        }
        continue;
      }
    }
    plan.steps.push_back(s);
  }
  return plan;
}

}  // namespace esm::backend::cudnn
