// Strict parsing for canonical architecture texts.
#include "space/text.hpp"

#include <algorithm>

#include "esm/common/error.hpp"

namespace esm::space::text {

// Sized up front: predicting from texts parses every one of them (esm.Predictor, esm predict), and
// growing these small vectors one push_back at a time was most of the parse time.
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  parts.reserve(static_cast<std::size_t>(std::count(s.begin(), s.end(), sep)) + 1);
  std::size_t start = 0;
  while (true) {
    const auto pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return parts;
    start = pos + 1;
  }
}

int parse_int(std::string_view token, std::string_view what) {
  const bool digits = !token.empty() && token.size() <= 6 &&
                      std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || (token.size() > 1 && token[0] == '0')) {
    throw usage_error("bad " + std::string(what) + " '" + std::string(token) + "': expected a number");
  }
  int v = 0;
  for (char c : token) v = v * 10 + (c - '0');
  return v;
}

std::string_view field(std::string_view token, std::string_view key) {
  if (token.size() <= key.size() || token.substr(0, key.size()) != key || token[key.size()] != '=') {
    throw usage_error("expected field '" + std::string(key) + "=...' but found '" + std::string(token) + "'");
  }
  return token.substr(key.size() + 1);
}

std::vector<std::vector<int>> parse_groups(std::string_view value, std::string_view what) {
  const auto parts = split(value, '-');
  std::vector<std::vector<int>> groups;
  groups.reserve(parts.size());
  for (auto g : parts) {
    const auto tokens = split(g, ',');
    std::vector<int> values;
    values.reserve(tokens.size());
    for (auto v : tokens) values.push_back(parse_int(v, what));
    groups.push_back(std::move(values));
  }
  return groups;
}

std::string format_groups(const std::vector<std::vector<int>>& groups) {
  std::string out;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (i) out += '-';
    for (std::size_t j = 0; j < groups[i].size(); ++j) {
      if (j) out += ',';
      out += std::to_string(groups[i][j]);
    }
  }
  return out;
}

int index_of(const std::vector<int>& choices, int value, std::string_view what) {
  const auto it = std::find(choices.begin(), choices.end(), value);
  if (it == choices.end()) {
    std::string set;
    for (int c : choices) set += (set.empty() ? "" : ",") + std::to_string(c);
    throw usage_error(std::string(what) + " " + std::to_string(value) + " is not one of {" + set + "}");
  }
  return static_cast<int>(it - choices.begin());
}

int parse_resolution(std::string_view token) {
  if (token.empty() || token[0] != 'r') {
    throw usage_error("expected resolution 'rNNN' but found '" + std::string(token) + "'");
  }
  const int r = parse_int(token.substr(1), "resolution");
  if (r < 128 || r > 224 || r % 4 != 0) {
    throw usage_error("resolution " + std::to_string(r) + " is out of range (128..224 step 4)");
  }
  return r;
}

}  // namespace esm::space::text
