// Row selection, labels and the dataset's content hash.
#include "esm/train/training_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"

namespace esm::train {

label_kind parse_label(std::string_view text) {
  if (text == "trimmed" || text == "trimmed_mean") return label_kind::trimmed_mean;
  if (text == "normalised" || text == "normalized") return label_kind::normalised;
  if (text == "graph" || text == "graph_ms") return label_kind::graph;
  if (text == "eager" || text == "eager_ms") return label_kind::eager;
  throw usage_error("unknown label '" + std::string(text) + "' (auto, trimmed, normalised, graph, eager)");
}

std::string_view to_string(label_kind k) {
  switch (k) {
    case label_kind::trimmed_mean: return "trimmed_mean";
    case label_kind::normalised: return "normalised";
    case label_kind::graph: return "graph";
    case label_kind::eager: return "eager";
  }
  return "unknown";
}

label_kind default_label(const dataset::contents& c) {
  for (const auto& r : c.results) {
    if (r.status == static_cast<std::int32_t>(dataset::row_status::done) && std::isfinite(r.graph_ms)) {
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
  }
  return std::nan("");
}

namespace {

/// Rows measured in a window whose drift the guard gave up on: the `window` rows that the same
/// rank of the same run measured up to and including the check's last row, by start time.
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
    if (d.verdict != static_cast<std::int32_t>(measure::drift_verdict::gave_up) || d.arch_row < 0) continue;
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
  t.label = label;
  t.dataset_hash = content_hash(c);
  t.dataset_schema_version = c.schema_version;
  const auto drift = unresolved_drift_rows(c);
  std::vector<double> refs;
  for (std::size_t i = 0; i < c.results.size(); ++i) {
    const auto& r = c.results[i];
    if (r.status == static_cast<std::int32_t>(dataset::row_status::pending)) {
      ++t.excluded.pending;
      continue;
    }
    if (r.status != static_cast<std::int32_t>(dataset::row_status::done)) {
      ++t.excluded.failed;
      continue;
    }
    // A window the guard gave up on was timed on a machine running at another speed than the
    // baseline: its milliseconds are off by that change. Its normalised labels divide by the
    // reference timed with them (bracketing or interleaved bursts), which cancels the change, so
    // they stay.
    if (label != label_kind::normalised && drift.count(i)) {
      ++t.excluded.drift_unresolved;
      continue;
    }
    const double y = label_value(r, label);
    if (!std::isfinite(y) || y <= 0) {
      ++t.excluded.invalid_label;
      continue;
    }
    t.archs.push_back(sp.parse(c.archs[i].text));
    t.y.push_back(y);
    t.bins.push_back(c.archs[i].depth);
    t.dataset_rows.push_back(i);
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
