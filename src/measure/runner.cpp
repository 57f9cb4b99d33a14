// Timing loops (esm/measure/runner.hpp). The only clock read here is system_clock, for
// provenance timestamps; every duration comes from the workload itself.
#include "esm/measure/runner.hpp"

#include <chrono>
#include <cmath>
#include <string>

#include "esm/common/error.hpp"
#include "esm/measure/interleave.hpp"

namespace esm::measure {

namespace {

double run_once(const workload& w) {
  const double ms = w();
  // A negative or NaN time would corrupt every statistic silently; it means a broken timer.
  if (!std::isfinite(ms) || ms < 0.0) throw error("measurement: workload reported an invalid time " + std::to_string(ms) + " ms");
  return ms;
}

double bracket_ms(const workload& reference, const measure_policy& p) {
  return trimmed_mean(time_burst(reference, p.bracket_reps, p.switch_warmup_runs), p.trim_fraction);
}

}  // namespace

std::int64_t unix_time_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

warmup_result warm_up(const workload& w, int min_runs, double min_ms) {
  warmup_result r;
  while (r.runs < min_runs || r.ms < min_ms) {
    r.ms += run_once(w);
    ++r.runs;
  }
  return r;
}

std::vector<double> time_reps(const workload& w, const stopping_criterion& stop) {
  std::vector<double> samples;
  while (!stop.done(samples)) samples.push_back(run_once(w));
  return samples;
}

std::vector<double> time_burst(const workload& w, int reps, int untimed_runs) {
  for (int i = 0; i < untimed_runs; ++i) (void)run_once(w);
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(reps > 0 ? reps : 0));
  for (int i = 0; i < reps; ++i) samples.push_back(run_once(w));
  return samples;
}

double normalised_latency(double arch_ms, double reference_before_ms, double reference_after_ms) {
  return arch_ms / (0.5 * (reference_before_ms + reference_after_ms));
}

measurement measure_plain(const workload& arch, const measure_policy& p) {
  measurement m;
  m.start_unix_ns = unix_time_ns();
  const warmup_result wu = warm_up(arch, p.warmup_runs, p.warmup_ms);
  m.warmup_runs = wu.runs;
  m.warmup_ms = wu.ms;
  m.samples_ms = time_reps(arch, *make_criterion(p));
  m.stats = summarize(m.samples_ms, p.trim_fraction);
  m.end_unix_ns = unix_time_ns();
  return m;
}

measurement measure_bracketed(const workload& arch, const workload& reference, const measure_policy& p) {
  const std::int64_t start = unix_time_ns();
  const double before = bracket_ms(reference, p);
  measurement m = measure_plain(arch, p);
  const double after = bracket_ms(reference, p);
  m.reference_before_ms = before;
  m.reference_after_ms = after;
  m.reference_ms = 0.5 * (before + after);
  m.normalised = normalised_latency(m.stats.trimmed_mean_ms, before, after);
  m.start_unix_ns = start;
  m.end_unix_ns = unix_time_ns();
  return m;
}

std::vector<measurement> measure_interleaved(std::span<const workload> archs, const workload& reference,
                                             const measure_policy& p) {
  if (p.stop != stop_rule::fixed) throw error("measure_interleaved: needs the fixed stopping rule");
  const auto schedule = interleave_schedule(archs.size(), p.reps, p.burst_reps, p.bracket_reps);
  std::vector<measurement> out(archs.size());
  for (std::size_t a = 0; a < archs.size(); ++a) {
    out[a].start_unix_ns = unix_time_ns();
    const warmup_result wu = warm_up(archs[a], p.warmup_runs, p.warmup_ms);
    out[a].warmup_runs = wu.runs;
    out[a].warmup_ms = wu.ms;
    out[a].samples_ms.reserve(static_cast<std::size_t>(p.reps));
  }
  std::vector<double> reference_samples;
  for (const burst& b : schedule) {
    const bool is_reference = b.workload == burst::reference;
    const workload& w = is_reference ? reference : archs[static_cast<std::size_t>(b.workload)];
    const auto samples = time_burst(w, b.reps, p.switch_warmup_runs);
    auto& into = is_reference ? reference_samples : out[static_cast<std::size_t>(b.workload)].samples_ms;
    into.insert(into.end(), samples.begin(), samples.end());
    if (!is_reference) out[static_cast<std::size_t>(b.workload)].end_unix_ns = unix_time_ns();
  }
  const double reference_ms = trimmed_mean(reference_samples, p.trim_fraction);
  for (auto& m : out) {
    m.stats = summarize(m.samples_ms, p.trim_fraction);
    m.reference_ms = reference_ms;
    m.normalised = m.stats.trimmed_mean_ms / reference_ms;
  }
  return out;
}

double reference_check_ms(const workload& reference, const measure_policy& p) {
  return trimmed_mean(time_burst(reference, p.drift_reps, p.switch_warmup_runs), p.trim_fraction);
}

measurement measure_single(const workload& arch, const workload& reference, const measure_policy& p) {
  switch (p.mode) {
    case measure_mode::plain: return measure_plain(arch, p);
    case measure_mode::normalised:
      (void)warm_up(reference, p.warmup_runs, p.warmup_ms);
      return measure_bracketed(arch, reference, p);
    case measure_mode::interleaved:
    case measure_mode::crossed: break;
  }
  throw usage_error("mode " + std::string(to_string(p.mode)) +
                    " needs a group of archs; a single arch is timed plain or normalised");
}

}  // namespace esm::measure
