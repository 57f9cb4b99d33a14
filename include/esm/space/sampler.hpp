// Samplers: deterministic lists of unique architectures (ESM's uniform, balanced and weighted
// sampling). The same request gives the same list on any machine, compiler and rank count.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "esm/space/space.hpp"

namespace esm::space {

enum class sample_policy {
  uniform,   ///< every choice independently uniform (OFA's sampling; depth is not uniform)
  balanced,  ///< equal count per depth bin, uniform within the bin (ESM)
  weighted,  ///< count per depth bin proportional to a weight (ESM's closed loop)
};

[[nodiscard]] sample_policy parse_policy(std::string_view text);  ///< throws usage_error
[[nodiscard]] std::string_view to_string(sample_policy p);

struct sample_request {
  sample_constraints constraints;
  sample_policy policy = sample_policy::balanced;
  std::size_t count = 0;
  std::uint64_t seed = 0;
  std::map<int, double> bin_weights;           ///< depth -> weight (weighted policy only)
  std::unordered_set<std::uint64_t> exclude;  ///< ids that must not be returned (already measured)
};

/// Unique architectures, in a round-robin order over bins for balanced/weighted sampling so that
/// every prefix of the list is itself close to balanced. Throws usage_error when a bin (or the
/// space) holds fewer unique architectures than requested.
[[nodiscard]] std::vector<arch> sample_archs(const search_space& space, const sample_request& request);

/// The same sequence as sample_archs, handed to `sink` one architecture at a time as it is drawn:
/// memory stays at the 64-bit ids already drawn (about 40 bytes each in the hash set), not the
/// archs themselves. Every capacity check that sample_archs makes runs before the first call to
/// `sink`; only an exhausted bin found by the retry limit can still throw mid-way.
void sample_each(const search_space& space, const sample_request& request, const std::function<void(const arch&)>& sink);

/// How many architectures each depth bin gets: largest-remainder apportionment of `count` by
/// `weights` (ties to the smaller depth). Exposed for tests and for the closed loop.
[[nodiscard]] std::map<int, std::size_t> apportion(std::size_t count, const std::map<int, double>& weights);

}  // namespace esm::space
