// Conformance of the ofa-mbv3 space with OFA's own per-block latency tables (Samsung Note10,
// w1.2, resolutions 160..224): every block signature esm generates must be a key of the table at
// that resolution, and together they must cover every key (so esm's space is exactly OFA's).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "esm/space/space.hpp"

namespace esm::space {
namespace {

std::filesystem::path lut_dir() {
  if (const char* env = std::getenv("ESM_OFA_LUT_DIR")) return env;
  return std::filesystem::path(ESM_SHARED_DIR) / "data" / "ofa-note10-lut";
}

/// Top-level keys of one of OFA's YAML tables (lines without indentation, minus the colon).
std::set<std::string> lut_keys(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::set<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == ' ' || line.back() != ':') continue;
    keys.insert(line.substr(0, line.size() - 1));
  }
  return keys;
}

/// Every (stage, position, kernel, expand) combination: for each (kernel, expand) pair one
/// architecture with all five stages at depth 4 and every block taking that pair.
std::vector<std::string> covering_archs(int resolution) {
  std::vector<std::string> out;
  for (int k : {3, 5, 7}) {
    for (int e : {3, 4, 6}) {
      std::string ks, es;
      for (int s = 0; s < 5; ++s) {
        const std::string kk = std::to_string(k), ee = std::to_string(e);
        ks += (s ? "-" : "") + kk + "," + kk + "," + kk + "," + kk;
        es += (s ? "-" : "") + ee + "," + ee + "," + ee + "," + ee;
      }
      out.push_back("ofa-mbv3:w1.2:r" + std::to_string(resolution) + ":d=4,4,4,4,4:k=" + ks + ":e=" + es);
    }
  }
  return out;
}

TEST(OfaNote10Conformance, EveryGeneratedSignatureIsAKeyAndEveryKeyIsGenerated) {
  const auto dir = lut_dir();
  if (!std::filesystem::exists(dir / "160_lookup_table.yaml")) {
    GTEST_SKIP() << "OFA lookup tables not found at " << dir
                 << " (they live in ../shared beside the clone: set ESM_SHARED_DIR or ESM_OFA_LUT_DIR to run this test)";
  }
  const auto& sp = find_space("ofa-mbv3");
  int resolutions = 0;
  for (int r = 160; r <= 224; r += 4) {
    const auto keys = lut_keys(dir / (std::to_string(r) + "_lookup_table.yaml"));
    ASSERT_EQ(keys.size(), 96u) << "table for r" << r;
    std::set<std::string> generated;
    for (const auto& text : covering_archs(r)) {
      const net::network n = sp.build(sp.parse(text), 1);
      for (const auto& b : n.blocks) {
        EXPECT_TRUE(keys.count(b.signature)) << "r" << r << ": esm block '" << b.signature << "' is not in OFA's table";
        generated.insert(b.signature);
      }
    }
    for (const auto& k : keys) EXPECT_TRUE(generated.count(k)) << "r" << r << ": OFA key never generated: " << k;
    ++resolutions;
  }
  EXPECT_EQ(resolutions, 17);
}

TEST(OfaNote10Conformance, ShallowStagesUseTheSameSignatures) {
  // Depth changes which blocks exist, never their signatures: a depth-2 network's blocks are a
  // subset of the depth-4 ones at the same resolution.
  const auto dir = lut_dir();
  if (!std::filesystem::exists(dir / "192_lookup_table.yaml")) GTEST_SKIP() << "OFA lookup tables not found at " << dir;
  const auto keys = lut_keys(dir / "192_lookup_table.yaml");
  const auto& sp = find_space("ofa-mbv3");
  rng r(17);
  sample_constraints c;
  c.resolution = 192;
  c.variant = "w1.2";
  for (int i = 0; i < 200; ++i) {
    for (const auto& b : sp.build(sp.sample_independent(r, c), 1).blocks) EXPECT_TRUE(keys.count(b.signature)) << b.signature;
  }
}

}  // namespace
}  // namespace esm::space
