// Channel arithmetic shared by the OFA-style spaces.
#pragma once

#include <cmath>

namespace esm::space {

/// OFA's make_divisible(v, 8): round to the nearest multiple of 8 (at least 8), and never more
/// than 10% below v.
[[nodiscard]] inline int make_divisible(double v, int divisor = 8) {
  int out = static_cast<int>(v + divisor / 2.0) / divisor * divisor;
  if (out < divisor) out = divisor;
  if (out < 0.9 * v) out += divisor;
  return out;
}

/// Python's round() for the values the spaces produce (never exactly .5; see docs/spaces.md).
[[nodiscard]] inline int py_round(double v) { return static_cast<int>(std::lround(v)); }

}  // namespace esm::space
