// Job configuration: one key table, INI + command-line parsing, typed validation, resolved text.
#include "esm/dist/job_config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string_view>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"

namespace po = boost::program_options;

namespace esm::dist {

namespace {

std::string number(double v) {
  char text[40];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, v);
    if (std::strtod(text, nullptr) == v) break;
  }
  return text;
}

struct key {
  const char* name;
  std::string default_value;
  const char* help;
};

std::vector<key> keys() {
  const measure::measure_policy p{};
  const backend::compile_options c{};
  return {
      {"space.name", "", "search space (esm spaces)"},
      {"space.width", "", "variant, e.g. w1.0 for ofa-mbv3 (empty: sampled)"},
      {"space.resolution", "", "input resolution, 128..224 step 4 (empty: sampled)"},
      {"sample.policy", "balanced", "uniform | balanced"},
      {"sample.count", "", "architectures in the plan"},
      {"sample.seed", "0", "sampling seed (the plan equals `esm sample` with the same settings)"},
      {"measure.mode", std::string(measure::to_string(p.mode)), "plain | normalised | interleaved | crossed"},
      {"measure.stop", std::string(measure::to_string(p.stop)), "fixed | adaptive"},
      {"measure.reps", std::to_string(p.reps), "timed repetitions (fixed stop, interleaved, crossed)"},
      {"measure.warmup_runs", std::to_string(p.warmup_runs), "untimed runs at least"},
      {"measure.warmup_ms", number(p.warmup_ms), "untimed time at least, ms"},
      {"measure.trim_fraction", number(p.trim_fraction), "dropped from each end by the trimmed mean"},
      {"measure.max_noise", number(p.max_noise), "adaptive stop: relative noise to reach"},
      {"measure.min_reps", std::to_string(p.min_reps), "adaptive stop: repetitions at least"},
      {"measure.max_reps", std::to_string(p.max_reps), "adaptive stop: repetitions at most"},
      {"measure.timeout_ms", number(p.timeout_ms), "adaptive stop: measured time at most, ms"},
      {"measure.drift_every", std::to_string(p.drift_every), "archs between drift checks (0: off)"},
      {"measure.drift_threshold", number(p.drift_threshold), "relative reference change counted as drift"},
      {"measure.drift_max_retries", std::to_string(p.drift_max_retries), "re-measurements of a drifting window"},
      {"measure.drift_reps", std::to_string(p.drift_reps), "reference repetitions per drift check"},
      {"measure.drift_calibration", std::to_string(p.drift_calibration), "reference readings the drift baseline is the median of"},
      {"measure.drift_noise_factor", number(p.drift_noise_factor),
       "threshold in effect: max(drift_threshold, factor x the reference's noise); 0: drift_threshold alone"},
      {"measure.bracket_reps", std::to_string(p.bracket_reps), "reference repetitions per bracket / burst"},
      {"measure.switch_warmup_runs", std::to_string(p.switch_warmup_runs), "untimed runs after switching workloads"},
      {"measure.burst_reps", std::to_string(p.burst_reps), "interleaved, crossed: an arch's repetitions per burst"},
      {"measure.interleave_group", std::to_string(p.interleave_group), "interleaved, crossed: archs measured together"},
      {"measure.reference", "auto", "reference network (canonical text; auto: a fixed arch of the space)"},
      {"backend.name", "cpu", "cpu | cudnn | reference | synthetic (computed latencies, for scale tests)"},
      {"backend.precision", std::string(backend::to_string(c.prec)), "fp32 | fp16"},
      {"backend.batch", "1", "batch size"},
      {"backend.seed", std::to_string(c.seed), "seed of weights and input"},
      {"backend.threads", "0", "CPU threads per rank (0: the rank's share of the node's cores)"},
      {"backend.algos", std::string(backend::to_string(c.algos)), "GPU algorithm choice: find | heuristic"},
      {"backend.workspace_mb", std::to_string(c.workspace_limit_bytes >> 20), "GPU workspace limit per layer, MiB"},
      {"backend.cuda_graph", c.cuda_graph ? "true" : "false",
       "time CUDA graph replays (true) or per-layer launches (false); rows record both (schema 3)"},
      {"backend.layout", std::string(backend::to_string(c.layout)), "GPU activation layout: nchw | nhwc (fp16 only)"},
      {"backend.share_devices", "false", "allow several ranks per GPU (timings disturb each other)"},
      {"output.path", "", "dataset file (.h5); --output overrides"},
      {"run.partition", "lpt", "lpt (static, by MACs) | dynamic (shared counter)"},
      {"run.chunk", "0", "archs per measurement call (0: measure.drift_every, or 8 without the guard; crossed: interleave_group^2)"},
      {"run.flush_interval_s", "10", "seconds between collective writes (at chunk ends)"},
      {"run.progress_interval_s", "5", "seconds between progress lines"},
      {"run.synthetic_sleep_ms", "0", "synthetic backend: ms each timed pass sleeps (the device time it stands for)"},
  };
}

bool hashed_section(const std::string& section) {
  return section == "space" || section == "sample" || section == "measure" || section == "backend";
}

/// Reads keys from the variables map, records each value's canonical form for the resolved text.
class reader {
 public:
  explicit reader(const po::variables_map& vm) : vm_(vm) {}

  std::string text(const char* k) { return record(k, raw(k)); }

  std::optional<std::string> optional_text(const char* k) {
    auto v = raw(k);
    record(k, v);
    if (v.empty()) return std::nullopt;
    return v;
  }

  long long integer(const char* k, long long minimum) {
    const auto value = convert(k, "an integer", [](const std::string& v, std::size_t* used) { return std::stoll(v, used); });
    if (value < minimum) throw usage_error(std::string(k) + ": must be >= " + std::to_string(minimum) + ", got " + raw(k));
    record(k, std::to_string(value));
    return value;
  }

  double real(const char* k) {
    const auto value = convert(k, "a number", [](const std::string& v, std::size_t* used) { return std::stod(v, used); });
    if (!std::isfinite(value)) throw usage_error(std::string(k) + ": expected a finite number, got '" + raw(k) + "'");
    record(k, number(value));
    return value;
  }

  bool boolean(const char* k) {
    const auto v = raw(k);
    bool value = false;
    if (v == "true" || v == "yes" || v == "on" || v == "1") {
      value = true;
    } else if (v != "false" && v != "no" && v != "off" && v != "0") {
      throw usage_error(std::string(k) + ": expected true or false, got '" + v + "'");
    }
    record(k, value ? "true" : "false");
    return value;
  }

  /// Parses with `parse` (which throws usage_error); prefixes the key to its message.
  template <class F>
  auto parsed(const char* k, F parse) {
    const auto v = raw(k);
    try {
      auto value = parse(v);
      record(k, v);
      return value;
    } catch (const usage_error& e) {
      throw usage_error(std::string(k) + ": " + e.what());
    }
  }

  void set(const char* k, const std::string& v) { values_[k] = v; }
  /// True when the config file or the command line set `k` (not its default).
  [[nodiscard]] bool given(const char* k) const {
    const auto it = vm_.find(k);
    return it != vm_.end() && !it->second.defaulted();
  }
  [[nodiscard]] const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::string raw(const char* k) const {
    const auto it = vm_.find(k);
    auto v = it == vm_.end() ? std::string() : it->second.as<std::string>();
    v.erase(0, v.find_first_not_of(" \t"));
    v.erase(v.find_last_not_of(" \t") + 1);
    return v;
  }
  /// The whole value converted by `stox` (std::stoll, std::stod), or a usage error naming the key.
  template <class F>
  auto convert(const char* k, const char* expected, F stox) const -> decltype(stox(std::string(), nullptr)) {
    const auto v = raw(k);
    try {
      std::size_t used = 0;
      const auto value = stox(v, &used);
      if (used == v.size()) return value;
    } catch (const std::logic_error&) {
    }
    throw usage_error(std::string(k) + ": expected " + expected + ", got '" + v + "'");
  }
  std::string record(const char* k, const std::string& v) {
    values_[k] = v;
    return v;
  }

  const po::variables_map& vm_;
  std::map<std::string, std::string> values_;
};

}  // namespace

space::sample_request job_config::sample_request() const {
  space::sample_request r;
  r.constraints.variant = width;
  r.constraints.resolution = resolution;
  r.policy = policy;
  r.count = count;
  r.seed = seed;
  return r;
}

std::int64_t job_config::max_samples() const {
  if (!measure::grouped(measure.mode) && measure.stop == measure::stop_rule::adaptive) {
    return measure.max_reps;
  }
  return measure.reps;
}

po::options_description job_options() {
  po::options_description options("job configuration (INI keys; on the command line as --section.key=value)");
  for (const auto& k : keys()) {
    options.add_options()(k.name, po::value<std::string>()->default_value(k.default_value), k.help);
  }
  return options;
}

namespace {

/// esm checks the INI's shape itself before Boost sees it: Boost's error messages substitute
/// placeholders such as %canonical_option% into themselves, and a line that contains such a
/// placeholder (found by tests/fuzz/job_config_fuzz) made what() loop forever. Here a malformed
/// line is named by its number, and only well-formed names reach Boost.
void check_ini_shape(const std::string& path, const std::string& text) {
  const auto valid_name = [](std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
  };
  const auto trim = [](std::string_view v) {
    const auto first = v.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return std::string_view();
    return v.substr(first, v.find_last_not_of(" \t\r") - first + 1);
  };
  std::size_t number = 0, start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = trim(std::string_view(text).substr(start, end - start));
    start = end + 1;
    ++number;
    const std::string where = "'" + path + "' line " + std::to_string(number) + ": ";
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']' || !valid_name(trim(line.substr(1, line.size() - 2)))) {
        throw usage_error(where + "malformed section header (expected [name])");
      }
      continue;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) throw usage_error(where + "expected 'key = value', '[section]' or a comment");
    if (!valid_name(trim(line.substr(0, eq)))) {
      throw usage_error(where + "malformed key (letters, digits, '_', '.', '-' only)");
    }
  }
}

}  // namespace

void store_ini(const std::string& path, const po::options_description& options, po::variables_map& vm) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw usage_error("cannot read the job configuration '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  check_ini_shape(path, text);
  std::istringstream ini(text);
  try {
    po::store(po::parse_config_file(ini, options, false), vm);
  } catch (const po::error& e) {
    throw usage_error(path + ": " + e.what());
  }
}

job_config resolve_job(const po::variables_map& vm) {
  reader r(vm);
  job_config j;

  j.space = r.text("space.name");
  if (j.space.empty()) throw usage_error("space.name: required (esm spaces lists them)");
  const auto& sp = space::find_space(j.space);
  j.width = r.optional_text("space.width");
  if (const auto res = r.optional_text("space.resolution")) j.resolution = static_cast<int>(r.integer("space.resolution", 1));
  space::sample_constraints constraints{j.resolution, j.width};
  (void)sp.count(constraints);  // validates the variant and resolution (usage_error)

  j.policy = r.parsed("sample.policy", [](const std::string& v) { return space::parse_policy(v); });
  if (j.policy == space::sample_policy::weighted) {
    throw usage_error("sample.policy: weighted sampling is not available in job configurations (uniform, balanced)");
  }
  if (r.optional_text("sample.count")) {
    j.count = static_cast<std::size_t>(r.integer("sample.count", 1));
  } else {
    throw usage_error("sample.count: required");
  }
  j.seed = static_cast<std::uint64_t>(r.integer("sample.seed", 0));

  auto& p = j.measure;
  p.mode = r.parsed("measure.mode", [](const std::string& v) { return measure::parse_measure_mode(v); });
  p.stop = r.parsed("measure.stop", [](const std::string& v) { return measure::parse_stop_rule(v); });
  p.reps = static_cast<int>(r.integer("measure.reps", 1));
  p.warmup_runs = static_cast<int>(r.integer("measure.warmup_runs", 0));
  p.warmup_ms = r.real("measure.warmup_ms");
  p.trim_fraction = r.real("measure.trim_fraction");
  p.max_noise = r.real("measure.max_noise");
  p.min_reps = static_cast<int>(r.integer("measure.min_reps", 1));
  p.max_reps = static_cast<int>(r.integer("measure.max_reps", 1));
  p.timeout_ms = r.real("measure.timeout_ms");
  p.drift_every = static_cast<int>(r.integer("measure.drift_every", 0));
  if (p.mode == measure::measure_mode::crossed && !r.given("measure.drift_every")) {
    // Crossed labels are solved against each window's own reference bursts; a guard re-measure
    // repeats a whole window, both passes (docs/measurement.md): off unless asked for.
    p.drift_every = 0;
    r.set("measure.drift_every", "0");
  }
  p.drift_threshold = r.real("measure.drift_threshold");
  p.drift_max_retries = static_cast<int>(r.integer("measure.drift_max_retries", 0));
  p.drift_reps = static_cast<int>(r.integer("measure.drift_reps", 1));
  p.drift_calibration = static_cast<int>(r.integer("measure.drift_calibration", 1));
  p.drift_noise_factor = r.real("measure.drift_noise_factor");
  p.bracket_reps = static_cast<int>(r.integer("measure.bracket_reps", 1));
  p.switch_warmup_runs = static_cast<int>(r.integer("measure.switch_warmup_runs", 0));
  p.burst_reps = static_cast<int>(r.integer("measure.burst_reps", 1));
  p.interleave_group = static_cast<int>(r.integer("measure.interleave_group", 1));
  p.validate();
  const std::string reference = r.text("measure.reference");
  if (reference == "auto") {
    // A fixed architecture of the space under the same constraints (seed 0, whatever the plan's
    // seed), so datasets of one space and setting share their reference.
    space::sample_request ref;
    ref.constraints = constraints;
    ref.policy = space::sample_policy::uniform;
    ref.count = 1;
    ref.seed = 0;
    j.reference = sp.format(space::sample_archs(sp, ref).front());
  } else {
    try {
      j.reference = sp.format(sp.parse(reference));
    } catch (const usage_error& e) {
      throw usage_error(std::string("measure.reference: ") + e.what());
    }
  }
  r.set("measure.reference", j.reference);

  j.backend = r.text("backend.name");
  {
    const auto names = backend::available_backends();
    if (std::find(names.begin(), names.end(), j.backend) == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      throw usage_error("backend.name: '" + j.backend + "' is not available in this build (" + known + ")");
    }
  }
  j.compile.prec = r.parsed("backend.precision", [](const std::string& v) { return backend::parse_precision(v); });
  j.batch = static_cast<int>(r.integer("backend.batch", 1));
  j.compile.seed = static_cast<std::uint64_t>(r.integer("backend.seed", 0));
  j.compile.threads = static_cast<int>(r.integer("backend.threads", 0));
  j.compile.algos = r.parsed("backend.algos", [](const std::string& v) { return backend::parse_algo_selection(v); });
  j.compile.workspace_limit_bytes = static_cast<std::size_t>(r.integer("backend.workspace_mb", 0)) << 20;
  j.compile.cuda_graph = r.boolean("backend.cuda_graph");
  j.compile.layout = r.parsed("backend.layout", [](const std::string& v) { return backend::parse_tensor_layout(v); });
  if (j.compile.layout == backend::tensor_layout::nhwc && j.compile.prec != backend::precision::fp16) {
    throw usage_error("backend.layout: nhwc is offered for precision fp16 only (tensor cores); use nchw for fp32");
  }
  j.share_devices = r.boolean("backend.share_devices");

  j.output = r.text("output.path");
  if (j.output.empty()) throw usage_error("output.path: required (or --output FILE)");

  j.partition = r.parsed("run.partition", [](const std::string& v) { return parse_partition_mode(v); });
  j.chunk = static_cast<int>(r.integer("run.chunk", 0));
  if (j.chunk == 0) {  // crossed: one full window of interleave_group^2 archs per call
    j.chunk = p.mode == measure::measure_mode::crossed ? p.interleave_group * p.interleave_group
                                                       : (p.drift_every > 0 ? p.drift_every : 8);
  }
  r.set("run.chunk", std::to_string(j.chunk));
  j.flush_interval_s = r.real("run.flush_interval_s");
  j.progress_interval_s = r.real("run.progress_interval_s");
  if (j.flush_interval_s < 0) throw usage_error("run.flush_interval_s: must be >= 0");
  if (j.progress_interval_s < 0) throw usage_error("run.progress_interval_s: must be >= 0");
  // In [run], not [backend]: the sleep changes how long a run takes, never the synthetic values,
  // so a resume may change it (and the config hash of every existing dataset stays as it was).
  j.compile.synthetic_sleep_ms = r.real("run.synthetic_sleep_ms");
  if (j.compile.synthetic_sleep_ms < 0) throw usage_error("run.synthetic_sleep_ms: must be >= 0");

  // The resolved text: sections in table order, every key with its canonical value.
  std::string hashed, section;
  for (const auto& k : keys()) {
    const std::string name = k.name;
    const std::string sec = name.substr(0, name.find('.'));
    const std::string line = name.substr(name.find('.') + 1) + " = " + r.values().at(name) + "\n";
    std::string piece;
    if (sec != section) {
      piece += std::string(j.text.empty() ? "" : "\n") + "[" + sec + "]\n";
      section = sec;
    }
    piece += line;
    j.text += piece;
    if (hashed_section(sec)) hashed += piece;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(hashed.data(), hashed.size())));
  j.config_hash = hex;
  return j;
}

}  // namespace esm::dist
