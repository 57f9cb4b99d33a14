// The predictor: model file -> encoder + ensemble.
#include "esm/predictor.hpp"

#include <cmath>
#include <tuple>

#include "esm/common/error.hpp"
#include "esm/features/encoding.hpp"
#include "esm/surrogate/ensemble.hpp"
#include "esm/train/model_file.hpp"
#include "esm/train/training_data.hpp"

namespace esm {

struct predictor::impl {
  train::model_info info;
  const space::search_space* sp = nullptr;
  std::unique_ptr<features::encoder> enc;
  std::unique_ptr<surrogate::regressor> model;
  double reference_ms = 1.0;
};

predictor::predictor(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
predictor::predictor(predictor&&) noexcept = default;
predictor& predictor::operator=(predictor&&) noexcept = default;
predictor::~predictor() = default;

predictor predictor::load(const std::string& model_path) {
  auto p = std::make_unique<impl>();
  train::model_file m = train::read_model_file(model_path);
  p->info = std::move(m.info);
  p->sp = &space::find_space(p->info.space);
  const auto spec = features::encoding_spec::parse(p->info.encoding);
  if (spec.kind == features::encoding_kind::lut) {
    throw usage_error("model '" + model_path + "' uses the lut encoding, which needs its table: not supported by the predictor");
  }
  p->enc = std::make_unique<features::encoder>(*p->sp, spec);
  if (p->enc->feature_names() != p->info.feature_names) {
    throw usage_error("model '" + model_path + "' was trained on another definition of encoding '" + p->info.encoding + "'");
  }
  p->model = surrogate::load_regressor(m.state);
  if (p->model->feature_count() != p->enc->width()) {
    throw usage_error("model '" + model_path + "': its members expect " + std::to_string(p->model->feature_count()) +
                      " features, the encoding gives " + std::to_string(p->enc->width()));
  }
  p->reference_ms = train::reference_relative(p->info.label) ? p->info.reference_ms : 1.0;
  return predictor(std::move(p));
}

namespace {

space::arch parse_for(std::string_view text, const std::string& model_space) {
  space::arch a = space::parse_any(text);
  if (a.space != model_space) {
    throw usage_error("architecture of space '" + a.space + "' given to a model of space '" + model_space + "'");
  }
  return a;
}

}  // namespace

// Row by row: each arch is parsed (or taken), encoded into its row, and its depth bin and domain
// checked, before the next; the batch's archs are never held at once, so one gene buffer is
// allocated and freed per arch, always the same warm one.
template <class ArchAt>
predictor::result predictor::predict_rows(std::size_t n, ArchAt&& arch_at) const {
  const auto& enc = *impl_->enc;
  features::feature_matrix x;
  x.rows = n;
  x.cols = enc.width();
  x.data.resize(n * x.cols);
  std::vector<int> bins(n);
  result r;
  r.out_of_domain.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const space::arch& a = arch_at(i);
    enc.encode(a, x.data.data() + i * x.cols);
    bins[i] = impl_->sp->depth(a);
    r.out_of_domain[i] = train::outside_reasons(impl_->info.domain, *impl_->sp, a);
  }
  const surrogate::matrix_view v(x.rows, x.cols, x.data);
  if (const auto* e = dynamic_cast<const surrogate::ensemble_regressor*>(impl_->model.get())) {
    auto p = e->predict_with_uncertainty(v);
    r.latency_ms = std::move(p.mean_ms);
    r.std_ms = std::move(p.std_ms);
  } else {
    r.latency_ms = impl_->model->predict(v);
    r.std_ms.assign(r.latency_ms.size(), 0.0);
  }
  const double scale = impl_->reference_ms;
  if (scale != 1.0) {
    for (auto& v2 : r.latency_ms) v2 *= scale;
    for (auto& v2 : r.std_ms) v2 *= scale;
  }
  r.lo_ms.resize(n);
  r.hi_ms.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::tie(r.lo_ms[i], r.hi_ms[i]) = train::interval_for(impl_->info.intervals, r.latency_ms[i], bins[i]);
  }
  return r;
}

predictor::result predictor::predict(std::span<const std::string_view> texts) const {
  space::arch a;
  return predict_rows(texts.size(), [&](std::size_t i) -> const space::arch& {
    a = parse_for(texts[i], impl_->info.space);
    return a;
  });
}

predictor::result predictor::predict(const std::vector<std::string>& texts) const {
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  return predict(std::span<const std::string_view>(views));
}

predictor::result predictor::predict(const std::vector<space::arch>& archs) const {
  return predict_rows(archs.size(), [&](std::size_t i) -> const space::arch& { return archs[i]; });
}

std::size_t predictor::result::outside_count() const {
  std::size_t n = 0;
  for (const auto& why : out_of_domain) n += why.empty() ? 0 : 1;
  return n;
}

const std::string& predictor::space() const { return impl_->info.space; }
const std::string& predictor::encoding() const { return impl_->info.encoding; }
const std::string& predictor::label() const { return impl_->info.label; }
std::string predictor::domain_text() const { return train::describe(impl_->info.domain); }
double predictor::interval_level() const {
  return impl_->info.intervals.known ? impl_->info.intervals.level : std::nan("");
}

const std::vector<std::string>& predictor::adapted_from() const { return impl_->info.adapted_from; }
long long predictor::rows_used() const { return impl_->info.rows_used; }

void predictor::set_reference_ms(double ms) {
  if (!(ms > 0) || !std::isfinite(ms)) throw usage_error("reference latency must be a positive number of ms");
  if (!train::reference_relative(impl_->info.label)) throw usage_error("this model predicts milliseconds directly (label " + impl_->info.label + "): no reference to set");
  impl_->reference_ms = ms;
}

double predictor::reference_ms() const { return impl_->reference_ms; }

}  // namespace esm
