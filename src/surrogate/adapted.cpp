// The log adapter (block ridge chosen by exact leave-one-out in dual form) and the "adapted" kind.
#include "esm/surrogate/adapted.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

#include "esm/common/error.hpp"
#include "support.hpp"
#include "eigen_support.hpp"

namespace esm::surrogate {

namespace {

constexpr std::uint64_t state_version = 1;

/// Penalty strengths tried per block: 0 is "block off"; otherwise a column's ridge penalty is
/// K * columns / strength on standardised columns, so strength 1 lets the block as a whole move
/// about as much as one free column shrunk by half.
constexpr std::array<double, 5> strengths{0.0, 0.1, 1.0, 10.0, 100.0};

/// A block of standardised columns on the K rows, and their Gram matrix.
struct block {
  Eigen::MatrixXd cols;   ///< K x p, centred, unit variance (constant columns dropped)
  std::vector<std::size_t> source_col;  ///< original column of each kept column
  std::vector<double> mean, scale;
  Eigen::MatrixXd gram;   ///< cols cols'
};

block make_block(const Eigen::MatrixXd& raw) {
  block b;
  const auto k = raw.rows();
  std::vector<Eigen::Index> kept;
  for (Eigen::Index c = 0; c < raw.cols(); ++c) {
    const double m = raw.col(c).mean();
    const double sd = std::sqrt((raw.col(c).array() - m).square().sum() / static_cast<double>(k));
    if (!(sd > 1e-12 * std::max(1.0, std::abs(m)))) continue;
    kept.push_back(c);
    b.source_col.push_back(static_cast<std::size_t>(c));
    b.mean.push_back(m);
    b.scale.push_back(sd);
  }
  b.cols.resize(k, static_cast<Eigen::Index>(kept.size()));
  for (std::size_t j = 0; j < kept.size(); ++j) b.cols.col(static_cast<Eigen::Index>(j)) = (raw.col(kept[j]).array() - b.mean[j]) / b.scale[j];
  b.gram = b.cols * b.cols.transpose();
  return b;
}

struct candidate {
  std::array<double, 3> strength{};  ///< slope, other sources, features
  double mse = std::numeric_limits<double>::infinity();
  double se = 0;
  Eigen::VectorXd alpha;            ///< dual coefficients
  Eigen::VectorXd loo_residual;
  [[nodiscard]] int active() const { return (strength[0] > 0) + (strength[1] > 0) + (strength[2] > 0); }
  [[nodiscard]] double total() const { return strength[0] + strength[1] + strength[2]; }
};

/// Exact LOO of the ridge with free intercept: H = 11'/K + G (G + I)^-1, P = (G + I)^-1,
/// residual e = P u_c and the LOO residual e_i / (P_ii - 1/K).
candidate score(const std::array<const block*, 3>& blocks, const std::array<double, 3>& strength,
                const Eigen::VectorXd& uc) {
  const auto k = uc.size();
  candidate c;
  c.strength = strength;
  Eigen::MatrixXd g = Eigen::MatrixXd::Identity(k, k);
  for (int b = 0; b < 3; ++b) {
    if (strength[b] <= 0 || !blocks[b] || blocks[b]->cols.cols() == 0) continue;
    const double penalty = static_cast<double>(k) * static_cast<double>(blocks[b]->cols.cols()) / strength[b];
    g += blocks[b]->gram / penalty;
  }
  const Eigen::MatrixXd p = g.ldlt().solve(Eigen::MatrixXd::Identity(k, k));
  c.alpha = p * uc;
  c.loo_residual.resize(k);
  const double inv_k = 1.0 / static_cast<double>(k);
  for (Eigen::Index i = 0; i < k; ++i) {
    const double denom = p(i, i) - inv_k;
    if (!(denom > 1e-12)) return c;  // a row the fit interpolates: no honest LOO
    c.loo_residual(i) = c.alpha(i) / denom;
  }
  const Eigen::ArrayXd sq = c.loo_residual.array().square();
  c.mse = sq.mean();
  c.se = k > 1 ? std::sqrt((sq - c.mse).square().sum() / static_cast<double>(k - 1) / static_cast<double>(k)) : 0.0;
  return c;
}

Eigen::MatrixXd to_eigen(matrix_view m) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(m.rows), static_cast<Eigen::Index>(m.cols));
  for (std::size_t r = 0; r < m.rows; ++r)
    for (std::size_t c = 0; c < m.cols; ++c) out(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = m(r, c);
  return out;
}

void check_inputs(matrix_view z, matrix_view x, std::span<const double> t) {
  const std::size_t k = t.size();
  if (k < 3) throw error("log adapter: " + std::to_string(k) + " rows (at least 3 needed for leave-one-out)");
  if (z.rows != k || x.rows != k) throw error("log adapter: row counts differ between predictions, features and labels");
  for (std::size_t i = 0; i < k; ++i) {
    if (!std::isfinite(t[i])) throw error("log adapter: label of row " + std::to_string(i) + " is not finite");
    for (std::size_t j = 0; j < z.cols; ++j)
      if (!std::isfinite(z(i, j))) throw error("log adapter: source " + std::to_string(j) + " predicts a non-positive or non-finite latency for row " + std::to_string(i));
    for (std::size_t j = 0; j < x.cols; ++j)
      if (!std::isfinite(x(i, j))) throw error("log adapter: feature " + std::to_string(j) + " of row " + std::to_string(i) + " is not finite");
  }
}

/// The adapter of candidate `c` for base `s` in original units.
log_adapter assemble(const candidate& c, const std::vector<std::size_t>& base, std::size_t sources, std::size_t features,
                     double u_mean, const std::array<const block*, 3>& blocks, std::span<const std::size_t> other_sources,
                     std::span<const double> t) {
  log_adapter a;
  a.base = base.empty() ? 0 : base.front();
  a.base_sources = base;
  a.source_weight.assign(sources, 0.0);
  a.feature_weight.assign(features, 0.0);
  // The base's own weights: 1/|base| on each source averaged into it.
  std::vector<double> base_weight(sources, 0.0);
  for (auto j : base) base_weight[j] = 1.0 / static_cast<double>(base.size());
  for (std::size_t j = 0; j < sources; ++j) a.source_weight[j] = base_weight[j];
  a.intercept = u_mean;
  const auto k = static_cast<double>(t.size());
  for (int b = 0; b < 3; ++b) {
    if (c.strength[b] <= 0 || !blocks[b] || blocks[b]->cols.cols() == 0) continue;
    const auto& bl = *blocks[b];
    const double penalty = k * static_cast<double>(bl.cols.cols()) / c.strength[b];
    const Eigen::VectorXd beta = bl.cols.transpose() * c.alpha / penalty;
    for (Eigen::Index j = 0; j < beta.size(); ++j) {
      const double w = beta(j) / bl.scale[static_cast<std::size_t>(j)];
      a.intercept -= w * bl.mean[static_cast<std::size_t>(j)];
      const std::size_t col = bl.source_col[static_cast<std::size_t>(j)];
      if (b == 0) {
        for (std::size_t q = 0; q < sources; ++q) a.source_weight[q] += w * base_weight[q];
      } else if (b == 1) {
        a.source_weight[other_sources[col]] += w;
        for (std::size_t q = 0; q < sources; ++q) a.source_weight[q] -= w * base_weight[q];
      } else {
        a.feature_weight[col] += w;
      }
    }
  }
  a.slope_strength = c.strength[0];
  a.sources_strength = c.strength[1];
  a.features_strength = c.strength[2];
  a.loo_mse = c.mse;
  a.loo_log.resize(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) a.loo_log[i] = t[i] - c.loo_residual(static_cast<Eigen::Index>(i));
  return a;
}

}  // namespace

double log_adapter::predict_log(const double* z, const double* x) const {
  double v = intercept;
  for (std::size_t j = 0; j < source_weight.size(); ++j) v += source_weight[j] * z[j];
  for (std::size_t j = 0; j < feature_weight.size(); ++j) v += feature_weight[j] * x[j];
  return v;
}

std::string log_adapter::base_label() const {
  if (base_sources.empty()) return std::to_string(base);
  std::string out;
  for (auto j : base_sources) out += (out.empty() ? "" : "+") + std::to_string(j);
  return out;
}

std::string log_adapter::describe() const {
  auto on = [](double s) {
    char t[32];
    std::snprintf(t, sizeof t, "strength %g", s);
    return s > 0 ? std::string(t) : std::string("off");
  };
  char head[200];
  if (source_weight.empty()) {
    std::snprintf(head, sizeof head, "no sources, intercept %.4g", intercept);
  } else if (base_sources.size() > 1) {
    std::snprintf(head, sizeof head, "base: mean log prediction of sources %s, factor x%.4g", base_label().c_str(),
                  std::exp(intercept));
  } else {
    std::snprintf(head, sizeof head, "base source %zu, log weight %.4g, factor x%.4g", base, source_weight[base],
                  std::exp(intercept));
  }
  char tail[64];
  std::snprintf(tail, sizeof tail, "; leave-one-out log RMSE %.4f", std::sqrt(loo_mse));
  return std::string(head) + "; slope " + on(slope_strength) + ", other sources " + on(sources_strength) +
         ", features " + on(features_strength) + tail;
}

log_adapter fit_log_adapter(matrix_view z, matrix_view x, std::span<const double> t, const log_adapter_options& options) {
  check_inputs(z, x, t);
  const auto k = static_cast<Eigen::Index>(t.size());
  const Eigen::MatrixXd ze = to_eigen(z);
  const block features = make_block(to_eigen(x));
  const std::size_t m = z.cols;
  const Eigen::Map<const Eigen::VectorXd> te(t.data(), k);
  const bool rescale_only = m > 0 && t.size() < options.rescale_only_below;  // without sources: the from-scratch ridge

  struct prepared {
    block slope, others;
    std::vector<std::size_t> other_index;
    Eigen::VectorXd uc;
    double u_mean = 0;
  };
  // A base is a set of sources whose log predictions are averaged (one source unless pooled).
  auto prepare = [&](const std::vector<std::size_t>& base) {
    prepared p;
    Eigen::VectorXd offset = Eigen::VectorXd::Zero(k);
    for (auto j : base) offset += ze.col(static_cast<Eigen::Index>(j)) / static_cast<double>(base.size());
    const Eigen::VectorXd u = te - offset;
    p.u_mean = u.mean();
    p.uc = u.array() - p.u_mean;
    if (m > 0) {
      p.slope = make_block(offset);
      for (std::size_t j = 0; j < m; ++j)
        if (!(base.size() == 1 && base.front() == j)) p.other_index.push_back(j);
      Eigen::MatrixXd diffs(k, static_cast<Eigen::Index>(p.other_index.size()));
      for (std::size_t c = 0; c < p.other_index.size(); ++c)
        diffs.col(static_cast<Eigen::Index>(c)) = ze.col(static_cast<Eigen::Index>(p.other_index[c])) - offset;
      p.others = make_block(diffs);
    }
    return p;
  };
  // LOO error of a base's rescale, with the slope block at any strength it may take.
  auto base_error = [&](const std::vector<std::size_t>& base) {
    const prepared p = prepare(base);
    double best = std::numeric_limits<double>::infinity();
    for (double a : strengths) {
      if (rescale_only && a > 0) continue;
      best = std::min(best, score({&p.slope, nullptr, nullptr}, {a, 0, 0}, p.uc).mse);
    }
    return best;
  };

  // The base: the candidate whose rescale (with the slope block at any strength) leaves the least LOO error.
  std::vector<std::size_t> base;
  if (m > 0) base = {0};
  if (m > 1) {
    std::vector<std::pair<double, std::size_t>> single;
    for (std::size_t s = 0; s < m; ++s) single.emplace_back(base_error({s}), s);
    std::vector<std::vector<std::size_t>> bases;
    for (const auto& [e, s] : single) bases.push_back({s});
    if (options.pooled_bases) {
      // The best 2, 3, ..., m sources by their plain rescale's LOO error, averaged.
      std::vector<std::pair<double, std::size_t>> plain;
      for (std::size_t s = 0; s < m; ++s) {
        const prepared p = prepare({s});
        plain.emplace_back(score({&p.slope, nullptr, nullptr}, {0, 0, 0}, p.uc).mse, s);
      }
      std::stable_sort(plain.begin(), plain.end());
      for (std::size_t n = 2; n <= m; ++n) {
        std::vector<std::size_t> top;
        for (std::size_t i = 0; i < n; ++i) top.push_back(plain[i].second);
        std::sort(top.begin(), top.end());
        bases.push_back(std::move(top));
      }
    }
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < bases.size(); ++i) {
      const double e = i < m ? single[i].first : base_error(bases[i]);
      if (e < best) best = e, base = bases[i];
    }
  }
  const prepared p = prepare(base);
  const std::array<const block*, 3> blocks{m > 0 ? &p.slope : nullptr, m > 1 ? &p.others : nullptr, &features};
  std::vector<candidate> all;
  for (double a : strengths) {
    if ((m == 0 || rescale_only) && a > 0) continue;
    for (double b : strengths) {
      if ((m < 2 || rescale_only) && b > 0) continue;
      for (double f : strengths) {
        if ((features.cols.cols() == 0 || rescale_only) && f > 0) continue;
        all.push_back(score(blocks, {a, b, f}, p.uc));
      }
    }
  }
  // Simplest first: fewer blocks on, then weaker blocks; keep the first within one SE of the best.
  std::stable_sort(all.begin(), all.end(), [](const candidate& l, const candidate& r) {
    return l.active() != r.active() ? l.active() < r.active() : l.total() < r.total();
  });
  const auto best = std::min_element(all.begin(), all.end(), [](const candidate& l, const candidate& r) { return l.mse < r.mse; });
  if (!std::isfinite(best->mse)) throw error("log adapter: no candidate has a finite leave-one-out error (duplicate rows?)");
  const double limit = best->mse + best->se;
  const auto chosen = std::find_if(all.begin(), all.end(), [&](const candidate& c) { return c.mse <= limit; });
  return assemble(*chosen, base, m, x.cols, p.u_mean, blocks, p.other_index, t);
}

log_adapter fit_rescaled_best(matrix_view z, std::span<const double> t) {
  check_inputs(z, matrix_view(z.rows, 0, {}), t);
  if (z.cols == 0) throw error("rescaled best source: no sources");
  const std::size_t k = t.size();
  log_adapter a;
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t s = 0; s < z.cols; ++s) {
    double sum = 0;
    for (std::size_t i = 0; i < k; ++i) sum += t[i] - z(i, s);
    const double c = sum / static_cast<double>(k);
    double sq = 0;
    for (std::size_t i = 0; i < k; ++i) sq += (t[i] - z(i, s) - c) * (t[i] - z(i, s) - c);
    if (sq < best) {
      best = sq;
      a.base = s;
      a.intercept = c;
    }
  }
  a.source_weight.assign(z.cols, 0.0);
  a.source_weight[a.base] = 1.0;
  double sum = 0;
  for (std::size_t i = 0; i < k; ++i) sum += t[i] - z(i, a.base);
  a.loo_log.resize(k);
  double sq = 0;
  for (std::size_t i = 0; i < k; ++i) {
    a.loo_log[i] = z(i, a.base) + (sum - (t[i] - z(i, a.base))) / static_cast<double>(k - 1);
    sq += (t[i] - a.loo_log[i]) * (t[i] - a.loo_log[i]);
  }
  a.loo_mse = sq / static_cast<double>(k);
  return a;
}

adapted_regressor::adapted_regressor(std::vector<std::unique_ptr<regressor>> sources, log_adapter_options options)
    : sources_(std::move(sources)), options_(options) {}

matrix adapted_regressor::source_log_predictions(matrix_view x) const {
  matrix z(x.rows, sources_.size());
  std::vector<double> p(x.rows);
  for (std::size_t j = 0; j < sources_.size(); ++j) {
    sources_[j]->predict_into(x, p);
    for (std::size_t i = 0; i < x.rows; ++i) z(i, j) = p[i] > 0 ? std::log(p[i]) : std::nan("");
  }
  return z;
}

void adapted_regressor::fit(matrix_view x, std::span<const double> y_ms, std::uint64_t /*seed: the fit is closed-form*/) {
  check_training_data(kind(), x, y_ms);
  if (sources_.empty()) throw error("adapted fit: no source models");
  for (const auto& s : sources_) {
    if (s->feature_count() != x.cols) {
      throw error("adapted fit: a source model expects " + std::to_string(s->feature_count()) + " features, the rows have " +
                  std::to_string(x.cols));
    }
  }
  const matrix z = source_log_predictions(x);
  std::vector<double> t(y_ms.size());
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = std::log(y_ms[i]);
  adapter_ = fit_log_adapter(z, x, t, options_);
  features_ = x.cols;
  fitted_ = true;
}

void adapted_regressor::predict_into(matrix_view x, std::span<double> out_ms) const {
  check_prediction_args(kind(), fitted_, features_, x, out_ms);
  const matrix z = source_log_predictions(x);
  for (std::size_t i = 0; i < x.rows; ++i) out_ms[i] = std::exp(adapter_.predict_log(z.row(i).data(), x.row(i).data()));
}

model_state adapted_regressor::save() const {
  if (!fitted_) throw error("adapted save: the model is not fitted");
  model_state s;
  detail::write_header(s, kind(), state_version);
  s.set_scalar("sources", static_cast<double>(sources_.size()));
  for (std::size_t j = 0; j < sources_.size(); ++j) {
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "source/%03zu/", j);
    s.insert_prefixed(prefix, sources_[j]->save());
  }
  s.set_scalar("features", static_cast<double>(features_));
  s.set_scalar("base", static_cast<double>(adapter_.base));
  s.set_scalar("intercept", adapter_.intercept);
  s.set_vector("source_weight", adapter_.source_weight);
  s.set_vector("feature_weight", adapter_.feature_weight);
  s.set_vector("strengths", {adapter_.slope_strength, adapter_.sources_strength, adapter_.features_strength});
  s.set_scalar("loo_mse", adapter_.loo_mse);
  return s;
}

void adapted_regressor::load(const model_state& state) {
  detail::check_header(state, kind(), state_version);
  const std::size_t m = state.count("sources");
  const std::size_t d = state.count("features");
  std::vector<std::unique_ptr<regressor>> sources;
  for (std::size_t j = 0; j < m; ++j) {
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "source/%03zu/", j);
    sources.push_back(load_regressor(state.extract_prefixed(prefix)));
    if (sources.back()->feature_count() != d) throw error("model state: adapted source " + std::to_string(j) + " expects another feature count");
  }
  log_adapter a;
  a.base = state.count("base");
  a.intercept = state.scalar("intercept");
  const std::vector<std::uint64_t> ms{m}, ds{d}, three{3};
  a.source_weight = state.numbers("source_weight", ms);
  a.feature_weight = state.numbers("feature_weight", ds);
  const auto& st = state.numbers("strengths", three);
  a.slope_strength = st[0];
  a.sources_strength = st[1];
  a.features_strength = st[2];
  a.loo_mse = state.scalar("loo_mse");
  if (m == 0 || a.base >= m) throw error("model state: adapted 'sources'/'base' malformed");
  sources_ = std::move(sources);
  adapter_ = std::move(a);
  features_ = d;
  fitted_ = true;
}

std::unique_ptr<regressor> adapted_regressor::clone_unfitted() const {
  std::vector<std::unique_ptr<regressor>> copies;
  for (const auto& s : sources_) copies.push_back(load_regressor(s->save()));
  return std::make_unique<adapted_regressor>(std::move(copies), options_);
}

}  // namespace esm::surrogate
