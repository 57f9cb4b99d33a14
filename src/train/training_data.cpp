// Row selection, labels and the dataset's content hash.
#include "esm/train/training_data.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <tuple>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/measure/statistics.hpp"

namespace esm::train {

label_kind parse_label(std::string_view text) {
  if (text == "trimmed" || text == "trimmed_mean") return label_kind::trimmed_mean;
  if (text == "normalised" || text == "normalized") return label_kind::normalised;
  if (text == "graph" || text == "graph_ms") return label_kind::graph;
  if (text == "eager" || text == "eager_ms") return label_kind::eager;
  if (text == "interleaved") return label_kind::interleaved;
  throw usage_error("unknown label '" + std::string(text) + "' (auto, trimmed, normalised, graph, eager, interleaved)");
}

std::string_view to_string(label_kind k) {
  switch (k) {
    case label_kind::trimmed_mean: return "trimmed_mean";
    case label_kind::normalised: return "normalised";
    case label_kind::graph: return "graph";
    case label_kind::eager: return "eager";
    case label_kind::interleaved: return "interleaved";
  }
  return "unknown";
}

label_kind default_label(const dataset::contents& c) {
  for (const auto& r : c.results) {
    if (status_of(r) == dataset::row_status::done && std::isfinite(r.graph_ms)) {
      return label_kind::graph;
    }
  }
  return label_kind::trimmed_mean;
}

label_kind resolve_label(std::string_view text, const dataset::contents& c) {
  return text == "auto" ? default_label(c) : parse_label(text);
}

double label_value(const dataset::result_row& r, label_kind k) {
  switch (k) {
    case label_kind::trimmed_mean: return r.trimmed_mean_ms;
    case label_kind::normalised: return r.normalised;
    case label_kind::graph: return r.graph_ms;
    case label_kind::eager: return r.eager_ms;
    case label_kind::interleaved: break;  // needs the row's group: interleaved_labels
  }
  return std::nan("");
}

bool reference_relative(label_kind k) { return k == label_kind::normalised || k == label_kind::interleaved; }
bool reference_relative(std::string_view label) { return label == "normalised" || label == "interleaved"; }
bool needs_samples(label_kind k) { return k == label_kind::interleaved; }

namespace {

/// Burst length of an interleaved dataset from its measure_policy text ("... mode=interleaved,burst=10,
/// group=8,..."), or 0 when it was profiled in another mode.
int interleaved_burst_reps(const std::string& policy) {
  if (policy.find("mode=interleaved") == std::string::npos) return 0;
  const auto at = policy.find("burst=");
  return at == std::string::npos ? 0 : std::atoi(policy.c_str() + at + 6);
}

bool usable_normalised(const dataset::result_row& r) {
  return status_of(r) == dataset::row_status::done && std::isfinite(r.normalised) &&
         r.normalised > 0;
}

/// log(min) of each burst of each row of one group, rows x rounds; empty when the group does not
/// qualify (fewer than two rows, different n, fewer than two bursts, a non-finite sample).
std::vector<std::vector<double>> burst_log_minima(const dataset::contents& c, const std::vector<std::size_t>& rows,
                                                  int burst) {
  const auto width = static_cast<std::size_t>(c.prov.max_samples);
  const int n = c.results[rows.front()].n;
  if (rows.size() < 2 || n < 2 * burst || static_cast<std::size_t>(n) > width) return {};
  const int rounds = (n + burst - 1) / burst;
  std::vector<std::vector<double>> out;
  for (const auto i : rows) {
    if (c.results[i].n != n) return {};
    const float* s = c.samples.data() + i * width;
    std::vector<double> minima(static_cast<std::size_t>(rounds));
    for (int k = 0; k < rounds; ++k) {
      const float* first = s + static_cast<std::ptrdiff_t>(k) * burst;
      const float* last = s + std::min(n, (k + 1) * burst);
      const float m = *std::min_element(first, last);
      if (!std::isfinite(m) || m <= 0 || std::any_of(first, last, [](float v) { return !std::isfinite(v); })) return {};
      minima[static_cast<std::size_t>(k)] = std::log(static_cast<double>(m));
    }
    out.push_back(std::move(minima));
  }
  return out;
}

}  // namespace

measuring_group_key group_key(const dataset::result_row& r) {
  return {r.run, r.rank, std::bit_cast<std::uint64_t>(r.reference_ms)};
}

std::vector<double> interleaved_labels(const dataset::contents& c) {
  const int burst = interleaved_burst_reps(c.prov.measure_policy);
  if (burst <= 0) {
    throw usage_error("label interleaved needs a dataset profiled with measure.mode = interleaved (this one: '" +
                      c.prov.measure_policy + "')");
  }
  if (c.samples.size() != c.results.size() * static_cast<std::size_t>(c.prov.max_samples)) {
    throw error("label interleaved: the dataset was read without its samples");
  }
  std::vector<double> out(c.results.size(), std::nan(""));
  std::map<measuring_group_key, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < c.results.size(); ++i) {
    const auto& r = c.results[i];
    if (!usable_normalised(r)) continue;
    out[i] = r.normalised;
    groups[group_key(r)].push_back(i);
  }
  for (const auto& [key, rows] : groups) {
    const auto logs = burst_log_minima(c, rows, burst);
    if (logs.empty()) continue;
    const std::size_t rounds = logs.front().size();
    std::vector<double> round_mean(rounds, 0.0);
    for (const auto& row : logs) {
      for (std::size_t k = 0; k < rounds; ++k) round_mean[k] += row[k] / static_cast<double>(logs.size());
    }
    std::vector<double> rel(logs.size());
    double rel_mean = 0, base = 0;
    for (std::size_t j = 0; j < logs.size(); ++j) {
      std::vector<double> d(rounds);
      for (std::size_t k = 0; k < rounds; ++k) d[k] = logs[j][k] - round_mean[k];
      rel[j] = measure::trimmed_mean(d, 0.2);
      rel_mean += rel[j] / static_cast<double>(logs.size());
      base += std::log(c.results[rows[j]].normalised) / static_cast<double>(logs.size());
    }
    for (std::size_t j = 0; j < logs.size(); ++j) out[rows[j]] = std::exp(base + rel[j] - rel_mean);
  }
  return out;
}

std::vector<double> label_values(const dataset::contents& c, label_kind k) {
  if (k == label_kind::interleaved) return interleaved_labels(c);
  std::vector<double> out;
  out.reserve(c.results.size());
  for (const auto& r : c.results) out.push_back(label_value(r, k));
  return out;
}

namespace {

/// Rows measured in a window whose drift the guard gave up on, or followed as common to archs and
/// reference (their trimmed means sit at the moved level; their normalised labels do not): the
/// `window` rows that the same rank of the same run measured up to and including the check's last
/// row, by start time.
std::set<std::size_t> unresolved_drift_rows(const dataset::contents& c) {
  std::set<std::size_t> out;
  std::map<std::pair<int, int>, std::vector<std::size_t>> by_rank;  // (run, rank) -> rows by start
  for (std::size_t i = 0; i < c.results.size(); ++i) {
    const auto& r = c.results[i];
    if (r.run >= 0) by_rank[{r.run, r.rank}].push_back(i);
  }
  for (auto& [key, rows] : by_rank) {
    std::sort(rows.begin(), rows.end(),
              [&](std::size_t a, std::size_t b) { return c.results[a].start_unix_s < c.results[b].start_unix_s; });
  }
  for (const auto& d : c.drift) {
    const bool moved = d.verdict == static_cast<std::int32_t>(measure::drift_verdict::gave_up) ||
                       d.verdict == static_cast<std::int32_t>(measure::drift_verdict::common_mode);
    if (!moved || d.arch_row < 0) continue;
    const auto it = by_rank.find({d.run, d.rank});
    if (it == by_rank.end()) continue;
    const auto& rows = it->second;
    const auto last = std::find(rows.begin(), rows.end(), static_cast<std::size_t>(d.arch_row));
    if (last == rows.end()) continue;
    const auto count = std::min<std::ptrdiff_t>(d.window, last - rows.begin() + 1);
    for (auto r = last - count + 1; r <= last; ++r) out.insert(*r);
  }
  return out;
}

std::string content_hash(const dataset::contents& c) {
  std::string bytes;
  for (std::size_t i = 0; i < c.results.size(); ++i) {
    const auto& r = c.results[i];
    bytes.append(reinterpret_cast<const char*>(&c.archs[i].id), sizeof c.archs[i].id);
    bytes.append(reinterpret_cast<const char*>(&r.status), sizeof r.status);
    bytes.append(reinterpret_cast<const char*>(&r.trimmed_mean_ms), sizeof r.trimmed_mean_ms);
    bytes.append(reinterpret_cast<const char*>(&r.reference_ms), sizeof r.reference_ms);
    if (c.schema_version >= 3) {  // older files keep the hash their models recorded
      bytes.append(reinterpret_cast<const char*>(&r.eager_ms), sizeof r.eager_ms);
      bytes.append(reinterpret_cast<const char*>(&r.graph_ms), sizeof r.graph_ms);
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(bytes.data(), bytes.size())));
  return hex;
}

}  // namespace

training_data load_training_data(const dataset::contents& c, label_kind label) {
  const auto& sp = space::find_space(c.prov.space);
  training_data t;
  t.space = c.prov.space;
  t.precision = c.prov.precision;
  t.label = label;
  t.dataset_hash = content_hash(c);
  t.dataset_schema_version = c.schema_version;
  const auto drift = unresolved_drift_rows(c);
  const auto labels = label_values(c, label);
  std::vector<double> refs;
  for (std::size_t i = 0; i < c.results.size(); ++i) {
    const auto& r = c.results[i];
    if (status_of(r) == dataset::row_status::pending) {
      ++t.excluded.pending;
      continue;
    }
    if (status_of(r) != dataset::row_status::done) {
      ++t.excluded.failed;
      continue;
    }
    // A window the guard gave up on was timed on a machine running at another speed than the
    // baseline: its milliseconds are off by that change. Its normalised labels divide by the
    // reference timed with them (bracketing or interleaved bursts), which cancels the change, so
    // they stay.
    if (!reference_relative(label) && drift.count(i)) {
      ++t.excluded.drift_unresolved;
      continue;
    }
    const double y = labels[i];
    if (!std::isfinite(y) || y <= 0) {
      ++t.excluded.invalid_label;
      continue;
    }
    t.archs.push_back(sp.parse(c.archs[i].text));
    t.y.push_back(y);
    t.bins.push_back(c.archs[i].depth);
    t.dataset_rows.push_back(i);
    t.ids.push_back(c.archs[i].id);
    if (std::isfinite(r.reference_ms) && r.reference_ms > 0) refs.push_back(r.reference_ms);
  }
  if (t.y.empty()) {
    throw usage_error("dataset has no usable rows (" + std::to_string(c.results.size()) + " rows: " +
                      std::to_string(t.excluded.pending) + " pending, " + std::to_string(t.excluded.failed) +
                      " failed, " + std::to_string(t.excluded.drift_unresolved) + " in windows of unresolved drift, " +
                      std::to_string(t.excluded.invalid_label) + " with a NaN or non-positive " +
                      std::string(to_string(label)) + ")");
  }
  if (refs.empty()) {
    t.reference_ms = std::nan("");
  } else {
    std::nth_element(refs.begin(), refs.begin() + static_cast<std::ptrdiff_t>(refs.size() / 2), refs.end());
    t.reference_ms = refs[refs.size() / 2];
  }
  return t;
}

}  // namespace esm::train
