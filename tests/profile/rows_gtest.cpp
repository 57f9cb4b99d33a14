// The rows a profile run writes, from made-up measurements (no MPI, no HDF5, no device).
#include "profile/rows.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "esm/dataset/fields.hpp"

namespace esm::profile {
namespace {

measure::measurement made_up_measurement() {
  measure::measurement m;
  m.stats = {.n = 5, .trimmed_n = 3, .trimmed_mean_ms = 2.0, .median_ms = 2.1, .mean_ms = 2.2, .std_ms = 0.1,
             .min_ms = 1.9, .max_ms = 2.6, .p10_ms = 1.95, .p90_ms = 2.4, .noise = 0.05};
  m.samples_ms = {2.0, 1.9, 2.6, 2.1, 2.0};
  m.reference_ms = 4.0;
  m.normalised = 0.5;
  m.remeasure_count = 1;
  m.start_unix_ns = 1'500'000'000;
  m.end_unix_ns = 2'500'000'000;
  return m;
}

constexpr row_origin origin{0xabcdefULL, 3, 7, -1};
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// Every column of `actual` equals `expected`'s (NaN equals NaN; texts compared as strings).
template <class Row>
void expect_same_columns(const Row& actual, const Row& expected) {
  dataset::for_each_column(dataset::row_tag<Row>{}, [&](const dataset::column& c, auto member) {
    const auto& a = actual.*member;
    const auto& e = expected.*member;
    using value = std::remove_cvref_t<decltype(a)>;
    if constexpr (std::is_array_v<value>) {
      EXPECT_EQ(dataset::get_text(a), dataset::get_text(e)) << c.name;
    } else if constexpr (std::is_floating_point_v<value>) {
      if (std::isnan(e)) {
        EXPECT_TRUE(std::isnan(a)) << c.name << " = " << a;
      } else {
        EXPECT_DOUBLE_EQ(a, e) << c.name;
      }
    } else {
      EXPECT_EQ(a, e) << c.name;
    }
  });
}

TEST(ProfileRows, DoneRowCarriesTheStatisticsWhereTheyWereMeasured) {
  // An eager-timed row without other-mode passes (a CPU backend): eager is the label, no graph.
  const dataset::result_row expected{
      .arch_id = 0xabcdefULL, .trimmed_mean_ms = 2.0, .median_ms = 2.1, .mean_ms = 2.2, .std_ms = 0.1,
      .min_ms = 1.9, .max_ms = 2.6, .p10_ms = 1.95, .p90_ms = 2.4, .reference_ms = 4.0, .normalised = 0.5,
      .start_unix_s = 1.5, .end_unix_s = 2.5, .status = static_cast<std::int32_t>(dataset::row_status::done),
      .run = 3, .rank = 7, .device = -1, .n = 5, .remeasures = 1,
      .error_code = static_cast<std::int32_t>(dataset::error_code::none), .error_message = "", .eager_ms = 2.0,
      .graph_ms = nan};
  expect_same_columns(done_row(origin, made_up_measurement(), nan, backend::launch_mode::eager), expected);
}

TEST(ProfileRows, GraphTimedRowPutsTheOtherModeInTheEagerColumn) {
  const auto r = done_row(origin, made_up_measurement(), 3.5, backend::launch_mode::graph);
  EXPECT_DOUBLE_EQ(r.graph_ms, 2.0);
  EXPECT_DOUBLE_EQ(r.eager_ms, 3.5);
}

TEST(ProfileRows, FailedRowNamesTheFailureAndNoStatistics) {
  const auto r = failed_row(origin, made_up_measurement(), {dataset::error_code::compile_failed, "no kernel"});
  EXPECT_EQ(dataset::status_of(r), dataset::row_status::failed);
  EXPECT_EQ(r.error_code, static_cast<std::int32_t>(dataset::error_code::compile_failed));
  EXPECT_EQ(dataset::get_text(r.error_message), "no kernel");
  EXPECT_TRUE(std::isnan(r.trimmed_mean_ms));
  EXPECT_EQ(r.run, 3);
  EXPECT_DOUBLE_EQ(r.end_unix_s, 2.5);
}

TEST(ProfileRows, FailedRowTruncatesALongMessageToTheField) {
  const auto r = failed_row(origin, made_up_measurement(), {dataset::error_code::run_failed, std::string(500, 'x')});
  EXPECT_EQ(dataset::get_text(r.error_message).size(), sizeof r.error_message - 1);
}

TEST(ProfileRows, KeptSamplesStopAtTheDatasetWidth) {
  const auto m = made_up_measurement();
  EXPECT_EQ(kept_samples(m, 3), (std::vector<float>{2.0F, 1.9F, 2.6F}));
  EXPECT_EQ(kept_samples(m, 100).size(), 5U);
  EXPECT_TRUE(kept_samples(m, 0).empty());
}

TEST(ProfileRows, ClassifyTellsOutOfMemoryFromOtherFailures) {
  EXPECT_EQ(classify(std::bad_alloc(), dataset::error_code::run_failed).code, dataset::error_code::out_of_memory);
  EXPECT_EQ(classify(std::runtime_error("CUDA: Out Of Memory\nstack"), dataset::error_code::run_failed).code,
            dataset::error_code::out_of_memory);
  const auto f = classify(std::runtime_error("bad shape\nsecond line"), dataset::error_code::compile_failed);
  EXPECT_EQ(f.code, dataset::error_code::compile_failed);
  EXPECT_EQ(f.message, "bad shape");
}

TEST(ProfileRows, AlgoRowsOnePerLayer) {
  const std::vector<backend::layer_algo> algos{{.layer = 0, .name = "implicit_gemm", .id = 5, .workspace_bytes = 1024},
                                               {.layer = 4, .name = "winograd", .id = 1, .workspace_bytes = 0}};
  const auto rows = algo_rows(algos, 42, 1, 2);
  ASSERT_EQ(rows.size(), 2U);
  expect_same_columns(rows[0], dataset::algo_row{.workspace_bytes = 1024, .arch_row = 42, .run = 1, .rank = 2, .layer = 0,
                                                 .algo_id = 5, .name = "implicit_gemm"});
  expect_same_columns(rows[1], dataset::algo_row{.workspace_bytes = 0, .arch_row = 42, .run = 1, .rank = 2, .layer = 4,
                                                 .algo_id = 1, .name = "winograd"});
}

TEST(ProfileRows, DriftRowRecordsTheCheck) {
  const measure::drift_check c{.time_unix_ns = 3'000'000'000, .reference_ms = 4.4, .baseline_ms = 4.0, .threshold = 0.05,
                                .decision = {measure::drift_verdict::remeasured, 0.1, {0, 1, 2}}};
  const dataset::drift_row expected{.time_unix_s = 3.0, .reference_ms = 4.4, .baseline_ms = 4.0, .relative_change = 0.1,
                                    .arch_row = 17, .run = 2, .rank = 1,
                                    .verdict = static_cast<std::int32_t>(measure::drift_verdict::remeasured),
                                    .window = 3, .threshold = 0.05};
  expect_same_columns(drift_row_of(c, 17, 2, 1), expected);
}

TEST(ProfileRows, RankRowCopiesTheBinding) {
  const cluster::binding b{.rank = 3, .local_rank = 1, .local_size = 2, .host = "node7", .device = 0,
                           .device_name = "NVIDIA H100", .uuid = "GPU-1234", .pci_bus_id = "0000:41:00.0",
                           .threads = 4, .cpus = "0-3"};
  const dataset::rank_row expected{.run = 5, .rank = 3, .local_rank = 1, .local_size = 2, .device = 0, .threads = 4,
                                   .host = "node7", .device_name = "NVIDIA H100", .device_uuid = "GPU-1234",
                                   .pci_bus_id = "0000:41:00.0", .cpus = "0-3"};
  expect_same_columns(rank_row_of(b, 5), expected);
}

}  // namespace
}  // namespace esm::profile
