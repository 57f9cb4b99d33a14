// The job configuration of `esm profile`: an INI file read by Boost.Program_options, sections
// [space] [sample] [measure] [backend] [output] [run], every key also settable on the command line
// as --section.key=value (the command line wins). resolve_job() turns the raw strings into typed,
// validated settings and the fully resolved INI text that goes into the dataset.
//
// Resume identity: config_hash is FNV-1a-64 of the resolved text of the sections that decide what
// is measured and how ([space] [sample] [measure] [backend]); [output] (where) and [run] (how the
// work is shared and written) may change between a run and its --resume. With sample.policy = file
// the resolved [sample] holds the file's SHA-256 (file_sha256), so the hash covers its content.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "esm/backend/backend.hpp"
#include "esm/profile/partition.hpp"
#include "esm/measure/policy.hpp"
#include "esm/space/sampler.hpp"

namespace esm::profile {

struct job_config {
  // [space]
  std::string space;
  std::optional<std::string> width;
  std::optional<int> resolution;
  // [sample]
  space::sample_policy policy = space::sample_policy::balanced;  ///< the sampler's (unused when plan_from_file)
  bool plan_from_file = false;           ///< sample.policy = file: the plan is the archs of plan_file
  std::string plan_file;                 ///< sample.file (empty unless plan_from_file)
  std::string plan_file_sha256;          ///< lowercase hex SHA-256 of plan_file's bytes
  std::vector<space::arch> file_archs;   ///< plan_file's archs in file order (validated)
  std::size_t count = 0;                 ///< archs in the plan (policy file: the file's count)
  std::uint64_t seed = 0;
  // [measure]
  measure::measure_policy measure;
  std::string reference;  ///< canonical text of the drift guard's / normalisation's reference network
  std::uint64_t group_seed = 0;  ///< seed of the random draw of measuring groups (partition.hpp: draw_groups)
  // [backend]
  std::string backend;
  backend::compile_options compile;
  int batch = 1;
  bool share_devices = false;
  // [output]
  std::string output;
  // [run]
  partition_mode partition = partition_mode::lpt;
  int chunk = 0;                    ///< archs per measure_batch call and per drawn group (resolved: never 0)
  double flush_interval_s = 10;     ///< a collective write (and flush) at least this often
  double progress_interval_s = 5;   ///< rank 0's progress lines at most this often
  // (run.synthetic_sleep_ms goes to compile.synthetic_sleep_ms)
  std::vector<std::string> synthetic_gpus;  ///< synthetic backend: the GPU UUIDs each rank is shown (empty: none)

  std::string text;         ///< fully resolved INI (every key, defaults included)
  std::string config_hash;  ///< 16 hex digits over [space] [sample] [measure] [backend]

  /// The sample request of a sampled plan: exactly what `esm sample` builds from the same settings.
  /// (With plan_from_file the plan is file_archs; the request is then not the plan.)
  [[nodiscard]] space::sample_request sample_request() const;
  /// The plan's architectures in plan order: file_archs (policy file), else sample_archs of
  /// sample_request(). Rank 0 builds it; may take seconds for millions of sampled archs.
  [[nodiscard]] std::vector<space::arch> plan_archs() const;
  /// Width of the /samples table: the most repetitions one arch can have under the policy.
  [[nodiscard]] std::int64_t max_samples() const;
};

/// Every key as an option "section.key" (string values).
[[nodiscard]] boost::program_options::options_description job_options();

/// Adds the keys of INI file `path` to `vm` (values already in `vm` from the command line win).
/// Throws usage_error for a missing file, a syntax error or an unknown key.
void store_ini(const std::string& path, const boost::program_options::options_description& options,
               boost::program_options::variables_map& vm);

/// Typed, validated settings. Throws usage_error naming the key for any bad value.
[[nodiscard]] job_config resolve_job(const boost::program_options::variables_map& vm);

}  // namespace esm::profile
