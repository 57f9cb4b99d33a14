// Shared bits of esm's libFuzzer targets: the input as a file (the readers under test take paths)
// and the one rule every target enforces — bad input may only ever surface as esm::error.
#pragma once

#include <hdf5.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace esm::fuzz {

/// Writes the input to a per-process file and returns its path (rewritten on every call).
inline const std::string& as_file(const std::uint8_t* data, std::size_t size, const char* suffix) {
  static const std::string path = [suffix] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir ? dir : "/tmp") + "/esm_fuzz." + std::to_string(getpid()) + suffix;
  }();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) {
    std::perror("esm fuzz: cannot write the input file");
    std::abort();
  }
  return path;
}

/// Every handle esm opened on the input must be closed again, whether the read succeeded or not
/// (esm's RAII wrappers): a leftover HDF5 object is a bug, reported as a crash.
inline void require_no_open_hdf5_objects() {
  const ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open != 0) {
    std::fprintf(stderr, "esm fuzz: %zd HDF5 objects left open after the input\n", open);
    std::abort();
  }
}

}  // namespace esm::fuzz
