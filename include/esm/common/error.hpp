// Error types shared by every layer of esm.
//
// esm throws inside and turns exceptions into exit codes only at the top of a command (src/cli/main.cpp,
// and cluster::all_or_none for the MPI commands), by class alone:
//   usage_error  -> bad input from the user (exit code 2, one line on stderr)
//   file_error   -> a usage_error: an input file esm cannot use or an output it cannot write (exit 2)
//   esm::error   -> anything else that went wrong (exit code 1)
// docs/cli-errors.md lists what counts as bad input.
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

/// A file named by the user that esm cannot use: an input that is missing, empty, not HDF5,
/// truncated, damaged or of a newer schema, or an output whose directory is missing or not
/// writable, or whose write failed (disk full, file size limit). Bad input too (exit 2): the message
/// names the file; text from HDF5 or the OS it carries is folded onto the one line.
class file_error : public usage_error {
 public:
  explicit file_error(const std::string& message) : usage_error(one_line(message)) {}

 private:
  static std::string one_line(std::string text) {
    for (auto& c : text) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return text;
  }
};

/// Process exit codes, documented in docs/cli-errors.md.
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;
inline constexpr int usage = 2;
inline constexpr int interrupted = 3;  ///< stopped by a signal, resumable
}  // namespace exit_code

}  // namespace esm
