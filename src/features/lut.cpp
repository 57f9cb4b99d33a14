// Lookup tables in OFA's YAML layout and the LUT-sum latency of a network.
#include "esm/features/lut.hpp"

#include <fstream>
#include <regex>

#include "esm/common/error.hpp"

namespace esm::features {

namespace {

/// Reads one OFA table: top-level "signature:" lines, each followed by indented "mean: X".
std::map<std::string, double> read_ofa_yaml(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw usage_error("cannot read lookup table '" + file.string() + "'");
  std::map<std::string, double> table;
  std::string line, key;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    if (line[0] != ' ') {
      if (line.back() != ':') {
        throw usage_error("lookup table " + file.filename().string() + " line " + std::to_string(line_no) +
                          ": expected 'signature:'");
      }
      key = line.substr(0, line.size() - 1);
      continue;
    }
    const auto pos = line.find("mean:");
    if (pos == std::string::npos) continue;
    if (key.empty()) {
      throw usage_error("lookup table " + file.filename().string() + " line " + std::to_string(line_no) + ": mean without a key");
    }
    try {
      std::size_t used = 0;
      const std::string value = line.substr(pos + 5);
      const double v = std::stod(value, &used);
      if (!(v >= 0)) throw std::invalid_argument(value);
      table[key] = v;
    } catch (const std::logic_error&) {
      throw usage_error("lookup table " + file.filename().string() + " line " + std::to_string(line_no) + ": bad mean");
    }
  }
  return table;
}

}  // namespace

lut_table lut_table::load_ofa_yaml_dir(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) throw usage_error("lookup-table directory '" + dir.string() + "' does not exist");
  lut_table t;
  const std::regex name(R"(([0-9]+)_lookup_table\.yaml)");
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::smatch m;
    const std::string file = entry.path().filename().string();
    if (!std::regex_match(file, m, name)) continue;
    t.tables_[std::stoi(m[1].str())] = read_ofa_yaml(entry.path());
  }
  if (t.tables_.empty()) throw usage_error("no <resolution>_lookup_table.yaml files in '" + dir.string() + "'");
  return t;
}

void lut_table::set(int resolution, const std::string& signature, double latency_ms) {
  tables_[resolution][signature] = latency_ms;
}

std::size_t lut_table::size() const {
  std::size_t n = 0;
  for (const auto& [r, t] : tables_) n += t.size();
  return n;
}

double lut_table::network_latency_ms(const net::network& net, int resolution) const {
  const auto t = tables_.find(resolution);
  if (t == tables_.end()) throw usage_error("lookup table has no entries for resolution " + std::to_string(resolution));
  double sum = 0;
  for (const auto& b : net.blocks) {
    const auto it = t->second.find(b.signature);
    if (it == t->second.end()) throw usage_error("lookup table (r" + std::to_string(resolution) + ") lacks block '" + b.signature + "'");
    sum += it->second;
  }
  return sum;
}

}  // namespace esm::features
