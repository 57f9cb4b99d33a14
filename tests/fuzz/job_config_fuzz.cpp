// libFuzzer target: the job-config (INI) parser and resolver behind `esm profile` and `esm loop`.
// Bad input may only surface as esm::usage_error (exit 2 in the CLI); anything else — a Boost
// exception escaping, a crash — is a bug.
#include <boost/program_options.hpp>

#include <cstddef>
#include <cstdint>

#include "esm/common/error.hpp"
#include "esm/profile/job_config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto options = esm::profile::job_options();
  const std::string& path = esm::fuzz::as_file(data, size, ".ini");
  try {
    boost::program_options::variables_map vm;
    esm::profile::store_ini(path, options, vm);
    const esm::profile::job_config job = esm::profile::resolve_job(vm);
    (void)job.sample_request();
    (void)job.max_samples();
  } catch (const esm::usage_error&) {
  }
  return 0;
}
