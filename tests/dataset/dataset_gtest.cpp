// Schema v1 round trip on a one-rank file: written through the collective writer, read back by
// esm's reader and by h5dump (an independent reader that knows nothing of esm's structs).
#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/dataset/hdf5.hpp"

namespace esm::dataset {
namespace {

std::string run_command(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe.get())) out += buf.data();
  return out;
}

class DatasetFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("esm_dataset_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "d.h5").string();
    for (int i = 0; i < 3; ++i) {
      arch_entry e;
      e.text = "toy:arch-" + std::string(static_cast<std::size_t>(i + 1), 'x');
      e.id = 1000u + static_cast<std::uint64_t>(i);
      e.genes = {i, 2 * i, 3 * i, 7};
      e.depth = 10 + i;
      e.resolution = 128 + 4 * i;
      e.macs = 1000000LL * (i + 1);
      e.params = 5000 + i;
      plan_.push_back(e);
    }
    prov_.command_line = "esm profile --config toy.ini";
    prov_.config_text = "[space]\nname = toy\n";
    prov_.config_hash = "0123456789abcdef";
    prov_.space = "toy";
    prov_.variant = "w1.0";
    prov_.gene_names = {"g0", "g1", "g2", "global"};
    prov_.backend = "cpu";
    prov_.precision = "fp32";
    prov_.batch_size = 1;
    prov_.sample_seed = 3;
    prov_.weights_seed = 42;
    prov_.measure_policy = "reps=4";
    prov_.mpi_library_version = "test MPI";
    prov_.backend_version = "test backend";
    prov_.max_samples = 4;
    prov_.group_seed = 9;
    prov_.group_size = 3;
    prov_.start_time = "2026-11-27T10:00:00Z";
    run_.command_line = prov_.command_line;
    run_.host = "testhost";
    run_.pid = 123;
    run_.world_size = 1;
    run_.partition = "lpt";
    run_.start_time = prov_.start_time;
    run_.slurm_job_id = "555";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void create_file() {
    create(MPI_COMM_WORLD, partial_path(path_), prov_, run_, plan_);
    std::filesystem::rename(partial_path(path_), path_);
  }

  std::filesystem::path dir_;
  std::string path_;
  std::vector<arch_entry> plan_;
  provenance prov_;
  run_info run_;
};

result_row done_row(std::uint64_t id, double ms) {
  auto r = pending_row();
  r.arch_id = id;
  set_status(r, row_status::done);
  r.trimmed_mean_ms = ms;
  r.median_ms = ms + 0.5;
  r.mean_ms = ms + 0.25;
  r.std_ms = 0.125;
  r.min_ms = ms - 1;
  r.max_ms = ms + 1;
  r.p10_ms = ms - 0.5;
  r.p90_ms = ms + 0.75;
  r.reference_ms = 2 * ms;
  r.normalised = 0.5;
  r.start_unix_s = 1.5e9;
  r.end_unix_s = 1.5e9 + 1;
  r.run = 0;
  r.rank = 0;
  r.n = 3;
  r.remeasures = 1;
  return r;
}

/// One collective batch of done rows, `ms` each, one sample each.
void write_done(writer& w, const std::vector<arch_entry>& plan, const std::vector<std::uint64_t>& rows, float ms) {
  batch b;
  b.rows = rows;
  for (const auto row : rows) {
    b.results.push_back(done_row(plan[row].id, ms));
    b.samples.push_back({ms});
  }
  w.write_batch(b, {}, {});
}

TEST_F(DatasetFile, FreshFileIsPendingEverywhere) {
  create_file();
  const auto c = read(path_, true);
  EXPECT_EQ(c.schema_version, schema_version);
  EXPECT_EQ(c.units, "milliseconds");
  ASSERT_EQ(c.archs.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c.archs[i].text, plan_[i].text);
    EXPECT_EQ(c.archs[i].id, plan_[i].id);
    EXPECT_EQ(c.archs[i].genes, plan_[i].genes);
    EXPECT_EQ(c.archs[i].depth, plan_[i].depth);
    EXPECT_EQ(c.archs[i].resolution, plan_[i].resolution);
    EXPECT_EQ(c.archs[i].macs, plan_[i].macs);
    EXPECT_EQ(c.archs[i].params, plan_[i].params);
    EXPECT_EQ(status_of(c.results[i]), row_status::pending);
    EXPECT_EQ(c.results[i].arch_id, plan_[i].id);
    EXPECT_TRUE(std::isnan(c.results[i].trimmed_mean_ms));
  }
  ASSERT_EQ(c.samples.size(), 12u);
  for (const float s : c.samples) EXPECT_TRUE(std::isnan(s));
  EXPECT_EQ(c.prov.gene_names, prov_.gene_names);
  EXPECT_EQ(c.prov.config_hash, prov_.config_hash);
  EXPECT_EQ(c.prov.group_seed, 9u);
  EXPECT_EQ(c.prov.group_size, 3);
  EXPECT_EQ(c.slurm_job_id, "555");
  EXPECT_TRUE(c.runs.empty());
  EXPECT_TRUE(c.drift.empty());
}

TEST_F(DatasetFile, RoundTripThroughWriterReaderAndH5dump) {
  create_file();
  {
    writer w(MPI_COMM_WORLD, path_, run_, "host=testhost pid=123");
    EXPECT_EQ(w.run_index(), 0);
    EXPECT_EQ(w.rows(), 3u);
    EXPECT_EQ(w.max_samples(), 4);
    rank_row rr{};
    rr.run = 0;
    rr.local_size = 1;
    rr.device = -1;
    rr.threads = 2;
    set_text(rr.host, "testhost");
    set_text(rr.device_name, "cpu");
    set_text(rr.cpus, "0-1");
    w.append_ranks({rr}, {0, 1});

    batch b;  // rows out of order on purpose
    b.rows = {2, 0};
    auto failed = pending_row();
    failed.arch_id = plan_[2].id;
    set_status(failed, row_status::failed);
    failed.error_code = static_cast<std::int32_t>(error_code::compile_failed);
    failed.run = failed.rank = 0;
    set_text(failed.error_message, "no kernel for this shape");
    auto gpu_row = done_row(plan_[0].id, 10);
    gpu_row.graph_ms = 10;  // graph replay timed, eager launches beside it
    gpu_row.eager_ms = 14.5;
    b.results = {failed, gpu_row};
    b.samples = {{}, {9.5f, 10.0f, 10.5f}};
    drift_row d{};
    d.time_unix_s = 1.5e9;
    d.reference_ms = 20;
    d.baseline_ms = 19;
    d.relative_change = 1.0 / 19;
    d.arch_row = 0;
    d.verdict = static_cast<std::int32_t>(measure::drift_verdict::drift);
    d.window = 1;
    d.threshold = 0.045;
    b.drift = {d};
    algo_row a{};
    a.workspace_bytes = 1 << 20;
    a.arch_row = 0;
    a.layer = 5;
    a.algo_id = 1;
    set_text(a.name, "IMPLICIT_PRECOMP_GEMM");
    b.algos = {a, a};
    w.write_batch(b, {0, 1}, {0, 2});
    w.write_batch(batch{}, {}, {});  // nothing to write: still a valid collective
    EXPECT_EQ(w.stats().independent_transfers, 0u) << w.stats().last_independent_cause;
    EXPECT_EQ(w.stats().rows, 2u);
    w.close({"complete", "2026-11-27T10:05:00Z", 2, 0.25});
  }

  const auto c = read(path_, true);
  EXPECT_EQ(status_of(c.results[0]), row_status::done);
  EXPECT_DOUBLE_EQ(c.results[0].trimmed_mean_ms, 10);
  EXPECT_DOUBLE_EQ(c.results[0].p90_ms, 10.75);
  EXPECT_EQ(c.results[0].remeasures, 1);
  EXPECT_DOUBLE_EQ(c.results[0].graph_ms, 10);
  EXPECT_DOUBLE_EQ(c.results[0].eager_ms, 14.5);
  EXPECT_TRUE(std::isnan(c.results[1].graph_ms) && std::isnan(c.results[1].eager_ms));  // pending
  EXPECT_TRUE(std::isnan(c.results[2].graph_ms));                                          // failed
  EXPECT_EQ(status_of(c.results[1]), row_status::pending);
  EXPECT_EQ(status_of(c.results[2]), row_status::failed);
  EXPECT_EQ(get_text(c.results[2].error_message), "no kernel for this shape");
  EXPECT_FLOAT_EQ(c.samples[0], 9.5f);
  EXPECT_FLOAT_EQ(c.samples[2], 10.5f);
  EXPECT_TRUE(std::isnan(c.samples[3]));
  EXPECT_TRUE(std::isnan(c.samples[8]));
  ASSERT_EQ(c.drift.size(), 1u);
  EXPECT_EQ(c.drift[0].verdict, static_cast<std::int32_t>(measure::drift_verdict::drift));
  EXPECT_DOUBLE_EQ(c.drift[0].reference_ms, 20);
  EXPECT_EQ(c.drift[0].window, 1);
  EXPECT_DOUBLE_EQ(c.drift[0].threshold, 0.045);
  ASSERT_EQ(c.algos.size(), 2u);
  EXPECT_EQ(get_text(c.algos[1].name), "IMPLICIT_PRECOMP_GEMM");
  ASSERT_EQ(c.ranks.size(), 1u);
  EXPECT_EQ(get_text(c.ranks[0].cpus), "0-1");
  ASSERT_EQ(c.runs.size(), 1u);
  EXPECT_EQ(c.runs[0].end.outcome, "complete");
  EXPECT_EQ(c.runs[0].end.rows_done, 2u);
  EXPECT_EQ(c.runs[0].info.slurm_job_id, "555");
  EXPECT_EQ(c.end_time, "2026-11-27T10:05:00Z");
  EXPECT_TRUE(c.active_run.empty());

#ifdef ESM_H5DUMP
  const std::string h5dump = ESM_H5DUMP;
  const auto text = run_command(h5dump + " -d /archs/text " + path_);
  for (const auto& e : plan_) EXPECT_NE(text.find('"' + e.text + '"'), std::string::npos) << text;
  const auto results = run_command(h5dump + " -d /results " + path_);
  EXPECT_NE(results.find("compile_failed"), std::string::npos) << results;
  EXPECT_NE(results.find("\"no kernel for this shape\""), std::string::npos);
  EXPECT_NE(results.find("pending"), std::string::npos);
  EXPECT_NE(results.find("eager_ms"), std::string::npos) << results;
  EXPECT_NE(results.find("14.5"), std::string::npos) << results;
  EXPECT_NE(results.find("done"), std::string::npos);
  const auto samples = run_command(h5dump + " -d /samples -s 0,0 -c 1,4 " + path_);
  EXPECT_NE(samples.find("9.5, 10, 10.5, nan"), std::string::npos) << samples;
  const auto runs = run_command(h5dump + " -a /runs/0/outcome " + path_);
  EXPECT_NE(runs.find("\"complete\""), std::string::npos) << runs;
  const auto root = run_command(h5dump + " -a /schema_version " + path_);
  EXPECT_NE(root.find("(0): " + std::to_string(schema_version)), std::string::npos) << root;
#endif
}

TEST_F(DatasetFile, ReopeningStartsANewRunAndLeavesWrittenRowsAlone) {
  create_file();
  {
    writer w(MPI_COMM_WORLD, path_, run_, "m");
    write_done(w, plan_, {1}, 7.0f);
    // No close(): as after a crash, the run stays "running" and the marker stays set.
  }
  auto before = read(path_, true);
  EXPECT_EQ(before.active_run, "m");
  ASSERT_EQ(before.runs.size(), 1u);
  EXPECT_EQ(before.runs[0].end.outcome, "running");
  {
    writer w(MPI_COMM_WORLD, path_, run_, "m2");
    EXPECT_EQ(w.run_index(), 1);
    write_done(w, plan_, {0, 2}, 5.0f);
    w.close({"complete", "later", 2, 0.0});
  }
  const auto after = read(path_, true);
  EXPECT_EQ(std::memcmp(&before.results[1], &after.results[1], sizeof(result_row)), 0);
  EXPECT_FLOAT_EQ(after.samples[4], 7.0f);
  EXPECT_EQ(after.runs.size(), 2u);
  EXPECT_TRUE(after.active_run.empty());
}

TEST_F(DatasetFile, ImportedDatasetHoldsTheLatencyAndNothingInvented) {
  prov_.backend = "imported";
  prov_.max_samples = 0;
  prov_.imported_from = "HELP";
  prov_.device = "Tesla V100";
  prov_.input_sha256 = "a.jsonl=00, b.csv=11";
  write_imported(MPI_COMM_WORLD, path_, prov_, run_, plan_, {1.5, 2.5, 3.5});
  const auto c = read(path_, true);
  EXPECT_TRUE(c.samples.empty());
  EXPECT_EQ(c.prov.max_samples, 0);
  EXPECT_EQ(c.prov.imported_from, "HELP");
  EXPECT_EQ(c.prov.device, "Tesla V100");
  EXPECT_EQ(c.prov.input_sha256, prov_.input_sha256);
  ASSERT_EQ(c.results.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& r = c.results[i];
    EXPECT_EQ(status_of(r), row_status::done);
    EXPECT_EQ(r.arch_id, plan_[i].id);
    EXPECT_EQ(r.trimmed_mean_ms, 1.5 + static_cast<double>(i));
    EXPECT_EQ(r.n, 0);
    for (double v : {r.median_ms, r.mean_ms, r.std_ms, r.reference_ms, r.normalised, r.start_unix_s, r.eager_ms, r.graph_ms}) {
      EXPECT_TRUE(std::isnan(v));
    }
  }
  ASSERT_EQ(c.runs.size(), 1u);
  EXPECT_EQ(c.runs[0].end.outcome, "complete");
}

TEST_F(DatasetFile, TooManySamplesIsRefused) {
  create_file();
  writer w(MPI_COMM_WORLD, path_, run_, "m");
  batch b;
  b.rows = {0};
  b.results = {done_row(plan_[0].id, 1)};
  b.samples = {std::vector<float>(5, 1.0f)};
  EXPECT_THROW(w.write_batch(b, {}, {}), error);
}

TEST_F(DatasetFile, ReaderRefusesWhatIsNotADataset) {
  EXPECT_THROW((void)read((dir_ / "missing.h5").string()), usage_error);
  {
    std::FILE* f = std::fopen((dir_ / "text.h5").c_str(), "w");
    std::fputs("not hdf5", f);
    std::fclose(f);
  }
  EXPECT_THROW((void)read((dir_ / "text.h5").string()), usage_error);
}

TEST(DatasetSchema, VersionOneFilesReadWithoutTheDriftThreshold) {
  // A real dataset of schema version 1 (esm profile, 6 rows), kept as a fuzzing seed.
  const auto c = read(ESM_SOURCE_DIR "/tests/fuzz/corpus/dataset/quickstart-6rows.h5", true);
  EXPECT_EQ(c.schema_version, 1);
  ASSERT_EQ(c.drift.size(), 2u);
  EXPECT_NEAR(c.drift[0].reference_ms, 6.3007047, 1e-6);
  EXPECT_EQ(c.drift[1].arch_row, 1);
  EXPECT_EQ(c.drift[1].verdict, static_cast<std::int32_t>(measure::drift_verdict::ok));
  EXPECT_EQ(c.drift[1].window, 3);
  for (const auto& d : c.drift) EXPECT_TRUE(std::isnan(d.threshold));
  // Older files drew no measuring groups (consecutive archs in cost order): seed and size 0.
  EXPECT_EQ(c.prov.group_seed, 0u);
  EXPECT_EQ(c.prov.group_size, 0);
  // Before version 3 rows have no launch-mode latencies: NaN, not zeros or garbage.
  ASSERT_EQ(c.results.size(), 6u);
  for (const auto& r : c.results) EXPECT_TRUE(std::isnan(r.eager_ms) && std::isnan(r.graph_ms));
  EXPECT_TRUE(std::isfinite(c.results[0].trimmed_mean_ms));
}

// select_rows builds large scattered selections by halves (H5Scombine_select): exactly the listed
// rows, whole rows of a 2-D dataset, whatever the number of runs (below and above the 64-run
// threshold where it stops OR-ing one by one).
TEST(Hdf5Selection, ScatteredRowsSelectExactlyThoseRows) {
  h5::library_init();
  const hsize_t dims[2] = {5000, 3};
  for (const hsize_t step : {hsize_t{97}, hsize_t{3}}) {  // 52 runs, then 1667 runs
    h5::dataspace whole(ESM_H5(H5Screate_simple(2, dims, nullptr)));
    h5::file f(ESM_H5(H5Fcreate((std::filesystem::temp_directory_path() / ("esm_sel_" + std::to_string(::getpid()) + ".h5")).c_str(),
                                H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)));
    h5::dataset d(ESM_H5(H5Dcreate2(f.get(), "t", H5T_NATIVE_INT, whole.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
    std::vector<hsize_t> rows;
    for (hsize_t r = 1; r < dims[0]; r += step) {
      rows.push_back(r);
      if (r + 1 < dims[0] && r % 2 == 1) rows.push_back(++r);  // some runs of two
    }
    const auto file_space = h5::select_rows(d.get(), rows);
    ASSERT_EQ(H5Sget_select_npoints(file_space.get()), static_cast<hssize_t>(rows.size() * dims[1]));
    std::vector<int> values(rows.size() * dims[1]);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int>(rows[i / dims[1]]) + 1;
    const auto mem_space = h5::memory_rows(rows.size(), dims[1]);
    ESM_H5(H5Dwrite(d.get(), H5T_NATIVE_INT, mem_space.get(), file_space.get(), H5P_DEFAULT, values.data()));
    std::vector<int> back(dims[0] * dims[1], -1);
    ESM_H5(H5Dread(d.get(), H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back.data()));
    std::vector<bool> selected(dims[0], false);
    for (const auto r : rows) selected[r] = true;
    for (hsize_t r = 0; r < dims[0]; ++r) {
      for (hsize_t c = 0; c < dims[1]; ++c) {
        ASSERT_EQ(back[r * dims[1] + c], selected[r] ? static_cast<int>(r) + 1 : 0) << "row " << r << " step " << step;
      }
    }
    d.close();
    f.close();
    std::filesystem::remove(std::filesystem::temp_directory_path() / ("esm_sel_" + std::to_string(::getpid()) + ".h5"));
  }
}

TEST(Hdf5Errors, CarryTheCallAndTheWalkedStack) {
  h5::library_init();
  h5::file f(ESM_H5(H5Fcreate((std::filesystem::temp_directory_path() / ("esm_h5err_" + std::to_string(::getpid()) + ".h5")).c_str(),
                              H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)));
  try {
    h5::dataset d(ESM_H5(H5Dopen2(f.get(), "nothing_here", H5P_DEFAULT)));
    ADD_FAILURE() << "no exception";
  } catch (const hdf5_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("H5Dopen2 failed at dataset_gtest.cpp:"), std::string::npos) << what;
    EXPECT_NE(what.find("H5Dopen2(): unable to open dataset"), std::string::npos) << what;
    EXPECT_NE(what.find(" <- "), std::string::npos) << what;  // more than one level of the stack
  }
  f.close();
  std::filesystem::remove(std::filesystem::temp_directory_path() / ("esm_h5err_" + std::to_string(::getpid()) + ".h5"));
}

}  // namespace
}  // namespace esm::dataset
