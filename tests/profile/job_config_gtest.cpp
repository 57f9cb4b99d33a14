// Job configuration: INI + command line, one-line usage errors, the resolved text and its hash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "esm/common/error.hpp"
#include "esm/common/sha256.hpp"
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

// ---- sample.policy = file: the plan is a file's archs ------------------------------------------

/// `archs` as esm texts in a temporary file; returns its path.
std::string write_archs(const std::vector<space::arch>& archs) {
  const auto& sp = space::find_space("ofa-mbv3");
  std::string text;
  for (const auto& a : archs) text += sp.format(a) + "\n";
  return write_temp(text);
}

std::vector<space::arch> some_archs(std::size_t count, std::uint64_t seed) {
  space::sample_request r;
  r.constraints = space::sample_constraints{128, "w1.0"};
  r.policy = space::sample_policy::uniform;
  r.count = count;
  r.seed = seed;
  return space::sample_archs(space::find_space("ofa-mbv3"), r);
}

TEST(JobConfig, FilePolicyPlansTheFilesArchsInFileOrder) {
  const auto archs = some_archs(7, 11);
  const auto path = write_archs(archs);
  const auto job = resolve(minimal, {"--sample.policy=file", "--sample.file=" + path, "--sample.count=7"});
  EXPECT_TRUE(job.plan_from_file);
  EXPECT_EQ(job.count, 7u);
  EXPECT_EQ(job.plan_archs(), archs);
  EXPECT_NE(job.text.find("file_sha256 = " + sha256_file(path) + "\n"), std::string::npos) << job.text;
  std::string without_count = minimal;
  without_count.erase(without_count.find("count = 6\n"), 10);
  EXPECT_EQ(resolve(without_count, {"--sample.policy=file", "--sample.file=" + path}).count, 7u) << "count may be left out";
  std::filesystem::remove(path);
}

TEST(JobConfig, FilePolicyHashCoversTheFilesContent) {
  const auto path = write_archs(some_archs(5, 1));
  const std::vector<std::string> args{"--sample.policy=file", "--sample.file=" + path, "--sample.count=5"};
  const auto before = resolve(minimal, args);
  EXPECT_EQ(before.config_hash, resolve(minimal, args).config_hash) << "the same file, the same job";
  {
    std::ofstream out(path);
    for (const auto& a : some_archs(5, 2)) out << space::find_space("ofa-mbv3").format(a) << '\n';
  }
  EXPECT_NE(before.config_hash, resolve(minimal, args).config_hash) << "another content, another job";
  EXPECT_NE(usage_message(minimal, {"--sample.policy=file", "--sample.file=" + path, "--sample.file_sha256=" +
                                    before.plan_file_sha256}).find("sample.file_sha256"), std::string::npos)
      << "a pinned SHA-256 refuses a changed file";
  std::filesystem::remove(path);
}

TEST(JobConfig, FilePolicyBadInputNamesTheKeyAndLine) {
  const auto path = write_archs(some_archs(4, 3));
  const auto file = [&](std::vector<std::string> more) {
    more.insert(more.begin(), {"--sample.policy=file", "--sample.file=" + path});
    return usage_message(minimal, more);
  };
  EXPECT_NE(file({"--sample.count=5"}).find("sample.count: 5, but sample.file"), std::string::npos) << file({"--sample.count=5"});
  EXPECT_NE(file({"--space.resolution=132"}).find(path + ":1: resolution 128"), std::string::npos);
  EXPECT_NE(file({"--space.width=w1.2"}).find(path + ":1: width w1.0"), std::string::npos);
  const auto densenet = usage_message("[space]\nname = densenet\n[sample]\npolicy = file\nfile = " + path +
                                      "\n[backend]\nname = reference\n[output]\npath = out.h5\n");
  EXPECT_NE(densenet.find("sample.file: " + path + ":1: an architecture of 'ofa-mbv3'"), std::string::npos) << densenet;
  EXPECT_NE(usage_message(minimal, {"--sample.policy=file"}).find("sample.file: required"), std::string::npos);
  EXPECT_NE(usage_message(minimal, {"--sample.file=" + path}).find("sample.file: only with sample.policy = file"),
            std::string::npos);
  EXPECT_NE(usage_message(minimal, {"--sample.policy=file", "--sample.file=/nonexistent/archs.txt"}).find("sample.file: cannot read"),
            std::string::npos);
  std::filesystem::remove(path);
}

TEST(JobConfig, FilePolicyOfOfaConfigsNeedsTheWidth) {
  const auto path = write_temp(
      R"({"ks": [7, 5, 5, 5, 7, 7, 5, 7, 5, 7, 3, 7, 5, 3, 7, 3, 5, 3, 5, 3], "e": [6, 4, 4, 6, 6, 3, 4, 3, 3, 6, 3, 3, 3, 6, 3, 4, 6, 4, 3, 6], "d": [2, 2, 2, 2, 3], "r": 204})"
      "\n");
  const std::string no_width = "[space]\nname = ofa-mbv3\n[sample]\npolicy = file\nfile = " + path +
                               "\n[backend]\nname = reference\n[output]\npath = out.h5\n";
  EXPECT_NE(usage_message(no_width).find("set space.width"), std::string::npos) << usage_message(no_width);
  const auto job = resolve(no_width, {"--space.width=w1.2"});
  ASSERT_EQ(job.plan_archs().size(), 1u);
  EXPECT_EQ(space::find_space("ofa-mbv3").format(job.plan_archs()[0]).rfind("ofa-mbv3:w1.2:r204:", 0), 0u);
  std::filesystem::remove(path);
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

TEST(JobConfig, HelpOfaJobPlansTheSharedArchs) {
  const std::string archs = std::string(ESM_SHARED_DIR) + "/data/help-ofa/archs.jsonl";
  if (!std::filesystem::exists(archs)) GTEST_SKIP() << archs << " not found (set ESM_SHARED_DIR)";
  const auto options = job_options();
  po::variables_map vm;
  po::store(po::command_line_parser(std::vector<std::string>{"--sample.file=" + archs}).options(options).run(), vm);
  store_ini(std::string(ESM_SOURCE_DIR) + "/jobs/help-ofa-cpu.ini", options, vm);
  po::notify(vm);
  const auto job = resolve_job(vm);
  EXPECT_TRUE(job.plan_from_file);
  EXPECT_EQ(job.count, 5000u);
  EXPECT_EQ(job.plan_archs().size(), 5000u);
  EXPECT_EQ(job.plan_file_sha256, sha256_file(archs));
}

TEST(JobConfig, SyntaxErrorIsAUsageError) {
  EXPECT_NE(usage_message("[space\nname = x\n").find("job_"), std::string::npos);
}

}  // namespace
}  // namespace esm::profile
