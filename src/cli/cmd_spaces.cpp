// esm spaces: the search spaces, their choice sets, depth bins and sizes.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "esm/space/space.hpp"

namespace po = boost::program_options;

namespace esm::cli {

int spaces(const args& a) {
  po::options_description opts("esm spaces options");
  po::variables_map vm;
  if (!parse(a, opts, vm, "esm spaces")) return 0;
  for (const auto* s : space::all_spaces()) {
    const auto bins = s->depth_bins();
    char size[64];
    std::snprintf(size, sizeof size, "%.3Le (10^%.1Lf)", s->count({}), std::log10(s->count({})));
    std::cout << s->name() << "\n  " << s->choices_text() << "\n  variants: ";
    const auto vs = s->variants();
    if (vs.empty()) std::cout << "-";
    for (std::size_t i = 0; i < vs.size(); ++i) std::cout << (i ? ", " : "") << vs[i];
    std::cout << "\n  depth bins: " << bins.front() << ".." << bins.back() << " (" << bins.size() << " bins)"
              << "\n  genes: " << s->gene_names().size() << "\n  architectures: " << size << "\n\n";
  }
  return 0;
}

}  // namespace esm::cli
