// GoogleTest main for tests that need MPI (a singleton MPI_Init: no launcher required).
#include <gtest/gtest.h>

#include "esm/cluster/mpi.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  esm::cluster::environment mpi;
  return RUN_ALL_TESTS();
}
