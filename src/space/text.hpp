// Canonical-text helpers shared by the spaces: strict splitting and number parsing that name
// the offending token in their errors.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace esm::space::text {

[[nodiscard]] std::vector<std::string_view> split(std::string_view s, char sep);

/// Strict decimal integer (no sign, no spaces, no leading zeros); throws usage_error naming
/// `what` and the token.
[[nodiscard]] int parse_int(std::string_view token, std::string_view what);

/// "key=value" -> value; throws usage_error when the key differs.
[[nodiscard]] std::string_view field(std::string_view token, std::string_view key);

/// "3,5-3,5,7" -> {{3,5},{3,5,7}}: stages separated by '-', blocks by ','.
[[nodiscard]] std::vector<std::vector<int>> parse_groups(std::string_view value, std::string_view what);
[[nodiscard]] std::string format_groups(const std::vector<std::vector<int>>& groups);

/// Index of `value` in `choices`; throws usage_error "<what> <value> is not one of {..}".
[[nodiscard]] int index_of(const std::vector<int>& choices, int value, std::string_view what);

/// "r192" -> 192 checked against 128..224 step 4.
[[nodiscard]] int parse_resolution(std::string_view token);

}  // namespace esm::space::text
