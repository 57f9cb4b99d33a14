// Backend names, option parsing and the factory.
#include "backend/factories.hpp"
#include "esm/common/error.hpp"

namespace esm::backend {

std::string_view to_string(precision p) {
  switch (p) {
    case precision::fp32: return "fp32";
    case precision::fp16: return "fp16";
    case precision::bf16: return "bf16";
    case precision::int8: return "int8";
  }
  return "unknown";
}

precision parse_precision(std::string_view text) {
  for (const precision p : {precision::fp32, precision::fp16, precision::bf16, precision::int8}) {
    if (text == to_string(p)) return p;
  }
  throw usage_error("unknown precision '" + std::string(text) + "' (fp32, fp16, bf16, int8)");
}

std::string_view to_string(algo_selection a) { return a == algo_selection::find ? "find" : "heuristic"; }

algo_selection parse_algo_selection(std::string_view text) {
  if (text == "find") return algo_selection::find;
  if (text == "heuristic") return algo_selection::heuristic;
  throw usage_error("unknown algorithm selection '" + std::string(text) + "' (find, heuristic)");
}

std::string_view to_string(tensor_layout l) { return l == tensor_layout::nhwc ? "nhwc" : "nchw"; }

tensor_layout parse_tensor_layout(std::string_view text) {
  if (text == "nchw") return tensor_layout::nchw;
  if (text == "nhwc") return tensor_layout::nhwc;
  throw usage_error("unknown tensor layout '" + std::string(text) + "' (nchw, nhwc)");
}

std::string_view to_string(launch_mode m) { return m == launch_mode::graph ? "graph" : "eager"; }

std::vector<std::string> available_backends() {
  std::vector<std::string> names;
#ifdef ESM_HAVE_ONEDNN
  names.emplace_back("cpu");
#endif
#ifdef ESM_HAVE_CUDNN
  names.emplace_back("cudnn");
#endif
  names.emplace_back("reference");
  names.emplace_back("synthetic");
  return names;
}

std::unique_ptr<backend> make_backend(std::string_view name) {
#ifdef ESM_HAVE_ONEDNN
  if (name == "cpu") return make_onednn_backend();
#endif
#ifdef ESM_HAVE_CUDNN
  if (name == "cudnn") return make_cudnn_backend();
#endif
  if (name == "reference") return make_reference_backend();
  if (name == "synthetic") return make_synthetic_backend();
  if (name == "cpu" || name == "cudnn") {
    throw usage_error("backend '" + std::string(name) + "' is not compiled into this esm build");
  }
  std::string known;
  for (const auto& n : available_backends()) known += (known.empty() ? "" : ", ") + n;
  throw usage_error("unknown backend '" + std::string(name) + "' (available: " + known + ")");
}

}  // namespace esm::backend
