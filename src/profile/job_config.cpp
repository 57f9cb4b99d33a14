// Job configuration: one key table, INI + command-line parsing, typed validation, resolved text.
#include "esm/profile/job_config.hpp"

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
#include "esm/common/sha256.hpp"
#include "esm/space/arch_file.hpp"

namespace po = boost::program_options;

namespace esm::profile {

namespace {

std::string number(double v) {
  char text[40];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, v);
    if (std::strtod(text, nullptr) == v) break;
  }
  return text;
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

/// The canonical text of measure.reference's value: "auto" is a fixed architecture of the space
/// under the same constraints (seed 0, whatever the plan's seed), so datasets of one space and
/// setting share their reference.
std::string resolve_reference(const job_config& j, const std::string& value) {
  const auto& sp = space::find_space(j.space);
  if (value == "auto") {
    space::sample_request ref;
    ref.constraints = space::sample_constraints{j.resolution, j.width};
    ref.policy = space::sample_policy::uniform;
    ref.count = 1;
    ref.seed = 0;
    return sp.format(space::sample_archs(sp, ref).front());
  }
  try {
    return sp.format(sp.parse(value));
  } catch (const usage_error& e) {
    throw usage_error(std::string("measure.reference: ") + e.what());
  }
}

/// sample.file under sample.policy = file: the file's archs (validated by the one arch-file reader,
/// each of space.width and space.resolution when given) and its SHA-256, hashed into [sample].
void read_plan_file(reader& r, job_config& j, const char* k) {
  const auto path = r.optional_text(k);
  if (!j.plan_from_file) {
    if (path) throw usage_error(std::string(k) + ": only with sample.policy = file (the plan is sampled otherwise)");
    return;
  }
  if (!path) throw usage_error(std::string(k) + ": required with sample.policy = file");
  j.plan_file = *path;
  const auto& sp = space::find_space(j.space);
  try {
    const auto variants = sp.variants();
    if (!j.width && !variants.empty()) {
      std::ifstream in(*path);
      if (in.peek() == '{') {  // the reader's rule: a first line starting with '{' is OFA configs
        std::string known;
        for (const auto& v : variants) known += (known.empty() ? "" : ", ") + v;
        throw usage_error("'" + *path + "' holds once-for-all configs, which do not hold " + j.space +
                          "'s width: set space.width (" + known + ")");
      }
    }
    j.plan_file_sha256 = sha256_file(*path);  // before reading: a file changed meanwhile fails the resume
    auto file = space::read_arch_file(*path, sp, j.width.value_or(""));
    for (std::size_t i = 0; i < file.archs.size() && j.resolution; ++i) {
      if (const int res = sp.resolution(file.archs[i]); res != *j.resolution) {
        throw usage_error(*path + ":" + std::to_string(i + 1) + ": resolution " + std::to_string(res) +
                          ", not space.resolution " + std::to_string(*j.resolution));
      }
    }
    j.file_archs = std::move(file.archs);
  } catch (const file_error& e) {
    throw file_error(std::string(k) + ": " + e.what());
  } catch (const usage_error& e) {
    throw usage_error(std::string(k) + ": " + e.what());
  }
}

/// One job-configuration key: its name ("section.key"), default, help text and how its value is
/// read into a job_config. Keys are read in table order, so a key may depend on those above it.
struct key {
  const char* name;
  std::string default_value;
  const char* help;
  void (*read)(reader& r, job_config& j, const char* name);
};

int int_at_least(reader& r, const char* k, long long minimum) { return static_cast<int>(r.integer(k, minimum)); }

double non_negative(reader& r, const char* k) {
  const double v = r.real(k);
  if (v < 0) throw usage_error(std::string(k) + ": must be >= 0");
  return v;
}

/// run.synthetic_gpus: the UUIDs of the simulated device query (design: backend.hpp).
std::vector<std::string> simulated_gpus(reader& r, const job_config& j, const char* k) {
  return r.parsed(k, [&](const std::string& v) {
    std::vector<std::string> uuids;
    if (v.empty()) return uuids;
    if (j.backend != "synthetic") throw usage_error("only with backend.name = synthetic (other backends ask their runtime)");
    std::size_t from = 0;
    for (;;) {
      const auto comma = v.find(',', from);
      const auto uuid = v.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
      if (uuid.size() <= 4 || (uuid.rfind("GPU-", 0) != 0 && uuid.rfind("MIG-", 0) != 0)) {
        throw usage_error("'" + uuid + "' is not a GPU UUID (GPU-... or MIG-...)");
      }
      uuids.push_back(uuid);
      if (comma == std::string::npos) return uuids;
      from = comma + 1;
    }
  });
}

/// The one declaration of every key: `esm profile --help`, the INI parser, resolve_job and the
/// resolved text (its order, its hash) all come from here.
const std::vector<key>& keys() {
  static const std::vector<key> table = [] {
    const measure::measure_policy p{};
    const backend::compile_options c{};
    return std::vector<key>{
      {"space.name", "", "search space (esm spaces)", [](reader& r, job_config& j, const char* k) {
         j.space = r.text(k);
         if (j.space.empty()) throw usage_error("space.name: required (esm spaces lists them)");
         (void)space::find_space(j.space);
       }},
      {"space.width", "", "variant, e.g. w1.0 for ofa-mbv3 (empty: sampled)",
       [](reader& r, job_config& j, const char* k) { j.width = r.optional_text(k); }},
      {"space.resolution", "", "input resolution, 128..224 step 4 (empty: sampled)", [](reader& r, job_config& j, const char* k) {
         if (r.optional_text(k)) j.resolution = int_at_least(r, k, 1);
         // validates the variant and resolution (usage_error)
         (void)space::find_space(j.space).count(space::sample_constraints{j.resolution, j.width});
       }},
      {"sample.policy", "balanced", "uniform | balanced | file (the archs of sample.file, in file order)",
       [](reader& r, job_config& j, const char* k) {
         if (r.text(k) == "file") {  // a plan source of the job, not a sampler: esm sample has no such policy
           j.plan_from_file = true;
           return;
         }
         j.policy = r.parsed(k, [](const std::string& v) { return space::parse_policy(v); });
         if (j.policy == space::sample_policy::weighted) {
           throw usage_error("sample.policy: weighted sampling is not available in job configurations (uniform, balanced, file)");
         }
       }},
      {"sample.file", "", "policy file: archs one a line, esm texts or once-for-all configs (JSON lines; ofa-mbv3 needs space.width)",
       read_plan_file},
      {"sample.file_sha256", "", "policy file: SHA-256 of sample.file (resolved from the file; when given, the file must match)",
       [](reader& r, job_config& j, const char* k) {
         const auto pinned = r.optional_text(k);
         if (!j.plan_from_file) {
           if (pinned) throw usage_error(std::string(k) + ": only with sample.policy = file");
           return;
         }
         if (pinned && *pinned != j.plan_file_sha256) {
           throw usage_error(std::string(k) + ": '" + j.plan_file + "' has SHA-256 " + j.plan_file_sha256 + ", not " + *pinned);
         }
         r.set(k, j.plan_file_sha256);
       }},
      {"sample.count", "", "architectures in the plan (policy file: the file's count; may be left out)",
       [](reader& r, job_config& j, const char* k) {
         const bool given = r.optional_text(k).has_value();
         if (j.plan_from_file) {
           j.count = j.file_archs.size();
           if (given && static_cast<std::size_t>(r.integer(k, 1)) != j.count) {
             throw usage_error(std::string(k) + ": " + std::to_string(r.integer(k, 1)) + ", but sample.file '" + j.plan_file +
                               "' holds " + std::to_string(j.count) + " architectures (leave sample.count out, or make it equal)");
           }
           r.set(k, std::to_string(j.count));
           return;
         }
         if (!given) throw usage_error("sample.count: required");
         j.count = static_cast<std::size_t>(r.integer(k, 1));
       }},
      {"sample.seed", "0", "sampling seed (the plan equals `esm sample` with the same settings; policy file: unused)",
       [](reader& r, job_config& j, const char* k) { j.seed = static_cast<std::uint64_t>(r.integer(k, 0)); }},
      {"measure.mode", std::string(measure::to_string(p.mode)), "plain | normalised | interleaved | crossed",
       [](reader& r, job_config& j, const char* k) {
         j.measure.mode = r.parsed(k, [](const std::string& v) { return measure::parse_measure_mode(v); });
       }},
      {"measure.stop", std::string(measure::to_string(p.stop)), "fixed | adaptive", [](reader& r, job_config& j, const char* k) {
         j.measure.stop = r.parsed(k, [](const std::string& v) { return measure::parse_stop_rule(v); });
       }},
      {"measure.reps", std::to_string(p.reps), "timed repetitions (fixed stop, interleaved, crossed)",
       [](reader& r, job_config& j, const char* k) { j.measure.reps = int_at_least(r, k, 1); }},
      {"measure.warmup_runs", std::to_string(p.warmup_runs), "untimed runs at least",
       [](reader& r, job_config& j, const char* k) { j.measure.warmup_runs = int_at_least(r, k, 0); }},
      {"measure.warmup_ms", number(p.warmup_ms), "untimed time at least, ms",
       [](reader& r, job_config& j, const char* k) { j.measure.warmup_ms = r.real(k); }},
      {"measure.trim_fraction", number(p.trim_fraction), "dropped from each end by the trimmed mean",
       [](reader& r, job_config& j, const char* k) { j.measure.trim_fraction = r.real(k); }},
      {"measure.max_noise", number(p.max_noise), "adaptive stop: relative noise to reach",
       [](reader& r, job_config& j, const char* k) { j.measure.max_noise = r.real(k); }},
      {"measure.min_reps", std::to_string(p.min_reps), "adaptive stop: repetitions at least",
       [](reader& r, job_config& j, const char* k) { j.measure.min_reps = int_at_least(r, k, 1); }},
      {"measure.max_reps", std::to_string(p.max_reps), "adaptive stop: repetitions at most",
       [](reader& r, job_config& j, const char* k) { j.measure.max_reps = int_at_least(r, k, 1); }},
      {"measure.timeout_ms", number(p.timeout_ms), "adaptive stop: measured time at most, ms",
       [](reader& r, job_config& j, const char* k) { j.measure.timeout_ms = r.real(k); }},
      {"measure.drift_every", std::to_string(p.drift_every), "archs between drift checks (0: off)",
       [](reader& r, job_config& j, const char* k) {
         j.measure.drift_every = int_at_least(r, k, 0);
         if (j.measure.mode == measure::measure_mode::crossed && !r.given(k)) {
           // Crossed labels are solved against each window's own reference bursts; a guard re-measure
           // repeats a whole window, both passes (docs/measurement.md): off unless asked for.
           j.measure.drift_every = 0;
           r.set(k, "0");
         }
       }},
      {"measure.drift_threshold", number(p.drift_threshold), "relative reference change counted as drift",
       [](reader& r, job_config& j, const char* k) { j.measure.drift_threshold = r.real(k); }},
      {"measure.drift_max_retries", std::to_string(p.drift_max_retries), "re-measurements of a drifting window",
       [](reader& r, job_config& j, const char* k) { j.measure.drift_max_retries = int_at_least(r, k, 0); }},
      {"measure.drift_reps", std::to_string(p.drift_reps), "reference repetitions per drift check",
       [](reader& r, job_config& j, const char* k) { j.measure.drift_reps = int_at_least(r, k, 1); }},
      {"measure.drift_calibration", std::to_string(p.drift_calibration), "reference readings the drift baseline is the median of",
       [](reader& r, job_config& j, const char* k) { j.measure.drift_calibration = int_at_least(r, k, 1); }},
      {"measure.drift_noise_factor", number(p.drift_noise_factor),
       "threshold in effect: max(drift_threshold, factor x the reference's noise); 0: drift_threshold alone",
       [](reader& r, job_config& j, const char* k) { j.measure.drift_noise_factor = r.real(k); }},
      {"measure.drift_noise_window", std::to_string(p.drift_noise_window),
       "noise samples the threshold keeps learning over, from every reference reading (0: the calibration's alone)",
       [](reader& r, job_config& j, const char* k) { j.measure.drift_noise_window = int_at_least(r, k, 0); }},
      {"measure.drift_shrink_limit", number(p.drift_shrink_limit),
       "one reading lowers the threshold in effect to no less than this fraction of the previous one, in (0, 1]",
       [](reader& r, job_config& j, const char* k) { j.measure.drift_shrink_limit = r.real(k); }},
      {"measure.drift_follow_common", p.drift_follow_common ? "true" : "false",
       "normalised, interleaved, crossed: follow a drift the window's own references share (common_mode) "
       "instead of re-measuring",
       [](reader& r, job_config& j, const char* k) { j.measure.drift_follow_common = r.boolean(k); }},
      {"measure.bracket_reps", std::to_string(p.bracket_reps), "reference repetitions per bracket / burst",
       [](reader& r, job_config& j, const char* k) { j.measure.bracket_reps = int_at_least(r, k, 1); }},
      {"measure.switch_warmup_runs", std::to_string(p.switch_warmup_runs), "untimed runs after switching workloads",
       [](reader& r, job_config& j, const char* k) { j.measure.switch_warmup_runs = int_at_least(r, k, 0); }},
      {"measure.burst_reps", std::to_string(p.burst_reps), "interleaved, crossed: an arch's repetitions per burst",
       [](reader& r, job_config& j, const char* k) { j.measure.burst_reps = int_at_least(r, k, 1); }},
      {"measure.interleave_group", std::to_string(p.interleave_group), "interleaved, crossed: archs measured together",
       [](reader& r, job_config& j, const char* k) {
         j.measure.interleave_group = int_at_least(r, k, 1);
         j.measure.validate();  // the last policy key: the policy as a whole
       }},
      {"measure.reference", "auto", "reference network (canonical text; auto: a fixed arch of the space)",
       [](reader& r, job_config& j, const char* k) {
         j.reference = resolve_reference(j, r.text(k));
         r.set(k, j.reference);
       }},
      // Hashed ([measure]): which archs share a measuring group shapes the labels (a group's shared
      // level error), so a resume must keep it, and datasets drawn differently differ in hash.
      {"measure.group_seed", "0", "seed of the random draw of the archs that are measured together (groups of run.chunk)",
       [](reader& r, job_config& j, const char* k) { j.group_seed = static_cast<std::uint64_t>(r.integer(k, 0)); }},
      {"backend.name", "cpu", "cpu | cudnn | reference | synthetic (computed latencies, for scale tests)",
       [](reader& r, job_config& j, const char* k) {
         j.backend = r.text(k);
         const auto names = backend::available_backends();
         if (std::find(names.begin(), names.end(), j.backend) == names.end()) {
           std::string known;
           for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
           throw usage_error("backend.name: '" + j.backend + "' is not available in this build (" + known + ")");
         }
       }},
      {"backend.precision", std::string(backend::to_string(c.prec)), "fp32 | fp16 (cudnn) | bf16 | int8 (cpu)", [](reader& r, job_config& j, const char* k) {
         j.compile.prec = r.parsed(k, [](const std::string& v) { return backend::parse_precision(v); });
       }},
      {"backend.batch", "1", "batch size", [](reader& r, job_config& j, const char* k) { j.batch = int_at_least(r, k, 1); }},
      {"backend.seed", std::to_string(c.seed), "seed of weights and input",
       [](reader& r, job_config& j, const char* k) { j.compile.seed = static_cast<std::uint64_t>(r.integer(k, 0)); }},
      {"backend.threads", "0", "CPU threads per rank (0: the rank's share of the node's cores)",
       [](reader& r, job_config& j, const char* k) { j.compile.threads = int_at_least(r, k, 0); }},
      {"backend.algos", std::string(backend::to_string(c.algos)), "GPU algorithm choice: find | heuristic",
       [](reader& r, job_config& j, const char* k) {
         j.compile.algos = r.parsed(k, [](const std::string& v) { return backend::parse_algo_selection(v); });
       }},
      {"backend.workspace_mb", std::to_string(c.workspace_limit_bytes >> 20), "GPU workspace limit per layer, MiB",
       [](reader& r, job_config& j, const char* k) {
         j.compile.workspace_limit_bytes = static_cast<std::size_t>(r.integer(k, 0)) << 20;
       }},
      {"backend.cuda_graph", c.cuda_graph ? "true" : "false",
       "time CUDA graph replays (true) or per-layer launches (false); rows record both (schema 3)",
       [](reader& r, job_config& j, const char* k) { j.compile.cuda_graph = r.boolean(k); }},
      {"backend.layout", std::string(backend::to_string(c.layout)), "GPU activation layout: nchw | nhwc (fp16 only)",
       [](reader& r, job_config& j, const char* k) {
         j.compile.layout = r.parsed(k, [](const std::string& v) { return backend::parse_tensor_layout(v); });
         if (j.compile.layout == backend::tensor_layout::nhwc && j.compile.prec != backend::precision::fp16) {
           throw usage_error("backend.layout: nhwc is offered for precision fp16 only (tensor cores); use nchw for fp32");
         }
       }},
      {"backend.share_devices", "false", "allow several ranks per GPU (timings disturb each other)",
       [](reader& r, job_config& j, const char* k) { j.share_devices = r.boolean(k); }},
      {"output.path", "", "dataset file (.h5); --output overrides", [](reader& r, job_config& j, const char* k) {
         j.output = r.text(k);
         if (j.output.empty()) throw usage_error("output.path: required (or --output FILE)");
       }},
      {"run.partition", "lpt", "lpt (static, by MACs) | dynamic (shared counter)", [](reader& r, job_config& j, const char* k) {
         j.partition = r.parsed(k, [](const std::string& v) { return parse_partition_mode(v); });
       }},
      {"run.chunk", "0",
       "archs per measurement call and per drawn group (0: measure.drift_every, or 8 without the guard; crossed: "
       "interleave_group^2); a resume keeps the dataset's",
       [](reader& r, job_config& j, const char* k) {
         j.chunk = int_at_least(r, k, 0);
         const auto& m = j.measure;
         if (j.chunk == 0) {  // crossed: one full window of interleave_group^2 archs per call
           j.chunk = m.mode == measure::measure_mode::crossed ? m.interleave_group * m.interleave_group
                                                              : (m.drift_every > 0 ? m.drift_every : 8);
         }
         r.set(k, std::to_string(j.chunk));
       }},
      {"run.flush_interval_s", "10", "seconds between collective writes (at chunk ends)",
       [](reader& r, job_config& j, const char* k) { j.flush_interval_s = non_negative(r, k); }},
      {"run.progress_interval_s", "5", "seconds between progress lines",
       [](reader& r, job_config& j, const char* k) { j.progress_interval_s = non_negative(r, k); }},
      // In [run], not [backend]: the sleep changes how long a run takes, never the synthetic values,
      // so a resume may change it (and the config hash of every existing dataset stays as it was).
      {"run.synthetic_sleep_ms", "0", "synthetic backend: ms each timed pass sleeps (the device time it stands for)",
       [](reader& r, job_config& j, const char* k) { j.compile.synthetic_sleep_ms = non_negative(r, k); }},
      {"run.synthetic_gpus", "",
       "synthetic backend: comma-separated GPU UUIDs (GPU-..., MIG-...) a simulated device query shows each rank, "
       "which then binds to one as on a GPU node (empty: CPU ranks)",
       [](reader& r, job_config& j, const char* k) { j.synthetic_gpus = simulated_gpus(r, j, k); }},
    };
  }();
  return table;
}

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

std::vector<space::arch> job_config::plan_archs() const {
  if (plan_from_file) return file_archs;
  return space::sample_archs(space::find_space(space), sample_request());
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

job_config resolve_job(const po::variables_map& vm) {
  reader r(vm);
  job_config j;
  for (const auto& k : keys()) k.read(r, j, k.name);

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

}  // namespace esm::profile
