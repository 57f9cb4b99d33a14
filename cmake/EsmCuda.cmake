# ESM_WITH_CUDA=AUTO enables the cuDNN backend when nvcc and cuDNN are both found.
#
# cuDNN is looked for in ESM_CUDNN_ROOT (default: the environment's CUDNN_ROOT) first: a cuDNN
# installation or pip's nvidia/cudnn package directory (python3 -c "import nvidia.cudnn, os;
# print(os.path.dirname(nvidia.cudnn.__file__))"), whose lib/ may hold only libcudnn.so.9 (no
# unversioned libcudnn.so) and which may have no include/. Headers can then come from a separate
# copy: -DESM_CUDNN_INCLUDE_DIR=<dir with cudnn.h> (tools/gpu-check/gpu-check.sh passes tools/gpu-check/cudnn-include,
# a carried copy of /usr/local/cuda/include/cudnn*.h). Without ESM_CUDNN_ROOT, the CUDA toolkit's
# directories are searched.
set(ESM_CUDA_ENABLED OFF)
set(ESM_CUDNN_ROOT "$ENV{CUDNN_ROOT}" CACHE PATH "cuDNN installation or pip nvidia/cudnn package directory")
if(NOT ESM_WITH_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)  # A100, H100/H200; gpu-check passes `native`
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit)
    if(ESM_CUDNN_ROOT)
      string(FIND "${ESM_CUDNN_LIBRARY}" "${ESM_CUDNN_ROOT}" _cudnn_under_root)
      if(NOT _cudnn_under_root EQUAL 0)
        unset(ESM_CUDNN_LIBRARY CACHE)  # found elsewhere by an earlier configure: look in the root
      endif()
      find_library(ESM_CUDNN_LIBRARY NAMES cudnn libcudnn.so.9
        PATHS ${ESM_CUDNN_ROOT}/lib ${ESM_CUDNN_ROOT}/lib64 NO_DEFAULT_PATH)
      if(NOT ESM_CUDNN_LIBRARY)
        message(FATAL_ERROR "ESM_CUDNN_ROOT=${ESM_CUDNN_ROOT} has no lib/libcudnn.so or lib/libcudnn.so.9")
      endif()
      find_path(ESM_CUDNN_INCLUDE_DIR cudnn.h PATHS ${ESM_CUDNN_ROOT}/include NO_DEFAULT_PATH)
    endif()
    find_library(ESM_CUDNN_LIBRARY NAMES cudnn libcudnn.so.9
      HINTS ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}/lib)
    find_path(ESM_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
    if(ESM_CUDNN_INCLUDE_DIR AND NOT EXISTS "${ESM_CUDNN_INCLUDE_DIR}/cudnn.h")
      message(FATAL_ERROR "ESM_CUDNN_INCLUDE_DIR=${ESM_CUDNN_INCLUDE_DIR} has no cudnn.h")
    endif()
    if(CUDAToolkit_FOUND AND ESM_CUDNN_LIBRARY AND ESM_CUDNN_INCLUDE_DIR)
      set(ESM_CUDA_ENABLED ON)
    endif()
  endif()
  if(ESM_WITH_CUDA STREQUAL "ON" AND NOT ESM_CUDA_ENABLED)
    message(FATAL_ERROR "ESM_WITH_CUDA=ON but nvcc or cuDNN was not found "
      "(nvcc: '${CMAKE_CUDA_COMPILER}', cuDNN library: '${ESM_CUDNN_LIBRARY}', headers: '${ESM_CUDNN_INCLUDE_DIR}'; "
      "set CMAKE_CUDA_COMPILER, ESM_CUDNN_ROOT and, for a cuDNN without headers, ESM_CUDNN_INCLUDE_DIR)")
  endif()
endif()
if(ESM_CUDA_ENABLED)
  # C++17 for the few .cu files: CMake 3.25 knows no C++20 flag for nvcc.
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  set(_cudnn_header_version unknown)
  if(EXISTS "${ESM_CUDNN_INCLUDE_DIR}/cudnn_version.h")
    file(STRINGS "${ESM_CUDNN_INCLUDE_DIR}/cudnn_version.h" _cudnn_version_lines
      REGEX "^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) +[0-9]+")
    string(REGEX REPLACE ".*CUDNN_MAJOR +([0-9]+).*CUDNN_MINOR +([0-9]+).*CUDNN_PATCHLEVEL +([0-9]+).*" "\\1.\\2.\\3"
      _cudnn_header_version "${_cudnn_version_lines}")
  endif()
  message(STATUS "esm: cuDNN backend ON (library ${ESM_CUDNN_LIBRARY}, headers ${ESM_CUDNN_INCLUDE_DIR} "
    "version ${_cudnn_header_version}, archs ${CMAKE_CUDA_ARCHITECTURES})")
else()
  message(STATUS "esm: cuDNN backend OFF")
endif()
