// Error types shared by every layer of esm.
//
// esm throws inside and turns exceptions into exit codes only in the CLI:
//   usage_error  -> bad input from the user (exit code 2, one line on stderr)
//   esm::error   -> anything else that went wrong (exit code 1)
#pragma once

#include <stdexcept>
#include <string>

namespace esm {

/// Base of every exception esm throws on purpose.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad input from the user: malformed arch text, unknown space, bad option values.
/// The message names the offending token; the CLI prints it on one line and exits 2.
class usage_error : public error {
 public:
  using error::error;
};

/// Process exit codes, documented in docs/cli.md.
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;
inline constexpr int usage = 2;
inline constexpr int interrupted = 3;  ///< stopped by a signal, resumable
}  // namespace exit_code

}  // namespace esm
