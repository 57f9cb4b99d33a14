// Encodings: widths, hand-counted FC/FCC/stats values, one-hot invariants, LUT sums.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "esm/common/error.hpp"
#include "esm/features/encoding.hpp"

namespace esm::features {
namespace {

const space::search_space& mbv3() { return space::find_space("ofa-mbv3"); }
const std::string a1 = "ofa-mbv3:w1.2:r192:d=2,3,2,2,4:k=3,5-3,3,7-5,5-7,7-3,5,7,3:e=3,4-6,6,6-4,4-3,3-6,4,3,6";

std::vector<double> encode(encoding_spec spec, const std::string& text, const lut_table* t = nullptr) {
  const auto a = space::parse_any(text);
  encoder e(space::find_space(a.space), spec, t);
  std::vector<double> row(e.width());
  e.encode(a, row.data());
  return row;
}

double named(const encoder& e, const std::vector<double>& row, const std::string& name) {
  const auto& n = e.feature_names();
  const auto it = std::find(n.begin(), n.end(), name);
  if (it == n.end()) throw std::out_of_range(name);
  return row[static_cast<std::size_t>(it - n.begin())];
}

TEST(Encoding, Widths) {
  // onehot: 5 stages x 4 slots x (3 kernels + 3 expands) + width (2) + resolution (25) = 147
  EXPECT_EQ(encoder(mbv3(), {encoding_kind::onehot}).width(), 147u);
  // stats: (5 stages + network) x (depth + 2 dims x (mean, std)) + 2 globals = 32
  EXPECT_EQ(encoder(mbv3(), {encoding_kind::stats}).width(), 32u);
  // fc: 3 + 3 values + 2 globals = 8; fcc: 5 stages x 9 (k, e) pairs + 2 = 47
  EXPECT_EQ(encoder(mbv3(), {encoding_kind::fc}).width(), 8u);
  EXPECT_EQ(encoder(mbv3(), {encoding_kind::fcc}).width(), 47u);
  EXPECT_EQ(encoder(mbv3(), {encoding_kind::fcc, true}).width(), 51u);
  // ofa-resnet50 fcc: 4 stages x 3 expand ratios + 8 globals (resolution, stem, 6 widths) = 20
  EXPECT_EQ(encoder(space::find_space("ofa-resnet50"), {encoding_kind::fcc}).width(), 20u);
  // densenet onehot: 98 slots x 3 factors + 25 resolutions + 4 x 3 growths = 331
  EXPECT_EQ(encoder(space::find_space("densenet"), {encoding_kind::onehot}).width(), 331u);
}

TEST(Encoding, FeatureCountsByHand) {
  // Blocks of a1 (k, e): s1 (3,3) (5,4); s2 (3,6) (3,6) (7,6); s3 (5,4) (5,4); s4 (7,3) (7,3);
  // s5 (3,6) (5,4) (7,3) (3,6). Kernels: 3 x5, 5 x4, 7 x4; expands: 3 x4, 4 x4, 6 x5.
  encoder e(mbv3(), {encoding_kind::fc});
  const auto row = encode({encoding_kind::fc}, a1);
  EXPECT_EQ(named(e, row, "count.k=3"), 5);
  EXPECT_EQ(named(e, row, "count.k=5"), 4);
  EXPECT_EQ(named(e, row, "count.k=7"), 4);
  EXPECT_EQ(named(e, row, "count.e=3"), 4);
  EXPECT_EQ(named(e, row, "count.e=4"), 4);
  EXPECT_EQ(named(e, row, "count.e=6"), 5);
  EXPECT_EQ(named(e, row, "width"), 1);
  EXPECT_EQ(named(e, row, "resolution"), 192);
}

TEST(Encoding, FeatureCombinationCountsByHand) {
  encoder e(mbv3(), {encoding_kind::fcc});
  const auto row = encode({encoding_kind::fcc}, a1);
  EXPECT_EQ(named(e, row, "s2.count.e=6.k=3"), 2);  // s2: (3,6) twice
  EXPECT_EQ(named(e, row, "s2.count.e=6.k=7"), 1);
  EXPECT_EQ(named(e, row, "s5.count.e=6.k=3"), 2);
  EXPECT_EQ(named(e, row, "s4.count.e=3.k=7"), 2);
  double total = 0;
  for (std::size_t i = 0; i < 45; ++i) total += row[i];
  EXPECT_EQ(total, 13) << "one count per active block (depth 13)";
}

TEST(Encoding, StatisticsByHand) {
  encoder e(mbv3(), {encoding_kind::stats});
  const auto row = encode({encoding_kind::stats}, a1);
  // s2 kernels 3, 3, 7: mean 13/3, population std sqrt((1+1+4)/... ) = sqrt(mean(x^2) - mean^2)
  //   = sqrt((9+9+49)/3 - (13/3)^2) = sqrt(22.333 - 18.778) = 1.8856
  EXPECT_EQ(named(e, row, "s2.depth"), 3);
  EXPECT_NEAR(named(e, row, "s2.k.mean"), 13.0 / 3.0, 1e-12);
  EXPECT_NEAR(named(e, row, "s2.k.std"), std::sqrt(67.0 / 3.0 - 169.0 / 9.0), 1e-12);
  EXPECT_EQ(named(e, row, "net.depth"), 13);
  // network expand mean: (4 x 3 + 4 x 4 + 5 x 6) / 13 = 58 / 13
  EXPECT_NEAR(named(e, row, "net.e.mean"), 58.0 / 13.0, 1e-12);
}

TEST(Encoding, OneHotMarksActiveSlotsOnly) {
  encoder e(mbv3(), {encoding_kind::onehot});
  const auto row = encode({encoding_kind::onehot}, a1);
  EXPECT_EQ(named(e, row, "s1.b2.k=5"), 1);
  EXPECT_EQ(named(e, row, "s1.b3.k=3") + named(e, row, "s1.b3.k=5") + named(e, row, "s1.b3.k=7"), 0) << "inactive";
  EXPECT_EQ(named(e, row, "resolution=192"), 1);
  double ones = 0;
  for (double v : row) ones += v;
  EXPECT_EQ(ones, 13 * 2 + 2) << "two choices per active block, width and resolution";
}

TEST(Encoding, ExtrasAreMacsParamsDepthResolution) {
  encoder e(mbv3(), {encoding_kind::fc, true});
  const auto a = space::parse_any(a1);
  const auto row = encode({encoding_kind::fc, true}, a1);
  const auto n = mbv3().build(a, 1);
  EXPECT_DOUBLE_EQ(named(e, row, "gmacs"), static_cast<double>(n.total_macs()) / 1e9);
  EXPECT_EQ(named(e, row, "depth"), 13);
}

TEST(Encoding, WrongSpaceAndBadSpecAreUsageErrors) {
  encoder e(mbv3(), {encoding_kind::fcc});
  const auto other = space::parse_any("ofa-resnet50:r192:d=0,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,20-20,20");
  std::vector<double> row(e.width());
  EXPECT_THROW(e.encode(other, row.data()), usage_error);
  EXPECT_THROW((void)encoding_spec::parse("fcc+more"), usage_error);
  EXPECT_EQ(encoding_spec::parse("onehot+extras").text(), "onehot+extras");
  EXPECT_THROW(encoder(mbv3(), {encoding_kind::lut}), usage_error) << "lut without a table";
}

TEST(Lut, SumsEveryBlockOfTheNetwork) {
  // One distinct value per signature; identical blocks share a signature and so a value.
  lut_table t;
  const auto n = mbv3().build(space::parse_any(a1), 1);
  std::map<std::string, double> value;
  for (const auto& b : n.blocks) value.emplace(b.signature, 0.25 * static_cast<double>(value.size() + 1));
  for (const auto& [sig, v] : value) t.set(192, sig, v);
  double expected = 0;
  for (const auto& b : n.blocks) expected += value.at(b.signature);
  EXPECT_DOUBLE_EQ(encode({encoding_kind::lut}, a1, &t)[0], expected);
  EXPECT_THROW((void)t.network_latency_ms(n, 160), usage_error) << "no table for r160";
}

TEST(Lut, ReadsOfasNote10Tables) {
  const auto dir = std::filesystem::path(ESM_SOURCE_DIR) / ".." / "shared" / "data" / "ofa-note10-lut";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "OFA lookup tables not found at " << dir;
  const lut_table t = lut_table::load_ofa_yaml_dir(dir);
  EXPECT_EQ(t.size(), 17u * 96u);
  // Bigger networks cost more on the phone: max vs min of the space at r224.
  const double small = encode({encoding_kind::lut},
      "ofa-mbv3:w1.2:r224:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3", &t)[0];
  const double large = encode({encoding_kind::lut},
      "ofa-mbv3:w1.2:r224:d=4,4,4,4,4:k=7,7,7,7-7,7,7,7-7,7,7,7-7,7,7,7-7,7,7,7:e=6,6,6,6-6,6,6,6-6,6,6,6-6,6,6,6-6,6,6,6", &t)[0];
  EXPECT_GT(small, 5.0);
  EXPECT_GT(large, 2.5 * small);
  EXPECT_THROW(encode({encoding_kind::lut}, "ofa-mbv3:w1.0:r224:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3", &t),
               usage_error) << "w1.0 blocks are not in a w1.2 table";
}

}  // namespace
}  // namespace esm::features
