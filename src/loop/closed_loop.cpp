// The closed loop's orchestration (design: include/esm/loop/closed_loop.hpp).
#include "esm/loop/closed_loop.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_set>

#include "esm/common/error.hpp"
#include "esm/dataset/dataset.hpp"
#include "esm/dataset/run_lock.hpp"
#include "esm/profile/profile.hpp"
#include "esm/features/encoding.hpp"
#include "esm/space/sampler.hpp"
#include "esm/surrogate/regressor.hpp"
#include "esm/train/cross_validation.hpp"
#include "esm/train/group_effects.hpp"
#include "esm/train/pipeline.hpp"
#include "esm/train/training_data.hpp"
#include "loop/pool.hpp"

namespace po = boost::program_options;

namespace esm::loop {

namespace {

struct loop_key {
  const char* name;
  const char* default_value;
  const char* help;
};

constexpr loop_key loop_keys[] = {
    {"loop.threshold", "0.95", "share within ±10% that every depth bin must reach"},
    {"loop.initial", "110", "first, depth-balanced sample (replaces sample.count)"},
    {"loop.batch", "55", "archs added per iteration"},
    {"loop.budget", "1100", "most archs measured in total"},
    {"loop.max_iterations", "20", "most iterations (trainings)"},
    {"loop.min_per_bin", "5", "bins with fewer usable rows never meet the threshold"},
    {"loop.strategy", "weighted", "weighted (ESM) | random | uncertainty"},
    {"loop.candidate_pool", "2000", "uncertainty: uniform candidates scored per iteration"},
    {"loop.encoding", "fcc", "feature encoding (esm train --encoding)"},
    {"loop.kinds", "ridge,mlp", "surrogate kinds, comma-separated"},
    {"loop.folds", "5", "cross-validation folds"},
    {"loop.folds_by", "auto", "auto (whole measuring groups per fold where the dataset has them) | groups | rows"},
    {"loop.members", "1", "ensemble members per kind"},
    {"loop.seed", "0", "seed of CV folds and fits"},
    {"loop.sizes", "", "dataset sizes after each batch, comma-separated (e.g. 20,50,100); empty: + loop.batch each"},
    {"loop.pool", "", "pool mode: look the labels up in this dataset (esm import) instead of measuring; "
                      "draws come from its archs"},
};

std::string trimmed(std::string v) {
  v.erase(0, v.find_first_not_of(" \t"));
  v.erase(v.find_last_not_of(" \t") + 1);
  return v;
}

std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!(item = trimmed(item)).empty()) out.push_back(item);
  }
  return out;
}

std::string percent(double share) {
  if (!std::isfinite(share)) return "n/a";
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", 100 * share);
  return text;
}

// ---- one iteration's judgement ------------------------------------------------------------------

/// The CV model whose per-bin accuracy the loop judges: the stacked blend when there is one.
const train::cv_model_result& judged_model(const train::cv_report& report) {
  for (const char* name : {"stacked", "ensemble"}) {
    for (const auto& m : report.models) {
      if (m.model == name) return m;
    }
  }
  return report.models.back();
}

/// Rank 0: the /loop rows of one iteration (one per depth bin of the space) and its printed line.
struct verdict {
  decision next;
  std::vector<dataset::loop_row> rows;
  std::string line;
};

verdict judge(const std::vector<int>& bins, const train::cv_model_result& model, std::size_t samples,
              std::size_t iteration, const settings& s) {
  std::vector<bin_accuracy> accuracy;
  for (const auto& g : model.per_bin) accuracy.push_back({g.label, g.metrics.n, g.metrics.within_10});
  verdict v;
  v.next = decide(bins, accuracy, samples, iteration, s);

  std::size_t below = 0;
  double worst = std::numeric_limits<double>::infinity();
  int worst_bin = 0;
  for (const int b : bins) {
    dataset::loop_row r{};
    r.samples = samples;
    r.within_10 = std::numeric_limits<double>::quiet_NaN();
    for (const auto& a : accuracy) {
      if (a.bin == b) {
        r.n = a.n;
        r.within_10 = a.within_10;
      }
    }
    r.threshold = s.threshold;
    r.iteration = static_cast<std::int32_t>(iteration);
    r.bin = b;
    r.stop = v.next.stop ? 1 : 0;
    r.next_count = static_cast<std::int32_t>(v.next.next_count);
    dataset::set_text(r.strategy, to_string(s.how));
    dataset::set_text(r.model, model.model);
    dataset::set_text(r.decision, v.next.reason);
    v.rows.push_back(r);
    if (r.n < s.min_per_bin || !(r.within_10 >= s.threshold)) ++below;
    if (r.n > 0 && r.within_10 < worst) {
      worst = r.within_10;
      worst_bin = b;
    }
  }
  char line[256];
  std::snprintf(line, sizeof line, "iter %zu: %zu archs, bins below %.0f%%: %zu", iteration, samples, 100 * s.threshold,
                below);
  v.line = line;
  if (std::isfinite(worst)) v.line += " (min " + percent(worst) + " at depth " + std::to_string(worst_bin) + ")";
  v.line += v.next.stop ? ", stop: " + v.next.reason
                        : ", next: " + std::string(to_string(s.how)) + " +" + std::to_string(v.next.next_count);
  return v;
}

/// Rank 0: the candidates of the next batch as archs (the pool's rows not yet measured, or the
/// space's), drawn as the strategy says, before the uncertainty strategy's choice among them.
std::vector<space::arch> draw_from(const pool& p, const loop_config& cfg, const decision& next, std::size_t count,
                                   std::uint64_t seed, const std::unordered_set<std::uint64_t>& measured) {
  const auto rows = rows_left(p, measured);
  std::vector<int> depth;
  for (const auto i : rows) depth.push_back(p.archs[i].depth);
  const auto weights = cfg.policy.how == strategy::weighted ? next.weights : std::map<int, double>{};
  std::vector<space::arch> archs;
  for (const auto k : draw_from_pool(depth, count, weights, seed)) archs.push_back(p.parsed[rows[k]]);
  return archs;
}

/// Rank 0: the texts of the next batch, none of them in `measured` (from the pool in pool mode).
std::vector<std::string> draw_batch(const space::search_space& sp, const profile::job_config& job, const loop_config& cfg,
                                    const decision& next, std::size_t iteration,
                                    const std::unordered_set<std::uint64_t>& measured,
                                    const surrogate::ensemble_regressor* model, const pool* from) {
  space::sample_request r = job.sample_request();
  r.seed = train::task_seed(job.seed, 2, iteration);  // stream 2: the loop's batches
  r.exclude = measured;
  r.count = next.next_count;
  r.policy = space::sample_policy::uniform;
  if (cfg.policy.how == strategy::weighted) {
    r.policy = space::sample_policy::weighted;
    r.bin_weights = next.weights;
  }
  if (cfg.policy.how == strategy::uncertainty) r.count = cfg.policy.candidate_pool;
  auto archs = from ? draw_from(*from, cfg, next, r.count, r.seed, measured) : space::sample_archs(sp, r);
  if (cfg.policy.how == strategy::uncertainty) {
    const features::encoder enc(sp, features::encoding_spec::parse(cfg.encoding));
    const auto x = enc.encode(archs);
    const auto spread = model->predict_with_uncertainty(surrogate::matrix_view(x.rows, x.cols, x.data)).relative_spread;
    std::vector<space::arch> chosen;
    for (const auto i : most_uncertain(spread, next.next_count)) chosen.push_back(archs[i]);
    archs = std::move(chosen);
  }
  std::vector<std::string> texts;
  for (const auto& a : archs) texts.push_back(sp.format(a));
  return texts;
}

std::string joined(const std::vector<std::string>& items, char separator) {
  std::string out;
  for (const auto& item : items) out += item + separator;
  return out;
}

/// Rank 0's view of the dataset when the loop (re)starts.
struct loop_state {
  bool exists = false;
  bool pending = false;   ///< rows not done: measure before training
  std::size_t iteration = 0;
  bool stopped = false;   ///< the last recorded iteration decided to stop
  std::string stop_reason;
};

loop_state inspect(const loop_request& req) {
  loop_state s;
  const std::string& path = req.job.output;
  std::error_code ec;
  s.exists = std::filesystem::exists(path, ec);
  if (s.exists && !req.resume) {
    throw usage_error("'" + path + "' exists: pass --resume to continue its loop, or choose another output");
  }
  if (!s.exists) {
    s.pending = true;
    return s;
  }
  const auto c = dataset::read(path);
  if (c.schema_version != dataset::schema_version) {
    throw usage_error("'" + path + "' has dataset schema version " + std::to_string(c.schema_version) +
                      ": --resume grows only version " + std::to_string(dataset::schema_version) +
                      " files; run the loop into a new output");
  }
  for (const auto& r : c.results) s.pending = s.pending || status_of(r) != dataset::row_status::done;
  const auto t = dataset::read_loop(path);
  if (!t.rows.empty() && t.config != req.loop.text) {
    throw usage_error("'" + path + "' was grown by a loop with other [loop] settings:\n" + t.config);
  }
  if (!t.rows.empty()) {
    const auto& last = t.rows.back();
    s.iteration = static_cast<std::size_t>(last.iteration) + 1;
    s.stopped = last.stop != 0;
    s.stop_reason = dataset::get_text(last.decision);
  }
  return s;
}

/// Collective: rank 0 holds the dataset's run lock while `step` runs (the writes between profiles).
/// `room`: bytes the writes may add to the file; a disk that cannot take them is refused (exit 2)
/// before any rank writes (parallel HDF5 cannot agree on a write that fails on one rank only).
template <class Step>
void under_lock(const cluster::communicator& world, const std::string& path, std::uint64_t room, Step&& step) {
  std::optional<dataset::run_lock> lock;
  cluster::all_or_none(world, [&] {
    if (world.rank() == 0) {
      lock.emplace(dataset::run_lock::acquire(
          path, {dataset::host_name(), static_cast<long>(::getpid()), dataset::iso_utc_now(), ""}));
      dataset::check_room(path, room);
    }
  });
  cluster::all_or_none(world, step);
  if (lock) lock->release();
}

/// `parse()`, with its usage_error prefixed by the [loop] key whose value it parsed ("loop.strategy:
/// unknown loop strategy 'greedy' ..."), as the job configuration's errors name theirs.
template <class Parse>
auto keyed(const char* key, Parse&& parse) {
  try {
    return parse();
  } catch (const usage_error& e) {
    throw usage_error(std::string(key) + ": " + e.what());
  }
}

/// The run record of one pool fill.
dataset::run_info pool_run(const loop_request& req, int world_size) {
  dataset::run_info run;
  run.command_line = req.command_line;
  run.host = dataset::host_name();
  run.pid = ::getpid();
  run.world_size = world_size;
  run.partition = "pool";
  run.start_time = dataset::iso_utc_now();
  return run;
}

}  // namespace

po::options_description loop_options() {
  po::options_description options("closed loop ([loop] keys; on the command line as --loop.key=value)");
  for (const auto& k : loop_keys) options.add_options()(k.name, po::value<std::string>()->default_value(k.default_value), k.help);
  return options;
}

loop_config resolve_loop(const po::variables_map& vm) {
  loop_config c;
  std::string text = "[loop]\n";
  const auto raw = [&](const char* k) {
    const auto it = vm.find(k);
    const std::string v = it == vm.end() ? std::string() : trimmed(it->second.as<std::string>());
    text += std::string(k + 5) + " = " + v + "\n";
    return v;
  };
  const auto count = [&](const char* k, long long minimum) {
    const auto v = raw(k);
    try {
      std::size_t used = 0;
      const long long n = std::stoll(v, &used);
      if (used == v.size() && n >= minimum) return static_cast<std::size_t>(n);
    } catch (const std::logic_error&) {
    }
    throw usage_error(std::string(k) + ": expected an integer >= " + std::to_string(minimum) + ", got '" + v + "'");
  };
  auto& p = c.policy;
  {
    const auto v = raw("loop.threshold");
    try {
      std::size_t used = 0;
      p.threshold = std::stod(v, &used);
      if (used != v.size()) throw std::invalid_argument(v);
    } catch (const std::logic_error&) {
      throw usage_error("loop.threshold: expected a number, got '" + v + "'");
    }
  }
  p.initial = count("loop.initial", 2);
  p.batch = count("loop.batch", 1);
  p.budget = count("loop.budget", 1);
  p.max_iterations = count("loop.max_iterations", 1);
  p.min_per_bin = count("loop.min_per_bin", 0);
  p.how = keyed("loop.strategy", [&] { return parse_strategy(raw("loop.strategy")); });
  p.candidate_pool = count("loop.candidate_pool", 1);
  p.validate();
  c.encoding = keyed("loop.encoding", [&] { return features::encoding_spec::parse(raw("loop.encoding")).text(); });
  c.kinds = comma_list(raw("loop.kinds"));
  if (c.kinds.empty()) throw usage_error("loop.kinds: name at least one surrogate kind");
  for (const auto& k : c.kinds) keyed("loop.kinds", [&] { (void)surrogate::make_regressor(k); });
  c.folds = count("loop.folds", 2);
  {
    // Not in the loop's text at its default: loops begun before the key existed resume unchanged.
    const std::string before = text;
    const auto v = raw("loop.folds_by");
    c.folds_by = keyed("loop.folds_by", [&] { return train::parse_fold_rule(v, "value"); });
    if (c.folds_by == train::fold_rule::automatic) text = before;
  }
  c.members = count("loop.members", 1);
  c.seed = count("loop.seed", 0);
  {
    // Like folds_by: absent from the text at their defaults, so older loops resume unchanged.
    const std::string before = text;
    const auto sizes = raw("loop.sizes");
    c.pool = raw("loop.pool");
    if (sizes.empty() && c.pool.empty()) text = before;
    for (const auto& item : comma_list(sizes)) {
      std::size_t used = 0;
      long long n = -1;
      try {
        n = std::stoll(item, &used);
      } catch (const std::logic_error&) {
      }
      if (n < 1 || used != item.size()) throw usage_error("loop.sizes: '" + item + "' is not a positive integer");
      p.sizes.push_back(static_cast<std::size_t>(n));
    }
    p.validate();
  }
  train::cv_options cv;
  cv.kinds = c.kinds;
  cv.folds = c.folds;
  cv.members = c.members;
  cv.validate();
  if (p.initial < c.folds) throw usage_error("loop.initial must be at least loop.folds");
  c.text = text;
  return c;
}

int run_loop(const cluster::communicator& world, const loop_request& req) {
  const profile::job_config& job = req.job;
  const loop_config& cfg = req.loop;
  const bool root = world.rank() == 0;
  const auto& sp = space::find_space(job.space);
  const auto bins = sp.depth_bins();
  train::cv_options cv;
  cv.kinds = cfg.kinds;
  cv.folds = cfg.folds;
  cv.members = cfg.members;
  cv.seed = cfg.seed;

  loop_state state;
  std::optional<pool> from;  // rank 0, pool mode
  dataset::provenance pool_prov;
  cluster::all_or_none(world, [&] {
    if (!root) return;
    state = inspect(req);
    if (cfg.pool.empty()) return;
    from.emplace(read_pool(cfg.pool, job, cfg.policy.initial, req.allow_synthetic));
    pool_prov = pool_provenance(*from, job, req.command_line);
  });
  {
    std::int64_t flags[3] = {state.pending, static_cast<std::int64_t>(state.iteration), state.stopped};
    const auto all = cluster::sum(world, {root ? flags[0] : 0, root ? flags[1] : 0, root ? flags[2] : 0});
    state.pending = all[0] != 0;
    state.iteration = static_cast<std::size_t>(all[1]);
    state.stopped = all[2] != 0;
  }
  if (state.stopped) {
    if (root) std::printf("esm loop: %s already stopped after iteration %zu: %s\n", job.output.c_str(), state.iteration - 1,
                          state.stop_reason.c_str());
    return exit_code::ok;
  }
  if (root) {
    if (from) {
      std::printf("esm loop: POOL MODE: no latency is measured; labels are looked up in %s (%zu archs, %s, %s)\n",
                  cfg.pool.c_str(), from->archs.size(), from->prov.device.empty() ? from->prov.backend.c_str() : from->prov.device.c_str(),
                  from->prov.imported_from.empty() ? "measured by esm" : from->prov.imported_from.c_str());
    }
    std::printf("esm loop: %s, strategy %s, threshold %s, initial %zu, batch %zu, budget %zu, kinds %s x%zu, %zu folds\n",
                state.exists ? ("resuming " + job.output + " at iteration " + std::to_string(state.iteration)).c_str()
                             : ("creating " + job.output).c_str(),
                std::string(to_string(cfg.policy.how)).c_str(), percent(cfg.policy.threshold).c_str(), cfg.policy.initial,
                cfg.policy.batch, cfg.policy.budget, joined(cfg.kinds, ' ').c_str(), cfg.members, cfg.folds);
    std::fflush(stdout);
  }

  // Rank 0's plan: the dataset's rows, or the initial sample (exactly `esm sample` of [sample]).
  std::vector<dataset::arch_entry> plan;
  cluster::all_or_none(world, [&] {
    if (!root) return;
    if (state.exists) {
      plan = dataset::read(job.output).archs;
    } else if (from) {
      plan = initial_from_pool(*from, job, bins, cfg.policy.initial);
    } else {
      for (const auto& a : job.plan_archs()) plan.push_back(profile::plan_entry(sp, a));
    }
  });

  for (std::size_t iteration = state.iteration;; ++iteration) {
    if (state.pending && !cfg.pool.empty()) {
      cluster::all_or_none(world, [&] {
        if (root) fill_from_pool(job.output, *from, pool_prov, pool_run(req, world.size()), plan);
      });
    } else if (state.pending) {
      profile::profile_request measure{job, true, req.command_line, {}};
      if (root) measure.plan = plan;
      const int code = profile::run_profile(world, measure);
      if (code != exit_code::ok) return code;
    }
    if (cluster::any(world, profile::stop_signalled())) return exit_code::interrupted;

    // Train and cross-validate on every usable row (every rank reads the file, as `esm train`;
    // fits use labels corrected for measuring-group effects, as esm train does by default).
    train::training_request treq;
    treq.dataset_path = job.output;
    treq.encoding = features::encoding_spec::parse(cfg.encoding);
    treq.cv = cv;
    treq.final_model = train::final_fit::none;
    treq.folds_setting = "loop.folds";
    treq.folds_by = cfg.folds_by;
    treq.allow_synthetic = true;  // esm loop refused a synthetic backend before measuring (--allow-synthetic)
    const auto trained = train::run_training(world, treq);
    const auto& report = trained.report;
    const std::size_t samples = trained.dataset_archs;

    verdict v;
    cluster::all_or_none(world, [&] {
      if (root) v = judge(bins, judged_model(report), samples, iteration, cfg.policy);
    });
    std::int64_t stop = v.next.stop ? 1 : 0;
    stop = cluster::sum(world, root ? stop : 0);
    std::optional<surrogate::ensemble_regressor> model;
    if ((!stop && cfg.policy.how == strategy::uncertainty) || !cfg.pool.empty()) {
      const surrogate::matrix_view view(trained.x.rows, trained.x.cols, trained.x.data);
      model.emplace(train::fit_final(world, view, trained.data.y, trained.cv, report.stack_weights));
    }
    std::string scored;  // pool mode: the model scored on the pool's archs not in the dataset
    cluster::all_or_none(world, [&] {
      if (!root || !from) return;
      std::unordered_set<std::uint64_t> taken;
      for (const auto& e : plan) taken.insert(e.id);
      auto score = score_holdout(*from, taken, *model, cfg.encoding, sp);
      score.iteration = iteration;
      score.samples = samples;
      scored = holdout_line(score);
      if (!req.scores_path.empty()) append_holdout_csv(req.scores_path, score);
    });

    // Rank 0 draws the batch; every rank learns the texts (the arguments of the collective writes).
    std::string rows_bytes, texts;
    cluster::all_or_none(world, [&] {
      if (!root) return;
      rows_bytes.assign(reinterpret_cast<const char*>(v.rows.data()), v.rows.size() * sizeof(dataset::loop_row));
      if (stop) return;
      std::unordered_set<std::uint64_t> measured;
      for (const auto& e : plan) measured.insert(e.id);
      texts = joined(draw_batch(sp, job, cfg, v.next, iteration, measured, model ? &*model : nullptr,
                                from ? &*from : nullptr), '\n');
    });
    cluster::broadcast(world, rows_bytes);
    cluster::broadcast(world, texts);
    std::vector<dataset::loop_row> rows(rows_bytes.size() / sizeof(dataset::loop_row));
    if (!rows.empty()) std::memcpy(rows.data(), rows_bytes.data(), rows_bytes.size());
    std::vector<dataset::arch_entry> batch;
    cluster::all_or_none(world, [&] {
      std::stringstream ss(texts);
      for (std::string line; std::getline(ss, line);) batch.push_back(profile::plan_entry(sp, sp.parse(line)));
    });

    // The new rows of /archs, /results and /samples, their metadata and the /loop rows, generously.
    const auto room = (std::uint64_t{1} << 20) +
                      batch.size() * (static_cast<std::uint64_t>(std::max<std::int64_t>(job.max_samples(), 0)) * 4 + 4096);
    under_lock(world, job.output, room, [&] {
      dataset::append_loop_rows(world.get(), job.output, rows, cfg.text);
      dataset::extend(world.get(), job.output, batch);
    });
    if (root) {
      std::printf("%s\n", v.line.c_str());
      if (!scored.empty()) std::printf("  %s\n", scored.c_str());
      std::fflush(stdout);
    }
    if (stop) return exit_code::ok;
    if (batch.empty()) {  // pool mode: every pool arch is in the dataset (a space never runs dry here)
      if (root) std::printf("esm loop: the pool has no arch left to draw; stopping\n");
      return exit_code::ok;
    }
    if (root) plan.insert(plan.end(), batch.begin(), batch.end());
    state.pending = true;
  }
}

}  // namespace esm::loop
