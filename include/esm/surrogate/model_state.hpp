// A fitted surrogate as plain data: a flat, sorted map from '/'-separated keys to arrays of
// doubles with a shape, text, or opaque bytes. Models save every member they need to predict
// (hyper-parameters included) and load from the same map; the model-file writer stores one
// dataset per key without knowing any model (keys map onto HDF5 groups: "member/002/layer/0/weight").
//
// Counts and flags are stored as doubles (exact below 2^53); each model writes "kind" (text) and
// "version" (its state layout version) so that a reader can dispatch and refuse layouts it does
// not know.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace esm::surrogate {

/// One stored member.
struct state_entry {
  /// numbers: the array's dimensions, row-major (empty = scalar); unused for text and bytes.
  std::vector<std::uint64_t> shape;
  /// numbers, UTF-8 text, or opaque bytes (e.g. an XGBoost UBJSON model).
  std::variant<std::vector<double>, std::string, std::vector<std::uint8_t>> value;

  bool operator==(const state_entry&) const = default;
};

class model_state {
 public:
  using map_type = std::map<std::string, state_entry, std::less<>>;

  /// Throws esm::error when the product of `shape` differs from values.size().
  void set_numbers(std::string key, std::vector<std::uint64_t> shape, std::vector<double> values);
  /// A 1-D array of values.size() elements.
  void set_vector(std::string key, std::vector<double> values);
  void set_scalar(std::string key, double value);
  void set_text(std::string key, std::string text);
  void set_bytes(std::string key, std::vector<std::uint8_t> bytes);

  // Getters throw esm::error naming the key when it is missing or holds another type or shape.
  [[nodiscard]] double scalar(std::string_view key) const;
  /// A scalar that must be a non-negative integer (a count, an index, a flag).
  [[nodiscard]] std::size_t count(std::string_view key) const;
  [[nodiscard]] const std::vector<double>& numbers(std::string_view key) const;
  /// Numbers whose shape must equal `shape`.
  [[nodiscard]] const std::vector<double>& numbers(std::string_view key, std::span<const std::uint64_t> shape) const;
  [[nodiscard]] const std::string& text(std::string_view key) const;
  [[nodiscard]] const std::vector<std::uint8_t>& bytes(std::string_view key) const;
  [[nodiscard]] const std::vector<std::uint64_t>& shape(std::string_view key) const;

  [[nodiscard]] bool contains(std::string_view key) const { return entries_.find(key) != entries_.end(); }
  [[nodiscard]] const state_entry& at(std::string_view key) const;
  [[nodiscard]] const map_type& entries() const { return entries_; }
  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] bool empty() const { return entries_.empty(); }

  /// Adds every entry of `child` as prefix + key (prefix normally ends in '/'); replaces clashes.
  void insert_prefixed(std::string_view prefix, const model_state& child);
  /// The entries whose key starts with `prefix`, with the prefix stripped.
  [[nodiscard]] model_state extract_prefixed(std::string_view prefix) const;

  /// A self-contained byte string of every entry (to ship states between MPI ranks); the
  /// inverse throws esm::error on malformed input. Not a file format: files use HDF5.
  [[nodiscard]] std::string serialize() const;
  [[nodiscard]] static model_state deserialize(std::string_view bytes);

  bool operator==(const model_state&) const = default;

 private:
  map_type entries_;
};

}  // namespace esm::surrogate
