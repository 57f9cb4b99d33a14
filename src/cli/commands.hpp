// The `esm` subcommands. Each takes the arguments after its name and returns an exit code;
// esm::usage_error escaping a command becomes one line on stderr and exit code 2 (main.cpp).
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace esm::cluster {
class communicator;
}  // namespace esm::cluster

namespace esm::cli {

using args = std::vector<std::string>;

int spaces(const args& a);
int sample(const args& a);
int describe(const args& a);
int profile(const args& a);  ///< MPI: mpirun -n N esm profile --config JOB.ini
int info(const args& a);
int compare(const args& a);  ///< esm compare A.h5 B.h5: reproducibility of two datasets
int bench(const args& a);
int loop(const args& a);  ///< MPI: mpirun -n N esm loop --config JOB.ini
int train(const args& a);  ///< MPI: mpirun -n N esm train --dataset D --out M
int predict(const args& a);
int features(const args& a);
int import(const args& a);  ///< esm import: a dataset from a latency table measured elsewhere
int select(const args& a);  ///< esm select: the archs most worth measuring on a new device
int adapt(const args& a);   ///< esm adapt: a model for a new device from a few rows and other devices' models

/// Parses `a` against `options`; prints help and returns false for --help. Program_options
/// errors become usage_error naming the option.
bool parse(const args& a, const boost::program_options::options_description& options,
           boost::program_options::variables_map& vm, const std::string& usage_line,
           const boost::program_options::positional_options_description* positional = nullptr);

/// A job command's parsed arguments (esm profile, esm loop).
struct job_args {
  boost::program_options::variables_map vm;  ///< command line, then the INI keys it did not set
  std::string config;                        ///< --config FILE
  bool resume = false;                       ///< --resume
  std::string command_line;                  ///< "esm COMMAND ARGS..."
};

/// Parses `a` against `all` (which must hold --config, --resume and the INI keys): `--output X`
/// means --output.path=X, then the keys of `ini_keys` found in the --config file are added (the
/// command line wins). Throws usage_error naming the problem.
[[nodiscard]] job_args parse_job_args(const std::string& command, const args& a,
                                      const boost::program_options::options_description& all,
                                      const boost::program_options::options_description& ini_keys,
                                      const std::string& usage_line);

/// Collective: throws usage_error (on every rank) unless every rank resolved rank 0's job text.
void check_same_job(const cluster::communicator& world, const std::string& resolved_text, const std::string& config);

/// Writes `text` to `path` atomically (temp file + rename), or to stdout when path is empty.
/// A failing write leaves any existing file untouched; throws file_error naming the path.
void write_output(const std::string& path, const std::string& text);

/// An output file written in full to a temporary file beside `path` first (throws file_error when
/// that fails); commit() renames it into place. Commands with several outputs stage every one
/// before writing the next, so that a failure leaves all of them as they were. The destructor
/// removes an uncommitted temporary file.
class staged_output {
 public:
  staged_output(std::string path, const std::string& text);
  /// Streams into the temporary file: `write` may produce more than fits in memory (esm sample).
  staged_output(std::string path, const std::function<void(std::ostream&)>& write);
  staged_output(const staged_output&) = delete;
  staged_output& operator=(const staged_output&) = delete;
  ~staged_output();
  void commit();

 private:
  std::string path_, tmp_;
};

}  // namespace esm::cli
