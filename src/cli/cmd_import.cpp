// esm import: a standard esm dataset from a latency table measured elsewhere. Archs come from a
// file of esm texts or once-for-all arch configs (JSON lines), latencies from one column of a CSV
// file, matched by an index column (0-based line of the archs file) or line by line. Provenance
// says where the numbers come from; the rows claim nothing esm did not see (dataset::imported_row).
// Every input is checked before anything is written; the file appears by rename at the end.
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/csv_table.hpp"
#include "esm/cluster/mpi.hpp"
#include "esm/common/error.hpp"
#include "esm/common/sha256.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/profile/profile.hpp"
#include "esm/space/arch_file.hpp"

namespace po = boost::program_options;

namespace esm::cli {

namespace {

const char* const usage_line =
    "usage: esm import --archs FILE --latencies FILE.csv --column NAME [--index-column NAME] --space S "
    "[--width W] --device NAME [--batch B] --source TEXT --out D.h5";

struct import_options {
  std::string archs, latencies, column, index_column, space, width, device, source, out;
  long long batch = 1;
};

std::string line_of(const std::string& path, std::size_t row) { return path + ":" + std::to_string(row + 2) + ": "; }

double positive_ms(const std::string& field, const std::string& where, const std::string& column) {
  double v = 0;
  const auto* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, v);
  if (field.empty() || ec != std::errc() || ptr != end || !std::isfinite(v) || v <= 0) {
    throw usage_error(where + "column '" + column + "' holds '" + field.substr(0, 40) +
                      "', not a positive number of milliseconds");
  }
  return v;
}

/// The latency of each of `count` archs from `opt.column`, row i of the table giving arch i, or
/// the arch named by the index column. Throws usage_error naming the file and line.
std::vector<double> match_latencies(const csv_table& t, const import_options& opt, std::size_t count) {
  const std::size_t col = t.column(opt.latencies, opt.column);
  const bool by_index = !opt.index_column.empty();
  const std::size_t index = by_index ? t.column(opt.latencies, opt.index_column) : 0;
  std::vector<double> ms(count, std::nan(""));
  std::vector<std::size_t> row_of(count, SIZE_MAX);
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const auto where = line_of(opt.latencies, r);
    const auto& fields = t.rows[r];
    if (fields.size() != t.header.size()) {
      throw usage_error(where + std::to_string(fields.size()) + " fields, the header has " + std::to_string(t.header.size()));
    }
    std::size_t arch = r;
    if (by_index) {
      const std::string& text = fields[index];
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), arch);
      if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || arch >= count) {
        throw usage_error(where + "column '" + opt.index_column + "' holds '" + text.substr(0, 40) + "', not a line of " +
                          opt.archs + " (0.." + std::to_string(count - 1) + ")");
      }
      if (row_of[arch] != SIZE_MAX) {
        throw usage_error(where + "'" + opt.index_column + "' " + text + " again (first at line " +
                          std::to_string(row_of[arch] + 2) + ")");
      }
    } else if (r >= count) {
      throw usage_error(where + "more rows than the " + std::to_string(count) + " architectures of " + opt.archs);
    }
    row_of[arch] = r;
    ms[arch] = positive_ms(fields[col], where, opt.column);
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (row_of[i] == SIZE_MAX) {
      throw usage_error(opt.latencies + ":" + std::to_string(t.rows.size() + 1) + ": " + std::to_string(t.rows.size()) +
                        " rows, but " + opt.archs + " holds " + std::to_string(count) + " architectures (none for line " +
                        std::to_string(i + 1) + ")");
    }
  }
  return ms;
}

std::string hex64(std::uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

dataset::provenance import_provenance(const import_options& opt, const space::search_space& sp,
                                      const space::arch_file& archs, const std::string& command_line) {
  dataset::provenance p;
  p.command_line = command_line;
  p.input_sha256 = std::filesystem::path(opt.archs).filename().string() + "=" + sha256_file(opt.archs) + ", " +
                   std::filesystem::path(opt.latencies).filename().string() + "=" + sha256_file(opt.latencies);
  p.config_text = "[import]\narchs = " + opt.archs + "\nformat = " + std::string(space::to_string(archs.format)) +
                  "\nlatencies = " + opt.latencies + "\ncolumn = " + opt.column + "\nindex_column = " + opt.index_column +
                  "\nspace = " + opt.space + "\nwidth = " + opt.width + "\ndevice = " + opt.device +
                  "\nbatch = " + std::to_string(opt.batch) + "\nsource = " + opt.source + "\ninput_sha256 = " +
                  p.input_sha256 + "\n";
  p.config_hash = hex64(space::arch_id(p.config_text));  // FNV-1a-64, as for every config hash
  p.space = opt.space;
  p.variant = std::string(sp.variant_of(archs.archs.front()));
  p.gene_names = sp.gene_names();
  p.backend = "imported";
  p.precision = "unknown";
  p.batch_size = opt.batch;
  p.measure_policy = "imported: not measured by esm";
  p.max_samples = 0;
  p.start_time = dataset::iso_utc_now();
  p.imported_from = opt.source;
  p.device = opt.device;
  return p;
}

/// Reads and checks every input; writes nothing.
struct prepared {
  dataset::provenance prov;
  std::vector<dataset::arch_entry> plan;
  std::vector<double> latency_ms;
};

prepared prepare(const import_options& opt, const std::string& command_line) {
  if (opt.batch < 1) throw usage_error("--batch must be at least 1");
  const auto& sp = space::find_space(opt.space);
  if (!sp.variants().empty() && !opt.width.empty()) {
    bool known = false;
    for (const auto& v : sp.variants()) known |= v == opt.width;
    if (!known) throw usage_error("--width '" + opt.width + "' is not a width of " + opt.space);
  }
  const auto archs = space::read_arch_file(opt.archs, sp, opt.width);
  prepared out;
  out.latency_ms = match_latencies(read_csv(opt.latencies), opt, archs.archs.size());
  for (const auto& a : archs.archs) out.plan.push_back(profile::plan_entry(sp, a));
  out.prov = import_provenance(opt, sp, archs, command_line);
  return out;
}

}  // namespace

int import(const args& a) {
  po::options_description opts("esm import options");
  import_options opt;
  opts.add_options()
      ("archs", po::value(&opt.archs)->required(),
       "architectures, one per line: esm texts or once-for-all arch configs as JSON lines (decided by the first line)")
      ("latencies", po::value(&opt.latencies)->required(), "CSV file of latencies in milliseconds, with a header line")
      ("column", po::value(&opt.column)->required(), "the CSV column to import (e.g. v100_64)")
      ("index-column", po::value(&opt.index_column),
       "CSV column holding the 0-based line of --archs each row belongs to (default: row i is line i)")
      ("space", po::value(&opt.space)->required(), "search space of the architectures")
      ("width", po::value(&opt.width), "width variant (e.g. w1.2): required for OFA configs of a space with variants")
      ("device", po::value(&opt.device)->required(), "what the latencies were measured on (e.g. 'Tesla V100')")
      ("batch", po::value(&opt.batch)->default_value(1), "batch size of the measurements")
      ("source", po::value(&opt.source)->required(), "where the latencies come from (paper, repository, licence)")
      ("out", po::value(&opt.out)->required(), "dataset to write (HDF5, schema 3); replaced atomically");
  po::variables_map vm;
  if (!parse(a, opts, vm, usage_line)) return exit_code::ok;
  std::string command_line = "esm import";
  for (const auto& arg : a) command_line += " " + arg;
  const prepared in = prepare(opt, command_line);

  cluster::environment mpi;
  if (cluster::communicator::world().size() != 1) throw usage_error("esm import runs on one rank (no mpirun -n N)");
  dataset::run_info run;
  run.command_line = command_line;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  run.host = host;
  run.pid = ::getpid();
  run.partition = "import";
  run.start_time = in.prov.start_time;
  const std::string tmp = opt.out + ".import." + std::to_string(::getpid());
  try {
    dataset::write_imported(MPI_COMM_WORLD, tmp, in.prov, run, in.plan, in.latency_ms);
    std::filesystem::rename(tmp, opt.out);
  } catch (const file_error& e) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw file_error("cannot write '" + opt.out + "' (" + e.what() + ")");
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  std::cout << "imported " << in.plan.size() << " " << opt.space << " architectures (" << opt.column << ", "
            << opt.device << ", batch " << opt.batch << ") into " << opt.out << '\n';
  return exit_code::ok;
}

}  // namespace esm::cli
