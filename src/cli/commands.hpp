// The `esm` subcommands. Each takes the arguments after its name and returns an exit code;
// esm::usage_error escaping a command becomes one line on stderr and exit code 2 (main.cpp).
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace esm::cli {

using args = std::vector<std::string>;

int spaces(const args& a);
int sample(const args& a);
int describe(const args& a);
int profile(const args& a);  ///< MPI: mpirun -n N esm profile --config JOB.ini
int info(const args& a);
int compare(const args& a);  ///< esm compare A.h5 B.h5: reproducibility of two datasets
int bench(const args& a);
int train(const args& a);  ///< MPI: mpirun -n N esm train --dataset D --out M
int predict(const args& a);
int features(const args& a);

/// Parses `a` against `options`; prints help and returns false for --help. Program_options
/// errors become usage_error naming the option.
bool parse(const args& a, const boost::program_options::options_description& options,
           boost::program_options::variables_map& vm, const std::string& usage_line,
           const boost::program_options::positional_options_description* positional = nullptr);

/// Writes `text` to `path` atomically (temp file + rename), or to stdout when path is empty.
/// A failing write leaves any existing file untouched.
void write_output(const std::string& path, const std::string& text);

}  // namespace esm::cli
