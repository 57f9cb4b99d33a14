// esm: entry point and command dispatch.
#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <string>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/version.hpp"

namespace {

using command = int (*)(const esm::cli::args&);

const std::map<std::string, std::pair<command, const char*>>& commands() {
  static const std::map<std::string, std::pair<command, const char*>> table{
      {"spaces", {esm::cli::spaces, "list the search spaces, their choices and sizes"}},
      {"sample", {esm::cli::sample, "sample architectures (uniform, balanced, weighted)"}},
      {"describe", {esm::cli::describe, "show the network of an architecture (layer table or JSON IR)"}},
      {"profile", {esm::cli::profile, "measure a sampled plan on all MPI ranks into an HDF5 dataset"}},
      {"loop", {esm::cli::loop, "ESM's closed loop: profile, cross-validate, sample where bins fall short, repeat"}},
      {"info", {esm::cli::info, "summarise a latency dataset (provenance, progress, drift)"}},
      {"compare", {esm::cli::compare, "reproducibility of two datasets: common archs, relative differences, ranks"}},
      {"bench", {esm::cli::bench, "time one architecture on a backend"}},
      {"train", {esm::cli::train, "cross-validate surrogate ensembles over MPI ranks and write a model"}},
      {"predict", {esm::cli::predict, "predict latencies (and uncertainty) with a model file"}},
      {"features", {esm::cli::features, "export a dataset's encoded features, targets and folds as CSV"}},
      {"select", {esm::cli::select, "pick the archs most worth measuring on a new device (spread over source models)"}},
      {"adapt", {esm::cli::adapt, "fit a model for a new device from a few measured rows and other devices' models"}},
      {"import", {esm::cli::import, "make a dataset from a latency table measured elsewhere (CSV + archs or OFA configs)"}},
  };
  return table;
}

void usage(std::ostream& os) {
  os << "usage: esm <command> [options]   (esm <command> --help)\n\ncommands:\n";
  for (const auto& [name, entry] : commands()) os << "  " << name << std::string(12 - name.size(), ' ') << entry.second << '\n';
  os << "\nesm --version\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return esm::exit_code::usage;
  }
  const std::string name = argv[1];
  if (name == "--version" || name == "-V") {
    std::cout << "esm " << esm::version_string() << '\n';
    return esm::exit_code::ok;
  }
  if (name == "--help" || name == "-h" || name == "help") {
    usage(std::cout);
    return esm::exit_code::ok;
  }
  const auto it = commands().find(name);
  try {
    if (it == commands().end()) throw esm::usage_error("unknown command '" + name + "' (see esm --help)");
    return it->second.first(esm::cli::args(argv + 2, argv + argc));
  } catch (const esm::usage_error& e) {
    std::cerr << "esm: error: " << e.what() << '\n';
    return esm::exit_code::usage;
  } catch (const std::exception& e) {
    std::cerr << "esm: fatal: " << e.what() << '\n';
    return esm::exit_code::failure;
  }
}
