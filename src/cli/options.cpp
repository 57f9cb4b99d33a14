// Option parsing and output helpers shared by the subcommands.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <unistd.h>
#include <utility>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"

namespace po = boost::program_options;

namespace esm::cli {

bool parse(const args& a, const po::options_description& options, po::variables_map& vm, const std::string& usage_line,
           const po::positional_options_description* positional) {
  po::options_description all(options);
  all.add_options()("help,h", "show this help");
  // Words beyond the command's positional arguments land in a hidden option, so that the error
  // can name them (program_options would only say "too many positional options").
  constexpr const char* stray = "esm-stray-arguments";
  po::options_description with_stray(all);
  with_stray.add_options()(stray, po::value<std::vector<std::string>>());
  po::positional_options_description words;
  if (positional && positional->max_total_count() == std::numeric_limits<unsigned>::max()) {
    words = *positional;  // takes any number of words
  } else {
    const unsigned known = positional ? positional->max_total_count() : 0;
    for (unsigned i = 0; i < known; ++i) words.add(positional->name_for_position(i).c_str(), 1);
    words.add(stray, -1);
  }
  try {
    po::command_line_parser parser(a);
    parser.options(with_stray).positional(words);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: " << usage_line << "\n\n" << all << '\n';
      return false;
    }
    if (vm.count(stray)) {
      throw usage_error("unexpected argument '" + vm[stray].as<std::vector<std::string>>().front() + "' (" + usage_line +
                        ")");
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
  staged_output(path, text).commit();
}

staged_output::staged_output(std::string path, const std::string& text)
    : staged_output(std::move(path), [&](std::ostream& out) { out << text; }) {}

staged_output::staged_output(std::string path, const std::function<void(std::ostream&)>& write)
    : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())) {
  std::ofstream out(tmp_, std::ios::binary);
  if (!out) {
    tmp_.clear();
    throw file_error("cannot write '" + path_ + "': directory missing or not writable");
  }
  try {
    write(out);
  } catch (...) {
    out.close();
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);  // no destructor runs for a constructor that throws
    throw;
  }
  out.close();
  if (!out) {
    const int err = errno;  // EFBIG or ENOSPC: the file size limit or a full disk
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);  // no destructor runs for a constructor that throws
    throw file_error("writing '" + path_ + "' failed: " + std::strerror(err) + " (disk full?)");
  }
}

staged_output::~staged_output() {
  std::error_code ec;
  if (!tmp_.empty()) std::filesystem::remove(tmp_, ec);
}

void staged_output::commit() {
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) throw file_error("cannot write '" + path_ + "': " + ec.message());
  tmp_.clear();
}

}  // namespace esm::cli
