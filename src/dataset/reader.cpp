// Serial reader of the latency dataset (esm info, resume checks, tests). Uses the default sec2
// driver, so it needs no MPI; HDF5's file locking is best effort (see h5::file_locking).
#include <cstring>
#include <filesystem>
#include <limits>

#include "dataset/attributes.hpp"
#include "dataset/types.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/dataset/hdf5.hpp"

namespace esm::dataset {

namespace {

template <class Row>
std::vector<Row> read_table(hid_t root, const char* name, hid_t type) {
  h5::dataset d(ESM_H5(H5Dopen2(root, name, H5P_DEFAULT)));
  if (h5::extent(d.get()).size() != 1) throw file_error(std::string("table ") + name + " is not one-dimensional (damaged file)");
  std::vector<Row> rows(h5::stored_elements(d.get(), name));
  if (!rows.empty()) ESM_H5(H5Dread(d.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()));
  return rows;
}

template <class T>
std::vector<T> read_column(hid_t group, const char* name, hid_t type) {
  h5::dataset d(ESM_H5(H5Dopen2(group, name, H5P_DEFAULT)));
  const std::size_t count = h5::stored_elements(d.get(), name);
  std::vector<T> values(count);
  if (count > 0) ESM_H5(H5Dread(d.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()));
  return values;
}

/// A damaged file can be well-formed HDF5 whose tables disagree; say so instead of indexing past them.
void require(bool consistent, const char* what) {
  if (!consistent) throw hdf5_error(std::string("inconsistent dataset: ") + what);
}

std::string optional_string(hid_t obj, const char* name) {
  return h5::has_attribute(obj, name) ? h5::read_string_attribute(obj, name) : std::string();
}

void read_slurm_ids(hid_t obj, std::string& job, std::string& array_job, std::string& array_task) {
  job = optional_string(obj, "slurm_job_id");
  array_job = optional_string(obj, "slurm_array_job_id");
  array_task = optional_string(obj, "slurm_array_task_id");
}

run_record read_run(hid_t runs, int index) {
  h5::group g(ESM_H5(H5Gopen2(runs, std::to_string(index).c_str(), H5P_DEFAULT)));
  run_record r;
  r.index = index;
  attributes::read(g.get(), r.info);
  attributes::read(g.get(), r.end);
  return r;
}

contents read_contents(const std::string& path, bool with_samples) {
  if (ESM_H5(H5Fis_hdf5(path.c_str())) <= 0) throw file_error("'" + path + "' is not an HDF5 file");
  auto fapl = h5::make_plist(H5P_FILE_ACCESS);
  h5::file_locking{}.apply(fapl.get());
  h5::file file(ESM_H5(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get())));
  const hid_t root = file.get();
  if (!h5::has_attribute(root, "schema_version")) throw file_error("'" + path + "' is not an esm dataset (no schema_version)");
  contents c;
  c.schema_version = h5::read_int_attribute(root, "schema_version");
  if (c.schema_version < oldest_readable_schema_version || c.schema_version > schema_version) {
    throw file_error("'" + path + "' has dataset schema version " + std::to_string(c.schema_version) +
                      "; this esm reads versions " + std::to_string(oldest_readable_schema_version) + " to " +
                      std::to_string(schema_version));
  }
  c.units = h5::read_string_attribute(root, "units");
  c.esm_version = h5::read_string_attribute(root, "esm_version");
  c.esm_git_commit = h5::read_string_attribute(root, "esm_git_commit");
  c.hdf5_version = h5::read_string_attribute(root, "hdf5_version");
  c.end_time = h5::read_string_attribute(root, "end_time");
  c.active_run = optional_string(root, names::active_run);
  read_slurm_ids(root, c.slurm_job_id, c.slurm_array_job_id, c.slurm_array_task_id);

  auto& p = c.prov;
  attributes::read(root, p);

  {
    h5::group archs(ESM_H5(H5Gopen2(root, names::archs, H5P_DEFAULT)));
    h5::dataset text(ESM_H5(H5Dopen2(archs.get(), "text", H5P_DEFAULT)));
    h5::datatype stored(ESM_H5(H5Dget_type(text.get())));
    const std::size_t width = H5Tget_size(stored.get());
    require(h5::extent(text.get()).size() == 1, "/archs/text is not one-dimensional");
    const std::size_t n = h5::stored_elements(text.get(), "/archs/text");
    std::string packed(n * width, '\0');
    const auto type = h5::string_type(width);
    if (n > 0) ESM_H5(H5Dread(text.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, packed.data()));
    h5::dataset genes(ESM_H5(H5Dopen2(archs.get(), "genes", H5P_DEFAULT)));
    const auto gene_dims = h5::extent(genes.get());
    require(gene_dims.size() == 2, "/archs/genes is not two-dimensional");
    const std::size_t per_arch = gene_dims[1];
    p.gene_names = h5::read_strings_attribute(genes.get(), "names");
    const auto gene_values = read_column<std::int32_t>(archs.get(), "genes", H5T_STD_I32LE);
    const auto ids = read_column<std::uint64_t>(archs.get(), "id", H5T_STD_U64LE);
    const auto depth = read_column<std::int32_t>(archs.get(), "depth", H5T_STD_I32LE);
    const auto resolution = read_column<std::int32_t>(archs.get(), "resolution", H5T_STD_I32LE);
    const auto macs = read_column<std::int64_t>(archs.get(), "macs", H5T_STD_I64LE);
    const auto params = read_column<std::int64_t>(archs.get(), "params", H5T_STD_I64LE);
    require(gene_values.size() == n * per_arch && ids.size() == n && depth.size() == n && resolution.size() == n &&
                macs.size() == n && params.size() == n,
            "the /archs columns disagree on the number of archs");
    c.archs.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto& e = c.archs[i];
      e.text = packed.substr(i * width, width);
      e.text.resize(std::strlen(e.text.c_str()));
      e.id = ids.at(i);
      e.genes.assign(gene_values.begin() + static_cast<std::ptrdiff_t>(i * per_arch),
                     gene_values.begin() + static_cast<std::ptrdiff_t>((i + 1) * per_arch));
      e.depth = depth.at(i);
      e.resolution = resolution.at(i);
      e.macs = macs.at(i);
      e.params = params.at(i);
    }
  }
  c.results = read_table<result_row>(root, names::results, types::result_row(c.schema_version).get());
  if (c.schema_version < 3) {
    for (auto& r : c.results) r.eager_ms = r.graph_ms = std::numeric_limits<double>::quiet_NaN();
  }
  require(c.results.size() == c.archs.size(), "/results and /archs disagree on the number of archs");
  require(p.max_samples >= 0, "negative max_samples");
  if (with_samples) {
    c.samples = read_column<float>(root, names::samples, H5T_IEEE_F32LE);
    require(c.samples.size() == c.archs.size() * static_cast<std::size_t>(p.max_samples),
            "/samples does not hold max_samples values per arch");
  }
  c.drift = read_table<drift_row>(root, names::drift, types::drift_row(c.schema_version).get());
  if (c.schema_version < 2) {
    for (auto& d : c.drift) d.threshold = std::numeric_limits<double>::quiet_NaN();
  }
  c.algos = read_table<algo_row>(root, names::algos, types::algo_row().get());
  c.ranks = read_table<rank_row>(root, names::ranks, types::rank_row().get());
  {
    h5::group runs(ESM_H5(H5Gopen2(root, names::runs, H5P_DEFAULT)));
    H5G_info_t info{};
    ESM_H5(H5Gget_info(runs.get(), &info));
    for (hsize_t i = 0; i < info.nlinks; ++i) c.runs.push_back(read_run(runs.get(), static_cast<int>(i)));
  }
  return c;
}

}  // namespace

contents read(const std::string& path, bool with_samples) {
  h5::library_init();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw file_error("dataset '" + path + "' does not exist");
  if (std::filesystem::file_size(path, ec) == 0) throw file_error("dataset '" + path + "' is an empty file");
  try {
    return read_contents(path, with_samples);
  } catch (const hdf5_error& e) {
    // A truncated or damaged file (or one esm did not write) fails somewhere inside HDF5.
    throw file_error("'" + path + "' is not a readable esm dataset (truncated or damaged?): " + e.what());
  }
}

}  // namespace esm::dataset
