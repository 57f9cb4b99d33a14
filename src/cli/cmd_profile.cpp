// esm profile: measure a sampled plan of architectures on all MPI ranks into one HDF5 dataset.
#include <iostream>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/profile/job_config.hpp"
#include "esm/cluster/mpi.hpp"
#include "esm/profile/profile.hpp"

namespace po = boost::program_options;

namespace esm::cli {

namespace {

constexpr const char* usage_line =
    "mpirun -n RANKS esm profile --config JOB.ini [--output DATASET.h5] [--resume] [--timings] "
    "[--section.key=value ...]";

}  // namespace

int profile(const args& a) {
  std::string config;
  po::options_description command("esm profile options");
  command.add_options()
      ("config", po::value(&config), "job configuration (INI; jobs/*.ini)")
      ("output", po::value<std::string>(), "dataset file (the same as --output.path)")
      ("resume", "continue an existing dataset: measure the rows not done yet")
      ("timings", "after the run, print rank 0's plan and broadcast times, each collective write + flush "
                  "(slowest rank) and every rank's peak memory");
  const auto job = profile::job_options();
  po::options_description all;
  all.add(command).add(job);

  for (const auto& arg : a) {
    if (arg == "--help" || arg == "-h") {  // no MPI needed for help
      std::cout << "usage: " << usage_line << "\n\n" << all << '\n';
      return exit_code::ok;
    }
  }

  cluster::environment mpi;
  const auto world = cluster::communicator::world();
  profile::install_stop_handlers();
  try {
    profile::profile_request request;
    cluster::all_or_none(world, [&] {
      const auto parsed = parse_job_args("profile", a, all, job, usage_line);
      config = parsed.config;
      request.job = profile::resolve_job(parsed.vm);
      request.resume = parsed.resume;
      request.command_line = parsed.command_line;
      request.timings = parsed.vm.count("timings") > 0;
    });
    check_same_job(world, request.job.text, config);
    return profile::run_profile(world, request);
  } catch (const cluster::collective_error& e) {
    return cluster::report(world, e);
  } catch (const std::exception& e) {
    cluster::abort_all(world, e.what());  // one rank alone: the others cannot be told otherwise
  }
}

}  // namespace esm::cli
