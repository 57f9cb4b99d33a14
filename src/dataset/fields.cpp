// Texts of the dataset's fields (design: include/esm/dataset/fields.hpp).
#include "esm/dataset/fields.hpp"

#include <cstdio>
#include <sstream>

#include "esm/measure/drift_guard.hpp"

namespace esm::dataset {

namespace {

std::string value_text(const std::string& v) { return v; }
std::string value_text(std::int64_t v) { return std::to_string(v); }
std::string value_text(std::uint64_t v) { return std::to_string(v); }
std::string value_text(bool v) { return v ? "true" : "false"; }
std::string value_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}
std::string value_text(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

/// "  name = value" per field; a multi-line value (the job configuration) indented under its name.
template <class S>
void append_lines(std::ostringstream& os, const S& s) {
  for_each_field(s, [&](const attribute_field& f, const auto& v) {
    std::string text = value_text(v);
    if (text.find('\n') != std::string::npos) {
      std::string indented;
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) indented += "\n    " + line;
      text = indented;
    }
    os << "  " << f.name << " = " << text << '\n';
  });
}

}  // namespace

std::string column_enum_name(column_enum values, std::int32_t value) {
  switch (values) {
    case column_enum::row_status: return std::string(to_string(static_cast<row_status>(value)));
    case column_enum::error_code: return std::string(to_string(static_cast<error_code>(value)));
    case column_enum::drift_verdict: return std::string(measure::to_string(static_cast<measure::drift_verdict>(value)));
    case column_enum::none: break;
  }
  return std::to_string(value);
}

std::string provenance_text(const provenance& p) {
  std::ostringstream os;
  append_lines(os, p);
  return os.str();
}

std::string run_text(const run_info& info, const run_end& end) {
  std::ostringstream os;
  append_lines(os, info);
  append_lines(os, end);
  return os.str();
}

}  // namespace esm::dataset
