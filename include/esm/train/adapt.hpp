// Few-shot transfer to a new device (issue 29): which archs to measure there (`esm select`) and a
// model for it from those few rows and the models of other devices (`esm adapt`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "esm/space/space.hpp"
#include "esm/surrogate/adapted.hpp"
#include "esm/surrogate/matrix.hpp"
#include "esm/train/model_file.hpp"

namespace esm::train {

/// esm adapt refuses fewer target rows than this.
inline constexpr std::size_t min_adapt_rows = 5;

/// A source model file, read and checked.
struct source_model {
  std::string path;
  std::string sha256;
  model_file file;
};

/// Reads every model file; throws usage_error when there is none, or when one differs from the
/// first in space, encoding or feature definition (its predictions would not share inputs).
[[nodiscard]] std::vector<source_model> load_sources(const std::vector<std::string>& paths);

/// The sources as models ready to predict (rows encoded with their common encoding).
[[nodiscard]] std::vector<std::unique_ptr<surrogate::regressor>> source_regressors(const std::vector<source_model>& s);

/// Compact features of each arch: log MACs, log params, layers, resolution, depth and the depth
/// of every stage; what esm select spreads over and the from-scratch baseline fits on. Pure.
[[nodiscard]] surrogate::matrix compact_features(const space::search_space& sp, const std::vector<space::arch>& archs);

/// K rows spread over an embedding (one row per pool arch): K strata of equal counts along its first
/// principal component, and in each the farthest from the picks so far of 3 random members.
/// Deterministic for a seed; throws
/// usage_error when the pool holds fewer than k rows. Pure.
[[nodiscard]] std::vector<std::size_t> spread_picks(surrogate::matrix_view embedding, std::size_t k, std::uint64_t seed);

/// esm select's embedding: every source's standardised log prediction (weight 1 in all, shared)
/// and the standardised compact features (weight 1/2 in all). Pure.
[[nodiscard]] surrogate::matrix selection_embedding(surrogate::matrix_view source_log_predictions,
                                                    surrogate::matrix_view compact);

struct adapt_request {
  std::vector<std::string> sources;  ///< model files
  std::string dataset_path;          ///< the target device's few measured rows
  std::string label = "auto";
  bool allow_synthetic = false;  ///< as esm train's --allow-synthetic
};

struct adapt_outcome {
  model_file model;       ///< ready to write: info (adapted_from, adapt_rows), state, LOO CV rows
  surrogate::log_adapter adapter;
  double loo_coverage_90 = 0;  ///< share of the K rows inside their leave-one-out 90% interval
};

/// Reads the sources and the target dataset, fits the adapted model and its intervals. Throws
/// usage_error for sources of another space or encoding, a target of another space, fewer than
/// min_adapt_rows usable rows.
[[nodiscard]] adapt_outcome adapt(const adapt_request& req);

}  // namespace esm::train
