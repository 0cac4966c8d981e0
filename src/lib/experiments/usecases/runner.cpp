// The use-case runner: one run per (task, arm, seed), the resumable runs file,
// summaries, the verdict rule and the text / CSV / JSON tables.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adaswarm/experiments/usecases.h"
#include "adaswarm/loss/zeroth_order.h"
#include "adaswarm/optim/adaswarm.h"
#include "adaswarm/util/atomic_file.h"
#include "adaswarm/util/progress.h"
#include "adaswarm/util/runs_file.h"

namespace adaswarm::experiments::usecases {

namespace {
struct ArmName {
  Arm arm;
  const char* id;
};
constexpr ArmName kArms[] = {
    {Arm::Adam, "adam"},         {Arm::Surrogate, "surrogate"}, {Arm::AdaSwarm, "adaswarm"},
    {Arm::AdaSwarmTargets, "adaswarm-targets"}, {Arm::AdaSwarmSearch, "adaswarm-search"},
    {Arm::Constant, "constant"}, {Arm::SPSA, "spsa"},           {Arm::Ideal, "ideal"},
};

uint64_t mix(uint64_t a, uint64_t b) {  // splitmix64 of a combination
  uint64_t z = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL + (a << 6) + (a >> 2));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
uint64_t hash_string(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}
}  // namespace

const char* to_string(Arm a) {
  for (const auto& n : kArms)
    if (n.arm == a) return n.id;
  return "?";
}
Arm arm_from_string(const std::string& s) {
  std::string known;
  for (const auto& n : kArms) {
    if (s == n.id) return n.arm;
    known += (known.empty() ? "" : ", ") + std::string(n.id);
  }
  throw std::invalid_argument("unknown arm '" + s + "' (" + known + ")");
}
std::vector<Arm> all_arms() {
  std::vector<Arm> v;
  for (const auto& n : kArms) v.push_back(n.arm);
  return v;
}
bool is_swarm_arm(Arm a) { return a == Arm::AdaSwarm || a == Arm::AdaSwarmTargets || a == Arm::AdaSwarmSearch; }

std::string fingerprint(const UsecasesConfig& c) {
  // The loss form changes the swarm arms' trajectories. The tensor form keeps the
  // first fingerprint; kernels=2: every task has a kernel (kernels=1 covered five).
  return fmt::format("usecases-v1;epoch_scale={}{}", c.epoch_scale, c.kernels ? ";kernels=2" : "");
}

std::string RunResult::key() const { return fmt::format("{}/{}/{}", task, arm, seed); }

// ---------------------------------------------------------------------------
// one run
namespace {

SwarmLossOptions swarm_options(Arm arm, uint64_t seed) {
  SwarmLossOptions o = SwarmLossOptions::preset(arm == Arm::AdaSwarmSearch ? Preset::Search : Preset::Paper)
                           .loss(LossKind::Custom);
  if (arm == Arm::AdaSwarmTargets) o.start(SwarmStart::Targets);
  o.warn_blind_after(0);  // the constant control is blind by design; the runs report errors, not warnings
  o.swarm().seed(seed);
  return o;
}

CustomLossFn constant_loss() {
  return [](const at::Tensor& pos, const at::Tensor&) { return torch::zeros_like(pos); };
}

/// Loss evaluations per step of the custom default's swarm (what SPSA is given).
int64_t default_evaluations(const Task& task, const TaskData& d) {
  SwarmLoss probe(swarm_options(Arm::AdaSwarm, 0), task.loss);
  const int64_t b = std::min<int64_t>(4, d.x_train.size(0));
  auto y = torch::zeros({b, task.outputs}).requires_grad_(true);
  probe(y, d.target_train.narrow(0, 0, b)).backward();
  return probe.diagnostics().evaluations;
}

void fisher_yates(std::vector<int64_t>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(rng() % i)]);
}

void write_field(const std::string& path, const TaskData& d, const at::Tensor& pred) {
  std::string out = "row,col,truth,pred\n";
  const auto t = d.field_test.to(at::kDouble).contiguous(), p = pred.to(at::kDouble).contiguous();
  const double *tp = t.data_ptr<double>(), *pp = p.data_ptr<double>();
  for (int64_t i = 0; i < d.grid_h; ++i)
    for (int64_t j = 0; j < d.grid_w; ++j) {
      const int64_t k = i * d.grid_w + j;
      out += fmt::format("{},{},{:.6g},{:.6g}\n", i, j, tp[k], pp[k]);
    }
  util::write_file_atomic(path, out);
}

}  // namespace

RunResult run_one(const Task& task, Arm arm, uint64_t seed, double epoch_scale, const std::string& fields_path,
                  bool kernels) {
  if (!task.applies(arm))
    throw std::invalid_argument(fmt::format("arm {} does not apply to task {}", to_string(arm), task.key));
  const auto t0 = std::chrono::steady_clock::now();
  const TaskData d = task.generate(seed);
  const uint64_t base = mix(seed, hash_string(task.key));
  models::MLP net(models::MLPOptions(d.x_train.size(1), task.outputs).hidden(task.hidden).activation(task.activation));
  net->reset_parameters(mix(base, 1));
  auto forward = [&](const at::Tensor& x) { return task.out_offset + task.out_scale * net->forward(x); };
  auto test_error = [&] {
    torch::NoGradGuard ng;
    return task.error(forward(d.x_test), d);
  };
  RunResult r;
  r.task = task.key;
  r.arm = to_string(arm);
  r.seed = seed;
  r.untrained_error = test_error();

  const uint64_t swarm_seed = mix(base, 2);
  std::unique_ptr<torch::optim::Optimizer> opt;
  std::optional<SwarmLoss> swarm_loss;
  if (is_swarm_arm(arm) || arm == Arm::Constant) {
    const auto so = optim::AdaSwarmOptions(task.lr).swarm(swarm_options(arm, swarm_seed));
    auto o = arm != Arm::Constant && kernels && task.kernel.fn
                 ? std::make_unique<optim::AdaSwarm>(net->parameters(), so, task.kernel)
                 : std::make_unique<optim::AdaSwarm>(net->parameters(), so,
                                                     arm == Arm::Constant ? constant_loss() : task.loss);
    swarm_loss.emplace(o->loss());
    opt = std::move(o);
  } else {
    opt = std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(task.lr));
  }
  SurrogateFn surrogate;
  if (arm == Arm::Surrogate) surrogate = task.make_surrogate(d, mix(base, 3));
  ZerothOrderOptions zo;
  if (arm == Arm::SPSA) {
    const int64_t evals = default_evaluations(task, d);
    zo.pairs(std::max<int64_t>(1, evals / 2)).step(task.spsa_step).seed(swarm_seed).per_row(true);
  }

  const int64_t n = d.x_train.size(0);
  const int64_t bs = task.batch_size > 0 ? std::min(task.batch_size, n) : n;
  const int64_t epochs = std::max<int64_t>(1, std::llround(static_cast<double>(task.epochs) * epoch_scale));
  std::mt19937_64 rng(mix(base, 4));
  std::vector<int64_t> order(static_cast<size_t>(n));
  int64_t blind_steps = 0, swarm_steps = 0;  // swarm arms: steps the loss flagged blind
  double moved_sum = 0;
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    at::Tensor xs = d.x_train, ts = d.target_train, us = d.truth_train;
    if (bs < n) {
      for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
      fisher_yates(order, rng);
      const auto perm = torch::from_blob(order.data(), {n}, at::kLong).clone();
      xs = xs.index_select(0, perm);
      ts = ts.index_select(0, perm);
      if (us.defined()) us = us.index_select(0, perm);
    }
    for (int64_t b = 0; b < n; b += bs) {
      const int64_t m = std::min(bs, n - b);
      const auto xb = xs.narrow(0, b, m), tb = ts.narrow(0, b, m);
      opt->zero_grad();
      const auto y = forward(xb);
      switch (arm) {
        case Arm::Adam: {
          const auto value = task.loss(y.unsqueeze(0), tb).mean();
          if (value.requires_grad()) value.backward();  // a loss torch cannot differentiate gives no step
          r.evaluations += 1;
          break;
        }
        case Arm::Surrogate: surrogate(y, tb).backward(); break;
        case Arm::Ideal: (0.5 * (y - us.narrow(0, b, m)).pow(2).sum(1).mean()).backward(); break;
        case Arm::SPSA: {
          const BatchedLossFn batched = [&](const at::Tensor& cand) {
            auto l = task.loss(cand.to(at::kFloat), tb);
            if (l.dim() == 3) l = l.sum(2);
            return l / static_cast<double>(m);
          };
          const auto est = spsa_gradient(batched, y.detach(), ZerothOrderOptions(zo).stream(static_cast<uint64_t>(r.steps)));
          y.backward(est.grad);
          r.evaluations += est.evaluations;
          break;
        }
        default:
          (*swarm_loss)(y, tb).backward();
          r.evaluations += swarm_loss->diagnostics().evaluations;
          blind_steps += swarm_loss->diagnostics().blind ? 1 : 0;
          moved_sum += swarm_loss->diagnostics().moved_share;
          ++swarm_steps;
          break;
      }
      opt->step();
      ++r.steps;
    }
  }
  if (swarm_steps > 0) {
    r.blind_share = static_cast<double>(blind_steps) / static_cast<double>(swarm_steps);
    r.moved_share = moved_sum / static_cast<double>(swarm_steps);
  }
  r.error = test_error();
  {
    torch::NoGradGuard ng;
    r.train_loss = task.loss(forward(d.x_train).unsqueeze(0), d.target_train).mean().item<double>();
    if (!fields_path.empty() && d.grid_h > 0) write_field(fields_path, d, forward(d.x_test));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// ---------------------------------------------------------------------------
// all runs
namespace {
nlohmann::json to_json(const RunResult& r, const std::string& fp) {
  return nlohmann::json{{"fingerprint", fp},     {"task", r.task},         {"arm", r.arm},
                        {"seed", r.seed},        {"error", r.error},       {"untrained_error", r.untrained_error},
                        {"train_loss", r.train_loss}, {"steps", r.steps}, {"evaluations", r.evaluations},
                        {"blind_share", std::isnan(r.blind_share) ? nlohmann::json() : nlohmann::json(r.blind_share)},
                        {"moved_share", std::isnan(r.moved_share) ? nlohmann::json() : nlohmann::json(r.moved_share)},
                        {"seconds", r.seconds}};
}
RunResult from_json(const nlohmann::json& j) {
  // Every field is range-checked: a hand-edited record is refused (naming the
  // file, line and field), never put into the tables. A diverged run's NaN was
  // written as null: read back as NaN. Errors and the task losses are >= 0.
  constexpr double inf = std::numeric_limits<double>::infinity();
  RunResult r;
  r.task = j.at("task").get<std::string>();
  r.arm = j.at("arm").get<std::string>();
  r.seed = util::record_seed(j, "seed");
  r.error = util::record_number(j, "error", 0, inf);
  r.untrained_error = util::record_number(j, "untrained_error", 0, inf);
  r.train_loss = util::record_number(j, "train_loss", 0, inf);
  r.steps = util::record_integer(j, "steps", 0);
  r.evaluations = util::record_integer(j, "evaluations", 0);
  r.seconds = util::record_number(j, "seconds", 0, inf, false);
  // Shares: numbers in [0, 1] for the swarm arms, null (NaN) or absent for the others.
  if (j.contains("blind_share")) r.blind_share = util::record_number(j, "blind_share", 0, 1);
  if (j.contains("moved_share")) r.moved_share = util::record_number(j, "moved_share", 0, 1);
  return r;
}
struct Job {
  size_t task;
  Arm arm;
  uint64_t seed;
  double cost;
};
double arm_cost(Arm a) {
  switch (a) {
    case Arm::AdaSwarmSearch: return 8.0;
    case Arm::AdaSwarm:
    case Arm::AdaSwarmTargets:
    case Arm::Constant:
    case Arm::SPSA: return 2.0;
    default: return 1.0;
  }
}
}  // namespace

Outcome run_usecases(const UsecasesConfig& config) {
  const auto t0 = std::chrono::steady_clock::now();
  if (config.tasks.empty()) throw std::invalid_argument("--tasks: no tasks to run");
  if (config.seeds < 1) throw std::invalid_argument("--seeds must be at least 1, got " + std::to_string(config.seeds));
  if (config.jobs < 1) throw std::invalid_argument("--jobs must be at least 1, got " + std::to_string(config.jobs));
  if (!(config.epoch_scale > 0) || !std::isfinite(config.epoch_scale))
    throw std::invalid_argument("epoch_scale must be finite and > 0");
  const std::string fp = fingerprint(config);
  std::vector<Job> jobs;
  std::set<std::string> wanted;
  for (size_t t = 0; t < config.tasks.size(); ++t)
    for (Arm a : config.arms)
      if (config.tasks[t].applies(a))
        for (int64_t s = 0; s < config.seeds; ++s) {
          const uint64_t seed = config.first_seed + static_cast<uint64_t>(s);
          jobs.push_back({t, a, seed, arm_cost(a) * static_cast<double>(config.tasks[t].epochs)});
          wanted.insert(fmt::format("{}/{}/{}", config.tasks[t].key, to_string(a), seed));
        }
  std::map<std::string, RunResult> done;
  const std::string runs_path =
      config.out_dir.empty() ? std::string() : (std::filesystem::path(config.out_dir) / "runs.jsonl").string();
  const std::string fields_dir =
      config.out_dir.empty() || !config.dump_fields ? std::string()
                                                    : (std::filesystem::path(config.out_dir) / "fields").string();
  if (!fields_dir.empty()) std::filesystem::create_directories(fields_dir);
  if (!runs_path.empty())
    util::read_runs_file(runs_path, fp, config.resume, [&](const std::string& line) {
      auto r = from_json(nlohmann::json::parse(line));
      if (wanted.count(r.key())) done[r.key()] = r;
    });
  std::vector<Job> pending;
  for (const auto& j : jobs)
    if (!done.count(fmt::format("{}/{}/{}", config.tasks[j.task].key, to_string(j.arm), j.seed))) pending.push_back(j);
  std::stable_sort(pending.begin(), pending.end(), [](const Job& a, const Job& b) { return a.cost > b.cost; });
  Outcome outcome;
  outcome.resumed = static_cast<int64_t>(done.size());
  const size_t total_pending = pending.size();
  if (config.max_runs >= 0 && pending.size() > static_cast<size_t>(config.max_runs))
    pending.resize(static_cast<size_t>(config.max_runs));

  util::Progress bar(static_cast<int64_t>(pending.size()), "usecases", config.progress);
  double work = 0;
  for (const auto& j : pending) work += j.cost;
  bar.set_total_work(work);
  std::mutex mutex;
  std::vector<RunResult> fresh;
  util::run_jobs(pending.size(), config.jobs, [&](size_t i) {
    const Job& j = pending[i];
    const Task& task = config.tasks[j.task];
    const std::string fields =
        fields_dir.empty() || j.seed != config.first_seed
            ? std::string()
            : (std::filesystem::path(fields_dir) / fmt::format("{}_{}.csv", task.key, to_string(j.arm))).string();
    auto r = run_one(task, j.arm, j.seed, config.epoch_scale, fields, config.kernels);
    if (!runs_path.empty()) util::append_line(runs_path, to_json(r, fp).dump());
    {
      std::lock_guard<std::mutex> lock(mutex);
      fresh.push_back(r);
    }
    bar.advance(1, r.key(), j.cost);
  });
  bar.finish();
  for (auto& r : fresh) done[r.key()] = r;
  for (auto& [k, r] : done) outcome.runs.push_back(r);
  outcome.executed = static_cast<int64_t>(fresh.size());
  outcome.remaining = static_cast<int64_t>(total_pending - fresh.size());
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return outcome;
}

}  // namespace adaswarm::experiments::usecases
