// Test tool: writes a synthetic ofa-mbv3 latency dataset (tests/train/synthetic_dataset.hpp).
//   esm_make_synthetic_dataset PATH COUNT [NOISE] [SEED] [FAILED_EVERY] [RESOLUTION] [GROUP_SIZE] [GROUP_SD]
#include <cstdlib>
#include <iostream>

#include "esm/cluster/mpi.hpp"
#include "train/synthetic_dataset.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: esm_make_synthetic_dataset PATH COUNT [NOISE] [SEED] [FAILED_EVERY] [RESOLUTION] [GROUP_SIZE] [GROUP_SD]\n";
    return 2;
  }
  esm::cluster::environment mpi;
  esm::test::write_synthetic_dataset(argv[1], std::strtoull(argv[2], nullptr, 10), argc > 3 ? std::atof(argv[3]) : 0.0,
                                     argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 0,
                                     argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 0,
                                     argc > 6 ? std::atoi(argv[6]) : 0, argc > 7 ? std::strtoull(argv[7], nullptr, 10) : 0,
                                     argc > 8 ? std::atof(argv[8]) : 0.0);
  return 0;
}
