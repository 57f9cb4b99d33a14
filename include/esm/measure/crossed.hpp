// The crossed design (measure.mode = crossed): every arch of a window is measured twice, half its
// repetitions each time, in two interleaved groups with different mates, so the groups' own level
// errors can be told apart from the archs' latencies and removed.
//
// Why: on the quiet 440-arch interleaved runs (docs/lab/2026-12-06-group-error.md) the archs of one group share
// a level error against the reference of 2.3% (run 1) and 1.3% (run 2) standard deviation,
// independent between runs (correlation 0.12) and unrelated to the reference's own reading: most of
// a label's noise. One group per arch cannot separate it from the archs' latencies; two crossed
// groups per arch can, without any model: log ratio = arch + group + noise, least squares.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "esm/measure/policy.hpp"
#include "esm/measure/runner.hpp"

namespace esm::measure {

/// Which group each arch of a window joins in each of the two passes. Groups 0..groups-1 are the
/// first pass's (consecutive blocks of near-equal size), groups..2*groups-1 the second's (arch i
/// joins `groups + i mod groups`): every block spreads as evenly as it can over the second pass's
/// groups, so with groups >= 2 every group is linked to every other through shared archs, and in a
/// full window (arch_count = group_size^2) no two archs share both their groups.
struct crossed_design {
  int groups = 0;              ///< per pass: ceil(n / group_size)
  std::vector<int> first;      ///< by arch: its first-pass group
  std::vector<int> second;     ///< by arch: its second-pass group
};

/// The design for `arch_count` archs and groups of at most `group_size`. Throws esm::error for
/// arch_count == 0 or group_size < 1.
[[nodiscard]] crossed_design cross_groups(std::size_t arch_count, int group_size);

/// Least-squares fit of y_first[i] = a_i + u[first[i]] + e and y_second[i] = a_i + u[second[i]] + e
/// with the group effects u summing to zero over the 2n observations (so mean(a) = mean(y): the
/// window keeps its level against the reference). Returns a (by arch). Alternating means to a
/// tolerance of 1e-12, at most 10,000 sweeps; with one group per pass (groups == 1) a is the mean
/// of the two observations. Sizes must match the design (esm::error otherwise).
[[nodiscard]] std::vector<double> solve_crossed(const std::vector<double>& y_first, const std::vector<double>& y_second,
                                                const crossed_design& d);

/// Measures archs 0..n-1 of a window in the crossed design: pass one times the first-pass groups
/// one after another (measure_interleaved, ceil(p.reps / 2) repetitions), pass two the second-pass
/// groups (the rest), every arch's workload built afresh for each pass by `make_arch(i)`. A
/// result's samples are both passes' in order, its stats of all of them, its reference_ms the
/// geometric mean of its two groups' references, and its normalised label exp(a_i) from
/// solve_crossed on the passes' log(trimmed mean / reference). With fewer than two groups per pass
/// (n <= p.interleave_group) the window is one interleaved group of all p.reps: nothing to cross.
/// `reference` must already be warmed up.
[[nodiscard]] std::vector<measurement> measure_crossed(std::size_t n, const std::function<workload(std::size_t)>& make_arch,
                                                       const workload& reference, const measure_policy& p);

}  // namespace esm::measure
