// Synthetic latency datasets with a known truth, written through the real dataset writer (one
// rank), for the training tests: latency = sum over active ofa-mbv3 blocks of a cost that depends
// on (stage, kernel, expand) with strong kernel x expand interactions, times a resolution factor,
// plus optional multiplicative noise.
#pragma once

#include <mpi.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "esm/common/random.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/space/sampler.hpp"

namespace esm::test {

inline double synthetic_latency_ms(const space::arch& a) {
  // genes: [width, resolution, d1..d5, k (stage*4+pos) x20, e x20]
  double sum = 0.3;  // fixed head and stem
  for (int s = 0; s < 5; ++s) {
    for (int p = 0; p < a.genes[static_cast<std::size_t>(2 + s)]; ++p) {
      const int k = a.genes[static_cast<std::size_t>(7 + s * 4 + p)];
      const int e = a.genes[static_cast<std::size_t>(27 + s * 4 + p)];
      // Interaction: large kernels cost much more with large expansion (not additive in k and e).
      const double cost = 0.05 * (s + 1) * (1.0 + 0.02 * k * k * e);
      sum += cost;
    }
  }
  const double r = a.genes[1] / 224.0;
  return sum * r * r * (a.genes[0] == 1 ? 1.3 : 1.0);
}

/// Writes `count` depth-balanced ofa-mbv3 archs with synthetic labels to `path` (collective over
/// MPI_COMM_WORLD; call with one rank). `failed_every` > 0 marks every n-th row failed;
/// `fixed_resolution` > 0 samples w1.2 at that resolution only (block structure alone varies).
/// `group_size` > 0 makes measuring groups of that many consecutive rows, as interleaved profiles
/// do (one reference reading each), whose labels share a level error of `group_sd` (log sd).
inline void write_synthetic_dataset(const std::string& path, std::size_t count, double noise, std::uint64_t seed,
                                    std::size_t failed_every = 0, int fixed_resolution = 0,
                                    std::size_t group_size = 0, double group_sd = 0.0) {
  using namespace esm::dataset;
  const auto& sp = space::find_space("ofa-mbv3");
  space::sample_request req;
  req.count = count;
  req.seed = seed;
  if (fixed_resolution > 0) {
    req.constraints.resolution = fixed_resolution;
    req.constraints.variant = "w1.2";
  }
  std::vector<arch_entry> plan;
  const auto archs = space::sample_archs(sp, req);
  for (const auto& a : archs) {
    arch_entry e;
    e.text = sp.format(a);
    e.id = space::arch_id(e.text);
    e.genes = a.genes;
    e.depth = sp.depth(a);
    e.resolution = sp.resolution(a);
    plan.push_back(e);
  }
  provenance prov;
  prov.command_line = "synthetic";
  prov.config_text = "[space]\nname = ofa-mbv3\n";
  prov.config_hash = "0000000000000001";
  prov.space = "ofa-mbv3";
  prov.gene_names = sp.gene_names();
  prov.backend = "synthetic";
  prov.precision = "fp32";
  prov.batch_size = 1;
  prov.measure_policy = "synthetic";
  prov.max_samples = 1;
  prov.start_time = iso_utc_now();
  run_info run;
  run.command_line = "synthetic";
  run.host = "test";
  run.partition = "lpt";
  run.start_time = prov.start_time;
  std::filesystem::remove(path);
  create(MPI_COMM_WORLD, partial_path(path), prov, run, plan);
  std::filesystem::rename(partial_path(path), path);
  writer w(MPI_COMM_WORLD, path, run, "synthetic");
  batch b;
  rng r(seed + 1);
  double group_factor = 1.0;
  for (std::size_t i = 0; i < archs.size(); ++i) {
    if (group_size > 0 && i % group_size == 0) group_factor = std::exp(group_sd * r.normal());
    result_row row = pending_row();
    row.arch_id = plan[i].id;
    row.run = 0;
    row.rank = 0;
    if (failed_every && i % failed_every == failed_every - 1) {
      set_status(row, row_status::failed);
      row.error_code = static_cast<std::int32_t>(error_code::run_failed);
    } else {
      const double ms = synthetic_latency_ms(archs[i]) * (1.0 + noise * r.normal()) * group_factor;
      set_status(row, row_status::done);
      row.trimmed_mean_ms = row.median_ms = row.mean_ms = row.min_ms = row.max_ms = row.p10_ms = row.p90_ms = ms;
      row.std_ms = 0;
      row.reference_ms = group_size > 0 ? 2.0 + 1e-3 * static_cast<double>(i / group_size) : 2.0;
      row.normalised = ms / row.reference_ms;
      row.n = 1;
      row.start_unix_s = 1e9 + static_cast<double>(i);
      row.end_unix_s = row.start_unix_s + 0.5;
    }
    b.rows.push_back(i);
    b.results.push_back(row);
    b.samples.push_back({static_cast<float>(row.trimmed_mean_ms)});
  }
  w.write_batch(b, {}, {});
  run_end end;
  end.outcome = "complete";
  end.end_time = iso_utc_now();
  end.rows_done = archs.size();
  w.close(end);
}

}  // namespace esm::test
