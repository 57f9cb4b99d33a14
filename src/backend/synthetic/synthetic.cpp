// The "synthetic" backend: latencies computed from MACs plus seeded noise, after sleeping a set
// time. It measures nothing; it exists so that hundreds of ranks can exercise the distributed run
// (plan, broadcast, collective writes, resume) on a few cores. Datasets it makes say so
// (provenance attribute synthetic = 1) and esm train refuses them without --allow-synthetic.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend/factories.hpp"
#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/version.hpp"

namespace esm::backend {

namespace {

/// Latency model: a fixed overhead plus a throughput of 50 GMAC/s, times 1 + 2% normal noise.
constexpr double overhead_ms = 0.05;
constexpr double ms_per_mac = 1.0 / 50e6;
constexpr double relative_noise = 0.02;

class synthetic_executable final : public executable {
 public:
  synthetic_executable(const net::network& net, const compile_options& options)
      : batch_(net.input.n),
        mean_ms_(overhead_ms + static_cast<double>(net.total_macs()) * static_cast<double>(net.input.n) * ms_per_mac),
        arch_hash_(fnv1a64(net.arch.data(), net.arch.size())),
        seed_(options.seed),
        sleep_(std::chrono::duration<double, std::milli>(options.synthetic_sleep_ms)) {}

  void run() override { (void)timed_run_ms(); }

  /// The k-th call's value depends on (arch, seed, k) only: the same plan and policy give the same
  /// dataset on any rank count, which is what the scale tests compare.
  double timed_run_ms() override {
    if (sleep_.count() > 0) std::this_thread::sleep_for(sleep_);
    rng r(arch_hash_ ^ (seed_ * 0x9e3779b97f4a7c15ULL) ^ (calls_++ * 0xbf58476d1ce4e5b9ULL));
    return std::max(mean_ms_ * (1.0 + relative_noise * r.normal()), 0.5 * mean_ms_);
  }

  std::vector<float> output() override { return std::vector<float>(static_cast<std::size_t>(batch_), 0.0f); }

  std::string description() const override {
    return "synthetic: no network runs; latency = " + std::to_string(overhead_ms) + " ms + MACs / 50 GMAC/s, " +
           "2% seeded noise, after sleeping " + std::to_string(sleep_.count()) + " ms";
  }

 private:
  std::int64_t batch_;
  double mean_ms_;
  std::uint64_t arch_hash_;
  std::uint64_t seed_;
  std::chrono::duration<double, std::milli> sleep_;
  std::uint64_t calls_ = 0;
};

class synthetic_backend final : public backend {
 public:
  std::string_view name() const override { return "synthetic"; }
  std::string version() const override { return "esm synthetic " + version_string() + " (no measurement)"; }
  bool synthetic() const override { return true; }
  std::unique_ptr<executable> compile(const net::network& net, const compile_options& options) const override {
    if (!(options.synthetic_sleep_ms >= 0)) throw usage_error("synthetic backend: sleep must be >= 0 ms");
    return std::make_unique<synthetic_executable>(net, options);
  }
};

class simulated_device_query final : public device_query {
 public:
  explicit simulated_device_query(std::vector<std::string> uuids) : uuids_(std::move(uuids)) {}
  int count() const override { return static_cast<int>(uuids_.size()); }
  device_identity select(int ordinal) const override {
    if (ordinal < 0 || ordinal >= count()) {
      throw error("simulated device " + std::to_string(ordinal) + " does not exist (" + std::to_string(count()) + " shown)");
    }
    const auto& uuid = uuids_[static_cast<std::size_t>(ordinal)];
    char bus[24];
    std::snprintf(bus, sizeof bus, "0000:%02x:00.0", ordinal + 1);  // distinct, like real GPUs' slots
    return {ordinal, "simulated GPU", uuid, bus, uuid.rfind("MIG-", 0) == 0};
  }

 private:
  std::vector<std::string> uuids_;
};

}  // namespace

std::unique_ptr<device_query> make_simulated_device_query(std::vector<std::string> uuids) {
  return std::make_unique<simulated_device_query>(std::move(uuids));
}

std::unique_ptr<backend> make_synthetic_backend() { return std::make_unique<synthetic_backend>(); }

}  // namespace esm::backend
