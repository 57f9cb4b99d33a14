// The synthetic backend: registered, marked synthetic, latencies from MACs with seeded noise that
// depends on (arch, seed, pass) only, and the configured sleep really taken.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "esm/backend/backend.hpp"
#include "esm/space/space.hpp"

namespace esm::backend {
namespace {

net::network mbv3(const std::string& text) {
  const auto& sp = space::find_space("ofa-mbv3");
  return sp.build(sp.parse(text), 1);
}

const std::string small = "ofa-mbv3:w1.0:r128:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3";
const std::string large = "ofa-mbv3:w1.0:r224:d=4,4,4,4,4:k=7,7,7,7-7,7,7,7-7,7,7,7-7,7,7,7-7,7,7,7:"
                          "e=6,6,6,6-6,6,6,6-6,6,6,6-6,6,6,6-6,6,6,6";

std::vector<double> passes(const net::network& n, std::uint64_t seed, int count) {
  compile_options o;
  o.seed = seed;
  const auto exe = make_backend("synthetic")->compile(n, o);
  std::vector<double> out;
  for (int i = 0; i < count; ++i) out.push_back(exe->timed_run_ms());
  return out;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

TEST(SyntheticBackend, IsRegisteredAndMarkedSynthetic) {
  const auto names = available_backends();
  EXPECT_NE(std::find(names.begin(), names.end(), "synthetic"), names.end());
  const auto be = make_backend("synthetic");
  EXPECT_EQ(be->name(), "synthetic");
  EXPECT_TRUE(be->synthetic());
  EXPECT_FALSE(make_backend("reference")->synthetic());
}

TEST(SyntheticBackend, SameArchSeedAndPassGiveTheSameValue) {
  const auto n = mbv3(small);
  EXPECT_EQ(passes(n, 7, 20), passes(n, 7, 20));
  EXPECT_NE(passes(n, 7, 20), passes(n, 8, 20));
  const auto v = passes(n, 7, 20);
  EXPECT_NE(v[0], v[1]);  // each pass has its own noise
  EXPECT_NE(passes(mbv3(large), 7, 1)[0], v[0]);
}

TEST(SyntheticBackend, LatencyFollowsMacsWithTwoPercentNoise) {
  const auto a = mbv3(small), b = mbv3(large);
  ASSERT_GT(b.total_macs(), 3 * a.total_macs());
  const auto va = passes(a, 1, 400), vb = passes(b, 1, 400);
  // 0.05 ms + MACs / 50 GMAC/s; the mean of 400 passes is within 0.5% (about 5 standard errors).
  const double ea = 0.05 + static_cast<double>(a.total_macs()) / 50e6;
  const double eb = 0.05 + static_cast<double>(b.total_macs()) / 50e6;
  EXPECT_NEAR(mean(va), ea, 0.005 * ea);
  EXPECT_NEAR(mean(vb), eb, 0.005 * eb);
  double var = 0;
  for (double x : va) var += (x - ea) * (x - ea);
  const double rel_sd = std::sqrt(var / static_cast<double>(va.size())) / ea;
  EXPECT_GT(rel_sd, 0.015);
  EXPECT_LT(rel_sd, 0.025);
}

TEST(SyntheticBackend, SleepsTheConfiguredTimePerPass) {
  compile_options o;
  o.synthetic_sleep_ms = 20;
  const auto exe = make_backend("synthetic")->compile(mbv3(small), o);
  const auto start = std::chrono::steady_clock::now();
  (void)exe->timed_run_ms();
  (void)exe->timed_run_ms();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(ms, 40.0);
  o.synthetic_sleep_ms = -1;
  EXPECT_THROW((void)make_backend("synthetic")->compile(mbv3(small), o), std::exception);
}

}  // namespace
}  // namespace esm::backend
