// Version and build provenance (recorded in every dataset and model file).
#pragma once

#include <string>

namespace esm {

[[nodiscard]] std::string version_string();  ///< "0.1.0 (git abc1234)"
[[nodiscard]] std::string git_commit();      ///< short hash, "unknown" outside a git checkout

}  // namespace esm
