// ESM's closed loop, the pure part: given the per-depth-bin accuracy of the current surrogate,
// stop or say where to measure next. No MPI, no files: unit-tested with made-up numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace esm::loop {

enum class strategy {
  weighted,     ///< ESM: next batch depth-weighted towards the bins below the threshold
  random,       ///< baseline: next batch sampled uniformly (OFA's sampler)
  uncertainty,  ///< next batch = the candidates the ensemble is least sure about
};
[[nodiscard]] strategy parse_strategy(std::string_view text);  ///< throws usage_error
[[nodiscard]] std::string_view to_string(strategy s);

struct settings {
  double threshold = 0.95;        ///< per-bin share within ±10% that every bin must reach
  std::size_t initial = 110;      ///< first (depth-balanced) sample
  std::size_t batch = 55;         ///< archs added per iteration
  std::size_t budget = 1100;      ///< most archs measured in total
  std::size_t max_iterations = 20;
  std::size_t min_per_bin = 5;    ///< bins with fewer rows never count as meeting the threshold
  std::size_t candidate_pool = 2000;  ///< uncertainty: candidates scored per iteration
  /// Dataset sizes after each batch (loop.sizes; strictly increasing, the first above `initial`):
  /// batch k grows the dataset to sizes[k]. Empty: every batch adds `batch` archs.
  std::vector<std::size_t> sizes;
  strategy how = strategy::weighted;
  void validate() const;  ///< throws usage_error naming the field
};

struct bin_accuracy {
  int bin = 0;
  std::size_t n = 0;
  double within_10 = 0;  ///< share in [0, 1]
};

struct decision {
  bool stop = false;
  std::string reason;               ///< "all bins >= 95.0%", "budget", "iterations", or what is next
  std::size_t next_count = 0;       ///< archs to add
  std::map<int, double> weights;    ///< weighted strategy: depth bin -> weight (bins below threshold)
};

/// `bins` lists every depth bin of the space (bins without rows count as failing).
[[nodiscard]] decision decide(const std::vector<int>& bins, const std::vector<bin_accuracy>& accuracy,
                              std::size_t samples, std::size_t iteration, const settings& s);

/// Pool mode (esm loop with loop.pool): which `count` of the candidates, whose depth bins are
/// `candidate_bins`, to take next. Empty `bin_weights`: uniformly at random. Otherwise each bin's
/// share by largest remainder of its weight (space::apportion), uniform within the bin; a bin
/// with fewer candidates than its share gives them all and the rest is apportioned again over the
/// bins left; when the weighted bins run dry, the rest is uniform over every candidate left.
/// Returns distinct indices into candidate_bins (min(count, candidates) of them), the same for the
/// same seed on every machine.
[[nodiscard]] std::vector<std::size_t> draw_from_pool(const std::vector<int>& candidate_bins, std::size_t count,
                                                      const std::map<int, double>& bin_weights, std::uint64_t seed);

/// Indices of the `count` largest values of `spread` (ties: lower index first).
[[nodiscard]] std::vector<std::size_t> most_uncertain(const std::vector<double>& spread, std::size_t count);

}  // namespace esm::loop
