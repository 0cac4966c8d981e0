#include "adaswarm/experiments/uci_tables.h"


#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adaswarm/data/uci.h"
#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/optim/adadelta.h"
#include "adaswarm/optim/adaswarm.h"
#include "adaswarm/util/atomic_file.h"
#include "adaswarm/util/runs_file.h"
#include "adaswarm/util/progress.h"

namespace adaswarm::experiments::uci {

// ---------------------------------------------------------------------------
// names
const char* to_string(TableLoss l) {
  switch (l) {
    case TableLoss::MSE: return "mse";
    case TableLoss::MAE: return "mae";
    case TableLoss::BCE: return "bce";
  }
  return "?";
}

TableLoss table_loss_from_string(const std::string& s) {
  if (s == "mse") return TableLoss::MSE;
  if (s == "mae") return TableLoss::MAE;
  if (s == "bce") return TableLoss::BCE;
  throw std::invalid_argument("unknown table loss '" + s + "' (mse, mae, bce)");
}

std::string table_title(TableLoss l) {
  switch (l) {
    case TableLoss::MSE: return "Table IV (MSE loss)";
    case TableLoss::MAE: return "Table V (MAE loss)";
    case TableLoss::BCE: return "Supplementary Table 5 (BCE loss)";
  }
  return "?";
}

namespace {
struct OptName {
  OptimizerKind kind;
  const char* id;
  const char* column;
};
constexpr OptName kOptNames[] = {
    {OptimizerKind::SGD, "sgd", "SGD"},
    {OptimizerKind::SGDSwarm, "sgd-swarm", "SGD-PSO"},
    {OptimizerKind::AdaGrad, "adagrad", "AdaGrad"},
    {OptimizerKind::AdaDelta, "adadelta", "AdaDelta"},
    {OptimizerKind::RMSProp, "rmsprop", "RMSProp"},
    {OptimizerKind::AMSGrad, "amsgrad", "AMSGrad"},
    {OptimizerKind::Adam, "adam", "Adam"},
    {OptimizerKind::AdaSwarm, "adaswarm", "AdaSwarm"},
    {OptimizerKind::AdamIdeal, "adam-ideal", "Adam-ideal"},
};
}  // namespace

const char* to_string(OptimizerKind k) {
  for (const auto& n : kOptNames)
    if (n.kind == k) return n.id;
  return "?";
}
const char* column_name(OptimizerKind k) {
  for (const auto& n : kOptNames)
    if (n.kind == k) return n.column;
  return "?";
}
OptimizerKind optimizer_from_string(const std::string& s) {
  for (const auto& n : kOptNames)
    if (s == n.id) return n.kind;
  std::string known;
  for (const auto& n : kOptNames) known += (known.empty() ? "" : ", ") + std::string(n.id);
  throw std::invalid_argument("unknown optimizer '" + s + "' (" + known + ")");
}
std::vector<OptimizerKind> all_optimizers() {
  std::vector<OptimizerKind> v;
  for (const auto& n : kOptNames) v.push_back(n.kind);
  return v;
}
double default_lr(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::SGD:
    case OptimizerKind::SGDSwarm:
    case OptimizerKind::AdaGrad:
    case OptimizerKind::RMSProp: return 0.01;
    case OptimizerKind::AdaDelta: return 1.0;
    case OptimizerKind::AMSGrad:
    case OptimizerKind::Adam:
    case OptimizerKind::AdaSwarm:
    case OptimizerKind::AdamIdeal: return 0.001;
  }
  return 0.001;
}
bool uses_swarm(OptimizerKind k) { return k == OptimizerKind::SGDSwarm || k == OptimizerKind::AdaSwarm; }

std::vector<DatasetSource> uci_sources(const std::string& data_dir, const std::vector<std::string>& keys) {
  std::vector<DatasetSource> out;
  auto add = [&](const data::UciSet& s) { out.push_back({s.key, s.paper_name, data::uci_spec(s, data_dir)}); };
  if (keys.empty()) {
    for (const auto& s : data::uci_registry()) add(s);
  } else {
    for (const auto& k : keys) add(data::uci_set(k));
  }
  return out;
}

std::string fingerprint(const TablesConfig& c) {
  return fmt::format("v1;epochs={};batch={};hidden={};act={};test={};standardize={};lr={}", c.epochs, c.batch_size,
                     c.hidden, models::to_string(c.activation), c.test_fraction, c.standardize ? 1 : 0,
                     c.lr ? fmt::format("{}", *c.lr) : std::string("defaults"));
}

std::string RunResult::key() const { return fmt::format("{}/{}/{}/{}", loss, dataset, optimizer, seed); }

// ---------------------------------------------------------------------------
// one run
namespace {

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

LossKind loss_kind(TableLoss l) {
  switch (l) {
    case TableLoss::MSE: return LossKind::MSE;
    case TableLoss::MAE: return LossKind::MAE;
    case TableLoss::BCE: return LossKind::BCE;
  }
  return LossKind::MSE;
}

at::Tensor plain(TableLoss l, const at::Tensor& y, const at::Tensor& t) {
  switch (l) {
    case TableLoss::MSE: return torch::mse_loss(y, t);
    case TableLoss::MAE: return torch::l1_loss(y, t);
    case TableLoss::BCE: return torch::binary_cross_entropy(y, t);
  }
  return {};
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(OptimizerKind k, std::vector<at::Tensor> params, double lr,
                                                        TableLoss loss, uint64_t swarm_seed,
                                                        std::optional<SwarmLoss>& swarm_loss) {
  auto swarm_options = [&](bool ideal) {
    auto o = SwarmLossOptions::preset(Preset::Paper).loss(loss_kind(loss)).ideal_limit(ideal);
    o.swarm().seed(swarm_seed);
    return o;
  };
  switch (k) {
    case OptimizerKind::SGD:
      return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(lr));
    case OptimizerKind::SGDSwarm:
      swarm_loss.emplace(swarm_options(false));
      return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(lr));
    case OptimizerKind::AdaGrad:
      return std::make_unique<torch::optim::Adagrad>(params, torch::optim::AdagradOptions(lr));
    case OptimizerKind::AdaDelta:
      return std::make_unique<optim::AdaDelta>(params, optim::AdaDeltaOptions(lr));
    case OptimizerKind::RMSProp:
      return std::make_unique<torch::optim::RMSprop>(params, torch::optim::RMSpropOptions(lr));
    case OptimizerKind::AMSGrad:
      return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(lr).amsgrad(true));
    case OptimizerKind::Adam:
      return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(lr));
    case OptimizerKind::AdaSwarm: {
      auto opt = std::make_unique<optim::AdaSwarm>(params, optim::AdaSwarmOptions(lr).swarm(swarm_options(false)));
      swarm_loss.emplace(opt->loss());
      return opt;
    }
    case OptimizerKind::AdamIdeal:
      swarm_loss.emplace(swarm_options(true));
      return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(lr));
  }
  throw std::logic_error("unknown optimizer");
}

void fisher_yates(std::vector<int64_t>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(rng() % i)]);
}

}  // namespace

RunResult run_one(const TablesConfig& config, const DatasetSource& source, const data::Dataset& dataset,
                  TableLoss loss, OptimizerKind optimizer, uint64_t seed) {
  const auto t0 = std::chrono::steady_clock::now();
  torch::NoGradGuard* no_grad = nullptr;
  (void)no_grad;
  const uint64_t data_seed = mix(seed, hash_string(source.key));
  // same split, initial weights and batch order for every optimizer and loss at this seed
  const auto split = data::stratified_split(dataset.labels, config.test_fraction, data_seed);
  data::PrepareOptions popt;
  popt.standardize = config.standardize;
  const auto p = data::prepare(dataset, split, popt);
  const int64_t classes = p.num_classes;
  const auto targets = torch::one_hot(p.y_train, classes).to(at::kFloat);
  const auto test_targets = torch::one_hot(p.y_test, classes).to(at::kFloat);

  models::MLP net(models::MLPOptions(p.x_train.size(1), classes)
                      .hidden({config.hidden})
                      .activation(config.activation)
                      .output_activation(loss == TableLoss::BCE ? models::Activation::Sigmoid
                                                                : models::Activation::Softmax));
  net->reset_parameters(mix(data_seed, 1));
  const double lr = config.lr ? *config.lr : default_lr(optimizer);
  std::optional<SwarmLoss> swarm_loss;
  auto opt = make_optimizer(optimizer, net->parameters(), lr, loss, mix(data_seed, 2), swarm_loss);

  std::mt19937_64 rng(mix(data_seed, 3));
  const int64_t n = p.x_train.size(0);
  const int64_t bs = std::max<int64_t>(1, config.batch_size);
  std::vector<int64_t> order(static_cast<size_t>(n));
  RunResult r;
  r.loss = to_string(loss);
  r.dataset = source.key;
  r.optimizer = to_string(optimizer);
  r.seed = seed;
  r.lr = lr;
  r.epochs = config.epochs;
  double run_loss = 0, run_correct = 0;
  for (int64_t epoch = 0; epoch < config.epochs; ++epoch) {
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    fisher_yates(order, rng);
    const auto perm = torch::from_blob(order.data(), {n}, at::kLong);
    const auto xs = p.x_train.index_select(0, perm);
    const auto ts = targets.index_select(0, perm);
    const auto ls = p.y_train.index_select(0, perm);
    run_loss = 0;
    run_correct = 0;
    for (int64_t b = 0; b < n; b += bs) {
      const int64_t m = std::min(bs, n - b);
      const auto xb = xs.narrow(0, b, m);
      const auto tb = ts.narrow(0, b, m);
      const auto out = net->forward(xb);
      at::Tensor value = swarm_loss ? (*swarm_loss)(out, tb) : plain(loss, out, tb);
      opt->zero_grad();
      value.backward();
      opt->step();
      ++r.steps;
      run_loss += value.item<double>() * static_cast<double>(m);
      run_correct += out.detach().argmax(1).eq(ls.narrow(0, b, m)).sum().item<double>();
    }
  }
  if (n > 0 && config.epochs > 0) {
    r.train_loss = run_loss / static_cast<double>(n);
    r.train_acc = 100.0 * run_correct / static_cast<double>(n);
  }
  {
    torch::NoGradGuard guard;
    const auto out = net->forward(p.x_test);
    r.test_loss = plain(loss, out, test_targets).item<double>();
    r.test_acc = 100.0 * out.argmax(1).eq(p.y_test).to(at::kDouble).mean().item<double>();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// ---------------------------------------------------------------------------
// results file
namespace {

nlohmann::json to_json(const RunResult& r, const std::string& fp) {
  return nlohmann::json{{"fingerprint", fp},      {"loss", r.loss},           {"dataset", r.dataset},
                        {"optimizer", r.optimizer}, {"seed", r.seed},           {"test_loss", r.test_loss},
                        {"test_acc", r.test_acc},   {"train_loss", r.train_loss}, {"train_acc", r.train_acc},
                        {"lr", r.lr},               {"epochs", r.epochs},       {"steps", r.steps},
                        {"seconds", r.seconds}};
}

RunResult from_json(const nlohmann::json& j) {
  // Every field is range-checked: a hand-edited record is refused (naming the
  // file, line and field), never put into the tables. A diverged run's NaN was
  // written as null: read back as NaN. Accuracies are percentages.
  constexpr double inf = std::numeric_limits<double>::infinity();
  RunResult r;
  r.loss = j.at("loss").get<std::string>();
  r.dataset = j.at("dataset").get<std::string>();
  r.optimizer = j.at("optimizer").get<std::string>();
  r.seed = util::record_seed(j, "seed");
  r.test_loss = util::record_number(j, "test_loss", 0, inf);
  r.test_acc = util::record_number(j, "test_acc", 0, 100);
  r.train_loss = util::record_number(j, "train_loss", 0, inf);
  r.train_acc = util::record_number(j, "train_acc", 0, 100);
  r.lr = util::record_number(j, "lr", 0, inf, false);
  r.epochs = util::record_integer(j, "epochs", 1);
  r.steps = util::record_integer(j, "steps", 0);
  r.seconds = util::record_number(j, "seconds", 0, inf, false);
  return r;
}

struct Job {
  TableLoss loss;
  size_t dataset;
  OptimizerKind optimizer;
  uint64_t seed;
  double cost;
};

}  // namespace

TablesOutcome run_tables(const TablesConfig& config) {
  const auto t0 = std::chrono::steady_clock::now();
  if (config.datasets.empty()) throw std::invalid_argument("no data sets to run");
  if (config.seeds < 1) throw std::invalid_argument("--seeds must be at least 1");
  if (config.epochs < 1) throw std::invalid_argument("--epochs must be at least 1");
  if (config.batch_size < 1) throw std::invalid_argument("--batch-size must be at least 1");
  // load every data set first: a bad file fails before any training
  std::vector<data::Dataset> sets;
  for (const auto& s : config.datasets) sets.push_back(data::load_tabular(s.spec));

  const std::string fp = fingerprint(config);
  std::map<std::string, RunResult> done;
  std::set<std::string> wanted;
  std::vector<Job> jobs;
  for (auto loss : config.losses)
    for (size_t d = 0; d < config.datasets.size(); ++d)
      for (auto o : config.optimizers)
        for (int64_t s = 0; s < config.seeds; ++s) {
          const uint64_t seed = config.first_seed + static_cast<uint64_t>(s);
          // ETA / scheduling weight: steps per epoch x (swarm-loss steps cost about 1.8x a plain step)
          const double steps = std::ceil(static_cast<double>(sets[d].rows()) * (1 - config.test_fraction) /
                                         static_cast<double>(config.batch_size));
          const double cost = (steps + 1) * (uses_swarm(o) || o == OptimizerKind::AdamIdeal ? 1.8 : 1.0);
          jobs.push_back({loss, d, o, seed, cost});
          wanted.insert(fmt::format("{}/{}/{}/{}", to_string(loss), config.datasets[d].key, to_string(o), seed));
        }

  if (!config.results_path.empty()) {
    // The runs file (util/runs_file.h): lines of other settings refused, a torn
    // last line dropped; a fresh run empties it.
    util::read_runs_file(config.results_path, fp, config.resume, [&](const std::string& line) {
      auto r = from_json(nlohmann::json::parse(line));
      if (wanted.count(r.key())) done[r.key()] = r;
    });
  }

  std::vector<Job> pending;
  for (const auto& j : jobs)
    if (!done.count(fmt::format("{}/{}/{}/{}", to_string(j.loss), config.datasets[j.dataset].key,
                                to_string(j.optimizer), j.seed)))
      pending.push_back(j);
  // longest first keeps the tail short; results do not depend on this order
  std::stable_sort(pending.begin(), pending.end(), [](const Job& a, const Job& b) { return a.cost > b.cost; });
  TablesOutcome outcome;
  outcome.resumed = static_cast<int64_t>(done.size());
  const size_t total_pending = pending.size();
  if (config.max_runs >= 0 && pending.size() > static_cast<size_t>(config.max_runs))
    pending.resize(static_cast<size_t>(config.max_runs));

  util::Progress bar(static_cast<int64_t>(pending.size()), "tables", config.progress);
  {
    double work = 0;
    for (const auto& j : pending) work += j.cost;
    bar.set_total_work(work);
  }
  std::mutex mutex;
  std::vector<RunResult> fresh;
  // One intra-op thread per job (util::run_jobs); the first failure stops the rest.
  try {
    util::run_jobs(pending.size(), config.jobs, [&](size_t i) {
      const Job& j = pending[i];
      auto r = run_one(config, config.datasets[j.dataset], sets[j.dataset], j.loss, j.optimizer, j.seed);
      if (!config.results_path.empty()) util::append_line(config.results_path, to_json(r, fp).dump());
      {
        std::lock_guard<std::mutex> lock(mutex);
        fresh.push_back(r);
      }
      bar.advance(1, r.key(), j.cost);
    });
  } catch (...) {
    bar.finish();
    throw;
  }
  bar.finish();

  for (auto& r : fresh) done[r.key()] = r;
  for (auto& [k, r] : done) outcome.runs.push_back(r);
  outcome.executed = static_cast<int64_t>(fresh.size());
  outcome.remaining = static_cast<int64_t>(total_pending - fresh.size());
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return outcome;
}

// ---------------------------------------------------------------------------
// the paper's values
namespace {
// Per data set (registry order), 8 optimizers in the paper's column order:
// SGD, SGD-PSO, AdaGrad, AdaDelta, RMSProp, AMSGrad, Adam, AdaSwarm.
struct UciPaperRow {
  const char* key;
  double loss[8];
  double acc[8];
  double adaswarm_std;
};
// Table IV (MSE), transcribed from the paper.
const UciPaperRow kTableIV[] = {
    {"iris", {0.072, 0.073, 0.108, 0.123, 0.049, 0.094, 0.05, 0.062}, {92, 96.66, 88.22, 88.22, 98.22, 88.22, 98.22, 98.22}, 0.38},
    {"ionosphere", {0.238, 0.5, 0.064, 0.072, 0.012, 0.0167, 0.0156, 0.022}, {68.14, 95, 93.71, 92.57, 98.43, 98.14, 98.57, 98.48}, 0.28},
    {"breast-cancer", {0.198, 0.124, 0.127, 0.1234, 0.116, 0.116, 0.121, 0.119}, {80.79, 85.11, 84.20, 84.53, 85.34, 85.33, 84.82, 85.55}, 0.74},
    {"sonar", {0.251, 0.132, 0.144, 0.142, 0.117, 0.112, 0.108, 0.11}, {50, 81.00, 82.69, 81.97, 84.37, 86.05, 86.30, 86.28}, 0.34},
    {"seeds", {0.219, 0.2, 0.162, 0.203, 0.119, 0.137, 0.127, 0.13}, {66.67, 66.67, 78.70, 66.67, 85.23, 82.38, 81.75, 82}, 0.22},
    {"banknote", {0.112, 0.002, 0.006, 0.002, 0, 0, 0, 0}, {92.71, 100, 100, 100, 100, 100, 100, 100}, 0.0},
    {"heart", {0.461, 0.187, 0.509, 0.4612, 0.5312, 0.48, 0.18, 0.19}, {53.87, 72.55, 47.81, 53.87, 46.12, 51.01, 74.07, 74.07}, 1.06},
    {"haberman", {0.2365, 0.195, 0.174, 0.172, 0.176, 0.169, 0.17, 0.169}, {73.70, 73.52, 75.49, 76.60, 76.79, 77.28, 76.96, 77.10}, 1.27},
    {"wine", {0.4, 0.445, 0.445, 0.4, 0.219, 0.333, 0.226, 0.08}, {59.92, 55.43, 55.43, 59.92, 66.67, 66.67, 76.78, 93.07}, 0.27},
    {"car", {0.188, 0.0718, 0.094, 0.096, 0.0815, 0.072, 0.0918, 0.07}, {81.19, 91.46, 86.31, 86.15, 88.49, 90.10, 86.14, 92}, 0.19},
    {"liver", {0.21, 0.284, 0.284, 0.284, 0.284, 0.232, 0.227, 0.227}, {71.50, 71.50, 71.50, 70.72, 71.50, 72, 72.10, 72.63}, 0.55},
    {"abalone", {0.194, 0.164, 0.157, 0.146, 0.12, 0.12, 0.12, 0.12}, {77, 77, 77, 79.24, 83.44, 83.00, 83.27, 83.54}, 0.26},
    {"titanic", {0.226, 0.208, 0.18, 0.2, 0.148, 0.151, 0.149, 0.149}, {67.92, 70.59, 71.57, 70.26, 79.34, 80.39, 79.06, 80.53}, 0.41},
    {"pima", {0.307, 0.2311, 0.2411, 0.285, 0.1937, 0.263, 0.1908, 0.193}, {66.73, 66.73, 64.51, 66.99, 71.67, 69.53, 70.76, 71.67}, 0.24},
    {"mushroom", {0.24, 0.16, 0.08, 0.03, 0, 0, 0, 0}, {91.63, 97.53, 97.46, 99.16, 100, 100, 100, 100}, 0.0},
};
// Table V (MAE). The paper prints AdaGrad's Wine loss as "274"; read as 0.274.
const UciPaperRow kTableV[] = {
    {"iris", {0.22, 0.177, 0.319, 0.195, 0.138, 0.226, 0.224, 0.211}, {77.77, 95.11, 66.67, 88.22, 88.22, 77.77, 77.77, 88.22}, 0.22},
    {"ionosphere", {0.468, 0.34, 0.295, 0.32, 0.216, 0.218, 0.217, 0.217}, {64, 79.57, 74.42, 70.57, 79.42, 79.714, 79.428, 82.714}, 0.78},
    {"breast-cancer", {0.385, 0.411, 0.349, 0.348, 0.349, 0.349, 0.349, 0.334}, {65.10, 67.96, 65.10, 65.10, 65.10, 65.10, 65.83, 70.45}, 1.03},
    {"sonar", {0.498, 0.245, 0.304, 0.275, 0.21, 0.199, 0.1735, 0.169}, {50, 83.65, 77.4, 81.49, 83.89, 87.74, 86.05, 89.53}, 0.33},
    {"seeds", {0.453, 0.333, 0.281, 0.337, 0.2722, 0.333, 0.26, 0.245}, {64.92, 66.67, 75.87, 67.3, 74.6, 70.79, 74.032, 79.52}, 0.27},
    {"banknote", {0.273, 0.021, 0.0255, 0.0049, 0, 0.001, 0.002, 0.001}, {79.07, 100, 100, 100, 100, 100, 100, 100}, 0.0},
    {"heart", {0.45, 0.39, 0.461, 0.461, 0.449, 0.461, 0.389, 0.378}, {55.21, 72.22, 53.87, 53.87, 54.88, 53.87, 62.96, 73.23}, 0.27},
    {"haberman", {0.264, 0.264, 0.264, 0.264, 0.264, 0.264, 0.264, 0.264}, {73.52, 73.52, 73.52, 73.52, 73.52, 73.52, 73.52, 73.52}, 0.0},
    {"wine", {0.599, 0.33, 0.274, 0.315, 0.333, 0.4, 0.247, 0.333}, {40.00, 66.67, 73.22, 69.10, 66.67, 59.92, 75.84, 66.67}, 1.23},
    {"car", {0.261, 0.221, 0.15, 0.15, 0.118, 0.15, 0.15, 0.138}, {85.01, 88.25, 85.01, 85.01, 88.10, 85.01, 85.01, 92.10}, 0.31},
    {"liver", {0.5, 0.43, 0.285, 0.285, 0.285, 0.285, 0.285, 0.28}, {50, 57, 71.50, 71.50, 71.50, 71.50, 71.50, 72.10}, 0.18},
    {"abalone", {0.391, 0.335, 0.232, 0.23, 0.229, 0.229, 0.23, 0.284}, {77, 77, 77, 77, 77, 77, 77, 82.91}, 0.38},
    {"titanic", {0.366, 0.4, 0.319, 0.311, 0.3, 0.305, 0.306, 0.294}, {64.21, 68.20, 68.62, 69.46, 69.95, 69.74, 69.74, 82.00}, 0.12},
    {"pima", {0.348, 0.348, 0.349, 0.348, 0.348, 0.348, 0.348, 0.348}, {65.10, 65.23, 65.10, 65.10, 65.10, 65.10, 65.10, 73.43}, 0.36},
    {"mushroom", {0.16, 0.066, 0.058, 0.06, 0.052, 0.052, 0.052, 0.07}, {85.96, 99.00, 94.53, 94.02, 94.72, 94.72, 94.72, 99.85}, 0.04},
};

const UciPaperRow* find_paper_row(TableLoss loss, const std::string& key) {
  const UciPaperRow* begin = nullptr;
  size_t n = 0;
  if (loss == TableLoss::MSE) {
    begin = kTableIV;
    n = std::size(kTableIV);
  } else if (loss == TableLoss::MAE) {
    begin = kTableV;
    n = std::size(kTableV);
  }
  for (size_t i = 0; i < n; ++i)
    if (key == begin[i].key) return &begin[i];
  return nullptr;
}
}  // namespace

std::optional<PaperValue> paper_value(TableLoss loss, const std::string& dataset_key, OptimizerKind optimizer) {
  if (optimizer == OptimizerKind::AdamIdeal) return std::nullopt;
  const UciPaperRow* row = find_paper_row(loss, dataset_key);
  if (!row) return std::nullopt;
  const auto i = static_cast<size_t>(optimizer);  // the enum follows the paper's column order
  return PaperValue{row->loss[i], row->acc[i]};
}

std::optional<double> paper_adaswarm_std(TableLoss loss, const std::string& dataset_key) {
  const UciPaperRow* row = find_paper_row(loss, dataset_key);
  if (!row) return std::nullopt;
  return row->adaswarm_std;
}

// ---------------------------------------------------------------------------
// summaries and output
namespace {
Stat stat_of(const std::vector<double>& v) {
  Stat s;
  s.n = static_cast<int64_t>(v.size());
  if (v.empty()) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

size_t display_width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++w;
  return w;
}
std::string pad_left(const std::string& s, size_t w) {
  const size_t d = display_width(s);
  return d >= w ? s : std::string(w - d, ' ') + s;
}
std::string pad_right(const std::string& s, size_t w) {
  const size_t d = display_width(s);
  return d >= w ? s : s + std::string(w - d, ' ');
}
}  // namespace

std::vector<Summary> summarize(const std::vector<RunResult>& runs, const TablesConfig& config) {
  std::vector<Summary> out;
  for (auto loss : config.losses)
    for (const auto& ds : config.datasets)
      for (auto o : config.optimizers) {
        std::vector<double> ta, tl, ra, rl;
        double secs = 0;
        for (const auto& r : runs)
          if (r.loss == to_string(loss) && r.dataset == ds.key && r.optimizer == to_string(o)) {
            ta.push_back(r.test_acc);
            tl.push_back(r.test_loss);
            ra.push_back(r.train_acc);
            rl.push_back(r.train_loss);
            secs += r.seconds;
          }
        Summary s;
        s.loss = loss;
        s.dataset = ds.key;
        s.paper_name = ds.paper_name.empty() ? ds.key : ds.paper_name;
        s.optimizer = o;
        s.test_acc = stat_of(ta);
        s.test_loss = stat_of(tl);
        s.train_acc = stat_of(ra);
        s.train_loss = stat_of(rl);
        s.seconds = secs;
        s.paper = paper_value(loss, ds.key, o);
        out.push_back(s);
      }
  return out;
}

std::string format_tables(const std::vector<Summary>& rows, const TablesConfig& config) {
  constexpr size_t kName = 26, kCol = 12;
  std::string out;
  auto find = [&](TableLoss l, const std::string& d, OptimizerKind o) -> const Summary* {
    for (const auto& s : rows)
      if (s.loss == l && s.dataset == d && s.optimizer == o) return &s;
    return nullptr;
  };
  auto cell_stat = [](const Stat& s, int prec) {
    if (s.n == 0) return std::string("-");
    if (s.n == 1) return fmt::format("{:.{}f}", s.mean, prec);
    return fmt::format("{:.{}f}±{:.{}f}", s.mean, prec, s.std, prec);
  };
  for (auto loss : config.losses) {
    out += fmt::format("\n{} — ours: mean±std over {} seed(s); paper: the printed value\n", table_title(loss),
                       config.seeds);
    out += fmt::format(
        "protocol: {:.0f}/{:.0f} stratified split per seed, {} features, MLP in-{}({})-classes, {} output, "
        "batch {}, {} epochs, lr {}\n",
        100 * (1 - config.test_fraction), 100 * config.test_fraction,
        config.standardize ? "standardised (train stats)" : "unscaled", config.hidden,
        models::to_string(config.activation), loss == TableLoss::BCE ? "sigmoid" : "softmax", config.batch_size,
        config.epochs, config.lr ? fmt::format("{} for all", *config.lr) : std::string("per-optimizer default"));
    std::string header = pad_right("data set / metric", kName);
    for (auto o : config.optimizers) header += pad_left(column_name(o), kCol);
    out += header + "\n" + std::string(display_width(header), '-') + "\n";
    bool any_paper = false;
    for (const auto& ds : config.datasets) {
      const std::string title = ds.paper_name.empty() ? ds.key : ds.paper_name;
      struct Line {
        std::string label;
        std::function<std::string(const Summary&)> cell;
      };
      const std::vector<Line> lines = {
          {"test acc %", [&](const Summary& s) { return cell_stat(s.test_acc, 2); }},
          {"train acc % (run. avg)", [&](const Summary& s) { return cell_stat(s.train_acc, 2); }},
          {"paper acc %", [&](const Summary& s) { return s.paper ? fmt::format("{:.2f}", s.paper->acc) : std::string("."); }},
          {"test loss", [&](const Summary& s) { return cell_stat(s.test_loss, 3); }},
          {"train loss (run. avg)", [&](const Summary& s) { return cell_stat(s.train_loss, 3); }},
          {"paper loss", [&](const Summary& s) { return s.paper ? fmt::format("{:.3f}", s.paper->loss) : std::string("."); }},
      };
      bool has_paper = false;
      for (auto o : config.optimizers)
        if (const auto* s = find(loss, ds.key, o); s && s->paper) has_paper = true;
      any_paper = any_paper || has_paper;
      for (size_t li = 0; li < lines.size(); ++li) {
        if (!has_paper && lines[li].label.rfind("paper", 0) == 0) continue;
        if (li == 0) out += title + "\n";
        std::string line = pad_right("  " + lines[li].label, kName);
        for (auto o : config.optimizers) {
          const auto* s = find(loss, ds.key, o);
          line += pad_left(s ? lines[li].cell(*s) : std::string("-"), kCol);
        }
        out += line + "\n";
      }
    }
    // a one-line digest: mean test accuracy over the data sets
    std::string digest = pad_right("mean test acc (all sets)", kName);
    for (auto o : config.optimizers) {
      double sum = 0;
      int64_t n = 0;
      for (const auto& ds : config.datasets)
        if (const auto* s = find(loss, ds.key, o); s && s->test_acc.n > 0) {
          sum += s->test_acc.mean;
          ++n;
        }
      digest += pad_left(n ? fmt::format("{:.2f}", sum / static_cast<double>(n)) : std::string("-"), kCol);
    }
    out += std::string(display_width(header), '-') + "\n" + digest + "\n";
    if (!any_paper)
      out += "(no paper values: supplementary Table 5 is not in the paper text we have, and a user's CSV has none)\n";
  }
  return out;
}

std::string tables_csv(const std::vector<Summary>& rows) {
  std::string out =
      "loss,dataset,optimizer,seeds,test_acc_mean,test_acc_std,train_acc_mean,train_acc_std,test_loss_mean,"
      "test_loss_std,train_loss_mean,train_loss_std,paper_acc,paper_loss,seconds\n";
  for (const auto& s : rows) {
    out += fmt::format("{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{},{:.3f}\n",
                       to_string(s.loss), s.dataset, to_string(s.optimizer), s.test_acc.n, s.test_acc.mean,
                       s.test_acc.std, s.train_acc.mean, s.train_acc.std, s.test_loss.mean, s.test_loss.std,
                       s.train_loss.mean, s.train_loss.std, s.paper ? fmt::format("{}", s.paper->acc) : "",
                       s.paper ? fmt::format("{}", s.paper->loss) : "", s.seconds);
  }
  return out;
}

std::string tables_json(const std::vector<Summary>& rows, const TablesConfig& config) {
  nlohmann::json j;
  j["settings"] = {{"fingerprint", fingerprint(config)},
                   {"seeds", config.seeds},
                   {"first_seed", config.first_seed},
                   {"epochs", config.epochs},
                   {"batch_size", config.batch_size},
                   {"hidden", config.hidden},
                   {"activation", models::to_string(config.activation)},
                   {"test_fraction", config.test_fraction},
                   {"standardize", config.standardize},
                   {"lr", config.lr ? nlohmann::json(*config.lr) : nlohmann::json("per-optimizer default")}};
  auto stat = [](const Stat& s) { return nlohmann::json{{"n", s.n}, {"mean", s.mean}, {"std", s.std}}; };
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& s : rows) {
    nlohmann::json r = {{"loss", to_string(s.loss)},
                        {"dataset", s.dataset},
                        {"optimizer", to_string(s.optimizer)},
                        {"test_acc", stat(s.test_acc)},
                        {"test_loss", stat(s.test_loss)},
                        {"train_acc_running_avg", stat(s.train_acc)},
                        {"train_loss_running_avg", stat(s.train_loss)},
                        {"seconds", s.seconds}};
    if (s.paper) r["paper"] = {{"acc", s.paper->acc}, {"loss", s.paper->loss}};
    arr.push_back(r);
  }
  j["rows"] = arr;
  return j.dump(2) + "\n";
}

}  // namespace adaswarm::experiments::uci
