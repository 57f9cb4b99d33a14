// From a latency dataset to training rows: which rows are usable, their labels and depth bins.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "esm/dataset/dataset.hpp"
#include "esm/space/space.hpp"

namespace esm::train {

enum class label_kind {
  trimmed_mean,  ///< ESM's label: the trimmed mean latency in ms
  normalised,    ///< trimmed mean / the reference network's latency timed beside it
};
[[nodiscard]] label_kind parse_label(std::string_view text);  ///< "trimmed" | "normalised"
[[nodiscard]] std::string_view to_string(label_kind k);

/// Rows left out of training, by reason (each row counts once, in this order of precedence).
struct exclusions {
  std::size_t pending = 0;           ///< never measured
  std::size_t failed = 0;            ///< the backend or the policy failed on it
  std::size_t drift_unresolved = 0;  ///< measured in a window whose drift the guard gave up on
                                     ///< (trimmed-mean label only: normalised labels cancel the drift)
  std::size_t invalid_label = 0;     ///< NaN, infinite or non-positive label
  [[nodiscard]] std::size_t total() const { return pending + failed + drift_unresolved + invalid_label; }
};

struct training_data {
  std::string space;
  std::vector<space::arch> archs;
  std::vector<double> y;                 ///< labels (ms, or dimensionless when normalised)
  std::vector<int> bins;                 ///< depth bin of each row
  std::vector<std::size_t> dataset_rows; ///< /archs row of each training row
  label_kind label = label_kind::trimmed_mean;
  double reference_ms = 0;  ///< median reference latency of the used rows (NaN if none recorded)
  exclusions excluded;
  std::string dataset_hash;  ///< 16 hex digits over ids, statuses and labels of every row
  std::int64_t dataset_schema_version = 0;  ///< the dataset file's
};

/// Throws usage_error when no row is usable ("dataset has no done rows ...").
[[nodiscard]] training_data load_training_data(const dataset::contents& c, label_kind label);

}  // namespace esm::train
