// XGBoost C API error reporting and handle construction.
#include "xgboost_api.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace esm::surrogate::xgb {

void throw_error(std::string_view call, std::source_location where) {
  const char* message = XGBGetLastError();
  throw xgboost_error(std::string(call) + " failed at " + where.file_name() + ":" + std::to_string(where.line()) +
                      ": " + (message != nullptr ? message : "(no XGBoost message)"));
}

void check_noexcept(int result, std::string_view call) noexcept {
  if (result == 0) return;
  const char* message = XGBGetLastError();
  std::fprintf(stderr, "esm: %.*s failed: %s\n", static_cast<int>(call.size()), call.data(),
               message != nullptr ? message : "(no XGBoost message)");
}

dmatrix make_dmatrix(const float* data, std::size_t rows, std::size_t cols, const float* labels) {
  DMatrixHandle h = nullptr;
  // One thread: esm fits are single-threaded by contract (and the result does not depend on it).
  ESM_XGB(XGDMatrixCreateFromMat_omp(data, rows, cols, std::nanf(""), &h, 1));
  dmatrix m(h);
  if (labels != nullptr) ESM_XGB(XGDMatrixSetFloatInfo(m.get(), "label", labels, rows));
  return m;
}

booster make_booster(std::initializer_list<DMatrixHandle> cache) {
  const std::vector<DMatrixHandle> handles(cache);
  BoosterHandle h = nullptr;
  ESM_XGB(XGBoosterCreate(handles.data(), handles.size(), &h));
  return booster(h);
}

void set_param(const booster& b, const char* name, const std::string& value) {
  ESM_XGB(XGBoosterSetParam(b.get(), name, value.c_str()));
}

}  // namespace esm::surrogate::xgb
