// esm::predictor: the C++ API for NAS code. Load a model file once, then predict the latency of
// batches of architectures (encode + ensemble predict), with the ensemble's uncertainty.
//
//   auto p = esm::predictor::load("mbv3.model.h5");
//   auto r = p.predict({"ofa-mbv3:w1.2:r192:d=...:k=...:e=..."});
//   // r.latency_ms[0], r.std_ms[0], r.lo_ms[0]..r.hi_ms[0] (90% interval), r.out_of_domain[0]
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "esm/space/space.hpp"

namespace esm {

class predictor {
 public:
  /// Throws usage_error for a missing or invalid model file.
  [[nodiscard]] static predictor load(const std::string& model_path);
  predictor(predictor&&) noexcept;
  predictor& operator=(predictor&&) noexcept;
  ~predictor();

  struct result {
    std::vector<double> latency_ms;  ///< ensemble mean
    std::vector<double> std_ms;      ///< ensemble member spread (standard deviation)
    /// Conformal interval (interval_level(), 0.9) from the CV residuals of the arch's depth bin;
    /// NaN for models written before esm stored intervals (model schema 1).
    std::vector<double> lo_ms, hi_ms;
    /// Per arch, why it lies outside the training domain (width, resolution or depth bin not
    /// trained); empty: inside, or the model predates the recorded domain.
    std::vector<std::vector<std::string>> out_of_domain;
    [[nodiscard]] std::size_t outside_count() const;
  };

  /// Canonical texts of the model's space; throws usage_error naming the first bad one.
  [[nodiscard]] result predict(const std::vector<std::string>& arch_texts) const;
  /// The same, over views (bindings hand their strings' buffers without copying them).
  [[nodiscard]] result predict(std::span<const std::string_view> arch_texts) const;
  [[nodiscard]] result predict(const std::vector<space::arch>& archs) const;

  [[nodiscard]] const std::string& space() const;
  [[nodiscard]] const std::string& encoding() const;
  [[nodiscard]] const std::string& label() const;  ///< "trimmed_mean" | "normalised" | "interleaved" | "graph" | "eager"
  /// The training domain, e.g. "widths w1.2, resolutions 128..128, depths 10-20" ("unknown ..."
  /// for schema-1 model files).
  [[nodiscard]] std::string domain_text() const;
  [[nodiscard]] double interval_level() const;  ///< NaN when the model has no intervals
  /// Models made by esm adapt: the source model files (absolute paths) it recalibrates; empty for
  /// a model trained by esm train.
  [[nodiscard]] const std::vector<std::string>& adapted_from() const;
  [[nodiscard]] bool adapted() const { return !adapted_from().empty(); }
  /// Rows of the target device the model was fitted on (esm train: every usable row).
  [[nodiscard]] long long rows_used() const;
  /// Latency of the reference network on the target machine: normalised predictions are scaled
  /// by it (default: the training data's median reference latency).
  void set_reference_ms(double ms);
  [[nodiscard]] double reference_ms() const;

 private:
  struct impl;
  explicit predictor(std::unique_ptr<impl> p);
  template <class ArchAt>
  [[nodiscard]] result predict_rows(std::size_t n, ArchAt&& arch_at) const;
  std::unique_ptr<impl> impl_;
};

/// The name used in the ESM issue tracker and papers.
using Predictor = predictor;

}  // namespace esm
