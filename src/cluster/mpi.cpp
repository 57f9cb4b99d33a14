// MPI helpers: checked calls, owners, quiet collectives, agreement on failure, the shared counter.
#include "esm/cluster/mpi.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

namespace esm::cluster {

void throw_mpi_error(int code, std::string_view call, std::source_location where) {
  char text[MPI_MAX_ERROR_STRING] = "";
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) std::snprintf(text, sizeof text, "MPI error %d", code);
  const std::string file = std::filesystem::path(where.file_name()).filename().string();
  throw mpi_error(std::string(call.substr(0, call.find('('))) + " failed at " + file + ":" + std::to_string(where.line()) +
                  ": " + text);
}

environment::environment() {
  int initialized = 0;
  ESM_MPI(MPI_Initialized(&initialized));
  if (!initialized) {
    int provided = 0;
    ESM_MPI(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
  }
  ESM_MPI(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
}

environment::~environment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

communicator::communicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
  ESM_MPI(MPI_Comm_rank(comm_, &rank_));
  ESM_MPI(MPI_Comm_size(comm_, &size_));
}

communicator communicator::world() { return communicator(MPI_COMM_WORLD, false); }

communicator::communicator(communicator&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)),
      owned_(std::exchange(other.owned_, false)),
      rank_(other.rank_),
      size_(other.size_) {}

communicator& communicator::operator=(communicator&& other) noexcept {
  if (this != &other) {
    if (owned_ && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
    comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
    owned_ = std::exchange(other.owned_, false);
    rank_ = other.rank_;
    size_ = other.size_;
  }
  return *this;
}

communicator::~communicator() {
  if (owned_ && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

communicator communicator::split_shared() const {
  MPI_Comm node = MPI_COMM_NULL;
  ESM_MPI(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node));
  return communicator(node, true);
}

namespace {

/// Waits for a non-blocking collective, sleeping between tests (1 ms at most), running
/// `while_waiting` about every 0.2 s.
void wait_quietly(MPI_Request& request, const std::function<void()>& while_waiting = {}) {
  auto pause = std::chrono::microseconds(20);
  auto next_hook = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  for (;;) {
    int done = 0;
    ESM_MPI(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
    if (done) return;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
    if (while_waiting && std::chrono::steady_clock::now() >= next_hook) {
      while_waiting();
      next_hook = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    }
  }
}

template <class T>
void allreduce_quietly(const communicator& c, T* values, int count, MPI_Datatype type, MPI_Op op,
                       const std::function<void()>& while_waiting = {}) {
  MPI_Request request = MPI_REQUEST_NULL;
  ESM_MPI(MPI_Iallreduce(MPI_IN_PLACE, values, count, type, op, c.get(), &request));
  wait_quietly(request, while_waiting);
}

}  // namespace

void communicator::quiet_barrier() const {
  MPI_Request request = MPI_REQUEST_NULL;
  ESM_MPI(MPI_Ibarrier(comm_, &request));
  wait_quietly(request);
}

std::vector<std::int64_t> sum(const communicator& c, std::vector<std::int64_t> values,
                              const std::function<void()>& while_waiting) {
  if (!values.empty()) {
    allreduce_quietly(c, values.data(), static_cast<int>(values.size()), MPI_INT64_T, MPI_SUM, while_waiting);
  }
  return values;
}

std::int64_t sum(const communicator& c, std::int64_t value) {
  allreduce_quietly(c, &value, 1, MPI_INT64_T, MPI_SUM);
  return value;
}

double max(const communicator& c, double value) {
  allreduce_quietly(c, &value, 1, MPI_DOUBLE, MPI_MAX);
  return value;
}

bool any(const communicator& c, bool value) {
  int flag = value ? 1 : 0;
  allreduce_quietly(c, &flag, 1, MPI_INT, MPI_MAX);
  return flag != 0;
}

std::pair<std::int64_t, std::int64_t> exclusive_scan(const communicator& c, std::int64_t value) {
  std::int64_t before = 0;
  ESM_MPI(MPI_Exscan(&value, &before, 1, MPI_INT64_T, MPI_SUM, c.get()));
  if (c.rank() == 0) before = 0;  // MPI leaves rank 0's result undefined
  return {before, sum(c, value)};
}

// Broadcast and gather wait quietly too: a blocking MPI_Bcast spins in Open MPI, and with more
// ranks than cores (oversubscribed scale tests, CPU ranks beside their neighbours) the spinning
// receivers took the cores from the ranks still forwarding the plan (docs/lab/2026-12-06-scale-hundreds-of-ranks.md).
void broadcast(const communicator& c, std::string& bytes, int root) {
  std::uint64_t size = bytes.size();
  MPI_Request request = MPI_REQUEST_NULL;
  ESM_MPI(MPI_Ibcast(&size, 1, MPI_UINT64_T, root, c.get(), &request));
  wait_quietly(request);
  bytes.resize(size);
  // MPI counts are int: send in pieces below 2^30 bytes.
  constexpr std::uint64_t piece = std::uint64_t{1} << 30;
  for (std::uint64_t at = 0; at < size; at += piece) {
    const auto n = static_cast<int>(std::min(piece, size - at));
    ESM_MPI(MPI_Ibcast(bytes.data() + at, n, MPI_CHAR, root, c.get(), &request));
    wait_quietly(request);
  }
}

std::vector<std::string> all_gather(const communicator& c, const std::string& mine) {
  const int n = static_cast<int>(mine.size());
  std::vector<int> sizes(static_cast<std::size_t>(c.size()));
  MPI_Request request = MPI_REQUEST_NULL;
  ESM_MPI(MPI_Iallgather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, c.get(), &request));
  wait_quietly(request);
  std::vector<int> offsets(sizes.size(), 0);
  for (std::size_t i = 1; i < sizes.size(); ++i) offsets[i] = offsets[i - 1] + sizes[i - 1];
  std::string all(static_cast<std::size_t>(offsets.back() + sizes.back()), '\0');
  ESM_MPI(MPI_Iallgatherv(mine.data(), n, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR, c.get(),
                          &request));
  wait_quietly(request);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    out.push_back(all.substr(static_cast<std::size_t>(offsets[i]), static_cast<std::size_t>(sizes[i])));
  }
  return out;
}

void agree(const communicator& c, const std::optional<local_failure>& mine) {
  int first = mine ? c.rank() : c.size();
  allreduce_quietly(c, &first, 1, MPI_INT, MPI_MIN);
  if (first == c.size()) return;
  int code = mine ? mine->exit_code : 0;
  std::string message = mine ? mine->message : std::string();
  ESM_MPI(MPI_Bcast(&code, 1, MPI_INT, first, c.get()));
  broadcast(c, message, first);
  throw collective_error(code, first, message);
}

int report(const communicator& c, const collective_error& e) {
  if (c.rank() == 0) {
    std::cerr << "esm: " << (e.exit_code() == exit_code::usage ? "error: " : "fatal: ")
              << (e.failed_rank() == 0 ? "" : "rank " + std::to_string(e.failed_rank()) + ": ") << e.what() << '\n';
  }
  return e.exit_code();
}

void abort_all(const communicator& c, std::string_view message, int code) {
  std::cerr << "esm: rank " << c.rank() << ": fatal: " << message << std::endl;
  MPI_Abort(c.get(), code);
  std::abort();  // MPI_Abort does not return; keep [[noreturn]] honest if it does
}

shared_counter::shared_counter(const communicator& c) {
  const MPI_Aint bytes = c.rank() == 0 ? static_cast<MPI_Aint>(sizeof(std::int64_t)) : 0;
  ESM_MPI(MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, c.get(), &base_, &win_));
  ESM_MPI(MPI_Win_lock_all(0, win_));
  if (c.rank() == 0) {
    *base_ = 0;
    ESM_MPI(MPI_Win_sync(win_));
  }
  c.quiet_barrier();
}

shared_counter::~shared_counter() {
  if (win_ == MPI_WIN_NULL) return;
  MPI_Win_unlock_all(win_);
  MPI_Win_free(&win_);
}

std::int64_t shared_counter::fetch_add(std::int64_t n) {
  std::int64_t before = 0;
  ESM_MPI(MPI_Fetch_and_op(&n, &before, MPI_INT64_T, 0, 0, MPI_SUM, win_));
  ESM_MPI(MPI_Win_flush(0, win_));
  return before;
}

std::string library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = "";
  int length = 0;
  ESM_MPI(MPI_Get_library_version(text, &length));
  std::string version(text, static_cast<std::size_t>(length));
  const auto newline = version.find_first_of("\r\n");
  if (newline != std::string::npos) version.resize(newline);
  while (!version.empty() && (version.back() == ' ' || version.back() == '\0' || version.back() == ',')) version.pop_back();
  return version;
}

}  // namespace esm::cluster
