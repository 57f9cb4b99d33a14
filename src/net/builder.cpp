// Shape and cost arithmetic for every op kind (see network.hpp for the conventions).
#include "esm/net/builder.hpp"

#include <stdexcept>
#include <utility>

#include "esm/common/error.hpp"

namespace esm::net {

namespace {

std::int64_t pooled_size(std::int64_t in, int kernel, int stride, int pad_begin, int pad_end) {
  return (in + pad_begin + pad_end - kernel) / stride + 1;
}

}  // namespace

builder::builder(std::string arch, shape4 input) {
  net_.arch = std::move(arch);
  net_.input = input;
}

const shape4& builder::shape_of(int index) const {
  return index == network_input ? net_.input : net_.layers.at(static_cast<std::size_t>(index)).out;
}

int builder::push(layer l) {
  l.in = shape_of(l.inputs.at(0));
  l.block = open_block_;
  net_.layers.push_back(std::move(l));
  return last();
}

int builder::conv(std::string name, int from, const conv_spec& spec) {
  const shape4 in = shape_of(from);
  if (spec.groups <= 0 || in.c % spec.groups != 0 || spec.out_channels % spec.groups != 0) {
    throw error("layer " + name + ": channels not divisible by groups");
  }
  layer l;
  l.name = std::move(name);
  l.kind = op_kind::conv;
  l.inputs = {from};
  l.kernel = spec.kernel;
  l.stride = spec.stride;
  l.pad_begin = l.pad_end = spec.kernel / 2;
  l.groups = spec.groups;
  l.bias = spec.bias;
  l.batch_norm = spec.batch_norm;
  l.act = spec.act;
  l.out = {in.n, spec.out_channels, pooled_size(in.h, spec.kernel, spec.stride, l.pad_begin, l.pad_end),
           pooled_size(in.w, spec.kernel, spec.stride, l.pad_begin, l.pad_end)};
  const std::int64_t weights =
      static_cast<std::int64_t>(spec.out_channels) * (in.c / spec.groups) * spec.kernel * spec.kernel;
  l.macs = weights * l.out.h * l.out.w;
  l.params = weights + (spec.bias ? spec.out_channels : 0) + (spec.batch_norm ? 2 * spec.out_channels : 0);
  return push(std::move(l));
}

int builder::batch_norm(std::string name, int from, activation act) {
  layer l;
  l.name = std::move(name);
  l.kind = op_kind::batch_norm;
  l.inputs = {from};
  l.act = act;
  l.out = shape_of(from);
  l.params = 2 * l.out.c;
  return push(std::move(l));
}

int builder::max_pool(std::string name, int from, int kernel, int stride, int pad) {
  const shape4 in = shape_of(from);
  layer l;
  l.name = std::move(name);
  l.kind = op_kind::max_pool;
  l.inputs = {from};
  l.kernel = kernel;
  l.stride = stride;
  l.pad_begin = l.pad_end = pad;
  l.out = {in.n, in.c, pooled_size(in.h, kernel, stride, pad, pad), pooled_size(in.w, kernel, stride, pad, pad)};
  return push(std::move(l));
}

int builder::avg_pool(std::string name, int from, int kernel, int stride, int pad, bool ceil_mode) {
  const shape4 in = shape_of(from);
  if (in.h != in.w) throw error("layer " + name + ": avg_pool expects square inputs");
  layer l;
  l.name = std::move(name);
  l.kind = op_kind::avg_pool;
  l.inputs = {from};
  l.kernel = kernel;
  l.stride = stride;
  l.pad_begin = l.pad_end = pad;
  std::int64_t out = pooled_size(in.h, kernel, stride, pad, pad);
  if (ceil_mode) {
    // PyTorch: ceil((H + 2p - k) / s) + 1, dropping a last window that starts in the end padding.
    out = (in.h + 2 * pad - kernel + stride - 1) / stride + 1;
    if ((out - 1) * stride >= in.h + pad) --out;
    l.pad_end = static_cast<int>((out - 1) * stride + kernel - in.h - pad);
    if (l.pad_end < pad) l.pad_end = pad;
  }
  l.out = {in.n, in.c, out, out};
  return push(std::move(l));
}

int builder::global_avg_pool(std::string name, int from) {
  const shape4 in = shape_of(from);
  layer l;
  l.name = std::move(name);
  l.kind = op_kind::global_avg_pool;
  l.inputs = {from};
  l.kernel = static_cast<int>(in.h);
  l.out = {in.n, in.c, 1, 1};
  return push(std::move(l));
}

int builder::fully_connected(std::string name, int from, int out_features) {
  const shape4 in = shape_of(from);
  layer l;
  l.name = std::move(name);
  l.kind = op_kind::fully_connected;
  l.inputs = {from};
  l.bias = true;
  const std::int64_t in_features = in.c * in.h * in.w;
  l.out = {in.n, out_features, 1, 1};
  l.macs = in_features * out_features;
  l.params = l.macs + out_features;
  return push(std::move(l));
}

int builder::channel_scale(std::string name, int features, int scale) {
  layer l;
  l.name = std::move(name);
  l.kind = op_kind::channel_scale;
  l.inputs = {features, scale};
  l.out = shape_of(features);
  return push(std::move(l));
}

int builder::add(std::string name, int a, int b, activation act) {
  layer l;
  l.name = std::move(name);
  l.kind = op_kind::add;
  l.inputs = {a, b};
  l.act = act;
  l.out = shape_of(a);
  return push(std::move(l));
}

int builder::concat(std::string name, std::vector<int> from) {
  layer l;
  l.name = std::move(name);
  l.kind = op_kind::concat;
  l.out = shape_of(from.at(0));
  l.out.c = 0;
  for (int f : from) l.out.c += shape_of(f).c;
  l.inputs = std::move(from);
  return push(std::move(l));
}

void builder::begin_block(std::string kind, bool searchable, int stage, int position) {
  if (open_block_ >= 0) throw std::logic_error("begin_block: a block is already open");
  block b;
  b.kind = std::move(kind);
  b.searchable = searchable;
  b.stage = stage;
  b.position = position;
  b.first_layer = last() + 1;
  net_.blocks.push_back(std::move(b));
  open_block_ = static_cast<int>(net_.blocks.size()) - 1;
}

void builder::end_block(std::string signature) {
  if (open_block_ < 0) throw std::logic_error("end_block: no open block");
  block& b = net_.blocks[static_cast<std::size_t>(open_block_)];
  b.signature = std::move(signature);
  b.last_layer = last();
  open_block_ = -1;
}

network builder::finish() && {
  if (open_block_ >= 0) throw std::logic_error("finish: a block is still open");
  validate(net_);
  return std::move(net_);
}

}  // namespace esm::net
