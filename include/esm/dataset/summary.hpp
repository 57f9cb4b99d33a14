// What a latency dataset holds, summarised for `esm info` (and anything else that reports on a
// dataset): row counts by status, launch-mode ratio, per-rank throughput and timed share, latency
// by depth bin, drift checks and failures. Computation only; cli/cmd_info.cpp prints it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "esm/dataset/dataset.hpp"

namespace esm::dataset {

/// One rank of one run: rows finished over the span from its first recorded event (the run's
/// start, a row's start or a drift check) to its last (the run's end when recorded). busy_s is the
/// union of the rows' measurement intervals (interleaved archs of one group overlap in time).
struct rank_activity {
  int run = 0;
  int rank = 0;
  std::size_t rows = 0;
  double first_unix_s = 0;
  double last_unix_s = 0;
  double busy_s = 0;
  std::string where;  ///< host and device or CPU set, from /ranks ("" when not recorded)
  std::string host;   ///< from /ranks ("" when not recorded)

  [[nodiscard]] double span_s() const { return last_unix_s - first_unix_s; }
  [[nodiscard]] double archs_per_s() const;  ///< 0 for an empty span
  [[nodiscard]] double timed_share() const;  ///< busy_s / span_s, 0 for an empty span
};

/// The ranks of one run on one host together: rows finished over the span from the earliest of
/// their first events to the latest of their last (so a host's rate is its ranks' sum when they
/// ran side by side).
struct host_activity {
  int run = 0;
  std::string host;
  int ranks = 0;
  std::size_t rows = 0;
  double first_unix_s = 0;
  double last_unix_s = 0;

  [[nodiscard]] double archs_per_s() const;  ///< 0 for an empty span
};

/// Trimmed-mean latency of the done rows of one depth bin.
struct depth_latency {
  int depth = 0;
  std::size_t n = 0;
  double min_ms = 0;
  double median_ms = 0;
  double max_ms = 0;
};

struct drift_overview {
  std::size_t checks = 0;
  std::map<std::int32_t, std::size_t> verdicts;  ///< measure::drift_verdict value -> checks
  double lowest_threshold = 0;                   ///< of the recorded thresholds (valid when has_thresholds)
  double highest_threshold = 0;
  bool has_thresholds = false;
  std::vector<drift_row> events;  ///< every check whose verdict is not ok, in order
};

struct failed_arch {
  std::size_t row = 0;
  error_code code = error_code::none;
  std::string message;
};

struct summary {
  std::size_t done = 0, failed = 0, pending = 0;
  std::size_t eager_graph_rows = 0;     ///< done GPU rows with both launch modes
  double eager_over_graph_median = 0;   ///< of those rows (valid when eager_graph_rows > 0)
  std::vector<rank_activity> ranks;     ///< by (run, rank)
  std::vector<host_activity> hosts;     ///< by (run, host); ranks with no host recorded left out
  std::vector<depth_latency> depths;    ///< by depth
  drift_overview drift;
  std::vector<failed_arch> failures;    ///< in row order
};

[[nodiscard]] summary summarize(const contents& c);

}  // namespace esm::dataset
