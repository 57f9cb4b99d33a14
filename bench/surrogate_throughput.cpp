// Batched predict throughput of the default ensemble on one core: fits it on synthetic latencies
// of a 100-feature one-hot design, then times predict() over large batches and prints
// "key=value" lines (machine-readable). rows_per_s counts wall time; rows_per_cpu_s counts this
// process's CPU time, the one-core rate even when other jobs share the machine.
//
// usage: esm_bench_predict [batch_rows=65536] [min_seconds=2]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "esm/features/encoding.hpp"
#include "esm/space/sampler.hpp"
#include "esm/surrogate/ensemble.hpp"
#include "esm/surrogate/metrics.hpp"
#include "surrogate/synthetic_latency.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace esm::surrogate;
  const std::size_t batch = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 65536;
  const double min_seconds = argc > 2 ? std::strtod(argv[2], nullptr) : 2.0;
  if (batch == 0 || !(min_seconds > 0.0)) {
    std::fprintf(stderr, "usage: esm_bench_predict [batch_rows>0] [min_seconds>0]\n");
    return 2;
  }

  const auto train = testing::make_synthetic(1000, 1);
  const auto candidates = testing::make_synthetic(batch, 2);
  auto model = make_default_ensemble();
  const auto fit_start = clock_type::now();
  model->fit(train.x, train.y_ms, 42);
  const double fit_s = seconds_since(fit_start);

  std::vector<double> out(batch);
  model->predict_into(candidates.x, out);  // warm-up: page in the weights and the output buffer
  std::size_t rows = 0;
  std::size_t batches = 0;
  const auto start = clock_type::now();
  const std::clock_t cpu_start = std::clock();
  double elapsed = 0.0;
  do {
    model->predict_into(candidates.x, out);
    rows += batch;
    ++batches;
    elapsed = seconds_since(start);
  } while (elapsed < min_seconds);
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;

  // Built-in correctness check: the timed model must still be an accurate one.
  const double within_10 = within_share(out, candidates.y_ms, 0.10);

  std::printf("bench=surrogate_predict\n");
  std::printf("model=%s members=%zu features=%zu\n", std::string(model->kind()).c_str(), model->member_count(),
              candidates.x.cols);
  std::printf("batch_rows=%zu batches=%zu seconds=%.6f cpu_seconds=%.6f\n", batch, batches, elapsed, cpu_seconds);
  std::printf("rows_per_s=%.0f\n", static_cast<double>(rows) / elapsed);
  std::printf("rows_per_cpu_s=%.0f\n", static_cast<double>(rows) / cpu_seconds);
  std::printf("ns_per_row=%.3f\n", 1e9 * elapsed / static_cast<double>(rows));
  std::printf("fit_seconds=%.3f\n", fit_s);
  std::printf("check_within_10=%.4f\n", within_10);

  // Encode + predict: what a NAS loop pays per candidate. ofa-mbv3 archs (sampling not timed),
  // ESM's default FCC encoding, the default ensemble fitted on 1,000 archs labelled by their MACs
  // (any positive label does for timing).
  const auto& sp = esm::space::find_space("ofa-mbv3");
  const esm::features::encoder enc(sp, {esm::features::encoding_kind::fcc});
  esm::space::sample_request req;
  req.policy = esm::space::sample_policy::uniform;
  req.count = 1000;
  req.seed = 3;
  const auto train_archs = esm::space::sample_archs(sp, req);
  std::vector<double> macs;
  for (const auto& a : train_archs) macs.push_back(static_cast<double>(sp.build(a, 1).total_macs()) / 1e7);
  const auto train_x = enc.encode(train_archs);
  auto fcc_model = make_default_ensemble();
  fcc_model->fit(matrix_view(train_x.rows, train_x.cols, train_x.data), macs, 42);
  req.count = batch;
  req.seed = 4;
  const auto archs = esm::space::sample_archs(sp, req);
  std::size_t encoded = 0;
  const auto enc_start = clock_type::now();
  double enc_elapsed = 0.0;
  do {
    const auto x = enc.encode(archs);
    fcc_model->predict_into(matrix_view(x.rows, x.cols, x.data), out);
    encoded += batch;
    enc_elapsed = seconds_since(enc_start);
  } while (enc_elapsed < min_seconds);
  std::printf("encode_predict_features=%zu\n", enc.width());
  std::printf("encode_predict_rows_per_s=%.0f\n", static_cast<double>(encoded) / enc_elapsed);
  return 0;
}
