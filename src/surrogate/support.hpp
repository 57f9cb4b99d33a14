// Helpers shared by the surrogate models (private to src/surrogate/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "esm/common/random.hpp"
#include "esm/surrogate/matrix.hpp"
#include "esm/surrogate/model_state.hpp"

namespace esm::surrogate::detail {

/// An independent seed for sub-stream `stream` of `seed` (splitmix64 of the mixed pair), so the
/// parts of one fit (initialisation, split, batch order, members) never share a random stream.
[[nodiscard]] std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

using esm::shuffle;  // Fisher-Yates with esm::rng (esm/common/random.hpp)

/// 0, 1, ..., n - 1.
[[nodiscard]] std::vector<std::size_t> iota(std::size_t n);

/// Splits 0..n-1 into a shuffled holdout of round(n * fraction) rows (at least one training row
/// kept) and the rest; both ascending.
struct holdout_split {
  std::vector<std::size_t> train;
  std::vector<std::size_t> holdout;
};
[[nodiscard]] holdout_split split_holdout(std::size_t n, double fraction, std::uint64_t seed);

/// Per-column mean and population std of x; a constant column gets scale 1 so it standardises to 0.
struct column_scaling {
  std::vector<double> mean;
  std::vector<double> scale;
};
[[nodiscard]] column_scaling fit_column_scaling(matrix_view x);

/// log(y) or y (the models' target space).
[[nodiscard]] std::vector<double> to_target(std::span<const double> y_ms, bool log_target);

/// Writes "kind" and "version".
void write_header(model_state& state, std::string_view kind, std::uint64_t version);
/// Throws esm::error unless the state's "kind" is `kind` and its "version" is `version`.
void check_header(const model_state& state, std::string_view kind, std::uint64_t version);

/// One scalar option of an options struct, stored as "options/<key>" (counts and flags as doubles).
/// Each model lists its options once; save and load both walk that list, so they cannot drift apart.
template <class Options>
struct option_field {
  std::string_view key;
  std::variant<double Options::*, std::size_t Options::*, bool Options::*> member;
};

template <class Options>
void write_options(model_state& state, const Options& options, std::span<const option_field<Options>> fields) {
  for (const auto& f : fields)
    std::visit([&](auto member) { state.set_scalar("options/" + std::string(f.key), static_cast<double>(options.*member)); },
               f.member);
}

template <class Options>
void read_options(const model_state& state, Options& options, std::span<const option_field<Options>> fields) {
  for (const auto& f : fields) {
    const std::string key = "options/" + std::string(f.key);
    std::visit(
        [&](auto member) {
          using value_type = std::remove_reference_t<decltype(options.*member)>;
          if constexpr (std::is_same_v<value_type, double>) {
            options.*member = state.scalar(key);
          } else if constexpr (std::is_same_v<value_type, bool>) {
            options.*member = state.count(key) != 0;
          } else {
            options.*member = state.count(key);
          }
        },
        f.member);
  }
}

/// The rows an inner-CV search runs on: every row up to max_rows, else max_rows of them drawn
/// without replacement by a seeded shuffle (a function of n, max_rows and seed alone, so ranks
/// agree), in ascending order. Tuning cost then stops growing with the dataset: the grid's
/// ranking of hyper-parameters is settled long before 100,000 rows.
[[nodiscard]] std::vector<std::size_t> tuning_rows(std::size_t n, std::size_t max_rows, std::uint64_t seed);

/// Most rows a tuning search uses (tuning_rows); 4,000 keeps a whole grid to seconds per fold.
inline constexpr std::size_t max_tuning_rows = 4000;

/// 64-bit FNV-1a over the bytes of the rows, the targets and the serialised `options`: the key of a
/// tuning_cache entry (a search is a function of these alone, so equal keys may share it).
[[nodiscard]] std::uint64_t tuning_key(matrix_view x, std::span<const double> y, const model_state& options);

/// Non-negative integer options stored as doubles.
[[nodiscard]] std::vector<double> to_doubles(std::span<const std::size_t> v);
[[nodiscard]] std::vector<std::size_t> to_counts(std::string_view key, std::span<const double> v);

}  // namespace esm::surrogate::detail
