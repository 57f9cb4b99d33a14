// Thread count and denormal mode for the oneDNN backend (oneDNN's CPU runtime is OpenMP here).
#include "backend/onednn/threading.hpp"

#include <oneapi/dnnl/dnnl_config.h>
#include <pmmintrin.h>
#include <sched.h>
#include <xmmintrin.h>

#include "esm/common/error.hpp"

#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#elif DNNL_CPU_THREADING_RUNTIME != DNNL_RUNTIME_SEQ
#error "esm's CPU backend sets threads through OpenMP; this oneDNN uses another CPU runtime"
#endif

namespace esm::backend::onednn {

namespace {

// Denormals make some kernels tens of times slower on x86; deployments flush them, and a
// latency dataset must not depend on whether a random weight happened to produce one.
void flush_denormals() { _mm_setcsr(_mm_getcsr() | _MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON); }

}  // namespace

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) throw error("sched_getaffinity failed");
  return CPU_COUNT(&set);
}

int resolve_threads(int requested) {
  if (requested < 0) throw usage_error("threads must be >= 0 (0: every available core)");
  return requested == 0 ? available_cores() : requested;
}

void set_thread_count(int threads) {
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

void configure_threads(int threads) {
  flush_denormals();
  set_thread_count(threads);
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
  // MXCSR is per thread: workers created later inherit it from this thread, but a team that
  // already exists must set it itself.
#pragma omp parallel num_threads(threads)
  flush_denormals();
#endif
}

std::string threading_runtime() {
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
  return "OpenMP";
#else
  return "sequential";
#endif
}

}  // namespace esm::backend::onednn
