// Primitive descriptors per op kind; format choices are oneDNN's wherever the op allows.
#include "backend/onednn/primitives.hpp"

#include <array>
#include <string_view>

namespace esm::backend::onednn {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

struct eltwise_op {
  algorithm alg;
  float alpha, beta;
};

std::vector<eltwise_op> eltwise_ops(net::activation act) {
  switch (act) {
    case net::activation::none: return {};
    case net::activation::relu: return {{algorithm::eltwise_relu, 0.f, 0.f}};
    case net::activation::relu6: return {{algorithm::eltwise_clip, 0.f, 6.f}};
    case net::activation::hswish: return {{algorithm::eltwise_hardswish, 0.f, 0.f}};
    case net::activation::hsigmoid:
      return {{algorithm::eltwise_linear, 1.f / 6.f, 0.5f}, {algorithm::eltwise_clip, 0.f, 1.f}};
    case net::activation::sigmoid: return {{algorithm::eltwise_logistic, 0.f, 0.f}};
  }
  return {};
}

memory::dims square(std::int64_t v) { return {v, v}; }

}  // namespace

memory::dims dims_of(const net::shape4& s) { return {s.n, s.c, s.h, s.w}; }

memory::desc any_desc(const memory::dims& dims, data_type type) { return {dims, type, memory::format_tag::any}; }

memory::desc plain_desc(const memory::dims& dims, data_type type) {
  static constexpr std::array tags{memory::format_tag::a, memory::format_tag::ab, memory::format_tag::abc,
                                   memory::format_tag::abcd, memory::format_tag::abcde};
  return {dims, type, tags.at(dims.size() - 1)};
}

memory::desc same_layout(const memory::dims& dims, const memory::desc& like, data_type type) {
  for (auto tag : {memory::format_tag::nchw, memory::format_tag::nhwc, memory::format_tag::nChw16c,
                   memory::format_tag::nChw8c, memory::format_tag::nChw4c}) {
    if (memory::desc(like.dims(), like.data_type(), tag) == like) return {dims, type, tag};
  }
  return plain_desc(dims, type);
}

memory::desc retyped(const memory::desc& like, data_type type) {
  if (like.data_type() == type) return like;
  dnnl_memory_desc_t d = like.data;
  d.data_type = static_cast<dnnl_data_type_t>(type);
  // Padded blocked layouts keep their strides; only the element size changes with the type, and
  // oneDNN's strides count elements, not bytes, so the descriptor stays valid.
  return memory::desc(d);
}

std::string implementation_of(const dnnl::primitive& p) {
  const char* info = nullptr;
  if (dnnl_primitive_desc_query(p.get_primitive_desc(), dnnl_query_impl_info_str, 0, &info) != dnnl_success) {
    return "unknown";
  }
  return info != nullptr ? info : "unknown";
}

bool is_reference_kernel(const dnnl::primitive_desc_base& pd) {
  return std::string_view(pd.impl_info_str()).starts_with("ref");
}

bool is_generic_kernel(const dnnl::primitive_desc_base& pd) {
  return is_reference_kernel(pd) || std::string_view(pd.impl_info_str()).ends_with(":any");
}

void append_activation(dnnl::post_ops& ops, net::activation act) {
  for (const eltwise_op& e : eltwise_ops(act)) ops.append_eltwise(1.f, e.alg, e.alpha, e.beta);
}

dnnl::primitive_attr attr_with(const dnnl::post_ops& ops) {
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  return attr;
}

std::vector<dnnl::eltwise_forward::primitive_desc> activation_primitives(net::activation act,
                                                                         const memory::desc& data,
                                                                         const dnnl::engine& engine) {
  std::vector<dnnl::eltwise_forward::primitive_desc> pds;
  for (const eltwise_op& e : eltwise_ops(act)) {
    pds.emplace_back(dnnl::eltwise_forward::desc(prop_kind::forward_inference, e.alg, data, e.alpha, e.beta), engine);
  }
  return pds;
}

memory::desc conv_weights_desc(const net::layer& l) {
  const std::int64_t g = l.groups, k = l.kernel;
  if (g == 1) return plain_desc({l.out.c, l.in.c, k, k});
  return plain_desc({g, l.out.c / g, l.in.c / g, k, k});
}

dnnl::convolution_forward::primitive_desc conv_primitive(const net::layer& l, const dnnl::primitive_attr& attr,
                                                         const compute_types& types, const dnnl::engine& engine) {
  const memory::desc weights = any_desc(conv_weights_desc(l).dims(), types.weights);
  const dnnl::convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_direct,
                                             any_desc(dims_of(l.in), types.src), weights, any_desc({l.out.c}),
                                             any_desc(dims_of(l.out), types.dst), square(l.stride),
                                             square(l.pad_begin), square(l.pad_end));
  return {desc, attr, engine};
}

dnnl::pooling_forward::primitive_desc pool_primitive(const net::layer& l, const memory::desc& src,
                                                     const dnnl::engine& engine) {
  const memory::desc dst = any_desc(dims_of(l.out), src.data_type());
  if (l.kind == net::op_kind::global_avg_pool) {
    const dnnl::pooling_forward::desc desc(prop_kind::forward_inference, algorithm::pooling_avg_exclude_padding, src,
                                           dst, {1, 1}, {l.in.h, l.in.w}, {0, 0}, {0, 0});
    return {desc, engine};
  }
  const algorithm alg =
      l.kind == net::op_kind::max_pool ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding;
  const dnnl::pooling_forward::desc desc(prop_kind::forward_inference, alg, src, dst, square(l.stride),
                                         square(l.kernel), square(l.pad_begin), square(l.pad_end));
  return {desc, engine};
}

dnnl::batch_normalization_forward::primitive_desc batch_norm_primitive(const net::layer& l, const memory::desc& src,
                                                                       const dnnl::engine& engine) {
  auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
               dnnl::normalization_flags::use_shift;
  if (l.act == net::activation::relu) flags = flags | dnnl::normalization_flags::fuse_norm_relu;
  return {dnnl::batch_normalization_forward::desc(prop_kind::forward_inference, src, 0.f, flags), engine};
}

dnnl::binary::primitive_desc binary_primitive(algorithm alg, const memory::desc& src0, const memory::desc& src1,
                                              const dnnl::post_ops& ops, const dnnl::engine& engine) {
  return {dnnl::binary::desc(alg, src0, src1, src0), attr_with(ops), engine};
}

dnnl::concat::primitive_desc concat_primitive(const std::vector<memory::desc>& srcs, const dnnl::engine& engine) {
  return {1, srcs, engine};
}

dnnl::inner_product_forward::primitive_desc inner_product_primitive(const net::layer& l,
                                                                    const dnnl::primitive_attr& attr,
                                                                    const compute_types& types,
                                                                    const dnnl::engine& engine) {
  const dnnl::inner_product_forward::desc desc(prop_kind::forward_inference, any_desc(dims_of(l.in), types.src),
                                               any_desc({l.out.c, l.in.c, l.in.h, l.in.w}, types.weights),
                                               any_desc({l.out.c}), plain_desc({l.out.n, l.out.c}, types.dst));
  return {desc, attr, engine};
}

}  // namespace esm::backend::onednn
