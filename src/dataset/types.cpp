// HDF5 compound types of the schema rows (layout contract: include/esm/dataset/schema.hpp).
#include "dataset/types.hpp"

#include <bit>
#include <cstddef>

#include "esm/dataset/schema.hpp"

namespace esm::dataset::types {

static_assert(std::endian::native == std::endian::little,
              "the dataset stores little-endian rows byte for byte; add a conversion for big-endian hosts");

namespace {

#define ESM_MEMBER(type, row, field, member_type) \
  ESM_H5(H5Tinsert((type).get(), #field, offsetof(row, field), (member_type)))
// A char[N] field: a NUL-terminated fixed-length string of N bytes.
#define ESM_STRING_MEMBER(type, row, field) ESM_MEMBER(type, row, field, h5::string_type(sizeof(row::field)).get())

template <class E>
h5::datatype enum_type(std::initializer_list<E> values) {
  h5::datatype t(ESM_H5(H5Tenum_create(H5T_STD_I32LE)));
  for (const E v : values) {
    const auto raw = static_cast<std::int32_t>(v);
    ESM_H5(H5Tenum_insert(t.get(), std::string(to_string(v)).c_str(), &raw));
  }
  return t;
}

h5::datatype compound(std::size_t size) {
  h5::library_init();
  return h5::datatype(ESM_H5(H5Tcreate(H5T_COMPOUND, size)));
}

}  // namespace

h5::datatype result_row(std::int64_t schema) {
  using row = dataset::result_row;
  auto t = compound(sizeof(row));
  const auto status = enum_type({row_status::pending, row_status::done, row_status::failed});
  const auto error = enum_type({error_code::none, error_code::compile_failed, error_code::run_failed,
                                error_code::out_of_memory, error_code::unstable, error_code::internal});
  ESM_MEMBER(t, row, arch_id, H5T_STD_U64LE);
  ESM_MEMBER(t, row, trimmed_mean_ms, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, median_ms, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, mean_ms, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, std_ms, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, min_ms, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, max_ms, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, p10_ms, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, p90_ms, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, reference_ms, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, normalised, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, start_unix_s, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, end_unix_s, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, status, status.get());
  ESM_MEMBER(t, row, run, H5T_STD_I32LE);
  ESM_MEMBER(t, row, rank, H5T_STD_I32LE);
  ESM_MEMBER(t, row, device, H5T_STD_I32LE);
  ESM_MEMBER(t, row, n, H5T_STD_I32LE);
  ESM_MEMBER(t, row, remeasures, H5T_STD_I32LE);
  ESM_MEMBER(t, row, error_code, error.get());
  ESM_STRING_MEMBER(t, row, error_message);
  if (schema >= 3) {
    ESM_MEMBER(t, row, eager_ms, H5T_IEEE_F64LE);
    ESM_MEMBER(t, row, graph_ms, H5T_IEEE_F64LE);
  }
  return t;
}

h5::datatype drift_row(std::int64_t schema) {
  using row = dataset::drift_row;
  auto t = compound(sizeof(row));
  const auto verdict = enum_type({measure::drift_verdict::ok, measure::drift_verdict::drift, measure::drift_verdict::remeasured,
                                 measure::drift_verdict::gave_up});
  ESM_MEMBER(t, row, time_unix_s, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, reference_ms, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, baseline_ms, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, relative_change, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, arch_row, H5T_STD_I64LE);
  ESM_MEMBER(t, row, run, H5T_STD_I32LE);
  ESM_MEMBER(t, row, rank, H5T_STD_I32LE);
  ESM_MEMBER(t, row, verdict, verdict.get());
  ESM_MEMBER(t, row, window, H5T_STD_I32LE);
  if (schema >= 2) ESM_MEMBER(t, row, threshold, H5T_IEEE_F64LE);
  return t;
}

h5::datatype algo_row() {
  using row = dataset::algo_row;
  auto t = compound(sizeof(row));
  ESM_MEMBER(t, row, workspace_bytes, H5T_STD_U64LE);
  ESM_MEMBER(t, row, arch_row, H5T_STD_I64LE);
  ESM_MEMBER(t, row, run, H5T_STD_I32LE);
  ESM_MEMBER(t, row, rank, H5T_STD_I32LE);
  ESM_MEMBER(t, row, layer, H5T_STD_I32LE);
  ESM_MEMBER(t, row, algo_id, H5T_STD_I32LE);
  ESM_STRING_MEMBER(t, row, name);
  return t;
}

h5::datatype rank_row() {
  using row = dataset::rank_row;
  auto t = compound(sizeof(row));
  ESM_MEMBER(t, row, run, H5T_STD_I32LE);
  ESM_MEMBER(t, row, rank, H5T_STD_I32LE);
  ESM_MEMBER(t, row, local_rank, H5T_STD_I32LE);
  ESM_MEMBER(t, row, local_size, H5T_STD_I32LE);
  ESM_MEMBER(t, row, device, H5T_STD_I32LE);
  ESM_MEMBER(t, row, threads, H5T_STD_I32LE);
  ESM_STRING_MEMBER(t, row, host);
  ESM_STRING_MEMBER(t, row, device_name);
  ESM_STRING_MEMBER(t, row, device_uuid);
  ESM_STRING_MEMBER(t, row, pci_bus_id);
  ESM_STRING_MEMBER(t, row, cpus);
  return t;
}

h5::datatype loop_row() {
  using row = dataset::loop_row;
  auto t = compound(sizeof(row));
  ESM_MEMBER(t, row, samples, H5T_STD_U64LE);
  ESM_MEMBER(t, row, n, H5T_STD_U64LE);
  ESM_MEMBER(t, row, within_10, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, threshold, H5T_IEEE_F64LE);
  ESM_MEMBER(t, row, iteration, H5T_STD_I32LE);
  ESM_MEMBER(t, row, bin, H5T_STD_I32LE);
  ESM_MEMBER(t, row, stop, H5T_STD_I32LE);
  ESM_MEMBER(t, row, next_count, H5T_STD_I32LE);
  ESM_STRING_MEMBER(t, row, strategy);
  ESM_STRING_MEMBER(t, row, model);
  ESM_STRING_MEMBER(t, row, decision);
  return t;
}

#undef ESM_STRING_MEMBER
#undef ESM_MEMBER

}  // namespace esm::dataset::types
