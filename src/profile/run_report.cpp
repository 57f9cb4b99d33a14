// What a profile run prints (design: run_report.hpp).
#include "profile/run_report.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <vector>

#include "profile/wire.hpp"

namespace esm::profile {

using namespace esm::cluster;

double seconds_since(steady::time_point start) { return std::chrono::duration<double>(steady::now() - start).count(); }

std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto total = static_cast<long long>(s + 0.5);
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, total / 60 % 60);
  } else if (total >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%llds", total);
  }
  return text;
}

namespace {

/// CPU seconds (user + system) this process has used so far.
double cpu_seconds() {
  rusage u{};
  if (::getrusage(RUSAGE_SELF, &u) != 0) return std::numeric_limits<double>::quiet_NaN();
  const auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

/// This process's peak resident set (VmHWM of /proc/self/status), MiB; NaN where unreadable.
double peak_rss_mib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return std::numeric_limits<double>::quiet_NaN();
  char line[256];
  double kib = std::numeric_limits<double>::quiet_NaN();
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "VmHWM: %lf kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib / 1024.0;
}

/// Whether rank 0's stdout is a terminal the user watches. Under a launcher (mpirun, srun) the
/// ranks' stdout is a pseudo-terminal even when the launcher's own output goes to a file, so
/// isatty cannot tell: plain lines there.
bool in_place_possible() {
  for (const char* launcher : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_PROCID"}) {
    if (std::getenv(launcher)) return false;
  }
  return ::isatty(STDOUT_FILENO) != 0;
}

}  // namespace

progress_printer::progress_printer(std::int64_t total, std::int64_t done_before, double interval_s)
    : total_(total), done_before_(done_before), interval_s_(interval_s), tty_(in_place_possible()) {}

void progress_printer::update(std::int64_t finished, std::int64_t written, std::int64_t failed, std::int64_t remeasures, bool force) {
  const double elapsed = seconds_since(start_);
  const bool changed = finished != last_finished_ || written != last_written_;
  // Unchanged numbers are repeated only as a sign of life, at most once a second.
  if (force ? !changed : elapsed - last_ < (changed ? interval_s_ : std::max(interval_s_, 1.0))) return;
  last_ = elapsed;
  last_finished_ = finished;
  last_written_ = written;
  const double rate = elapsed > 0 ? static_cast<double>(finished - done_before_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - finished) / rate : std::numeric_limits<double>::infinity();
  char line[256];
  std::snprintf(line, sizeof line,
                "[%7.1fs] %lld/%lld measured (%.1f%%), %lld written  %.2f archs/s  ETA %s  remeasures %lld  failed %lld",
                elapsed, static_cast<long long>(finished), static_cast<long long>(total_),
                total_ > 0 ? 100.0 * static_cast<double>(finished) / static_cast<double>(total_) : 100.0,
                static_cast<long long>(written), rate, finished >= total_ ? "0s" : duration_text(eta).c_str(),
                static_cast<long long>(remeasures), static_cast<long long>(failed));
  if (tty_) {
    std::printf("\r%-110s", line);
  } else {
    std::printf("%s\n", line);
  }
  std::fflush(stdout);
  open_line_ = tty_;
}

void progress_printer::finish_line() {
  if (open_line_) std::printf("\n");
  open_line_ = false;
}

namespace {

/// Median and maximum of `v` (NaN, NaN when empty).
std::pair<double, double> median_max(std::vector<double> v) {
  if (v.empty()) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.back()};
}

}  // namespace

void print_timings(const cluster::communicator& world, const phase_timings& t, const dataset::io_stats& io) {
  wire::writer w;
  w(io.batch_write_seconds), w(io.batch_flush_seconds), w(peak_rss_mib()), w(cpu_seconds()), w(t.round_wait_s);
  const auto all = all_gather(world, w.take());
  const double broadcast_s = max(world, t.broadcast_s), decode_s = max(world, t.decode_s);
  const double bind_s = max(world, t.bind_s), open_s = max(world, t.open_s);
  if (world.rank() != 0) return;
  std::vector<double> write_max(io.batch_write_seconds.size(), 0.0), flush_max(io.batch_flush_seconds.size(), 0.0);
  std::vector<double> rss, cpu, wait;
  for (const auto& bytes : all) {
    wire::reader r(bytes);
    std::vector<double> writes, flushes;
    double mib = 0, cpu_s = 0, wait_s = 0;
    r(writes), r(flushes), r(mib), r(cpu_s), r(wait_s);
    cpu.push_back(cpu_s);
    wait.push_back(wait_s);
    for (std::size_t i = 0; i < std::min(writes.size(), write_max.size()); ++i) write_max[i] = std::max(write_max[i], writes[i]);
    for (std::size_t i = 0; i < std::min(flushes.size(), flush_max.size()); ++i) flush_max[i] = std::max(flush_max[i], flushes[i]);
    rss.push_back(mib);
  }
  const auto total = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); };
  const auto [write_median, write_max_s] = median_max(write_max);
  const auto [flush_median, flush_max_s] = median_max(flush_max);
  const double rank0_mib = rss.front();
  const auto [rss_median, rss_max] = median_max(rss);
  std::printf("esm profile: timings: plan_s=%.3f inspect_s=%.3f broadcast_s=%.3f broadcast_bytes=%llu decode_s=%.3f "
              "bind_s=%.3f create_s=%.3f open_s=%.3f (slowest rank for broadcast, decode, bind, open)\n",
              t.plan_s, t.inspect_s, broadcast_s, static_cast<unsigned long long>(t.broadcast_bytes), decode_s, bind_s,
              t.create_s, open_s);
  std::printf("esm profile: timings: writes=%zu write_s_median=%.4f write_s_max=%.4f write_s_total=%.3f "
              "flush_s_median=%.4f flush_s_max=%.4f flush_s_total=%.3f (slowest rank per write)\n",
              write_max.size(), write_median, write_max_s, total(write_max), flush_median, flush_max_s,
              total(flush_max));
  // CPU time says whether a run on oversubscribed cores was bound by them rather than by esm's
  // coordination: all ranks' CPU seconds over the cores is a floor of the wall time.
  const auto [wait_median, wait_max] = median_max(wait);
  std::printf("esm profile: timings: cpu_s_rank0=%.2f cpu_s_total=%.2f round_wait_s_median=%.3f round_wait_s_max=%.3f "
              "(per rank, summed over the rounds)\n",
              cpu.front(), total(cpu), wait_median, wait_max);
  std::printf("esm profile: timings: vmhwm_mib_rank0=%.1f vmhwm_mib_min=%.1f vmhwm_mib_median=%.1f "
              "vmhwm_mib_max=%.1f ranks=%zu\n",
              rank0_mib, *std::min_element(rss.begin(), rss.end()), rss_median, rss_max, rss.size());
  std::fflush(stdout);
}

}  // namespace esm::profile
