// Architecture files: esm texts or OFA configs as JSON lines (nlohmann/json stays in this file).
#include "esm/space/arch_file.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "esm/common/error.hpp"

namespace esm::space {

namespace {

using json = nlohmann::json;

int integer(const json& v, const std::string& what) {
  if (v.is_number_integer()) {
    const auto i = v.get<long long>();
    if (i >= -1000000 && i <= 1000000) return static_cast<int>(i);
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::round(d) && std::abs(d) <= 1e6) return static_cast<int>(d);
  }
  throw usage_error(what + " = " + v.dump() + " is not an integer");
}

double number(const json& v, const std::string& what) {
  if (!v.is_number()) throw usage_error(what + " = " + v.dump() + " is not a number");
  return v.get<double>();
}

template <class T, class F>
std::vector<T> list(const json& v, const std::string& key, F element) {
  if (!v.is_array()) throw usage_error("'" + key + "' is not a list");
  std::vector<T> out;
  for (std::size_t i = 0; i < v.size(); ++i) out.push_back(element(v[i], key + "[" + std::to_string(i) + "]"));
  return out;
}

std::string number_text(double v) {
  if (v == std::round(v) && std::abs(v) < 1e9) return std::to_string(static_cast<long long>(v));
  return json(v).dump();
}

std::string chomp(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

std::string_view to_string(arch_file_format f) {
  return f == arch_file_format::ofa_config ? "once-for-all arch configs (JSON lines)" : "esm architecture texts";
}

ofa_config parse_ofa_json(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string why = e.what();
    // drop nlohmann's id: "[json.exception.parse_error.101] parse error at line 1, ..."
    if (const auto at = why.find("] "); why.rfind("[json.exception.", 0) == 0 && at != std::string::npos) why = why.substr(at + 2);
    // one JSON text per line: the column is what locates the problem
    if (const auto at = why.find("at line 1, column "); at != std::string::npos) why.erase(at + 3, 8);
    throw usage_error("malformed JSON: " + why);
  }
  if (!j.is_object()) throw usage_error("expected a JSON object of once-for-all arch config keys");
  ofa_config c;
  bool has_r = false;
  for (const auto& [key, value] : j.items()) {
    if (key == "ks") {
      c.ks = list<int>(value, key, integer);
    } else if (key == "d") {
      c.d = list<int>(value, key, integer);
    } else if (key == "w") {
      c.w = list<int>(value, key, integer);
    } else if (key == "e") {
      c.e = list<double>(value, key, number);
    } else if (key == "r" || key == "image_size") {
      if (has_r) throw usage_error("both 'r' and 'image_size' given (one resolution)");
      has_r = true;
      if (value.is_array() && value.size() != 1) throw usage_error("'" + key + "' lists " + std::to_string(value.size()) + " values, expected one");
      c.r = integer(value.is_array() ? value[0] : value, key);
    } else {
      throw usage_error("unknown key '" + key + "' (once-for-all arch configs have ks, e, d, w, r)");
    }
  }
  return c;
}

std::string ofa_json(const search_space& space, const ofa_config& c) {
  std::string out = "{";
  const auto add_list = [&](std::string_view key, const auto& values) {
    out += (out.size() > 1 ? ", \"" : "\"") + std::string(key) + "\": [";
    for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + number_text(static_cast<double>(values[i]));
    out += "]";
  };
  for (const auto key : ofa_keys(space)) {
    if (key == "ks" && c.ks) add_list(key, *c.ks);
    if (key == "e" && c.e) add_list(key, *c.e);
    if (key == "d" && c.d) add_list(key, *c.d);
    if (key == "w" && c.w) add_list(key, *c.w);
    if (key == "r" && c.r) out += (out.size() > 1 ? ", \"r\": " : "\"r\": ") + std::to_string(*c.r);
  }
  return out + "}";
}

arch_file read_arch_file(const std::string& path, const search_space& space, std::string_view variant) {
  std::ifstream in(path);
  if (!in) throw file_error("cannot read '" + path + "'");
  arch_file out;
  std::unordered_map<std::uint64_t, std::size_t> line_of;
  std::string line;
  std::size_t number = 0;
  bool empty_seen = false;
  while (std::getline(in, line)) {
    ++number;
    line = chomp(std::move(line));
    const auto where = path + ":" + std::to_string(number) + ": ";
    if (line.empty()) {
      empty_seen = true;
      continue;
    }
    if (empty_seen) throw usage_error(where + "line " + std::to_string(number - 1) + " is empty (one architecture per line)");
    if (number == 1) out.format = line.front() == '{' ? arch_file_format::ofa_config : arch_file_format::esm_text;
    try {
      arch a;
      if (out.format == arch_file_format::ofa_config) {
        if (line.front() != '{') throw usage_error("expected a JSON object like the first line's, not an esm text");
        a = from_ofa(space, parse_ofa_json(line), variant);
      } else {
        if (line.front() == '{') throw usage_error("a JSON object in a file of esm texts (the first line is a text)");
        a = parse_any(line);
        if (a.space != space.name()) {
          throw usage_error("an architecture of '" + a.space + "', not of '" + std::string(space.name()) + "'");
        }
        if (!variant.empty() && space.variant_of(a) != variant) {
          throw usage_error("width " + std::string(space.variant_of(a)) + ", not " + std::string(variant));
        }
      }
      const auto [it, fresh] = line_of.emplace(arch_id(space.format(a)), number);
      if (!fresh) throw usage_error("the same architecture as line " + std::to_string(it->second));
      out.archs.push_back(std::move(a));
    } catch (const file_error&) {
      throw;
    } catch (const usage_error& e) {
      throw usage_error(where + e.what());
    }
  }
  if (in.bad()) throw file_error("reading '" + path + "' failed");
  if (out.archs.empty()) throw file_error("'" + path + "' holds no architectures");
  return out;
}

}  // namespace esm::space
