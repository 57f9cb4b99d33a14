// IR consistency checks and the JSON export.
#include "esm/net/network.hpp"

#include <sstream>

#include "esm/common/error.hpp"

namespace esm::net {

std::string_view to_string(op_kind kind) {
  switch (kind) {
    case op_kind::conv: return "conv";
    case op_kind::batch_norm: return "batch_norm";
    case op_kind::max_pool: return "max_pool";
    case op_kind::avg_pool: return "avg_pool";
    case op_kind::global_avg_pool: return "global_avg_pool";
    case op_kind::fully_connected: return "fully_connected";
    case op_kind::channel_scale: return "channel_scale";
    case op_kind::add: return "add";
    case op_kind::concat: return "concat";
  }
  return "?";
}

std::string_view to_string(activation act) {
  switch (act) {
    case activation::none: return "none";
    case activation::relu: return "relu";
    case activation::relu6: return "relu6";
    case activation::hswish: return "hswish";
    case activation::hsigmoid: return "hsigmoid";
    case activation::sigmoid: return "sigmoid";
  }
  return "?";
}

std::int64_t network::total_macs() const {
  std::int64_t sum = 0;
  for (const auto& l : layers) sum += l.macs;
  return sum;
}

std::int64_t network::total_params() const {
  std::int64_t sum = 0;
  for (const auto& l : layers) sum += l.params;
  return sum;
}

const shape4& network::input_shape(int index, int k) const {
  const int producer = layers.at(static_cast<std::size_t>(index)).inputs.at(static_cast<std::size_t>(k));
  return producer == network_input ? input : layers.at(static_cast<std::size_t>(producer)).out;
}

namespace {

[[noreturn]] void broken(const layer& l, int index, const std::string& what) {
  throw error("network IR: layer " + std::to_string(index) + " (" + l.name + "): " + what);
}

std::int64_t window_out(std::int64_t in, const layer& l) {
  return (in + l.pad_begin + l.pad_end - l.kernel) / l.stride + 1;
}

}  // namespace

void validate(const network& net) {
  if (net.layers.empty()) throw error("network IR: no layers");
  for (int i = 0; i < static_cast<int>(net.layers.size()); ++i) {
    const layer& l = net.layers[static_cast<std::size_t>(i)];
    if (l.inputs.empty()) broken(l, i, "no inputs");
    for (int p : l.inputs) {
      if (p < network_input || p >= i) broken(l, i, "input " + std::to_string(p) + " is not an earlier layer");
    }
    const shape4& in = net.input_shape(i);
    if (!(in == l.in)) broken(l, i, "recorded input shape differs from the producer's");
    if (l.out.n != in.n) broken(l, i, "batch size changes");
    switch (l.kind) {
      case op_kind::conv:
        if (l.stride < 1 || l.kernel < 1 || l.groups < 1 || in.c % l.groups || l.out.c % l.groups) {
          broken(l, i, "bad conv geometry");
        }
        if (l.out.h != window_out(in.h, l) || l.out.w != window_out(in.w, l)) broken(l, i, "conv output size");
        break;
      case op_kind::max_pool:
      case op_kind::avg_pool:
        if (l.out.c != in.c || l.out.h != window_out(in.h, l) || l.out.w != window_out(in.w, l)) {
          broken(l, i, "pool output size");
        }
        if (l.pad_begin >= l.kernel || l.pad_end >= l.kernel) broken(l, i, "pool padding not below the window");
        break;
      case op_kind::global_avg_pool:
        if (l.out.c != in.c || l.out.h != 1 || l.out.w != 1) broken(l, i, "global pool output");
        break;
      case op_kind::fully_connected:
        if (l.out.h != 1 || l.out.w != 1) broken(l, i, "fc output must be 1x1");
        break;
      case op_kind::batch_norm:
        if (!(l.out == in)) broken(l, i, "batch_norm changes the shape");
        break;
      case op_kind::channel_scale: {
        if (l.inputs.size() != 2) broken(l, i, "channel_scale needs two inputs");
        const shape4& s = net.input_shape(i, 1);
        if (s.c != in.c || s.h != 1 || s.w != 1 || s.n != in.n || !(l.out == in)) {
          broken(l, i, "channel_scale shapes");
        }
        break;
      }
      case op_kind::add:
        if (l.inputs.size() != 2 || !(net.input_shape(i, 1) == in) || !(l.out == in)) broken(l, i, "add shapes");
        break;
      case op_kind::concat: {
        std::int64_t c = 0;
        for (std::size_t k = 0; k < l.inputs.size(); ++k) {
          const shape4& s = net.input_shape(i, static_cast<int>(k));
          if (s.h != in.h || s.w != in.w || s.n != in.n) broken(l, i, "concat spatial shapes differ");
          c += s.c;
        }
        if (l.out.c != c || l.out.h != in.h || l.out.w != in.w) broken(l, i, "concat output");
        break;
      }
    }
  }
  for (const auto& b : net.blocks) {
    if (b.first_layer > b.last_layer || b.last_layer >= static_cast<int>(net.layers.size())) {
      throw error("network IR: block " + b.signature + " has an empty or out-of-range layer range");
    }
  }
}

namespace {

void json_string(std::ostream& os, std::string_view s) {
  os << '"';
  for (char ch : s) {
    if (ch == '"' || ch == '\\') os << '\\';
    os << ch;
  }
  os << '"';
}

void json_shape(std::ostream& os, const shape4& s) {
  os << '[' << s.n << ',' << s.c << ',' << s.h << ',' << s.w << ']';
}

}  // namespace

std::string to_json(const network& net) {
  std::ostringstream os;
  os << "{\n  \"arch\": ";
  json_string(os, net.arch);
  os << ",\n  \"layout\": \"NCHW\",\n  \"input\": ";
  json_shape(os, net.input);
  os << ",\n  \"total_macs\": " << net.total_macs() << ",\n  \"total_params\": " << net.total_params();
  os << ",\n  \"layers\": [";
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const layer& l = net.layers[i];
    os << (i ? ",\n" : "\n") << "    {\"index\": " << i << ", \"name\": ";
    json_string(os, l.name);
    os << ", \"op\": \"" << to_string(l.kind) << "\", \"inputs\": [";
    for (std::size_t k = 0; k < l.inputs.size(); ++k) os << (k ? "," : "") << l.inputs[k];
    os << "], \"in\": ";
    json_shape(os, l.in);
    os << ", \"out\": ";
    json_shape(os, l.out);
    os << ", \"kernel\": " << l.kernel << ", \"stride\": " << l.stride << ", \"pad_begin\": " << l.pad_begin
       << ", \"pad_end\": " << l.pad_end << ", \"groups\": " << l.groups
       << ", \"bias\": " << (l.bias ? "true" : "false") << ", \"batch_norm\": " << (l.batch_norm ? "true" : "false")
       << ", \"activation\": \"" << to_string(l.act) << "\", \"block\": " << l.block << ", \"macs\": " << l.macs
       << ", \"params\": " << l.params << '}';
  }
  os << "\n  ],\n  \"blocks\": [";
  for (std::size_t i = 0; i < net.blocks.size(); ++i) {
    const block& b = net.blocks[i];
    os << (i ? ",\n" : "\n") << "    {\"index\": " << i << ", \"kind\": ";
    json_string(os, b.kind);
    os << ", \"searchable\": " << (b.searchable ? "true" : "false") << ", \"stage\": " << b.stage
       << ", \"position\": " << b.position << ", \"layers\": [" << b.first_layer << ',' << b.last_layer
       << "], \"signature\": ";
    json_string(os, b.signature);
    os << '}';
  }
  os << "\n  ]\n}\n";
  return os.str();
}

}  // namespace esm::net
