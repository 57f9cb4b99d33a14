// The HDF5 layer: one move-only owner per hid_t kind, one checked-call helper, and the parallel
// settings as small objects applied to property lists (HighFive's habits, without HighFive).
//
// Every HDF5 C call goes through ESM_H5(call): a negative result (or H5I_INVALID_HID) throws
// esm::hdf5_error carrying the call text, the caller's source location and HDF5's own error stack
// walked innermost-last with H5Ewalk2. HDF5's automatic stack printing is switched off once, by
// the first call of library_init() (every owner and helper here calls it).
#pragma once

#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "esm/common/error.hpp"

namespace esm {

/// An HDF5 call failed. what(): "H5Dwrite(...) failed at file.cpp:123: <walked HDF5 stack>".
class hdf5_error : public error {
 public:
  using error::error;
};

}  // namespace esm

namespace esm::dataset::h5 {

/// Switches HDF5's automatic error printing off (errors are reported through hdf5_error). Idempotent.
void library_init();

/// The current HDF5 error stack as one line, innermost error last; clears the stack.
[[nodiscard]] std::string walk_error_stack();

[[noreturn]] void throw_error(std::string_view call, std::source_location where);

/// Throws hdf5_error when `result` is negative (herr_t, htri_t, hid_t, hssize_t all signal failure so).
template <class T>
T check(T result, std::string_view call, std::source_location where = std::source_location::current()) {
  if (result < 0) throw_error(call, where);
  return result;
}

/// For destructors: logs a failed close on stderr instead of throwing; quiet (the error stack is
/// dropped) while an exception unwinds, since the error that started it is the one reported.
void check_noexcept(herr_t result, std::string_view call) noexcept;

}  // namespace esm::dataset::h5

/// Checked HDF5 call: ESM_H5(H5Dwrite(...)) returns the call's result or throws esm::hdf5_error.
#define ESM_H5(call) ::esm::dataset::h5::check((call), #call)

namespace esm::dataset::h5 {

/// Owner of one hid_t of the kind closed by `Close`. Move-only; raw ids cross into C calls via get().
template <herr_t (*Close)(hid_t)>
class handle {
 public:
  handle() = default;
  /// Takes ownership of `id`, which must be valid (callers pass ESM_H5(...) results).
  explicit handle(hid_t id) : id_(id) {}
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  handle(handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  handle& operator=(handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  ~handle() { reset(); }

  [[nodiscard]] hid_t get() const { return id_; }
  [[nodiscard]] explicit operator bool() const { return id_ >= 0; }
  /// Closes now, throwing on failure (closing a file flushes it: the error matters there).
  void close() {
    if (id_ >= 0) check(Close(std::exchange(id_, H5I_INVALID_HID)), "H5?close");
  }
  void reset() noexcept {
    if (id_ >= 0) check_noexcept(Close(std::exchange(id_, H5I_INVALID_HID)), "H5?close");
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using file = handle<H5Fclose>;
using group = handle<H5Gclose>;
using dataset = handle<H5Dclose>;
using dataspace = handle<H5Sclose>;
using datatype = handle<H5Tclose>;
using attribute = handle<H5Aclose>;
using plist = handle<H5Pclose>;

// ---- parallel settings, applied to property lists ----------------------------------------------

/// MPI-IO file driver on `comm` (H5Pset_fapl_mpio). The communicator is duplicated by HDF5.
struct mpio_file_access {
  MPI_Comm comm = MPI_COMM_WORLD;
  MPI_Info info = MPI_INFO_NULL;
  void apply(hid_t fapl) const;
};

/// Collective metadata reads (H5Pset_all_coll_metadata_ops) and writes (H5Pset_coll_metadata_write):
/// rank 0 reads metadata and broadcasts it instead of every rank hitting the file system.
struct collective_metadata {
  bool reads = true;
  bool writes = true;
  void apply(hid_t fapl) const;
};

/// HDF5's own file locking (flock on the sec2 driver). `ignore_when_disabled`: go on when the
/// file system does not support locks (Lustre without -o flock, some NFS): best effort. The
/// environment variable HDF5_USE_FILE_LOCKING still overrides this, as HDF5 documents.
struct file_locking {
  bool use = true;
  bool ignore_when_disabled = true;
  void apply(hid_t fapl) const;
};

/// Object format: superblock v2 / 1.8 object headers. Never the 1.10 "latest" superblock v3,
/// whose consistency flags make a file left by a killed writer unopenable until h5clear.
struct format_1_8 {
  void apply(hid_t fapl) const;
};

/// Collective (or independent) raw-data transfer (H5Pset_dxpl_mpio).
struct transfer_mode {
  bool collective = true;
  void apply(hid_t dxpl) const;
};

[[nodiscard]] plist make_plist(hid_t plist_class);

/// The bytes of `core_file`, an open file of the core driver (H5Pset_fapl_core, no backing store), after
/// a flush: what a plain write() puts on disk. HDF5 1.10.8's H5Fget_file_image clears the "open for
/// writing" flag of a v2 superblock (1.8 format) but keeps the checksum computed with it set; the
/// checksum is recomputed here so that the image opens.
[[nodiscard]] std::vector<char> file_image(hid_t core_file);

/// Why the last transfer with `dxpl` was not collective; empty when it was (HighFive's
/// MpioNoCollectiveCause).
[[nodiscard]] std::string no_collective_cause(hid_t dxpl);

// ---- types ---------------------------------------------------------------------------------------

/// Fixed-length, NUL-terminated C string type of `bytes` bytes, the terminator included (>= 1).
[[nodiscard]] datatype string_type(std::size_t bytes);

template <class T>
[[nodiscard]] hid_t standard_type();  ///< predefined little-endian standard type for T (not owned)
template <> hid_t standard_type<std::int32_t>();
template <> hid_t standard_type<std::int64_t>();
template <> hid_t standard_type<std::uint64_t>();
template <> hid_t standard_type<double>();
template <> hid_t standard_type<float>();

// ---- attributes (collective in parallel HDF5: every rank calls with identical values) ---------

/// Creates or replaces the scalar string attribute `name` of object `obj` (fixed-length type).
void write_attribute(hid_t obj, std::string_view name, std::string_view value);
void write_attribute(hid_t obj, std::string_view name, std::int64_t value);
void write_attribute(hid_t obj, std::string_view name, std::uint64_t value);
void write_attribute(hid_t obj, std::string_view name, double value);
/// 1-D attribute of fixed-length strings (sized to the longest).
void write_attribute(hid_t obj, std::string_view name, const std::vector<std::string>& values);
void delete_attribute(hid_t obj, std::string_view name);  ///< no-op when absent

[[nodiscard]] bool has_attribute(hid_t obj, std::string_view name);
[[nodiscard]] std::string read_string_attribute(hid_t obj, std::string_view name);
[[nodiscard]] std::vector<std::string> read_strings_attribute(hid_t obj, std::string_view name);
[[nodiscard]] std::int64_t read_int_attribute(hid_t obj, std::string_view name);
[[nodiscard]] std::uint64_t read_uint_attribute(hid_t obj, std::string_view name);
[[nodiscard]] double read_double_attribute(hid_t obj, std::string_view name);

// ---- selections ----------------------------------------------------------------------------------

/// Current dimensions of a dataset.
[[nodiscard]] std::vector<hsize_t> extent(hid_t dset);
/// Number of elements of `dset`, after checking that the file stores all of them: esm writes every
/// element it declares (parallel HDF5 allocates early), so a dataset claiming more elements than
/// its storage holds is damaged. Throws file_error naming `what`; never allocates by the claim.
[[nodiscard]] std::size_t stored_elements(hid_t dset, std::string_view what);

/// File space of `dset` with the given whole rows selected (sorted, unique); an empty list selects
/// none, so a rank with nothing to write still takes part in a collective transfer.
[[nodiscard]] dataspace select_rows(hid_t dset, const std::vector<hsize_t>& rows);
/// File space of `dset` with the contiguous rows [first, first + count) selected (none when count is 0).
[[nodiscard]] dataspace select_row_range(hid_t dset, hsize_t first, hsize_t count);
/// Memory space of `rows` rows of `row_elements` elements (1-D when row_elements is 0); none selected
/// when rows is 0.
[[nodiscard]] dataspace memory_rows(hsize_t rows, hsize_t row_elements = 0);

}  // namespace esm::dataset::h5
