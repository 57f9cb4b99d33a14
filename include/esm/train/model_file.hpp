// The model file (HDF5, schema "esm-model" v2; docs/model-file.md): encoding, label, every
// ensemble member's state, the cross-validation table and the source dataset's identity.
// Written serially by rank 0, atomically (temporary file + rename).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "esm/surrogate/metrics.hpp"
#include "esm/surrogate/model_state.hpp"
#include "esm/train/domain.hpp"
#include "esm/train/intervals.hpp"

namespace esm::train {

/// 2: training domain and conformal interval table (docs/model-file.md); version 1 files still read.
inline constexpr std::int64_t model_schema_version = 2;

struct model_info {
  std::string space;
  std::string encoding;  ///< encoding_spec::text(), e.g. "fcc"
  std::vector<std::string> feature_names;
  std::string label;           ///< "trimmed_mean" | "normalised" | "interleaved" | "graph" | "eager"
  double reference_ms = 0;     ///< training data's median reference latency (normalised labels)
  std::string dataset_path;
  std::int64_t dataset_schema_version = 0;
  std::string dataset_hash;
  std::int64_t rows_used = 0;
  std::int64_t rows_excluded = 0;
  std::int64_t folds = 0, members = 0;
  /// How the CV folds were made: "groups" (whole measuring groups per fold) or "rows" (stratified
  /// by depth bin). Optional attribute cv_folds_by: "rows" when absent (files written before it).
  std::string folds_by = "rows";
  std::uint64_t seed = 0;
  std::vector<std::string> kinds;
  /// How training labels were corrected before the final fit: "none", or "group_effects ..." with
  /// the estimate (train/group_effects.hpp). Optional attribute: "none" when absent.
  std::string label_correction = "none";
  /// esm adapt's models (optional attributes; empty / 0 for esm train's): the source model files
  /// (absolute paths and SHA-256), the target rows fitted on and the adapter's choice in words.
  std::vector<std::string> adapted_from, adapted_from_sha256;
  std::int64_t adapt_rows = 0;
  std::string adapt_fit;
  /// The training dataset's backend.precision ("fp32", "bf16", ...; "unknown" for imported
  /// latencies): part of the device the model predicts for. Optional attribute precision: ""
  /// when absent (files written before it).
  std::string precision;
  training_domain domain;     ///< known = false when read from a v1 file
  interval_table intervals;  ///< of the blended final model; known = false when read from a v1 file
  std::string esm_version;  ///< filled by the writer
  std::string created;      ///< filled by the writer (ISO 8601 UTC)
};

/// One row of the CV table: a model (kind or "ensemble") overall (bin = -1) or in one depth bin.
struct cv_row {
  std::string model;
  int bin = -1;
  surrogate::regression_metrics metrics;
  double train_seconds = 0;  ///< overall rows only
  /// Held-out (cross-conformal) coverage of the 90% interval, in [0, 1]; NaN when not computed.
  double coverage_90 = std::numeric_limits<double>::quiet_NaN();
};

struct model_file {
  model_info info;
  surrogate::model_state state;
  std::vector<cv_row> cv;
};

void write_model_file(const std::string& path, model_file m);
/// True when `path` is an HDF5 file with the model format attribute (esm info tells models from
/// datasets by it); false for anything else, never throws.
[[nodiscard]] bool is_model_file(const std::string& path);
/// Throws usage_error for a missing file, a non-model file or a newer schema.
[[nodiscard]] model_file read_model_file(const std::string& path);

/// The CV table as CSV (header + one line per row), for analysis/; the last column, folds_by, is
/// the same on every row (model_info::folds_by).
[[nodiscard]] std::string cv_csv(const std::vector<cv_row>& rows, std::string_view folds_by);

}  // namespace esm::train
