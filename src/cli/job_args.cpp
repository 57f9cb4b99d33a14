// Arguments of the job commands (esm profile, esm loop): the command line, then the INI file.
#include <string>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/profile/job_config.hpp"
#include "esm/cluster/mpi.hpp"

namespace po = boost::program_options;

namespace esm::cli {

job_args parse_job_args(const std::string& command, const args& a, const po::options_description& all,
                        const po::options_description& ini_keys, const std::string& usage_line) {
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
  job_args out;
  try {
    const auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(rewritten).options(all).style(style).run(), out.vm);
    po::notify(out.vm);
  } catch (const po::error& e) {
    throw usage_error(e.what());
  }
  if (out.vm.count("config")) out.config = out.vm["config"].as<std::string>();
  if (out.config.empty()) throw usage_error("--config FILE is required (" + usage_line + ")");
  profile::store_ini(out.config, ini_keys, out.vm);
  out.resume = out.vm.count("resume") > 0;
  out.command_line = "esm " + command;
  for (const auto& arg : a) out.command_line += " " + arg;
  return out;
}

void check_same_job(const cluster::communicator& world, const std::string& resolved_text, const std::string& config) {
  // Every rank read its own copy of the file: make sure they read the same job.
  std::string resolved = resolved_text;
  cluster::broadcast(world, resolved);
  cluster::all_or_none(world, [&] {
    if (resolved != resolved_text) {
      throw usage_error("rank " + std::to_string(world.rank()) + " read another job configuration than rank 0 "
                        "(is '" + config + "' the same file on every node?)");
    }
  });
}

}  // namespace esm::cli
