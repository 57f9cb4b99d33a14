// OFA arch configs <-> esm architectures: every arch of the shared HELP file converts, every arch
// round-trips, and each kind of bad config is refused with a message naming the key and position.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "esm/common/error.hpp"
#include "esm/space/arch_file.hpp"
#include "esm/space/ofa_config.hpp"
#include "esm/space/sampler.hpp"

namespace esm::space {
namespace {

std::filesystem::path help_ofa_dir() { return std::filesystem::path(ESM_SHARED_DIR) / "data" / "help-ofa"; }

/// The usage_error message of `f`, or "" when it does not throw one.
std::string usage_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const usage_error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_REFUSED(call, text) EXPECT_NE(usage_message([&] { (void)(call); }).find(text), std::string::npos) \
    << "message: '" << usage_message([&] { (void)(call); }) << "', expected to contain '" << text << "'"

const std::string good_mbv3 =
    R"({"ks": [7, 5, 5, 5, 7, 7, 5, 7, 5, 7, 3, 7, 5, 3, 7, 3, 5, 3, 5, 3], )"
    R"("e": [6, 4, 4, 6, 6, 3, 4, 3, 3, 6, 3, 3, 3, 6, 3, 4, 6, 4, 3, 6], "d": [2, 2, 2, 2, 3], "r": 204})";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST(OfaConfig, MbV3ConfigMapsActiveSlotsToTheCanonicalText) {
  const auto& sp = find_space("ofa-mbv3");
  const arch a = from_ofa(sp, parse_ofa_json(good_mbv3), "w1.2");
  EXPECT_EQ(sp.format(a), "ofa-mbv3:w1.2:r204:d=2,2,2,2,3:k=7,5-7,7-5,7-5,3-5,3,5:e=6,4-6,3-3,6-3,6-6,4,3");
}

TEST(OfaConfig, ResNet50ConfigUsesOfasOwnValues) {
  const auto& sp = find_space("ofa-resnet50");
  ofa_config c;
  c.d = std::vector<int>{2, 0, 1, 2, 0};
  c.w = std::vector<int>{2, 1, 0, 1, 2, 0};
  c.e = std::vector<double>(18, 0.25);
  c.r = 192;
  const arch a = from_ofa(sp, c, "");
  EXPECT_EQ(sp.format(a), "ofa-resnet50:r192:d=2,0,1,2,0:w=2,1,0,1,2,0:e=25,25-25,25,25-25,25,25,25,25,25-25,25");
  const ofa_config back = to_ofa(sp, a);
  EXPECT_EQ(back.d, c.d);
  EXPECT_EQ(back.w, c.w);
  EXPECT_EQ(back.r, c.r);
  EXPECT_EQ(back.e->at(0), 0.25);
  EXPECT_EQ(back.e->at(3), 0.2);  // stage 1 has depth 2 + 0: slots 2 and 3 inactive, OFA's smallest choice
  EXPECT_EQ(ofa_json(sp, back).substr(0, 22), R"({"d": [2, 0, 1, 2, 0],)");
}

TEST(OfaConfig, EveryArchRoundTripsInBothSpacesAndWidths) {
  for (const char* name : {"ofa-mbv3", "ofa-resnet50"}) {
    const auto& sp = find_space(name);
    sample_request req;
    req.count = 400;
    req.seed = 11;
    for (const arch& a : sample_archs(sp, req)) {
      const ofa_config c = to_ofa(sp, a);
      ASSERT_EQ(from_ofa(sp, c, sp.variant_of(a)), a) << sp.format(a);
      ASSERT_EQ(parse_ofa_json(ofa_json(sp, c)), c) << sp.format(a);
      ASSERT_EQ(to_ofa(sp, from_ofa(sp, c, sp.variant_of(a))), c) << "inactive slots filled deterministically";
    }
  }
}

TEST(OfaConfig, EveryArchOfTheSharedHelpFileConverts) {
  const auto file = help_ofa_dir() / "archs.jsonl";
  if (!std::filesystem::exists(file)) {
    GTEST_SKIP() << file << " not found (../shared beside the clone; configure with -DESM_SHARED_DIR=... to run this test)";
  }
  const auto& sp = find_space("ofa-mbv3");
  const arch_file f = read_arch_file(file.string(), sp, "w1.2");
  EXPECT_EQ(f.format, arch_file_format::ofa_config);
  ASSERT_EQ(f.archs.size(), 5000u);  // distinct: read_arch_file refuses a repeated arch
  std::ifstream in(file);
  std::string line;
  for (const arch& a : f.archs) {
    ASSERT_TRUE(std::getline(in, line));
    const ofa_config original = parse_ofa_json(line);
    const ofa_config c = to_ofa(sp, a);
    ASSERT_EQ(from_ofa(sp, c, "w1.2"), a);
    EXPECT_EQ(c.d, original.d);
    EXPECT_EQ(c.r, original.r);
    for (std::size_t i = 0; i < 20; ++i) {
      if (static_cast<int>(i % 4) < original.d->at(i / 4)) {  // active slots agree; inactive ones are OFA's leftovers
        ASSERT_EQ(c.ks->at(i), original.ks->at(i)) << line;
        ASSERT_EQ(c.e->at(i), original.e->at(i)) << line;
      }
    }
  }
}

TEST(OfaConfig, BadConfigsAreRefusedNamingKeyAndPosition) {
  const auto& mbv3 = find_space("ofa-mbv3");
  const auto from = [&](const std::string& text, std::string_view variant = "w1.2") {
    return from_ofa(mbv3, parse_ofa_json(text), variant);
  };
  EXPECT_REFUSED(from(replaced(good_mbv3, "\"r\"", "\"q\"")), "unknown key 'q'");
  EXPECT_REFUSED(from(replaced(good_mbv3, "[7, 5,", "[5,")), "'ks' has 19 values, expected 20");
  EXPECT_REFUSED(from(replaced(good_mbv3, "[2, 2, 2, 2, 3]", "[2, 2, 2, 3]")), "'d' has 4 values, expected 5");
  EXPECT_REFUSED(from(replaced(good_mbv3, "[7, 5,", "[4, 5,")), "ks[0] = 4 is not one of {3,5,7}");
  EXPECT_REFUSED(from(replaced(good_mbv3, "5, 3]", "5, 0]")), "ks[19] = 0 is not one of");  // an inactive slot
  EXPECT_REFUSED(from(replaced(good_mbv3, "[6, 4,", "[5, 4,")), "e[0] = 5 is not one of {3,4,6}");
  EXPECT_REFUSED(from(replaced(good_mbv3, "[2, 2, 2, 2, 3]", "[2, 2, 5, 2, 3]")), "d[2] = 5 is not one of {2,3,4}");
  EXPECT_REFUSED(from(replaced(good_mbv3, "204", "100")), "r = 100 is outside the space (128..224 step 4)");
  EXPECT_REFUSED(from(replaced(good_mbv3, "204", "206")), "r = 206 is outside the space");
  EXPECT_REFUSED(from(replaced(good_mbv3, ", \"r\": 204", "")), "missing key 'r'");
  EXPECT_REFUSED(from(replaced(good_mbv3, "\"r\": 204", "\"r\": 204, \"w\": [0]")), "key 'w' is not one of its keys");
  EXPECT_REFUSED(from(replaced(good_mbv3, "[7, 5,", "[7.5, 5,")), "ks[0] = 7.5 is not an integer");
  EXPECT_REFUSED(from(replaced(good_mbv3, "[7, 5,", "[\"7\", 5,")), "ks[0] = \"7\" is not an integer");
  EXPECT_REFUSED(from(good_mbv3.substr(1)), "malformed JSON");
  EXPECT_REFUSED(from(good_mbv3, ""), "width '' is not one of w1.0, w1.2");
  EXPECT_REFUSED(from(good_mbv3, "w2.0"), "width 'w2.0' is not one of");

  const auto& resnet = find_space("ofa-resnet50");
  ofa_config c = to_ofa(resnet, resnet.parse("ofa-resnet50:r160:d=0,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,20-20,20"));
  EXPECT_NO_THROW((void)from_ofa(resnet, c, ""));
  auto bad = c;
  bad.e->at(17) = 0.3;
  EXPECT_REFUSED(from_ofa(resnet, bad, ""), "e[17] = 0.3 is not one of {0.2,0.25,0.35}");
  bad = c;
  bad.d->at(0) = 1;
  EXPECT_REFUSED(from_ofa(resnet, bad, ""), "d[0] = 1 is not one of {0,2}");
  bad = c;
  bad.w->at(5) = 3;
  EXPECT_REFUSED(from_ofa(resnet, bad, ""), "w[5] = 3 is not one of {0,1,2}");
  bad = c;
  bad.ks = std::vector<int>(20, 3);
  EXPECT_REFUSED(from_ofa(resnet, bad, ""), "key 'ks' is not one of its keys (d, e, w, r)");
  EXPECT_REFUSED(from_ofa(resnet, c, "w1.2"), "has no width variants");
  EXPECT_REFUSED(from_ofa(find_space("densenet"), c, ""), "has no once-for-all arch config");
}

class ArchFile : public ::testing::Test {
 protected:
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("esm_arch_file_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".txt");
  void write(const std::string& text) { std::ofstream(path) << text; }
  void TearDown() override { std::filesystem::remove(path); }
  arch_file read(std::string_view variant = "w1.2") { return read_arch_file(path.string(), find_space("ofa-mbv3"), variant); }
};

TEST_F(ArchFile, ReadsEsmTextsAndOfaConfigsDecidedByTheFirstLine) {
  const auto& sp = find_space("ofa-mbv3");
  const arch a = from_ofa(sp, parse_ofa_json(good_mbv3), "w1.2");
  write(good_mbv3 + "\r\n" + ofa_json(sp, to_ofa(sp, sp.parse("ofa-mbv3:w1.2:r128:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3"))) + "\n\n");
  auto f = read();
  EXPECT_EQ(f.format, arch_file_format::ofa_config);
  ASSERT_EQ(f.archs.size(), 2u);
  EXPECT_EQ(f.archs[0], a);
  write(sp.format(a) + "\n");
  f = read("");
  EXPECT_EQ(f.format, arch_file_format::esm_text);
  EXPECT_EQ(f.archs.at(0), a);
}

TEST_F(ArchFile, ProblemsNameTheFileAndLine) {
  const auto& sp = find_space("ofa-mbv3");
  const std::string text = sp.format(from_ofa(sp, parse_ofa_json(good_mbv3), "w1.2"));
  const std::string where = path.string() + ":";
  write(good_mbv3 + "\n" + good_mbv3 + "\n");
  EXPECT_REFUSED(read(), where + "2: the same architecture as line 1");
  write(good_mbv3 + "\n" + text + "\n");
  EXPECT_REFUSED(read(), where + "2: expected a JSON object like the first line's");
  write(text + "\n" + good_mbv3 + "\n");
  EXPECT_REFUSED(read(), where + "2: a JSON object in a file of esm texts");
  write(text + "\n\n" + text + "\n");
  EXPECT_REFUSED(read(), where + "3: line 2 is empty");
  write(text + "\n");
  EXPECT_REFUSED(read("w1.0"), where + "1: width w1.2, not w1.0");
  write("ofa-resnet50:r160:d=0,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,20-20,20\n");
  EXPECT_REFUSED(read(), where + "1: an architecture of 'ofa-resnet50', not of 'ofa-mbv3'");
  write(replaced(good_mbv3, "204", "100") + "\n");
  EXPECT_REFUSED(read(), where + "1: ofa-mbv3 config: r = 100 is outside the space");
  write("");
  EXPECT_REFUSED(read(), "holds no architectures");
}

}  // namespace
}  // namespace esm::space
