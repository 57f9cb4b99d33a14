// The MLP: Eigen training (double, one thread) and the single-precision batched predict kernel.
#include "esm/surrogate/mlp.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "dense_forward.hpp"
#include "eigen_support.hpp"
#include "esm/common/error.hpp"
#include "esm/common/random.hpp"
#include "esm/surrogate/folds.hpp"
#include "esm/surrogate/tuning_cache.hpp"
#include "support.hpp"

namespace esm::surrogate {

namespace {

constexpr std::uint64_t state_version = 1;
const detail::option_field<mlp_options> option_fields[] = {
    {"learning_rate", &mlp_options::learning_rate},
    {"min_learning_rate", &mlp_options::min_learning_rate},
    {"lr_patience", &mlp_options::lr_patience},
    {"batch_size", &mlp_options::batch_size},
    {"max_epochs", &mlp_options::max_epochs},
    {"patience", &mlp_options::patience},
    {"validation_fraction", &mlp_options::validation_fraction},
    {"weight_decay", &mlp_options::weight_decay},
};
constexpr double adam_beta1 = 0.9;
constexpr double adam_beta2 = 0.999;
constexpr double adam_epsilon = 1e-8;

/// Sub-streams of one fit's seed.
enum seed_stream : std::uint64_t { split_stream = 1, init_stream = 2, order_stream = 3 };

}  // namespace

std::string_view to_string(mlp_loss loss) {
  switch (loss) {
    case mlp_loss::log_mse: return "log_mse";
    case mlp_loss::relative_error: return "relative_error";
  }
  return "?";
}

mlp_loss parse_mlp_loss(std::string_view text) {
  if (text == "log_mse") return mlp_loss::log_mse;
  if (text == "relative_error") return mlp_loss::relative_error;
  throw usage_error("unknown MLP loss '" + std::string(text) + "' (log_mse, relative_error)");
}

namespace {

/// The options as a model state stores them.
void write_options_state(model_state& s, const mlp_options& o) {
  s.set_vector("options/hidden", detail::to_doubles(o.hidden));
  s.set_text("options/loss", std::string(to_string(o.loss)));
  detail::write_options<mlp_options>(s, o, option_fields);
}

}  // namespace

void mlp_options::validate() const {
  auto fail = [](const std::string& what) { throw usage_error("mlp options: " + what); };
  if (hidden.empty()) fail("hidden needs at least one layer");
  for (std::size_t h : hidden)
    if (h == 0) fail("hidden layer widths must be >= 1");
  if (!(learning_rate > 0.0)) fail("learning_rate must be > 0");
  if (!(min_learning_rate > 0.0 && min_learning_rate <= learning_rate))
    fail("min_learning_rate must be in (0, learning_rate]");
  if (lr_patience == 0) fail("lr_patience must be >= 1");
  if (batch_size == 0) fail("batch_size must be >= 1");
  if (max_epochs == 0) fail("max_epochs must be >= 1");
  if (max_steps == 0) fail("max_steps must be >= 1");
  if (patience == 0) fail("patience must be >= 1");
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0)) fail("validation_fraction must be in [0, 1)");
  if (!(weight_decay >= 0.0 && weight_decay * learning_rate < 1.0))
    fail("weight_decay must be >= 0 with weight_decay * learning_rate < 1");
}

namespace {

/// The parameters training fits (the prediction kernel is built from them afterwards): layer l
/// maps a_l (in x batch) to w[l] a_l + b[l], ReLU on all but the last.
struct parameters {
  std::vector<Eigen::MatrixXd> w;  ///< out x in
  std::vector<Eigen::VectorXd> b;
  std::vector<double> input_mean;
  std::vector<double> input_scale;
  double target_mean = 0.0;  ///< log-latency standardisation of the output
  double target_scale = 1.0;
};

}  // namespace

struct mlp_regressor::network : parameters {
  detail::dense_forward kernel;

  void build_kernel() {
    std::vector<detail::dense_forward::layer_view> views;
    for (std::size_t l = 0; l < w.size(); ++l)
      views.push_back({static_cast<std::size_t>(w[l].cols()), static_cast<std::size_t>(w[l].rows()), w[l].data(),
                       b[l].data()});
    kernel = detail::dense_forward(input_mean, input_scale, views);
  }
};

namespace {

/// Activations of one forward pass, kept for the backward pass.
struct forward_pass {
  std::vector<Eigen::MatrixXd> a;  ///< a[0] = input, a[l + 1] = layer l's output (after ReLU)
};

void forward(const std::vector<Eigen::MatrixXd>& w, const std::vector<Eigen::VectorXd>& b,
             const Eigen::MatrixXd& input, forward_pass& pass) {
  pass.a.resize(w.size() + 1);
  pass.a[0] = input;
  for (std::size_t l = 0; l < w.size(); ++l) {
    pass.a[l + 1].noalias() = w[l] * pass.a[l];
    pass.a[l + 1].colwise() += b[l];
    if (l + 1 < w.size()) pass.a[l + 1] = pass.a[l + 1].cwiseMax(0.0);
  }
}

/// Loss over a batch and its gradient with respect to the (standardised) output o.
/// t: standardised log-latency targets; y: latencies.
double loss_and_gradient(mlp_loss loss, const Eigen::RowVectorXd& o, const Eigen::RowVectorXd& t,
                         const Eigen::RowVectorXd& y, double target_mean, double target_scale,
                         Eigen::RowVectorXd* grad) {
  const double n = static_cast<double>(o.size());
  if (loss == mlp_loss::log_mse) {
    const Eigen::RowVectorXd diff = o - t;
    if (grad) *grad = (2.0 / n) * diff;
    // Reported in log-latency units (not standardised) so losses compare across fits.
    return target_scale * target_scale * diff.squaredNorm() / n;
  }
  const Eigen::RowVectorXd ratio = ((o.array() * target_scale + target_mean).exp() / y.array()).matrix();
  const Eigen::RowVectorXd r = ratio.array() - 1.0;
  if (grad) *grad = (r.array().sign() * ratio.array() * (target_scale / n)).matrix();
  return r.array().abs().sum() / n;
}

struct adam_state {
  std::vector<Eigen::MatrixXd> mw, vw;
  std::vector<Eigen::VectorXd> mb, vb;
  std::size_t step = 0;
};

template <class Param, class Grad>
void adam_update(Param& p, const Grad& g, Param& m, Param& v, double lr, double c1, double c2, double decay) {
  m = adam_beta1 * m + (1.0 - adam_beta1) * g;
  v = adam_beta2 * v + (1.0 - adam_beta2) * g.cwiseProduct(g);
  if (decay > 0.0) p *= 1.0 - lr * decay;
  p.array() -= lr * (m.array() / c1) / ((v.array() / c2).sqrt() + adam_epsilon);
}

}  // namespace

mlp_regressor::mlp_regressor(mlp_options options, tuning_cache* cache) : options_(std::move(options)), cache_(cache) {
  options_.validate();
}
mlp_regressor::~mlp_regressor() = default;
mlp_regressor::mlp_regressor(mlp_regressor&&) noexcept = default;
mlp_regressor& mlp_regressor::operator=(mlp_regressor&&) noexcept = default;
mlp_regressor::mlp_regressor(const mlp_regressor& other)
    : options_(other.options_),
      cache_(other.cache_),
      net_(other.net_ ? std::make_unique<network>(*other.net_) : nullptr),
      epochs_run_(other.epochs_run_),
      best_epoch_(other.best_epoch_),
      best_loss_(other.best_loss_) {}
mlp_regressor& mlp_regressor::operator=(const mlp_regressor& other) {
  if (this != &other) *this = mlp_regressor(other);
  return *this;
}

bool mlp_regressor::fitted() const { return net_ != nullptr; }
std::size_t mlp_regressor::feature_count() const { return net_ ? net_->input_mean.size() : 0; }

namespace {

/// Inner 3-fold CV over the width x decay grid; squared log error summed over held-out rows.
mlp_options tune_mlp(matrix_view all_x, std::span<const double> all_y_ms, mlp_options base) {
  base.tune = false;
  constexpr std::size_t inner_folds = 3;
  constexpr std::uint64_t tuning_seed = 0x15ULL;
  if (all_x.rows < 2 * inner_folds) return base;
  // Large row sets are searched on a fixed subset (the final fit still sees every row).
  const auto rows = detail::tuning_rows(all_x.rows, detail::max_tuning_rows, tuning_seed);
  const matrix sub_x = select_rows(all_x, rows);
  const std::vector<double> sub_y = select(all_y_ms, rows);
  const matrix_view x = sub_x;
  const std::span<const double> y_ms = sub_y;
  const auto fold_of_row = kfold(x.rows, inner_folds, tuning_seed);
  mlp_options best = base;
  double best_sse = std::numeric_limits<double>::infinity();
  for (const std::size_t width : mlp_tuning_widths) {
    for (const double decay : mlp_tuning_decays) {
      mlp_options o = base;
      o.hidden = {width, width};
      o.weight_decay = decay;
      double sse = 0;
      for (std::size_t f = 0; f < inner_folds; ++f) {
        const auto split = split_fold(fold_of_row, f);
        mlp_regressor m(o);
        m.fit(select_rows(x, split.train), select(y_ms, split.train), detail::derive_seed(tuning_seed, f));
        const auto p = m.predict(select_rows(x, split.test));
        for (std::size_t i = 0; i < p.size(); ++i) {
          const double e = std::log(p[i] / y_ms[split.test[i]]);
          sse += e * e;
        }
      }
      if (sse < best_sse) {  // strictly better: ties keep the narrower, more decayed earlier point
        best_sse = sse;
        best = o;
      }
    }
  }
  best.tune = true;
  return best;
}

/// What tune_mlp's choice depends on besides the rows, as a state to hash: every option.
model_state search_inputs(const mlp_options& o) {
  model_state s;
  write_options_state(s, o);
  s.set_scalar("options/max_steps", static_cast<double>(o.max_steps));  // a training setting, never saved
  return s;
}

/// Rows as standardised columns: a batch is a block of columns and every layer one matrix product.
struct columns {
  Eigen::MatrixXd z;     ///< features x samples
  Eigen::RowVectorXd t;  ///< standardised log-latency
  Eigen::RowVectorXd y;  ///< latency in ms
};

columns to_columns(matrix_view x, std::span<const double> y_ms, std::span<const double> log_y,
                   std::span<const std::size_t> rows, const parameters& p) {
  columns out;
  const auto n = static_cast<Eigen::Index>(rows.size());
  out.z.resize(static_cast<Eigen::Index>(x.cols), n);
  out.t.resize(n);
  out.y.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const std::size_t r = rows[static_cast<std::size_t>(i)];
    for (std::size_t c = 0; c < x.cols; ++c)
      out.z(static_cast<Eigen::Index>(c), i) = (x(r, c) - p.input_mean[c]) / p.input_scale[c];
    out.t[i] = (log_y[r] - p.target_mean) / p.target_scale;
    out.y[i] = y_ms[r];
  }
  return out;
}

/// Standardisation of inputs and log-latency targets, from the training rows only: the validation
/// rows stay unseen until evaluation.
void fit_scaling(matrix_view x, std::span<const double> log_y, std::span<const std::size_t> train, parameters& p) {
  const matrix x_train = select_rows(x, train);
  const auto scaling = detail::fit_column_scaling(x_train);
  p.input_mean = scaling.mean;
  p.input_scale = scaling.scale;
  const auto t_train = select(log_y, train);
  const auto tv = detail::as_eigen(std::span<const double>(t_train));
  p.target_mean = tv.mean();
  const double var = (tv.array() - p.target_mean).square().mean();
  p.target_scale = var > 1e-24 ? std::sqrt(var) : 1.0;
}

/// He initialisation for the ReLU layers, LeCun (variance 1 / fan-in) for the linear output.
void initialise_weights(std::size_t inputs, const std::vector<std::size_t>& hidden, std::uint64_t seed,
                        parameters& p) {
  rng init(seed);
  std::size_t fan_in = inputs;
  std::vector<std::size_t> widths = hidden;
  widths.push_back(1);
  for (std::size_t l = 0; l < widths.size(); ++l) {
    const double sd = std::sqrt((l + 1 < widths.size() ? 2.0 : 1.0) / static_cast<double>(fan_in));
    Eigen::MatrixXd w(static_cast<Eigen::Index>(widths[l]), static_cast<Eigen::Index>(fan_in));
    for (Eigen::Index j = 0; j < w.cols(); ++j)
      for (Eigen::Index i = 0; i < w.rows(); ++i) w(i, j) = sd * init.normal();
    p.w.push_back(std::move(w));
    p.b.push_back(Eigen::VectorXd::Zero(static_cast<Eigen::Index>(widths[l])));
    fan_in = widths[l];
  }
}

/// The loss of the whole set `c` under p's current weights.
double loss_on(mlp_loss loss, const parameters& p, const columns& c) {
  forward_pass pass;
  forward(p.w, p.b, c.z, pass);
  return loss_and_gradient(loss, pass.a.back().row(0), c.t, c.y, p.target_mean, p.target_scale, nullptr);
}

/// Adam on shuffled mini-batches of the training columns, one epoch at a time.
class minibatch_adam {
 public:
  minibatch_adam(const mlp_options& o, const parameters& p, const columns& train, std::uint64_t order_seed)
      : options_(o), train_(train), order_rng_(order_seed), order_(detail::iota(static_cast<std::size_t>(train.z.cols()))),
        batch_(std::min(o.batch_size, order_.size())) {
    for (std::size_t l = 0; l < p.w.size(); ++l) {
      adam_.mw.push_back(Eigen::MatrixXd::Zero(p.w[l].rows(), p.w[l].cols()));
      adam_.vw.push_back(adam_.mw.back());
      adam_.mb.push_back(Eigen::VectorXd::Zero(p.b[l].size()));
      adam_.vb.push_back(adam_.mb.back());
    }
  }

  /// Epochs the step budget allows (at least one): it bounds a fit's cost on large row sets
  /// (100,000 rows at batch 32 would be 2,800 steps an epoch); small sets stop on patience or
  /// max_epochs long before it.
  [[nodiscard]] std::size_t max_epochs() const {
    const std::size_t steps_per_epoch = (order_.size() + batch_ - 1) / batch_;
    const std::size_t budget = std::max<std::size_t>(1, options_.max_steps / std::max<std::size_t>(1, steps_per_epoch));
    return std::min(options_.max_epochs, budget);
  }

  /// One pass over the training columns in a fresh order, with step size lr.
  void epoch(parameters& p, double lr) {
    detail::shuffle(order_, order_rng_);
    for (std::size_t first = 0; first < order_.size(); first += batch_) {
      gather(first, static_cast<Eigen::Index>(std::min(batch_, order_.size() - first)));
      step(p, lr);
    }
  }

 private:
  /// The batch of order_[first, first + nb) into zb_, tb_, yb_.
  void gather(std::size_t first, Eigen::Index nb) {
    zb_.resize(train_.z.rows(), nb);
    tb_.resize(nb);
    yb_.resize(nb);
    for (Eigen::Index i = 0; i < nb; ++i) {
      const auto src = static_cast<Eigen::Index>(order_[first + static_cast<std::size_t>(i)]);
      zb_.col(i) = train_.z.col(src);
      tb_[i] = train_.t[src];
      yb_[i] = train_.y[src];
    }
  }

  /// Forward, backward and one Adam update of every layer on the gathered batch.
  void step(parameters& p, double lr) {
    forward(p.w, p.b, zb_, pass_);
    (void)loss_and_gradient(options_.loss, pass_.a.back().row(0), tb_, yb_, p.target_mean, p.target_scale, &grad_o_);
    delta_ = grad_o_;
    ++adam_.step;
    const double c1 = 1.0 - std::pow(adam_beta1, static_cast<double>(adam_.step));
    const double c2 = 1.0 - std::pow(adam_beta2, static_cast<double>(adam_.step));
    for (std::size_t l = p.w.size(); l-- > 0;) {
      grad_w_.noalias() = delta_ * pass_.a[l].transpose();
      const Eigen::VectorXd grad_b = delta_.rowwise().sum();
      if (l > 0) {
        // Back through layer l, then through the ReLU of layer l - 1 (zero where it was off).
        Eigen::MatrixXd back = p.w[l].transpose() * delta_;
        delta_ = (pass_.a[l].array() > 0.0).select(back, 0.0);
      }
      adam_update(p.w[l], grad_w_, adam_.mw[l], adam_.vw[l], lr, c1, c2, options_.weight_decay);
      adam_update(p.b[l], grad_b, adam_.mb[l], adam_.vb[l], lr, c1, c2, 0.0);
    }
  }

  const mlp_options& options_;
  const columns& train_;
  rng order_rng_;
  std::vector<std::size_t> order_;
  std::size_t batch_;
  adam_state adam_;
  forward_pass pass_;
  Eigen::MatrixXd zb_, delta_, grad_w_;
  Eigen::RowVectorXd tb_, yb_, grad_o_;
};

/// Early stopping with step-size halving on plateaus: remembers the best epoch's weights.
class plateau_tracker {
 public:
  plateau_tracker(const mlp_options& o, const parameters& p)
      : options_(o), lr_(o.learning_rate), best_w_(p.w), best_b_(p.b) {}

  /// Records epoch `epoch`'s loss under p's weights.
  void record(std::size_t epoch, double loss, const parameters& p) {
    if (loss < best_) {
      best_ = loss;
      best_epoch_ = epoch;
      best_w_ = p.w;
      best_b_ = p.b;
      since_best_ = 0;
      since_lr_ = 0;
    } else {
      ++since_best_;
      if (++since_lr_ >= options_.lr_patience) {
        lr_ = std::max(lr_ * 0.5, options_.min_learning_rate);
        since_lr_ = 0;
      }
    }
  }

  [[nodiscard]] bool patience_left() const { return since_best_ < options_.patience; }
  [[nodiscard]] double learning_rate() const { return lr_; }
  [[nodiscard]] double best_loss() const { return best_; }
  [[nodiscard]] std::size_t best_epoch() const { return best_epoch_; }
  /// Puts the best epoch's weights back into p.
  void restore_best(parameters& p) && {
    p.w = std::move(best_w_);
    p.b = std::move(best_b_);
  }

 private:
  const mlp_options& options_;
  double lr_;
  std::vector<Eigen::MatrixXd> best_w_;
  std::vector<Eigen::VectorXd> best_b_;
  double best_ = std::numeric_limits<double>::infinity();
  std::size_t best_epoch_ = 0, since_best_ = 0, since_lr_ = 0;
};

struct training_run {
  std::size_t epochs = 0, best_epoch = 0;
  double best_loss = 0;
};

/// Trains p's initial weights on `train` until the loss on `valid` (on `train` when valid is
/// empty) stops improving; leaves the best epoch's weights in p. Throws when it never was finite.
training_run train(const mlp_options& o, parameters& p, const columns& train, const columns& valid,
                   std::uint64_t order_seed) {
  minibatch_adam adam(o, p, train, order_seed);
  plateau_tracker plateau(o, p);
  const columns& judged = valid.z.cols() > 0 ? valid : train;
  const std::size_t max_epochs = adam.max_epochs();
  std::size_t epoch = 0;
  while (epoch < max_epochs && plateau.patience_left()) {
    ++epoch;
    adam.epoch(p, plateau.learning_rate());
    plateau.record(epoch, loss_on(o.loss, p, judged), p);
  }
  if (!std::isfinite(plateau.best_loss()))
    throw error("mlp fit: the loss was never finite (diverged); lower learning_rate or check the data");
  const training_run run{epoch, plateau.best_epoch(), plateau.best_loss()};
  std::move(plateau).restore_best(p);
  return run;
}

}  // namespace

void mlp_regressor::fit(matrix_view x, std::span<const double> y_ms, std::uint64_t seed) {
  check_training_data("mlp", x, y_ms);
  if (options_.tune) {
    const auto search = [&] { return tune_mlp(x, y_ms, options_); };
    options_ = cache_ ? cache_->mlp(detail::tuning_key(x, y_ms, search_inputs(options_)), search) : search();
  }
  const auto split = detail::split_holdout(x.rows, options_.validation_fraction,
                                           detail::derive_seed(seed, split_stream));
  auto net = std::make_unique<network>();
  const auto log_y = detail::to_target(y_ms, true);
  fit_scaling(x, log_y, split.train, *net);
  const columns train_columns = to_columns(x, y_ms, log_y, split.train, *net);
  const columns valid_columns = to_columns(x, y_ms, log_y, split.holdout, *net);
  initialise_weights(x.cols, options_.hidden, detail::derive_seed(seed, init_stream), *net);
  const training_run run = train(options_, *net, train_columns, valid_columns, detail::derive_seed(seed, order_stream));
  net->build_kernel();
  net_ = std::move(net);
  epochs_run_ = run.epochs;
  best_epoch_ = run.best_epoch;
  best_loss_ = run.best_loss;
}

void mlp_regressor::predict_into(matrix_view x, std::span<double> out_ms) const {
  check_prediction_args("mlp", fitted(), feature_count(), x, out_ms);
  net_->kernel.run(x, out_ms);
  for (double& v : out_ms) v = std::exp(net_->target_mean + net_->target_scale * v);
}

model_state mlp_regressor::save() const {
  if (!fitted()) throw error("mlp save: the model is not fitted");
  model_state s;
  detail::write_header(s, kind(), state_version);
  write_options_state(s, options_);
  s.set_vector("input_mean", net_->input_mean);
  s.set_vector("input_scale", net_->input_scale);
  s.set_scalar("target_mean", net_->target_mean);
  s.set_scalar("target_scale", net_->target_scale);
  s.set_scalar("layers", static_cast<double>(net_->w.size()));
  for (std::size_t l = 0; l < net_->w.size(); ++l) {
    const auto& w = net_->w[l];
    // Stored row-major (out x in) as the state's convention; Eigen holds it column-major.
    const detail::row_matrix rm = w;
    const std::string prefix = "layer/" + std::to_string(l) + "/";
    s.set_numbers(prefix + "weight", {static_cast<std::uint64_t>(w.rows()), static_cast<std::uint64_t>(w.cols())},
                  std::vector<double>(rm.data(), rm.data() + rm.size()));
    s.set_vector(prefix + "bias", std::vector<double>(net_->b[l].data(), net_->b[l].data() + net_->b[l].size()));
  }
  s.set_scalar("epochs_run", static_cast<double>(epochs_run_));
  s.set_scalar("best_epoch", static_cast<double>(best_epoch_));
  s.set_scalar("best_validation_loss", best_loss_);
  return s;
}

void mlp_regressor::load(const model_state& state) {
  detail::check_header(state, kind(), state_version);
  mlp_options o;
  o.hidden = detail::to_counts("options/hidden", state.numbers("options/hidden"));
  o.loss = parse_mlp_loss(state.text("options/loss"));
  detail::read_options<mlp_options>(state, o, option_fields);
  o.validate();

  auto net = std::make_unique<network>();
  net->input_mean = state.numbers("input_mean");
  const std::uint64_t d = net->input_mean.size();
  net->input_scale = state.numbers("input_scale", std::vector<std::uint64_t>{d});
  net->target_mean = state.scalar("target_mean");
  net->target_scale = state.scalar("target_scale");
  const std::size_t layers = state.count("layers");
  if (layers != o.hidden.size() + 1) throw error("model state: mlp 'layers' does not match 'options/hidden'");
  std::uint64_t fan_in = d;
  for (std::size_t l = 0; l < layers; ++l) {
    const std::uint64_t out = l < o.hidden.size() ? o.hidden[l] : 1;
    const std::string prefix = "layer/" + std::to_string(l) + "/";
    const auto& w = state.numbers(prefix + "weight", std::vector<std::uint64_t>{out, fan_in});
    const auto& b = state.numbers(prefix + "bias", std::vector<std::uint64_t>{out});
    net->w.push_back(Eigen::Map<const detail::row_matrix>(w.data(), static_cast<Eigen::Index>(out),
                                                          static_cast<Eigen::Index>(fan_in)));
    net->b.push_back(Eigen::Map<const Eigen::VectorXd>(b.data(), static_cast<Eigen::Index>(out)));
    fan_in = out;
  }
  net->build_kernel();
  options_ = std::move(o);
  net_ = std::move(net);
  epochs_run_ = state.count("epochs_run");
  best_epoch_ = state.count("best_epoch");
  best_loss_ = state.scalar("best_validation_loss");
}

std::unique_ptr<regressor> mlp_regressor::clone_unfitted() const {
  return std::make_unique<mlp_regressor>(options_, cache_);
}

}  // namespace esm::surrogate
