// Strict parsing for canonical architecture texts.
#include "space/text.hpp"

#include <algorithm>
#include <stdexcept>

#include "esm/common/error.hpp"

namespace esm::space::text {

pieces split(std::string_view s, char sep) {
  pieces out;
  std::size_t start = 0;
  while (true) {
    const auto pos = s.find(sep, start);
    if (out.count_ < pieces::capacity) {
      out.at_[out.count_] = s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start);
    }
    ++out.count_;
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

void pieces::not_kept() { throw std::out_of_range("esm::space::text::pieces: piece not kept"); }

void int_groups::not_kept() { throw std::out_of_range("esm::space::text::int_groups: group or value not kept"); }

void throw_bad_number(std::string_view token, std::string_view what) {
  throw usage_error("bad " + std::string(what) + " '" + std::string(token) + "': expected a number");
}

std::string_view field(std::string_view token, std::string_view key) {
  if (token.size() <= key.size() || token.substr(0, key.size()) != key || token[key.size()] != '=') {
    throw usage_error("expected field '" + std::string(key) + "=...' but found '" + std::string(token) + "'");
  }
  return token.substr(key.size() + 1);
}

int_groups parse_groups(std::string_view value, std::string_view what) {
  int_groups out;
  std::size_t group_size = 0;
  out.begin_[0] = 0;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = start;  // a plain scan: find_first_of calls memchr once per character
    while (pos < value.size() && value[pos] != ',' && value[pos] != '-') ++pos;
    if (pos == value.size()) pos = std::string_view::npos;
    const int v = parse_int(value.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start), what);
    if (out.groups_ < int_groups::max_groups && out.values_kept_ < int_groups::max_values) {
      out.values_[out.values_kept_++] = v;
    }
    ++group_size;
    if (pos == std::string_view::npos || value[pos] == '-') {
      if (out.groups_ < int_groups::max_groups) out.size_[out.groups_] = static_cast<std::uint32_t>(group_size);
      ++out.groups_;
      if (out.groups_ < int_groups::max_groups) out.begin_[out.groups_] = static_cast<std::uint32_t>(out.values_kept_);
      group_size = 0;
    }
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
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

void throw_not_one_of(const std::vector<int>& choices, int value, std::string_view what) {
  std::string set;
  for (int c : choices) set += (set.empty() ? "" : ",") + std::to_string(c);
  throw usage_error(std::string(what) + " " + std::to_string(value) + " is not one of {" + set + "}");
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
