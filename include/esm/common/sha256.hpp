// SHA-256 of files (OpenSSL's EVP interface, private to sha256.cpp): provenance of the inputs
// a dataset was made from.
#pragma once

#include <string>

namespace esm {

/// Lowercase hex SHA-256 of the file's bytes. Throws file_error when it cannot be read.
[[nodiscard]] std::string sha256_file(const std::string& path);

}  // namespace esm
