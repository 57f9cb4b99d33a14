// Where one core's time goes when predicting from canonical texts (esm predict, esm.Predictor):
// parse (space::parse_any), encode (the model's encoder) and esm::predictor::predict as a whole,
// for one model file and a batch of sampled archs. CPU time of this process, best of `repeats`,
// printed as "key=value" lines (ns per arch and archs per CPU-second).
//
// usage: esm_bench_text_predict MODEL.h5 [batch=65536] [repeats=5] [seed=1]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <string>
#include <vector>

#include "esm/common/error.hpp"
#include "esm/predictor.hpp"
#include "esm/space/sampler.hpp"
#include "esm/space/space.hpp"

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

template <class F>
double best_ns_per_arch(int repeats, std::size_t batch, F&& f) {
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < repeats; ++r) {
    const double t0 = cpu_seconds();
    f();
    best = std::min(best, cpu_seconds() - t0);
  }
  return 1e9 * best / static_cast<double>(batch);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: esm_bench_text_predict MODEL.h5 [batch=65536] [repeats=5] [seed=1]\n");
    return 2;
  }
  try {
    const std::size_t batch = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 65536;
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
    const auto seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1;
    const auto p = esm::predictor::load(argv[1]);
    const auto& sp = esm::space::find_space(p.space());
    esm::space::sample_request req;
    req.count = batch;
    req.seed = seed;
    req.policy = esm::space::sample_policy::uniform;
    std::vector<std::string> texts;
    texts.reserve(batch);
    for (const auto& a : esm::space::sample_archs(sp, req)) texts.push_back(sp.format(a));

    std::vector<esm::space::arch> archs(batch);
    const double parse_ns = best_ns_per_arch(repeats, batch, [&] {
      for (std::size_t i = 0; i < batch; ++i) archs[i] = esm::space::parse_any(texts[i]);
    });
    double sink = 0;
    const double from_archs_ns = best_ns_per_arch(repeats, batch, [&] { sink += p.predict(archs).latency_ms[0]; });
    const double from_texts_ns = best_ns_per_arch(repeats, batch, [&] { sink += p.predict(texts).latency_ms[0]; });
    std::printf("model=%s\nspace=%s\nencoding=%s\nbatch=%zu\nrepeats=%d\n", argv[1], p.space().c_str(),
                p.encoding().c_str(), batch, repeats);
    std::printf("parse_ns_per_arch=%.0f\npredict_from_archs_ns_per_arch=%.0f\npredict_from_texts_ns_per_arch=%.0f\n",
                parse_ns, from_archs_ns, from_texts_ns);
    std::printf("archs_per_cpu_s_from_texts=%.0f\ncheck=%g\n", 1e9 / from_texts_ns, sink);
    return 0;
  } catch (const esm::error& e) {
    std::fprintf(stderr, "esm_bench_text_predict: %s\n", e.what());
    return 2;
  }
}
