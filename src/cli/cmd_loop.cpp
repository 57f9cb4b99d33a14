// esm loop: ESM's closed loop (profile -> train + CV -> per-bin accuracy -> next batch) on all MPI
// ranks, growing one dataset (design: include/esm/loop/closed_loop.hpp).
#include <iostream>

#include "cli/commands.hpp"
#include "esm/backend/backend.hpp"
#include "esm/common/error.hpp"
#include "esm/profile/job_config.hpp"
#include "esm/cluster/mpi.hpp"
#include "esm/profile/profile.hpp"
#include "esm/loop/closed_loop.hpp"

namespace po = boost::program_options;

namespace esm::cli {

namespace {

constexpr const char* usage_line =
    "mpirun -n RANKS esm loop --config JOB.ini [--output DATASET.h5] [--resume] [--section.key=value ...]";

}  // namespace

int loop(const args& a) {
  std::string config;
  po::options_description command("esm loop options");
  command.add_options()
      ("config", po::value(&config), "job configuration (INI with a [loop] section; jobs/loop-cpu.ini)")
      ("output", po::value<std::string>(), "dataset file (the same as --output.path)")
      ("resume", "continue an interrupted loop: measure its pending rows, then go on from its last iteration")
      ("allow-synthetic", "let the loop train on the synthetic backend's computed latencies (scale tests only)")
      ("scores", po::value<std::string>(),
       "pool mode (loop.pool): append each iteration's scores on the pool's archs left out to this CSV");
  po::options_description ini_keys;
  ini_keys.add(profile::job_options()).add(loop::loop_options());
  po::options_description all;
  all.add(command).add(ini_keys);

  for (const auto& arg : a) {
    if (arg == "--help" || arg == "-h") {  // no MPI needed for help
      std::cout << "usage: " << usage_line << "\n\nsample.count is ignored: the initial sample is loop.initial archs.\n"
                << "Pool mode (--loop.pool=D.h5): nothing is measured; labels are looked up in D (e.g. of esm\n"
                << "import) and every draw takes D's archs the loop does not hold yet; [measure] and [backend]\n"
                << "are not used.\n\n"
                << all << '\n';
      return exit_code::ok;
    }
  }

  cluster::environment mpi;
  const auto world = cluster::communicator::world();
  profile::install_stop_handlers();
  try {
    loop::loop_request request;
    cluster::all_or_none(world, [&] {
      auto parsed = parse_job_args("loop", a, all, ini_keys, usage_line);
      config = parsed.config;
      request.loop = loop::resolve_loop(parsed.vm);
      // The plan [sample] describes is the loop's initial sample, loop.initial archs drawn like every
      // later batch; a plan read from a file (sample.policy = file) is esm profile's alone.
      if (const auto it = parsed.vm.find("sample.policy"); it != parsed.vm.end()) {
        auto policy = it->second.as<std::string>();
        policy.erase(0, policy.find_first_not_of(" \t"));
        policy.erase(policy.find_last_not_of(" \t") + 1);
        if (policy == "file") {
          throw usage_error("sample.policy: file is for esm profile; esm loop samples its initial plan "
                            "(loop.initial archs) and every batch after it");
        }
      }
      parsed.vm.erase("sample.count");
      parsed.vm.emplace("sample.count", po::variable_value(std::to_string(request.loop.policy.initial), false));
      request.job = profile::resolve_job(parsed.vm);
      request.allow_synthetic = parsed.vm.count("allow-synthetic") != 0;
      if (const auto it = parsed.vm.find("scores"); it != parsed.vm.end()) {
        if (request.loop.pool.empty()) throw usage_error("--scores needs pool mode (loop.pool = DATASET.h5)");
        request.scores_path = it->second.as<std::string>();
      }
      // Pool mode measures nothing: the pool's own synthetic flag is checked when it is read.
      if (request.loop.pool.empty() && backend::make_backend(request.job.backend)->synthetic() &&
          !request.allow_synthetic) {
        throw usage_error("backend.name: '" + request.job.backend +
                          "' computes latencies instead of measuring them, and the loop trains on them; "
                          "pass --allow-synthetic to run it anyway");
      }
      request.resume = parsed.resume;
      request.command_line = parsed.command_line;
    });
    check_same_job(world, request.job.text + request.loop.text, config);
    return loop::run_loop(world, request);
  } catch (const cluster::collective_error& e) {
    return cluster::report(world, e);
  } catch (const std::exception& e) {
    cluster::abort_all(world, e.what());  // one rank alone: the others cannot be told otherwise
  }
}

}  // namespace esm::cli
