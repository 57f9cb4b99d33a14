// Option parsing and output helpers shared by the subcommands.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"

namespace po = boost::program_options;

namespace esm::cli {

bool parse(const args& a, const po::options_description& options, po::variables_map& vm, const std::string& usage_line,
           const po::positional_options_description* positional) {
  po::options_description all(options);
  all.add_options()("help,h", "show this help");
  try {
    po::command_line_parser parser(a);
    parser.options(all);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: " << usage_line << "\n\n" << all << '\n';
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw usage_error(e.what());
  }
  return true;
}

void write_output(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::cout << text << std::flush;
    return;
  }
  const std::filesystem::path target(path);
  const std::filesystem::path tmp = target.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw usage_error("cannot write '" + path + "': directory missing or not writable");
    out << text;
    out.flush();
    if (!out) {
      out.close();
      std::filesystem::remove(tmp);
      throw error("writing '" + path + "' failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw usage_error("cannot write '" + path + "': " + ec.message());
  }
}

}  // namespace esm::cli
