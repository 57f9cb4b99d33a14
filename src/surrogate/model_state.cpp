// model_state: typed access to the flat key -> array/text/bytes map, with errors naming the key.
#include "esm/surrogate/model_state.hpp"

#include <cstring>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "esm/common/error.hpp"

namespace esm::surrogate {

namespace {

[[noreturn]] void fail(std::string_view key, std::string_view problem) {
  throw error("model state: '" + std::string(key) + "' " + std::string(problem));
}

std::uint64_t element_count(std::span<const std::uint64_t> shape) {
  return std::accumulate(shape.begin(), shape.end(), std::uint64_t{1}, std::multiplies<>());
}

template <class T>
const T& get_as(const model_state& state, std::string_view key, std::string_view type_name) {
  const auto* value = std::get_if<T>(&state.at(key).value);
  if (value == nullptr) fail(key, "is not " + std::string(type_name));
  return *value;
}

}  // namespace

void model_state::set_numbers(std::string key, std::vector<std::uint64_t> shape, std::vector<double> values) {
  if (element_count(shape) != values.size()) fail(key, "shape does not match its value count");
  entries_.insert_or_assign(std::move(key), state_entry{std::move(shape), std::move(values)});
}

void model_state::set_vector(std::string key, std::vector<double> values) {
  const std::uint64_t n = values.size();
  set_numbers(std::move(key), {n}, std::move(values));
}

void model_state::set_scalar(std::string key, double value) { set_numbers(std::move(key), {}, {value}); }

void model_state::set_text(std::string key, std::string text) {
  entries_.insert_or_assign(std::move(key), state_entry{{}, std::move(text)});
}

void model_state::set_bytes(std::string key, std::vector<std::uint8_t> bytes) {
  entries_.insert_or_assign(std::move(key), state_entry{{}, std::move(bytes)});
}

const state_entry& model_state::at(std::string_view key) const {
  const auto it = entries_.find(key);
  if (it == entries_.end()) fail(key, "is missing");
  return it->second;
}

const std::vector<double>& model_state::numbers(std::string_view key) const {
  return get_as<std::vector<double>>(*this, key, "numbers");
}

const std::vector<double>& model_state::numbers(std::string_view key, std::span<const std::uint64_t> shape) const {
  const auto& values = numbers(key);
  const auto& actual = at(key).shape;
  if (!std::equal(actual.begin(), actual.end(), shape.begin(), shape.end())) fail(key, "has an unexpected shape");
  return values;
}

double model_state::scalar(std::string_view key) const {
  const auto& values = numbers(key);
  if (!at(key).shape.empty()) fail(key, "is not a scalar");
  return values.front();
}

std::size_t model_state::count(std::string_view key) const {
  const double v = scalar(key);
  if (!(v >= 0.0) || v != std::floor(v) || v > 9007199254740992.0) fail(key, "is not a non-negative integer");
  return static_cast<std::size_t>(v);
}

const std::string& model_state::text(std::string_view key) const { return get_as<std::string>(*this, key, "text"); }

const std::vector<std::uint8_t>& model_state::bytes(std::string_view key) const {
  return get_as<std::vector<std::uint8_t>>(*this, key, "bytes");
}

const std::vector<std::uint64_t>& model_state::shape(std::string_view key) const { return at(key).shape; }

void model_state::insert_prefixed(std::string_view prefix, const model_state& child) {
  for (const auto& [key, entry] : child.entries_) entries_.insert_or_assign(std::string(prefix) + key, entry);
}

model_state model_state::extract_prefixed(std::string_view prefix) const {
  model_state out;
  for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.starts_with(prefix); ++it)
    out.entries_.emplace(it->first.substr(prefix.size()), it->second);
  return out;
}

namespace {

void put_u64(std::string& out, std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

std::uint64_t get_u64(std::string_view& in) {
  if (in.size() < sizeof(std::uint64_t)) throw error("model state bytes: truncated");
  std::uint64_t v;
  std::memcpy(&v, in.data(), sizeof v);
  in.remove_prefix(sizeof v);
  return v;
}

std::string_view get_bytes(std::string_view& in, std::uint64_t n) {
  if (in.size() < n) throw error("model state bytes: truncated");
  const std::string_view out = in.substr(0, n);
  in.remove_prefix(n);
  return out;
}

}  // namespace

std::string model_state::serialize() const {
  // Per entry: key length, key, value kind (0 numbers, 1 text, 2 bytes), shape rank, shape,
  // value length in bytes, value. Host byte order: both ends are ranks of one job.
  std::string out;
  put_u64(out, entries_.size());
  for (const auto& [key, e] : entries_) {
    put_u64(out, key.size());
    out += key;
    put_u64(out, e.value.index());
    put_u64(out, e.shape.size());
    for (auto d : e.shape) put_u64(out, d);
    std::visit(
        [&](const auto& v) {
          put_u64(out, v.size() * sizeof(v[0]));
          out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0]));
        },
        e.value);
  }
  return out;
}

model_state model_state::deserialize(std::string_view in) {
  model_state s;
  const std::uint64_t count = get_u64(in);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string key(get_bytes(in, get_u64(in)));
    state_entry e;
    const std::uint64_t kind = get_u64(in);
    e.shape.resize(get_u64(in));
    for (auto& d : e.shape) d = get_u64(in);
    const std::string_view value = get_bytes(in, get_u64(in));
    if (kind == 0) {
      if (value.size() % sizeof(double)) throw error("model state bytes: bad numbers entry '" + key + "'");
      std::vector<double> v(value.size() / sizeof(double));
      std::memcpy(v.data(), value.data(), value.size());
      e.value = std::move(v);
    } else if (kind == 1) {
      e.value = std::string(value);
    } else if (kind == 2) {
      e.value = std::vector<std::uint8_t>(value.begin(), value.end());
    } else {
      throw error("model state bytes: unknown entry kind");
    }
    s.entries_.insert_or_assign(std::move(key), std::move(e));
  }
  if (!in.empty()) throw error("model state bytes: trailing data");
  return s;
}

}  // namespace esm::surrogate
