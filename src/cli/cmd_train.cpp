// esm train: encodings + surrogate ensembles + k-fold CV spread over the MPI ranks -> model file.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/cluster/mpi.hpp"
#include "esm/features/encoding.hpp"
#include "esm/surrogate/regressor.hpp"
#include "esm/train/cross_run.hpp"
#include "esm/train/cross_validation.hpp"
#include "esm/train/domain.hpp"
#include "esm/train/group_effects.hpp"
#include "esm/train/intervals.hpp"
#include "esm/train/model_file.hpp"
#include "esm/train/pipeline.hpp"
#include "esm/train/training_data.hpp"

namespace po = boost::program_options;

namespace esm::cli {

namespace {

constexpr const char* usage_line =
    "mpirun -n RANKS esm train --dataset DATASET.h5 --out MODEL.h5 [--encoding fcc] [--kinds KIND,...] "
    "[--folds 5] [--folds-by auto|groups|rows] [--members 5] [--seed 0] "
    "[--label auto|trimmed|normalised|interleaved|graph|eager] [--validate-on B.h5] [--allow-synthetic]";

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string fmt(double v, const char* f) {
  if (!std::isfinite(v)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string table(const train::cv_report& r, const train::training_data& d, const std::string& encoding) {
  std::ostringstream os;
  char line[256];
  os << "cross-validation: " << d.y.size() << " archs, label " << train::to_string(d.label) << ", encoding "
     << encoding << ", " << r.fold_of_row.size() << " rows in folds, wall " << fmt(r.wall_seconds, "%.1f") << " s\n";
  if (r.folds_by == "groups") {
    os << "folds: by measuring group (" << r.fold_group_count << " groups, each whole in one fold; "
       << "--folds-by rows: rows stratified by depth bin)\n";
  } else {
    os << "folds: by row, stratified by depth bin\n";
  }
  std::snprintf(line, sizeof line, "%-10s %6s %7s %7s %7s %9s %7s %7s %7s %9s %7s\n", "model", "n", "+-5%", "+-10%",
                "MAPE%", "RMSE", "R2", "tau", "rho", "train s", "cov90%");
  os << line;
  for (const auto& m : r.models) {
    const auto& o = m.overall;
    double hits = 0;
    for (double h : m.interval_hits) hits += h;
    const double coverage = m.interval_hits.empty() ? std::nan("") : hits / static_cast<double>(m.interval_hits.size());
    std::snprintf(line, sizeof line, "%-10s %6zu %7s %7s %7s %9s %7s %7s %7s %9s %7s\n", m.model.c_str(), o.n,
                  fmt(100 * o.within_5, "%.1f").c_str(), fmt(100 * o.within_10, "%.1f").c_str(),
                  fmt(o.mape_percent, "%.2f").c_str(), fmt(o.rmse_ms, "%.4g").c_str(), fmt(o.r2, "%.4f").c_str(),
                  fmt(o.kendall_tau, "%.4f").c_str(), fmt(o.spearman_rho, "%.4f").c_str(),
                  fmt(m.train_seconds, "%.2f").c_str(), fmt(100 * coverage, "%.1f").c_str());
    os << line;
  }
  os << "cov90%: held-out coverage of the 90% conformal interval (cross-conformal over the folds)\n";
  os << "\n+-10% accuracy per depth bin:\n";
  std::snprintf(line, sizeof line, "%-6s %5s", "depth", "n");
  os << line;
  for (const auto& m : r.models) {
    std::snprintf(line, sizeof line, " %9s", m.model.c_str());
    os << line;
  }
  os << '\n';
  for (std::size_t b = 0; b < r.models.front().per_bin.size(); ++b) {
    std::snprintf(line, sizeof line, "%-6d %5zu", r.models.front().per_bin[b].label, r.models.front().per_bin[b].metrics.n);
    os << line;
    for (const auto& m : r.models) {
      std::snprintf(line, sizeof line, " %9s", fmt(100 * m.per_bin[b].metrics.within_10, "%.1f").c_str());
      os << line;
    }
    os << '\n';
  }
  if (!r.stack_weights.empty()) {
    os << "stacked weights (final model; the CV row blends each fold with weights fitted on the other folds):";
    for (std::size_t k = 0; k < r.stack_weights.size(); ++k) os << ' ' << r.models[k].model << '=' << fmt(r.stack_weights[k], "%.3f");
    os << '\n';
  }
  const auto& x = d.excluded;
  if (x.total()) {
    os << "excluded rows: " << x.pending << " pending, " << x.failed << " failed, " << x.drift_unresolved
       << " unresolved drift, " << x.invalid_label << " NaN/non-positive label\n";
  }
  return os.str();
}

std::vector<train::cv_row> cv_rows(const train::cv_report& r, const std::vector<int>& bins) {
  std::vector<train::cv_row> rows;
  for (const auto& m : r.models) {
    const auto coverage = [&](int bin) {
      double hit = 0, n = 0;
      for (std::size_t i = 0; i < bins.size(); ++i) {
        if (bin >= 0 && bins[i] != bin) continue;
        hit += m.interval_hits[i];
        n += 1;
      }
      return n > 0 ? hit / n : std::nan("");
    };
    rows.push_back({m.model, -1, m.overall, m.train_seconds, coverage(-1)});
    for (const auto& b : m.per_bin) rows.push_back({m.model, b.label, b.metrics, 0, coverage(b.label)});
  }
  return rows;
}

/// The CV model whose out-of-fold predictions stand for the final model: its intervals are fitted on them.
const train::cv_model_result& final_cv_model(const train::cv_report& r, const std::string& blend) {
  if (r.models.size() == 1) return r.models.front();
  const std::string name = blend == "stacked" ? "stacked" : "ensemble";
  for (const auto& m : r.models) {
    if (m.model == name) return m;
  }
  return r.models.back();
}

std::string correction_text(const train::group_effect_estimate& e) {
  return "group_effects groups=" + std::to_string(e.groups) + " shared_sd=" + fmt(e.shared_sd, "%.5f") +
         " within_sd=" + fmt(e.within_sd, "%.5f") + " shrinkage=" + fmt(e.shrinkage, "%.3f");
}

/// One line on the label correction: what was estimated on all rows, and the folds' range.
std::string group_line(const train::cv_options& cv, const train::cv_report& r, const train::group_effect_estimate& e) {
  if (!train::has_groups(cv.label_groups)) return "";
  double lo = 1e300, hi = 0;
  for (const auto& f : r.group_effects) {
    lo = std::min(lo, f.shared_sd);
    hi = std::max(hi, f.shared_sd);
  }
  if (e.shared_sd <= 0) {
    return "group effects: " + std::to_string(e.groups) + " measuring groups share no level error; labels fitted as measured\n";
  }
  return "group effects: " + std::to_string(e.groups) + " measuring groups share a level error of " +
         fmt(100 * e.shared_sd, "%.2f") + "% sd (folds " + fmt(100 * lo, "%.2f") + "-" + fmt(100 * hi, "%.2f") +
         "%, within-group " + fmt(100 * e.within_sd, "%.2f") + "%); fits used labels corrected by each group's "
         "shrunk effect (shrinkage " + fmt(e.shrinkage, "%.2f") + "; --group-effects off: as measured)\n";
}

/// The final model's predictions of B's archs, with their 90% intervals, scored against B.
train::cross_run_scores score_retest(const train::retest_data& r, const surrogate::regressor& model,
                                     const train::model_info& info, const features::encoding_spec& spec,
                                     const features::lut_table* lut, const std::vector<double>& label_a) {
  const auto x = features::encoder(space::find_space(r.b.space), spec, lut).encode(r.b.archs);
  const auto p = model.predict(surrogate::matrix_view(x.rows, x.cols, x.data));
  std::vector<double> lo(p.size()), hi(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) std::tie(lo[i], hi[i]) = train::interval_for(info.intervals, p[i], r.b.bins[i]);
  return train::score_cross_run(p, lo, hi, r.b.y, r.a_row, label_a);
}

/// Rows of the .cv.csv: crossrun (the model on B, common archs), retest (A's labels on B), and
/// crossrun_new (the model on B's archs that A lacks) when there are any.
std::vector<train::cv_row> cross_run_rows(const train::cross_run_scores& s) {
  std::vector<train::cv_row> rows{{"crossrun", -1, s.model, 0, s.coverage_90}, {"retest", -1, s.retest, 0, std::nan("")}};
  if (s.new_archs > 0) rows.push_back({"crossrun_new", -1, s.model_new, 0, s.coverage_90_new});
  return rows;
}

std::string cross_run_lines(const train::retest_data& r, const train::cross_run_scores& s) {
  std::ostringstream os;
  os << "\ncross-run validation on " << r.path << " (label " << train::to_string(r.b.label) << "): " << s.common
     << " archs in common with the training dataset, " << s.new_archs << " new\n";
  os << "cross-run model vs B:   MAPE " << fmt(s.model.mape_percent, "%.2f") << "%, +-10% "
     << fmt(100 * s.model.within_10, "%.1f") << "%, median signed error " << fmt(100 * s.median_signed_error, "%+.2f")
     << "%, cov90% " << fmt(100 * s.coverage_90, "%.1f") << "\n";
  os << "cross-run retest A vs B: MAPE " << fmt(s.retest.mape_percent, "%.2f") << "%, +-10% "
     << fmt(100 * s.retest.within_10, "%.1f") << "%, median signed error " << fmt(100 * s.retest_median_signed, "%+.2f")
     << "% (A's labels as the prediction of B's: the test-retest gap)\n";
  os << "cross-run ratio model/retest MAPE: " << fmt(s.mape_ratio, "%.2f")
     << " (1: as close to B as re-measuring; about 0.71: no model error, B's noise alone, when both runs are "
        "equally noisy)\n";
  if (s.new_archs > 0) {
    os << "cross-run new archs (in B only): " << s.new_archs << ", MAPE " << fmt(s.model_new.mape_percent, "%.2f")
       << "%, +-10% " << fmt(100 * s.model_new.within_10, "%.1f") << "%\n";
  }
  return os.str();
}

std::string csv_path(const std::string& model) {
  const std::string suffix = ".h5";
  const std::string stem = model.size() > suffix.size() && model.compare(model.size() - suffix.size(), suffix.size(), suffix) == 0
                               ? model.substr(0, model.size() - suffix.size())
                               : model;
  return stem + ".cv.csv";
}

}  // namespace

int train(const args& a) {
  po::options_description opts("esm train options");
  std::string dataset_path, out, encoding, kinds, label, lut_dir, blend, group_effects, folds_by, validate_on;
  long long folds = 5, members = 5, seed = 0;
  bool allow_synthetic = false;
  opts.add_options()
      ("dataset", po::value(&dataset_path)->required(), "latency dataset (esm profile)")
      ("out", po::value(&out)->required(), "model file to write (HDF5); the CV table goes beside it as .cv.csv")
      ("encoding", po::value(&encoding)->default_value("fcc"), "onehot | stats | fc | fcc | lut, optionally +extras")
      ("kinds", po::value(&kinds)->default_value(surrogate::kind_names(surrogate::kind_set::defaults, ",")),
       ("model kinds, comma-separated: " + surrogate::kind_names()).c_str())
      ("folds", po::value(&folds)->default_value(5), "cross-validation folds")
      ("folds-by", po::value(&folds_by)->default_value("auto"),
       "auto (groups when the dataset has measuring groups: interleaved profiles; else rows) | groups (each "
       "measuring group whole in one fold, folds balanced over depth bins as far as whole groups allow) | rows "
       "(rows stratified by depth bin)")
      ("members", po::value(&members)->default_value(5), "ensemble members per kind")
      ("seed", po::value(&seed)->default_value(0), "seed of folds and fits (same seed: same numbers on any rank count)")
      ("label", po::value(&label)->default_value("auto"),
       "auto (graph on a GPU dataset with graph-replay latencies, else trimmed) | trimmed | normalised "
       "(reference-normalised latency) | interleaved (normalised; within each interleaved group, burst "
       "minima compared round by round) | graph | eager")
      ("lut", po::value(&lut_dir), "lookup-table directory (OFA YAML layout) for the lut encoding")
      ("blend", po::value(&blend)->default_value("stacked"), "final model's kind weights: stacked (fitted on CV predictions) | equal")
      ("group-effects", po::value(&group_effects)->default_value("auto"),
       "auto (fit on labels corrected for the shared level error of each measuring group, when the dataset "
       "has measuring groups: interleaved profiles) | off (fit on the labels as measured)")
      ("validate-on", po::value(&validate_on),
       "an independent re-measurement B of the same archs (esm profile of the same job into another file): "
       "score the final model on B's labels beside the A-vs-B test-retest gap (A's labels as the prediction)")
      ("allow-synthetic", po::bool_switch(&allow_synthetic),
       "train on a dataset of the synthetic backend (computed latencies; for scale tests only)");
  for (const auto& arg : a) {
    if (arg == "--help" || arg == "-h") {
      po::variables_map vm;
      return parse(a, opts, vm, usage_line) ? 0 : 0;
    }
  }
  cluster::environment mpi;
  const auto world = cluster::communicator::world();
  try {
    train::training_request req;
    std::unique_ptr<features::lut_table> lut;
    cluster::all_or_none(world, [&] {
      po::variables_map vm;
      (void)parse(a, opts, vm, usage_line);
      if (folds < 2 || members < 1 || seed < 0) throw usage_error("--folds >= 2, --members >= 1 and --seed >= 0 required");
      req.cv.kinds = split_list(kinds);
      req.cv.folds = static_cast<std::size_t>(folds);
      req.cv.members = static_cast<std::size_t>(members);
      req.cv.seed = static_cast<std::uint64_t>(seed);
      req.cv.validate();
      if (blend != "stacked" && blend != "equal") throw usage_error("unknown --blend '" + blend + "' (stacked, equal)");
      if (group_effects != "auto" && group_effects != "off") {
        throw usage_error("unknown --group-effects '" + group_effects + "' (auto, off)");
      }
      req.folds_by = train::parse_fold_rule(folds_by);
      req.encoding = features::encoding_spec::parse(encoding);
      (void)train::parse_label(label == "auto" ? "trimmed" : label);  // a bad --label is refused before reading
      if (req.encoding.kind == features::encoding_kind::lut) {
        if (lut_dir.empty()) throw usage_error("--encoding lut needs --lut DIR");
        lut = std::make_unique<features::lut_table>(features::lut_table::load_ofa_yaml_dir(lut_dir));
      }
    });
    req.dataset_path = dataset_path;
    req.label = label;
    req.lut = lut.get();
    req.group_effects = group_effects == "auto";
    req.allow_synthetic = allow_synthetic;
    req.final_model = blend == "stacked" ? train::final_fit::stacked : train::final_fit::equal;
    std::optional<train::retest_data> retest;
    req.before_fitting = [&](const train::training_data& d) {
      if (world.rank() != 0) return;
      if (!validate_on.empty()) retest = train::load_retest(validate_on, d, allow_synthetic);
      std::ofstream probe(out + ".probe");
      if (!probe) throw usage_error("cannot write '" + out + "': directory missing or not writable");
      probe.close();
      std::filesystem::remove(out + ".probe");
    };
    const auto result = train::run_training(world, req);
    const auto& data = result.data;
    const auto& cv = result.cv;
    const auto& report = result.report;
    const auto& spec = req.encoding;
    std::string summary;
    // Collective, so that a failed write (disk full) ends every rank with rank 0's one line.
    cluster::all_or_none(world, [&] {
      if (world.rank() != 0) return;
      train::model_file m;
      m.info.space = data.space;
      m.info.encoding = spec.text();
      m.info.feature_names = features::encoder(space::find_space(data.space), spec, lut.get()).feature_names();
      m.info.label = std::string(train::to_string(data.label));
      m.info.reference_ms = data.reference_ms;
      m.info.dataset_path = std::filesystem::absolute(dataset_path).string();
      m.info.dataset_schema_version = data.dataset_schema_version;
      m.info.dataset_hash = data.dataset_hash;
      m.info.precision = data.precision;
      m.info.rows_used = static_cast<std::int64_t>(data.y.size());
      m.info.rows_excluded = static_cast<std::int64_t>(data.excluded.total());
      m.info.folds = folds;
      m.info.folds_by = report.folds_by;
      m.info.members = members;
      m.info.seed = cv.seed;
      m.info.kinds = cv.kinds;
      if (train::has_groups(cv.label_groups)) m.info.label_correction = correction_text(result.effects);
      m.info.domain = train::domain_of(space::find_space(data.space), data.archs);
      const auto& oof = final_cv_model(report, blend);
      m.info.intervals = train::fit_intervals(oof.predictions, data.y, data.bins, train::interval_level);
      m.state = result.model->save();
      m.cv = cv_rows(report, data.bins);
      auto csv_rows = m.cv;
      std::string cross_run;
      if (retest) {
        const auto scores = score_retest(*retest, *result.model, m.info, spec, lut.get(), data.y);
        for (auto& row : cross_run_rows(scores)) csv_rows.push_back(std::move(row));
        cross_run = cross_run_lines(*retest, scores);
      }
      // Both files, or neither, are replaced.
      staged_output csv(csv_path(out), train::cv_csv(csv_rows, report.folds_by));
      train::write_model_file(out, m);
      csv.commit();
      summary = table(report, data, spec.text()) + group_line(cv, report, result.effects) + cross_run + "model: " + out +
                "  (CV table: " + csv_path(out) + ")\n";
    });
    std::cout << summary;
    return exit_code::ok;
  } catch (const cluster::collective_error& e) {
    return cluster::report(world, e);
  } catch (const std::exception& e) {
    cluster::abort_all(world, e.what());
  }
}

}  // namespace esm::cli
