// Search spaces: canonical text round trip, golden ids, gene invariants and bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

#include "esm/common/error.hpp"
#include "esm/space/sampler.hpp"
#include "esm/space/space.hpp"
#include "space/text.hpp"

namespace esm::space {
namespace {

TEST(ArchId, Fnv1a64KnownVectors) {
  // Published FNV-1a 64-bit test vectors.
  EXPECT_EQ(arch_id(std::string_view("")), 0xcbf29ce484222325ULL);
  EXPECT_EQ(arch_id(std::string_view("a")), 0xaf63dc4c8601ec8cULL);
}

TEST(ArchId, GoldenIds) {
  // Computed once with an independent Python FNV-1a implementation; must never change, or
  // every dataset written so far would disagree with new ones.
  EXPECT_EQ(arch_id(std::string_view("ofa-mbv3:w1.0:r140:d=2,2,2,2,2:k=7,7-5,5-5,5-5,5-7,7:e=6,6-4,4-4,4-3,4-6,6")),
            0x0fb9ebc470e52b03ULL);
  EXPECT_EQ(arch_id(std::string_view("ofa-resnet50:r164:d=0,0,0,0,0:w=1,1,2,2,0,1:e=20,35-35,25-25,25,25,20-25,35")),
            0xbf679f83eb9f7787ULL);
  EXPECT_EQ(arch_id(parse_any("densenet:r152:d=4,8,24,16:g=32,24,32,32:b=2,4,4,3-3,3,3,2,3,4,4,3-3,4,4,2,3,3,3,3,3,"
                              "3,4,3,2,2,2,4,2,2,2,2,4,2,3,2-2,4,2,4,2,3,4,3,2,3,4,2,3,2,4,2")),
            0x0a3b4ff38a5d367dULL);
}

class EverySpace : public ::testing::TestWithParam<const char*> {};

TEST_P(EverySpace, RoundTripIsExact) {
  const auto& sp = find_space(GetParam());
  for (auto policy : {sample_policy::uniform, sample_policy::balanced}) {
    sample_request req;
    req.policy = policy;
    req.count = 300;
    req.seed = 11;
    for (const auto& a : sample_archs(sp, req)) {
      const std::string text = sp.format(a);
      const arch back = sp.parse(text);
      EXPECT_EQ(back, a) << text;
      EXPECT_EQ(sp.format(back), text);
      EXPECT_EQ(parse_any(text), a);
      EXPECT_EQ(a.genes.size(), sp.gene_names().size());
    }
  }
}

TEST_P(EverySpace, GeneVectorHasFixedLengthAndDepthIsInABin) {
  const auto& sp = find_space(GetParam());
  const auto bins = sp.depth_bins();
  rng r(3);
  for (int i = 0; i < 200; ++i) {
    const arch a = sp.sample_independent(r, {});
    EXPECT_EQ(a.genes.size(), sp.gene_names().size());
    EXPECT_TRUE(std::find(bins.begin(), bins.end(), sp.depth(a)) != bins.end());
    EXPECT_EQ(sp.resolution(a) % 4, 0);
  }
}

TEST_P(EverySpace, NetworkBuildsAndValidatesForSampledArchs) {
  const auto& sp = find_space(GetParam());
  rng r(5);
  for (int i = 0; i < 20; ++i) {
    const arch a = sp.sample_independent(r, {});
    const net::network n = sp.build(a, 2);
    EXPECT_EQ(n.arch, sp.format(a));
    EXPECT_EQ(n.output_shape(), (net::shape4{2, 1000, 1, 1}));
    int searchable = 0;
    for (const auto& b : n.blocks) searchable += b.searchable ? 1 : 0;
    EXPECT_EQ(searchable, sp.depth(a)) << "depth = number of searchable blocks";
  }
}

INSTANTIATE_TEST_SUITE_P(Spaces, EverySpace, ::testing::Values("ofa-mbv3", "ofa-resnet50", "densenet"));

TEST(OfaMbv3, InactiveBlocksDoNotAffectTextOrId) {
  const auto& sp = find_space("ofa-mbv3");
  const arch a = sp.parse("ofa-mbv3:w1.2:r192:d=2,2,2,2,2:k=3,5-3,5-3,5-3,5-3,5:e=3,4-3,4-3,4-3,4-3,4");
  // genes: [width, res, d1..d5, k (20), e (20)]; position 3 of stage 1 is inactive.
  EXPECT_EQ(a.genes[7 + 2], 0);
  EXPECT_EQ(a.genes[27 + 2], 0);
  arch b = a;
  b.genes[7 + 2] = 7;  // a kernel in an inactive position
  EXPECT_EQ(sp.format(b), sp.format(a));
  EXPECT_EQ(arch_id(sp.format(b)), arch_id(sp.format(a)));
}

TEST(OfaResNet50, StemDepthFollowsOfaConvention) {
  const auto& sp = find_space("ofa-resnet50");
  const arch with = sp.parse("ofa-resnet50:r224:d=2,0,0,0,0:w=2,2,2,2,2,2:e=25,25-25,25-25,25,25,25-25,25");
  const arch without = sp.parse("ofa-resnet50:r224:d=0,0,0,0,0:w=2,2,2,2,2,2:e=25,25-25,25-25,25,25,25-25,25");
  EXPECT_EQ(sp.build(with, 1).layers.size(), sp.build(without, 1).layers.size() + 2);
  EXPECT_EQ(sp.depth(with), 10);
}

TEST(Spaces, SizesAreTheProductOfTheChoices) {
  // ofa-mbv3: per stage sum_{d in 2,3,4} 9^d = 81 + 729 + 6561 = 7371; 5 stages; 25 resolutions;
  // 2 widths.
  const long double mbv3 = std::pow(7371.0L, 5) * 25 * 2;
  EXPECT_NEAR(static_cast<double>(find_space("ofa-mbv3").count({}) / mbv3), 1.0, 1e-12);
  // ofa-resnet50: stages (3^2+3^3+3^4) (same) (3^4+3^5+3^6) (3^2+..) ; stem 2; widths 3^6; res 25.
  const long double a = 9 + 27 + 81, b = 81 + 243 + 729;
  const long double resnet = a * a * b * a * 2 * 729 * 25;
  EXPECT_NEAR(static_cast<double>(find_space("ofa-resnet50").count({}) / resnet), 1.0, 1e-12);
  // A fixed depth: ofa-mbv3 depth 10 = all stages depth 2: 9^10 per width and resolution.
  sample_constraints c;
  c.resolution = 160;
  c.variant = "w1.2";
  EXPECT_NEAR(static_cast<double>(find_space("ofa-mbv3").count(c, 10)), std::pow(9.0, 10), 1.0);
}

TEST(Spaces, BadTextsNameTheOffendingToken) {
  struct bad {
    const char* text;
    const char* token;
  };
  const bad cases[] = {
      {"nonsense", "nonsense"},
      {"mobilenet:w1.0", "mobilenet"},
      {"ofa-mbv3:w1.5:r192:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3", "w1.5"},
      {"ofa-mbv3:w1.0:r130:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3", "130"},
      {"ofa-mbv3:w1.0:r0192:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3", "0192"},
      {"ofa-mbv3:w1.0:r192:d=2,2,2,2,5:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3", "5"},
      {"ofa-mbv3:w1.0:r192:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,9:e=3,3-3,3-3,3-3,3-3,3", "9"},
      {"ofa-mbv3:w1.0:r192:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,5", "5"},
      {"ofa-mbv3:w1.0:r192:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3,3:e=3,3-3,3-3,3-3,3-3,3", "stage 5"},
      {"ofa-mbv3:w1.0:r192:d=2,2,2,2,2:k=3,x-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3", "'x'"},
      {"ofa-mbv3:w1.0:r192:d=2,2,2,2,2:q=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3", "q=3"},
      {"ofa-mbv3:w1.0:r192:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3:extra", "ofa-mbv3:w1.0"},
      {"ofa-resnet50:r192:d=1,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,20-20,20", "1"},
      {"ofa-resnet50:r192:d=0,0,0,0,0:w=0,0,3,0,0,0:e=20,20-20,20-20,20,20,20-20,20", "3"},
      {"ofa-resnet50:r192:d=0,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,30-20,20", "30"},
      {"ofa-resnet50:r192:d=0,1,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,20-20,20", "stage 1"},
      {"densenet:r192:d=6,12,24,16:g=32,32,33,32:b=4", "33"},
      {"densenet:r192:d=6,12,25,16:g=32,32,32,32:b=4-4-4-4", "25"},
      {"densenet:r192:d=4,8,24,16:g=32,32,32,32:b=4,4,4-4,4,4,4,4,4,4,4-4-4", "block 1"},
      // Past the parser's fixed storage (16 groups, 128 values): the same messages as any size.
      {"ofa-mbv3:w1.0:r192:d=2,2,2,2,2:k=3-3-3-3-3-3-3-3-3-3-3-3-3-3-3-3-3-3-3-3:e=3,3-3,3-3,3-3,3-3,3", "5 '-'-separated"},
      {"densenet:r192:d=4,8,24,16:g=32,32,32,32:b=2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,"
       "2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,"
       "2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2-2-2-2", "block 1 has depth 4 but 131"},
  };
  for (const auto& c : cases) {
    try {
      (void)parse_any(c.text);
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const usage_error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(c.token), std::string::npos) << "message '" << msg << "' does not name '" << c.token << "'";
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    }
  }
}

TEST(SpaceText, SplitCountsEveryPieceAndKeepsTheFirstEight) {
  const auto p = text::split("a:bb::c", ':');
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], "a");
  EXPECT_EQ(p[1], "bb");
  EXPECT_EQ(p[2], "");
  EXPECT_EQ(p[3], "c");
  const auto many = text::split("0:1:2:3:4:5:6:7:8:9:10", ':');
  EXPECT_EQ(many.size(), 11u);  // a caller's "expected 6 fields" check sees the true count
  EXPECT_EQ(many[7], "7");
  EXPECT_THROW((void)many[8], std::out_of_range);
  EXPECT_EQ(text::split("", ':').size(), 1u);
}

TEST(SpaceText, GroupsKeepTrueSizesBeyondTheirStorage) {
  const auto g = text::parse_groups("3,5-3,5,7-6", "kernel");
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].size(), 2u);
  EXPECT_EQ(g[1].size(), 3u);
  EXPECT_EQ(g[1][2], 7);
  EXPECT_EQ(g[2][0], 6);
  EXPECT_THROW((void)g[0][2], std::out_of_range);
  EXPECT_THROW((void)g[3], std::out_of_range);

  // 20 groups: sizes of the first 16 kept, the count true, later groups not readable.
  std::string many;
  for (int i = 0; i < 20; ++i) many += (i ? "-" : "") + std::string("1,2");
  const auto m = text::parse_groups(many, "depth");
  EXPECT_EQ(m.size(), 20u);
  EXPECT_EQ(m[15].size(), 2u);
  EXPECT_EQ(m[15][1], 2);
  EXPECT_THROW((void)m[16], std::out_of_range);

  // 200 values in one group: the size is true, only the first 128 are readable.
  std::string wide = "1";
  for (int i = 1; i < 200; ++i) wide += "," + std::to_string(i % 7 + 1);
  const auto w = text::parse_groups(wide + "-4", "depth");
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].size(), 200u);
  EXPECT_EQ(w[0][127], 127 % 7 + 1);
  EXPECT_THROW((void)w[0][128], std::out_of_range);
  EXPECT_EQ(w[1].size(), 1u);
  EXPECT_THROW((void)w[1][0], std::out_of_range);  // its value fell past the storage
}

TEST(SpaceText, GroupsValidateEveryTokenInOrder) {
  // Tokens past the storage are still checked, so the first bad token is named as before.
  std::string many;
  for (int i = 0; i < 20; ++i) many += (i ? "-" : "") + std::string("1");
  for (const std::string& bad : {many + "-x", std::string("3--5"), std::string("3,"), std::string(""), std::string("03")}) {
    try {
      (void)text::parse_groups(bad, "depth");
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const usage_error& e) {
      EXPECT_NE(std::string(e.what()).find("bad depth '"), std::string::npos) << e.what();
    }
  }
}

TEST(Spaces, UnknownSpaceListsTheKnownOnes) {
  try {
    (void)find_space("nasbench");
    FAIL();
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("ofa-mbv3, ofa-resnet50, densenet"), std::string::npos);
  }
}

}  // namespace
}  // namespace esm::space
