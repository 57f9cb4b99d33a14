// Lowers the network IR to oneDNN primitives: fusion decisions, formats, reorders, weights.
#include "backend/onednn/program.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "backend/onednn/check.hpp"
#include "backend/onednn/primitives.hpp"

namespace esm::backend::onednn {

namespace {

using dnnl::memory;

/// Which convs absorb the residual add that consumes them (as a sum post-op), decided before
/// lowering: an add whose first input is a conv read by nothing else.
std::vector<int> residual_fusions(const net::network& net, const std::vector<std::vector<int>>& consumers) {
  std::vector<int> fused_into(net.layers.size(), -1);
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const net::layer& l = net.layers[i];
    if (l.kind != net::op_kind::add || l.inputs[0] == net::network_input || l.inputs[0] == l.inputs[1]) continue;
    const auto conv = static_cast<std::size_t>(l.inputs[0]);
    if (net.layers[conv].kind == net::op_kind::conv && consumers[conv].size() == 1) {
      fused_into[conv] = static_cast<int>(i);
    }
  }
  return fused_into;
}

std::vector<std::vector<int>> consumers_of(const net::network& net) {
  std::vector<std::vector<int>> consumers(net.layers.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    for (int from : net.layers[i].inputs) {
      if (from != net::network_input) consumers[static_cast<std::size_t>(from)].push_back(static_cast<int>(i));
    }
  }
  return consumers;
}

class lowering {
 public:
  lowering(const net::network& net, const std::vector<layer_parameters>& params, const dnnl::engine& engine,
           dnnl::stream& stream)
      : net_(net), params_(params), engine_(engine), stream_(stream), consumers_(consumers_of(net)),
        fused_into_(residual_fusions(net, consumers_)), layer_tensor_(net.layers.size(), -1) {
    prog_.input_tensor = new_tensor(plain_desc(dims_of(net.input)));
    prog_.tensors[static_cast<std::size_t>(prog_.input_tensor)].external = true;
  }

  program run() && {
    for (std::size_t i = 0; i < net_.layers.size(); ++i) lower_layer(static_cast<int>(i));
    prog_.output_tensor = layer_tensor_.back();
    return std::move(prog_);
  }

 private:
  const net::layer& layer_at(int index) const { return net_.layers[static_cast<std::size_t>(index)]; }
  int tensor_of(int producer) const {
    return producer == net::network_input ? prog_.input_tensor : layer_tensor_[static_cast<std::size_t>(producer)];
  }
  const memory::desc& desc_of(int tensor) const { return prog_.tensors[static_cast<std::size_t>(tensor)].desc; }
  static std::string context(const net::layer& l, std::string_view primitive) {
    return "layer " + l.name + " (" + std::string(primitive) + ")";
  }

  int new_tensor(const memory::desc& desc) {
    prog_.tensors.push_back({desc, false});
    return static_cast<int>(prog_.tensors.size()) - 1;
  }

  void emit(step s) { prog_.steps.push_back(std::move(s)); }

  /// `tensor` in format `want`: itself, or a reorder of it decided now and run in every pass.
  /// One reordered copy per (tensor, format) is shared by all consumers.
  int tensor_as(int tensor, const memory::desc& want, const net::layer& consumer) {
    if (desc_of(tensor) == want) return tensor;
    for (const auto& [from, desc, copy] : reordered_) {
      if (from == tensor && desc == want) return copy;
    }
    const int copy = new_tensor(want);
    emit_reorder(tensor, copy, consumer);
    reordered_.push_back({tensor, want, copy});
    return copy;
  }

  void emit_reorder(int from, int to, const net::layer& consumer) {
    const std::string name = context(consumer, "reorder");
    auto pd = checked(name, [&] { return dnnl::reorder::primitive_desc(engine_, desc_of(from), engine_, desc_of(to)); });
    emit({name, dnnl::reorder(pd), {{DNNL_ARG_FROM, from, desc_of(from)}, {DNNL_ARG_TO, to, desc_of(to)}}, {}, true});
  }

  /// Constant data (weights, bias) in the format a primitive chose, reordered once, now.
  dnnl::memory constant_as(const std::vector<float>& data, const memory::desc& user, const memory::desc& want,
                           const std::string& name) {
    return checked(name, [&] {
      dnnl::memory source(user, engine_, const_cast<float*>(data.data()));
      dnnl::memory target(want, engine_);
      dnnl::reorder(source, target).execute(stream_, source, target);
      stream_.wait();
      return target;
    });
  }

  dnnl::memory constant_filled(std::int64_t count, float value, const std::string& name) {
    return constant_as(std::vector<float>(static_cast<std::size_t>(count), value), plain_desc({count}),
                       plain_desc({count}), name);
  }

  /// Standalone in-place eltwise steps for ops whose primitives take no eltwise post-ops.
  void emit_activation(int tensor, net::activation act, const net::layer& l) {
    const std::string name = context(l, "eltwise");
    for (const auto& pd : checked(name, [&] { return activation_primitives(act, desc_of(tensor), engine_); })) {
      emit({name, dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, tensor, pd.src_desc()}, {DNNL_ARG_DST, tensor, pd.dst_desc()}},
            {}, false});
    }
  }

  void lower_layer(int index) {
    const net::layer& l = layer_at(index);
    int out = -1;
    switch (l.kind) {
      case net::op_kind::conv:
        if (fused_into_[static_cast<std::size_t>(index)] >= 0) return;  // runs with its add
        out = conv(l, index);
        break;
      case net::op_kind::batch_norm: out = batch_norm(l, index); break;
      case net::op_kind::max_pool:
      case net::op_kind::avg_pool:
      case net::op_kind::global_avg_pool: out = pool(l); break;
      case net::op_kind::fully_connected: out = inner_product(l, index); break;
      case net::op_kind::channel_scale: out = channel_scale(l, index); break;
      case net::op_kind::add: out = add(l, index); break;
      case net::op_kind::concat: out = concat(l); break;
    }
    layer_tensor_[static_cast<std::size_t>(index)] = out;
  }

  struct residual {
    int addend_layer;  ///< the add's second input, accumulated into by the sum post-op
    int add_index;     ///< the add the conv now stands for
    const net::layer* add;
  };

  using conv_descriptor = dnnl::convolution_forward::primitive_desc;

  /// The conv's activation as post-ops; with an absorbed residual add, then the sum and the
  /// add's activation.
  conv_descriptor conv_primitive_for(const net::layer& l, const residual* res, const std::string& name) {
    dnnl::post_ops ops;
    append_activation(ops, l.act);
    if (res != nullptr) {
      ops.append_sum(1.f);
      append_activation(ops, res->add->act);
    }
    return checked(name, [&] { return conv_primitive(l, ops, engine_); });
  }

  int conv(const net::layer& l, int index) {
    const std::string name = context(l, "convolution");
    return emit_conv(l, index, conv_primitive_for(l, nullptr, name), name, nullptr);
  }

  /// Weights and bias are reordered to the formats the primitive chose, now.
  int emit_conv(const net::layer& l, int index, const conv_descriptor& pd, const std::string& name,
                const residual* res) {
    const layer_parameters& p = params_[static_cast<std::size_t>(index)];
    const int src = tensor_as(tensor_of(l.inputs[0]), pd.src_desc(), l);
    const int dst = res != nullptr ? accumulator(*res, pd.dst_desc()) : new_tensor(pd.dst_desc());
    emit({name,
          dnnl::convolution_forward(pd),
          {{DNNL_ARG_SRC, src, pd.src_desc()}, {DNNL_ARG_DST, dst, pd.dst_desc()}},
          {{DNNL_ARG_WEIGHTS, constant_as(p.weight, conv_weights_desc(l), pd.weights_desc(), name)},
           {DNNL_ARG_BIAS, constant_as(p.bias, plain_desc({l.out.c}), pd.bias_desc(), name)}},
          false});
    return dst;
  }

  /// Where the fused conv of a residual add writes: the addend's own tensor when nothing reads
  /// that afterwards (in place, as deployments do), otherwise a copy of it in the conv's format.
  int accumulator(const residual& res, const memory::desc& want) {
    const int addend = tensor_of(res.addend_layer);
    if (res.addend_layer != net::network_input && desc_of(addend) == want && last_reader(res) < res.add_index) {
      std::erase_if(reordered_, [&](const reorder_entry& e) { return e.from == addend; });  // overwritten now
      return addend;
    }
    const int copy = new_tensor(want);
    emit_reorder(addend, copy, *res.add);
    return copy;
  }

  /// The latest position at which anything but the add reads the addend (fused convs run at
  /// their add's position).
  int last_reader(const residual& res) const {
    int last = -1;
    for (int reader : consumers_[static_cast<std::size_t>(res.addend_layer)]) {
      const int fused = fused_into_[static_cast<std::size_t>(reader)];
      if (reader != res.add_index) last = std::max(last, fused >= 0 ? fused : reader);
    }
    return last;
  }

  int add(const net::layer& l, int index) {
    const int first = l.inputs[0];
    if (first != net::network_input && fused_into_[static_cast<std::size_t>(first)] == index) {
      const net::layer& c = layer_at(first);
      const residual res{l.inputs[1], index, &l};
      const std::string name = "layer " + c.name + " + " + l.name + " (convolution+sum)";
      const conv_descriptor pd = conv_primitive_for(c, &res, name);
      if (!is_reference_kernel(pd)) return emit_conv(c, first, pd, name, &res);
      // Kernels for some ISAs take no eltwise before the sum (avx2: a conv with its own ReLU);
      // oneDNN's reference kernel would cost far more than a separate add, so the conv runs
      // here unfused.
      layer_tensor_[static_cast<std::size_t>(first)] = conv(c, first);
    }
    return binary(l, dnnl::algorithm::binary_add, desc_of(tensor_of(l.inputs[0])).dims());
  }

  /// Squeeze-excite: features times a per-channel scale broadcast over H x W.
  int channel_scale(const net::layer& l, int index) {
    return binary(l, dnnl::algorithm::binary_mul, dims_of(net_.input_shape(index, 1)));
  }

  /// inputs[0] (op) inputs[1], where inputs[1] (of `src1_dims`) is brought to inputs[0]'s format.
  int binary(const net::layer& l, dnnl::algorithm alg, const memory::dims& src1_dims) {
    const int src0 = tensor_of(l.inputs[0]);
    const int src1 = tensor_as(tensor_of(l.inputs[1]), same_layout(src1_dims, desc_of(src0)), l);
    dnnl::post_ops ops;
    append_activation(ops, l.act);
    const std::string name = context(l, alg == dnnl::algorithm::binary_add ? "binary_add" : "binary_mul");
    const auto pd = checked(name, [&] { return binary_primitive(alg, desc_of(src0), desc_of(src1), ops, engine_); });
    const int dst = new_tensor(pd.dst_desc());
    emit({name,
          dnnl::binary(pd),
          {{DNNL_ARG_SRC_0, src0, pd.src0_desc()}, {DNNL_ARG_SRC_1, src1, pd.src1_desc()},
           {DNNL_ARG_DST, dst, pd.dst_desc()}},
          {},
          false});
    return dst;
  }

  int pool(const net::layer& l) {
    const int src = tensor_of(l.inputs[0]);
    const std::string name = context(l, "pooling");
    const auto pd = checked(name, [&] { return pool_primitive(l, desc_of(src), engine_); });
    const int dst = new_tensor(pd.dst_desc());
    emit({name, dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src, pd.src_desc()}, {DNNL_ARG_DST, dst, pd.dst_desc()}},
          {}, false});
    emit_activation(dst, l.act, l);
    return dst;
  }

  int batch_norm(const net::layer& l, int index) {
    const int src = tensor_of(l.inputs[0]);
    const std::string name = context(l, "batch_normalization");
    const auto pd = checked(name, [&] { return batch_norm_primitive(l, desc_of(src), engine_); });
    const layer_parameters& p = params_[static_cast<std::size_t>(index)];
    const memory::desc channels = plain_desc({l.out.c});
    const int dst = new_tensor(pd.dst_desc());
    emit({name,
          dnnl::batch_normalization_forward(pd),
          {{DNNL_ARG_SRC, src, pd.src_desc()}, {DNNL_ARG_DST, dst, pd.dst_desc()}},
          {{DNNL_ARG_SCALE, constant_as(p.weight, channels, channels, name)},
           {DNNL_ARG_SHIFT, constant_as(p.bias, channels, channels, name)},
           {DNNL_ARG_MEAN, constant_filled(l.out.c, 0.f, name)},
           {DNNL_ARG_VARIANCE, constant_filled(l.out.c, 1.f, name)}},
          false});
    if (l.act != net::activation::relu) emit_activation(dst, l.act, l);
    return dst;
  }

  int concat(const net::layer& l) {
    std::vector<int> srcs;
    std::vector<memory::desc> descs;
    for (int from : l.inputs) {
      srcs.push_back(tensor_of(from));
      descs.push_back(desc_of(srcs.back()));
    }
    const std::string name = context(l, "concat");
    const auto pd = checked(name, [&] { return concat_primitive(descs, engine_); });
    const int dst = new_tensor(pd.dst_desc());
    step s{name, dnnl::concat(pd), {{DNNL_ARG_DST, dst, pd.dst_desc()}}, {}, false};
    for (std::size_t k = 0; k < srcs.size(); ++k) {
      s.tensors.push_back({DNNL_ARG_MULTIPLE_SRC + static_cast<int>(k), srcs[k], descs[k]});
    }
    emit(std::move(s));
    emit_activation(dst, l.act, l);
    return dst;
  }

  /// The 2-D N x K result is also the N x K x 1 x 1 NCHW tensor the IR describes (same bytes).
  int inner_product(const net::layer& l, int index) {
    dnnl::post_ops ops;
    append_activation(ops, l.act);
    const std::string name = context(l, "inner_product");
    const auto pd = checked(name, [&] { return inner_product_primitive(l, ops, engine_); });
    const layer_parameters& p = params_[static_cast<std::size_t>(index)];
    const int src = tensor_as(tensor_of(l.inputs[0]), pd.src_desc(), l);
    const int dst = new_tensor(plain_desc(dims_of(l.out)));
    emit({name,
          dnnl::inner_product_forward(pd),
          {{DNNL_ARG_SRC, src, pd.src_desc()}, {DNNL_ARG_DST, dst, pd.dst_desc()}},
          {{DNNL_ARG_WEIGHTS, constant_as(p.weight, plain_desc(pd.weights_desc().dims()), pd.weights_desc(), name)},
           {DNNL_ARG_BIAS, constant_as(p.bias, plain_desc({l.out.c}), pd.bias_desc(), name)}},
          false});
    return dst;
  }

  struct reorder_entry {
    int from;
    memory::desc desc;
    int copy;
  };

  const net::network& net_;
  const std::vector<layer_parameters>& params_;
  const dnnl::engine& engine_;
  dnnl::stream& stream_;
  std::vector<std::vector<int>> consumers_;
  std::vector<int> fused_into_;  ///< per layer: the add a conv runs with, -1 if none
  std::vector<int> layer_tensor_;
  std::vector<reorder_entry> reordered_;
  program prog_;
};

}  // namespace

program lower(const net::network& net, const std::vector<layer_parameters>& params, const dnnl::engine& engine,
              dnnl::stream& stream) {
  if (params.size() != net.layers.size()) throw error("oneDNN lowering: parameters do not match network " + net.arch);
  return lowering(net, params, engine, stream).run();
}

}  // namespace esm::backend::onednn
