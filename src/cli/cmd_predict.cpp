// esm predict: latency and uncertainty per architecture from a model file.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "esm/common/error.hpp"
#include "esm/predictor.hpp"

namespace po = boost::program_options;

namespace esm::cli {

int predict(const args& a) {
  po::options_description opts("esm predict options");
  std::string model, arch, archs_file, out;
  double reference_ms = 0;
  opts.add_options()
      ("model", po::value(&model)->required(), "model file (esm train)")
      ("arch", po::value(&arch), "one canonical architecture text")
      ("archs", po::value(&archs_file), "file with one architecture per line")
      ("reference-ms", po::value(&reference_ms), "normalised models: the reference network's latency on the target machine")
      ("json", "one JSON object per architecture (latency_ms, std_ms, lo_ms/hi_ms: 90% interval, in_domain, out_of_domain)")
      ("out", po::value(&out), "write to FILE instead of stdout");
  po::variables_map vm;
  if (!parse(a, opts, vm, "esm predict --model MODEL.h5 (--arch TEXT | --archs FILE) [--json]")) return 0;
  if (vm.count("arch") == vm.count("archs")) throw usage_error("give exactly one of --arch TEXT and --archs FILE");
  std::vector<std::string> texts;
  if (vm.count("arch")) {
    texts.push_back(arch);
  } else {
    std::ifstream in(archs_file);
    if (!in) throw usage_error("cannot read '" + archs_file + "'");
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] != '#') texts.push_back(line);
    }
    if (texts.empty()) throw usage_error("'" + archs_file + "' holds no architectures");
  }
  auto p = predictor::load(model);
  if (vm.count("reference-ms")) p.set_reference_ms(reference_ms);
  const auto r = p.predict(texts);
  std::string text;
  char line[256];
  const bool has_interval = std::isfinite(p.interval_level());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto& why = r.out_of_domain[i];
    std::string reasons;
    for (std::size_t k = 0; k < why.size(); ++k) reasons += (k ? "; " : "") + why[k];
    if (vm.count("json")) {
      std::snprintf(line, sizeof line, "\", \"latency_ms\": %.6g, \"std_ms\": %.6g", r.latency_ms[i], r.std_ms[i]);
      text += "{\"arch\": \"" + texts[i] + line;
      if (has_interval) {
        std::snprintf(line, sizeof line, ", \"lo_ms\": %.6g, \"hi_ms\": %.6g", r.lo_ms[i], r.hi_ms[i]);
        text += line;
      }
      text += std::string(", \"in_domain\": ") + (why.empty() ? "true" : "false") + ", \"out_of_domain\": [";
      for (std::size_t k = 0; k < why.size(); ++k) text += (k ? ", \"" : "\"") + why[k] + '"';
      text += "]}\n";
    } else {
      std::snprintf(line, sizeof line, "%.4f ms +- %.4f  ", r.latency_ms[i], r.std_ms[i]);
      text += line;
      if (has_interval) {
        std::snprintf(line, sizeof line, "[%.4f, %.4f]  ", r.lo_ms[i], r.hi_ms[i]);
        text += line;
      }
      text += texts[i];
      if (!why.empty()) text += "  OUTSIDE TRAINING DOMAIN: " + reasons;
      text += '\n';
    }
  }
  write_output(out, text);
  if (p.adapted()) {
    std::cerr << "esm predict: adapted model (esm adapt): " << p.rows_used() << " rows of the target device, "
              << p.adapted_from().size() << " source model" << (p.adapted_from().size() == 1 ? "" : "s") << '\n';
  }
  // Never silent: extrapolated predictions are flagged per row above and counted here.
  if (const auto n = r.outside_count(); n > 0) {
    std::cerr << "esm predict: " << n << " of " << texts.size() << " archs are outside the training domain ("
              << p.domain_text() << ")\n";
  }
  return 0;
}

}  // namespace esm::cli
