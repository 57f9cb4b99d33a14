// esm describe: the network an architecture denotes, as a layer table or the full JSON IR.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/space/space.hpp"

namespace po = boost::program_options;

namespace esm::cli {

namespace {

std::string shape_text(const net::shape4& s) {
  return std::to_string(s.n) + "x" + std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

std::string table(const space::search_space& sp, const space::arch& a, const net::network& n) {
  std::ostringstream os;
  char line[256];
  std::snprintf(line, sizeof line, "%-4s %-30s %-15s %-16s %-16s %2s %2s %4s %-8s %12s %10s\n", "#", "name", "op", "in",
                "out", "k", "s", "grp", "act", "MACs", "params");
  os << line;
  for (std::size_t i = 0; i < n.layers.size(); ++i) {
    const auto& l = n.layers[i];
    std::snprintf(line, sizeof line, "%-4zu %-30s %-15s %-16s %-16s %2d %2d %4d %-8s %12lld %10lld\n", i, l.name.c_str(),
                  std::string(net::to_string(l.kind)).c_str(), shape_text(l.in).c_str(), shape_text(l.out).c_str(),
                  l.kernel, l.stride, l.groups, std::string(net::to_string(l.act)).c_str(),
                  static_cast<long long>(l.macs), static_cast<long long>(l.params));
    os << line;
  }
  os << "\nblocks:\n";
  for (std::size_t i = 0; i < n.blocks.size(); ++i) {
    const auto& b = n.blocks[i];
    std::snprintf(line, sizeof line, "  %-3zu %-12s %-10s layers %d-%d  ", i, b.kind.c_str(),
                  b.searchable ? "searchable" : "fixed", b.first_layer, b.last_layer);
    os << line << b.signature << '\n';
  }
  std::snprintf(line, sizeof line, "\ntotal: %lld MACs (%.3f GMACs) per sample, %lld params (%.3f M)\n",
                static_cast<long long>(n.total_macs()), static_cast<double>(n.total_macs()) / 1e9,
                static_cast<long long>(n.total_params()), static_cast<double>(n.total_params()) / 1e6);
  os << line;
  std::snprintf(line, sizeof line, "depth: %d   resolution: %d   id: %016llx\n", sp.depth(a), sp.resolution(a),
                static_cast<unsigned long long>(space::arch_id(sp.format(a))));
  os << line << "arch: " << sp.format(a) << '\n';
  return os.str();
}

}  // namespace

int describe(const args& a) {
  po::options_description opts("esm describe options");
  std::string text, out;
  int batch = 1;
  opts.add_options()
      ("arch", po::value(&text)->required(), "canonical architecture text (esm sample prints them)")
      ("batch", po::value(&batch)->default_value(1), "batch size")
      ("json", "emit the full network IR as JSON (for rebuilding the network elsewhere)")
      ("out", po::value(&out), "write to FILE instead of stdout");
  po::positional_options_description pos;
  pos.add("arch", 1);
  po::variables_map vm;
  if (!parse(a, opts, vm, "esm describe --arch TEXT [--batch B] [--json]", &pos)) return 0;
  if (batch <= 0 || batch > 4096) throw usage_error("--batch must be in 1..4096, got " + std::to_string(batch));
  const space::arch arch = space::parse_any(text);
  if (vm.count("json")) {
    write_output(out, space::describe_json(arch, batch));
  } else {
    const auto& sp = space::find_space(arch.space);
    write_output(out, table(sp, arch, sp.build(arch, batch)));
  }
  return 0;
}

}  // namespace esm::cli
