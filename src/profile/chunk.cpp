// One rank's measuring of a chunk (design: chunk.hpp).
#include "profile/chunk.hpp"

#include <memory>
#include <optional>

#include "esm/measure/statistics.hpp"
#include "profile/rows.hpp"
#include "profile/signals.hpp"

namespace esm::profile {

void measure_chunk(const std::vector<std::uint64_t>& rows, const context& ctx, round_output& out) {
  std::vector<std::optional<failure>> failures(rows.size());
  std::vector<std::vector<backend::layer_algo>> algos(rows.size());
  // GPU: after each timed pass, one pass in the other launch mode (graph replay beside eager
  // launches, or the reverse), so both are timed under the same conditions; see docs/measurement.md.
  std::vector<std::vector<double>> other_ms(rows.size());
  std::vector<backend::launch_mode> modes(rows.size(), backend::launch_mode::eager);

  // A failing arch must not end the chunk: its workload is replaced by a constant one and the
  // failure recorded, so the batch driver (and the drift guard's windows) carry on unchanged.
  const measure::workload_factory factory = [&](std::size_t i) -> measure::workload {
    if (stop_level() >= 1) throw stop_requested();
    if (ctx.tick) ctx.tick();
    auto* failed = &failures[i];
    auto* other = &other_ms[i];
    try {
      const auto& entry = ctx.plan.at(rows[i]);
      const auto net = ctx.sp.build(ctx.sp.parse(entry.text), ctx.job.batch);
      std::shared_ptr<backend::executable> exe = ctx.be.compile(net, ctx.compile);
      algos[i] = exe->algorithms();
      modes[i] = exe->timed_mode();
      return [exe, failed, other]() -> double {
        if (stop_level() >= 2) throw stop_requested();
        if (*failed) return 1.0;
        try {
          const double ms = exe->timed_run_ms();
          if (const auto other_mode_ms = exe->timed_other_mode_ms()) other->push_back(*other_mode_ms);
          return ms;
        } catch (const std::exception& e) {
          *failed = classify(e, dataset::error_code::run_failed);
          return 1.0;
        }
      };
    } catch (const std::exception& e) {
      *failed = classify(e, dataset::error_code::compile_failed);
      return [] { return 1.0; };
    }
  };

  const measure::result_sink sink = [&](std::size_t i, const measure::measurement& m) {
    const std::uint64_t row = rows[i];
    const row_origin origin{ctx.plan[row].id, ctx.run, ctx.rank, ctx.device};
    std::vector<float> samples;
    if (failures[i]) {
      out.batch.results.push_back(failed_row(origin, m, *failures[i]));
      ++out.failed;
    } else {
      // NaN without other-mode passes (CPU backends, a GPU pass that could not be captured)
      const double other = measure::trimmed_mean_after(other_ms[i], static_cast<std::size_t>(std::max(m.warmup_runs, 0)),
                                                       ctx.job.measure.trim_fraction);
      out.batch.results.push_back(done_row(origin, m, other, modes[i]));
      samples = kept_samples(m, ctx.max_samples);
      out.remeasures += m.remeasure_count;
      const auto algos_of_row = algo_rows(algos[i], row, ctx.run, ctx.rank);
      out.batch.algos.insert(out.batch.algos.end(), algos_of_row.begin(), algos_of_row.end());
    }
    out.batch.rows.push_back(row);
    out.batch.samples.push_back(std::move(samples));
    (void)ctx.finished->fetch_add(1);
    if (ctx.tick) ctx.tick();
  };

  // A failure or the other-mode passes belong to one measurement (crossed mode builds an arch
  // twice within it): reset when a measurement starts, not at each build.
  const measure::measurement_start start = [&](std::size_t i) {
    failures[i].reset();
    other_ms[i].clear();
  };
  const auto result =
      measure::measure_batch(rows.size(), factory, ctx.reference, ctx.job.measure, sink, ctx.carry, start);
  for (const auto& c : result.checks) {
    const std::int64_t last = c.decision.archs.empty() ? -1 : static_cast<std::int64_t>(rows.at(c.decision.archs.back()));
    out.batch.drift.push_back(drift_row_of(c, last, ctx.run, ctx.rank));
  }
}

}  // namespace esm::profile
