// A portable, seedable random generator: identical streams on every machine and compiler.
// (std::uniform_int_distribution and std::normal_distribution are implementation-defined, so
// samplers and weight initialisers use these functions instead.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace esm {

/// xoshiro256** seeded through splitmix64.
class rng {
 public:
  explicit rng(std::uint64_t seed);
  [[nodiscard]] std::uint64_t next();
  /// Uniform integer in [0, n), unbiased (rejection). n must be > 0.
  [[nodiscard]] std::uint64_t uniform_index(std::uint64_t n);
  /// Uniform double in [0, 1) with 53 random bits.
  [[nodiscard]] double uniform01();
  /// Standard normal (Box-Muller, both values used).
  [[nodiscard]] double normal();

 private:
  std::uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

/// Fisher-Yates shuffle with `r` (std::shuffle's draws are implementation-defined): the same
/// order for the same seed on every machine.
void shuffle(std::span<std::size_t> v, rng& r);

/// 64-bit FNV-1a of the bytes: the architecture id algorithm (docs/spaces.md).
[[nodiscard]] std::uint64_t fnv1a64(const void* data, std::size_t size);

}  // namespace esm
