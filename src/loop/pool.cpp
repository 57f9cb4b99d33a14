// The closed loop's pool mode (design: src/loop/pool.hpp).
#include "loop/pool.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "esm/common/error.hpp"
#include "esm/common/sha256.hpp"
#include "esm/dataset/run_lock.hpp"
#include "esm/features/encoding.hpp"
#include "esm/profile/profile.hpp"
#include "esm/space/sampler.hpp"
#include "esm/train/cross_validation.hpp"

namespace esm::loop {

namespace {

std::string pct(double share) {
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", 100 * share);
  return text;
}

}  // namespace

pool read_pool(const std::string& path, const profile::job_config& job, std::size_t initial, bool allow_synthetic) {
  const auto c = dataset::read(path);  // usage_error for a missing file or not a dataset
  const std::string where = "loop.pool: '" + path + "' ";
  if (c.prov.space != job.space) {
    throw usage_error(where + "holds " + c.prov.space + " archs, the job's space.name is " + job.space);
  }
  if (job.width && *job.width != c.prov.variant) {
    throw usage_error(where + "holds width " + c.prov.variant + " archs, the job's space.width is " + *job.width);
  }
  if (c.prov.synthetic && !allow_synthetic) {
    throw usage_error(where + "is synthetic (latencies computed from MACs); pass --allow-synthetic to loop over it");
  }
  pool p;
  p.path = path;
  p.input_sha256 = std::filesystem::path(path).filename().string() + "=" + sha256_file(path);
  p.prov = c.prov;
  const auto& sp = space::find_space(job.space);
  for (std::size_t i = 0; i < c.archs.size(); ++i) {
    const auto& r = c.results[i];
    if (dataset::status_of(r) != dataset::row_status::done || !(r.trimmed_mean_ms > 0) ||
        (job.resolution && c.archs[i].resolution != *job.resolution)) {
      ++p.left_out;
      continue;
    }
    p.index_of.emplace(c.archs[i].id, p.archs.size());
    p.archs.push_back(c.archs[i]);
    p.parsed.push_back(sp.parse(c.archs[i].text));
    p.latency_ms.push_back(r.trimmed_mean_ms);
  }
  if (p.archs.size() < initial) {
    throw usage_error(where + "has " + std::to_string(p.archs.size()) + " usable rows (done" +
                      (job.resolution ? ", resolution " + std::to_string(*job.resolution) : std::string()) +
                      "), fewer than loop.initial (" + std::to_string(initial) + ")");
  }
  return p;
}

dataset::provenance pool_provenance(const pool& p, const profile::job_config& job, const std::string& command_line) {
  dataset::provenance d = p.prov;
  d.command_line = command_line;
  d.config_text = "[pool]\npath = " + p.path + "\ninput_sha256 = " + p.input_sha256 + "\n" + job.text;
  d.config_hash = job.config_hash;
  d.sample_seed = job.seed;
  d.backend = "imported";
  d.measure_policy = "pool: looked up in " + p.path + " by esm loop (loop.pool), not measured here; the pool's: " +
                     p.prov.measure_policy;
  d.max_samples = 0;
  d.group_seed = 0;
  d.group_size = 0;
  d.start_time = dataset::iso_utc_now();
  d.imported_from = p.prov.imported_from.empty() ? "esm dataset " + p.path + " (backend " + p.prov.backend + ")"
                                                  : p.prov.imported_from;
  if (d.device.empty()) d.device = p.prov.backend;
  d.input_sha256 = p.input_sha256;
  return d;
}

std::vector<std::size_t> rows_left(const pool& p, const std::unordered_set<std::uint64_t>& taken) {
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < p.archs.size(); ++i) {
    if (!taken.contains(p.archs[i].id)) rows.push_back(i);
  }
  return rows;
}

std::vector<dataset::arch_entry> initial_from_pool(const pool& p, const profile::job_config& job,
                                                   const std::vector<int>& bins, std::size_t count) {
  const auto request = job.sample_request();
  std::map<int, double> weights;
  if (request.policy == space::sample_policy::balanced) {
    for (const int b : bins) weights[b] = 1;
  } else if (request.policy == space::sample_policy::weighted) {
    weights = request.bin_weights;
  }
  std::vector<int> depth;
  for (const auto& a : p.archs) depth.push_back(a.depth);
  std::vector<dataset::arch_entry> plan;
  for (const auto i : draw_from_pool(depth, count, weights, train::task_seed(job.seed, 3, 0))) plan.push_back(p.archs[i]);
  return plan;
}

void fill_from_pool(const std::string& path, const pool& p, const dataset::provenance& prov,
                    const dataset::run_info& run, const std::vector<dataset::arch_entry>& plan) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    const auto partial = dataset::partial_path(path);
    dataset::create(MPI_COMM_SELF, partial, prov, run, plan);
    std::filesystem::rename(partial, path);
  }
  auto lock = dataset::run_lock::acquire(path, {dataset::host_name(), static_cast<long>(::getpid()), dataset::iso_utc_now(), ""});
  const auto c = dataset::read(path);
  if (c.prov.input_sha256 != p.input_sha256) {
    throw usage_error("'" + path + "' was grown from the pool " + c.prov.input_sha256 + ", not " + p.input_sha256);
  }
  dataset::batch b;
  for (std::size_t i = 0; i < c.results.size(); ++i) {
    if (dataset::status_of(c.results[i]) == dataset::row_status::done) continue;
    const auto it = p.index_of.find(c.archs[i].id);
    if (it == p.index_of.end()) {
      throw usage_error("'" + path + "': arch " + c.archs[i].text + " is not a usable row of the pool " + p.path);
    }
    b.rows.push_back(i);
    b.results.push_back(dataset::imported_row(c.archs[i].id, p.latency_ms[it->second]));
    b.samples.emplace_back();
  }
  dataset::writer w(MPI_COMM_SELF, path, run, "host=" + run.host + " pid=" + std::to_string(run.pid));
  w.write_batch(b, {}, {});
  dataset::run_end end;
  end.outcome = "complete";
  end.end_time = dataset::iso_utc_now();
  end.rows_done = b.rows.size();
  w.close(end);
  lock.release();
}

holdout_score score_holdout(const pool& p, const std::unordered_set<std::uint64_t>& taken,
                            const surrogate::ensemble_regressor& model, const std::string& encoding,
                            const space::search_space& sp) {
  holdout_score s;
  std::vector<space::arch> archs;
  std::vector<double> truth;
  std::vector<int> bins;
  for (const auto i : rows_left(p, taken)) {
    archs.push_back(p.parsed[i]);
    truth.push_back(p.latency_ms[i]);
    bins.push_back(p.archs[i].depth);
  }
  if (archs.empty()) return s;
  const features::encoder enc(sp, features::encoding_spec::parse(encoding));
  const auto x = enc.encode(archs);
  const auto predicted = model.predict(surrogate::matrix_view(x.rows, x.cols, x.data));
  s.all = surrogate::evaluate(predicted, truth);
  s.per_bin = surrogate::evaluate_by_group(predicted, truth, bins);
  return s;
}

std::string holdout_line(const holdout_score& s) {
  if (s.all.n == 0) return "pool held-out: no pool arch left to score";
  std::string line = "pool held-out: " + std::to_string(s.all.n) + " archs, within 10% " + pct(s.all.within_10) +
                     ", within 5% " + pct(s.all.within_5) + ", MAPE " + pct(s.all.mape_percent / 100);
  const surrogate::group_metrics* worst = nullptr;
  for (const auto& g : s.per_bin) {
    if (!worst || g.metrics.within_10 < worst->metrics.within_10) worst = &g;
  }
  if (worst) line += " (min " + pct(worst->metrics.within_10) + " at depth " + std::to_string(worst->label) + ")";
  return line;
}

void append_holdout_csv(const std::string& path, const holdout_score& s) {
  std::error_code ec;
  const bool fresh = !std::filesystem::exists(path, ec) || std::filesystem::file_size(path, ec) == 0;
  std::ofstream out(path, std::ios::app);
  if (fresh) out << "iteration,archs,bin,n,within_5,within_10,mape_percent\n";
  const auto row = [&](const std::string& bin, const surrogate::regression_metrics& m) {
    char text[160];
    std::snprintf(text, sizeof text, "%zu,%zu,%s,%zu,%.6f,%.6f,%.6f\n", s.iteration, s.samples, bin.c_str(), m.n,
                  m.within_5, m.within_10, m.mape_percent);
    out << text;
  };
  row("all", s.all);
  for (const auto& g : s.per_bin) row(std::to_string(g.label), g.metrics);
  if (!out.flush()) throw file_error("cannot write '" + path + "'");
}

}  // namespace esm::loop
