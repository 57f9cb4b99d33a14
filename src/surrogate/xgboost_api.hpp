// The XGBoost C API layer: one checked-call helper and one owner per handle kind.
//
// Every XGBoost C call goes through ESM_XGB(call): a nonzero return throws esm::xgboost_error
// carrying the call text, the caller's source location and XGBGetLastError().
#pragma once

#include <xgboost/c_api.h>

#include <cstddef>
#include <initializer_list>
#include <source_location>
#include <string>
#include <string_view>
#include <utility>

#include "esm/surrogate/xgboost.hpp"

namespace esm::surrogate::xgb {

[[noreturn]] void throw_error(std::string_view call, std::source_location where);

/// Throws xgboost_error when `result` (an XGBoost C return code) is nonzero.
inline void check(int result, std::string_view call, std::source_location where = std::source_location::current()) {
  if (result != 0) throw_error(call, where);
}

/// For destructors: logs a failed free on stderr instead of throwing.
void check_noexcept(int result, std::string_view call) noexcept;

}  // namespace esm::surrogate::xgb

/// Checked XGBoost call: ESM_XGB(XGBoosterCreate(...)) throws esm::xgboost_error on failure.
#define ESM_XGB(call) ::esm::surrogate::xgb::check((call), #call)

namespace esm::surrogate::xgb {

/// Owner of one XGBoost handle freed by `Free`. Move-only; raw handles cross into C calls via get().
template <class Handle, int (*Free)(Handle), const char* FreeName>
class owner {
 public:
  owner() = default;
  explicit owner(Handle h) : h_(h) {}
  owner(const owner&) = delete;
  owner& operator=(const owner&) = delete;
  owner(owner&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  owner& operator=(owner&& other) noexcept {
    if (this != &other) {
      reset();
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }
  ~owner() { reset(); }

  [[nodiscard]] Handle get() const { return h_; }
  [[nodiscard]] explicit operator bool() const { return h_ != nullptr; }
  void reset() noexcept {
    if (h_ != nullptr) check_noexcept(Free(std::exchange(h_, nullptr)), FreeName);
  }

 private:
  Handle h_ = nullptr;
};

inline constexpr char dmatrix_free_name[] = "XGDMatrixFree";
inline constexpr char booster_free_name[] = "XGBoosterFree";

using dmatrix = owner<DMatrixHandle, XGDMatrixFree, dmatrix_free_name>;
using booster = owner<BoosterHandle, XGBoosterFree, booster_free_name>;

/// A DMatrix of rows x cols floats (row-major) with `labels`; NaN marks a missing value, so zeros
/// (one-hot encodings) are real values.
[[nodiscard]] dmatrix make_dmatrix(const float* data, std::size_t rows, std::size_t cols,
                                   const float* labels = nullptr);

/// A booster cached on `cache` (those DMatrix's predictions are then updated incrementally).
[[nodiscard]] booster make_booster(std::initializer_list<DMatrixHandle> cache);

void set_param(const booster& b, const char* name, const std::string& value);

}  // namespace esm::surrogate::xgb
