// A structure-aware libFuzzer mutator for esm's HDF5 files (datasets and model files).
//
// Raw byte flips mostly hit HDF5's own metadata; HDF5 1.10.8 (Debian 12) itself crashes on some of
// those (docs/reliability.md), and esm cannot fix libhdf5. What esm must survive is a well-formed
// HDF5 file whose *contents* are wrong: values, shapes, strings, missing objects. This mutator
// opens the input image in memory (core driver), changes one thing through the HDF5 API and
// returns the new image:
//   - the bytes of one dataset's data or one attribute's value (libFuzzer's own byte mutations),
//   - the first dimension of one extendible dataset (shrink or grow),
//   - one dataset or attribute deleted.
// ESM_FUZZ_RAW=1 switches back to plain byte mutations (to hunt libhdf5 bugs, not esm's).
// Including it defines the target's LLVMFuzzerInitialize and LLVMFuzzerCustomMutator.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "esm/dataset/hdf5.hpp"

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace esm::fuzz {

namespace h5 = esm::dataset::h5;

struct hdf5_target {
  std::string object;     ///< dataset path, or the object holding the attribute
  std::string attribute;  ///< empty for a dataset
};

inline herr_t collect_targets(hid_t root, const char* name, const H5O_info_t* info, void* out) {
  auto& targets = *static_cast<std::vector<hdf5_target>*>(out);
  if (info->type == H5O_TYPE_DATASET) targets.push_back({name, ""});
  const hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
  if (obj < 0) return 0;
  for (hsize_t i = 0; i < info->num_attrs; ++i) {
    char attr[256];
    if (H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, attr, sizeof attr, H5P_DEFAULT) > 0) {
      targets.push_back({name, attr});
    }
  }
  H5Oclose(obj);
  return 0;
}

/// Mutates the raw bytes of a dataset's or attribute's value in place (fixed-size types only).
inline bool mutate_value(hid_t obj, const hdf5_target& t) {
  const bool is_attr = !t.attribute.empty();
  const hid_t handle = is_attr ? H5Aopen(obj, t.attribute.c_str(), H5P_DEFAULT) : H5Dopen2(obj, t.object.c_str(), H5P_DEFAULT);
  if (handle < 0) return false;
  const hid_t type = is_attr ? H5Aget_type(handle) : H5Dget_type(handle);
  const hid_t space = is_attr ? H5Aget_space(handle) : H5Dget_space(handle);
  bool done = false;
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  const std::size_t bytes = static_cast<std::size_t>(n) * H5Tget_size(type);
  if (n > 0 && H5Tdetect_class(type, H5T_VLEN) == 0 && H5Tis_variable_str(type) == 0 && bytes <= (std::size_t{1} << 22)) {
    std::vector<std::uint8_t> buf(bytes);
    const herr_t read = is_attr ? H5Aread(handle, type, buf.data()) : H5Dread(handle, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
    if (read >= 0) {
      LLVMFuzzerMutate(buf.data(), bytes, bytes);
      done = (is_attr ? H5Awrite(handle, type, buf.data()) : H5Dwrite(handle, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data())) >= 0;
    }
  }
  H5Sclose(space);
  H5Tclose(type);
  if (is_attr) H5Aclose(handle); else H5Dclose(handle);
  return done;
}

/// Sets the first dimension of an extendible dataset to a random size (rows lost or added).
inline bool resize(hid_t root, const std::string& path, std::mt19937& rng) {
  const hid_t d = H5Dopen2(root, path.c_str(), H5P_DEFAULT);
  if (d < 0) return false;
  bool done = false;
  const hid_t space = H5Dget_space(d);
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank >= 1 && rank <= 4) {
    hsize_t dims[4], max[4];
    H5Sget_simple_extent_dims(space, dims, max);
    if (max[0] == H5S_UNLIMITED) {
      dims[0] = std::uniform_int_distribution<hsize_t>(0, 2 * dims[0] + 2)(rng);
      done = H5Dset_extent(d, dims) >= 0;
    }
  }
  H5Sclose(space);
  H5Dclose(d);
  return done;
}

/// One structured mutation of the HDF5 image in `data`; returns the new size (the old one when
/// nothing could be changed or the result would not fit).
inline std::size_t mutate_hdf5(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed) {
  static const bool raw = std::getenv("ESM_FUZZ_RAW") != nullptr;
  if (raw || size < 8 || std::memcmp(data, "\x89HDF\r\n\x1a\n", 8) != 0) return LLVMFuzzerMutate(data, size, max_size);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_core(fapl, 1 << 16, 0);
  H5Pset_file_image(fapl, data, size);
  const hid_t file = H5Fopen("esm-fuzz-image.h5", H5F_ACC_RDWR, fapl);
  H5Pclose(fapl);
  if (file < 0) return LLVMFuzzerMutate(data, size, max_size);

  std::vector<hdf5_target> targets;
  H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, collect_targets, &targets, H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS);
  std::mt19937 rng(seed);
  bool changed = false;
  for (int attempt = 0; attempt < 4 && !changed && !targets.empty(); ++attempt) {
    const auto& t = targets[std::uniform_int_distribution<std::size_t>(0, targets.size() - 1)(rng)];
    const int action = std::uniform_int_distribution<int>(0, 9)(rng);
    if (action < 7) {  // mostly values: where esm's validation lives
      const hid_t obj = t.attribute.empty() ? H5Gopen2(file, "/", H5P_DEFAULT) : H5Oopen(file, t.object.c_str(), H5P_DEFAULT);
      if (obj >= 0) {
        changed = mutate_value(obj, t);
        H5Oclose(obj);
      }
    } else if (action < 9) {
      changed = t.attribute.empty() && resize(file, t.object, rng);
    } else if (t.attribute.empty()) {
      changed = H5Ldelete(file, t.object.c_str(), H5P_DEFAULT) >= 0;
    } else {
      changed = H5Adelete_by_name(file, t.object.c_str(), t.attribute.c_str(), H5P_DEFAULT) >= 0;
    }
  }
  std::size_t out = size;
  if (changed) {
    try {
      const std::vector<char> image = h5::file_image(file);
      if (image.size() <= max_size) {
        std::memcpy(data, image.data(), image.size());
        out = image.size();
      }
    } catch (const std::exception&) {
    }
  }
  H5Fclose(file);
  return out;
}

}  // namespace esm::fuzz

// The HDF5 targets' libFuzzer hooks (this header is included by exactly one file per target).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // HDF5's error stacks: pure noise (and time) here
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned seed) {
  return esm::fuzz::mutate_hdf5(data, size, max_size, seed);
}
