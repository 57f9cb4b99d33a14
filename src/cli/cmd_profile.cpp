// esm profile: measure a sampled plan of architectures on all MPI ranks into one HDF5 dataset.
#include <iostream>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/dist/job_config.hpp"
#include "esm/dist/mpi.hpp"
#include "esm/dist/profile.hpp"

namespace po = boost::program_options;

namespace esm::cli {

namespace {

constexpr const char* usage_line =
    "mpirun -n RANKS esm profile --config JOB.ini [--output DATASET.h5] [--resume] [--section.key=value ...]";

}  // namespace

int profile(const args& a) {
  std::string config;
  po::options_description command("esm profile options");
  command.add_options()
      ("config", po::value(&config), "job configuration (INI; jobs/*.ini)")
      ("output", po::value<std::string>(), "dataset file (the same as --output.path)")
      ("resume", "continue an existing dataset: measure the rows not done yet");
  const auto job = dist::job_options();
  po::options_description all;
  all.add(command).add(job);

  for (const auto& arg : a) {
    if (arg == "--help" || arg == "-h") {  // no MPI needed for help
      std::cout << "usage: " << usage_line << "\n\n" << all << '\n';
      return exit_code::ok;
    }
  }

  dist::environment mpi;
  const auto world = dist::communicator::world();
  dist::install_stop_handlers();
  try {
    dist::profile_request request;
    dist::all_or_none(world, [&] {
      // --output is --output.path: stored from the command line, it wins over the INI like any key.
      args rewritten;
      for (const auto& arg : a) {
        if (arg == "--output") {
          rewritten.emplace_back("--output.path");
        } else if (arg.rfind("--output=", 0) == 0) {
          rewritten.push_back("--output.path=" + arg.substr(9));
        } else {
          rewritten.push_back(arg);
        }
      }
      po::variables_map vm;
      try {
        const auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
        po::store(po::command_line_parser(rewritten).options(all).style(style).run(), vm);
        po::notify(vm);
      } catch (const po::error& e) {
        throw usage_error(e.what());
      }
      if (config.empty()) throw usage_error("--config FILE is required (" + std::string(usage_line) + ")");
      dist::store_ini(config, job, vm);
      request.job = dist::resolve_job(vm);
      request.resume = vm.count("resume") > 0;
      request.command_line = "esm profile";
      for (const auto& arg : a) request.command_line += " " + arg;
    });
    // Every rank read its own copy of the file: make sure they read the same job.
    std::string resolved = request.job.text;
    dist::broadcast(world, resolved);
    dist::all_or_none(world, [&] {
      if (resolved != request.job.text) {
        throw usage_error("rank " + std::to_string(world.rank()) + " read another job configuration than rank 0 "
                          "(is '" + config + "' the same file on every node?)");
      }
    });
    return dist::run_profile(world, request);
  } catch (const dist::collective_error& e) {
    if (world.rank() == 0) {
      std::cerr << "esm: " << (e.exit_code() == exit_code::usage ? "error: " : "fatal: ")
                << (e.failed_rank() == 0 ? "" : "rank " + std::to_string(e.failed_rank()) + ": ") << e.what() << '\n';
    }
    return e.exit_code();
  } catch (const std::exception& e) {
    dist::abort_all(world, e.what());  // one rank alone: the others cannot be told otherwise
  }
}

}  // namespace esm::cli
