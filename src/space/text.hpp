// Canonical-text helpers shared by the spaces: strict splitting and number parsing that name
// the offending token in their errors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace esm::space::text {

// Parsing allocates nothing on valid input: predicting from texts parses every one of them
// (esm predict, esm.Predictor), and small heap vectors per field were most of its time.

/// The pieces of a text between separators, as views into it. The first `capacity` are kept;
/// size() counts all of them, so a caller's "expected 6 fields" check still sees 9.
class pieces {
 public:
  static constexpr std::size_t capacity = 8;
  [[nodiscard]] std::size_t size() const { return count_; }
  /// Throws std::out_of_range past the kept pieces (callers check size() first).
  [[nodiscard]] std::string_view operator[](std::size_t i) const {
    if (i >= count_ || i >= capacity) not_kept();
    return at_[i];
  }

 private:
  friend pieces split(std::string_view s, char sep);
  [[noreturn]] static void not_kept();
  std::array<std::string_view, capacity> at_{};
  std::size_t count_ = 0;
};

[[nodiscard]] pieces split(std::string_view s, char sep);

/// Groups of integers, "3,5-3,5,7" -> {{3,5},{3,5,7}}, in fixed storage. Every token is
/// validated; the first max_groups groups and max_values values are kept, while sizes stay
/// true, so a malformed text fails its caller's size checks before any unkept value is read.
class int_groups {
 public:
  static constexpr std::size_t max_groups = 16, max_values = 128;
  class group {
   public:
    [[nodiscard]] std::size_t size() const { return size_; }
    /// Throws std::out_of_range for a value that was not kept.
    [[nodiscard]] int operator[](std::size_t i) const {
      if (i >= kept_) not_kept();
      return values_[i];
    }

   private:
    friend class int_groups;
    const int* values_ = nullptr;
    std::size_t size_ = 0, kept_ = 0;
  };
  [[nodiscard]] std::size_t size() const { return groups_; }
  [[nodiscard]] group operator[](std::size_t g) const {
    const std::size_t kept = groups_ < max_groups ? groups_ : max_groups;
    if (g >= kept) not_kept();
    group out;
    out.values_ = values_.data() + begin_[g];
    out.size_ = size_[g];
    out.kept_ = (g + 1 < kept ? begin_[g + 1] : values_kept_) - begin_[g];
    return out;
  }

 private:
  friend int_groups parse_groups(std::string_view value, std::string_view what);
  [[noreturn]] static void not_kept();
  std::array<int, max_values> values_;
  std::array<std::uint32_t, max_groups> begin_, size_;
  std::size_t groups_ = 0, values_kept_ = 0;
};

[[noreturn]] void throw_bad_number(std::string_view token, std::string_view what);
[[noreturn]] void throw_not_one_of(const std::vector<int>& choices, int value, std::string_view what);

/// Strict decimal integer (no sign, no spaces, no leading zeros, at most 6 digits); throws
/// usage_error naming `what` and the token.
[[nodiscard]] inline int parse_int(std::string_view token, std::string_view what) {
  if (token.empty() || token.size() > 6 || (token.size() > 1 && token[0] == '0')) throw_bad_number(token, what);
  int v = 0;
  for (char c : token) {
    if (c < '0' || c > '9') throw_bad_number(token, what);
    v = v * 10 + (c - '0');
  }
  return v;
}

/// "key=value" -> value; throws usage_error when the key differs.
[[nodiscard]] std::string_view field(std::string_view token, std::string_view key);

/// "3,5-3,5,7" -> {{3,5},{3,5,7}}: stages separated by '-', blocks by ','; parse_int's errors.
[[nodiscard]] int_groups parse_groups(std::string_view value, std::string_view what);
[[nodiscard]] std::string format_groups(const std::vector<std::vector<int>>& groups);

/// Index of `value` in `choices`; throws usage_error "<what> <value> is not one of {..}".
[[nodiscard]] inline int index_of(const std::vector<int>& choices, int value, std::string_view what) {
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == value) return static_cast<int>(i);
  }
  throw_not_one_of(choices, value, what);
}

/// Throws like index_of unless `value` is one of `choices`. No early exit: parsing random archs,
/// an exit branch per choice mispredicts about once per gene.
inline void require_one_of(const std::vector<int>& choices, int value, std::string_view what) {
  bool found = false;
  for (int c : choices) found |= c == value;
  if (!found) throw_not_one_of(choices, value, what);
}

/// "r192" -> 192 checked against 128..224 step 4.
[[nodiscard]] int parse_resolution(std::string_view token);

}  // namespace esm::space::text
