// Lowers the network IR to oneDNN primitives: fusion decisions, formats, reorders, weights.
#include "backend/onednn/program.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>

#include "backend/onednn/check.hpp"
#include "backend/onednn/primitives.hpp"
#include "backend/onednn/quantize.hpp"

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
  lowering(const net::network& net, const std::vector<layer_parameters>& params, const lowering_options& options,
           const dnnl::engine& engine, dnnl::stream& stream)
      : net_(net), params_(params), options_(options), engine_(engine), stream_(stream),
        consumers_(consumers_of(net)),
        fused_into_(options.fuse_residuals ? residual_fusions(net, consumers_) : std::vector<int>(net.layers.size(), -1)),
        layer_tensor_(net.layers.size(), -1) {
    prog_.input_tensor = new_tensor(plain_desc(dims_of(net.input)));
    prog_.tensors[static_cast<std::size_t>(prog_.input_tensor)].external = true;
  }

  program run() && {
    for (std::size_t i = 0; i < net_.layers.size(); ++i) {
      current_layer_ = static_cast<int>(i);
      lower_layer(current_layer_);
    }
    prog_.output_tensor = layer_tensor_.back();
    prog_.layer_tensor = layer_tensor_;
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

  float scale_of(int tensor) const { return prog_.tensors[static_cast<std::size_t>(tensor)].scale; }
  bool int8() const { return options_.prec == precision::int8; }

  int new_tensor(const memory::desc& desc, float scale = 1.f) {
    prog_.tensors.push_back({desc, false, scale});
    return static_cast<int>(prog_.tensors.size()) - 1;
  }

  void emit(step s) {
    s.layer = current_layer_;
    s.implementation = implementation_of(s.primitive);
    prog_.steps.push_back(std::move(s));
  }

  /// `tensor` in format and type `want` (int8: with `scale`): itself, or a reorder of it decided
  /// now and run in every pass. One reordered copy per (tensor, format, scale) is shared by all
  /// consumers.
  int tensor_as(int tensor, const memory::desc& want, const net::layer& consumer, float scale = 1.f) {
    if (desc_of(tensor) == want && scale_of(tensor) == scale) return tensor;
    for (const auto& [from, desc, copy] : reordered_) {
      if (from == tensor && desc == want && scale_of(copy) == scale) return copy;
    }
    const int copy = new_tensor(want, scale);
    emit_reorder(tensor, copy, consumer);
    reordered_.push_back({tensor, want, copy});
    return copy;
  }

  /// A tensor as an fp32 island reads it: int8 tensors dequantized, others as they are.
  int island_input(int tensor, const net::layer& consumer) {
    const memory::desc& d = desc_of(tensor);
    if (d.data_type() == memory::data_type::f32 || d.data_type() == memory::data_type::bf16) return tensor;
    return tensor_as(tensor, retyped(d, memory::data_type::f32), consumer);
  }

  /// A layout and type conversion; between differently scaled tensors it also rescales
  /// (real = stored * scale on both sides).
  void emit_reorder(int from, int to, const net::layer& consumer) {
    const std::string name = context(consumer, "reorder");
    dnnl::primitive_attr attr;
    if (scale_of(from) != scale_of(to)) attr.set_output_scales(0, {scale_of(from) / scale_of(to)});
    auto pd = checked(name, [&] {
      return dnnl::reorder::primitive_desc(engine_, desc_of(from), engine_, desc_of(to), attr);
    });
    emit({name, dnnl::reorder(pd), {{DNNL_ARG_FROM, from, desc_of(from)}, {DNNL_ARG_TO, to, desc_of(to)}}, {}, true, -1, {}});
  }

  /// Whether the op's primitive `pd` runs a real kernel; in bf16 and int8 an op whose kernel is
  /// oneDNN's loop-based reference one is lowered again in fp32 (an fp32 island).
  static bool reference_in_low_precision(const dnnl::primitive_desc_base& pd, const memory::desc& src) {
    return src.data_type() != memory::data_type::f32 && is_reference_kernel(pd);
  }

  int to_f32(int tensor, const net::layer& consumer) {
    return tensor_as(tensor, retyped(desc_of(tensor), memory::data_type::f32), consumer);
  }

  /// A single-input op (pooling, batch norm) on `src` as it is, or in fp32 where oneDNN has only
  /// a generic kernel for it in the lower precision: bf16 batch norm runs "nspc_bnorm:any", which
  /// converts every element in C++ and took 1.7x the fp32 time of the same generic kernel, and
  /// several times fp32's "bnorm_jit" where that one applies (lab/2026-12-07-cpu-precisions).
  template <class Make>
  auto single_input_op(int& src, const net::layer& l, const std::string& name, Make make) {
    auto pd = checked(name, [&] { return make(desc_of(src)); });
    if (desc_of(src).data_type() == memory::data_type::f32 || !is_generic_kernel(pd)) return pd;
    src = to_f32(src, l);
    return checked(name, [&] { return make(desc_of(src)); });
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
            {}, false, -1, {}});
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

  /// How a conv or inner product computes: element types, scales and the constants that go with
  /// them. fp32 and bf16 keep the parameters; int8 quantizes them.
  struct numerics {
    compute_types types;
    float src_scale = 1.f, dst_scale = 1.f;
    std::vector<float> weights, bias, output_scales;  ///< output_scales empty: none
  };

  /// Whether a layer's output may stay int8: every reader is a conv or inner product (int8 ops)
  /// and the network's result is not it.
  bool feeds_only_int8_ops(int layer) const {
    const auto& readers = consumers_[static_cast<std::size_t>(layer)];
    if (readers.empty()) return false;
    return std::all_of(readers.begin(), readers.end(), [&](int r) {
      const net::op_kind k = layer_at(r).kind;
      return k == net::op_kind::conv || k == net::op_kind::fully_connected;
    });
  }

  value_range range_of(int producer) const {
    return producer == net::network_input ? options_.input_range
                                          : options_.layer_ranges.at(static_cast<std::size_t>(producer));
  }

  /// The numerics of layer `l` (at `index`) writing the output of layer `dst_layer`, in `prec`.
  numerics numerics_for(const net::layer& l, int index, int dst_layer, precision prec) const {
    const layer_parameters& p = params_[static_cast<std::size_t>(index)];
    numerics n;
    n.weights = p.weight;
    n.bias = p.bias;
    if (prec == precision::bf16) {
      n.types = {memory::data_type::bf16, memory::data_type::bf16, memory::data_type::bf16};
    } else if (prec == precision::int8) {
      const int src = tensor_of(l.inputs[0]);
      const memory::data_type src_type = desc_of(src).data_type();
      const bool src_is_int8 = src_type == memory::data_type::u8 || src_type == memory::data_type::s8;
      const int8_format in = src_is_int8 ? int8_format{src_type, scale_of(src)} : int8_format_for(range_of(l.inputs[0]));
      n.types.src = in.type;
      n.src_scale = in.scale;
      n.types.weights = memory::data_type::s8;
      if (feeds_only_int8_ops(dst_layer)) {
        const int8_format out = int8_format_for(range_of(dst_layer));
        n.types.dst = out.type;
        n.dst_scale = out.scale;
      }
      quantized_weights q = quantize_per_channel(p.weight, l.out.c);
      n.weights = std::move(q.levels);
      n.bias = bias_in_accumulator_units(p.bias, n.src_scale, q.scales);
      n.output_scales = dequantizing_scales(n.src_scale, q.scales);
    }
    return n;
  }

  /// The primitive's attributes: int8 output scales (back to real values), then the conv's
  /// activation; with an absorbed residual add the sum (the addend in real values) and the add's
  /// activation; for an int8 destination, the division by its scale.
  static dnnl::primitive_attr attr_for(const numerics& n, net::activation act, const residual* res) {
    dnnl::post_ops ops;
    append_activation(ops, act);
    if (res != nullptr) {
      ops.append_sum(n.dst_scale);
      append_activation(ops, res->add->act);
    }
    if (n.dst_scale != 1.f) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / n.dst_scale, 0.f);
    dnnl::primitive_attr attr = attr_with(ops);
    if (!n.output_scales.empty()) attr.set_output_scales(1 << 1, n.output_scales);
    return attr;
  }

  struct conv_choice {
    conv_descriptor pd;
    numerics n;
  };

  /// The conv in the network's precision, or in fp32 where oneDNN has only its reference kernel
  /// for the lower one.
  conv_choice conv_primitive_for(const net::layer& l, int index, const residual* res, const std::string& name) {
    const int dst_layer = res != nullptr ? res->add_index : index;
    const auto make = [&](precision prec) {
      numerics n = numerics_for(l, index, dst_layer, prec);
      const dnnl::primitive_attr attr = attr_for(n, l.act, res);
      return conv_choice{checked(name, [&] { return conv_primitive(l, attr, n.types, engine_); }), std::move(n)};
    };
    conv_choice c = make(options_.prec);
    if (options_.prec != precision::fp32 && is_reference_kernel(c.pd)) c = make(precision::fp32);
    return c;
  }

  int conv(const net::layer& l, int index) {
    const std::string name = context(l, "convolution");
    return emit_conv(l, index, conv_primitive_for(l, index, nullptr, name), name, nullptr);
  }

  /// Weights and bias are reordered to the formats the primitive chose, now.
  int emit_conv(const net::layer& l, int index, const conv_choice& c, const std::string& name, const residual* res) {
    const conv_descriptor& pd = c.pd;
    const int src = tensor_as(tensor_of(l.inputs[0]), pd.src_desc(), l, c.n.src_scale);
    const int dst = res != nullptr ? accumulator(*res, pd.dst_desc(), c.n.dst_scale) : new_tensor(pd.dst_desc(), c.n.dst_scale);
    current_layer_ = index;
    emit({name,
          dnnl::convolution_forward(pd),
          {{DNNL_ARG_SRC, src, pd.src_desc()}, {DNNL_ARG_DST, dst, pd.dst_desc()}},
          {{DNNL_ARG_WEIGHTS, constant_as(c.n.weights, conv_weights_desc(l), pd.weights_desc(), name)},
           {DNNL_ARG_BIAS, constant_as(c.n.bias, plain_desc({l.out.c}), pd.bias_desc(), name)}},
          false, -1, {}});
    current_layer_ = res != nullptr ? res->add_index : index;
    return dst;
  }

  /// Where the fused conv of a residual add writes: the addend's own tensor when nothing reads
  /// that afterwards (in place, as deployments do), otherwise a copy of it in the conv's format.
  int accumulator(const residual& res, const memory::desc& want, float scale) {
    const int addend = tensor_of(res.addend_layer);
    if (res.addend_layer != net::network_input && desc_of(addend) == want && scale_of(addend) == scale &&
        last_reader(res) < res.add_index) {
      std::erase_if(reordered_, [&](const reorder_entry& e) { return e.from == addend; });  // overwritten now
      return addend;
    }
    const int copy = new_tensor(want, scale);
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
      const conv_choice choice = conv_primitive_for(c, first, &res, name);
      if (!is_reference_kernel(choice.pd)) return emit_conv(c, first, choice, name, &res);
      // Kernels for some ISAs take no eltwise before the sum (avx2: a conv with its own ReLU);
      // oneDNN's reference kernel would cost far more than a separate add, so the conv runs
      // here unfused.
      layer_tensor_[static_cast<std::size_t>(first)] = conv(c, first);
      current_layer_ = index;
    }
    return binary(l, dnnl::algorithm::binary_add, desc_of(tensor_of(l.inputs[0])).dims());
  }

  /// Squeeze-excite: features times a per-channel scale broadcast over H x W.
  int channel_scale(const net::layer& l, int index) {
    return binary(l, dnnl::algorithm::binary_mul, dims_of(net_.input_shape(index, 1)));
  }

  /// inputs[0] (op) inputs[1], where inputs[1] (of `src1_dims`) is brought to inputs[0]'s format.
  int binary(const net::layer& l, dnnl::algorithm alg, const memory::dims& src1_dims) {
    int src0 = island_input(tensor_of(l.inputs[0]), l);
    dnnl::post_ops ops;
    append_activation(ops, l.act);
    const std::string name = context(l, alg == dnnl::algorithm::binary_add ? "binary_add" : "binary_mul");
    const auto make = [&](int first, int& second) {
      const memory::desc& d = desc_of(first);
      second = tensor_as(tensor_of(l.inputs[1]), same_layout(src1_dims, d, d.data_type()), l);
      return checked(name, [&] { return binary_primitive(alg, d, desc_of(second), ops, engine_); });
    };
    int src1 = -1;
    auto pd = make(src0, src1);
    if (reference_in_low_precision(pd, desc_of(src0))) {
      src0 = to_f32(src0, l);
      pd = make(src0, src1);
    }
    const int dst = new_tensor(pd.dst_desc());
    emit({name,
          dnnl::binary(pd),
          {{DNNL_ARG_SRC_0, src0, pd.src0_desc()}, {DNNL_ARG_SRC_1, src1, pd.src1_desc()},
           {DNNL_ARG_DST, dst, pd.dst_desc()}},
          {},
          false, -1, {}});
    return dst;
  }

  int pool(const net::layer& l) {
    int src = island_input(tensor_of(l.inputs[0]), l);
    const std::string name = context(l, "pooling");
    const auto pd = single_input_op(src, l, name, [&](const memory::desc& d) { return pool_primitive(l, d, engine_); });
    const int dst = new_tensor(pd.dst_desc());
    emit({name, dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src, pd.src_desc()}, {DNNL_ARG_DST, dst, pd.dst_desc()}},
          {}, false, -1, {}});
    emit_activation(dst, l.act, l);
    return dst;
  }

  int batch_norm(const net::layer& l, int index) {
    int src = island_input(tensor_of(l.inputs[0]), l);
    const std::string name = context(l, "batch_normalization");
    const auto pd =
        single_input_op(src, l, name, [&](const memory::desc& d) { return batch_norm_primitive(l, d, engine_); });
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
          false, -1, {}});
    if (l.act != net::activation::relu) emit_activation(dst, l.act, l);
    return dst;
  }

  int concat(const net::layer& l) {
    std::vector<int> srcs;
    for (int from : l.inputs) srcs.push_back(island_input(tensor_of(from), l));
    // One element type for all inputs: theirs if they agree, fp32 otherwise.
    const memory::data_type common = desc_of(srcs[0]).data_type();
    const bool mixed = std::any_of(srcs.begin(), srcs.end(), [&](int t) { return desc_of(t).data_type() != common; });
    std::vector<memory::desc> descs;
    const auto describe_inputs = [&] {
      descs.clear();
      for (int t : srcs) descs.push_back(desc_of(t));
    };
    if (mixed) {
      for (int& t : srcs) t = to_f32(t, l);
    }
    describe_inputs();
    const std::string name = context(l, "concat");
    auto pd = checked(name, [&] { return concat_primitive(descs, engine_); });
    if (reference_in_low_precision(pd, descs[0])) {
      for (int& t : srcs) t = to_f32(t, l);
      describe_inputs();
      pd = checked(name, [&] { return concat_primitive(descs, engine_); });
    }
    const int dst = new_tensor(pd.dst_desc());
    step s{name, dnnl::concat(pd), {{DNNL_ARG_DST, dst, pd.dst_desc()}}, {}, false, -1, {}};
    for (std::size_t k = 0; k < srcs.size(); ++k) {
      s.tensors.push_back({DNNL_ARG_MULTIPLE_SRC + static_cast<int>(k), srcs[k], descs[k]});
    }
    emit(std::move(s));
    emit_activation(dst, l.act, l);
    return dst;
  }

  /// The 2-D N x K result is also the N x K x 1 x 1 NCHW tensor the IR describes (same bytes).
  int inner_product(const net::layer& l, int index) {
    const std::string name = context(l, "inner_product");
    const auto make = [&](precision prec) {
      numerics n = numerics_for(l, index, index, prec);
      const dnnl::primitive_attr attr = attr_for(n, l.act, nullptr);
      return std::pair{checked(name, [&] { return inner_product_primitive(l, attr, n.types, engine_); }), std::move(n)};
    };
    auto [pd, n] = make(options_.prec);
    if (options_.prec != precision::fp32 && is_reference_kernel(pd)) std::tie(pd, n) = make(precision::fp32);
    const int src = tensor_as(tensor_of(l.inputs[0]), pd.src_desc(), l, n.src_scale);
    const int dst = new_tensor(plain_desc(dims_of(l.out), pd.dst_desc().data_type()), n.dst_scale);
    emit({name,
          dnnl::inner_product_forward(pd),
          {{DNNL_ARG_SRC, src, pd.src_desc()}, {DNNL_ARG_DST, dst, pd.dst_desc()}},
          {{DNNL_ARG_WEIGHTS, constant_as(n.weights, plain_desc(pd.weights_desc().dims()), pd.weights_desc(), name)},
           {DNNL_ARG_BIAS, constant_as(n.bias, plain_desc({l.out.c}), pd.bias_desc(), name)}},
          false, -1, {}});
    return dst;
  }

  struct reorder_entry {
    int from;
    memory::desc desc;
    int copy;
  };

  const net::network& net_;
  const std::vector<layer_parameters>& params_;
  const lowering_options& options_;
  const dnnl::engine& engine_;
  dnnl::stream& stream_;
  std::vector<std::vector<int>> consumers_;
  std::vector<int> fused_into_;  ///< per layer: the add a conv runs with, -1 if none
  std::vector<int> layer_tensor_;
  std::vector<reorder_entry> reordered_;
  program prog_;
  int current_layer_ = -1;  ///< the layer being lowered, recorded in its steps
};

}  // namespace

program lower(const net::network& net, const std::vector<layer_parameters>& params, const lowering_options& options,
              const dnnl::engine& engine, dnnl::stream& stream) {
  if (params.size() != net.layers.size()) throw error("oneDNN lowering: parameters do not match network " + net.arch);
  if (options.prec == precision::int8 && options.layer_ranges.size() != net.layers.size()) {
    throw error("oneDNN lowering: int8 needs a calibrated range for every layer of " + net.arch);
  }
  return lowering(net, params, options, engine, stream).run();
}

}  // namespace esm::backend::onednn
