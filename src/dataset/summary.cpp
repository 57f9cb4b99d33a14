// A dataset's summary (design: include/esm/dataset/summary.hpp).
#include "esm/dataset/summary.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <utility>

#include "esm/measure/drift_guard.hpp"
#include "esm/measure/statistics.hpp"

namespace esm::dataset {

namespace {

/// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ" (as esm writes run times), NaN otherwise.
double unix_of(const std::string& iso) {
  std::tm utc{};
  const char* end = strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  if (end == nullptr || *end != '\0') return NAN;
  return static_cast<double>(timegm(&utc));
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return measure::percentile_sorted(v, 0.5);
}

/// The union of the intervals' lengths.
double covered_seconds(std::vector<std::pair<double, double>> intervals) {
  std::sort(intervals.begin(), intervals.end());
  double busy = 0, covered_to = -INFINITY;
  for (const auto& [start, end] : intervals) {
    const double from = std::max(start, covered_to);
    if (end > from) busy += end - from;
    covered_to = std::max(covered_to, end);
  }
  return busy;
}

std::vector<rank_activity> rank_activities(const contents& c) {
  struct tally {
    rank_activity a;
    std::vector<std::pair<double, double>> intervals;
  };
  std::map<std::pair<int, int>, tally> ranks;
  for (const auto& r : c.results) {
    if (status_of(r) == row_status::pending) continue;
    auto& t = ranks[{r.run, r.rank}];
    if (t.a.rows == 0) t.a = {r.run, r.rank, 0, INFINITY, -INFINITY, 0, "", ""};
    ++t.a.rows;
    if (std::isfinite(r.start_unix_s) && std::isfinite(r.end_unix_s) && r.end_unix_s >= r.start_unix_s) {
      t.a.first_unix_s = std::min(t.a.first_unix_s, r.start_unix_s);
      t.a.last_unix_s = std::max(t.a.last_unix_s, r.end_unix_s);
      t.intervals.emplace_back(r.start_unix_s, r.end_unix_s);
    }
  }
  for (auto& [key, t] : ranks) {
    const auto run_it = std::find_if(c.runs.begin(), c.runs.end(), [&](const auto& r) { return r.index == key.first; });
    if (run_it == c.runs.end()) continue;
    const double start = unix_of(run_it->info.start_time), end = unix_of(run_it->end.end_time);
    if (std::isfinite(start)) t.a.first_unix_s = std::min(t.a.first_unix_s, start);
    if (std::isfinite(end)) t.a.last_unix_s = std::max(t.a.last_unix_s, end);
  }
  for (const auto& d : c.drift) {
    const auto it = ranks.find({d.run, d.rank});
    if (it == ranks.end() || !std::isfinite(d.time_unix_s)) continue;
    it->second.a.first_unix_s = std::min(it->second.a.first_unix_s, d.time_unix_s);
    it->second.a.last_unix_s = std::max(it->second.a.last_unix_s, d.time_unix_s);
  }
  for (const auto& r : c.ranks) {
    const auto it = ranks.find({r.run, r.rank});
    if (it == ranks.end()) continue;
    it->second.a.host = get_text(r.host);
    it->second.a.where = it->second.a.host + " " +
                         (r.device >= 0 ? "gpu " + std::to_string(r.device) + " " + get_text(r.device_name)
                                        : "cpu x" + std::to_string(r.threads) + " " + get_text(r.cpus));
  }
  std::vector<rank_activity> out;
  for (auto& [key, t] : ranks) {
    t.a.busy_s = covered_seconds(std::move(t.intervals));
    out.push_back(std::move(t.a));
  }
  return out;
}

std::vector<host_activity> host_activities(const std::vector<rank_activity>& ranks) {
  std::map<std::pair<int, std::string>, host_activity> hosts;
  for (const auto& r : ranks) {
    if (r.host.empty()) continue;
    auto& h = hosts[{r.run, r.host}];
    if (h.ranks == 0) h = {r.run, r.host, 0, 0, INFINITY, -INFINITY};
    ++h.ranks;
    h.rows += r.rows;
    h.first_unix_s = std::min(h.first_unix_s, r.first_unix_s);
    h.last_unix_s = std::max(h.last_unix_s, r.last_unix_s);
  }
  std::vector<host_activity> out;
  for (auto& [key, h] : hosts) out.push_back(std::move(h));
  return out;
}

drift_overview drift_of(const contents& c) {
  drift_overview d;
  d.checks = c.drift.size();
  double lowest = INFINITY, highest = -INFINITY;
  for (const auto& row : c.drift) {
    ++d.verdicts[row.verdict];
    if (row.verdict != static_cast<std::int32_t>(measure::drift_verdict::ok)) d.events.push_back(row);
    if (!std::isfinite(row.threshold)) continue;
    lowest = std::min(lowest, row.threshold);
    highest = std::max(highest, row.threshold);
  }
  d.has_thresholds = lowest <= highest;
  if (d.has_thresholds) {
    d.lowest_threshold = lowest;
    d.highest_threshold = highest;
  }
  return d;
}

}  // namespace

double rank_activity::archs_per_s() const { return span_s() > 0 ? static_cast<double>(rows) / span_s() : 0.0; }

double host_activity::archs_per_s() const {
  const double span = last_unix_s - first_unix_s;
  return span > 0 ? static_cast<double>(rows) / span : 0.0;
}

double rank_activity::timed_share() const { return span_s() > 0 ? busy_s / span_s() : 0.0; }

summary summarize(const contents& c) {
  summary s;
  std::vector<double> eager_over_graph;
  std::map<int, std::vector<double>> by_depth;
  for (std::size_t i = 0; i < c.results.size(); ++i) {
    const auto& r = c.results[i];
    switch (status_of(r)) {
      case row_status::done: ++s.done; break;
      case row_status::failed: ++s.failed; break;
      case row_status::pending: ++s.pending; break;
    }
    if (status_of(r) == row_status::done) {
      by_depth[c.archs[i].depth].push_back(r.trimmed_mean_ms);
      // GPU rows of schema 3: how much of an eager pass is the host enqueueing launches.
      if (std::isfinite(r.graph_ms) && r.graph_ms > 0 && std::isfinite(r.eager_ms)) eager_over_graph.push_back(r.eager_ms / r.graph_ms);
    }
    if (status_of(r) == row_status::failed) {
      s.failures.push_back({i, static_cast<error_code>(r.error_code), get_text(r.error_message)});
    }
  }
  s.eager_graph_rows = eager_over_graph.size();
  if (!eager_over_graph.empty()) s.eager_over_graph_median = median_of(std::move(eager_over_graph));
  for (auto& [depth, v] : by_depth) {
    s.depths.push_back({depth, v.size(), *std::min_element(v.begin(), v.end()), median_of(v), *std::max_element(v.begin(), v.end())});
  }
  s.ranks = rank_activities(c);
  s.hosts = host_activities(s.ranks);
  s.drift = drift_of(c);
  return s;
}

}  // namespace esm::dataset
