// libFuzzer target: latency datasets (HDF5) as `esm info`, `esm train` and `esm features` read
// them, from a real dataset (the seed corpus) changed by hdf5_mutator.hpp. A dataset that reads must be
// self-consistent enough for training-data extraction; one that does not read must say so with
// esm::error.
#include <cstddef>
#include <cstdint>

#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/train/training_data.hpp"
#include "fuzz_support.hpp"
#include "hdf5_mutator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = esm::fuzz::as_file(data, size, ".h5");
  try {
    const esm::dataset::contents c = esm::dataset::read(path, true);
    (void)esm::train::load_training_data(c, esm::train::label_kind::trimmed_mean);
    (void)esm::train::load_training_data(c, esm::train::label_kind::normalised);
  } catch (const esm::error&) {
  }
  esm::fuzz::require_no_open_hdf5_objects();
  return 0;
}
