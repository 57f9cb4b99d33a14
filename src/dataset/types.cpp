// HDF5 compound types of the schema rows (layout contract: include/esm/dataset/schema.hpp).
#include "dataset/types.hpp"

#include <bit>
#include <cstddef>

#include "esm/common/error.hpp"
#include "esm/dataset/fields.hpp"
#include "esm/dataset/schema.hpp"

namespace esm::dataset::types {

static_assert(std::endian::native == std::endian::little,
              "the dataset stores little-endian rows byte for byte; add a conversion for big-endian hosts");

namespace {

template <class E>
h5::datatype enum_type(std::initializer_list<E> values) {
  h5::datatype t(ESM_H5(H5Tenum_create(H5T_STD_I32LE)));
  for (const E v : values) {
    const auto raw = static_cast<std::int32_t>(v);
    ESM_H5(H5Tenum_insert(t.get(), std::string(to_string(v)).c_str(), &raw));
  }
  return t;
}

h5::datatype enum_type(column_enum values) {
  switch (values) {
    case column_enum::row_status: return enum_type({row_status::pending, row_status::done, row_status::failed});
    case column_enum::error_code:
      return enum_type({error_code::none, error_code::compile_failed, error_code::run_failed, error_code::out_of_memory,
                        error_code::unstable, error_code::internal});
    case column_enum::drift_verdict:
      return enum_type({measure::drift_verdict::ok, measure::drift_verdict::drift, measure::drift_verdict::remeasured,
                        measure::drift_verdict::gave_up, measure::drift_verdict::common_mode,
                        measure::drift_verdict::transient});
    case column_enum::none: break;
  }
  throw error("not an enumerated column");
}

// The file type of a member: little-endian integers and IEEE doubles, char[N] as a NUL-terminated
// fixed-length string of N bytes.
h5::datatype file_type(std::uint64_t) { return h5::datatype(ESM_H5(H5Tcopy(H5T_STD_U64LE))); }
h5::datatype file_type(std::int64_t) { return h5::datatype(ESM_H5(H5Tcopy(H5T_STD_I64LE))); }
h5::datatype file_type(std::int32_t) { return h5::datatype(ESM_H5(H5Tcopy(H5T_STD_I32LE))); }
h5::datatype file_type(double) { return h5::datatype(ESM_H5(H5Tcopy(H5T_IEEE_F64LE))); }
template <std::size_t N>
h5::datatype file_type(const char (&)[N]) { return h5::string_type(N); }

/// The compound type of Row in files of schema version `schema`: fields.hpp's columns that exist
/// in that version, at their offsets in the struct.
template <class Row>
h5::datatype compound_of(std::int64_t schema) {
  h5::library_init();
  h5::datatype t(ESM_H5(H5Tcreate(H5T_COMPOUND, sizeof(Row))));
  const Row probe{};
  for_each_column(row_tag<Row>{}, [&](const column& c, auto member) {
    if (c.since_schema > schema) return;
    const auto type = c.values == column_enum::none ? file_type(probe.*member) : enum_type(c.values);
    ESM_H5(H5Tinsert(t.get(), std::string(c.name).c_str(), offset_of(member), type.get()));
  });
  return t;
}

}  // namespace

h5::datatype result_row(std::int64_t schema) { return compound_of<dataset::result_row>(schema); }
h5::datatype drift_row(std::int64_t schema) { return compound_of<dataset::drift_row>(schema); }
h5::datatype algo_row() { return compound_of<dataset::algo_row>(schema_version); }
h5::datatype rank_row() { return compound_of<dataset::rank_row>(schema_version); }
h5::datatype loop_row() { return compound_of<dataset::loop_row>(schema_version); }

}  // namespace esm::dataset::types
