// Is a measuring group's shared level error a property of the networks' build or of the time they
// were timed in? (The error: docs/lab/2026-12-06-group-error.md#2026-12-06-a-shared-group-error-and-the-crossed-mode;
// this study's answer: docs/lab/2026-12-06-group-rebuild.md#2026-12-06-what-a-groups-level-error-is-made-of.)
//
// For each of --groups groups of 8 ofa-mbv3 w1.2 archs, on the CPU backend with one thread:
//   A1  build the 8 archs, time them interleaved with the reference (esm's interleaved mode)
//   A2  time the same builds again, straight after
//   B   build the 8 archs afresh and time them
//   C   build the reference afresh too and time B's builds against it
//   D   build the 8 archs and a reference together (reference last) and time them
//   E   the same again
// and print each group's mean log normalised label per step. Across groups, the sd of A2 - A1 is
// the timing-only part of a group's level error; B - A2 adds the archs' builds; C - B the
// reference's build; E - D both builds, made together (does a reference built beside the group
// share, and so cancel, the group's build effect?). Run one copy per core (taskset) to load the machine as esm profile's two
// ranks do.
//
//   esm_bench_group_rebuild [GROUPS] [SEED] [REPS] [REFERENCE_ARCH] [retime]
// REFERENCE_ARCH defaults to measure::reference_arch_text; "retime" times each group's builds
// three times and splits each change of the group's label into the change of its archs' mean
// log latency and of its reference reading (which of the two moves the label?).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "esm/backend/backend.hpp"
#include "esm/measure/policy.hpp"
#include "esm/measure/runner.hpp"
#include "esm/space/sampler.hpp"
#include "esm/space/space.hpp"

namespace {

using namespace esm;

struct built {
  std::vector<std::shared_ptr<backend::executable>> exes;
  std::vector<measure::workload> workloads;
};

built build_all(const backend::backend& be, const space::search_space& sp, const std::vector<space::arch>& archs,
                const backend::compile_options& o) {
  built b;
  for (const auto& a : archs) {
    std::shared_ptr<backend::executable> exe = be.compile(sp.build(a, 1), o);
    b.workloads.push_back([exe] { return exe->timed_run_ms(); });
    b.exes.push_back(std::move(exe));
  }
  return b;
}

/// Mean over the group of log trimmed mean (ms), and log of the group's reference reading.
std::pair<double, double> arch_and_reference_logs(const std::vector<measure::measurement>& ms) {
  double s = 0;
  for (const auto& m : ms) s += std::log(m.stats.trimmed_mean_ms) / static_cast<double>(ms.size());
  return {s, std::log(ms.front().reference_ms)};
}

double mean_log_label(const std::vector<measure::measurement>& ms) {
  double s = 0;
  for (const auto& m : ms) s += std::log(m.normalised) / static_cast<double>(ms.size());
  return s;
}

double sd(const std::vector<double>& v) {
  double m = 0, q = 0;
  for (double x : v) m += x / static_cast<double>(v.size());
  for (double x : v) q += (x - m) * (x - m);
  return std::sqrt(q / static_cast<double>(v.size() - 1));
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t groups = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 6;
  const std::uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 100;
  if (groups < 2 || reps < 10) {
    std::fprintf(stderr, "usage: esm_bench_group_rebuild [GROUPS >= 2] [SEED] [REPS >= 10] [REFERENCE_ARCH]\n");
    return 2;
  }
  const auto& sp = space::find_space("ofa-mbv3");
  space::sample_request req;
  req.count = groups * 8;
  req.seed = seed;
  req.constraints.variant = "w1.2";
  const auto archs = space::sample_archs(sp, req);
  const auto be = backend::make_backend("cpu");
  backend::compile_options o;
  o.threads = 1;
  measure::measure_policy p;
  p.mode = measure::measure_mode::interleaved;
  p.stop = measure::stop_rule::fixed;
  p.reps = reps;
  const auto ref_arch = space::parse_any(argc > 4 ? argv[4] : measure::reference_arch_text);
  auto make_reference = [&] {
    std::shared_ptr<backend::executable> exe = be->compile(sp.build(ref_arch, 1), o);
    measure::workload w = [exe] { return exe->timed_run_ms(); };
    (void)measure::warm_up(w, p.warmup_runs, p.warmup_ms);
    return w;
  };
  measure::workload reference = make_reference();
  if (argc > 5 && std::string_view(argv[5]) == "retime") {
    std::vector<double> label, arch, ref;
    std::printf("group  dlabel%%  darch%%  dref%%   (successive timings of the same builds)\n");
    for (std::size_t g = 0; g < groups; ++g) {
      const std::vector<space::arch> mine(archs.begin() + static_cast<std::ptrdiff_t>(g * 8),
                                          archs.begin() + static_cast<std::ptrdiff_t>(g * 8 + 8));
      const auto b = build_all(*be, sp, mine, o);
      std::pair<double, double> last{};
      for (int t = 0; t < 3; ++t) {
        const auto now = arch_and_reference_logs(measure::measure_interleaved(b.workloads, reference, p));
        if (t > 0) {
          const double da = now.first - last.first, dr = now.second - last.second;
          label.push_back(da - dr);
          arch.push_back(da);
          ref.push_back(dr);
          std::printf("%5zu  %7.2f  %6.2f  %6.2f\n", g, 100 * (da - dr), 100 * da, 100 * dr);
        }
        last = now;
      }
    }
    std::printf("sd: label %.2f%%  arch mean %.2f%%  reference %.2f%%\n", 100 * sd(label), 100 * sd(arch), 100 * sd(ref));
    return 0;
  }
  std::vector<double> a2a1, ba2, cb, ed;
  std::printf("group  A1(log)  A2-A1%%  B-A2%%  C-B%%  E-D%%\n");
  for (std::size_t g = 0; g < groups; ++g) {
    const std::vector<space::arch> mine(archs.begin() + static_cast<std::ptrdiff_t>(g * 8),
                                        archs.begin() + static_cast<std::ptrdiff_t>(g * 8 + 8));
    const auto first = build_all(*be, sp, mine, o);
    const double a1 = mean_log_label(measure::measure_interleaved(first.workloads, reference, p));
    const double a2 = mean_log_label(measure::measure_interleaved(first.workloads, reference, p));
    const auto second = build_all(*be, sp, mine, o);
    const double b = mean_log_label(measure::measure_interleaved(second.workloads, reference, p));
    reference = make_reference();
    const double c = mean_log_label(measure::measure_interleaved(second.workloads, reference, p));
    double co[2];
    for (double& level : co) {
      const auto together = build_all(*be, sp, mine, o);
      reference = make_reference();
      level = mean_log_label(measure::measure_interleaved(together.workloads, reference, p));
    }
    a2a1.push_back(a2 - a1);
    ba2.push_back(b - a2);
    cb.push_back(c - b);
    ed.push_back(co[1] - co[0]);
    std::printf("%5zu  %7.4f  %6.2f  %6.2f  %6.2f  %6.2f\n", g, a1, 100 * (a2 - a1), 100 * (b - a2), 100 * (c - b),
                100 * (co[1] - co[0]));
    std::fflush(stdout);
  }
  std::printf("sd over groups: A2-A1 %.2f%%  B-A2 %.2f%%  C-B %.2f%%  E-D %.2f%%\n", 100 * sd(a2a1), 100 * sd(ba2),
              100 * sd(cb), 100 * sd(ed));
  return 0;
}
