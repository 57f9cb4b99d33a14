// Measuring-group effects: the estimate recovers known shared errors and invents none, groups come
// from (run, rank, reference reading), and a model fitted on corrected labels lands nearer the
// truth than one fitted on the labels as measured.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/features/encoding.hpp"
#include "esm/train/cross_validation.hpp"
#include "esm/train/group_effects.hpp"
#include "esm/train/training_data.hpp"
#include "train/synthetic_dataset.hpp"

namespace esm::train {
namespace {

/// Residuals of `groups` groups of `size` rows: a shared N(0, shared) plus N(0, noise) per row.
struct synthetic_residuals {
  std::vector<double> r, truth;
  std::vector<std::int64_t> group;
};

synthetic_residuals make_residuals(std::size_t groups, std::size_t size, double shared, double noise, std::uint64_t seed) {
  synthetic_residuals s;
  rng g(seed);
  for (std::size_t k = 0; k < groups; ++k) {
    const double effect = shared * g.normal();
    for (std::size_t i = 0; i < size; ++i) {
      s.r.push_back(effect + noise * g.normal());
      s.truth.push_back(effect);
      s.group.push_back(static_cast<std::int64_t>(k));
    }
  }
  return s;
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ma += a[i] / static_cast<double>(a.size());
    mb += b[i] / static_cast<double>(b.size());
  }
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) * (a[i] - ma);
    bb += (b[i] - mb) * (b[i] - mb);
  }
  return ab / std::sqrt(aa * bb);
}

TEST(GroupEffects, RecoversSharedErrors) {
  const auto s = make_residuals(60, 8, 0.025, 0.015, 7);
  const auto e = estimate_group_effects(s.r, s.group);
  EXPECT_EQ(e.groups, 60u);
  EXPECT_NEAR(e.shared_sd, 0.025, 0.006);
  EXPECT_NEAR(e.within_sd, 0.015, 0.002);
  EXPECT_NEAR(e.shrinkage, (0.015 * 0.015) / (0.025 * 0.025), 0.3);
  EXPECT_GT(correlation(e.log_effect, s.truth), 0.95);
  // Shrunk towards zero: the effects are the group means pulled in by n / (n + lambda).
  double error_after = 0, error_before = 0;
  for (std::size_t i = 0; i < s.r.size(); ++i) {
    error_before += std::abs(s.r[i]);
    error_after += std::abs(s.r[i] - e.log_effect[i]);
  }
  EXPECT_LT(error_after, 0.6 * error_before);
}

TEST(GroupEffects, InventsNoneWhereThereAreNone) {
  double total = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto s = make_residuals(50, 8, 0.0, 0.02, seed);
    const auto e = estimate_group_effects(s.r, s.group);
    for (double v : e.log_effect) total += std::abs(v) / static_cast<double>(s.r.size() * 5);
    EXPECT_LT(e.shared_sd, 0.006) << "seed " << seed;
  }
  // Against a per-row noise of 2%: chance between-group scatter moves labels by a small fraction.
  EXPECT_LT(total, 0.002);
}

TEST(GroupEffects, UngroupedRowsAndBadInput) {
  const std::vector<double> r{0.1, -0.1, 0.05, 0.3};
  const std::vector<std::int64_t> none{-1, -1, -1, -1};
  const auto e = estimate_group_effects(r, none);
  EXPECT_EQ(e.groups, 0u);
  for (double v : e.log_effect) EXPECT_EQ(v, 0.0);
  EXPECT_THROW((void)estimate_group_effects(r, std::vector<std::int64_t>{0, 0}), error);
  EXPECT_THROW((void)estimate_group_effects(std::vector<double>{0.1, std::nan("")}, std::vector<std::int64_t>{0, 0}),
               error);
  EXPECT_FALSE(has_groups(none));
  EXPECT_TRUE(has_groups(std::vector<std::int64_t>{-1, 3}));
}

TEST(GroupEffects, GroupsAreRunRankAndReferenceReading) {
  dataset::contents c;
  const auto row = [](int run, int rank, double ref) {
    dataset::result_row r = dataset::pending_row();
    r.run = run;
    r.rank = rank;
    r.reference_ms = ref;
    return r;
  };
  c.results = {row(0, 0, 2.0), row(0, 0, 2.0), row(0, 1, 2.0), row(0, 1, 2.0), row(1, 0, 2.0),
               row(0, 0, 2.5), row(0, 0, std::nan("")), row(0, 0, std::nan(""))};
  const std::vector<std::size_t> all{0, 1, 2, 3, 4, 5, 6, 7};
  const auto g = measuring_groups(c, all);
  EXPECT_GE(g[0], 0);
  EXPECT_EQ(g[0], g[1]);
  EXPECT_GE(g[2], 0);
  EXPECT_EQ(g[2], g[3]);
  EXPECT_NE(g[0], g[2]);
  EXPECT_EQ(g[4], -1) << "another run's reading is another group, and alone";
  EXPECT_EQ(g[5], -1) << "another reading is another group, and alone";
  EXPECT_EQ(g[6], -1) << "no reference reading, no group";
  EXPECT_EQ(g[7], -1);
  // Only rows given count: row 1 left out leaves row 0 alone; one group left is no groups.
  const std::vector<std::size_t> some{0, 2, 3, 5};
  const auto h = measuring_groups(c, some);
  for (auto v : h) EXPECT_EQ(v, -1);
  EXPECT_THROW((void)measuring_groups(c, std::vector<std::size_t>{9}), error);
  // A crossed dataset's label has the group levels solved out: no groups, whatever the readings.
  c.prov.measure_policy = "reps=200 mode=crossed,burst=10,group=8";
  for (auto v : measuring_groups(c, all)) EXPECT_EQ(v, -1);
  c.prov.measure_policy = "reps=200 mode=interleaved,burst=10,group=8";
  EXPECT_EQ(measuring_groups(c, all), g);
}

TEST(GroupEffects, CorrectedLabelsFitNearerTheTruth) {
  // Synthetic ofa-mbv3 latencies (known truth) in groups of 8 sharing a 6% level error, 0.5% per
  // row: ridge on the corrected labels predicts fresh archs nearer their true latency.
  const auto dir = std::filesystem::temp_directory_path() / ("esm_group_effects_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "grouped.h5").string();
  test::write_synthetic_dataset(path, 176, 0.005, 11, 0, 0, 8, 0.06);
  const auto contents = dataset::read(path);
  const auto data = load_training_data(contents, label_kind::trimmed_mean);
  const features::encoder enc(space::find_space(data.space), features::encoding_spec::parse("fcc+extras"));
  const auto x = enc.encode(data.archs);
  const surrogate::matrix_view v(x.rows, x.cols, x.data);
  cv_options o;
  o.kinds = {"ridge"};
  o.members = 1;
  o.seed = 2;
  const auto as_measured = fit_final(cluster::communicator::world(), v, data.y, o);
  o.label_groups = measuring_groups(contents, data.dataset_rows);
  ASSERT_TRUE(has_groups(o.label_groups));
  group_effect_estimate e;
  const auto corrected = fit_final(cluster::communicator::world(), v, data.y, o, {}, &e);
  EXPECT_EQ(e.groups, 22u);
  EXPECT_GT(e.shared_sd, 0.03);

  space::sample_request req;
  req.count = 300;
  req.seed = 99;
  const auto fresh = space::sample_archs(space::find_space("ofa-mbv3"), req);
  const auto xf = enc.encode(fresh);
  const surrogate::matrix_view vf(xf.rows, xf.cols, xf.data);
  const auto p_measured = as_measured.predict(vf), p_corrected = corrected.predict(vf);
  double err_measured = 0, err_corrected = 0;
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    const double truth = test::synthetic_latency_ms(fresh[i]);
    err_measured += std::abs(p_measured[i] / truth - 1) / static_cast<double>(fresh.size());
    err_corrected += std::abs(p_corrected[i] / truth - 1) / static_cast<double>(fresh.size());
  }
  EXPECT_LT(err_corrected, 0.8 * err_measured) << "corrected " << err_corrected << ", as measured " << err_measured;

  // Cross-validation scores against the labels as measured, and reports each fold's estimate.
  const auto cv = cross_validate(cluster::communicator::world(), v, data.y, data.bins, o);
  if (cluster::communicator::world().rank() == 0) {
    EXPECT_EQ(cv.group_effects.size(), o.folds);
    EXPECT_EQ(cv.models.front().overall.n, data.y.size());
  }
  o.label_groups.pop_back();
  EXPECT_THROW((void)cross_validate(cluster::communicator::world(), v, data.y, data.bins, o), error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace esm::train
