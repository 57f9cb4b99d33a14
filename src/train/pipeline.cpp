// The training pipeline shared by `esm train` and `esm loop` (design: include/esm/train/pipeline.hpp).
#include "esm/train/pipeline.hpp"

#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/space/space.hpp"

namespace esm::train {

training_result run_training(const cluster::communicator& world, const training_request& req) {
  training_result out;
  out.cv = req.cv;
  cluster::all_or_none(world, [&] {
    // A bad label is refused before reading; the interleaved label reads the raw samples too.
    const bool with_samples = req.label != "auto" && needs_samples(parse_label(req.label));
    const auto contents = dataset::read(req.dataset_path, with_samples);
    if (contents.prov.synthetic && !req.allow_synthetic) {
      throw usage_error("'" + req.dataset_path + "' is synthetic (backend " + contents.prov.backend +
                        ": latencies computed from MACs, not measured); pass --allow-synthetic to train on it anyway");
    }
    out.dataset_archs = contents.archs.size();
    out.data = load_training_data(contents, resolve_label(req.label, contents));
    if (out.data.y.size() < out.cv.folds) {
      throw usage_error("dataset has " + std::to_string(out.data.y.size()) + " usable rows, fewer than " +
                        req.folds_setting + " " + std::to_string(out.cv.folds));
    }
    if (req.group_effects) out.cv.label_groups = measuring_groups(contents, out.data.dataset_rows);
    out.cv.fold_groups = fold_groups(contents, out.data.dataset_rows, req.folds_by, out.cv.folds);
    const features::encoder enc(space::find_space(out.data.space), req.encoding, req.lut);
    out.x = enc.encode(out.data.archs);
    if (req.before_fitting) req.before_fitting(out.data);
  });
  const surrogate::matrix_view view(out.x.rows, out.x.cols, out.x.data);
  out.report = cross_validate(world, view, out.data.y, out.data.bins, out.cv);
  if (req.final_model != final_fit::none) {
    out.model.emplace(fit_final(world, view, out.data.y, out.cv,
                                req.final_model == final_fit::stacked ? out.report.stack_weights : std::vector<double>{},
                                &out.effects));
  }
  return out;
}

}  // namespace esm::train
