// esm select's picks and esm adapt's model: source models read and checked, the target's few rows
// fitted through surrogate::adapted_regressor, intervals from its leave-one-out predictions.
#include "esm/train/adapt.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/common/sha256.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/features/encoding.hpp"
#include "esm/surrogate/metrics.hpp"
#include "esm/train/cross_validation.hpp"
#include "esm/train/domain.hpp"
#include "esm/train/intervals.hpp"
#include "esm/train/training_data.hpp"

namespace esm::train {

std::vector<source_model> load_sources(const std::vector<std::string>& paths) {
  if (paths.empty()) throw usage_error("give at least one source model (--model FILE)");
  std::vector<source_model> out;
  for (const auto& path : paths) {
    source_model s;
    s.path = path;
    s.file = read_model_file(path);
    s.sha256 = sha256_file(path);
    if (!out.empty()) {
      const auto& first = out.front().file.info;
      const auto& i = s.file.info;
      if (i.space != first.space) {
        throw usage_error("source model '" + path + "' is of space '" + i.space + "', '" + out.front().path + "' of '" + first.space + "'");
      }
      if (i.encoding != first.encoding || i.feature_names != first.feature_names) {
        throw usage_error("source model '" + path + "' uses encoding '" + i.encoding + "', '" + out.front().path + "' '" +
                          first.encoding + "' (sources must share one encoding)");
      }
    }
    out.push_back(std::move(s));
  }
  const auto spec = features::encoding_spec::parse(out.front().file.info.encoding);
  if (spec.kind == features::encoding_kind::lut) throw usage_error("source models of the lut encoding are not supported (it needs its table)");
  const features::encoder enc(space::find_space(out.front().file.info.space), spec);
  if (enc.feature_names() != out.front().file.info.feature_names) {
    throw usage_error("source model '" + out.front().path + "' was trained on another definition of encoding '" +
                      out.front().file.info.encoding + "'");
  }
  return out;
}

std::vector<std::unique_ptr<surrogate::regressor>> source_regressors(const std::vector<source_model>& s) {
  std::vector<std::unique_ptr<surrogate::regressor>> out;
  for (const auto& m : s) out.push_back(surrogate::load_regressor(m.file.state));
  return out;
}

surrogate::matrix compact_features(const space::search_space& sp, const std::vector<space::arch>& archs) {
  const auto layout = sp.layout();
  const std::size_t stages = layout.stage_slots.size();
  const bool has_blocks = !layout.block_dims.empty();
  surrogate::matrix out(archs.size(), 5 + (has_blocks ? stages : 0));
  for (std::size_t r = 0; r < archs.size(); ++r) {
    const auto& a = archs[r];
    const auto net = sp.build(a, 1);
    auto row = out.row(r);
    row[0] = std::log(static_cast<double>(std::max<std::int64_t>(net.total_macs(), 1)));
    row[1] = std::log(static_cast<double>(std::max<std::int64_t>(net.total_params(), 1)));
    row[2] = static_cast<double>(net.layers.size());
    row[3] = sp.resolution(a);
    row[4] = sp.depth(a);
    if (!has_blocks) continue;
    const int first_gene = layout.block_dims.front().gene_offset;
    for (std::size_t st = 0; st < stages; ++st) {
      int active = 0;
      for (int s = 0; s < layout.stage_slots[st]; ++s) active += a.genes[static_cast<std::size_t>(first_gene + layout.slot_offset[st] + s)] != 0;
      row[5 + st] = active;
    }
  }
  return out;
}

namespace {

/// Columns centred and scaled to unit variance, then multiplied by weight / sqrt(columns kept), so
/// that a block's share of a squared distance does not grow with its width.
void append_standardised(surrogate::matrix_view m, double weight, std::vector<std::vector<double>>& cols) {
  std::vector<std::vector<double>> block;
  for (std::size_t c = 0; c < m.cols; ++c) {
    double mean = 0, sq = 0;
    for (std::size_t r = 0; r < m.rows; ++r) mean += m(r, c);
    mean /= static_cast<double>(m.rows);
    for (std::size_t r = 0; r < m.rows; ++r) sq += (m(r, c) - mean) * (m(r, c) - mean);
    const double sd = std::sqrt(sq / static_cast<double>(m.rows));
    if (!(sd > 0)) continue;
    std::vector<double> v(m.rows);
    for (std::size_t r = 0; r < m.rows; ++r) v[r] = (m(r, c) - mean) / sd;
    block.push_back(std::move(v));
  }
  for (auto& v : block) {
    for (auto& e : v) e *= weight / std::sqrt(static_cast<double>(block.size()));
    cols.push_back(std::move(v));
  }
}

double distance2(surrogate::matrix_view e, std::size_t r, const std::vector<double>& centre) {
  double d = 0;
  for (std::size_t c = 0; c < e.cols; ++c) d += (e(r, c) - centre[c]) * (e(r, c) - centre[c]);
  return d;
}

}  // namespace

surrogate::matrix selection_embedding(surrogate::matrix_view source_log_predictions, surrogate::matrix_view compact) {
  std::vector<std::vector<double>> cols;
  append_standardised(source_log_predictions, 1.0, cols);
  append_standardised(compact, 0.5, cols);
  const std::size_t n = source_log_predictions.rows;
  surrogate::matrix out(n, cols.size());
  for (std::size_t c = 0; c < cols.size(); ++c)
    for (std::size_t r = 0; r < n; ++r) out(r, c) = cols[c][r];
  return out;
}

namespace {

/// Each row's score on the embedding's first principal component (power iteration on the
/// covariance from a fixed start: deterministic). Constant embeddings score 0 everywhere.
std::vector<double> first_component(surrogate::matrix_view e) {
  const std::size_t n = e.rows, d = e.cols;
  std::vector<double> mean(d, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < d; ++c) mean[c] += e(i, c) / static_cast<double>(n);
  std::vector<double> v(d, 1.0), score(n, 0.0);
  for (int it = 0; it < 100; ++it) {
    for (std::size_t i = 0; i < n; ++i) {
      score[i] = 0;
      for (std::size_t c = 0; c < d; ++c) score[i] += (e(i, c) - mean[c]) * v[c];
    }
    std::vector<double> next(d, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < d; ++c) next[c] += (e(i, c) - mean[c]) * score[i];
    double norm = 0;
    for (double x : next) norm += x * x;
    if (!(norm > 0)) return std::vector<double>(n, 0.0);
    for (std::size_t c = 0; c < d; ++c) v[c] = next[c] / std::sqrt(norm);
  }
  return score;
}

}  // namespace

std::vector<std::size_t> spread_picks(surrogate::matrix_view e, std::size_t k, std::uint64_t seed) {
  const std::size_t n = e.rows;
  if (k == 0) throw usage_error("--count must be at least 1");
  if (n < k) throw usage_error("the pool holds " + std::to_string(n) + " archs, fewer than --count " + std::to_string(k));
  // K strata of equal counts along the first principal component (the sources' consensus latency
  // when the sources dominate the embedding), so that equal-weight picks stay unbiased for the pool.
  const auto score = first_component(e);
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score[a] < score[b]; });
  rng r(seed);
  constexpr std::size_t candidates = 3;
  std::vector<std::size_t> picks;
  for (std::size_t s = 0; s < k; ++s) {
    const std::size_t first = s * n / k, last = (s + 1) * n / k;
    // Within the stratum: of a few random members, the one farthest from the picks so far (spread
    // over the rest of the embedding: the features, the sources' disagreements).
    std::size_t best = order[first + static_cast<std::size_t>(r.uniform_index(last - first))];
    double best_distance = -1;
    for (std::size_t c = 0; c < candidates && !picks.empty(); ++c) {
      const std::size_t row = c == 0 ? best : order[first + static_cast<std::size_t>(r.uniform_index(last - first))];
      double nearest = std::numeric_limits<double>::infinity();
      const std::vector<double> at(e.row(row).begin(), e.row(row).end());
      for (auto p : picks) nearest = std::min(nearest, distance2(e, p, at));
      if (nearest > best_distance) best_distance = nearest, best = row;
    }
    picks.push_back(best);
  }
  std::sort(picks.begin(), picks.end());
  return picks;
}

namespace {

training_domain common_domain(const std::vector<source_model>& sources) {
  training_domain d;
  bool first = true;
  for (const auto& s : sources) {
    const auto& sd = s.file.info.domain;
    if (!sd.known) continue;
    if (first) {
      d = sd;
      first = false;
      continue;
    }
    std::vector<std::string> variants;
    std::set_intersection(d.variants.begin(), d.variants.end(), sd.variants.begin(), sd.variants.end(), std::back_inserter(variants));
    std::vector<int> bins;
    std::set_intersection(d.depth_bins.begin(), d.depth_bins.end(), sd.depth_bins.begin(), sd.depth_bins.end(), std::back_inserter(bins));
    d.variants = std::move(variants);
    d.depth_bins = std::move(bins);
    d.min_resolution = std::max(d.min_resolution, sd.min_resolution);
    d.max_resolution = std::min(d.max_resolution, sd.max_resolution);
  }
  return d;
}

cv_row loo_row(const std::string& name, const std::vector<double>& loo_ms, const std::vector<double>& y, double coverage) {
  cv_row row;
  row.model = name;
  row.metrics = surrogate::evaluate(loo_ms, y);
  row.coverage_90 = coverage;
  return row;
}

std::vector<double> exp_of(const std::vector<double>& v) {
  std::vector<double> out(v.size());
  std::transform(v.begin(), v.end(), out.begin(), [](double x) { return std::exp(x); });
  return out;
}

}  // namespace

adapt_outcome adapt(const adapt_request& req) {
  const auto sources = load_sources(req.sources);
  const auto& first = sources.front().file.info;
  const bool with_samples = req.label != "auto" && needs_samples(parse_label(req.label));
  const auto contents = dataset::read(req.dataset_path, with_samples);
  if (contents.prov.synthetic && !req.allow_synthetic) {
    throw usage_error("target dataset '" + req.dataset_path + "' is synthetic (latencies computed from MACs, not measured); pass --allow-synthetic to adapt to it anyway");
  }
  if (contents.prov.space != first.space) {
    throw usage_error("target dataset '" + req.dataset_path + "' is of space '" + contents.prov.space + "', the source models of '" +
                      first.space + "'");
  }
  const auto data = load_training_data(contents, resolve_label(req.label, contents));
  if (data.y.size() < min_adapt_rows) {
    throw usage_error("target dataset '" + req.dataset_path + "' has " + std::to_string(data.y.size()) +
                      " usable rows; esm adapt needs at least " + std::to_string(min_adapt_rows));
  }
  const auto& sp = space::find_space(first.space);
  const features::encoder enc(sp, features::encoding_spec::parse(first.encoding));
  const auto x = enc.encode(data.archs);
  const surrogate::matrix_view xv(x.rows, x.cols, x.data);
  surrogate::adapted_regressor model(source_regressors(sources));
  model.fit(xv, data.y, 0);
  const auto& a = model.adapter();

  adapt_outcome out;
  out.adapter = a;
  const auto loo_ms = exp_of(a.loo_log);
  std::vector<std::size_t> fold_of_row(data.y.size());
  for (std::size_t i = 0; i < fold_of_row.size(); ++i) fold_of_row[i] = i;
  const auto hits = cross_conformal_hits(loo_ms, data.y, data.bins, fold_of_row, interval_level, /*small_sample=*/true);
  double covered = 0;
  for (double h : hits) covered += h;
  out.loo_coverage_90 = covered / static_cast<double>(hits.size());

  auto& info = out.model.info;
  info.space = first.space;
  info.encoding = first.encoding;
  info.feature_names = first.feature_names;
  info.label = std::string(to_string(data.label));
  info.reference_ms = data.reference_ms;
  info.dataset_path = std::filesystem::absolute(req.dataset_path).string();
  info.dataset_schema_version = data.dataset_schema_version;
  info.dataset_hash = data.dataset_hash;
  info.rows_used = static_cast<std::int64_t>(data.y.size());
  info.rows_excluded = static_cast<std::int64_t>(data.excluded.total());
  info.folds = info.rows_used;  // leave-one-out: one row per fold
  info.folds_by = "rows";
  info.members = 1;
  info.kinds = {"adapted"};
  info.domain = common_domain(sources);
  info.intervals = fit_intervals_small_sample(loo_ms, data.y, data.bins, interval_level);
  for (const auto& s : sources) {
    info.adapted_from.push_back(std::filesystem::absolute(s.path).string());
    info.adapted_from_sha256.push_back(s.sha256);
  }
  info.adapt_rows = info.rows_used;
  info.adapt_fit = a.describe();
  out.model.state = model.save();

  const auto rescaled = surrogate::fit_rescaled_best(model.source_log_predictions(xv), [&] {
    std::vector<double> t(data.y.size());
    std::transform(data.y.begin(), data.y.end(), t.begin(), [](double v) { return std::log(v); });
    return t;
  }());
  out.model.cv.push_back(loo_row("adapted", loo_ms, data.y, out.loo_coverage_90));
  out.model.cv.push_back(loo_row("rescaled_best_source", exp_of(rescaled.loo_log), data.y, std::nan("")));
  return out;
}

}  // namespace esm::train
