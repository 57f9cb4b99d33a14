// Every field of the dataset's provenance and row structs, declared once (schema.hpp holds the
// structs; docs/dataset.md documents each field). Visitors walk these lists for the HDF5 compound
// types and attributes, the writer and the reader, the profile run's broadcast of rank 0's
// decisions, the Python binding and `esm info --provenance`: a new field is added here and in its
// struct, and every one of them follows.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "esm/dataset/schema.hpp"

namespace esm::dataset {

/// How a provenance field is kept as an HDF5 attribute of its object.
enum class presence {
  always,     ///< written and required
  when_set,   ///< written only when non-empty (strings) or true (flags); absent reads as the default
  optional,   ///< always written, but absent in files of older esm versions (reads as the default)
  elsewhere,  ///< not an attribute of this object (e.g. gene_names: /archs/genes's "names")
};

/// A provenance field: its name in C++ and Python, its attribute's name in the file.
struct attribute_field {
  std::string_view name;
  std::string_view attribute;
  presence how = presence::always;
};

template <class S, class T>
concept same_struct = std::same_as<std::remove_const_t<S>, T>;

/// The root attributes of provenance `p` (S is provenance or const provenance): f(field, member).
template <class S, class F>
  requires same_struct<S, provenance>
void for_each_field(S& p, F&& f) {
  f(attribute_field{"command_line", "command_line"}, p.command_line);
  f(attribute_field{"config_text", "config"}, p.config_text);
  f(attribute_field{"config_hash", "config_hash"}, p.config_hash);
  f(attribute_field{"space", "space"}, p.space);
  f(attribute_field{"variant", "variant"}, p.variant);
  f(attribute_field{"gene_names", "names", presence::elsewhere}, p.gene_names);
  f(attribute_field{"backend", "backend"}, p.backend);
  f(attribute_field{"precision", "precision"}, p.precision);
  f(attribute_field{"batch_size", "batch_size"}, p.batch_size);
  f(attribute_field{"sample_seed", "sample_seed"}, p.sample_seed);
  f(attribute_field{"weights_seed", "weights_seed"}, p.weights_seed);
  f(attribute_field{"measure_policy", "measure_policy"}, p.measure_policy);
  f(attribute_field{"mpi_library_version", "mpi_library_version"}, p.mpi_library_version);
  f(attribute_field{"backend_version", "backend_version"}, p.backend_version);
  f(attribute_field{"max_samples", "max_samples"}, p.max_samples);
  f(attribute_field{"group_seed", "group_seed", presence::optional}, p.group_seed);
  f(attribute_field{"group_size", "group_size", presence::optional}, p.group_size);
  f(attribute_field{"start_time", "start_time"}, p.start_time);
  f(attribute_field{"synthetic", "synthetic", presence::when_set}, p.synthetic);
  f(attribute_field{"imported_from", "imported_from", presence::when_set}, p.imported_from);
  f(attribute_field{"device", "device", presence::when_set}, p.device);
  f(attribute_field{"input_sha256", "input_sha256", presence::when_set}, p.input_sha256);
}

/// The attributes of a /runs/<k> group that the run's start writes.
template <class S, class F>
  requires same_struct<S, run_info>
void for_each_field(S& r, F&& f) {
  f(attribute_field{"command_line", "command_line"}, r.command_line);
  f(attribute_field{"host", "host"}, r.host);
  f(attribute_field{"pid", "pid"}, r.pid);
  f(attribute_field{"world_size", "world_size"}, r.world_size);
  f(attribute_field{"partition", "partition"}, r.partition);
  f(attribute_field{"start_time", "start_time"}, r.start_time);
  f(attribute_field{"slurm_job_id", "slurm_job_id", presence::when_set}, r.slurm_job_id);
  f(attribute_field{"slurm_array_job_id", "slurm_array_job_id", presence::when_set}, r.slurm_array_job_id);
  f(attribute_field{"slurm_array_task_id", "slurm_array_task_id", presence::when_set}, r.slurm_array_task_id);
}

/// The attributes of a /runs/<k> group that the run's end writes.
template <class S, class F>
  requires same_struct<S, run_end>
void for_each_field(S& e, F&& f) {
  f(attribute_field{"outcome", "outcome"}, e.outcome);
  f(attribute_field{"end_time", "end_time"}, e.end_time);
  f(attribute_field{"rows_done", "rows_done", presence::optional}, e.rows_done);
  f(attribute_field{"hdf5_seconds", "hdf5_seconds", presence::optional}, e.hdf5_seconds);
}

/// What a row column's int32 holds when it is an enumeration (the file stores an HDF5 enum type
/// whose names are the enumeration's to_string).
enum class column_enum { none, row_status, error_code, drift_verdict };

/// A member of a row struct's HDF5 compound type.
struct column {
  std::string_view name;
  std::int64_t since_schema = 1;  ///< files of older schema versions lack it
  column_enum values = column_enum::none;
};

template <class Row>
struct row_tag {};

/// The columns of /results, in the compound type's order: f(column, member pointer).
template <class F>
void for_each_column(row_tag<result_row>, F&& f) {
  using r = result_row;
  f(column{"arch_id"}, &r::arch_id);
  f(column{"trimmed_mean_ms"}, &r::trimmed_mean_ms);
  f(column{"median_ms"}, &r::median_ms);
  f(column{"mean_ms"}, &r::mean_ms);
  f(column{"std_ms"}, &r::std_ms);
  f(column{"min_ms"}, &r::min_ms);
  f(column{"max_ms"}, &r::max_ms);
  f(column{"p10_ms"}, &r::p10_ms);
  f(column{"p90_ms"}, &r::p90_ms);
  f(column{"reference_ms"}, &r::reference_ms);
  f(column{"normalised"}, &r::normalised);
  f(column{"start_unix_s"}, &r::start_unix_s);
  f(column{"end_unix_s"}, &r::end_unix_s);
  f(column{"status", 1, column_enum::row_status}, &r::status);
  f(column{"run"}, &r::run);
  f(column{"rank"}, &r::rank);
  f(column{"device"}, &r::device);
  f(column{"n"}, &r::n);
  f(column{"remeasures"}, &r::remeasures);
  f(column{"error_code", 1, column_enum::error_code}, &r::error_code);
  f(column{"error_message"}, &r::error_message);
  f(column{"eager_ms", 3}, &r::eager_ms);
  f(column{"graph_ms", 3}, &r::graph_ms);
}

/// The columns of /drift.
template <class F>
void for_each_column(row_tag<drift_row>, F&& f) {
  using r = drift_row;
  f(column{"time_unix_s"}, &r::time_unix_s);
  f(column{"reference_ms"}, &r::reference_ms);
  f(column{"baseline_ms"}, &r::baseline_ms);
  f(column{"relative_change"}, &r::relative_change);
  f(column{"arch_row"}, &r::arch_row);
  f(column{"run"}, &r::run);
  f(column{"rank"}, &r::rank);
  f(column{"verdict", 1, column_enum::drift_verdict}, &r::verdict);
  f(column{"window"}, &r::window);
  f(column{"threshold", 2}, &r::threshold);
}

/// The columns of /algos.
template <class F>
void for_each_column(row_tag<algo_row>, F&& f) {
  using r = algo_row;
  f(column{"workspace_bytes"}, &r::workspace_bytes);
  f(column{"arch_row"}, &r::arch_row);
  f(column{"run"}, &r::run);
  f(column{"rank"}, &r::rank);
  f(column{"layer"}, &r::layer);
  f(column{"algo_id"}, &r::algo_id);
  f(column{"name"}, &r::name);
}

/// The columns of /ranks.
template <class F>
void for_each_column(row_tag<rank_row>, F&& f) {
  using r = rank_row;
  f(column{"run"}, &r::run);
  f(column{"rank"}, &r::rank);
  f(column{"local_rank"}, &r::local_rank);
  f(column{"local_size"}, &r::local_size);
  f(column{"device"}, &r::device);
  f(column{"threads"}, &r::threads);
  f(column{"host"}, &r::host);
  f(column{"device_name"}, &r::device_name);
  f(column{"device_uuid"}, &r::device_uuid);
  f(column{"pci_bus_id"}, &r::pci_bus_id);
  f(column{"cpus"}, &r::cpus);
}

/// The columns of /loop.
template <class F>
void for_each_column(row_tag<loop_row>, F&& f) {
  using r = loop_row;
  f(column{"samples"}, &r::samples);
  f(column{"n"}, &r::n);
  f(column{"within_10"}, &r::within_10);
  f(column{"threshold"}, &r::threshold);
  f(column{"iteration"}, &r::iteration);
  f(column{"bin"}, &r::bin);
  f(column{"stop"}, &r::stop);
  f(column{"next_count"}, &r::next_count);
  f(column{"strategy"}, &r::strategy);
  f(column{"model"}, &r::model);
  f(column{"decision"}, &r::decision);
}

/// The byte offset of `member` in Row (what offsetof gives, from a member pointer).
template <class Row, class T>
[[nodiscard]] std::size_t offset_of(T Row::*member) {
  const Row probe{};
  return static_cast<std::size_t>(reinterpret_cast<const char*>(&(probe.*member)) - reinterpret_cast<const char*>(&probe));
}

/// An enumerated column's value as its name (row_status, error_code or drift_verdict's to_string).
[[nodiscard]] std::string column_enum_name(column_enum values, std::int32_t value);

/// "name = value" lines of every provenance field, and of each run's start and end fields
/// (`esm info --provenance`).
[[nodiscard]] std::string provenance_text(const provenance& p);
[[nodiscard]] std::string run_text(const run_info& info, const run_end& end);

}  // namespace esm::dataset
