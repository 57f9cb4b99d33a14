// MPI for esm: the checked-call helper, RAII owners (environment, communicator, window) and the
// few collectives the distributed run needs, including agreement on failure so that one rank's
// error never leaves the others waiting in a collective.
//
// Every MPI call goes through ESM_MPI(call), which throws esm::mpi_error with MPI's own message.
// The environment sets MPI_ERRORS_RETURN on MPI_COMM_WORLD so that errors reach the helper.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "esm/common/error.hpp"

namespace esm {

/// An MPI call failed; what() holds the call, the source location and MPI_Error_string's text.
class mpi_error : public error {
 public:
  using error::error;
};

}  // namespace esm

namespace esm::cluster {

[[noreturn]] void throw_mpi_error(int code, std::string_view call, std::source_location where);

inline void check(int code, std::string_view call, std::source_location where = std::source_location::current()) {
  if (code != MPI_SUCCESS) throw_mpi_error(code, call, where);
}

}  // namespace esm::cluster

#define ESM_MPI(call) ::esm::cluster::check((call), #call)

namespace esm::cluster {

/// MPI_Init_thread (funneled) / MPI_Finalize. One per process; the first object of a command.
class environment {
 public:
  environment();
  ~environment();
  environment(const environment&) = delete;
  environment& operator=(const environment&) = delete;
};

/// Owner of a communicator (freed on destruction unless it is a predefined one).
class communicator {
 public:
  /// Non-owning view of MPI_COMM_WORLD.
  [[nodiscard]] static communicator world();
  communicator(communicator&& other) noexcept;
  communicator& operator=(communicator&& other) noexcept;
  communicator(const communicator&) = delete;
  communicator& operator=(const communicator&) = delete;
  ~communicator();

  [[nodiscard]] MPI_Comm get() const { return comm_; }
  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int size() const { return size_; }

  /// Collective: the ranks sharing this rank's node (MPI_Comm_split_type, MPI_COMM_TYPE_SHARED).
  [[nodiscard]] communicator split_shared() const;

  /// Collective barrier that sleeps between polls instead of spinning (an idle rank must not steal
  /// the CPU that its neighbours are timing on).
  void quiet_barrier() const;

 private:
  communicator(MPI_Comm comm, bool owned);
  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owned_ = false;
  int rank_ = 0;
  int size_ = 1;
};

/// Collective sums / maxima / minima over the ranks, polling with sleeps (see quiet_barrier).
/// `while_waiting`, when given, runs about every 0.2 s while this rank waits for the others.
[[nodiscard]] std::vector<std::int64_t> sum(const communicator& c, std::vector<std::int64_t> values,
                                            const std::function<void()>& while_waiting = {});
[[nodiscard]] std::int64_t sum(const communicator& c, std::int64_t value);
[[nodiscard]] double max(const communicator& c, double value);
[[nodiscard]] bool any(const communicator& c, bool value);
/// Exclusive prefix sum of `value` over the ranks (0 on rank 0) and the total.
[[nodiscard]] std::pair<std::int64_t, std::int64_t> exclusive_scan(const communicator& c, std::int64_t value);

/// Collective: rank `root`'s bytes on every rank.
void broadcast(const communicator& c, std::string& bytes, int root = 0);
/// Collective: every rank's string, by rank, on every rank.
[[nodiscard]] std::vector<std::string> all_gather(const communicator& c, const std::string& mine);

/// A failure agreed by all ranks: every rank throws the same one (the lowest failing rank's).
class collective_error : public error {
 public:
  collective_error(int exit_code, int failed_rank, const std::string& message)
      : error(message), exit_code_(exit_code), failed_rank_(failed_rank) {}
  [[nodiscard]] int exit_code() const { return exit_code_; }  ///< exit_code::usage or failure
  [[nodiscard]] int failed_rank() const { return failed_rank_; }

 private:
  int exit_code_;
  int failed_rank_;
};

/// What one rank contributes to an agreement: nothing, or an exit code and a message.
struct local_failure {
  int exit_code = 0;
  std::string message;
};

/// Collective: throws collective_error on every rank if any rank passes a failure.
void agree(const communicator& c, const std::optional<local_failure>& mine);

/// Collective: runs `step` on every rank and agrees on its outcome. usage_error -> exit code 2,
/// collective_error keeps its code, anything else -> 1.
template <class Step>
void all_or_none(const communicator& c, Step&& step) {
  std::optional<local_failure> failure;
  try {
    step();
  } catch (const collective_error& e) {
    failure = local_failure{e.exit_code(), e.what()};
  } catch (const usage_error& e) {
    failure = local_failure{exit_code::usage, e.what()};
  } catch (const std::exception& e) {
    failure = local_failure{exit_code::failure, e.what()};
  }
  agree(c, failure);
}

/// The end of an MPI command that failed collectively: rank 0 prints the one line ("esm: error: ..."
/// for usage errors, "esm: fatal: rank N: ..." otherwise); every rank returns the exit code.
[[nodiscard]] int report(const communicator& c, const collective_error& e);

/// Aborts every rank with one line naming this rank (for failures the others cannot agree on).
[[noreturn]] void abort_all(const communicator& c, std::string_view message, int code = exit_code::failure);

/// A shared 64-bit counter on rank 0 (MPI one-sided: MPI_Fetch_and_op in a passive-target epoch),
/// for dynamic work hand-out and progress counts. Construction and destruction are collective;
/// fetch_add is not (any rank, any time). Passive-target progress: Open MPI's shared-memory and
/// RDMA components complete it without rank 0's help; over a fabric without hardware atomics a
/// call may wait until rank 0 next enters MPI.
class shared_counter {
 public:
  explicit shared_counter(const communicator& c);
  ~shared_counter();
  shared_counter(const shared_counter&) = delete;
  shared_counter& operator=(const shared_counter&) = delete;
  /// Atomically adds `n` and returns the value before.
  [[nodiscard]] std::int64_t fetch_add(std::int64_t n);

 private:
  MPI_Win win_ = MPI_WIN_NULL;
  std::int64_t* base_ = nullptr;
};

/// MPI_Get_library_version's text, first line.
[[nodiscard]] std::string library_version();

}  // namespace esm::cluster
