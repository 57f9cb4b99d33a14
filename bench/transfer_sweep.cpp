// The leave-one-device-out sweep behind bench/transfer.sh (issue 29): one target dataset, its
// source models, every K and seed, random picks and esm select's picks, scored on every arch not
// picked. Calls the library functions esm select and esm adapt run (train/adapt.hpp,
// surrogate/adapted.hpp), with the sources' predictions computed once per target rather than once
// per fit: the numbers are those of the commands, minus their file handling.
//
// Usage: esm_bench_transfer TARGET.h5 SOURCE.model.h5...   Env: KS (5,10,20,50,100), SEEDS (20),
//   FIRST_SEED (0; the development split used 100), ADAPT_RESCALE_BELOW and ADAPT_POOLED (adapt's
//   options; unset: the library's defaults)
// Prints CSV: k,seed,picker,method,within_5,within_10,mape_percent,spearman,coverage_90,
//   coverage_90_conformal,fit_ms,base,slope,others,features. coverage_90 is of the intervals esm
//   adapt writes (conformal with the small-sample floor), coverage_90_conformal of the conformal
//   quantile alone; base..features is the fit's choice (base source(s), each block's strength, 0 = off).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "esm/common/random.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/features/encoding.hpp"
#include "esm/surrogate/metrics.hpp"
#include "esm/train/adapt.hpp"
#include "esm/train/cross_validation.hpp"
#include "esm/train/intervals.hpp"
#include "esm/train/training_data.hpp"

namespace {

using esm::surrogate::matrix;
using esm::surrogate::matrix_view;

std::vector<std::size_t> parse_list(const char* text, const char* fallback) {
  std::vector<std::size_t> out;
  std::stringstream in(text ? text : fallback);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoul(item));
  return out;
}

struct scored {
  esm::surrogate::regression_metrics m;
  double coverage = std::nan(""), coverage_conformal = std::nan("");
  double fit_ms = 0;
  esm::surrogate::log_adapter fit;
};

double coverage_of(const esm::train::interval_table& table, const std::vector<double>& pred, const std::vector<double>& truth,
                   const std::vector<int>& bins, const std::vector<std::size_t>& rest) {
  double hit = 0;
  for (std::size_t r = 0; r < rest.size(); ++r) {
    const auto [lo, hi] = esm::train::interval_for(table, pred[r], bins[rest[r]]);
    hit += truth[r] >= lo && truth[r] <= hi;
  }
  return hit / static_cast<double>(rest.size());
}

/// Predictions of `a` on the rows not picked, scored; intervals from its leave-one-out predictions.
scored score(const esm::surrogate::log_adapter& a, matrix_view z, matrix_view x, const std::vector<double>& y,
             const std::vector<int>& bins, const std::vector<std::size_t>& picks, const std::vector<std::size_t>& rest,
             bool with_intervals) {
  scored s;
  std::vector<double> pred, truth;
  for (auto i : rest) {
    pred.push_back(std::exp(a.predict_log(z.cols ? z.row(i).data() : nullptr, x.cols ? x.row(i).data() : nullptr)));
    truth.push_back(y[i]);
  }
  s.m = esm::surrogate::evaluate(pred, truth);
  if (!with_intervals) return s;
  std::vector<double> loo_ms, yk;
  std::vector<int> bk;
  for (std::size_t j = 0; j < picks.size(); ++j) {
    loo_ms.push_back(std::exp(a.loo_log[j]));
    yk.push_back(y[picks[j]]);
    bk.push_back(bins[picks[j]]);
  }
  s.coverage = coverage_of(esm::train::fit_intervals_small_sample(loo_ms, yk, bk, esm::train::interval_level), pred, truth, bins, rest);
  s.coverage_conformal = coverage_of(esm::train::fit_intervals(loo_ms, yk, bk, esm::train::interval_level), pred, truth, bins, rest);
  return s;
}

template <class Fit>
scored timed(Fit&& fit, matrix_view z, matrix_view x, const std::vector<double>& y, const std::vector<int>& bins,
             const std::vector<std::size_t>& picks, const std::vector<std::size_t>& rest, bool intervals) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto a = fit();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  auto s = score(a, z, x, y, bins, picks, rest, intervals);
  s.fit_ms = ms;
  s.fit = a;
  return s;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: esm_bench_transfer TARGET.h5 SOURCE.model.h5...\n");
    return 2;
  }
  const std::vector<std::string> models(argv + 2, argv + argc);
  const auto sources = esm::train::load_sources(models);
  const auto& info = sources.front().file.info;
  const auto contents = esm::dataset::read(argv[1]);
  const auto data = esm::train::load_training_data(contents, esm::train::resolve_label("auto", contents));
  const auto& sp = esm::space::find_space(info.space);
  const esm::features::encoder enc(sp, esm::features::encoding_spec::parse(info.encoding));
  const auto fx = enc.encode(data.archs);
  const matrix_view x(fx.rows, fx.cols, fx.data);
  const esm::surrogate::adapted_regressor all(esm::train::source_regressors(sources));
  const matrix z = all.source_log_predictions(x);
  const matrix compact = esm::train::compact_features(sp, data.archs);
  const matrix embedding = esm::train::selection_embedding(z, compact);
  const std::size_t n = data.y.size();
  std::vector<double> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = std::log(data.y[i]);

  esm::surrogate::log_adapter_options options;
  if (const char* v = std::getenv("ADAPT_RESCALE_BELOW")) options.rescale_only_below = std::stoul(v);
  if (const char* v = std::getenv("ADAPT_POOLED")) options.pooled_bases = std::string(v) == "1";
  const std::size_t first_seed = parse_list(std::getenv("FIRST_SEED"), "0").front();
  std::printf("k,seed,picker,method,within_5,within_10,mape_percent,spearman,coverage_90,coverage_90_conformal,fit_ms,base,slope,others,features\n");
  for (const auto k : parse_list(std::getenv("KS"), "5,10,20,50,100")) {
    for (std::size_t seed = first_seed; seed < first_seed + parse_list(std::getenv("SEEDS"), "20").front(); ++seed) {
      for (const char* picker : {"random", "select"}) {
        std::vector<std::size_t> picks;
        if (picker[0] == 'r') {
          std::vector<std::size_t> order(n);
          std::iota(order.begin(), order.end(), 0);
          esm::rng r(seed);
          esm::shuffle(order, r);
          picks.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
          std::sort(picks.begin(), picks.end());
        } else {
          picks = esm::train::spread_picks(embedding, k, seed);
        }
        std::vector<bool> picked(n, false);
        for (auto i : picks) picked[i] = true;
        std::vector<std::size_t> rest;
        for (std::size_t i = 0; i < n; ++i)
          if (!picked[i]) rest.push_back(i);
        const matrix zk = esm::surrogate::select_rows(z, picks);
        const matrix xk = esm::surrogate::select_rows(x, picks);
        const matrix ck = esm::surrogate::select_rows(compact, picks);
        const auto tk = esm::surrogate::select(t, picks);
        const matrix none_k(k, 0), none(n, 0);
        const std::pair<const char*, scored> rows[] = {
            {"adapt", timed([&] { return esm::surrogate::fit_log_adapter(zk, xk, tk, options); }, z, x, data.y, data.bins, picks, rest, true)},
            {"rescaled_best_source", timed([&] { return esm::surrogate::fit_rescaled_best(zk, tk); }, z, none, data.y, data.bins, picks, rest, true)},
            {"scratch_compact", timed([&] { return esm::surrogate::fit_log_adapter(none_k, ck, tk); }, none, compact, data.y, data.bins, picks, rest, true)},
        };
        for (const auto& [method, s] : rows) {
          std::printf("%zu,%zu,%s,%s,%.6f,%.6f,%.4f,%.6f,%.4f,%.4f,%.2f,%s,%g,%g,%g\n", k, seed, picker, method, s.m.within_5,
                      s.m.within_10, s.m.mape_percent, s.m.spearman_rho, s.coverage, s.coverage_conformal, s.fit_ms,
                      s.fit.base_label().c_str(), s.fit.slope_strength, s.fit.sources_strength, s.fit.features_strength);
        }
      }
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "esm_bench_transfer: %s\n", e.what());
  return 1;
}
