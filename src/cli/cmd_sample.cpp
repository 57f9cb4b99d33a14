// esm sample: deterministic architecture lists, one canonical text per line.
#include <iostream>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/space/sampler.hpp"

namespace po = boost::program_options;

namespace esm::cli {

namespace {

std::map<int, double> parse_weights(const std::string& text) {
  // "10:1,11:2.5,..." depth:weight pairs
  std::map<int, double> w;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    const auto colon = item.find(':');
    try {
      std::size_t used = 0;
      if (colon == std::string::npos) throw std::invalid_argument(item);
      const int depth = std::stoi(item.substr(0, colon), &used);
      if (used != colon) throw std::invalid_argument(item);
      const std::string wt = item.substr(colon + 1);
      const double weight = std::stod(wt, &used);
      if (used != wt.size()) throw std::invalid_argument(item);
      w[depth] = weight;
    } catch (const std::logic_error&) {
      throw usage_error("bad bin weight '" + item + "': expected DEPTH:WEIGHT");
    }
    start = end + 1;
  }
  return w;
}

// Why a limit: uniqueness keeps one 64-bit id per drawn arch in a hash set (about 40 bytes each),
// so 10M archs hold about 0.5 GB; beyond that a NAS benchmark wants another tool.
constexpr long long max_sample_count = 10'000'000;

}  // namespace

int sample(const args& a) {
  po::options_description opts("esm sample options");
  std::string space_name, policy, width, out, weights;
  long long count = 0, seed = 0;
  int resolution = 0;
  opts.add_options()
      ("space", po::value(&space_name)->required(), "search space (esm spaces)")
      ("policy", po::value(&policy)->default_value("balanced"), "uniform | balanced | weighted")
      ("count", po::value(&count)->required(), "number of unique architectures")
      ("seed", po::value(&seed)->default_value(0), "random seed (same seed, same list everywhere)")
      ("width", po::value(&width), "fix the variant, e.g. w1.2 for ofa-mbv3")
      ("resolution", po::value(&resolution), "fix the input resolution (128..224 step 4)")
      ("bin-weights", po::value(&weights), "weighted policy: DEPTH:WEIGHT,... (e.g. 10:1,11:3)")
      ("out", po::value(&out), "write to FILE instead of stdout");
  po::variables_map vm;
  if (!parse(a, opts, vm, "esm sample --space S --count N [--policy P] [--seed K] [--width W] [--resolution R]")) return 0;

  const auto& sp = space::find_space(space_name);
  space::sample_request req;
  req.policy = space::parse_policy(policy);
  if (count <= 0) throw usage_error("--count must be positive, got " + std::to_string(count));
  if (count > max_sample_count) {
    throw usage_error("--count " + std::to_string(count) + " is beyond esm sample's limit of " +
                      std::to_string(max_sample_count) + " (one 64-bit id per arch is kept to stay unique)");
  }
  if (seed < 0) throw usage_error("--seed must be non-negative, got " + std::to_string(seed));
  req.count = static_cast<std::size_t>(count);
  req.seed = static_cast<std::uint64_t>(seed);
  if (vm.count("width")) req.constraints.variant = width;
  if (vm.count("resolution")) req.constraints.resolution = resolution;
  if (vm.count("bin-weights")) {
    if (req.policy != space::sample_policy::weighted) throw usage_error("--bin-weights needs --policy weighted");
    req.bin_weights = parse_weights(weights);
  } else if (req.policy == space::sample_policy::weighted) {
    throw usage_error("--policy weighted needs --bin-weights");
  }
  // Streamed: each line leaves as it is drawn (stdout is flushed per line, so a consumer sees the
  // first arch at once); a file is staged and renamed into place only when the list is complete.
  if (out.empty()) {
    space::sample_each(sp, req, [&](const space::arch& arch) { std::cout << sp.format(arch) << '\n' << std::flush; });
  } else {
    staged_output(out, [&](std::ostream& os) {
      space::sample_each(sp, req, [&](const space::arch& arch) { os << sp.format(arch) << '\n'; });
    }).commit();
  }
  return 0;
}

}  // namespace esm::cli
