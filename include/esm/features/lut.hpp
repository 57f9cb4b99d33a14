// Per-block latency lookup tables (OFA's YAML format, or tables esm measures itself), keyed by
// the block signatures the network IR carries (net::block::signature), one table per resolution.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "esm/net/network.hpp"

namespace esm::features {

class lut_table {
 public:
  /// Reads every "<resolution>_lookup_table.yaml" in `dir` (OFA's layout: top-level keys are
  /// signatures, each with a `mean:` in ms). Throws usage_error if none is found or one is malformed.
  [[nodiscard]] static lut_table load_ofa_yaml_dir(const std::filesystem::path& dir);

  void set(int resolution, const std::string& signature, double latency_ms);
  [[nodiscard]] bool has_resolution(int resolution) const { return tables_.count(resolution) != 0; }
  [[nodiscard]] std::size_t size() const;

  /// Sum over every block of the network (fixed parts included). Throws usage_error naming the
  /// first signature the table lacks.
  [[nodiscard]] double network_latency_ms(const net::network& net, int resolution) const;

 private:
  std::map<int, std::map<std::string, double>> tables_;
};

}  // namespace esm::features
