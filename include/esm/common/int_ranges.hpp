// Integer lists as range texts ("0-3,8,10-11"): the Linux CPU-list format (cpuset(7)), used for
// CPU sets (cluster/binding) and for runs of depth bins (train/domain).
#pragma once

#include <string>
#include <vector>

namespace esm {

/// "0-3,8,10-11" from a list of integers (sorted and deduplicated first; "" for none).
[[nodiscard]] std::string int_ranges_text(std::vector<int> values);
/// The integers of such a text (inverse of int_ranges_text). Throws esm::error for a malformed one.
[[nodiscard]] std::vector<int> parse_int_ranges(const std::string& text);

}  // namespace esm
