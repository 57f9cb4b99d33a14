// The distributed `esm profile` run (design: include/esm/profile/profile.hpp): binding, the
// dataset's collective open, the measuring rounds and their collective writes. Its parts: how a
// run starts (restart), a chunk's measuring (chunk), the rows it writes (rows), stop signals
// (signals) and what it prints (run_report).
#include "esm/profile/profile.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "esm/cluster/binding.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/dataset/run_lock.hpp"
#include "esm/space/space.hpp"
#include "profile/chunk.hpp"
#include "profile/restart.hpp"
#include "profile/rows.hpp"
#include "profile/run_report.hpp"
#include "profile/signals.hpp"

namespace esm::profile {

using namespace esm::cluster;

namespace {

/// Collective. Binds this rank to its GPU, or pins it to its share of the node's CPUs, sets
/// `compile` accordingly, and refuses two ranks of one host on one GPU. `table`: on rank 0, the
/// rank table and any note, to print.
binding bind_rank(const communicator& world, const job_config& job, const backend::backend& be,
                  backend::compile_options& compile, std::string& table) {
  const communicator node = world.split_shared();
  const auto masks = all_gather(node, int_ranges_text(current_cpus()));
  binding mine;
  std::string note;
  all_or_none(world, [&] {
    mine.rank = world.rank();
    mine.local_rank = node.rank();
    mine.local_size = node.size();
    mine.pid = static_cast<long>(::getpid());
    mine.host = dataset::host_name();
    const auto query = job.synthetic_gpus.empty() ? be.devices() : backend::make_simulated_device_query(job.synthetic_gpus);
    if (query) {
      const auto id = select_gpu(*query, node.rank(), node.size(), job.share_devices);
      mine.device = compile.device = id.ordinal;
      compile.both_launch_modes = true;  // every GPU row records eager and graph-replay latency
      mine.device_name = id.name;
      mine.uuid = id.uuid;
      mine.pci_bus_id = id.pci_bus_id;
      mine.mig = id.mig;
      mine.visible_devices = query->count();
      const auto listed = driver_gpus();
      mine.node_gpus = listed.empty() ? -1 : static_cast<int>(listed.size());
      return;
    }
    std::vector<std::vector<int>> allowed;
    for (const auto& text : masks) allowed.push_back(parse_int_ranges(text));
    const auto plan = plan_cpus(allowed, node.rank(), job.compile.threads);
    pin_to(plan.cpus);
    mine.threads = compile.threads = plan.threads;
    mine.cpus = int_ranges_text(current_cpus());  // what the rank runs on, pinned here or by the launcher
    mine.device_name = "cpu";
    note = plan.note;
  });
  std::vector<binding> all;
  for (const auto& bytes : all_gather(world, encode(mine))) all.push_back(decode<binding>(bytes));
  all_or_none(world, [&] {
    if (world.rank() != 0) return;
    if (const auto shared = find_shared_device(all); shared && !job.share_devices) throw usage_error(*shared);
  });
  if (world.rank() == 0) table = rank_table(all) + (note.empty() ? "" : "esm profile: note: " + note + "\n");
  return mine;
}

/// Room a run needs beyond the file's end before it starts: its /runs group, the first batches'
/// drift and algorithm rows. A disk that cannot take this is refused before any rank writes.
constexpr std::uint64_t room_to_start = std::uint64_t{1} << 20;

/// Collective: a new dataset is built under a temporary name (by rank 0, in memory, then written)
/// and renamed once complete; then every rank opens it for writing. A full disk ends the command
/// with one line and exit code 2 on every rank, the temporary file removed and an existing dataset
/// untouched. Adds the time spent creating to `hdf5_seconds`.
std::unique_ptr<dataset::writer> open_dataset(const communicator& world, const job_config& job, const start_state& state,
                                              double& hdf5_seconds) {
  const std::string partial = dataset::partial_path(job.output);
  if (state.create) {
    const auto start = steady::now();
    all_or_none(world, [&] { dataset::create(world.get(), partial, state.prov, state.run, state.plan); });
    all_or_none(world, [&] {
      if (world.rank() != 0) return;
      std::error_code ec;
      std::filesystem::rename(partial, job.output, ec);
      if (ec) {
        const std::string why = ec.message();
        std::filesystem::remove(partial, ec);
        throw file_error("cannot write " + job.output + ": " + why);
      }
    });
    hdf5_seconds += seconds_since(start);
  }
  all_or_none(world, [&] {
    if (world.rank() != 0) return;
    try {
      dataset::check_room(job.output, room_to_start);
    } catch (const file_error&) {
      std::error_code ec;
      if (state.create) std::filesystem::remove(job.output, ec);  // this run's own, still empty
      throw;
    }
  });
  std::unique_ptr<dataset::writer> out;
  all_or_none(world, [&] { out = std::make_unique<dataset::writer>(world.get(), job.output, state.run, state.marker); });
  return out;
}

dataset::append_slot slot_for(const communicator& world, std::size_t count) {
  const auto [offset, total] = exclusive_scan(world, static_cast<std::int64_t>(count));
  return {static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(total)};
}

/// This run's totals, identical on every rank.
struct run_totals {
  std::int64_t rows = 0;        ///< rows finished (done or failed)
  std::int64_t failed = 0;
  std::int64_t remeasures = 0;
  bool interrupted = false;
};

/// Collective: the measuring rounds. Each rank measures chunks from its work source until the
/// round has lasted run.flush_interval_s (or it has nothing left, or a stop was asked); then all
/// ranks agree on whether to go on and write the round collectively.
run_totals measure_rounds(const communicator& world, const context& base, const start_state& state,
                          dataset::writer& out, dataset::run_lock* lock, double& round_wait_s) {
  const job_config& job = base.job;
  const bool root = world.rank() == 0;

  // Work distribution: the measuring groups drawn over the whole plan when the dataset was made
  // (so a resume keeps them), less their rows already done; whole groups by their sum of MACs.
  std::vector<bool> pending(state.plan.size(), false);
  for (const auto row : state.pending) pending[row] = true;
  const auto groups =
      kept_groups(draw_groups(state.plan.size(), static_cast<std::size_t>(state.prov.group_size), state.prov.group_seed),
                  [&](std::size_t row) { return pending[row]; });
  std::vector<double> macs;
  for (const auto& e : state.plan) macs.push_back(static_cast<double>(e.macs));
  const auto costs = group_costs(groups, macs);
  const auto rows_of = [&](std::size_t g) { return work_source::group(groups[g].begin(), groups[g].end()); };
  std::unique_ptr<shared_counter> counter;
  std::optional<work_source> source;
  std::vector<work_source::group> mine;
  if (job.partition == partition_mode::lpt) {
    const auto parts = lpt_partition(costs, world.size());
    for (const auto g : parts[static_cast<std::size_t>(world.rank())]) mine.push_back(rows_of(g));
    source.emplace(std::move(mine));
  } else {
    counter = std::make_unique<shared_counter>(world);
    for (const auto g : by_decreasing_cost(costs)) mine.push_back(rows_of(g));
    source.emplace(std::move(mine), *counter);
  }

  const auto total = static_cast<std::int64_t>(state.plan.size());
  const std::int64_t done_before = total - static_cast<std::int64_t>(state.pending.size());
  shared_counter finished(world);
  progress_printer progress(total, done_before, job.progress_interval_s);
  run_totals t;
  // Rank 0 prints (and beats the lock's heartbeat) between its own archs and while it waits for
  // the others at a round's end.
  const std::function<void()> tick = [&] {
    if (!root) return;
    if (lock) lock->heartbeat();
    progress.update(done_before + finished.fetch_add(0), done_before + t.rows, t.failed, t.remeasures, false);
  };
  measure::batch_carry carry;  // one baseline per rank and run, not one per chunk
  context ctx = base;
  ctx.finished = &finished;
  ctx.carry = &carry;
  if (root) ctx.tick = tick;

  for (;;) {
    round_output round;
    const auto round_start = steady::now();
    bool measured = false;
    while (stop_level() == 0 && source->has_more()) {
      if (measured && seconds_since(round_start) >= job.flush_interval_s) break;
      const auto chunk = source->next();
      if (chunk.empty()) break;
      measured = true;
      try {
        measure_chunk(chunk, ctx, round);
      } catch (const stop_requested&) {
        break;
      }
    }
    const int stopping = stop_level() > 0 ? 1 : 0;
    const auto wait_start = steady::now();
    const auto sums = sum(world, {source->has_more() && !stopping ? 1 : 0, stopping,
                                  static_cast<std::int64_t>(round.batch.rows.size()), round.failed, round.remeasures},
                          tick);
    round_wait_s += seconds_since(wait_start);
    out.write_batch(round.batch, slot_for(world, round.batch.drift.size()), slot_for(world, round.batch.algos.size()));
    t.rows += sums[2];
    t.failed += sums[3];
    t.remeasures += sums[4];
    tick();
    if (sums[1] > 0) {
      t.interrupted = true;
      break;
    }
    if (sums[0] == 0) break;
  }
  if (root) {
    progress.update(done_before + t.rows, done_before + t.rows, t.failed, t.remeasures, true);
    progress.finish_line();
  }
  return t;  // the counters' windows are freed here, collectively, on every rank
}

}  // namespace

dataset::arch_entry plan_entry(const space::search_space& sp, const space::arch& a) {
  dataset::arch_entry e;
  e.text = sp.format(a);
  e.id = space::arch_id(e.text);
  e.genes = a.genes;
  e.depth = sp.depth(a);
  e.resolution = sp.resolution(a);
  const auto net = sp.build(a, 1);
  e.macs = net.total_macs();
  e.params = net.total_params();
  return e;
}

int run_profile(const cluster::communicator& world, const profile_request& req) {
  const job_config& job = req.job;
  const bool root = world.rank() == 0;
  const auto started = steady::now();

  all_or_none(world, [&] {
    const std::string ntasks = env_or_empty("SLURM_NTASKS");
    if (!ntasks.empty() && ntasks != std::to_string(world.size())) {
      throw usage_error("SLURM_NTASKS is " + ntasks + " but MPI started " + std::to_string(world.size()) +
                        " ranks: launch with srun (or mpirun -n " + ntasks + ")");
    }
  });
  std::unique_ptr<backend::backend> be;
  all_or_none(world, [&] {
    be = backend::make_backend(job.backend);
    be->check(job.compile);  // on every rank: each runs on its own node's CPU
  });

  std::optional<dataset::run_lock> lock;  // rank 0 only
  phase_timings timings;
  const start_state state = decide_start(world, req, *be, lock, timings);
  const auto total = static_cast<std::int64_t>(state.plan.size());
  const auto done_before = total - static_cast<std::int64_t>(state.pending.size());

  backend::compile_options compile = job.compile;
  std::string table;
  const auto bind_start = steady::now();
  const binding mine = bind_rank(world, job, *be, compile, table);
  timings.bind_s = seconds_since(bind_start);

  // The reference network, compiled once per rank when the policy uses it.
  const auto& sp = space::find_space(job.space);
  measure::workload reference = []() -> double { throw error("the measurement policy used no reference network"); };
  all_or_none(world, [&] {
    if (job.measure.drift_every > 0 || job.measure.mode != measure::measure_mode::plain) {
      std::shared_ptr<backend::executable> exe = be->compile(sp.build(sp.parse(job.reference), job.batch), compile);
      reference = [exe] {
        if (stop_level() >= 2) throw stop_requested();
        return exe->timed_run_ms();
      };
    }
  });

  // Printed once the dataset is open: a refused output (a full disk) leaves stdout empty.
  double create_seconds = 0;
  const auto open_start = steady::now();
  const auto out = open_dataset(world, job, state, create_seconds);
  timings.create_s = create_seconds;
  timings.open_s = seconds_since(open_start) - create_seconds;
  if (root) {
    std::printf("esm profile: %lld archs of %s%s, backend %s %s batch %d, %d ranks, %s partition, chunk %lld "
                "(groups drawn with seed %llu)\n",
                static_cast<long long>(total), job.space.c_str(), job.width ? (" " + *job.width).c_str() : "",
                job.backend.c_str(), state.prov.precision.c_str(), job.batch, world.size(),
                std::string(to_string(job.partition)).c_str(), static_cast<long long>(state.prov.group_size),
                static_cast<unsigned long long>(state.prov.group_seed));
    if (!state.note.empty()) std::printf("esm profile: %s\n", state.note.c_str());
    std::printf("esm profile: %s %s: %lld done, %lld to measure\n", state.create ? "creating" : "resuming",
                job.output.c_str(), static_cast<long long>(done_before), static_cast<long long>(state.pending.size()));
    std::printf("%s", table.c_str());
    std::fflush(stdout);
  }
  int code = exit_code::ok;
  try {
    out->append_ranks({rank_row_of(mine, out->run_index())}, slot_for(world, 1));
    const context ctx{job,          sp,          state.plan, *be, compile, reference, out->max_samples(),
                      out->run_index(), world.rank(), mine.device, nullptr, nullptr, {}};
    const auto t = measure_rounds(world, ctx, state, *out, lock ? &*lock : nullptr, timings.round_wait_s);

    dataset::run_end end;
    end.outcome = t.interrupted ? "interrupted" : "complete";
    end.end_time = root ? dataset::iso_utc_now() : std::string();
    broadcast(world, end.end_time);
    end.rows_done = static_cast<std::uint64_t>(t.rows);
    end.hdf5_seconds = max(world, create_seconds + out->stats().seconds);
    const auto independent = sum(world, static_cast<std::int64_t>(out->stats().independent_transfers));
    out->close(end);
    if (req.timings) print_timings(world, timings, out->stats());
    if (root) {
      const double wall = seconds_since(started);
      std::printf("esm profile: %s: %lld rows measured in this run (%lld failed, %lld re-measured), %lld/%lld done; "
                  "wall %.1f s, HDF5 %.2f s (slowest rank, %.1f%%)%s\n",
                  end.outcome.c_str(), static_cast<long long>(t.rows), static_cast<long long>(t.failed),
                  static_cast<long long>(t.remeasures), static_cast<long long>(done_before + t.rows - t.failed),
                  static_cast<long long>(total), wall, end.hdf5_seconds, wall > 0 ? 100.0 * end.hdf5_seconds / wall : 0.0,
                  independent > 0 ? ("; " + std::to_string(independent) + " transfers ran independently (" +
                                     out->stats().last_independent_cause + ")")
                                        .c_str()
                                  : "");
      if (t.interrupted) std::printf("esm profile: interrupted; continue with --resume\n");
      std::fflush(stdout);
    }
    if (t.interrupted) code = exit_code::interrupted;
  } catch (const std::exception& e) {
    // The ranks may be in different places of the loop: no agreement is possible, abort them all.
    abort_all(world, e.what());
  }
  if (lock) lock->release();
  return code;
}

}  // namespace esm::profile
