// Job configuration: INI + command line, one-line usage errors, the resolved text and its hash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "esm/common/error.hpp"
#include "esm/profile/job_config.hpp"

namespace po = boost::program_options;

namespace esm::profile {
namespace {

const char* minimal = R"(
[space]
name = ofa-mbv3
width = w1.0
resolution = 128
[sample]
count = 6
seed = 3
[measure]
reps = 7
[backend]
name = reference
[output]
path = out.h5
)";

std::string write_temp(const std::string& text) {
  static int counter = 0;
  const auto path = std::filesystem::temp_directory_path() /
                    ("esm_job_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".ini");
  std::ofstream(path) << text;
  return path.string();
}

job_config resolve(const std::string& ini, const std::vector<std::string>& command_line = {}) {
  const auto path = write_temp(ini);
  const auto options = job_options();
  po::variables_map vm;
  po::store(po::command_line_parser(command_line).options(options).run(), vm);
  store_ini(path, options, vm);
  po::notify(vm);
  auto job = resolve_job(vm);
  std::filesystem::remove(path);
  return job;
}

std::string usage_message(const std::string& ini, const std::vector<std::string>& command_line = {}) {
  try {
    (void)resolve(ini, command_line);
  } catch (const usage_error& e) {
    return e.what();
  }
  return "(no usage_error)";
}

TEST(JobConfig, MinimalFileResolvesWithDefaults) {
  const auto job = resolve(minimal);
  EXPECT_EQ(job.space, "ofa-mbv3");
  EXPECT_EQ(job.width, "w1.0");
  EXPECT_EQ(job.resolution, 128);
  EXPECT_EQ(job.count, 6u);
  EXPECT_EQ(job.seed, 3u);
  EXPECT_EQ(job.measure.reps, 7);
  EXPECT_EQ(job.measure.warmup_runs, measure::measure_policy{}.warmup_runs);
  EXPECT_EQ(job.partition, partition_mode::lpt);
  EXPECT_EQ(job.chunk, measure::measure_policy{}.drift_every);  // 0 resolves to the guard's window
  EXPECT_EQ(job.max_samples(), 7);
  EXPECT_EQ(job.config_hash.size(), 16u);
  for (const char* section : {"[space]", "[sample]", "[measure]", "[backend]", "[output]", "[run]"}) {
    EXPECT_NE(job.text.find(section), std::string::npos) << section;
  }
  EXPECT_NE(job.text.find("reps = 7\n"), std::string::npos);
  EXPECT_NE(job.text.find("chunk = " + std::to_string(job.chunk) + "\n"), std::string::npos);
}

TEST(JobConfig, CrossedModeMeasuresWholeWindowsWithoutTheGuardByDefault) {
  const auto crossed = resolve(minimal, {"--measure.mode=crossed", "--measure.interleave_group=4"});
  EXPECT_EQ(crossed.measure.drift_every, 0) << "the guard is off unless asked for";
  EXPECT_EQ(crossed.chunk, 16) << "a chunk is one window of interleave_group^2 archs";
  EXPECT_NE(crossed.text.find("drift_every = 0\n"), std::string::npos);
  const auto guarded = resolve(minimal, {"--measure.mode=crossed", "--measure.drift_every=30"});
  EXPECT_EQ(guarded.measure.drift_every, 30) << "an explicit value is kept";
  EXPECT_EQ(guarded.chunk, 64);
  EXPECT_EQ(resolve(minimal, {"--measure.mode=crossed", "--run.chunk=20"}).chunk, 20);
  EXPECT_EQ(resolve(minimal, {"--measure.mode=interleaved"}).measure.drift_every, measure::measure_policy{}.drift_every);
}

TEST(JobConfig, ReferenceAutoIsAFixedArchOfTheSpace) {
  const auto a = resolve(minimal);
  const auto b = resolve(minimal, {"--sample.seed=99"});
  EXPECT_EQ(a.reference, b.reference);  // independent of the plan's seed
  EXPECT_NO_THROW((void)space::find_space("ofa-mbv3").parse(a.reference));
  EXPECT_NE(a.text.find("reference = " + a.reference), std::string::npos);
}

TEST(JobConfig, CommandLineWinsOverTheFile) {
  const auto job = resolve(minimal, {"--measure.reps=11", "--output.path=x.h5"});
  EXPECT_EQ(job.measure.reps, 11);
  EXPECT_EQ(job.output, "x.h5");
}

TEST(JobConfig, HashCoversWhatIsMeasuredOnly) {
  const auto base = resolve(minimal);
  EXPECT_EQ(base.config_hash, resolve(minimal, {"--output.path=elsewhere.h5"}).config_hash);
  EXPECT_EQ(base.config_hash, resolve(minimal, {"--run.partition=dynamic", "--run.chunk=2"}).config_hash);
  EXPECT_NE(base.config_hash, resolve(minimal, {"--measure.reps=8"}).config_hash);
  EXPECT_NE(base.config_hash, resolve(minimal, {"--backend.batch=2"}).config_hash);
  EXPECT_NE(base.config_hash, resolve(minimal, {"--sample.seed=4"}).config_hash);
  // Which archs share a measuring group shapes the labels: another draw is another configuration.
  EXPECT_NE(base.config_hash, resolve(minimal, {"--measure.group_seed=1"}).config_hash);
  EXPECT_NE(base.config_hash, resolve(minimal, {"--measure.drift_noise_window=0"}).config_hash);
  // Canonical values: the same number written differently is the same configuration.
  EXPECT_EQ(base.config_hash, resolve(minimal, {"--measure.trim_fraction=0.20"}).config_hash);
}

TEST(JobConfig, SampleRequestIsWhatEsmSampleBuilds) {
  const auto job = resolve(minimal);
  space::sample_request expected;
  expected.constraints.variant = "w1.0";
  expected.constraints.resolution = 128;
  expected.policy = space::sample_policy::balanced;
  expected.count = 6;
  expected.seed = 3;
  const auto& sp = space::find_space("ofa-mbv3");
  EXPECT_EQ(space::sample_archs(sp, job.sample_request()), space::sample_archs(sp, expected));
}

TEST(JobConfig, UnknownKeyNamesIt) {
  const auto message = usage_message(std::string(minimal) + "[measure]\nrepz = 3\n");
  EXPECT_NE(message.find("measure.repz"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(JobConfig, BadValuesNameTheKey) {
  for (const auto& [arg, key] : std::vector<std::pair<std::string, std::string>>{
           {"--sample.count=abc", "sample.count"},
           {"--sample.count=0", "sample.count"},
           {"--measure.trim_fraction=0.7", "trim_fraction"},
           {"--measure.mode=fast", "measure.mode"},
           {"--backend.name=tpu", "backend.name"},
           {"--backend.cuda_graph=maybe", "backend.cuda_graph"},
           {"--run.partition=random", "run.partition"},
           {"--space.width=w9.9", "w9.9"},
           {"--space.resolution=130", "130"},
           {"--sample.policy=weighted", "sample.policy"},
       }) {
    const auto message = usage_message(minimal, {arg});
    EXPECT_NE(message.find(key), std::string::npos) << arg << " -> " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(JobConfig, MissingRequiredKeys) {
  EXPECT_NE(usage_message("[sample]\ncount = 3\n[output]\npath = a.h5\n").find("space.name"), std::string::npos);
  EXPECT_NE(usage_message("[space]\nname = densenet\n[output]\npath = a.h5\n").find("sample.count"), std::string::npos);
  EXPECT_NE(usage_message("[space]\nname = densenet\n[sample]\ncount = 3\n[backend]\nname = reference\n").find("output.path"),
            std::string::npos);
}

TEST(JobConfig, MissingFileIsAUsageError) {
  const auto options = job_options();
  po::variables_map vm;
  EXPECT_THROW(store_ini("/nonexistent/job.ini", options, vm), usage_error);
}

TEST(JobConfig, ShippedJobsAreValid) {
  // The GPU jobs name cudnn, which a CPU build lacks: check everything else with the reference.
  for (const char* name : {"quickstart-cpu", "gpu-ofa-mbv3", "gpu-ofa-resnet50", "gpu-densenet"}) {
    const auto options = job_options();
    po::variables_map vm;
    po::store(po::command_line_parser(std::vector<std::string>{"--backend.name=reference"}).options(options).run(), vm);
    store_ini(std::string(ESM_SOURCE_DIR) + "/jobs/" + name + ".ini", options, vm);
    po::notify(vm);
    const auto job = resolve_job(vm);
    EXPECT_GT(job.count, 0u) << name;
    if (std::string(name).rfind("gpu-", 0) == 0) {
      EXPECT_EQ(job.measure.reps, 150) << name;
      EXPECT_EQ(job.partition, partition_mode::dynamic) << name;
    }
  }
}

TEST(JobConfig, SyntaxErrorIsAUsageError) {
  EXPECT_NE(usage_message("[space\nname = x\n").find("job_"), std::string::npos);
}

}  // namespace
}  // namespace esm::profile
