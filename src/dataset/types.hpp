// HDF5 compound types of the schema's rows: little-endian standard members at the C++ structs'
// offsets, used as both memory and file type (no conversion, so transfers stay collective).
#pragma once

#include <cstdint>

#include "esm/dataset/hdf5.hpp"
#include "esm/dataset/schema.hpp"

namespace esm::dataset::types {

/// `schema` before 3 leaves out eager_ms and graph_ms, which older files lack (a reader fills them with NaN).
[[nodiscard]] h5::datatype result_row(std::int64_t schema = dataset::schema_version);
/// `schema` 1 leaves out the threshold member, which version 1 files lack.
[[nodiscard]] h5::datatype drift_row(std::int64_t schema = dataset::schema_version);
[[nodiscard]] h5::datatype algo_row();
[[nodiscard]] h5::datatype rank_row();
[[nodiscard]] h5::datatype loop_row();

}  // namespace esm::dataset::types
