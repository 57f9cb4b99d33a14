// Shared helpers of the surrogate models.
#include "support.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "esm/common/error.hpp"

namespace esm::surrogate::detail {

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed ^ (stream * 0xd1b54a32d192ed03ULL + 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::vector<std::size_t> iota(std::size_t n) {
  std::vector<std::size_t> v(n);
  std::iota(v.begin(), v.end(), std::size_t{0});
  return v;
}

holdout_split split_holdout(std::size_t n, double fraction, std::uint64_t seed) {
  auto order = iota(n);
  rng r(seed);
  shuffle(order, r);
  std::size_t held = static_cast<std::size_t>(std::lround(static_cast<double>(n) * fraction));
  if (n > 0 && held >= n) held = n - 1;
  holdout_split s;
  s.holdout.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(held));
  s.train.assign(order.begin() + static_cast<std::ptrdiff_t>(held), order.end());
  std::sort(s.holdout.begin(), s.holdout.end());
  std::sort(s.train.begin(), s.train.end());
  return s;
}

column_scaling fit_column_scaling(matrix_view x) {
  column_scaling s{std::vector<double>(x.cols, 0.0), std::vector<double>(x.cols, 0.0)};
  const double n = static_cast<double>(x.rows);
  for (std::size_t r = 0; r < x.rows; ++r)
    for (std::size_t c = 0; c < x.cols; ++c) s.mean[c] += x(r, c);
  for (double& m : s.mean) m /= n;
  for (std::size_t r = 0; r < x.rows; ++r)
    for (std::size_t c = 0; c < x.cols; ++c) s.scale[c] += (x(r, c) - s.mean[c]) * (x(r, c) - s.mean[c]);
  for (double& v : s.scale) {
    v = std::sqrt(v / n);
    // Relative to nothing: a column that varies by less than this is noise around a constant.
    if (!(v > 1e-12)) v = 1.0;
  }
  return s;
}

std::vector<double> to_target(std::span<const double> y_ms, bool log_target) {
  std::vector<double> t(y_ms.begin(), y_ms.end());
  if (log_target)
    for (double& v : t) v = std::log(v);
  return t;
}

void write_header(model_state& state, std::string_view kind, std::uint64_t version) {
  state.set_text("kind", std::string(kind));
  state.set_scalar("version", static_cast<double>(version));
}

void check_header(const model_state& state, std::string_view kind, std::uint64_t version) {
  const std::string& actual = state.text("kind");
  if (actual != kind) throw error("model state: kind '" + actual + "' loaded into a " + std::string(kind) + " model");
  const std::size_t v = state.count("version");
  if (v != version)
    throw error("model state: " + std::string(kind) + " state version " + std::to_string(v) + ", this build reads " +
                std::to_string(version));
}

std::vector<double> to_doubles(std::span<const std::size_t> v) { return {v.begin(), v.end()}; }

std::vector<std::size_t> to_counts(std::string_view key, std::span<const double> v) {
  std::vector<std::size_t> out;
  out.reserve(v.size());
  for (double d : v) {
    // 2^53: the largest double that is exactly an integer; beyond it the cast may overflow (UB).
    if (!(d >= 0.0) || d != std::floor(d) || d > 9007199254740992.0) {
      throw error("model state: '" + std::string(key) + "' holds a non-count");
    }
    out.push_back(static_cast<std::size_t>(d));
  }
  return out;
}

std::vector<std::size_t> tuning_rows(std::size_t n, std::size_t max_rows, std::uint64_t seed) {
  auto rows = iota(n);
  if (n <= max_rows) return rows;
  rng r(derive_seed(seed, 0x7u));
  shuffle(rows, r);
  rows.resize(max_rows);
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::uint64_t tuning_key(matrix_view x, std::span<const double> y, const model_state& options) {
  std::uint64_t h = 1469598103934665603ULL;
  const auto mix = [&](const void* p, std::size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 1099511628211ULL;
  };
  mix(&x.rows, sizeof x.rows);
  mix(&x.cols, sizeof x.cols);
  mix(x.data, x.rows * x.cols * sizeof(double));
  mix(y.data(), y.size() * sizeof(double));
  const std::string bytes = options.serialize();
  mix(bytes.data(), bytes.size());
  return h;
}

}  // namespace esm::surrogate::detail
