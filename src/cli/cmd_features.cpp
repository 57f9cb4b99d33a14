// esm features: the encoded feature matrix of a dataset as CSV (target, depth bin and fold
// included), so users can try their own ML tools on exactly esm's inputs and folds (whole measuring
// groups per fold where the dataset has them, as esm train).
#include <cstdio>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/features/encoding.hpp"
#include "esm/train/folds.hpp"
#include "esm/train/training_data.hpp"

namespace po = boost::program_options;

namespace esm::cli {

int features(const args& a) {
  po::options_description opts("esm features options");
  std::string dataset_path, encoding, out, label, lut_dir, folds_by;
  long long folds = 5, seed = 0;
  opts.add_options()
      ("dataset", po::value(&dataset_path)->required(), "latency dataset (esm profile)")
      ("encoding", po::value(&encoding)->default_value("fcc"), "onehot | stats | fc | fcc | lut, optionally +extras")
      ("folds", po::value(&folds)->default_value(5), "fold column: the folds esm train makes with the same --folds, --folds-by and --seed")
      ("folds-by", po::value(&folds_by)->default_value("auto"),
       "auto (whole measuring groups per fold when the dataset has them, else rows) | groups | rows (stratified by depth bin)")
      ("seed", po::value(&seed)->default_value(0), "fold seed (esm train --seed)")
      ("label", po::value(&label)->default_value("trimmed"), "trimmed | normalised | interleaved | graph | eager")
      ("lut", po::value(&lut_dir), "lookup-table directory for the lut encoding")
      ("out", po::value(&out)->required(), "CSV file to write");
  po::variables_map vm;
  if (!parse(a, opts, vm, "esm features --dataset D --encoding E [--folds K --folds-by auto|groups|rows --seed S] --out F.csv")) return 0;
  if (folds < 2 || seed < 0) throw usage_error("--folds must be >= 2 and --seed >= 0");
  const auto spec = features::encoding_spec::parse(encoding);
  std::unique_ptr<features::lut_table> lut;
  if (spec.kind == features::encoding_kind::lut) {
    if (lut_dir.empty()) throw usage_error("--encoding lut needs --lut DIR");
    lut = std::make_unique<features::lut_table>(features::lut_table::load_ofa_yaml_dir(lut_dir));
  }
  const auto rule = train::parse_fold_rule(folds_by);
  const auto kind = train::parse_label(label);
  const auto contents = dataset::read(dataset_path, train::needs_samples(kind));
  const auto data = train::load_training_data(contents, kind);
  if (data.y.size() < static_cast<std::size_t>(folds)) throw usage_error("fewer usable rows than --folds");
  const auto groups = train::fold_groups(contents, data.dataset_rows, rule, static_cast<std::size_t>(folds));
  const features::encoder enc(space::find_space(data.space), spec, lut.get());
  const auto x = enc.encode(data.archs);
  const auto fold = train::assign_folds(data.bins, groups, static_cast<std::size_t>(folds), static_cast<std::uint64_t>(seed));
  std::string csv = "arch,depth_bin,fold,target";
  for (const auto& n : enc.feature_names()) csv += "," + n;
  csv += '\n';
  char num[32];
  for (std::size_t r = 0; r < x.rows; ++r) {
    std::snprintf(num, sizeof num, ",%d,%zu,%.17g", data.bins[r], fold[r], data.y[r]);
    csv += '"' + space::find_space(data.space).format(data.archs[r]) + '"' + num;
    for (std::size_t c = 0; c < x.cols; ++c) {
      std::snprintf(num, sizeof num, ",%.17g", x.row(r)[c]);
      csv += num;
    }
    csv += '\n';
  }
  write_output(out, csv);
  const auto& left_out = data.excluded;
  if (left_out.total()) {
    std::fprintf(stderr, "esm features: %zu rows written; left out %zu pending, %zu failed, %zu unresolved drift, %zu NaN/non-positive label\n",
                 data.y.size(), left_out.pending, left_out.failed, left_out.drift_unresolved, left_out.invalid_label);
  }
  return 0;
}

}  // namespace esm::cli
