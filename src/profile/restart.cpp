// How a profile run starts (design: restart.hpp).
#include "profile/restart.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "esm/dataset/dataset.hpp"
#include "esm/space/space.hpp"

namespace esm::profile {

using namespace esm::cluster;

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

namespace {

std::vector<dataset::arch_entry> build_plan(const job_config& job) {
  const auto& sp = space::find_space(job.space);
  std::vector<dataset::arch_entry> plan;
  for (const auto& a : job.plan_archs()) plan.push_back(plan_entry(sp, a));
  return plan;
}

}  // namespace

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
  // The groups drawn when the dataset was created, whatever run.chunk is now (it is not hashed).
  if (c.prov.group_size > 0) {
    s.prov.group_seed = c.prov.group_seed;
    s.prov.group_size = c.prov.group_size;
  }
  for (std::size_t i = 0; i < s.plan.size(); ++i) {
    if (c.archs[i].id != s.plan[i].id || c.results[i].arch_id != s.plan[i].id) {
      throw usage_error("'" + path + "' row " + std::to_string(i) + " holds another architecture than this plan");
    }
    if (status_of(c.results[i]) != dataset::row_status::done) s.pending.push_back(i);
  }
}

start_state decide_start(const cluster::communicator& world, const profile_request& req, const backend::backend& be,
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
    p.group_seed = job.group_seed;
    p.group_size = job.chunk;
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

}  // namespace esm::profile
