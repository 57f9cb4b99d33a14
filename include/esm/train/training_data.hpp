// From a latency dataset to training rows: which rows are usable, their labels and depth bins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "esm/dataset/dataset.hpp"
#include "esm/space/space.hpp"

namespace esm::train {

enum class label_kind {
  trimmed_mean,  ///< ESM's label: the trimmed mean latency in ms of the timed launch mode
  normalised,    ///< trimmed mean / the reference network's latency timed beside it
  graph,         ///< GPU: the trimmed mean of CUDA graph replays in ms (schema 3 graph_ms)
  eager,         ///< GPU: the trimmed mean with per-layer launches in ms (schema 3 eager_ms)
  /// Interleaved datasets: normalised, with each arch placed within its group by comparing its
  /// burst minima with its group mates' round by round (interleaved_labels).
  interleaved,
};
/// "trimmed" | "normalised" | "graph" | "eager" | "interleaved"; "auto" is resolved by default_label.
[[nodiscard]] label_kind parse_label(std::string_view text);
[[nodiscard]] std::string_view to_string(label_kind k);
/// The label `esm train` uses unless told: graph when any done row has a graph-replay latency (a
/// GPU dataset of schema 3), else trimmed_mean (docs/measurement.md: why graph on GPU).
[[nodiscard]] label_kind default_label(const dataset::contents& c);
/// `text`, or default_label(c) for "auto".
[[nodiscard]] label_kind resolve_label(std::string_view text, const dataset::contents& c);
/// A row's value of label `k` (NaN when the row lacks it). Not for `interleaved`, which needs the
/// row's group: use label_values.
[[nodiscard]] double label_value(const dataset::result_row& r, label_kind k);
/// True for labels relative to the reference network timed beside the row (normalised,
/// interleaved): they cancel machine drift and predict in units of the reference's latency.
[[nodiscard]] bool reference_relative(label_kind k);
[[nodiscard]] bool reference_relative(std::string_view label);  ///< by to_string name
/// True when the label is computed from the raw samples: read the dataset with_samples.
[[nodiscard]] bool needs_samples(label_kind k);

/// The measuring group a /results row belongs to: the rows one rank of one run timed together
/// share their run, rank and reference reading (compared bit for bit). Used by the interleaved
/// label and by the group-effect correction (train/group_effects.hpp).
using measuring_group_key = std::tuple<int, int, std::uint64_t>;
[[nodiscard]] measuring_group_key group_key(const dataset::result_row& r);

/// The interleaved label of every /results row (NaN where the row is not done or has no positive
/// normalised label). A group is the done rows one rank of one run timed together: the same run,
/// rank and reference latency (the group's reference bursts give all of them that one number).
/// Within a group of at least two rows with the same n >= 2 bursts of finite positive samples, each
/// row's samples are cut into its bursts (burst k of every arch ran in round k, seconds apart), and
///   rel_i = trimmed mean over rounds k of [log min(burst ik) - mean_j log min(burst jk)],
///   label_i = exp(mean_j log normalised_j + rel_i - mean_j rel_j).
/// The group keeps its level against the reference; within it, drift slower than one round cancels
/// burst by burst, and the burst minimum drops the upward spikes of a shared machine. Rows of any
/// other group (alone after a re-measure, a partial last group, adaptive n) keep their normalised
/// label. Throws usage_error for a dataset not profiled in interleaved mode, and esm::error when
/// `c` was read without its samples.
[[nodiscard]] std::vector<double> interleaved_labels(const dataset::contents& c);
/// Label `k` of every /results row: label_value per row, or interleaved_labels.
[[nodiscard]] std::vector<double> label_values(const dataset::contents& c, label_kind k);

/// Rows left out of training, by reason (each row counts once, in this order of precedence).
struct exclusions {
  std::size_t pending = 0;           ///< never measured
  std::size_t failed = 0;            ///< the backend or the policy failed on it
  std::size_t drift_unresolved = 0;  ///< measured in a window whose drift the guard gave up on
                                     ///< (millisecond labels only: normalised labels cancel the drift)
  std::size_t invalid_label = 0;     ///< NaN, infinite or non-positive label
  [[nodiscard]] std::size_t total() const { return pending + failed + drift_unresolved + invalid_label; }
};

struct training_data {
  std::string space;
  std::string precision;  ///< the dataset's backend.precision: with the backend, the device measured
  std::vector<space::arch> archs;
  std::vector<double> y;                 ///< labels (ms, or dimensionless when normalised)
  std::vector<int> bins;                 ///< depth bin of each row
  std::vector<std::size_t> dataset_rows; ///< /archs row of each training row
  std::vector<std::uint64_t> ids;        ///< arch id of each training row (space::arch_id of its text)
  label_kind label = label_kind::trimmed_mean;
  double reference_ms = 0;  ///< median reference latency of the used rows (NaN if none recorded)
  exclusions excluded;
  std::string dataset_hash;  ///< 16 hex digits over ids, statuses and labels of every row
  std::int64_t dataset_schema_version = 0;  ///< the dataset file's
};

/// Throws usage_error when no row is usable ("dataset has no done rows ...").
[[nodiscard]] training_data load_training_data(const dataset::contents& c, label_kind label);

}  // namespace esm::train
