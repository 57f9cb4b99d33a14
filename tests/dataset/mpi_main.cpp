// GoogleTest main for tests that need MPI (a singleton MPI_Init: no launcher required).
#include <gtest/gtest.h>

#include "esm/dist/mpi.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  esm::dist::environment mpi;
  return RUN_ALL_TESTS();
}
