// Provenance structs as HDF5 attributes: the writer and the reader of every field that
// fields.hpp's for_each_field lists, honouring its presence (when_set, optional, elsewhere).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "esm/dataset/fields.hpp"
#include "esm/dataset/hdf5.hpp"

namespace esm::dataset::attributes {

inline void write_value(hid_t obj, std::string_view name, const std::string& v) { h5::write_attribute(obj, name, std::string_view{v}); }
inline void write_value(hid_t obj, std::string_view name, std::int64_t v) { h5::write_attribute(obj, name, v); }
inline void write_value(hid_t obj, std::string_view name, std::uint64_t v) { h5::write_attribute(obj, name, v); }
inline void write_value(hid_t obj, std::string_view name, double v) { h5::write_attribute(obj, name, v); }
inline void write_value(hid_t obj, std::string_view name, bool v) { h5::write_attribute(obj, name, std::int64_t{v ? 1 : 0}); }
inline void write_value(hid_t obj, std::string_view name, const std::vector<std::string>& v) { h5::write_attribute(obj, name, v); }

inline void read_value(hid_t obj, std::string_view name, std::string& v) { v = h5::read_string_attribute(obj, name); }
inline void read_value(hid_t obj, std::string_view name, std::int64_t& v) { v = h5::read_int_attribute(obj, name); }
inline void read_value(hid_t obj, std::string_view name, std::uint64_t& v) { v = h5::read_uint_attribute(obj, name); }
inline void read_value(hid_t obj, std::string_view name, double& v) { v = h5::read_double_attribute(obj, name); }
inline void read_value(hid_t obj, std::string_view name, bool& v) { v = h5::read_int_attribute(obj, name) != 0; }
inline void read_value(hid_t obj, std::string_view name, std::vector<std::string>& v) { v = h5::read_strings_attribute(obj, name); }

template <class T>
[[nodiscard]] bool is_set(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return !v.empty();
  } else if constexpr (std::is_same_v<T, bool>) {
    return v;
  } else {
    return true;
  }
}

/// Writes every field of `s` kept on `obj` (all but presence::elsewhere; when_set ones only when set).
template <class S>
void write(hid_t obj, const S& s) {
  for_each_field(s, [&](const attribute_field& f, const auto& v) {
    if (f.how == presence::elsewhere || (f.how == presence::when_set && !is_set(v))) return;
    write_value(obj, f.attribute, v);
  });
}

/// Reads every field of `s` kept on `obj`; when_set and optional fields that are absent keep their defaults.
template <class S>
void read(hid_t obj, S& s) {
  for_each_field(s, [&](const attribute_field& f, auto& v) {
    if (f.how == presence::elsewhere) return;
    if (f.how != presence::always && !h5::has_attribute(obj, f.attribute)) return;
    read_value(obj, f.attribute, v);
  });
}

}  // namespace esm::dataset::attributes
