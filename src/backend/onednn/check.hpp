// The one place where oneDNN's exceptions become esm errors naming the layer and primitive.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <source_location>
#include <string>
#include <string_view>
#include <utility>

#include "esm/common/error.hpp"

namespace esm::backend::onednn {

/// A oneDNN call failed; the message carries esm's context and oneDNN's status and text.
class onednn_error : public error {
 public:
  using error::error;
};

[[nodiscard]] std::string_view status_name(dnnl_status_t status);

[[noreturn]] void throw_onednn_error(std::string_view context, const dnnl::error& e, std::source_location where);

/// Runs `call` (oneDNN C++ API calls, which throw dnnl::error) and rethrows a failure as
/// onednn_error "oneDNN <context>: <status> (<message>) at file:line". `context` names the layer
/// and primitive, e.g. "layer stage1.block1.expand (convolution)".
template <class Call>
decltype(auto) checked(std::string_view context, Call&& call,
                       std::source_location where = std::source_location::current()) {
  try {
    return std::forward<Call>(call)();
  } catch (const dnnl::error& e) {
    throw_onednn_error(context, e, where);
  }
}

}  // namespace esm::backend::onednn
