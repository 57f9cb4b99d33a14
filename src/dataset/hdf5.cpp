// The checked-call helper, error-stack walking and the small helpers of the HDF5 layer.
#include "esm/dataset/hdf5.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <mutex>

// HDF5's own checksum routine (exported by libhdf5 since 1.8.7, not declared in its public headers).
extern "C" std::uint32_t H5_checksum_metadata(const void* data, std::size_t len, std::uint32_t initval);

namespace esm::dataset::h5 {

void library_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

namespace {

herr_t walk_one(unsigned depth, const H5E_error2_t* e, void* out) {
  auto& text = *static_cast<std::string*>(out);
  char major[128] = "", minor[128] = "";
  H5Eget_msg(e->maj_num, nullptr, major, sizeof major);
  H5Eget_msg(e->min_num, nullptr, minor, sizeof minor);
  text += depth == 0 ? "" : " <- ";
  text += std::string(e->func_name ? e->func_name : "?") + "(): " + (e->desc ? e->desc : "") + " [" + major + ": " +
          minor + "]";
  return 0;
}

}  // namespace

std::string walk_error_stack() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_one, &text);
  H5Eclear2(H5E_DEFAULT);
  return text.empty() ? "(HDF5 reported no error stack)" : text;
}

void throw_error(std::string_view call, std::source_location where) {
  const std::string source = std::filesystem::path(where.file_name()).filename().string();
  throw hdf5_error(std::string(call.substr(0, call.find('('))) + " failed at " + source + ":" +
                   std::to_string(where.line()) + ": " + walk_error_stack());
}

void check_noexcept(herr_t result, std::string_view call) noexcept {
  if (result >= 0) return;
  if (std::uncaught_exceptions() > 0) {  // closing after an error: that error is the one reported
    H5Eclear2(H5E_DEFAULT);
    return;
  }
  try {
    std::cerr << "esm: warning: " << call << " failed: " << walk_error_stack() << '\n';
  } catch (...) {
  }
}

// ---- settings -----------------------------------------------------------------------------------

void mpio_file_access::apply(hid_t fapl) const { ESM_H5(H5Pset_fapl_mpio(fapl, comm, info)); }

void collective_metadata::apply(hid_t fapl) const {
  ESM_H5(H5Pset_all_coll_metadata_ops(fapl, reads));
  ESM_H5(H5Pset_coll_metadata_write(fapl, writes));
}

void file_locking::apply(hid_t fapl) const { ESM_H5(H5Pset_file_locking(fapl, use, ignore_when_disabled)); }

void format_1_8::apply(hid_t fapl) const { ESM_H5(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18)); }

void transfer_mode::apply(hid_t dxpl) const {
  ESM_H5(H5Pset_dxpl_mpio(dxpl, collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT));
}

plist make_plist(hid_t plist_class) {
  library_init();
  return plist(ESM_H5(H5Pcreate(plist_class)));
}

std::vector<char> file_image(hid_t core_file) {
  ESM_H5(H5Fflush(core_file, H5F_SCOPE_GLOBAL));
  std::vector<char> image(static_cast<std::size_t>(ESM_H5(H5Fget_file_image(core_file, nullptr, 0))));
  ESM_H5(H5Fget_file_image(core_file, image.data(), image.size()));
  // Superblock v2: signature (8), version, offset size, length size, status flags, then four
  // addresses, then the checksum of everything before it.
  if (image.size() < 12 || image[8] != 2) throw hdf5_error("file image: unexpected superblock version");
  const std::size_t checksummed = 12 + 4 * static_cast<std::size_t>(static_cast<unsigned char>(image[9]));
  if (image.size() < checksummed + 4) throw hdf5_error("file image: truncated superblock");
  const std::uint32_t sum = H5_checksum_metadata(image.data(), checksummed, 0);
  std::memcpy(image.data() + checksummed, &sum, sizeof sum);  // little-endian, as HDF5 stores it
  return image;
}

std::string no_collective_cause(hid_t dxpl) {
  std::uint32_t local = 0, global = 0;
  ESM_H5(H5Pget_mpio_no_collective_cause(dxpl, &local, &global));
  if (global == H5D_MPIO_COLLECTIVE) return {};
  static constexpr std::pair<std::uint32_t, const char*> causes[] = {
      {H5D_MPIO_SET_INDEPENDENT, "independent transfer requested"},
      {H5D_MPIO_DATATYPE_CONVERSION, "datatype conversion"},
      {H5D_MPIO_DATA_TRANSFORMS, "data transforms"},
      {H5D_MPIO_MPI_OPT_TYPES_ENV_VAR_DISABLED, "MPI derived types disabled"},
      {H5D_MPIO_NOT_SIMPLE_OR_SCALAR_DATASPACES, "not simple or scalar dataspaces"},
      {H5D_MPIO_NOT_CONTIGUOUS_OR_CHUNKED_DATASET, "neither contiguous nor chunked"},
      {H5D_MPIO_PARALLEL_FILTERED_WRITES_DISABLED, "filtered writes disabled"},
      {H5D_MPIO_ERROR_WHILE_CHECKING_COLLECTIVE_POSSIBLE, "error while checking"},
  };
  std::string text;
  for (const auto& [bit, name] : causes) {
    if (global & bit) text += (text.empty() ? "" : ", ") + std::string(name);
  }
  return text.empty() ? "unknown cause" : text;
}

// ---- types --------------------------------------------------------------------------------------

datatype string_type(std::size_t bytes) {
  library_init();
  datatype t(ESM_H5(H5Tcopy(H5T_C_S1)));
  ESM_H5(H5Tset_size(t.get(), std::max<std::size_t>(bytes, 1)));
  ESM_H5(H5Tset_strpad(t.get(), H5T_STR_NULLTERM));
  return t;
}

template <> hid_t standard_type<std::int32_t>() { return H5T_STD_I32LE; }
template <> hid_t standard_type<std::int64_t>() { return H5T_STD_I64LE; }
template <> hid_t standard_type<std::uint64_t>() { return H5T_STD_U64LE; }
template <> hid_t standard_type<double>() { return H5T_IEEE_F64LE; }
template <> hid_t standard_type<float>() { return H5T_IEEE_F32LE; }

// ---- attributes ---------------------------------------------------------------------------------

namespace {

std::string name_z(std::string_view name) { return std::string(name); }

void write_raw_attribute(hid_t obj, std::string_view name, hid_t type, hid_t space, const void* data) {
  library_init();
  delete_attribute(obj, name);
  attribute a(ESM_H5(H5Acreate2(obj, name_z(name).c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT)));
  ESM_H5(H5Awrite(a.get(), type, data));
}

template <class T>
void write_scalar(hid_t obj, std::string_view name, T value) {
  dataspace space(ESM_H5(H5Screate(H5S_SCALAR)));
  write_raw_attribute(obj, name, standard_type<T>(), space.get(), &value);
}

template <class T>
T read_scalar(hid_t obj, std::string_view name) {
  library_init();
  attribute a(ESM_H5(H5Aopen(obj, name_z(name).c_str(), H5P_DEFAULT)));
  T value{};
  ESM_H5(H5Aread(a.get(), standard_type<T>(), &value));
  return value;
}

}  // namespace

void write_attribute(hid_t obj, std::string_view name, std::string_view value) {
  const auto type = string_type(value.size() + 1);
  dataspace space(ESM_H5(H5Screate(H5S_SCALAR)));
  const std::string terminated(value);  // c_str() supplies the terminator
  write_raw_attribute(obj, name, type.get(), space.get(), terminated.c_str());
}

void write_attribute(hid_t obj, std::string_view name, std::int64_t value) { write_scalar(obj, name, value); }
void write_attribute(hid_t obj, std::string_view name, std::uint64_t value) { write_scalar(obj, name, value); }
void write_attribute(hid_t obj, std::string_view name, double value) { write_scalar(obj, name, value); }

void write_attribute(hid_t obj, std::string_view name, const std::vector<std::string>& values) {
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size() + 1);
  const auto type = string_type(width);
  const hsize_t n = values.size();
  dataspace space(ESM_H5(H5Screate_simple(1, &n, nullptr)));
  std::string packed(width * values.size(), '\0');
  for (std::size_t i = 0; i < values.size(); ++i) std::memcpy(packed.data() + i * width, values[i].data(), values[i].size());
  write_raw_attribute(obj, name, type.get(), space.get(), packed.data());
}

void delete_attribute(hid_t obj, std::string_view name) {
  if (has_attribute(obj, name)) ESM_H5(H5Adelete(obj, name_z(name).c_str()));
}

bool has_attribute(hid_t obj, std::string_view name) {
  library_init();
  return ESM_H5(H5Aexists(obj, name_z(name).c_str())) > 0;
}

std::string read_string_attribute(hid_t obj, std::string_view name) {
  library_init();
  attribute a(ESM_H5(H5Aopen(obj, name_z(name).c_str(), H5P_DEFAULT)));
  datatype stored(ESM_H5(H5Aget_type(a.get())));
  if (ESM_H5(H5Tget_class(stored.get())) != H5T_STRING || ESM_H5(H5Tis_variable_str(stored.get())) > 0) {
    throw hdf5_error("attribute '" + std::string(name) + "' is not a fixed-length string");
  }
  const std::size_t size = H5Tget_size(stored.get());
  const auto type = string_type(size);
  std::string value(size, '\0');
  ESM_H5(H5Aread(a.get(), type.get(), value.data()));
  value.resize(std::strlen(value.c_str()));
  return value;
}

std::vector<std::string> read_strings_attribute(hid_t obj, std::string_view name) {
  library_init();
  attribute a(ESM_H5(H5Aopen(obj, name_z(name).c_str(), H5P_DEFAULT)));
  datatype stored(ESM_H5(H5Aget_type(a.get())));
  dataspace space(ESM_H5(H5Aget_space(a.get())));
  const auto n = static_cast<std::size_t>(ESM_H5(H5Sget_simple_extent_npoints(space.get())));
  const std::size_t width = H5Tget_size(stored.get());
  const auto type = string_type(width);
  std::string packed(n * width, '\0');
  ESM_H5(H5Aread(a.get(), type.get(), packed.data()));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string v = packed.substr(i * width, width);
    v.resize(std::strlen(v.c_str()));
    out.push_back(std::move(v));
  }
  return out;
}

std::int64_t read_int_attribute(hid_t obj, std::string_view name) { return read_scalar<std::int64_t>(obj, name); }
std::uint64_t read_uint_attribute(hid_t obj, std::string_view name) { return read_scalar<std::uint64_t>(obj, name); }
double read_double_attribute(hid_t obj, std::string_view name) { return read_scalar<double>(obj, name); }

// ---- selections ---------------------------------------------------------------------------------

std::vector<hsize_t> extent(hid_t dset) {
  dataspace space(ESM_H5(H5Dget_space(dset)));
  const int rank = ESM_H5(H5Sget_simple_extent_ndims(space.get()));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  ESM_H5(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr));
  return dims;
}

std::size_t stored_elements(hid_t dset, std::string_view what) {
  const dataspace space(ESM_H5(H5Dget_space(dset)));
  const auto n = static_cast<hsize_t>(ESM_H5(H5Sget_simple_extent_npoints(space.get())));
  if (n == 0) return 0;
  const datatype type(ESM_H5(H5Dget_type(dset)));
  const std::size_t element_bytes = H5Tget_size(type.get());
  const hsize_t stored_bytes = H5Dget_storage_size(dset);
  if (element_bytes == 0 || n > stored_bytes / element_bytes) {
    throw file_error(std::string(what) + " claims " + std::to_string(n) + " elements of " + std::to_string(element_bytes) +
                     " bytes but the file stores " + std::to_string(stored_bytes) + " bytes for it (damaged file)");
  }
  return static_cast<std::size_t>(n);
}

namespace {

/// The union of the row runs [first, last) of `runs` (first, count pairs) on a copy of `whole`.
/// HDF5 1.10 merges each H5S_SELECT_OR into the selection's span tree at a cost that grows with
/// the spans already there, so OR-ing n runs one by one costs O(n^2): 14 s for 10,000 scattered
/// rows (a 2-rank synthetic run of 100,000 archs spent 91% of its wall time there). Halves are
/// built separately and combined (H5Scombine_select, linear in both): O(n log n), 0.07 s.
dataspace union_of_runs(hid_t whole, const std::vector<std::pair<hsize_t, hsize_t>>& runs, std::size_t lo,
                        std::size_t hi, std::vector<hsize_t>& start, std::vector<hsize_t>& count) {
  constexpr std::size_t linear_below = 64;  // few spans: plain OR-ing is cheapest
  if (hi - lo <= linear_below) {
    dataspace space(ESM_H5(H5Scopy(whole)));
    for (std::size_t i = lo; i < hi; ++i) {
      start[0] = runs[i].first;
      count[0] = runs[i].second;
      ESM_H5(H5Sselect_hyperslab(space.get(), i == lo ? H5S_SELECT_SET : H5S_SELECT_OR, start.data(), nullptr,
                                 count.data(), nullptr));
    }
    return space;
  }
  const std::size_t mid = lo + (hi - lo) / 2;
  const auto left = union_of_runs(whole, runs, lo, mid, start, count);
  const auto right = union_of_runs(whole, runs, mid, hi, start, count);
  return dataspace(ESM_H5(H5Scombine_select(left.get(), H5S_SELECT_OR, right.get())));
}

}  // namespace

dataspace select_rows(hid_t dset, const std::vector<hsize_t>& rows) {
  dataspace space(ESM_H5(H5Dget_space(dset)));
  if (rows.empty()) {
    ESM_H5(H5Sselect_none(space.get()));
    return space;
  }
  const int rank = ESM_H5(H5Sget_simple_extent_ndims(space.get()));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  ESM_H5(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr));
  std::vector<hsize_t> start(dims.size(), 0), count(dims);
  // Runs of consecutive rows become one hyperslab each: fewer, larger blocks for MPI-IO.
  std::vector<std::pair<hsize_t, hsize_t>> runs;
  for (std::size_t i = 0; i < rows.size();) {
    std::size_t j = i + 1;
    while (j < rows.size() && rows[j] == rows[j - 1] + 1) ++j;
    runs.emplace_back(rows[i], j - i);
    i = j;
  }
  return union_of_runs(space.get(), runs, 0, runs.size(), start, count);
}

dataspace select_row_range(hid_t dset, hsize_t first, hsize_t count) {
  std::vector<hsize_t> rows(count);
  for (hsize_t i = 0; i < count; ++i) rows[i] = first + i;
  return select_rows(dset, rows);
}

dataspace memory_rows(hsize_t rows, hsize_t row_elements) {
  library_init();
  const hsize_t dims[2] = {std::max<hsize_t>(rows, 1), row_elements};
  dataspace space(ESM_H5(H5Screate_simple(row_elements == 0 ? 1 : 2, dims, nullptr)));
  if (rows == 0) ESM_H5(H5Sselect_none(space.get()));
  return space;
}

}  // namespace esm::dataset::h5
