// oneDNN status names and the onednn_error message format.
#include "backend/onednn/check.hpp"

namespace esm::backend::onednn {

std::string_view status_name(dnnl_status_t status) {
  switch (status) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out_of_memory";
    case dnnl_invalid_arguments: return "invalid_arguments";
    case dnnl_unimplemented: return "unimplemented";
    case dnnl_iterator_ends: return "iterator_ends";
    case dnnl_runtime_error: return "runtime_error";
    case dnnl_not_required: return "not_required";
  }
  return "unknown status";
}

void throw_onednn_error(std::string_view context, const dnnl::error& e, std::source_location where) {
  throw onednn_error("oneDNN " + std::string(context) + ": " + std::string(status_name(e.status)) + " (" + e.what() +
                     ") at " + where.file_name() + ":" + std::to_string(where.line()));
}

}  // namespace esm::backend::onednn
