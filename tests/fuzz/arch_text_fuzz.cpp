// libFuzzer target: the arch-text parser of every space (parse_any dispatches on the space name).
// Properties checked beyond "no crash": the only exception is esm::usage_error; an accepted text
// formats to a canonical text that parses back to the same genes, whose id is stable; and the
// space can build its network (the IR) from it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "esm/common/error.hpp"
#include "esm/net/network.hpp"
#include "esm/space/space.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  esm::space::arch a;
  try {
    a = esm::space::parse_any(text);
  } catch (const esm::usage_error&) {
    return 0;
  }
  const std::string canonical = esm::space::format_any(a);
  const esm::space::arch again = esm::space::parse_any(canonical);
  if (again.genes != a.genes || esm::space::format_any(again) != canonical ||
      esm::space::arch_id(again) != esm::space::arch_id(a)) {
    std::abort();  // the canonical text does not round-trip
  }
  const auto& space = esm::space::find_space(a.space);
  const esm::net::network net = space.build(a, 1);
  if (net.layers.empty()) std::abort();
  return 0;
}
