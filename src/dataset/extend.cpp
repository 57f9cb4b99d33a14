// Growing a dataset after its creation: the closed loop's extensions of the plan (/archs, /results,
// /samples) and its /loop table. Collective like create(): every rank calls with identical values,
// rank 0 writes the raw data and the others select none.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "dataset/parallel_io.hpp"
#include "dataset/types.hpp"
#include "esm/dataset/dataset.hpp"

namespace esm::dataset {

namespace {

bool is_root(MPI_Comm comm) {
  int rank = 0;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) throw error("MPI_Comm_rank failed");
  return rank == 0;
}

/// Rows [first, first + count) on rank 0, none on the others.
std::vector<hsize_t> root_rows(bool root, hsize_t first, hsize_t count) {
  std::vector<hsize_t> rows;
  if (!root) return rows;
  rows.resize(count);
  std::iota(rows.begin(), rows.end(), first);
  return rows;
}

/// Collective: sets the first dimension of `dset` to `rows` (new chunks get the fill value).
void set_rows(hid_t dset, hsize_t rows) {
  auto dims = h5::extent(dset);
  dims.at(0) = rows;
  ESM_H5(H5Dset_extent(dset, dims.data()));
}

/// /archs/text as it must be to take texts of `longest` characters: widened (rewritten under the
/// same name with every old row) when its fixed string type is too narrow. Returns the width.
std::size_t fit_text_width(hid_t archs, h5::dataset& text, std::size_t longest, hid_t dxpl, bool root) {
  const h5::datatype file_type(ESM_H5(H5Dget_type(text.get())));
  const std::size_t width = H5Tget_size(file_type.get());
  if (longest + 1 <= width) return width;
  const std::size_t wider = longest + 1;
  const auto type = h5::string_type(wider);
  const hsize_t rows = h5::extent(text.get()).at(0);
  std::string old(rows * wider, '\0');
  ESM_H5(H5Dread(text.get(), type.get(), H5S_ALL, H5S_ALL, dxpl, old.data()));  // HDF5 converts the width
  text.close();
  ESM_H5(H5Ldelete(archs, "text", H5P_DEFAULT));
  text = detail::make_growable(archs, "text", type.get(), {rows}, nullptr);
  detail::write_rows(text.get(), type.get(), root_rows(root, 0, rows), 0, old.data(), dxpl);
  return wider;
}

}  // namespace

void extend(MPI_Comm comm, const std::string& path, const std::vector<arch_entry>& entries) {
  h5::library_init();
  if (entries.empty()) return;
  const bool root = is_root(comm);
  const auto fapl = detail::parallel_fapl(comm);
  h5::file file(ESM_H5(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get())));
  const hid_t top = file.get();
  const auto dxpl = detail::collective_dxpl();

  h5::dataset results(ESM_H5(H5Dopen2(top, names::results, H5P_DEFAULT)));
  const hsize_t old_rows = h5::extent(results.get()).at(0);
  const hsize_t k = entries.size();
  const hsize_t new_rows = old_rows + k;
  const auto mine = root_rows(root, old_rows, k);

  {
    h5::group archs(ESM_H5(H5Gopen2(top, names::archs, H5P_DEFAULT)));
    std::size_t longest = 0;
    for (const auto& e : entries) longest = std::max(longest, e.text.size());
    if (longest > max_arch_text_bytes) {
      throw error("an architecture text is " + std::to_string(longest) + " bytes; the schema allows " +
                  std::to_string(max_arch_text_bytes));
    }
    h5::dataset text(ESM_H5(H5Dopen2(archs.get(), "text", H5P_DEFAULT)));
    const std::size_t width = fit_text_width(archs.get(), text, longest, dxpl.get(), root);
    std::string packed(k * width, '\0');
    for (std::size_t i = 0; i < entries.size(); ++i) std::memcpy(packed.data() + i * width, entries[i].text.data(), entries[i].text.size());
    const auto text_type = h5::string_type(width);
    set_rows(text.get(), new_rows);
    detail::write_rows(text.get(), text_type.get(), mine, 0, packed.data(), dxpl.get());

    h5::dataset genes(ESM_H5(H5Dopen2(archs.get(), "genes", H5P_DEFAULT)));
    const hsize_t genes_per_arch = h5::extent(genes.get()).at(1);
    std::vector<std::int32_t> gene_values;
    for (const auto& e : entries) {
      if (e.genes.size() != genes_per_arch) throw error("gene vectors of one plan differ in length");
      gene_values.insert(gene_values.end(), e.genes.begin(), e.genes.end());
    }
    set_rows(genes.get(), new_rows);
    detail::write_rows(genes.get(), H5T_STD_I32LE, mine, genes_per_arch, gene_values.data(), dxpl.get());

    const auto column = [&](const char* name, hid_t type, const auto& field) {
      using value = decltype(field(entries.front()));
      std::vector<value> values;
      for (const auto& e : entries) values.push_back(field(e));
      h5::dataset d(ESM_H5(H5Dopen2(archs.get(), name, H5P_DEFAULT)));
      set_rows(d.get(), new_rows);
      detail::write_rows(d.get(), type, mine, 0, values.data(), dxpl.get());
    };
    column("id", H5T_STD_U64LE, [](const arch_entry& e) { return e.id; });
    column("depth", H5T_STD_I32LE, [](const arch_entry& e) { return e.depth; });
    column("resolution", H5T_STD_I32LE, [](const arch_entry& e) { return e.resolution; });
    column("macs", H5T_STD_I64LE, [](const arch_entry& e) { return e.macs; });
    column("params", H5T_STD_I64LE, [](const arch_entry& e) { return e.params; });
  }

  {
    const auto type = types::result_row();
    std::vector<result_row> pending(root ? k : 0, pending_row());
    for (std::size_t i = 0; i < pending.size(); ++i) pending[i].arch_id = entries[i].id;
    set_rows(results.get(), new_rows);
    detail::write_rows(results.get(), type.get(), mine, 0, pending.data(), dxpl.get());
    h5::dataset samples(ESM_H5(H5Dopen2(top, names::samples, H5P_DEFAULT)));
    set_rows(samples.get(), new_rows);  // new rows: the NaN fill value
  }
  h5::write_attribute(top, "arch_count", static_cast<std::uint64_t>(new_rows));
  ESM_H5(H5Fflush(top, H5F_SCOPE_GLOBAL));
  results.close();
  file.close();
}

void append_loop_rows(MPI_Comm comm, const std::string& path, const std::vector<loop_row>& rows, std::string_view config) {
  h5::library_init();
  const bool root = is_root(comm);
  const auto fapl = detail::parallel_fapl(comm);
  h5::file file(ESM_H5(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get())));
  const hid_t top = file.get();
  const auto type = types::loop_row();
  h5::dataset table;
  if (ESM_H5(H5Lexists(top, names::loop, H5P_DEFAULT)) > 0) {
    table = h5::dataset(ESM_H5(H5Dopen2(top, names::loop, H5P_DEFAULT)));
  } else {
    table = detail::make_table(top, names::loop, type.get(), 256);
    h5::write_attribute(table.get(), "config", config);
  }
  const hsize_t old_rows = h5::extent(table.get()).at(0);
  const auto dxpl = detail::collective_dxpl();
  set_rows(table.get(), old_rows + rows.size());
  detail::write_rows(table.get(), type.get(), root_rows(root, old_rows, rows.size()), 0, rows.data(), dxpl.get());
  ESM_H5(H5Fflush(top, H5F_SCOPE_GLOBAL));
  table.close();
  file.close();
}

loop_table read_loop(const std::string& path) {
  h5::library_init();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw usage_error("dataset '" + path + "' does not exist");
  auto fapl = h5::make_plist(H5P_FILE_ACCESS);
  h5::file_locking{}.apply(fapl.get());
  h5::file file(ESM_H5(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get())));
  loop_table t;
  if (ESM_H5(H5Lexists(file.get(), names::loop, H5P_DEFAULT)) <= 0) return t;
  h5::dataset table(ESM_H5(H5Dopen2(file.get(), names::loop, H5P_DEFAULT)));
  t.config = h5::read_string_attribute(table.get(), "config");
  t.rows.resize(h5::extent(table.get()).at(0));
  const auto type = types::loop_row();
  if (!t.rows.empty()) ESM_H5(H5Dread(table.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.rows.data()));
  return t;
}

}  // namespace esm::dataset
