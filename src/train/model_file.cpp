// Model files in HDF5: root attributes, /state (one dataset per model-state entry, keys as group
// paths) and /cv (one 1-D dataset per column, readable as a table by h5py/pandas).
#include "esm/train/model_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/dataset/hdf5.hpp"
#include "esm/version.hpp"

namespace esm::train {

namespace h5 = dataset::h5;

namespace {

constexpr const char* format_name = "esm-model";

h5::plist link_plist() {
  h5::plist p(ESM_H5(H5Pcreate(H5P_LINK_CREATE)));
  ESM_H5(H5Pset_create_intermediate_group(p.get(), 1));
  return p;
}

void write_array(hid_t loc, const std::string& name, hid_t type, const std::vector<hsize_t>& dims, const void* data) {
  const h5::dataspace space(dims.empty() ? ESM_H5(H5Screate(H5S_SCALAR))
                                         : ESM_H5(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr)));
  const h5::plist lcpl = link_plist();
  const h5::dataset d(ESM_H5(H5Dcreate2(loc, name.c_str(), type, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT)));
  bool empty = false;
  for (auto n : dims) empty = empty || n == 0;
  if (!empty) ESM_H5(H5Dwrite(d.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values) {
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size() + 1);
  std::vector<char> buf(values.size() * width, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) values[i].copy(buf.data() + i * width, values[i].size());
  const h5::datatype t = h5::string_type(width);
  write_array(loc, name, t.get(), {values.size()}, buf.data());
}

void write_state(hid_t file, const surrogate::model_state& state) {
  for (const auto& [key, entry] : state.entries()) {
    const std::string path = "state/" + key;
    if (const auto* numbers = std::get_if<std::vector<double>>(&entry.value)) {
      std::vector<hsize_t> dims(entry.shape.begin(), entry.shape.end());
      write_array(file, path, H5T_IEEE_F64LE, dims, numbers->data());
    } else if (const auto* text = std::get_if<std::string>(&entry.value)) {
      const h5::datatype t = h5::string_type(text->size() + 1);
      write_array(file, path, t.get(), {}, text->c_str());
    } else {
      const auto& bytes = std::get<std::vector<std::uint8_t>>(entry.value);
      write_array(file, path, H5T_STD_U8LE, {bytes.size()}, bytes.data());
    }
  }
}

void write_cv(hid_t file, const std::vector<cv_row>& rows) {
  const h5::group g(ESM_H5(H5Gcreate2(file, "cv", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
  std::vector<std::string> model;
  std::vector<std::int32_t> bin;
  std::vector<std::int64_t> n;
  std::vector<double> cols[8], coverage;
  for (const auto& r : rows) {
    coverage.push_back(r.coverage_90);
    model.push_back(r.model);
    bin.push_back(r.bin);
    n.push_back(static_cast<std::int64_t>(r.metrics.n));
    const double values[8] = {r.metrics.within_5, r.metrics.within_10, r.metrics.mape_percent, r.metrics.rmse_ms,
                              r.metrics.r2, r.metrics.kendall_tau, r.metrics.spearman_rho, r.train_seconds};
    for (int c = 0; c < 8; ++c) cols[c].push_back(values[c]);
  }
  write_strings(g.get(), "model", model);
  write_array(g.get(), "bin", H5T_STD_I32LE, {bin.size()}, bin.data());
  write_array(g.get(), "n", H5T_STD_I64LE, {n.size()}, n.data());
  const char* names[8] = {"within_5", "within_10", "mape_percent", "rmse", "r2", "kendall_tau", "spearman_rho",
                          "train_seconds"};
  for (int c = 0; c < 8; ++c) write_array(g.get(), names[c], H5T_IEEE_F64LE, {cols[c].size()}, cols[c].data());
  write_array(g.get(), "coverage_90", H5T_IEEE_F64LE, {coverage.size()}, coverage.data());
}


h5::dataset open_dataset(hid_t loc, const std::string& name) {
  return h5::dataset(ESM_H5(H5Dopen2(loc, name.c_str(), H5P_DEFAULT)));
}

std::vector<hsize_t> dims_of(hid_t d) {
  const h5::dataspace s(ESM_H5(H5Dget_space(d)));
  const int rank = ESM_H5(H5Sget_simple_extent_ndims(s.get()));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0) ESM_H5(H5Sget_simple_extent_dims(s.get(), dims.data(), nullptr));
  return dims;
}

template <class T>
std::vector<T> read_array(hid_t loc, const std::string& name, hid_t mem_type) {
  const h5::dataset d = open_dataset(loc, name);
  std::vector<T> v(h5::stored_elements(d.get(), name));
  if (!v.empty()) ESM_H5(H5Dread(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()));
  return v;
}

std::vector<std::string> read_strings(hid_t loc, const std::string& name) {
  const h5::dataset d = open_dataset(loc, name);
  const h5::datatype t(ESM_H5(H5Dget_type(d.get())));
  const std::size_t width = H5Tget_size(t.get());
  if (width == 0) throw file_error("dataset '" + name + "' has a string type of size 0 (damaged model file)");
  const auto count = h5::stored_elements(d.get(), name);
  std::vector<char> buf(count * width + 1, '\0');
  if (count) ESM_H5(H5Dread(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()));
  std::vector<std::string> out;
  for (hsize_t i = 0; i < count; ++i) {
    const char* s = buf.data() + i * width;
    out.emplace_back(s, strnlen(s, width));
  }
  return out;
}

void write_doubles(hid_t loc, const std::string& name, const std::vector<double>& v) {
  write_array(loc, name, H5T_IEEE_F64LE, {v.size()}, v.data());
}

void write_ints(hid_t loc, const std::string& name, const std::vector<int>& v) {
  const std::vector<std::int64_t> wide(v.begin(), v.end());
  write_array(loc, name, H5T_STD_I64LE, {wide.size()}, wide.data());
}

std::vector<int> read_ints(hid_t loc, const std::string& name) {
  const auto wide = read_array<std::int64_t>(loc, name, H5T_NATIVE_INT64);
  return {wide.begin(), wide.end()};
}

/// /domain and /intervals (schema 2): small 1-D datasets, readable by h5py like /cv.
void write_domain_and_intervals(hid_t root, const model_info& i) {
  const auto& d = i.domain;
  write_strings(root, "domain/widths", d.variants);
  write_ints(root, "domain/resolution_range", {d.min_resolution, d.max_resolution});
  write_ints(root, "domain/depth_bins", d.depth_bins);
  const auto& t = i.intervals;
  write_doubles(root, "intervals/level_q", {t.level, t.q});
  write_ints(root, "intervals/bins", t.bins);
  write_doubles(root, "intervals/centre", t.centre);
  write_doubles(root, "intervals/scale", t.scale);
  write_doubles(root, "intervals/pooled_centre_scale", {t.pooled_centre, t.pooled_scale});
}

void read_domain_and_intervals(hid_t root, model_info& i) {
  auto& d = i.domain;
  d.variants = read_strings(root, "domain/widths");
  const auto range = read_ints(root, "domain/resolution_range");
  d.depth_bins = read_ints(root, "domain/depth_bins");
  auto& t = i.intervals;
  const auto level_q = read_array<double>(root, "intervals/level_q", H5T_NATIVE_DOUBLE);
  t.bins = read_ints(root, "intervals/bins");
  t.centre = read_array<double>(root, "intervals/centre", H5T_NATIVE_DOUBLE);
  t.scale = read_array<double>(root, "intervals/scale", H5T_NATIVE_DOUBLE);
  const auto pooled = read_array<double>(root, "intervals/pooled_centre_scale", H5T_NATIVE_DOUBLE);
  if (range.size() != 2 || level_q.size() != 2 || pooled.size() != 2 || t.centre.size() != t.bins.size() ||
      t.scale.size() != t.bins.size()) {
    throw file_error("model file: /domain or /intervals has datasets of the wrong size (damaged?)");
  }
  d.min_resolution = range[0];
  d.max_resolution = range[1];
  d.known = true;
  t.level = level_q[0];
  t.q = level_q[1];
  t.pooled_centre = pooled[0];
  t.pooled_scale = pooled[1];
  t.known = true;
}

struct visit_ctx {
  surrogate::model_state* state;
  hid_t state_group;
};

herr_t visit_state(hid_t, const char* name, const H5O_info_t* info, void* data) {
  if (info->type != H5O_TYPE_DATASET) return 0;
  auto* ctx = static_cast<visit_ctx*>(data);
  try {
    const h5::dataset d = open_dataset(ctx->state_group, name);
    const h5::datatype t(ESM_H5(H5Dget_type(d.get())));
    const auto dims = dims_of(d.get());
    switch (H5Tget_class(t.get())) {
      case H5T_FLOAT: {
        std::vector<std::uint64_t> shape(dims.begin(), dims.end());
        ctx->state->set_numbers(name, shape, read_array<double>(ctx->state_group, name, H5T_NATIVE_DOUBLE));
        break;
      }
      case H5T_STRING: {
        const std::size_t width = H5Tget_size(t.get());
        std::string s(width, '\0');
        ESM_H5(H5Dread(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, s.data()));
        s.resize(strnlen(s.c_str(), width));
        ctx->state->set_text(name, s);
        break;
      }
      case H5T_INTEGER:
        ctx->state->set_bytes(name, read_array<std::uint8_t>(ctx->state_group, name, H5T_NATIVE_UINT8));
        break;
      default:
        throw error(std::string("model file: unsupported entry type at state/") + name);
    }
  } catch (...) {
    return -1;
  }
  return 0;
}

model_file read_model(const std::string& path) {
  if (H5Fis_hdf5(path.c_str()) <= 0) throw file_error("'" + path + "' is not an HDF5 file (expected an esm model)");
  const h5::file f(ESM_H5(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)));
  const hid_t root = f.get();
  if (!h5::has_attribute(root, "format") || h5::read_string_attribute(root, "format") != format_name) {
    throw file_error("'" + path + "' is not an esm model file (is it a dataset? use esm info)");
  }
  const auto version = h5::read_int_attribute(root, "model_schema_version");
  if (version > model_schema_version) {
    throw file_error("model file '" + path + "' has schema version " + std::to_string(version) +
                     "; this esm reads up to " + std::to_string(model_schema_version));
  }
  model_file m;
  auto& i = m.info;
  i.esm_version = h5::read_string_attribute(root, "esm_version");
  i.created = h5::read_string_attribute(root, "created");
  i.space = h5::read_string_attribute(root, "space");
  i.encoding = h5::read_string_attribute(root, "encoding");
  i.feature_names = h5::read_strings_attribute(root, "feature_names");
  i.label = h5::read_string_attribute(root, "label");
  i.reference_ms = h5::read_double_attribute(root, "reference_ms");
  i.dataset_path = h5::read_string_attribute(root, "dataset_path");
  i.dataset_schema_version = h5::read_int_attribute(root, "dataset_schema_version");
  i.dataset_hash = h5::read_string_attribute(root, "dataset_hash");
  i.rows_used = h5::read_int_attribute(root, "rows_used");
  i.rows_excluded = h5::read_int_attribute(root, "rows_excluded");
  i.folds = h5::read_int_attribute(root, "cv_folds");
  if (h5::has_attribute(root, "cv_folds_by")) i.folds_by = h5::read_string_attribute(root, "cv_folds_by");
  i.members = h5::read_int_attribute(root, "members_per_kind");
  i.seed = h5::read_uint_attribute(root, "seed");
  i.kinds = h5::read_strings_attribute(root, "kinds");
  if (h5::has_attribute(root, "label_correction")) i.label_correction = h5::read_string_attribute(root, "label_correction");
  if (h5::has_attribute(root, "adapted_from")) {
    i.adapted_from = h5::read_strings_attribute(root, "adapted_from");
    i.adapted_from_sha256 = h5::read_strings_attribute(root, "adapted_from_sha256");
    i.adapt_rows = h5::read_int_attribute(root, "adapt_rows");
    i.adapt_fit = h5::read_string_attribute(root, "adapt_fit");
  }
  if (h5::has_attribute(root, "precision")) i.precision = h5::read_string_attribute(root, "precision");
  if (version >= 2) read_domain_and_intervals(root, i);

  const h5::group state(ESM_H5(H5Gopen2(root, "state", H5P_DEFAULT)));
  visit_ctx ctx{&m.state, state.get()};
  ESM_H5(H5Ovisit2(state.get(), H5_INDEX_NAME, H5_ITER_INC, visit_state, &ctx, H5O_INFO_BASIC));

  const h5::group cv(ESM_H5(H5Gopen2(root, "cv", H5P_DEFAULT)));
  const auto model = read_strings(cv.get(), "model");
  const auto bin = read_array<std::int32_t>(cv.get(), "bin", H5T_NATIVE_INT32);
  const auto n = read_array<std::int64_t>(cv.get(), "n", H5T_NATIVE_INT64);
  const char* names[8] = {"within_5", "within_10", "mape_percent", "rmse", "r2", "kendall_tau", "spearman_rho",
                          "train_seconds"};
  std::vector<double> cols[8];
  for (int c = 0; c < 8; ++c) cols[c] = read_array<double>(cv.get(), names[c], H5T_NATIVE_DOUBLE);
  const auto coverage = version >= 2 ? read_array<double>(cv.get(), "coverage_90", H5T_NATIVE_DOUBLE) : std::vector<double>{};
  for (std::size_t r = 0; r < model.size(); ++r) {
    cv_row row;
    row.model = model[r];
    row.bin = bin.at(r);
    row.metrics.n = static_cast<std::size_t>(n.at(r));
    row.metrics.within_5 = cols[0].at(r);
    row.metrics.within_10 = cols[1].at(r);
    row.metrics.mape_percent = cols[2].at(r);
    row.metrics.rmse_ms = cols[3].at(r);
    row.metrics.r2 = cols[4].at(r);
    row.metrics.kendall_tau = cols[5].at(r);
    row.metrics.spearman_rho = cols[6].at(r);
    row.train_seconds = cols[7].at(r);
    if (version >= 2) row.coverage_90 = coverage.at(r);
    m.cv.push_back(row);
  }
  return m;
}

/// The whole model file as bytes: built in memory (HDF5's core driver, no backing store), so that a
/// full disk shows as one failing write() of ours, never as HDF5 half-way through its metadata.
std::vector<char> model_image(const model_file& m) {
  const auto fapl = h5::make_plist(H5P_FILE_ACCESS);
  ESM_H5(H5Pset_fapl_core(fapl.get(), std::size_t{1} << 20, 0));
  // 1.8 object headers carry checksums: a damaged model file is refused by HDF5 ("incorrect
  // metadata checksum") instead of being decoded (docs/reliability.md).
  h5::format_1_8{}.apply(fapl.get());
  h5::file f(ESM_H5(H5Fcreate("esm-model-in-memory.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get())));
  const hid_t root = f.get();
  const auto& i = m.info;
  h5::write_attribute(root, "format", std::string_view(format_name));
  h5::write_attribute(root, "model_schema_version", model_schema_version);
  h5::write_attribute(root, "esm_version", std::string_view(i.esm_version));
  h5::write_attribute(root, "created", std::string_view(i.created));
  h5::write_attribute(root, "space", std::string_view(i.space));
  h5::write_attribute(root, "encoding", std::string_view(i.encoding));
  h5::write_attribute(root, "feature_names", i.feature_names);
  h5::write_attribute(root, "label", std::string_view(i.label));
  h5::write_attribute(root, "reference_ms", i.reference_ms);
  h5::write_attribute(root, "dataset_path", std::string_view(i.dataset_path));
  h5::write_attribute(root, "dataset_schema_version", i.dataset_schema_version);
  h5::write_attribute(root, "dataset_hash", std::string_view(i.dataset_hash));
  h5::write_attribute(root, "rows_used", i.rows_used);
  h5::write_attribute(root, "rows_excluded", i.rows_excluded);
  h5::write_attribute(root, "cv_folds", i.folds);
  h5::write_attribute(root, "cv_folds_by", std::string_view(i.folds_by));
  h5::write_attribute(root, "members_per_kind", i.members);
  h5::write_attribute(root, "seed", i.seed);
  h5::write_attribute(root, "kinds", i.kinds);
  h5::write_attribute(root, "label_correction", std::string_view(i.label_correction));
  if (!i.precision.empty()) h5::write_attribute(root, "precision", std::string_view(i.precision));
  h5::write_attribute(root, "units", std::string_view("milliseconds"));
  if (!i.adapted_from.empty()) {
    h5::write_attribute(root, "adapted_from", i.adapted_from);
    h5::write_attribute(root, "adapted_from_sha256", i.adapted_from_sha256);
    h5::write_attribute(root, "adapt_rows", i.adapt_rows);
    h5::write_attribute(root, "adapt_fit", std::string_view(i.adapt_fit));
  }
  write_domain_and_intervals(root, i);
  write_state(root, m.state);
  write_cv(root, m.cv);
  std::vector<char> image = h5::file_image(root);
  f.close();
  return image;
}

}  // namespace

void write_model_file(const std::string& path, model_file m) {
  h5::library_init();
  m.info.esm_version = version_string();
  m.info.created = dataset::iso_utc_now();
  const auto image = model_image(m);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw file_error("cannot create model file '" + path + "': directory missing or not writable");
    out.write(image.data(), static_cast<std::streamsize>(image.size()));
    out.close();
    if (!out) {
      const int err = errno;  // EFBIG or ENOSPC: the file size limit or a full disk
      std::filesystem::remove(tmp, ec);
      throw file_error("writing model file '" + path + "' failed: " + std::strerror(err) + " (disk full?)");
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    throw file_error("cannot write model file '" + path + "': " + why);
  }
}

bool is_model_file(const std::string& path) {
  h5::library_init();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || std::filesystem::file_size(path, ec) == 0) return false;
  try {
    if (H5Fis_hdf5(path.c_str()) <= 0) return false;
    const h5::file f(ESM_H5(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)));
    return h5::has_attribute(f.get(), "format") && h5::read_string_attribute(f.get(), "format") == format_name;
  } catch (const std::exception&) {
    return false;
  }
}

model_file read_model_file(const std::string& path) {
  h5::library_init();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw file_error("model file '" + path + "' does not exist");
  if (std::filesystem::file_size(path, ec) == 0) throw file_error("model file '" + path + "' is an empty file");
  try {
    return read_model(path);
  } catch (const hdf5_error& e) {
    // A truncated or damaged file (or one esm did not write) fails somewhere inside HDF5.
    throw file_error("'" + path + "' is not a readable esm model file (truncated or damaged?): " + e.what());
  }
}

std::string cv_csv(const std::vector<cv_row>& rows, std::string_view folds_by) {
  std::string out =
      "model,bin,n,within_5,within_10,mape_percent,rmse,r2,kendall_tau,spearman_rho,train_seconds,coverage_90,"
      "folds_by\n";
  char line[512];
  const std::string by(folds_by);
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "%s,%s,%zu,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%s\n", r.model.c_str(),
                  r.bin < 0 ? "all" : std::to_string(r.bin).c_str(), r.metrics.n, r.metrics.within_5,
                  r.metrics.within_10, r.metrics.mape_percent, r.metrics.rmse_ms, r.metrics.r2, r.metrics.kendall_tau,
                  r.metrics.spearman_rho, r.train_seconds, r.coverage_90, by.c_str());
    out += line;
  }
  return out;
}

}  // namespace esm::train
