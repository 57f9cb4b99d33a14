// Datasets of latencies measured elsewhere (esm import): the same file as a profile run writes,
// with rows that claim nothing esm did not see.
#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"

namespace esm::dataset {

result_row imported_row(std::uint64_t arch_id, double latency_ms) {
  result_row row = pending_row();
  row.arch_id = arch_id;
  set_status(row, row_status::done);
  row.trimmed_mean_ms = latency_ms;
  row.run = 0;
  row.rank = 0;
  row.n = 0;  // every other statistic stays pending_row's NaN, device its -1
  return row;
}

void write_imported(MPI_Comm comm, const std::string& path, const provenance& prov, const run_info& run,
                    const std::vector<arch_entry>& plan, const std::vector<double>& latency_ms) {
  if (prov.max_samples != 0) throw error("an imported dataset has no samples (max_samples 0)");
  if (latency_ms.size() != plan.size()) throw error("write_imported: one latency per arch needed");
  create(comm, path, prov, run, plan);
  writer w(comm, path, run, "host=" + run.host + " pid=" + std::to_string(run.pid));
  batch b;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    b.rows.push_back(i);
    b.results.push_back(imported_row(plan[i].id, latency_ms[i]));
    b.samples.emplace_back();
  }
  w.write_batch(b, {}, {});
  run_end end;
  end.outcome = "complete";
  end.end_time = iso_utc_now();
  end.rows_done = plan.size();
  w.close(end);
}

}  // namespace esm::dataset
