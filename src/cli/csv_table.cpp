// libcsv as a streaming parser: one callback per field, one per record end.
#include "cli/csv_table.hpp"

#include <csv.h>

#include <array>
#include <fstream>

#include "esm/common/error.hpp"

namespace esm::cli {

namespace {

/// Owner of a csv_parser.
class parser {
 public:
  parser() {
    if (csv_init(&p_, CSV_STRICT | CSV_STRICT_FINI) != 0) throw error("libcsv: csv_init failed");
  }
  ~parser() { csv_free(&p_); }
  parser(const parser&) = delete;
  parser& operator=(const parser&) = delete;
  csv_parser* get() { return &p_; }

 private:
  csv_parser p_{};
};

struct collector {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> current;
  static void field(void* s, std::size_t len, void* data) {
    static_cast<collector*>(data)->current.emplace_back(static_cast<const char*>(s), len);
  }
  static void record_end(int, void* data) {
    auto& c = *static_cast<collector*>(data);
    c.records.push_back(std::move(c.current));
    c.current.clear();
  }
};

}  // namespace

std::size_t csv_table::column(const std::string& path, const std::string& name) const {
  std::string names;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
    names += (i ? ", " : "") + header[i];
  }
  throw usage_error(path + ":1: no column '" + name + "' (columns: " + names + ")");
}

csv_table read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error("cannot read '" + path + "'");
  parser p;
  collector c;
  std::array<char, 1 << 16> buffer{};
  const auto fail = [&] {
    throw usage_error(path + ":" + std::to_string(c.records.size() + 1) + ": malformed CSV (" +
                      csv_strerror(csv_error(p.get())) + ")");
  };
  while (in) {
    in.read(buffer.data(), buffer.size());
    const auto n = static_cast<std::size_t>(in.gcount());
    if (csv_parse(p.get(), buffer.data(), n, collector::field, collector::record_end, &c) != n) fail();
  }
  if (in.bad()) throw file_error("reading '" + path + "' failed");
  if (csv_fini(p.get(), collector::field, collector::record_end, &c) != 0) fail();
  if (c.records.empty()) throw usage_error(path + ":1: empty CSV file (expected a header line)");
  csv_table t;
  t.header = std::move(c.records.front());
  t.rows.assign(std::make_move_iterator(c.records.begin() + 1), std::make_move_iterator(c.records.end()));
  return t;
}

}  // namespace esm::cli
