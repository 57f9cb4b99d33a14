# The dependency stack (Debian 12 packages; scripts/install-deps.sh installs them).
if(ESM_GPU_ONLY)
  return()
endif()

find_package(MPI REQUIRED COMPONENTS CXX)

set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "esm needs the parallel (MPI) build of HDF5, but found a serial one "
    "(${HDF5_C_INCLUDE_DIRS}). On Debian: apt-get install libhdf5-openmpi-dev")
endif()

find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(dnnl CONFIG REQUIRED)
find_package(xgboost CONFIG REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
# libcsv (Debian's libcsv-dev) has no CMake package: its header and static library.
find_path(ESM_CSV_INCLUDE_DIR csv.h)
find_library(ESM_CSV_LIBRARY csv)
if(NOT ESM_CSV_INCLUDE_DIR OR NOT ESM_CSV_LIBRARY)
  message(FATAL_ERROR "esm import needs libcsv. On Debian: apt-get install libcsv-dev")
endif()
if(ESM_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
