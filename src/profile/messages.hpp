// What rank 0 decides before the collective open (start_state) and each rank's binding, as the
// bytes that travel in broadcasts and gathers: one transfer() per type lists its fields for both
// directions of the wire encoding (wire.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "esm/cluster/binding.hpp"
#include "esm/dataset/fields.hpp"
#include "esm/dataset/schema.hpp"
#include "profile/wire.hpp"

namespace esm::profile {

/// What rank 0 found or decided before the collective open.
struct start_state {
  std::vector<dataset::arch_entry> plan;
  bool create = false;
  std::vector<std::uint64_t> pending;  ///< rows to measure (not done), ascending
  dataset::provenance prov;
  dataset::run_info run;
  std::string marker;
  std::string note;  ///< e.g. a stale lock taken over
};

// Field lists for both directions of the wire encoding (S is T or const T).
template <class Io, class S>
void transfer(Io& io, S& e) requires std::is_same_v<std::remove_const_t<S>, dataset::arch_entry> {
  io(e.text), io(e.id), io(e.genes), io(e.depth), io(e.resolution), io(e.macs), io(e.params);
}

template <class Io, class S>
void transfer(Io& io, S& s) requires std::is_same_v<std::remove_const_t<S>, start_state> {
  std::uint64_t n = s.plan.size();
  io(n);
  if constexpr (!std::is_const_v<S>) s.plan.resize(n);
  for (auto& e : s.plan) transfer(io, e);
  auto create = static_cast<std::uint8_t>(s.create);
  io(create);
  if constexpr (!std::is_const_v<S>) s.create = create != 0;
  const auto field = [&io](const dataset::attribute_field&, auto& value) { io(value); };
  dataset::for_each_field(s.prov, field);
  dataset::for_each_field(s.run, field);
  io(s.pending), io(s.marker), io(s.note);
}

template <class Io, class S>
void transfer(Io& io, S& b) requires std::is_same_v<std::remove_const_t<S>, cluster::binding> {
  io(b.rank), io(b.local_rank), io(b.local_size), io(b.pid), io(b.host), io(b.device), io(b.device_name);
  io(b.uuid), io(b.pci_bus_id), io(b.threads), io(b.cpus);
  auto mig = static_cast<std::uint8_t>(b.mig);
  io(mig);
  if constexpr (!std::is_const_v<S>) b.mig = mig != 0;
  io(b.visible_devices), io(b.node_gpus);
}

template <class T>
std::string encode(const T& object) {
  wire::writer w;
  transfer(w, object);
  return w.take();
}

template <class T>
T decode(const std::string& bytes) {
  wire::reader r(bytes);
  T object;
  transfer(r, object);
  return object;
}

}  // namespace esm::profile
