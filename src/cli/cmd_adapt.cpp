// esm select and esm adapt: few-shot transfer to a new device (issue 29). select picks the archs
// worth measuring there; adapt fits a model for it from those rows and the models of other devices.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/features/encoding.hpp"
#include "esm/space/arch_file.hpp"
#include "esm/train/adapt.hpp"

namespace po = boost::program_options;

namespace esm::cli {

namespace {

const char* const select_usage =
    "usage: esm select --model A.model.h5 [--model B.model.h5 ...] --archs POOL.txt --count K [--seed S] "
    "[--width W] --out picks.txt";
const char* const adapt_usage =
    "usage: esm adapt --model A.model.h5 [--model B.model.h5 ...] --dataset TARGET.h5 --out TARGET.model.h5 "
    "[--label auto]";

std::string percent(double share) {
  char t[32];
  std::snprintf(t, sizeof t, "%.1f%%", 100 * share);
  return t;
}

}  // namespace

int select(const args& a) {
  po::options_description opts("esm select options");
  std::vector<std::string> models;
  std::string pool, width, out;
  long long count = 0, seed = 0;
  opts.add_options()
      ("model", po::value(&models)->required(), "a source model (esm train) of another device; repeat for several")
      ("archs", po::value(&pool)->required(), "the pool: archs, one per line (esm texts or once-for-all configs)")
      ("count", po::value(&count)->required(), "how many archs to pick (K)")
      ("seed", po::value(&seed)->default_value(0), "seed of the k-means++ start (same seed: same picks)")
      ("width", po::value(&width), "width variant of once-for-all configs (e.g. w1.2)")
      ("out", po::value(&out)->required(), "file to write: the picked lines of the pool (its format), in pool order");
  po::variables_map vm;
  if (!parse(a, opts, vm, select_usage)) return exit_code::ok;
  if (count < 1 || seed < 0) throw usage_error("--count >= 1 and --seed >= 0 required");
  const auto sources = train::load_sources(models);
  const auto& sp = space::find_space(sources.front().file.info.space);
  const auto archs = space::read_arch_file(pool, sp, width).archs;
  if (archs.size() < static_cast<std::size_t>(count)) {
    throw usage_error("the pool '" + pool + "' holds " + std::to_string(archs.size()) + " archs, fewer than --count " +
                      std::to_string(count));
  }
  const features::encoder enc(sp, features::encoding_spec::parse(sources.front().file.info.encoding));
  const auto x = enc.encode(archs);
  surrogate::adapted_regressor all(train::source_regressors(sources));
  const auto z = all.source_log_predictions(surrogate::matrix_view(x.rows, x.cols, x.data));
  const auto picks = train::spread_picks(train::selection_embedding(z, train::compact_features(sp, archs)),
                                         static_cast<std::size_t>(count), static_cast<std::uint64_t>(seed));
  // The picked lines as they stand in the pool (esm texts or once-for-all configs): what esm
  // profile's sample.policy = file and esm import read back. read_arch_file took line i + 1 as arch i.
  std::ifstream in(pool);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  if (lines.size() < archs.size()) throw file_error("'" + pool + "' changed while esm select read it");
  std::string text;
  for (auto i : picks) text += lines[i] + '\n';
  write_output(out, text);
  std::cout << "picked " << picks.size() << " of " << archs.size() << " archs from " << pool << " (" << sources.size()
            << " source model" << (sources.size() == 1 ? "" : "s") << ", seed " << seed << ") into " << out << '\n';
  return exit_code::ok;
}

int adapt(const args& a) {
  po::options_description opts("esm adapt options");
  train::adapt_request req;
  std::string out;
  opts.add_options()
      ("model", po::value(&req.sources)->required(), "a source model (esm train) of another device; repeat for several")
      ("dataset", po::value(&req.dataset_path)->required(), "the new device's measured rows (esm profile or esm import; at least 5)")
      ("label", po::value(&req.label)->default_value("auto"), "label of the target rows, as for esm train")
      ("allow-synthetic", po::bool_switch(&req.allow_synthetic), "adapt to a dataset of the synthetic backend (tests only)")
      ("out", po::value(&out)->required(), "model file to write (HDF5); the leave-one-out table goes beside it as .cv.csv");
  po::variables_map vm;
  if (!parse(a, opts, vm, adapt_usage)) return exit_code::ok;
  const auto result = train::adapt(req);
  const auto& cv = result.model.cv;
  const std::string stem = out.size() > 3 && out.ends_with(".h5") ? out.substr(0, out.size() - 3) : out;
  staged_output csv(stem + ".cv.csv", train::cv_csv(cv, result.model.info.folds_by));
  train::write_model_file(out, result.model);
  csv.commit();
  std::ostringstream os;
  os << "adapted from " << req.sources.size() << " source model" << (req.sources.size() == 1 ? "" : "s") << " on "
     << result.model.info.rows_used << " rows of " << req.dataset_path << '\n'
     << "fit: " << result.model.info.adapt_fit << '\n';
  for (const auto& row : cv) {
    char line[200];
    std::snprintf(line, sizeof line, "leave-one-out %-22s +-10%% %6s  MAPE %6.2f%%  Spearman %.3f", row.model.c_str(),
                  percent(row.metrics.within_10).c_str(), row.metrics.mape_percent, row.metrics.spearman_rho);
    os << line << (std::isnan(row.coverage_90) ? "" : "  90% interval coverage " + percent(row.coverage_90)) << '\n';
  }
  os << "model: " << out << "  (leave-one-out table: " << stem << ".cv.csv)\n";
  std::cout << os.str();
  return exit_code::ok;
}

}  // namespace esm::cli
