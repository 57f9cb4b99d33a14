// libFuzzer target: model files (HDF5) as `esm predict` and esm::predictor read them, from
// real model files (the seed corpus) changed by hdf5_mutator.hpp. A model that loads must predict a valid
// architecture of its space without touching memory it does not own; a model that does not load
// must say so with esm::error.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/predictor.hpp"
#include "esm/space/space.hpp"
#include "fuzz_support.hpp"
#include "hdf5_mutator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = esm::fuzz::as_file(data, size, ".model.h5");
  try {
    const esm::predictor p = esm::predictor::load(path);
    const auto& space = esm::space::find_space(p.space());
    esm::rng r(7);
    std::vector<esm::space::arch> archs;
    for (int i = 0; i < 3; ++i) archs.push_back(space.sample_independent(r, {}));
    const auto result = p.predict(archs);
    if (result.latency_ms.size() != archs.size() || result.std_ms.size() != archs.size()) __builtin_trap();
  } catch (const esm::error&) {
  }
  esm::fuzz::require_no_open_hdf5_objects();
  return 0;
}
