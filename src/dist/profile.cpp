// The distributed `esm profile` run (design: include/esm/dist/profile.hpp).
#include "esm/dist/profile.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <type_traits>

#include "dist/wire.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/dataset/run_lock.hpp"
#include "esm/dist/binding.hpp"
#include "esm/measure/batch.hpp"
#include "esm/measure/statistics.hpp"
#include "esm/space/space.hpp"

namespace esm::dist {

namespace {

using steady = std::chrono::steady_clock;

// 0: run; 1: finish the arch in flight, then stop (SIGUSR1); 2: abandon it (SIGTERM).
std::atomic<int> stop_level{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int signal_number) {
  const int wanted = signal_number == SIGTERM ? 2 : 1;
  int current = stop_level.load();
  while (current < wanted && !stop_level.compare_exchange_weak(current, wanted)) {
  }
}

/// Thrown out of a workload or the workload factory to leave measure_batch when a stop was asked.
struct stop_requested : std::exception {
  [[nodiscard]] const char* what() const noexcept override { return "stop requested"; }
};

double seconds_since(steady::time_point start) { return std::chrono::duration<double>(steady::now() - start).count(); }

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto total = static_cast<long long>(s + 0.5);
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, total / 60 % 60);
  } else if (total >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%llds", total);
  }
  return text;
}

/// Wall times of the phases whose cost grows with the rank count or the plan, not with the archs a
/// rank measures (esm profile --timings; docs/performance.md, "Scaling to hundreds of ranks").
struct phase_timings {
  double plan_s = 0;         ///< rank 0: sampling the plan, building each network for its MACs
  double inspect_s = 0;      ///< rank 0: the run lock and reading a dataset to resume
  double broadcast_s = 0;    ///< this rank: encoding (rank 0) and receiving rank 0's decisions
  double decode_s = 0;       ///< this rank: decoding them (the plan's entries)
  std::uint64_t broadcast_bytes = 0;
  double bind_s = 0;         ///< this rank: binding (rank table gathered)
  double create_s = 0;       ///< creating the file (rank 0 builds it)
  double open_s = 0;         ///< this rank: the collective open for writing
  double round_wait_s = 0;   ///< this rank: waiting at round ends for the others (their chunk in flight)
};

/// CPU seconds (user + system) this process has used so far.
double cpu_seconds() {
  rusage u{};
  if (::getrusage(RUSAGE_SELF, &u) != 0) return std::numeric_limits<double>::quiet_NaN();
  const auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

/// This process's peak resident set (VmHWM of /proc/self/status), MiB; NaN where unreadable.
double peak_rss_mib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return std::numeric_limits<double>::quiet_NaN();
  char line[256];
  double kib = std::numeric_limits<double>::quiet_NaN();
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "VmHWM: %lf kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib / 1024.0;
}

// ---- wire encodings of what rank 0 decides ----------------------------------------------------

/// What rank 0 found or decided before the collective open.
struct start_state {
  std::vector<dataset::arch_entry> plan;
  bool create = false;
  std::vector<std::uint64_t> pending;  ///< rows to measure (not done), ascending
  dataset::provenance prov;
  dataset::run_info run;
  std::string marker;
  std::string note;  ///< e.g. a stale lock taken over
};

// Field lists for both directions of the wire encoding (S is T or const T).
template <class Io, class S>
void transfer(Io& io, S& e) requires std::is_same_v<std::remove_const_t<S>, dataset::arch_entry> {
  io(e.text), io(e.id), io(e.genes), io(e.depth), io(e.resolution), io(e.macs), io(e.params);
}

template <class Io, class S>
void transfer(Io& io, S& s) requires std::is_same_v<std::remove_const_t<S>, start_state> {
  std::uint64_t n = s.plan.size();
  io(n);
  if constexpr (!std::is_const_v<S>) s.plan.resize(n);
  for (auto& e : s.plan) transfer(io, e);
  auto create = static_cast<std::uint8_t>(s.create);
  io(create);
  if constexpr (!std::is_const_v<S>) s.create = create != 0;
  auto& p = s.prov;
  io(p.command_line), io(p.config_text), io(p.config_hash), io(p.space), io(p.variant), io(p.backend);
  io(p.precision), io(p.measure_policy), io(p.mpi_library_version), io(p.backend_version), io(p.start_time);
  io(p.gene_names), io(p.batch_size), io(p.sample_seed), io(p.weights_seed), io(p.max_samples);
  auto synthetic = static_cast<std::uint8_t>(p.synthetic);
  io(synthetic);
  if constexpr (!std::is_const_v<S>) p.synthetic = synthetic != 0;
  auto& i = s.run;
  io(i.command_line), io(i.host), io(i.partition), io(i.start_time), io(i.slurm_job_id), io(i.slurm_array_job_id);
  io(i.slurm_array_task_id), io(i.pid), io(i.world_size);
  io(s.pending), io(s.marker), io(s.note);
}

template <class Io, class S>
void transfer(Io& io, S& b) requires std::is_same_v<std::remove_const_t<S>, binding> {
  io(b.rank), io(b.local_rank), io(b.local_size), io(b.pid), io(b.host), io(b.device), io(b.device_name);
  io(b.uuid), io(b.pci_bus_id), io(b.threads), io(b.cpus);
  auto mig = static_cast<std::uint8_t>(b.mig);
  io(mig);
  if constexpr (!std::is_const_v<S>) b.mig = mig != 0;
  io(b.visible_devices), io(b.node_gpus);
}

template <class T>
std::string encode(const T& object) {
  wire::writer w;
  transfer(w, object);
  return w.take();
}

template <class T>
T decode(const std::string& bytes) {
  wire::reader r(bytes);
  T object;
  transfer(r, object);
  return object;
}

// ---- rank 0's decisions ------------------------------------------------------------------------

std::vector<dataset::arch_entry> build_plan(const job_config& job) {
  const auto& sp = space::find_space(job.space);
  std::vector<dataset::arch_entry> plan;
  for (const auto& a : space::sample_archs(sp, job.sample_request())) plan.push_back(plan_entry(sp, a));
  return plan;
}

/// Rank 0: the lock is taken; decide between creating and resuming, and what is left to do.
void inspect_output(const profile_request& req, start_state& s) {
  const std::string& path = req.job.output;
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (exists && !req.resume) {
    throw usage_error("'" + path + "' exists: pass --resume to continue it, or choose another output");
  }
  if (!exists) {
    s.create = true;
    s.pending.resize(s.plan.size());
    for (std::size_t i = 0; i < s.plan.size(); ++i) s.pending[i] = i;
    return;
  }
  const auto c = dataset::read(path);
  if (c.schema_version != dataset::schema_version) {
    throw usage_error("'" + path + "' has dataset schema version " + std::to_string(c.schema_version) +
                      ": --resume appends only to version " + std::to_string(dataset::schema_version) +
                      " files; profile into a new output");
  }
  if (c.prov.config_hash != s.prov.config_hash) {
    throw usage_error("'" + path + "' was made with another configuration (config hash " + c.prov.config_hash +
                      ", this run " + s.prov.config_hash +
                      "): --resume needs the same [space] [sample] [measure] [backend] settings");
  }
  if (c.archs.size() != s.plan.size()) throw usage_error("'" + path + "' holds a plan of another size");
  for (std::size_t i = 0; i < s.plan.size(); ++i) {
    if (c.archs[i].id != s.plan[i].id || c.results[i].arch_id != s.plan[i].id) {
      throw usage_error("'" + path + "' row " + std::to_string(i) + " holds another architecture than this plan");
    }
    if (c.results[i].status != static_cast<std::int32_t>(dataset::row_status::done)) s.pending.push_back(i);
  }
}

// ---- measuring ---------------------------------------------------------------------------------

struct failure {
  dataset::error_code code = dataset::error_code::internal;
  std::string message;
};

failure classify(const std::exception& e, dataset::error_code otherwise) {
  std::string message = e.what();
  message = message.substr(0, message.find('\n'));
  std::string lower = message;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  const bool oom = dynamic_cast<const std::bad_alloc*>(&e) != nullptr || lower.find("out of memory") != std::string::npos;
  return {oom ? dataset::error_code::out_of_memory : otherwise, message};
}

/// Everything a rank needs to measure, fixed for the run.
struct context {
  const job_config& job;
  const space::search_space& sp;
  const std::vector<dataset::arch_entry>& plan;
  const backend::backend& be;
  backend::compile_options compile;
  measure::workload reference;
  std::int64_t max_samples = 0;
  int run = 0;
  int rank = 0;
  int device = -1;
  shared_counter* finished = nullptr;   ///< archs final on any rank in this run (progress)
  measure::batch_carry* carry = nullptr;  ///< the drift guard's baseline across this rank's chunks
  std::function<void()> tick;           ///< rank 0: maybe print a progress line
};

/// What a rank hands to the next collective write, plus counters for progress.
struct round_output {
  dataset::batch batch;
  std::int64_t failed = 0;
  std::int64_t remeasures = 0;
};

/// Measures `rows` with one measure_batch call; final results go into `out` as they come. Throws
/// stop_requested when a stop signal cut the chunk short (what was final is in `out`).
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
    if (stop_level.load() >= 1) throw stop_requested();
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
        if (stop_level.load() >= 2) throw stop_requested();
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
    dataset::result_row r = dataset::pending_row();
    r.arch_id = ctx.plan[row].id;
    r.run = ctx.run;
    r.rank = ctx.rank;
    r.device = ctx.device;
    r.start_unix_s = static_cast<double>(m.start_unix_ns) / 1e9;
    r.end_unix_s = static_cast<double>(m.end_unix_ns) / 1e9;
    std::vector<float> samples;
    if (failures[i]) {
      r.status = static_cast<std::int32_t>(dataset::row_status::failed);
      r.error_code = static_cast<std::int32_t>(failures[i]->code);
      dataset::set_text(r.error_message, failures[i]->message);
      ++out.failed;
    } else {
      r.status = static_cast<std::int32_t>(dataset::row_status::done);
      r.trimmed_mean_ms = m.stats.trimmed_mean_ms;
      r.median_ms = m.stats.median_ms;
      r.mean_ms = m.stats.mean_ms;
      r.std_ms = m.stats.std_ms;
      r.min_ms = m.stats.min_ms;
      r.max_ms = m.stats.max_ms;
      r.p10_ms = m.stats.p10_ms;
      r.p90_ms = m.stats.p90_ms;
      r.reference_ms = m.reference_ms;
      r.normalised = m.normalised;
      // NaN without other-mode passes (CPU backends, a GPU pass that could not be captured)
      const double other = measure::trimmed_mean_after(other_ms[i], static_cast<std::size_t>(std::max(m.warmup_runs, 0)),
                                                       ctx.job.measure.trim_fraction);
      const bool graph_timed = modes[i] == backend::launch_mode::graph;
      r.eager_ms = graph_timed ? other : r.trimmed_mean_ms;
      r.graph_ms = graph_timed ? r.trimmed_mean_ms : other;
      r.n = static_cast<std::int32_t>(m.samples_ms.size());
      r.remeasures = m.remeasure_count;
      const auto kept = std::min<std::size_t>(m.samples_ms.size(), static_cast<std::size_t>(ctx.max_samples));
      samples.assign(m.samples_ms.begin(), m.samples_ms.begin() + static_cast<std::ptrdiff_t>(kept));
      out.remeasures += m.remeasure_count;
      for (const auto& a : algos[i]) {
        dataset::algo_row ar{};
        ar.workspace_bytes = a.workspace_bytes;
        ar.arch_row = static_cast<std::int64_t>(row);
        ar.run = ctx.run;
        ar.rank = ctx.rank;
        ar.layer = a.layer;
        ar.algo_id = a.id;
        dataset::set_text(ar.name, a.name);
        out.batch.algos.push_back(ar);
      }
    }
    out.batch.rows.push_back(row);
    out.batch.results.push_back(r);
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
    dataset::drift_row d{};
    d.time_unix_s = static_cast<double>(c.time_unix_ns) / 1e9;
    d.reference_ms = c.reference_ms;
    d.baseline_ms = c.baseline_ms;
    d.relative_change = c.decision.relative_change;
    d.arch_row = c.decision.archs.empty() ? -1 : static_cast<std::int64_t>(rows.at(c.decision.archs.back()));
    d.run = ctx.run;
    d.rank = ctx.rank;
    d.verdict = static_cast<std::int32_t>(c.decision.verdict);
    d.window = static_cast<std::int32_t>(c.decision.archs.size());
    d.threshold = c.threshold;
    out.batch.drift.push_back(d);
  }
}

/// Where a rank's next chunk comes from.
class work_source {
 public:
  /// Static share (LPT), in the order to measure.
  explicit work_source(std::vector<std::uint64_t> mine) : rows_(std::move(mine)) {}
  /// Dynamic: chunks of the cost-ordered list of all pending rows, from a shared counter.
  work_source(std::vector<std::uint64_t> all, shared_counter& counter) : rows_(std::move(all)), counter_(&counter) {}

  [[nodiscard]] bool has_more() const { return !exhausted_; }

  std::vector<std::uint64_t> next(int chunk) {
    const auto n = static_cast<std::int64_t>(rows_.size());
    std::int64_t first = next_;
    if (counter_) first = counter_->fetch_add(chunk);
    const std::int64_t last = std::min<std::int64_t>(first + chunk, n);
    if (!counter_) next_ = last;
    std::vector<std::uint64_t> out;
    for (std::int64_t i = first; i < last; ++i) out.push_back(rows_[static_cast<std::size_t>(i)]);
    if (out.empty() || (!counter_ && next_ >= n)) exhausted_ = true;
    return out;
  }

 private:
  std::vector<std::uint64_t> rows_;
  shared_counter* counter_ = nullptr;
  std::int64_t next_ = 0;
  bool exhausted_ = false;
};

/// Whether rank 0's stdout is a terminal the user watches. Under a launcher (mpirun, srun) the
/// ranks' stdout is a pseudo-terminal even when the launcher's own output goes to a file, so
/// isatty cannot tell: plain lines there.
bool in_place_possible() {
  for (const char* launcher : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_PROCID"}) {
    if (std::getenv(launcher)) return false;
  }
  return ::isatty(STDOUT_FILENO) != 0;
}

/// Rank 0's progress lines: rewritten in place on a terminal, one line each otherwise.
class progress_printer {
 public:
  progress_printer(std::int64_t total, std::int64_t done_before, double interval_s)
      : total_(total), done_before_(done_before), interval_s_(interval_s), tty_(in_place_possible()) {}

  /// `finished`: rows done before this run + rows final on any rank now (the shared counter);
  /// `written`: rows flushed to the file; `failed`, `remeasures`: this run's, as written.
  void update(std::int64_t finished, std::int64_t written, std::int64_t failed, std::int64_t remeasures, bool force) {
    const double elapsed = seconds_since(start_);
    const bool changed = finished != last_finished_ || written != last_written_;
    // Unchanged numbers are repeated only as a sign of life, at most once a second.
    if (force ? !changed : elapsed - last_ < (changed ? interval_s_ : std::max(interval_s_, 1.0))) return;
    last_ = elapsed;
    last_finished_ = finished;
    last_written_ = written;
    const double rate = elapsed > 0 ? static_cast<double>(finished - done_before_) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - finished) / rate : std::numeric_limits<double>::infinity();
    char line[256];
    std::snprintf(line, sizeof line,
                  "[%7.1fs] %lld/%lld measured (%.1f%%), %lld written  %.2f archs/s  ETA %s  remeasures %lld  failed %lld",
                  elapsed, static_cast<long long>(finished), static_cast<long long>(total_),
                  total_ > 0 ? 100.0 * static_cast<double>(finished) / static_cast<double>(total_) : 100.0,
                  static_cast<long long>(written), rate, finished >= total_ ? "0s" : duration_text(eta).c_str(),
                  static_cast<long long>(remeasures), static_cast<long long>(failed));
    if (tty_) {
      std::printf("\r%-110s", line);
    } else {
      std::printf("%s\n", line);
    }
    std::fflush(stdout);
    open_line_ = tty_;
  }

  void finish_line() {
    if (open_line_) std::printf("\n");
    open_line_ = false;
  }

 private:
  std::int64_t total_;
  std::int64_t done_before_;
  double interval_s_;
  bool tty_;
  bool open_line_ = false;
  steady::time_point start_ = steady::now();
  double last_ = -1e300;
  std::int64_t last_finished_ = -1;
  std::int64_t last_written_ = -1;
};

// ---- the phases of a run ------------------------------------------------------------------------

/// Collective. Rank 0 builds the plan and the provenance, takes the run lock and inspects the
/// dataset to resume; every rank learns the outcome. `lock` holds the lock on rank 0.
start_state decide_start(const communicator& world, const profile_request& req, const backend::backend& be,
                         std::optional<dataset::run_lock>& lock, phase_timings& timings) {
  const job_config& job = req.job;
  start_state state;
  all_or_none(world, [&] {
    if (world.rank() != 0) return;
    const auto plan_start = steady::now();
    state.plan = req.plan ? *req.plan : build_plan(job);
    timings.plan_s = seconds_since(plan_start);
    const std::string now = dataset::iso_utc_now();
    auto& p = state.prov;
    p.command_line = req.command_line;
    p.config_text = job.text;
    p.config_hash = job.config_hash;
    p.space = job.space;
    p.variant = job.width.value_or("");
    p.gene_names = space::find_space(job.space).gene_names();
    p.backend = job.backend;
    p.precision = std::string(backend::to_string(job.compile.prec));
    p.batch_size = job.batch;
    p.sample_seed = job.seed;
    p.weights_seed = job.compile.seed;
    p.measure_policy = measure::to_text(job.measure);
    p.mpi_library_version = library_version();
    p.backend_version = be.version();
    p.synthetic = be.synthetic();
    p.max_samples = job.max_samples();
    p.start_time = now;
    auto& i = state.run;
    i.command_line = req.command_line;
    i.host = dataset::host_name();
    i.pid = static_cast<std::int64_t>(::getpid());
    i.world_size = world.size();
    i.partition = std::string(to_string(job.partition));
    i.start_time = now;
    i.slurm_job_id = env_or_empty("SLURM_JOB_ID");
    i.slurm_array_job_id = env_or_empty("SLURM_ARRAY_JOB_ID");
    i.slurm_array_task_id = env_or_empty("SLURM_ARRAY_TASK_ID");
    state.marker = "host=" + i.host + " pid=" + std::to_string(i.pid) + " start_time=" + now +
                   (i.slurm_job_id.empty() ? "" : " slurm_job_id=" + i.slurm_job_id);
    const auto inspect_start = steady::now();
    lock.emplace(dataset::run_lock::acquire(job.output, {i.host, static_cast<long>(i.pid), now, i.slurm_job_id}));
    state.note = lock->note();
    inspect_output(req, state);
    timings.inspect_s = seconds_since(inspect_start);
  });
  // The agreement above ended together on every rank: from here to the decoded state is the
  // broadcast's cost as each rank sees it.
  const auto broadcast_start = steady::now();
  std::string bytes = world.rank() == 0 ? encode(state) : std::string();
  broadcast(world, bytes);
  timings.broadcast_s = seconds_since(broadcast_start);
  const auto decode_start = steady::now();
  if (world.rank() != 0) state = decode<start_state>(bytes);
  timings.decode_s = seconds_since(decode_start);
  timings.broadcast_bytes = bytes.size();
  return state;
}

/// Collective. Binds this rank to its GPU, or pins it to its share of the node's CPUs, sets
/// `compile` accordingly, and refuses two ranks of one host on one GPU. `table`: on rank 0, the
/// rank table and any note, to print.
binding bind_rank(const communicator& world, const job_config& job, const backend::backend& be,
                  backend::compile_options& compile, std::string& table) {
  const communicator node = world.split_shared();
  const auto masks = all_gather(node, cpu_list_text(current_cpus()));
  binding mine;
  std::string note;
  all_or_none(world, [&] {
    mine.rank = world.rank();
    mine.local_rank = node.rank();
    mine.local_size = node.size();
    mine.pid = static_cast<long>(::getpid());
    mine.host = dataset::host_name();
    if (const auto query = be.devices()) {
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
    for (const auto& text : masks) allowed.push_back(parse_cpu_list(text));
    const auto plan = plan_cpus(allowed, node.rank(), job.compile.threads);
    pin_to(plan.cpus);
    mine.threads = compile.threads = plan.threads;
    mine.cpus = cpu_list_text(current_cpus());  // what the rank runs on, pinned here or by the launcher
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

dataset::rank_row rank_row_of(const binding& b, int run) {
  dataset::rank_row r{};
  r.run = run;
  r.rank = b.rank;
  r.local_rank = b.local_rank;
  r.local_size = b.local_size;
  r.device = b.device;
  r.threads = b.threads;
  dataset::set_text(r.host, b.host);
  dataset::set_text(r.device_name, b.device_name);
  dataset::set_text(r.device_uuid, b.uuid);
  dataset::set_text(r.pci_bus_id, b.pci_bus_id);
  dataset::set_text(r.cpus, b.cpus);
  return r;
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

  // Work distribution over the pending rows, by MACs.
  std::vector<double> costs;
  for (const auto row : state.pending) costs.push_back(static_cast<double>(state.plan[row].macs));
  std::unique_ptr<shared_counter> counter;
  std::optional<work_source> source;
  if (job.partition == partition_mode::lpt) {
    const auto parts = lpt_partition(costs, world.size());
    std::vector<std::uint64_t> rows;
    for (const auto j : parts[static_cast<std::size_t>(world.rank())]) rows.push_back(state.pending[j]);
    source.emplace(std::move(rows));
  } else {
    counter = std::make_unique<shared_counter>(world);
    std::vector<std::uint64_t> rows;
    for (const auto j : by_decreasing_cost(costs)) rows.push_back(state.pending[j]);
    source.emplace(std::move(rows), *counter);
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
    while (stop_level.load() == 0 && source->has_more()) {
      if (measured && seconds_since(round_start) >= job.flush_interval_s) break;
      const auto chunk = source->next(job.chunk);
      if (chunk.empty()) break;
      measured = true;
      try {
        measure_chunk(chunk, ctx, round);
      } catch (const stop_requested&) {
        break;
      }
    }
    const int stopping = stop_level.load() > 0 ? 1 : 0;
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

/// Median and maximum of `v` (NaN, NaN when empty).
std::pair<double, double> median_max(std::vector<double> v) {
  if (v.empty()) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.back()};
}

/// Collective: the --timings lines, printed by rank 0. A collective write costs what its slowest
/// rank spent in it, so each write and flush is taken at its maximum over the ranks.
void print_timings(const communicator& world, const phase_timings& t, const dataset::io_stats& io) {
  wire::writer w;
  w(io.batch_write_seconds), w(io.batch_flush_seconds), w(peak_rss_mib()), w(cpu_seconds()), w(t.round_wait_s);
  const auto all = all_gather(world, w.take());
  const double broadcast_s = max(world, t.broadcast_s), decode_s = max(world, t.decode_s);
  const double bind_s = max(world, t.bind_s), open_s = max(world, t.open_s);
  if (world.rank() != 0) return;
  std::vector<double> write_max(io.batch_write_seconds.size(), 0.0), flush_max(io.batch_flush_seconds.size(), 0.0);
  std::vector<double> rss, cpu, wait;
  for (const auto& bytes : all) {
    wire::reader r(bytes);
    std::vector<double> writes, flushes;
    double mib = 0, cpu_s = 0, wait_s = 0;
    r(writes), r(flushes), r(mib), r(cpu_s), r(wait_s);
    cpu.push_back(cpu_s);
    wait.push_back(wait_s);
    for (std::size_t i = 0; i < std::min(writes.size(), write_max.size()); ++i) write_max[i] = std::max(write_max[i], writes[i]);
    for (std::size_t i = 0; i < std::min(flushes.size(), flush_max.size()); ++i) flush_max[i] = std::max(flush_max[i], flushes[i]);
    rss.push_back(mib);
  }
  const auto total = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); };
  const auto [write_median, write_max_s] = median_max(write_max);
  const auto [flush_median, flush_max_s] = median_max(flush_max);
  const double rank0_mib = rss.front();
  const auto [rss_median, rss_max] = median_max(rss);
  std::printf("esm profile: timings: plan_s=%.3f inspect_s=%.3f broadcast_s=%.3f broadcast_bytes=%llu decode_s=%.3f "
              "bind_s=%.3f create_s=%.3f open_s=%.3f (slowest rank for broadcast, decode, bind, open)\n",
              t.plan_s, t.inspect_s, broadcast_s, static_cast<unsigned long long>(t.broadcast_bytes), decode_s, bind_s,
              t.create_s, open_s);
  std::printf("esm profile: timings: writes=%zu write_s_median=%.4f write_s_max=%.4f write_s_total=%.3f "
              "flush_s_median=%.4f flush_s_max=%.4f flush_s_total=%.3f (slowest rank per write)\n",
              write_max.size(), write_median, write_max_s, total(write_max), flush_median, flush_max_s,
              total(flush_max));
  // CPU time says whether a run on oversubscribed cores was bound by them rather than by esm's
  // coordination: all ranks' CPU seconds over the cores is a floor of the wall time.
  const auto [wait_median, wait_max] = median_max(wait);
  std::printf("esm profile: timings: cpu_s_rank0=%.2f cpu_s_total=%.2f round_wait_s_median=%.3f round_wait_s_max=%.3f "
              "(per rank, summed over the rounds)\n",
              cpu.front(), total(cpu), wait_median, wait_max);
  std::printf("esm profile: timings: vmhwm_mib_rank0=%.1f vmhwm_mib_min=%.1f vmhwm_mib_median=%.1f "
              "vmhwm_mib_max=%.1f ranks=%zu\n",
              rank0_mib, *std::min_element(rss.begin(), rss.end()), rss_median, rss_max, rss.size());
  std::fflush(stdout);
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

bool stop_signalled() { return stop_level.load() > 0; }

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | SA_RESETHAND;  // a second SIGTERM kills as usual
  sigaction(SIGTERM, &action, nullptr);
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
}

int run_profile(const communicator& world, const profile_request& req) {
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
  all_or_none(world, [&] { be = backend::make_backend(job.backend); });

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
        if (stop_level.load() >= 2) throw stop_requested();
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
    std::printf("esm profile: %lld archs of %s%s, backend %s %s batch %d, %d ranks, %s partition, chunk %d\n",
                static_cast<long long>(total), job.space.c_str(), job.width ? (" " + *job.width).c_str() : "",
                job.backend.c_str(), state.prov.precision.c_str(), job.batch, world.size(),
                std::string(to_string(job.partition)).c_str(), job.chunk);
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

}  // namespace esm::dist
