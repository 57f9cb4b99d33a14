// esm-gpu-bench: times architectures with the cuDNN backend, plain stream launches and CUDA-graph
// replay, for tools/gpu-check/gpu-check.sh (which compares the numbers with PyTorch on the same IR).
//
// Built wherever the cuDNN backend is (full and GPU-only builds), without Boost: the GPU machine
// has none. Per architecture: build the network at --batch, compile, warm up (at least
// --warmup-runs runs and --warmup-ms milliseconds), time --runs runs with CUDA events, and print
// one JSON line with the trimmed mean (20% dropped at each end), median and minimum per mode.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "backend/cudnn/device_query.hpp"
#include "esm/backend/backend.hpp"
#include "esm/common/error.hpp"
#include "esm/net/network.hpp"
#include "esm/space/space.hpp"

namespace {

namespace be = esm::backend;
using clock_type = std::chrono::steady_clock;

constexpr const char* usage_text = R"(usage: esm-gpu-bench --archs FILE [options]

Times each architecture of FILE (one arch text per line; blank lines and '#' comments skipped)
with the cuDNN backend and prints one JSON line per architecture on stdout.

options:
  --archs FILE          architectures to time
  --batch N             batch size (default 1)
  --precision P         fp32 | fp16 (default fp32)
  --layout L            nchw | nhwc (channels-last, fp16 only; default nchw)
  --algos A             find | heuristic (default find)
  --device N            CUDA device (default 0)
  --workspace-mib N     cuDNN workspace limit per convolution in MiB (default 256)
  --modes LIST          plain,graph or one of them (default plain,graph)
  --warmup-runs N       at least N untimed runs per mode (default 10)
  --warmup-ms MS        and at least MS milliseconds of them (default 200)
  --runs N              timed runs per mode (default 100)
  --export-json DIR     also write each network's IR (esm describe --json) to DIR/<index>.json
  --time-budget-s S     start no further architecture after S seconds (default: no limit)
  --help                this text

Each line: index, arch, space, batch, precision, layout, algos, macs, params, json (the exported path or
null) and per mode {trimmed_mean_ms, median_ms, min_ms, runs, warmup_runs, compile_s} or
{error}; a line with a top-level error could not build the network. Exit status 0 when every
architecture was timed in every mode, 1 otherwise, 2 for bad options.
)";

struct options {
  std::string archs_file;
  int batch = 1;
  be::compile_options compile;
  std::vector<bool> graph_modes{false, true};
  int warmup_runs = 10;
  double warmup_ms = 200.0;
  int runs = 100;
  std::string export_dir;
  double time_budget_s = -1.0;
};

int to_int(const std::string& option, const std::string& value, int min) {
  try {
    std::size_t used = 0;
    const int v = std::stoi(value, &used);
    if (used == value.size() && v >= min) return v;
  } catch (const std::exception&) {
  }
  throw esm::usage_error(option + " expects an integer >= " + std::to_string(min) + ", got '" + value + "'");
}

double to_double(const std::string& option, const std::string& value) {
  try {
    std::size_t used = 0;
    const double v = std::stod(value, &used);
    if (used == value.size() && v >= 0.0) return v;
  } catch (const std::exception&) {
  }
  throw esm::usage_error(option + " expects a number >= 0, got '" + value + "'");
}

/// Returns false for --help.
bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i], value;
    if (name == "--help" || name == "-h") return false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw esm::usage_error(name + " needs a value (see --help)");
    }
    if (name == "--archs") {
      o.archs_file = value;
    } else if (name == "--batch") {
      o.batch = to_int(name, value, 1);
    } else if (name == "--precision") {
      o.compile.prec = be::parse_precision(value);
    } else if (name == "--layout") {
      o.compile.layout = be::parse_tensor_layout(value);
    } else if (name == "--algos") {
      o.compile.algos = be::parse_algo_selection(value);
    } else if (name == "--device") {
      o.compile.device = to_int(name, value, 0);
    } else if (name == "--workspace-mib") {
      o.compile.workspace_limit_bytes = static_cast<std::size_t>(to_int(name, value, 0)) << 20;
    } else if (name == "--modes") {
      o.graph_modes.clear();
      std::stringstream list(value);
      for (std::string mode; std::getline(list, mode, ',');) {
        if (mode != "plain" && mode != "graph") throw esm::usage_error("--modes: unknown mode '" + mode + "'");
        o.graph_modes.push_back(mode == "graph");
      }
      if (o.graph_modes.empty()) throw esm::usage_error("--modes needs plain, graph or both");
    } else if (name == "--warmup-runs") {
      o.warmup_runs = to_int(name, value, 0);
    } else if (name == "--warmup-ms") {
      o.warmup_ms = to_double(name, value);
    } else if (name == "--runs") {
      o.runs = to_int(name, value, 1);
    } else if (name == "--export-json") {
      o.export_dir = value;
    } else if (name == "--time-budget-s") {
      o.time_budget_s = to_double(name, value);
    } else {
      throw esm::usage_error("unknown option '" + name + "' (see --help)");
    }
  }
  if (o.archs_file.empty()) throw esm::usage_error("--archs FILE is required (see --help)");
  if (o.compile.layout == be::tensor_layout::nhwc && o.compile.prec != be::precision::fp16) {
    throw esm::usage_error("--layout nhwc needs --precision fp16");
  }
  return true;
}

std::vector<std::string> read_archs(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw esm::usage_error("cannot read --archs file '" + path + "'");
  std::vector<std::string> archs;
  for (std::string line; std::getline(in, line);) {
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty() && line[0] != '#') archs.push_back(line);
  }
  if (archs.empty()) throw esm::usage_error("--archs file '" + path + "' lists no architecture");
  return archs;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out + '"';
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

/// Trimmed mean (k = floor(0.2 n) dropped at each end), median and minimum of the samples, as
/// the JSON object of one mode.
std::string summary_json(std::vector<double> ms, int warmup_runs, double compile_s) {
  std::sort(ms.begin(), ms.end());
  const std::size_t n = ms.size(), k = n / 5;
  double kept = 0.0;
  for (std::size_t i = k; i < n - k; ++i) kept += ms[i];
  const double trimmed = kept / static_cast<double>(n - 2 * k);
  const double median = n % 2 == 1 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  return "{\"trimmed_mean_ms\": " + number(trimmed) + ", \"median_ms\": " + number(median) +
         ", \"min_ms\": " + number(ms.front()) + ", \"runs\": " + std::to_string(n) +
         ", \"warmup_runs\": " + std::to_string(warmup_runs) + ", \"compile_s\": " + number(compile_s) + "}";
}

/// Compiles, warms up and times one mode; returns its JSON object.
std::string time_mode(const be::backend& cudnn, const esm::net::network& net, const options& o, bool graph,
                      std::string& description) {
  be::compile_options compile = o.compile;
  compile.cuda_graph = graph;
  const auto compile_start = clock_type::now();
  const auto exe = cudnn.compile(net, compile);
  const double compile_s = std::chrono::duration<double>(clock_type::now() - compile_start).count();
  if (description.empty()) description = exe->description();

  int warmup = 0;
  const auto warmup_start = clock_type::now();
  while (warmup < o.warmup_runs ||
         std::chrono::duration<double, std::milli>(clock_type::now() - warmup_start).count() < o.warmup_ms) {
    static_cast<void>(exe->timed_run_ms());
    ++warmup;
  }
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(o.runs));
  for (int r = 0; r < o.runs; ++r) ms.push_back(exe->timed_run_ms());
  return summary_json(std::move(ms), warmup, compile_s);
}

int bench(const options& o) {
  const std::vector<std::string> archs = read_archs(o.archs_file);
  const auto census = esm::backend::cudnn::count_devices();
  if (census.count == 0) throw esm::error("no CUDA device (" + census.problem + ")");
  if (!o.export_dir.empty()) std::filesystem::create_directories(o.export_dir);
  const auto cudnn = be::make_backend("cudnn");
  std::cerr << "esm-gpu-bench: " << cudnn->version() << "; " << esm::backend::cudnn::describe_device(o.compile.device)
            << "; " << archs.size() << " architectures, batch " << o.batch << ", " << be::to_string(o.compile.prec)
            << ", " << be::to_string(o.compile.algos) << '\n';

  const auto start = clock_type::now();
  int failed = 0;
  std::string description;
  for (std::size_t index = 0; index < archs.size(); ++index) {
    const double elapsed_s = std::chrono::duration<double>(clock_type::now() - start).count();
    if (o.time_budget_s >= 0.0 && elapsed_s > o.time_budget_s) {
      std::cerr << "esm-gpu-bench: time budget of " << o.time_budget_s << " s reached after " << index << " of "
                << archs.size() << " architectures\n";
      break;
    }
    std::string line = "{\"index\": " + std::to_string(index) + ", \"arch\": " + json_string(archs[index]);
    try {
      const esm::space::arch a = esm::space::parse_any(archs[index]);
      const esm::net::network net = esm::space::find_space(a.space).build(a, o.batch);
      std::string json_path = "null";
      if (!o.export_dir.empty()) {
        const std::string path = (std::filesystem::path(o.export_dir) / (std::to_string(index) + ".json")).string();
        std::ofstream(path) << esm::net::to_json(net);
        json_path = json_string(path);
      }
      line += ", \"space\": " + json_string(a.space) + ", \"batch\": " + std::to_string(o.batch) +
              ", \"precision\": \"" + std::string(be::to_string(o.compile.prec)) + "\", \"layout\": \"" +
              std::string(be::to_string(o.compile.layout)) + "\", \"algos\": \"" +
              std::string(be::to_string(o.compile.algos)) + "\", \"macs\": " + std::to_string(net.total_macs()) +
              ", \"params\": " + std::to_string(net.total_params()) + ", \"json\": " + json_path;
      for (const bool graph : o.graph_modes) {
        const std::string mode = graph ? "graph" : "plain";
        try {
          line += ", \"" + mode + "\": " + time_mode(*cudnn, net, o, graph, description);
        } catch (const std::exception& e) {  // the other mode's numbers are still worth having
          line += ", \"" + mode + "\": {\"error\": " + json_string(e.what()) + "}";
          std::cerr << "esm-gpu-bench: architecture " << index << ", " << mode << ": " << e.what() << '\n';
          ++failed;
        }
      }
    } catch (const esm::usage_error& e) {
      throw esm::usage_error("architecture " + std::to_string(index) + " of " + o.archs_file + ": " + e.what());
    } catch (const std::exception& e) {
      line += ", \"error\": " + json_string(e.what());
      std::cerr << "esm-gpu-bench: architecture " << index << " failed: " << e.what() << '\n';
      ++failed;
    }
    std::cout << line << "}" << std::endl;
    if (index == 0 && !description.empty()) std::cerr << "esm-gpu-bench: " << description << '\n';
  }
  return failed == 0 ? esm::exit_code::ok : esm::exit_code::failure;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    options o;
    if (!parse(argc, argv, o)) {
      std::cout << usage_text;
      return esm::exit_code::ok;
    }
    return bench(o);
  } catch (const esm::usage_error& e) {
    std::cerr << "esm-gpu-bench: error: " << e.what() << '\n';
    return esm::exit_code::usage;
  } catch (const std::exception& e) {
    std::cerr << "esm-gpu-bench: error: " << e.what() << '\n';
    return esm::exit_code::failure;
  }
}
