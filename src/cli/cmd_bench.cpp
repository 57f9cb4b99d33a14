// esm bench: time one architecture on one backend with the measurement policy, and say how much
// of the wall time the harness spent outside the repetitions (compile, brackets, set-up).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <sstream>

#include "cli/commands.hpp"
#include "esm/backend/backend.hpp"
#include "esm/common/error.hpp"
#include "esm/measure/policy.hpp"
#include "esm/measure/runner.hpp"
#include "esm/space/space.hpp"
#include "esm/version.hpp"

namespace po = boost::program_options;

namespace esm::cli {

namespace {

using steady = std::chrono::steady_clock;

double ms_since(steady::time_point start) {
  return std::chrono::duration<double, std::milli>(steady::now() - start).count();
}

/// Wall-clock costs of one bench run, ms.
struct harness_times {
  double compile_ms = 0;
  double reference_compile_ms = 0;  ///< normalised mode
  double measure_ms = 0;            ///< the measurement call: warm-up, repetitions, brackets
  double total_ms = 0;              ///< from option parsing done to results ready
  [[nodiscard]] double inside_ms(const measure::measurement& m) const {
    return m.warmup_ms + std::accumulate(m.samples_ms.begin(), m.samples_ms.end(), 0.0);
  }
};

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(ch)));
      out += esc;
    } else {
      out += ch;
    }
  }
  return out + '"';
}

/// Shortest text that reads back to the same double; JSON has no NaN, so NaN becomes null.
std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  for (int digits = 6;; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (digits >= 17 || std::strtod(buf, nullptr) == v) return buf;
  }
}

struct bench_setup {
  std::string arch_text;
  int batch = 1;
  std::string backend_name;
  backend::compile_options options;
  measure::measure_policy policy;
};

std::string text_report(const bench_setup& s, const backend::backend& be, const backend::executable& exe,
                        const measure::measurement& m, const harness_times& t) {
  std::ostringstream os;
  char line[512];
  const auto& st = m.stats;
  os << "arch       " << s.arch_text << "  (batch " << s.batch << ")\n";
  os << "backend    " << be.name() << ": " << exe.description() << '\n';
  os << "policy     " << measure::to_text(s.policy) << '\n';
  std::snprintf(line, sizeof line,
                "latency    %.4f ms trimmed mean (%zu of %zu kept)   median %.4f   mean %.4f   std %.4f\n"
                "           min %.4f   p10 %.4f   p90 %.4f   max %.4f   noise %.2f%%\n",
                st.trimmed_mean_ms, st.trimmed_n, st.n, st.median_ms, st.mean_ms, st.std_ms, st.min_ms, st.p10_ms,
                st.p90_ms, st.max_ms, 100.0 * st.noise);
  os << line;
  if (s.policy.mode != measure::measure_mode::plain) {
    std::snprintf(line, sizeof line, "reference  %.4f ms (before %.4f, after %.4f)   normalised %.4f\n",
                  m.reference_ms, m.reference_before_ms, m.reference_after_ms, m.normalised);
    os << line;
  }
  const double inside = t.inside_ms(m);
  const std::string reference_compile =
      s.policy.mode == measure::measure_mode::plain ? "" : " + reference " + json_number(std::round(t.reference_compile_ms)) + " ms";
  std::snprintf(line, sizeof line,
                "harness    compile %.1f ms%s   warm-up %.1f ms (%d run%s)   timed %.1f ms   wall %.1f ms   "
                "efficiency %.2f\n",
                t.compile_ms, reference_compile.c_str(), m.warmup_ms, m.warmup_runs, m.warmup_runs == 1 ? "" : "s",
                inside - m.warmup_ms, t.total_ms,
                inside / t.total_ms);
  os << line;
  const auto algos = exe.algorithms();
  if (!algos.empty()) {
    os << "algorithms\n";
    for (const auto& a : algos) {
      std::snprintf(line, sizeof line, "  layer %-4d %-48s id %-3d workspace %zu bytes\n", a.layer, a.name.c_str(), a.id,
                    a.workspace_bytes);
      os << line;
    }
  }
  return os.str();
}

std::string json_report(const bench_setup& s, const backend::backend& be, const backend::executable& exe,
                        const measure::measurement& m, const harness_times& t) {
  const auto& st = m.stats;
  const auto arch = space::parse_any(s.arch_text);
  std::ostringstream os;
  char id[32];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(space::arch_id(arch)));
  os << "{\"esm_version\": " << json_string(version_string()) << ", \"arch\": " << json_string(s.arch_text)
     << ", \"id\": \"" << id << "\", \"batch\": " << s.batch;
  os << ",\n \"backend\": {\"name\": " << json_string(be.name()) << ", \"version\": " << json_string(be.version())
     << ", \"description\": " << json_string(exe.description())
     << ", \"precision\": " << json_string(backend::to_string(s.options.prec)) << ", \"threads\": " << s.options.threads
     << ", \"algos\": " << json_string(backend::to_string(s.options.algos))
     << ", \"cuda_graph\": " << (s.options.cuda_graph ? "true" : "false")
     << ", \"layout\": " << json_string(backend::to_string(s.options.layout)) << ", \"seed\": " << s.options.seed << '}';
  os << ",\n \"policy\": " << json_string(measure::to_text(s.policy))
     << ", \"mode\": " << json_string(measure::to_string(s.policy.mode));
  os << ",\n \"stats\": {\"n\": " << st.n << ", \"trimmed_n\": " << st.trimmed_n
     << ", \"trimmed_mean_ms\": " << json_number(st.trimmed_mean_ms) << ", \"median_ms\": " << json_number(st.median_ms)
     << ", \"mean_ms\": " << json_number(st.mean_ms) << ", \"std_ms\": " << json_number(st.std_ms)
     << ", \"min_ms\": " << json_number(st.min_ms) << ", \"max_ms\": " << json_number(st.max_ms)
     << ", \"p10_ms\": " << json_number(st.p10_ms) << ", \"p90_ms\": " << json_number(st.p90_ms)
     << ", \"noise\": " << json_number(st.noise) << '}';
  os << ",\n \"reference\": ";
  if (s.policy.mode == measure::measure_mode::plain) {
    os << "null";
  } else {
    os << "{\"arch\": " << json_string(measure::reference_arch_text)
       << ", \"before_ms\": " << json_number(m.reference_before_ms)
       << ", \"after_ms\": " << json_number(m.reference_after_ms) << ", \"ms\": " << json_number(m.reference_ms)
       << ", \"normalised\": " << json_number(m.normalised) << '}';
  }
  os << ",\n \"warmup\": {\"runs\": " << m.warmup_runs << ", \"ms\": " << json_number(m.warmup_ms) << '}';
  os << ",\n \"samples_ms\": [";
  for (std::size_t i = 0; i < m.samples_ms.size(); ++i) os << (i ? ", " : "") << json_number(m.samples_ms[i]);
  os << "],\n \"algorithms\": [";
  const auto algos = exe.algorithms();
  for (std::size_t i = 0; i < algos.size(); ++i) {
    os << (i ? ", " : "") << "{\"layer\": " << algos[i].layer << ", \"name\": " << json_string(algos[i].name)
       << ", \"id\": " << algos[i].id << ", \"workspace_bytes\": " << algos[i].workspace_bytes << '}';
  }
  const double inside = t.inside_ms(m);
  os << "],\n \"harness\": {\"compile_ms\": " << json_number(t.compile_ms)
     << ", \"reference_compile_ms\": " << json_number(t.reference_compile_ms)
     << ", \"warmup_ms\": " << json_number(m.warmup_ms) << ", \"timed_ms\": " << json_number(inside - m.warmup_ms)
     << ", \"measure_wall_ms\": " << json_number(t.measure_ms) << ", \"wall_ms\": " << json_number(t.total_ms)
     << ", \"efficiency\": " << json_number(inside / t.total_ms) << '}';
  os << ",\n \"start_unix_ns\": " << m.start_unix_ns << ", \"end_unix_ns\": " << m.end_unix_ns << "}\n";
  return os.str();
}

}  // namespace

int bench(const args& a) {
  po::options_description opts("esm bench options");
  bench_setup s;
  std::string precision_text, algos_text, mode_text, layout_text;
  opts.add_options()
      ("arch", po::value(&s.arch_text)->required(), "canonical architecture text (esm sample prints them)")
      ("backend", po::value(&s.backend_name)->default_value("cpu"), "cpu | cudnn | reference | synthetic")
      ("batch", po::value(&s.batch)->default_value(1), "batch size")
      ("reps", po::value(&s.policy.reps)->default_value(s.policy.reps), "timed repetitions")
      ("warmup-runs", po::value(&s.policy.warmup_runs)->default_value(s.policy.warmup_runs),
       "at least this many untimed runs first")
      ("warmup-ms", po::value(&s.policy.warmup_ms)->default_value(s.policy.warmup_ms),
       "and at least this much warm-up time, ms")
      ("threads", po::value(&s.options.threads)->default_value(0), "CPU threads (0: every core this process may use)")
      ("precision", po::value(&precision_text)->default_value("fp32"), "fp32 | fp16 (cudnn) | bf16 | int8 (cpu)")
      ("algos", po::value(&algos_text)->default_value("find"), "GPU algorithm choice: find | heuristic")
      ("cuda-graph", "GPU: replay the pass from a captured CUDA graph")
      ("layout", po::value(&layout_text)->default_value("nchw"), "GPU activation layout: nchw | nhwc (fp16 only)")
      ("mode", po::value(&mode_text)->default_value("plain"),
       "plain | normalised (bracket with a fixed reference network, report arch / reference)")
      ("json", "print one JSON object instead of text");
  po::positional_options_description pos;
  pos.add("arch", 1);
  po::variables_map vm;
  if (!parse(a, opts, vm,
             "esm bench --arch TEXT [--backend cpu|cudnn|reference] [--batch B] [--reps R] [--warmup-runs W] "
             "[--warmup-ms T] [--threads N] [--precision fp32|fp16|bf16|int8] [--algos find|heuristic] [--cuda-graph] "
             "[--layout nchw|nhwc] "
             "[--mode plain|normalised] [--json]",
             &pos)) {
    return exit_code::ok;
  }
  const auto start = steady::now();
  if (s.batch <= 0 || s.batch > 4096) throw usage_error("--batch must be in 1..4096, got " + std::to_string(s.batch));
  if (s.options.threads < 0) throw usage_error("--threads must be >= 0, got " + std::to_string(s.options.threads));
  s.options.prec = backend::parse_precision(precision_text);
  s.options.algos = backend::parse_algo_selection(algos_text);
  s.options.cuda_graph = vm.count("cuda-graph") != 0;
  s.options.layout = backend::parse_tensor_layout(layout_text);
  if (s.options.layout == backend::tensor_layout::nhwc && s.options.prec != backend::precision::fp16) {
    throw usage_error("--layout nhwc needs --precision fp16");
  }
  s.policy.mode = measure::parse_measure_mode(mode_text);
  if (measure::grouped(s.policy.mode)) {
    throw usage_error("--mode " + std::string(measure::to_string(s.policy.mode)) +
                      " needs a group of archs; esm bench times one (plain, normalised)");
  }
  s.policy.drift_every = 0;  // one arch: there is no window for the drift guard to re-measure
  s.policy.validate();

  const auto be = backend::make_backend(s.backend_name);
  const space::arch arch = space::parse_any(s.arch_text);
  s.arch_text = space::format_any(arch);
  const net::network net = space::find_space(arch.space).build(arch, s.batch);

  harness_times t;
  auto phase = steady::now();
  const auto exe = be->compile(net, s.options);
  t.compile_ms = ms_since(phase);
  const measure::workload arch_run = [&exe] { return exe->timed_run_ms(); };

  // Normalised mode: the reference network is compiled (and timed as such) before the measurement.
  std::unique_ptr<backend::executable> ref_exe;
  if (s.policy.mode != measure::measure_mode::plain) {
    const space::arch ref_arch = space::parse_any(measure::reference_arch_text);
    phase = steady::now();
    ref_exe = be->compile(space::find_space(ref_arch.space).build(ref_arch, s.batch), s.options);
    t.reference_compile_ms = ms_since(phase);
  }
  const measure::workload reference_run = [&ref_exe] { return ref_exe->timed_run_ms(); };
  phase = steady::now();
  const measure::measurement m = measure::measure_single(arch_run, reference_run, s.policy);
  t.measure_ms = ms_since(phase);
  t.total_ms = ms_since(start);
  write_output("", vm.count("json") ? json_report(s, *be, *exe, m, t) : text_report(s, *be, *exe, m, t));
  return exit_code::ok;
}

}  // namespace esm::cli
