// Integer lists as range texts ("0-3,8,10-11"): the Linux CPU-list format, used for CPU sets and
// for runs of depth bins.
#include "esm/common/int_ranges.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "esm/common/error.hpp"

namespace esm {

std::string int_ranges_text(std::vector<int> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::string text;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!text.empty()) text += ',';
    text += std::to_string(cpus[i]);
    if (j > i) text += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return text;
}

std::vector<int> parse_int_ranges(const std::string& text) {
  std::vector<int> cpus;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      const auto dash = item.find('-');
      const int lo = std::stoi(item.substr(0, dash));
      const int hi = dash == std::string::npos ? lo : std::stoi(item.substr(dash + 1));
      for (int cpu = lo; cpu <= hi; ++cpu) cpus.push_back(cpu);
    } catch (const std::logic_error&) {
      throw error("malformed list '" + text + "'");
    }
  }
  return cpus;
}

}  // namespace esm
