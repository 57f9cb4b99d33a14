// esm._esm: the nanobind module behind the esm Python package. Every function is a thin call into
// esm's C++ libraries (spaces, samplers, the network IR, backends, the measurement runner, the
// dataset reader, the predictor); python/esm/ adds types, docstrings and pandas on top.
//
// Errors: esm::usage_error (bad input, naming the token; file_error included) becomes ValueError,
// any other esm::error RuntimeError. Long calls (predict, bench, the reference executor) release
// the GIL.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "esm/backend/backend.hpp"
#include "esm/backend/parameters.hpp"
#include "esm/backend/reference.hpp"
#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/dataset/fields.hpp"
#include "esm/measure/policy.hpp"
#include "esm/measure/runner.hpp"
#include "esm/predictor.hpp"
#include "esm/space/ofa_config.hpp"
#include "esm/space/sampler.hpp"
#include "esm/space/space.hpp"
#include "esm/version.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

/// A numpy array that owns `values` (moved to the heap, freed with the array).
template <class T>
nb::object to_numpy(std::vector<T>&& values, std::initializer_list<std::size_t> shape) {
  auto* heap = new std::vector<T>(std::move(values));
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::cast(nb::ndarray<nb::numpy, T>(heap->data(), shape, owner));
}

template <class T>
nb::object to_numpy(std::vector<T>&& values) {
  const std::size_t n = values.size();
  return to_numpy(std::move(values), {n});
}

/// A column of a table of structs: row.*member for every row.
template <class Row, class T>
nb::object column(const std::vector<Row>& rows, T Row::*member) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.*member);
  return to_numpy(std::move(out));
}

esm::net::network build(const std::string& arch_text, int batch) {
  if (batch <= 0 || batch > 4096) throw esm::usage_error("batch must be in 1..4096, got " + std::to_string(batch));
  const auto a = esm::space::parse_any(arch_text);
  return esm::space::find_space(a.space).build(a, batch);
}

nb::list spaces() {
  nb::list out;
  for (const auto* s : esm::space::all_spaces()) {
    nb::dict d;
    d["name"] = std::string(s->name());
    d["choices"] = s->choices_text();
    d["variants"] = s->variants();
    d["resolutions"] = s->resolutions();
    d["depth_bins"] = s->depth_bins();
    d["gene_names"] = s->gene_names();
    d["architectures"] = static_cast<double>(s->count({}));
    out.append(d);
  }
  return out;
}

std::vector<std::string> sample(const std::string& space_name, long long count, const std::string& policy, long long seed,
                                const std::optional<std::string>& width, const std::optional<int>& resolution,
                                const std::optional<std::map<int, double>>& bin_weights) {
  const auto& sp = esm::space::find_space(space_name);
  esm::space::sample_request req;
  req.policy = esm::space::parse_policy(policy);
  // The checks of `esm sample`'s options, with the keyword names of esm.sample.
  if (count <= 0) throw esm::usage_error("count must be positive, got " + std::to_string(count));
  if (seed < 0) throw esm::usage_error("seed must be non-negative, got " + std::to_string(seed));
  req.count = static_cast<std::size_t>(count);
  req.seed = static_cast<std::uint64_t>(seed);
  if (width) req.constraints.variant = *width;
  if (resolution) req.constraints.resolution = *resolution;
  if (bin_weights) {
    if (req.policy != esm::space::sample_policy::weighted) throw esm::usage_error("bin_weights needs policy 'weighted'");
    req.bin_weights = *bin_weights;
  } else if (req.policy == esm::space::sample_policy::weighted) {
    throw esm::usage_error("policy 'weighted' needs bin_weights");
  }
  std::vector<std::string> out;
  for (const auto& a : esm::space::sample_archs(sp, req)) out.push_back(sp.format(a));
  return out;
}

std::string describe_json(const std::string& arch_text, int batch) {
  if (batch <= 0 || batch > 4096) throw esm::usage_error("batch must be in 1..4096, got " + std::to_string(batch));
  return esm::space::describe_json(esm::space::parse_any(arch_text), batch);
}

std::string canonical(const std::string& arch_text) { return esm::space::format_any(esm::space::parse_any(arch_text)); }

// --- once-for-all arch configs ------------------------------------------------------------------

/// A Python value of an OFA config as C++, or a usage_error (ValueError) naming the key.
template <class T>
T ofa_value(nb::handle value, const std::string& key) {
  try {
    return nb::cast<T>(value);
  } catch (const nb::cast_error&) {
    throw esm::usage_error("OFA config key '" + key + "': expected " +
                           (std::is_same_v<T, int> ? std::string("an integer") : std::string("a list of numbers")) + ", got " +
                           std::string(nb::inst_name(value).c_str()));
  }
}

/// The canonical text of the architecture an OFA config (a dict: ks/e/d/r or d/e/w/r) denotes.
std::string from_ofa(const nb::dict& config, const std::string& space_name, const std::string& width) {
  const auto& sp = esm::space::find_space(space_name);
  const auto keys = esm::space::ofa_keys(sp);
  esm::space::ofa_config c;
  for (const auto& [k, v] : config) {
    const std::string key = nb::cast<std::string>(nb::str(k));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      std::string known;
      for (const auto name : keys) known += (known.empty() ? "" : ", ") + std::string(name);
      throw esm::usage_error("unknown OFA config key '" + key + "' for " + space_name + " (" + known + ")");
    }
    if (key == "r") {
      c.r = ofa_value<int>(v, key);
    } else if (key == "e") {
      c.e = ofa_value<std::vector<double>>(v, key);
    } else {
      (key == "ks" ? c.ks : key == "d" ? c.d : c.w) = ofa_value<std::vector<int>>(v, key);
    }
  }
  return sp.format(esm::space::from_ofa(sp, c, width));
}

/// The OFA config (dict) of an architecture text; expand ratios stay integers where the space's are.
nb::dict to_ofa(const std::string& arch_text) {
  const auto a = esm::space::parse_any(arch_text);
  const auto& sp = esm::space::find_space(a.space);
  const auto c = esm::space::to_ofa(sp, a);
  nb::dict d;
  if (c.ks) d["ks"] = *c.ks;
  if (c.e) {
    const bool integral = std::all_of(c.e->begin(), c.e->end(), [](double v) { return v == std::floor(v); });
    if (integral) {
      d["e"] = std::vector<int>(c.e->begin(), c.e->end());
    } else {
      d["e"] = *c.e;
    }
  }
  if (c.d) d["d"] = *c.d;
  if (c.w) d["w"] = *c.w;
  if (c.r) d["r"] = *c.r;
  return d;
}

// --- predictor --------------------------------------------------------------------------------

/// The result as a dict of numpy arrays; later fields of esm::predictor::result (intervals,
/// out-of-domain flags) are one line each here. The out-of-domain reasons go over as a dict of
/// the flagged rows only: one Python list per arch was most of a large batch's time (65,536
/// objects, and the cyclic GC running over them).
nb::dict prediction_dict(esm::predictor::result&& r) {
  nb::dict d;
  const std::size_t n = r.latency_ms.size();
  d["latency_ms"] = to_numpy(std::move(r.latency_ms));
  d["std_ms"] = to_numpy(std::move(r.std_ms));
  d["lo_ms"] = to_numpy(std::move(r.lo_ms));
  d["hi_ms"] = to_numpy(std::move(r.hi_ms));
  std::vector<std::uint8_t> inside(n, 1);
  nb::dict reasons;
  for (std::size_t i = 0; i < n; ++i) {
    if (r.out_of_domain[i].empty()) continue;
    inside[i] = 0;
    reasons[nb::int_(i)] = nb::cast(r.out_of_domain[i]);
  }
  d["in_domain"] = to_numpy(std::move(inside));
  d["reasons"] = reasons;
  return d;
}

/// Texts are read in place from the str objects (their UTF-8 form, cached by Python for ASCII
/// strings) rather than copied into std::strings: the copy was a tenth of a large batch's time.
/// A tuple of the items keeps them alive while the GIL is released.
nb::dict predict(const esm::predictor& p, nb::handle archs) {
  const auto items = nb::steal<nb::tuple>(PySequence_Tuple(archs.ptr()));
  if (!items.is_valid()) throw nb::python_error();
  std::vector<std::string_view> texts;
  texts.reserve(items.size());
  for (nb::handle h : items) {
    if (!PyUnicode_Check(h.ptr())) {
      throw nb::type_error(("archs must be str, got " + std::string(nb::inst_name(h).c_str())).c_str());
    }
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(h.ptr(), &size);
    if (data == nullptr) throw nb::python_error();
    texts.emplace_back(data, static_cast<std::size_t>(size));
  }
  esm::predictor::result r;
  {
    nb::gil_scoped_release unlocked;
    r = p.predict(std::span<const std::string_view>(texts));
  }
  return prediction_dict(std::move(r));
}

// --- datasets ---------------------------------------------------------------------------------

nb::dict provenance_dict(const esm::dataset::contents& c) {
  const auto& p = c.prov;
  nb::dict d;
  d["schema_version"] = c.schema_version;
  d["esm_version"] = c.esm_version;
  d["esm_git_commit"] = c.esm_git_commit;
  d["hdf5_version"] = c.hdf5_version;
  d["units"] = c.units;
  d["end_time"] = c.end_time;
  d["active_run"] = c.active_run;
  const auto field = [&d](const esm::dataset::attribute_field& f, const auto& value) { d[std::string(f.name).c_str()] = value; };
  esm::dataset::for_each_field(p, field);
  d["slurm_job_id"] = c.slurm_job_id;
  d["slurm_array_job_id"] = c.slurm_array_job_id;
  d["slurm_array_task_id"] = c.slurm_array_task_id;
  nb::list runs;
  for (const auto& r : c.runs) {
    nb::dict run;
    run["index"] = r.index;
    const auto run_field = [&run](const esm::dataset::attribute_field& f, const auto& value) {
      run[std::string(f.name).c_str()] = value;
    };
    esm::dataset::for_each_field(r.info, run_field);
    esm::dataset::for_each_field(r.end, run_field);
    runs.append(run);
  }
  d["runs"] = runs;
  return d;
}

/// {"columns": {name: numpy array or list}, "provenance": dict}: /archs and /results side by side.
nb::dict read_dataset(const std::string& path) {
  esm::dataset::contents c;
  {
    nb::gil_scoped_release unlocked;
    c = esm::dataset::read(path);
  }
  using esm::dataset::arch_entry;
  using esm::dataset::result_row;
  const auto& a = c.archs;
  const auto& r = c.results;
  nb::dict cols;
  std::vector<std::string> text;
  for (const auto& e : a) text.push_back(e.text);
  cols["arch"] = text;
  cols["id"] = column(a, &arch_entry::id);
  cols["depth"] = column(a, &arch_entry::depth);
  cols["resolution"] = column(a, &arch_entry::resolution);
  cols["macs"] = column(a, &arch_entry::macs);
  cols["params"] = column(a, &arch_entry::params);
  // /results: every column of the schema's declaration; enumerations by name, texts as str.
  esm::dataset::for_each_column(esm::dataset::row_tag<result_row>{}, [&](const esm::dataset::column& col, auto member) {
    using value = std::remove_cvref_t<decltype(std::declval<result_row>().*member)>;
    const std::string name(col.name);
    if (name == "arch_id") return;  // = id, checked by the reader
    if constexpr (std::is_array_v<value>) {
      std::vector<std::string> texts;
      for (const auto& row : r) texts.push_back(esm::dataset::get_text(row.*member));
      cols[name.c_str()] = texts;
    } else {
      if constexpr (std::is_same_v<value, std::int32_t>) {
        if (col.values != esm::dataset::column_enum::none) {
          std::vector<std::string> names;
          for (const auto& row : r) names.push_back(esm::dataset::column_enum_name(col.values, row.*member));
          cols[name.c_str()] = names;
          return;
        }
      }
      cols[name.c_str()] = column(r, member);
    }
  });
  // Genes: one column per gene, as the provenance's gene_names say.
  const std::size_t genes = c.prov.gene_names.size();
  std::vector<std::int32_t> gene_matrix;
  gene_matrix.reserve(a.size() * genes);
  for (const auto& e : a) {
    if (e.genes.size() != genes) throw esm::file_error("'" + path + "': /archs/genes width differs from gene_names");
    gene_matrix.insert(gene_matrix.end(), e.genes.begin(), e.genes.end());
  }
  nb::dict out;
  out["columns"] = cols;
  out["genes"] = to_numpy(std::move(gene_matrix), {a.size(), genes});
  out["provenance"] = provenance_dict(c);
  return out;
}

// --- bench and the reference executor ---------------------------------------------------------

nb::dict bench(const std::string& arch_text, const std::string& backend_name, int batch, int reps, int warmup_runs,
               double warmup_ms, int threads, const std::string& mode, std::uint64_t seed,
               const std::string& precision_text) {
  esm::backend::compile_options options;
  if (threads < 0) throw esm::usage_error("threads must be >= 0, got " + std::to_string(threads));
  options.threads = threads;
  options.seed = seed;
  options.prec = esm::backend::parse_precision(precision_text);
  esm::measure::measure_policy policy;
  policy.reps = reps;
  policy.warmup_runs = warmup_runs;
  policy.warmup_ms = warmup_ms;
  policy.mode = esm::measure::parse_measure_mode(mode);
  policy.drift_every = 0;  // one arch: no window for the drift guard (as esm bench)
  policy.validate();
  const esm::net::network arch_net = build(arch_text, batch);
  const auto be = esm::backend::make_backend(backend_name);

  using steady = std::chrono::steady_clock;
  const auto ms_since = [](steady::time_point t) { return std::chrono::duration<double, std::milli>(steady::now() - t).count(); };
  esm::measure::measurement m;
  std::string description;
  double compile_ms = 0;
  {
    nb::gil_scoped_release unlocked;
    auto phase = steady::now();
    const auto exe = be->compile(arch_net, options);
    compile_ms = ms_since(phase);
    description = exe->description();
    std::unique_ptr<esm::backend::executable> ref_exe;
    if (policy.mode != esm::measure::measure_mode::plain) {
      ref_exe = be->compile(build(std::string(esm::measure::reference_arch_text), batch), options);
    }
    m = esm::measure::measure_single([&exe] { return exe->timed_run_ms(); },
                                     [&ref_exe] { return ref_exe->timed_run_ms(); }, policy);
  }
  const auto& st = m.stats;
  nb::dict stats;
  stats["n"] = st.n;
  stats["trimmed_n"] = st.trimmed_n;
  stats["trimmed_mean_ms"] = st.trimmed_mean_ms;
  stats["median_ms"] = st.median_ms;
  stats["mean_ms"] = st.mean_ms;
  stats["std_ms"] = st.std_ms;
  stats["min_ms"] = st.min_ms;
  stats["max_ms"] = st.max_ms;
  stats["p10_ms"] = st.p10_ms;
  stats["p90_ms"] = st.p90_ms;
  stats["noise"] = st.noise;
  nb::dict d;
  d["arch"] = arch_net.arch;
  d["batch"] = batch;
  d["backend"] = std::string(be->name());
  d["backend_version"] = be->version();
  d["precision"] = std::string(esm::backend::to_string(options.prec));
  d["description"] = description;
  d["policy"] = esm::measure::to_text(policy);
  d["mode"] = std::string(esm::measure::to_string(policy.mode));
  d["stats"] = stats;
  d["samples_ms"] = to_numpy(std::move(m.samples_ms));
  d["warmup_runs"] = m.warmup_runs;
  d["warmup_ms"] = m.warmup_ms;
  d["compile_ms"] = compile_ms;
  d["reference_ms"] = m.reference_ms;
  d["normalised"] = m.normalised;
  return d;
}

/// The deterministic weights every backend uses (BN folded), one (weight, bias) pair of flat
/// float32 arrays per layer (empty for layers without parameters).
nb::list parameters(const std::string& arch_text, int batch, std::uint64_t seed) {
  auto params = esm::backend::make_parameters(build(arch_text, batch), seed);
  nb::list out;
  for (auto& p : params) out.append(nb::make_tuple(to_numpy(std::move(p.weight)), to_numpy(std::move(p.bias))));
  return out;
}

nb::object make_input(const std::string& arch_text, int batch, std::uint64_t seed) {
  const esm::net::network n = build(arch_text, batch);
  const auto& s = n.input;
  return to_numpy(esm::backend::make_input(n, seed), {static_cast<std::size_t>(s.n), static_cast<std::size_t>(s.c),
                                                      static_cast<std::size_t>(s.h), static_cast<std::size_t>(s.w)});
}

/// Logits (N x K, float64) of the reference executor on `input` (N x 3 x R x R float32).
nb::object reference_forward(const std::string& arch_text, nb::ndarray<const float, nb::ndim<4>, nb::c_contig> input,
                             std::uint64_t seed) {
  const int batch = static_cast<int>(input.shape(0));
  const esm::net::network n = build(arch_text, batch);
  const auto& s = n.input;
  if (input.shape(1) != static_cast<std::size_t>(s.c) || input.shape(2) != static_cast<std::size_t>(s.h) ||
      input.shape(3) != static_cast<std::size_t>(s.w)) {
    throw esm::usage_error("input must be N x " + std::to_string(s.c) + " x " + std::to_string(s.h) + " x " +
                           std::to_string(s.w) + " for " + n.arch);
  }
  std::vector<float> x(input.data(), input.data() + input.size());
  std::vector<double> logits;
  {
    nb::gil_scoped_release unlocked;
    logits = esm::backend::reference_forward(n, esm::backend::make_parameters(n, seed), x);
  }
  const auto& o = n.output_shape();
  return to_numpy(std::move(logits), {static_cast<std::size_t>(o.n), static_cast<std::size_t>(o.c * o.h * o.w)});
}

}  // namespace

NB_MODULE(_esm, m) {
  m.doc() = "esm's C++ libraries (private: use the esm package)";
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const esm::usage_error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const esm::error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  m.def("version", &esm::version_string);
  m.def("spaces", &spaces);
  m.def("sample", &sample, "space"_a, "count"_a, "policy"_a, "seed"_a, "width"_a.none(), "resolution"_a.none(),
        "bin_weights"_a.none());
  m.def("describe_json", &describe_json, "arch"_a, "batch"_a);
  m.def("canonical", &canonical, "arch"_a);
  m.def("from_ofa", &from_ofa, "config"_a, "space"_a, "width"_a);
  m.def("to_ofa", &to_ofa, "arch"_a);
  m.def("read_dataset", &read_dataset, "path"_a);
  m.def("bench", &bench, "arch"_a, "backend"_a, "batch"_a, "reps"_a, "warmup_runs"_a, "warmup_ms"_a, "threads"_a,
        "mode"_a, "seed"_a, "precision"_a);
  m.def("parameters", &parameters, "arch"_a, "batch"_a, "seed"_a);
  m.def("make_input", &make_input, "arch"_a, "batch"_a, "seed"_a);
  m.def("reference_forward", &reference_forward, "arch"_a, "input"_a, "seed"_a);
  m.attr("default_weights_seed") = esm::backend::compile_options{}.seed;

  nb::class_<esm::predictor>(m, "Predictor")
      .def_static("load", &esm::predictor::load, "path"_a)
      .def("predict", &predict, "archs"_a)
      .def_prop_ro("space", &esm::predictor::space)
      .def_prop_ro("encoding", &esm::predictor::encoding)
      .def_prop_ro("label", &esm::predictor::label)
      .def_prop_ro("domain", &esm::predictor::domain_text)
      .def_prop_ro("interval_level", &esm::predictor::interval_level)
      .def_prop_ro("adapted_from", &esm::predictor::adapted_from)
      .def_prop_ro("rows_used", &esm::predictor::rows_used)
      .def_prop_rw("reference_ms", &esm::predictor::reference_ms, &esm::predictor::set_reference_ms);
}
