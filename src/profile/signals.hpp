// Stop requests of a profile run: SIGUSR1 finishes the arch in flight, SIGTERM abandons it
// (install_stop_handlers and stop_signalled are public: esm/profile/profile.hpp).
#pragma once

#include <exception>

namespace esm::profile {

/// 0: run; 1: finish the arch in flight, then stop (SIGUSR1); 2: abandon it (SIGTERM).
[[nodiscard]] int stop_level();

/// Thrown out of a workload or the workload factory to leave measure_batch when a stop was asked.
struct stop_requested : std::exception {
  [[nodiscard]] const char* what() const noexcept override { return "stop requested"; }
};

}  // namespace esm::profile
