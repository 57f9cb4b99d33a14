// oneDNN primitive descriptors for each op kind of the network IR, with esm's conventions
// (padding excluded from averages, asymmetric pooling padding, activations as post-ops).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <string>
#include <vector>

#include "esm/net/network.hpp"

namespace esm::backend::onednn {

[[nodiscard]] dnnl::memory::dims dims_of(const net::shape4& s);
using data_type = dnnl::memory::data_type;

/// Format left to the primitive (format_tag::any).
[[nodiscard]] dnnl::memory::desc any_desc(const dnnl::memory::dims& dims, data_type type = data_type::f32);
/// Row-major layout for the rank: x, nc, nchw, goihw.
[[nodiscard]] dnnl::memory::desc plain_desc(const dnnl::memory::dims& dims, data_type type = data_type::f32);
/// `dims` in the format of `like` (nchw, nhwc or a channel-blocked nChw*c) with element `type`;
/// plain if `like` is none of those.
[[nodiscard]] dnnl::memory::desc same_layout(const dnnl::memory::dims& dims, const dnnl::memory::desc& like,
                                             data_type type);
/// `like` itself with elements of `type` (same dims and layout).
[[nodiscard]] dnnl::memory::desc retyped(const dnnl::memory::desc& like, data_type type);

/// The implementation oneDNN chose for a primitive, e.g. "brgconv:avx512_core_bf16".
[[nodiscard]] std::string implementation_of(const dnnl::primitive& p);

/// Element types of a convolution or inner product; the bias is always f32.
struct compute_types {
  data_type src = data_type::f32, weights = data_type::f32, dst = data_type::f32;
};

/// Whether oneDNN fell back to its (slow, loop-based) reference implementation.
[[nodiscard]] bool is_reference_kernel(const dnnl::primitive_desc_base& pd);
/// A reference kernel or a plain C++ one for any ISA (oneDNN names them "<impl>:any"): no JIT code.
[[nodiscard]] bool is_generic_kernel(const dnnl::primitive_desc_base& pd);

/// Appends the activation as eltwise post-ops (hsigmoid is linear x/6 + 1/2, then clip to [0, 1]).
void append_activation(dnnl::post_ops& ops, net::activation act);
[[nodiscard]] dnnl::primitive_attr attr_with(const dnnl::post_ops& ops);
/// Standalone in-place eltwise primitives for ops without post-op support (pooling, concat, BN).
[[nodiscard]] std::vector<dnnl::eltwise_forward::primitive_desc> activation_primitives(
    net::activation act, const dnnl::memory::desc& data, const dnnl::engine& engine);

/// The user-side (OIHW / GOIHW) descriptor of a conv layer's weights, as make_parameters lays them out.
[[nodiscard]] dnnl::memory::desc conv_weights_desc(const net::layer& l);
/// Convolution with every format left to oneDNN and bias always present (BN folded).
[[nodiscard]] dnnl::convolution_forward::primitive_desc conv_primitive(const net::layer& l,
                                                                       const dnnl::primitive_attr& attr,
                                                                       const compute_types& types,
                                                                       const dnnl::engine& engine);
/// max_pool, avg_pool and global_avg_pool, reading `src` in its own format.
[[nodiscard]] dnnl::pooling_forward::primitive_desc pool_primitive(const net::layer& l, const dnnl::memory::desc& src,
                                                                   const dnnl::engine& engine);
/// Inference BN with global statistics mean 0, variance 1, epsilon 0 so that scale and shift
/// are exactly the folded ones; ReLU fused when the layer's activation is relu.
[[nodiscard]] dnnl::batch_normalization_forward::primitive_desc batch_norm_primitive(const net::layer& l,
                                                                                     const dnnl::memory::desc& src,
                                                                                     const dnnl::engine& engine);
[[nodiscard]] dnnl::binary::primitive_desc binary_primitive(dnnl::algorithm alg, const dnnl::memory::desc& src0,
                                                            const dnnl::memory::desc& src1, const dnnl::post_ops& ops,
                                                            const dnnl::engine& engine);
[[nodiscard]] dnnl::concat::primitive_desc concat_primitive(const std::vector<dnnl::memory::desc>& srcs,
                                                            const dnnl::engine& engine);
/// Inner product over C x H x W with the 2-D (N x K, nc) destination.
[[nodiscard]] dnnl::inner_product_forward::primitive_desc inner_product_primitive(const net::layer& l,
                                                                                  const dnnl::primitive_attr& attr,
                                                                                  const compute_types& types,
                                                                                  const dnnl::engine& engine);

}  // namespace esm::backend::onednn
