// SIGTERM / SIGUSR1 handling for `esm profile` and `esm loop`: an async-signal-safe level, raised
// only, read by the measuring code between (and, for SIGTERM, within) architectures.
#include "profile/signals.hpp"

#include <signal.h>

#include <atomic>

#include "esm/profile/profile.hpp"

namespace esm::profile {

namespace {

// 0: run; 1: finish the arch in flight, then stop (SIGUSR1); 2: abandon it (SIGTERM).
std::atomic<int> requested_level{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int signal_number) {
  const int wanted = signal_number == SIGTERM ? 2 : 1;
  int current = requested_level.load();
  while (current < wanted && !requested_level.compare_exchange_weak(current, wanted)) {
  }
}

}  // namespace

int stop_level() { return requested_level.load(); }

bool stop_signalled() { return stop_level() > 0; }

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | SA_RESETHAND;  // a second SIGTERM kills as usual
  sigaction(SIGTERM, &action, nullptr);
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
}

}  // namespace esm::profile
