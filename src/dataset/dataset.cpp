// Collective creation and batched writing of the latency dataset (schema v1, schema.hpp).
#include "esm/dataset/dataset.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <numeric>

#include "dataset/attributes.hpp"
#include "dataset/parallel_io.hpp"
#include "dataset/types.hpp"
#include "esm/dataset/hdf5.hpp"
#include "esm/version.hpp"

namespace esm::dataset {

std::string iso_utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string partial_path(const std::string& path) { return path + ".partial"; }

namespace {

/// Adds the wall time of its scope to a counter (time spent in HDF5).
class stopwatch {
 public:
  explicit stopwatch(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~stopwatch() { total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  stopwatch(const stopwatch&) = delete;
  stopwatch& operator=(const stopwatch&) = delete;

 private:
  double& total_;
  std::chrono::steady_clock::time_point start_;
};

int rank_in(MPI_Comm comm) {
  int rank = 0;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) throw error("MPI_Comm_rank failed");
  return rank;
}

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return "HDF5 " + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

}  // namespace

namespace detail {

h5::plist parallel_fapl(MPI_Comm comm) {
  auto fapl = h5::make_plist(H5P_FILE_ACCESS);
  h5::mpio_file_access{comm}.apply(fapl.get());
  h5::collective_metadata{}.apply(fapl.get());
  h5::file_locking{}.apply(fapl.get());
  h5::format_1_8{}.apply(fapl.get());
  return fapl;
}

h5::plist collective_dxpl() {
  auto dxpl = h5::make_plist(H5P_DATASET_XFER);
  h5::transfer_mode{true}.apply(dxpl.get());
  return dxpl;
}

/// A dataset of `dims` rows, chunked (about 256 KiB a chunk) with an unlimited first dimension so
/// that extend() can append rows (the closed loop grows /archs, /results and /samples). Allocated
/// at creation and at every extension (parallel HDF5 requires early allocation) and filled there
/// with `fill` when given.
h5::dataset make_growable(hid_t loc, const char* name, hid_t type, const std::vector<hsize_t>& dims, const void* fill) {
  std::vector<hsize_t> max_dims = dims, chunk = dims;
  max_dims[0] = H5S_UNLIMITED;
  for (std::size_t d = 1; d < dims.size(); ++d) {
    if (dims[d] == 0) {  // /samples of an imported dataset (max_samples 0): a chunk cannot be empty
      chunk[d] = 1;
      max_dims[d] = H5S_UNLIMITED;
    }
  }
  hsize_t row_bytes = H5Tget_size(type);
  for (std::size_t d = 1; d < dims.size(); ++d) row_bytes *= std::max<hsize_t>(dims[d], 1);
  chunk[0] = std::clamp<hsize_t>((hsize_t{256} << 10) / std::max<hsize_t>(row_bytes, 1), 1, 1024);
  h5::dataspace space(ESM_H5(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data())));
  auto dcpl = h5::make_plist(H5P_DATASET_CREATE);
  ESM_H5(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()));
  ESM_H5(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY));
  if (fill) {
    ESM_H5(H5Pset_fill_value(dcpl.get(), type, fill));
    ESM_H5(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_ALLOC));
  } else {
    ESM_H5(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER));
  }
  return h5::dataset(ESM_H5(H5Dcreate2(loc, name, type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT)));
}

/// Extendible table: 0 rows, unlimited, chunked by `chunk_rows`.
h5::dataset make_table(hid_t loc, const char* name, hid_t type, hsize_t chunk_rows) {
  const hsize_t dims = 0, max_dims = H5S_UNLIMITED;
  h5::dataspace space(ESM_H5(H5Screate_simple(1, &dims, &max_dims)));
  auto dcpl = h5::make_plist(H5P_DATASET_CREATE);
  ESM_H5(H5Pset_chunk(dcpl.get(), 1, &chunk_rows));
  // Early, as parallel HDF5 requires (and would force): the same file whether made serially or not.
  ESM_H5(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY));
  ESM_H5(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER));
  return h5::dataset(ESM_H5(H5Dcreate2(loc, name, type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT)));
}

/// Collective write of whole rows of `dset`: this rank's `rows` (sorted, unique) from `data`.
void write_rows(hid_t dset, hid_t type, const std::vector<hsize_t>& rows, hsize_t row_elements, const void* data,
                hid_t dxpl) {
  const auto file_space = h5::select_rows(dset, rows);
  const auto mem_space = h5::memory_rows(rows.size(), row_elements);
  static const double dummy = 0;  // a valid pointer for ranks that write nothing
  ESM_H5(H5Dwrite(dset, type, mem_space.get(), file_space.get(), dxpl, rows.empty() ? &dummy : data));
}

}  // namespace detail

using detail::collective_dxpl;
using detail::make_growable;
using detail::make_table;
using detail::parallel_fapl;
using detail::write_rows;

namespace {

std::string packed_strings(const std::vector<arch_entry>& plan, std::size_t width) {
  std::string packed(plan.size() * width, '\0');
  for (std::size_t i = 0; i < plan.size(); ++i) std::memcpy(packed.data() + i * width, plan[i].text.data(), plan[i].text.size());
  return packed;
}

template <class T, class F>
std::vector<T> column(const std::vector<arch_entry>& plan, F field) {
  std::vector<T> out;
  out.reserve(plan.size());
  for (const auto& e : plan) out.push_back(static_cast<T>(field(e)));
  return out;
}

void write_slurm_ids(hid_t obj, const run_info& info) {
  if (!info.slurm_job_id.empty()) h5::write_attribute(obj, "slurm_job_id", info.slurm_job_id);
  if (!info.slurm_array_job_id.empty()) h5::write_attribute(obj, "slurm_array_job_id", info.slurm_array_job_id);
  if (!info.slurm_array_task_id.empty()) h5::write_attribute(obj, "slurm_array_task_id", info.slurm_array_task_id);
}

void write_run_attributes(hid_t group, const run_info& info) {
  attributes::write(group, info);
  run_end running;  // until writer::close writes how the run ended
  running.outcome = "running";
  h5::write_attribute(group, "end_time", std::string_view{running.end_time});
  h5::write_attribute(group, "outcome", std::string_view{running.outcome});
}

}  // namespace

namespace {

/// A new dataset file as bytes, built serially in memory (HDF5's core driver, no backing store).
std::vector<char> new_file_image(const provenance& prov, const run_info& first_run, const std::vector<arch_entry>& plan) {
  const auto fapl = h5::make_plist(H5P_FILE_ACCESS);
  const auto row_bytes = static_cast<std::size_t>(std::max<std::int64_t>(prov.max_samples, 0)) * sizeof(float) + 1024;
  ESM_H5(H5Pset_fapl_core(fapl.get(), std::max<std::size_t>(std::size_t{1} << 20, plan.size() * row_bytes), 0));
  h5::format_1_8{}.apply(fapl.get());
  h5::file file(ESM_H5(H5Fcreate("esm-dataset-in-memory.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get())));
  const hid_t root = file.get();

  h5::write_attribute(root, "schema_version", schema_version);
  h5::write_attribute(root, "units", std::string_view{"milliseconds"});
  h5::write_attribute(root, "esm_version", version_string());
  h5::write_attribute(root, "esm_git_commit", git_commit());
  h5::write_attribute(root, "hdf5_version", hdf5_version());
  attributes::write(root, prov);  // synthetic only when set: additive, no schema change
  write_slurm_ids(root, first_run);
  h5::write_attribute(root, "end_time", std::string_view{});
  h5::write_attribute(root, "arch_count", static_cast<std::uint64_t>(plan.size()));

  const hid_t dxpl = H5P_DEFAULT;
  const hsize_t n = plan.size();
  std::vector<hsize_t> all_rows(n);
  std::iota(all_rows.begin(), all_rows.end(), hsize_t{0});

  // /archs: parallel column datasets, written by rank 0 (the others select none).
  {
    h5::group archs(ESM_H5(H5Gcreate2(root, names::archs, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
    std::size_t longest = 0;
    for (const auto& e : plan) longest = std::max(longest, e.text.size());
    if (longest > max_arch_text_bytes) {
      throw error("an architecture text is " + std::to_string(longest) + " bytes; the schema allows " +
                  std::to_string(max_arch_text_bytes));
    }
    const std::size_t width = longest + 1;  // NUL-terminated
    const auto text_type = h5::string_type(width);
    auto text = make_growable(archs.get(), "text", text_type.get(), {n}, nullptr);
    write_rows(text.get(), text_type.get(), all_rows, 0, packed_strings(plan, width).data(), dxpl);

    const auto ids = column<std::uint64_t>(plan, [](const arch_entry& e) { return e.id; });
    auto id = make_growable(archs.get(), "id", H5T_STD_U64LE, {n}, nullptr);
    write_rows(id.get(), H5T_STD_U64LE, all_rows, 0, ids.data(), dxpl);

    const hsize_t genes_per_arch = plan.front().genes.size();
    std::vector<std::int32_t> genes;
    genes.reserve(n * genes_per_arch);
    for (const auto& e : plan) {
      if (e.genes.size() != genes_per_arch) throw error("gene vectors of one plan differ in length");
      genes.insert(genes.end(), e.genes.begin(), e.genes.end());
    }
    auto gene_set = make_growable(archs.get(), "genes", H5T_STD_I32LE, {n, genes_per_arch}, nullptr);
    write_rows(gene_set.get(), H5T_STD_I32LE, all_rows, genes_per_arch, genes.data(), dxpl);
    h5::write_attribute(gene_set.get(), "names", prov.gene_names);

    const auto write_i32 = [&](const char* name, const std::vector<std::int32_t>& values) {
      auto d = make_growable(archs.get(), name, H5T_STD_I32LE, {n}, nullptr);
      write_rows(d.get(), H5T_STD_I32LE, all_rows, 0, values.data(), dxpl);
    };
    const auto write_i64 = [&](const char* name, const std::vector<std::int64_t>& values) {
      auto d = make_growable(archs.get(), name, H5T_STD_I64LE, {n}, nullptr);
      write_rows(d.get(), H5T_STD_I64LE, all_rows, 0, values.data(), dxpl);
    };
    write_i32("depth", column<std::int32_t>(plan, [](const arch_entry& e) { return e.depth; }));
    write_i32("resolution", column<std::int32_t>(plan, [](const arch_entry& e) { return e.resolution; }));
    write_i64("macs", column<std::int64_t>(plan, [](const arch_entry& e) { return e.macs; }));
    write_i64("params", column<std::int64_t>(plan, [](const arch_entry& e) { return e.params; }));
  }

  // /results: every row pending, with its arch id; /samples: NaN.
  {
    const auto type = types::result_row();
    const result_row fill = pending_row();
    auto results = make_growable(root, names::results, type.get(), {n}, &fill);
    h5::write_attribute(results.get(), "units", std::string_view{"milliseconds"});
    std::vector<result_row> rows(n, fill);
    for (std::size_t i = 0; i < n; ++i) rows[i].arch_id = plan[i].id;
    write_rows(results.get(), type.get(), all_rows, 0, rows.data(), dxpl);

    if (prov.max_samples < 0) throw error("max_samples must not be negative");
    const float nan = std::numeric_limits<float>::quiet_NaN();
    auto samples = make_growable(root, names::samples, H5T_IEEE_F32LE, {n, static_cast<hsize_t>(prov.max_samples)}, &nan);
    h5::write_attribute(samples.get(), "units", std::string_view{"milliseconds"});
  }

  make_table(root, names::ranks, types::rank_row().get(), 64);
  make_table(root, names::drift, types::drift_row().get(), 1024);
  make_table(root, names::algos, types::algo_row().get(), 1024);
  h5::group(ESM_H5(H5Gcreate2(root, names::runs, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
  auto image = h5::file_image(root);
  file.close();
  return image;
}

/// Writes `bytes` to a new file at `path` (truncating) and syncs it; on failure removes it and
/// throws file_error naming the OS's reason (EFBIG, ENOSPC, EACCES...).
void write_new_file(const std::string& path, const std::vector<char>& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw file_error("cannot create " + path + ": " + std::strerror(errno));
  int err = 0;
  for (std::size_t done = 0; done < bytes.size() && err == 0;) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      err = errno;
    } else if (n == 0) {
      err = EIO;
    }
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(path.c_str());
    throw file_error("cannot write " + path + ": " + std::strerror(err));
  }
}

}  // namespace

void create(MPI_Comm comm, const std::string& file_path, const provenance& prov, const run_info& first_run,
            const std::vector<arch_entry>& plan) {
  h5::library_init();
  if (plan.empty()) throw error("dataset plan is empty");
  if (rank_in(comm) != 0) return;
  write_new_file(file_path, new_file_image(prov, first_run, plan));
}

void check_room(const std::string& path, std::uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw file_error("cannot write " + path + ": " + std::strerror(errno));
  struct stat st {};
  int err = ::fstat(fd, &st) == 0 ? 0 : errno;
  if (err == 0) {
    err = ::posix_fallocate(fd, st.st_size, static_cast<off_t>(bytes));
    struct stat now {};
    if (::fstat(fd, &now) == 0 && now.st_size != st.st_size && ::ftruncate(fd, st.st_size) != 0 && err == 0) err = errno;
  }
  ::close(fd);
  if (err != 0) throw file_error("cannot write " + path + ": " + std::strerror(err));
}

// ---- writer -------------------------------------------------------------------------------------

struct writer::impl {
  // Declared first, destroyed last: every object handle closes before the file.
  h5::file file;
  h5::plist dxpl;
  h5::datatype result_type, drift_type, algo_type, rank_type;
  h5::dataset results, samples, drift, algos, ranks;
  h5::group run_group;
  int run = 0;
  std::uint64_t rows = 0;
  std::int64_t max_samples = 0;
  io_stats stats;

  void note_transfer() {
    const auto cause = h5::no_collective_cause(dxpl.get());
    if (!cause.empty()) {
      ++stats.independent_transfers;
      stats.last_independent_cause = cause;
    }
  }

  template <class Row>
  void append(hid_t dset, hid_t type, const std::vector<Row>& mine, append_slot slot) {
    if (slot.total == 0) return;  // identical on every rank: all skip together
    if (slot.offset + mine.size() > slot.total) throw error("append slot smaller than the rows to append");
    const hsize_t old_rows = h5::extent(dset).at(0);
    const hsize_t new_rows = old_rows + slot.total;
    ESM_H5(H5Dset_extent(dset, &new_rows));
    const auto file_space = h5::select_row_range(dset, old_rows + slot.offset, mine.size());
    const auto mem_space = h5::memory_rows(mine.size());
    static const Row dummy{};
    ESM_H5(H5Dwrite(dset, type, mem_space.get(), file_space.get(), dxpl.get(), mine.empty() ? &dummy : mine.data()));
    note_transfer();
  }
};

writer::writer(MPI_Comm comm, const std::string& path, const run_info& info, const std::string& marker)
    : impl_(std::make_unique<impl>()) {
  auto& m = *impl_;
  stopwatch sw(m.stats.seconds);
  const auto fapl = parallel_fapl(comm);
  m.file = h5::file(ESM_H5(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get())));
  const hid_t root = m.file.get();
  if (!h5::has_attribute(root, "schema_version") || h5::read_int_attribute(root, "schema_version") != schema_version) {
    throw usage_error("'" + path + "' is not an esm dataset of schema version " + std::to_string(schema_version));
  }
  m.dxpl = collective_dxpl();
  m.result_type = types::result_row();
  m.drift_type = types::drift_row();
  m.algo_type = types::algo_row();
  m.rank_type = types::rank_row();
  m.results = h5::dataset(ESM_H5(H5Dopen2(root, names::results, H5P_DEFAULT)));
  m.samples = h5::dataset(ESM_H5(H5Dopen2(root, names::samples, H5P_DEFAULT)));
  m.drift = h5::dataset(ESM_H5(H5Dopen2(root, names::drift, H5P_DEFAULT)));
  m.algos = h5::dataset(ESM_H5(H5Dopen2(root, names::algos, H5P_DEFAULT)));
  m.ranks = h5::dataset(ESM_H5(H5Dopen2(root, names::ranks, H5P_DEFAULT)));
  m.rows = h5::extent(m.results.get()).at(0);
  m.max_samples = static_cast<std::int64_t>(h5::extent(m.samples.get()).at(1));

  h5::group runs(ESM_H5(H5Gopen2(root, names::runs, H5P_DEFAULT)));
  H5G_info_t runs_info{};
  ESM_H5(H5Gget_info(runs.get(), &runs_info));
  m.run = static_cast<int>(runs_info.nlinks);
  m.run_group = h5::group(
      ESM_H5(H5Gcreate2(runs.get(), std::to_string(m.run).c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
  write_run_attributes(m.run_group.get(), info);
  h5::write_attribute(root, names::active_run, marker);
  ESM_H5(H5Fflush(root, H5F_SCOPE_GLOBAL));
}

writer::~writer() = default;

int writer::run_index() const { return impl_->run; }
std::uint64_t writer::rows() const { return impl_->rows; }
std::int64_t writer::max_samples() const { return impl_->max_samples; }
const io_stats& writer::stats() const { return impl_->stats; }

void writer::append_ranks(const std::vector<rank_row>& mine, append_slot slot) {
  auto& m = *impl_;
  stopwatch sw(m.stats.seconds);
  m.append(m.ranks.get(), m.rank_type.get(), mine, slot);
  ESM_H5(H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL));
}

void writer::write_batch(const batch& mine, append_slot drift, append_slot algos) {
  auto& m = *impl_;
  stopwatch sw(m.stats.seconds);
  const auto batch_start = std::chrono::steady_clock::now();
  const std::size_t k = mine.rows.size();
  if (mine.results.size() != k || mine.samples.size() != k) throw error("batch rows, results and samples differ in count");

  std::vector<std::size_t> order(k);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return mine.rows[a] < mine.rows[b]; });
  std::vector<hsize_t> rows(k);
  std::vector<result_row> results(k);
  const auto width = static_cast<std::size_t>(m.max_samples);
  std::vector<float> samples(k * width, std::numeric_limits<float>::quiet_NaN());
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t src = order[i];
    rows[i] = mine.rows[src];
    if (rows[i] >= m.rows) throw error("batch row " + std::to_string(rows[i]) + " is beyond the plan");
    if (i > 0 && rows[i] == rows[i - 1]) throw error("batch row " + std::to_string(rows[i]) + " appears twice");
    results[i] = mine.results[src];
    const auto& s = mine.samples[src];
    if (s.size() > width) {
      throw error("arch row " + std::to_string(rows[i]) + " has " + std::to_string(s.size()) +
                  " samples; the dataset holds at most " + std::to_string(width));
    }
    std::copy(s.begin(), s.end(), samples.begin() + static_cast<std::ptrdiff_t>(i * width));
  }
  write_rows(m.results.get(), m.result_type.get(), rows, 0, results.data(), m.dxpl.get());
  m.note_transfer();
  if (width > 0) {  // an imported dataset has no samples
    write_rows(m.samples.get(), H5T_IEEE_F32LE, rows, width, samples.data(), m.dxpl.get());
    m.note_transfer();
  }
  m.append(m.drift.get(), m.drift_type.get(), mine.drift, drift);
  m.append(m.algos.get(), m.algo_type.get(), mine.algos, algos);
  const auto flush_start = std::chrono::steady_clock::now();
  ESM_H5(H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL));
  const auto end = std::chrono::steady_clock::now();
  m.stats.batch_write_seconds.push_back(std::chrono::duration<double>(flush_start - batch_start).count());
  m.stats.batch_flush_seconds.push_back(std::chrono::duration<double>(end - flush_start).count());
  ++m.stats.batches;
  m.stats.rows += k;
}

void writer::close(const run_end& end) {
  auto& m = *impl_;
  {
    stopwatch sw(m.stats.seconds);
    const hid_t root = m.file.get();
    attributes::write(m.run_group.get(), end);
    h5::write_attribute(root, "end_time", end.end_time);
    h5::delete_attribute(root, names::active_run);
    ESM_H5(H5Fflush(root, H5F_SCOPE_GLOBAL));
  }
  stopwatch sw(m.stats.seconds);
  m.run_group.close();
  m.results.close();
  m.samples.close();
  m.drift.close();
  m.algos.close();
  m.ranks.close();
  m.file.close();
}

}  // namespace esm::dataset
