// Parallel-HDF5 building blocks shared by the dataset's writers (dataset.cpp: create and the
// writer; extend.cpp: growing the plan and the /loop table). Private to src/dataset.
#pragma once

#include <mpi.h>

#include <vector>

#include "esm/dataset/hdf5.hpp"

namespace esm::dataset::detail {

/// File access through MPI-IO on `comm`, collective metadata, file locking, the 1.8 format.
[[nodiscard]] h5::plist parallel_fapl(MPI_Comm comm);
/// Collective raw-data transfers.
[[nodiscard]] h5::plist collective_dxpl();
/// A dataset of `dims` rows, chunked with an unlimited first dimension, allocated early and filled
/// with `fill` (when given) at allocation, at creation and at every extension.
h5::dataset make_growable(hid_t loc, const char* name, hid_t type, const std::vector<hsize_t>& dims, const void* fill);
/// Extendible table: 0 rows, unlimited, chunked by `chunk_rows`.
h5::dataset make_table(hid_t loc, const char* name, hid_t type, hsize_t chunk_rows);
/// Collective write of whole rows of `dset`: this rank's `rows` (sorted, unique) from `data`.
void write_rows(hid_t dset, hid_t type, const std::vector<hsize_t>& rows, hsize_t row_elements, const void* data,
                hid_t dxpl);

}  // namespace esm::dataset::detail
