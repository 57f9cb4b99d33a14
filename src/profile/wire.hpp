// A minimal byte encoding for broadcasting rank 0's plan and settings (same binary on every rank,
// so native byte order and sizes are fine). writer and reader share one call syntax, io(field),
// so that one `transfer(io, object)` function lists an object's fields for both directions.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "esm/common/error.hpp"

namespace esm::profile::wire {

class writer {
 public:
  template <class T>
    requires std::is_arithmetic_v<T>
  void put(T value) {
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void put(const std::string& text) {
    put<std::uint64_t>(text.size());
    bytes_ += text;
  }
  template <class T>
  void put(const std::vector<T>& values) {
    put<std::uint64_t>(values.size());
    for (const auto& v : values) put(v);
  }
  template <class T>
  void operator()(const T& value) {
    put(value);
  }
  [[nodiscard]] std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class reader {
 public:
  explicit reader(const std::string& bytes) : bytes_(bytes) {}
  template <class T>
    requires std::is_arithmetic_v<T>
  void get(T& value) {
    need(sizeof value);
    std::memcpy(&value, bytes_.data() + at_, sizeof value);
    at_ += sizeof value;
  }
  void get(std::string& text) {
    std::uint64_t n = 0;
    get(n);
    need(n);
    text.assign(bytes_, at_, n);
    at_ += n;
  }
  template <class T>
  void get(std::vector<T>& values) {
    std::uint64_t n = 0;
    get(n);
    values.resize(n);
    for (auto& v : values) get(v);
  }
  template <class T>
  void operator()(T& value) {
    get(value);
  }

 private:
  void need(std::size_t n) const {
    if (at_ + n > bytes_.size()) throw error("broadcast message truncated");
  }
  const std::string& bytes_;
  std::size_t at_ = 0;
};

}  // namespace esm::profile::wire
