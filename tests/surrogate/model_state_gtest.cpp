// model_state: typed access, shape checks, errors naming the key, and prefix nesting.
#include "esm/surrogate/model_state.hpp"

#include <gtest/gtest.h>

#include "esm/common/error.hpp"

namespace esm::surrogate {
namespace {

TEST(ModelState, TypedEntriesRoundTrip) {
  model_state s;
  s.set_scalar("alpha", 0.5);
  s.set_vector("coef", {1.0, 2.0, 3.0});
  s.set_numbers("layer/0/weight", {2, 3}, {1, 2, 3, 4, 5, 6});
  s.set_text("kind", "ridge");
  s.set_bytes("blob", {0x00, 0xff, 0x7b});
  EXPECT_EQ(s.size(), 5u);
  EXPECT_DOUBLE_EQ(s.scalar("alpha"), 0.5);
  EXPECT_EQ(s.numbers("coef"), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(s.shape("coef"), (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(s.numbers("layer/0/weight", std::vector<std::uint64_t>{2, 3}).size(), 6u);
  EXPECT_EQ(s.text("kind"), "ridge");
  EXPECT_EQ(s.bytes("blob"), (std::vector<std::uint8_t>{0x00, 0xff, 0x7b}));
  EXPECT_TRUE(s.shape("alpha").empty());  // a scalar has no dimensions
  // Keys come out sorted: writers produce the same file for the same model.
  std::vector<std::string> keys;
  for (const auto& [key, entry] : s.entries()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"alpha", "blob", "coef", "kind", "layer/0/weight"}));
}

TEST(ModelState, ErrorsNameTheKey) {
  model_state s;
  s.set_vector("coef", {1.0, 2.0});
  s.set_text("kind", "mlp");
  s.set_scalar("count", 2.5);
  try {
    (void)s.scalar("missing");
    FAIL();
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("'missing'"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)s.scalar("coef"), error);  // a vector is not a scalar
  EXPECT_THROW((void)s.numbers("kind"), error);  // text is not numbers
  EXPECT_THROW((void)s.text("coef"), error);
  EXPECT_THROW((void)s.bytes("kind"), error);
  EXPECT_THROW((void)s.count("count"), error);  // 2.5 is not a count
  EXPECT_THROW((void)s.numbers("coef", std::vector<std::uint64_t>{3}), error);
  EXPECT_THROW(s.set_numbers("bad", {2, 2}, {1, 2, 3}), error);  // 2 x 2 needs 4 values
}

TEST(ModelState, PrefixNestingRoundTrips) {
  model_state child;
  child.set_text("kind", "mlp");
  child.set_vector("layer/0/bias", {0.1, 0.2});
  model_state parent;
  parent.set_text("kind", "ensemble");
  parent.insert_prefixed("member/000/", child);
  parent.insert_prefixed("member/001/", child);
  EXPECT_EQ(parent.size(), 5u);
  EXPECT_EQ(parent.text("member/001/kind"), "mlp");
  EXPECT_EQ(parent.extract_prefixed("member/000/"), child);
  EXPECT_TRUE(parent.extract_prefixed("member/002/").empty());
}

}  // namespace
}  // namespace esm::surrogate
