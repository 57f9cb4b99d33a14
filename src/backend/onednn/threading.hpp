// CPU execution environment of the oneDNN backend: thread count and denormal handling.
#pragma once

#include <string>

namespace esm::backend::onednn {

/// Cores this process may run on (sched_getaffinity), so that `taskset` and MPI/Slurm binding
/// are respected rather than the machine's core count.
[[nodiscard]] int available_cores();

/// `requested` threads, or available_cores() when it is 0; throws usage_error when negative.
[[nodiscard]] int resolve_threads(int requested);

/// Sets the threading runtime's thread count for the calling thread and flushes denormals
/// (FTZ/DAZ) on the calling thread and on every worker of that team. Call before creating
/// primitives (oneDNN's kernels pick their blocking from the thread count) and before running.
void configure_threads(int threads);

/// Only the thread count (an OpenMP ICV store, nanoseconds): cheap enough for every pass, so
/// that executables compiled with different counts on one thread each run with their own.
void set_thread_count(int threads);

/// oneDNN's CPU threading runtime, e.g. "OpenMP".
[[nodiscard]] std::string threading_runtime();

}  // namespace esm::backend::onednn
