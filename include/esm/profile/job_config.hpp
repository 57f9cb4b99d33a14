// The job configuration of `esm profile`: an INI file read by Boost.Program_options, sections
// [space] [sample] [measure] [backend] [output] [run], every key also settable on the command line
// as --section.key=value (the command line wins). resolve_job() turns the raw strings into typed,
// validated settings and the fully resolved INI text that goes into the dataset.
//
// Resume identity: config_hash is FNV-1a-64 of the resolved text of the sections that decide what
// is measured and how ([space] [sample] [measure] [backend]); [output] (where) and [run] (how the
// work is shared and written) may change between a run and its --resume.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <optional>
#include <string>

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
  space::sample_policy policy = space::sample_policy::balanced;
  std::size_t count = 0;
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

  std::string text;         ///< fully resolved INI (every key, defaults included)
  std::string config_hash;  ///< 16 hex digits over [space] [sample] [measure] [backend]

  /// The sample request of the plan: exactly what `esm sample` builds from the same settings.
  [[nodiscard]] space::sample_request sample_request() const;
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
