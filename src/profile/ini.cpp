// Reading a job configuration's INI file into the options of job_options() (job_config.hpp).
#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string_view>

#include "esm/common/error.hpp"
#include "esm/profile/job_config.hpp"

namespace po = boost::program_options;

namespace esm::profile {

namespace {

/// esm checks the INI's shape itself before Boost sees it: Boost's error messages substitute
/// placeholders such as %canonical_option% into themselves, and a line that contains such a
/// placeholder (found by tests/fuzz/job_config_fuzz) made what() loop forever. Here a malformed
/// line is named by its number, and only well-formed names reach Boost.
void check_ini_shape(const std::string& path, const std::string& text) {
  const auto valid_name = [](std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
  };
  const auto trim = [](std::string_view v) {
    const auto first = v.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return std::string_view();
    return v.substr(first, v.find_last_not_of(" \t\r") - first + 1);
  };
  std::size_t number = 0, start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = trim(std::string_view(text).substr(start, end - start));
    start = end + 1;
    ++number;
    const std::string where = "'" + path + "' line " + std::to_string(number) + ": ";
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']' || !valid_name(trim(line.substr(1, line.size() - 2)))) {
        throw usage_error(where + "malformed section header (expected [name])");
      }
      continue;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) throw usage_error(where + "expected 'key = value', '[section]' or a comment");
    if (!valid_name(trim(line.substr(0, eq)))) {
      throw usage_error(where + "malformed key (letters, digits, '_', '.', '-' only)");
    }
  }
}

}  // namespace

void store_ini(const std::string& path, const po::options_description& options, po::variables_map& vm) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw usage_error("cannot read the job configuration '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  check_ini_shape(path, text);
  std::istringstream ini(text);
  try {
    po::store(po::parse_config_file(ini, options, false), vm);
  } catch (const po::error& e) {
    throw usage_error(path + ": " + e.what());
  }
}

}  // namespace esm::profile
