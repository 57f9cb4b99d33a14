// Predicts one architecture's latency through the installed esm::predictor:
//   esm_consumer MODEL.h5 ARCH_TEXT  ->  "<latency_ms> <std_ms>" at full precision.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "esm/predictor.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: esm_consumer MODEL.h5 ARCH_TEXT\n");
    return 2;
  }
  try {
    const auto p = esm::predictor::load(argv[1]);
    const auto r = p.predict(std::vector<std::string>{argv[2]});
    std::printf("%.17g %.17g\n", r.latency_ms.at(0), r.std_ms.at(0));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esm_consumer: %s\n", e.what());
    return 1;
  }
}
