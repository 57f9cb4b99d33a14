// CSV files read with libcsv (quoting, embedded separators and newlines handled there).
#pragma once

#include <string>
#include <vector>

namespace esm::cli {

/// A CSV file: its header and data records. Record i of `rows` is counted as line i + 2 of the
/// file in messages (exact unless a quoted field spans lines).
struct csv_table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  /// Index of the header field `name`; throws usage_error "PATH:1: no column 'name' (columns: ...)".
  [[nodiscard]] std::size_t column(const std::string& path, const std::string& name) const;
};

/// Reads `path` strictly (a malformed quote is an error). Empty lines are skipped. Throws
/// file_error when unreadable, usage_error "PATH:LINE: problem" when malformed or empty.
[[nodiscard]] csv_table read_csv(const std::string& path);

}  // namespace esm::cli
