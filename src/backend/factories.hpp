// Constructors of the concrete backends; which exist depends on the build (ESM_HAVE_*).
#pragma once

#include <memory>

#include "esm/backend/backend.hpp"

namespace esm::backend {

[[nodiscard]] std::unique_ptr<backend> make_reference_backend();
[[nodiscard]] std::unique_ptr<backend> make_synthetic_backend();
#ifdef ESM_HAVE_ONEDNN
[[nodiscard]] std::unique_ptr<backend> make_onednn_backend();
#endif
#ifdef ESM_HAVE_CUDNN
[[nodiscard]] std::unique_ptr<backend> make_cudnn_backend();
#endif

}  // namespace esm::backend
