// Hard-loss use cases (SPEC.md section 10, docs/usecases.md): tasks whose loss
// has many minima in output space or no usable gradient, each trained by every
// arm on the same seeds (paired), with the controls that decide whether the
// swarm loss helps: a constant loss under the same swarm settings, SPSA on the
// output at the same number of loss evaluations, a smooth surrogate, and Adam
// driven by the known minimiser (the ideal limit).
//
//   using namespace adaswarm::experiments::usecases;
//   UsecasesConfig cfg;  cfg.tasks = all_tasks(data_dir);  cfg.seeds = 5;  cfg.out_dir = "usecases";
//   auto report = run_and_report(cfg);   // runs.jsonl, usecases.{txt,csv,json}
//   std::cout << report.text;
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/models/mlp.h"

namespace adaswarm::experiments::usecases {

/// The arms, in table order.
enum class Arm {
  Adam,             ///< Adam on the task loss by autograd (where torch gives it a gradient)
  Surrogate,        ///< Adam on a smooth surrogate (where one exists)
  AdaSwarm,         ///< AdaSwarm, the custom default (Preset::Paper, SwarmStart::Auto)
  AdaSwarmTargets,  ///< AdaSwarm, the paper's start around the targets (target of the output's shape only)
  AdaSwarmSearch,   ///< AdaSwarm, Preset::Search (element-wise losses only)
  Constant,         ///< control: the custom default's swarm on a loss that is 0 everywhere
  SPSA,             ///< Adam fed an SPSA estimate of dL/dy at the swarm's loss evaluations per step
  Ideal,            ///< Adam driven by y - (the loss's known minimiser): the ideal limit
};
/// adam, surrogate, adaswarm, adaswarm-targets, adaswarm-search, constant, spsa, ideal
const char* to_string(Arm a);
Arm arm_from_string(const std::string& s);  ///< throws std::invalid_argument listing the names
std::vector<Arm> all_arms();
bool is_swarm_arm(Arm a);  ///< AdaSwarm, AdaSwarmTargets, AdaSwarmSearch

/// One task's data for one seed; float32 CPU tensors. Row i of x, target and
/// truth belong together.
struct TaskData {
  at::Tensor x_train, target_train;  ///< network input [N, F]; the loss's target (any shape, N rows)
  at::Tensor x_test, target_test;
  at::Tensor truth_train, truth_test;  ///< the loss's known minimiser [N, C] (undefined: none known)
  at::Tensor field_test;               ///< grid tasks: the true field [N, 1] (for error maps); else undefined
  int64_t grid_h = 0, grid_w = 0;      ///< grid tasks: test rows form an h x w grid, row-major
};

/// A smooth loss on the network output: (y [B, C] requiring grad, target) -> scalar.
using SurrogateFn = std::function<at::Tensor(const at::Tensor& y, const at::Tensor& target)>;

struct Task {
  std::string key;          ///< command-line name
  std::string title;        ///< one line
  std::string definition;   ///< data, loss, constants (docs/usecases.md repeats it)
  int64_t outputs = 1;  ///< network outputs C (inputs: the data's features)
  std::vector<int64_t> hidden{32};
  models::Activation activation = models::Activation::Tanh;
  double out_offset = 0, out_scale = 1;  ///< y = out_offset + out_scale * net(x) (a fixed head: the sensor's range)
  int64_t epochs = 300;                  ///< full-batch tasks: steps
  int64_t batch_size = 0;                ///< 0: full batch
  double lr = 0.01;                      ///< every arm
  double spsa_step = 0.5;                ///< SPSA's c, in output units
  std::function<TaskData(uint64_t seed)> generate;
  CustomLossFn loss;  ///< positions [P, B, C], target [B, ...] -> [P, B, C] or [P, B]
  /// The same loss as a CustomKernel (loops with kernel_math: a faster swarm
  /// step, equal to `loss` up to float rounding); every registered task has
  /// one. The swarm arms use it unless UsecasesConfig::kernels is false
  /// (`usecases --tensor-losses`); empty fn: the swarm arms use `loss`.
  CustomKernel kernel;
  bool element_wise = true;   ///< loss returns [P, B, C]: Preset::Search applies
  bool autograd = true;       ///< torch's autograd gives the loss a gradient (maybe zero almost everywhere)
  bool target_shaped = true;  ///< the target has the output's shape: the targets start applies
  bool known_minimiser = true;  ///< TaskData::truth_* are set: the ideal-limit arm applies
  /// Builds the surrogate for one run (the simulator's is fitted to samples);
  /// empty: no surrogate.
  std::function<SurrogateFn(const TaskData& data, uint64_t seed)> make_surrogate;
  std::string surrogate_name;
  /// True error on the test rows (lower is better): (y_test [N, C], data) -> value.
  std::function<double(const at::Tensor& y, const TaskData& data)> error;
  std::string error_name;
  bool applies(Arm a) const;
};

/// The task registry: multiwell, multiwell-hard, step, codebook, unwrap, tof,
/// simulator, simulator-levels, zero-one-iris, zero-one-breast-cancer, zero-one-wine. data_dir
/// holds uci/ (the 0-1 tasks read it when generating).
std::vector<Task> all_tasks(const std::string& data_dir);
/// The tasks named in `keys` (all when empty); throws std::invalid_argument
/// naming an unknown key and listing the known ones.
std::vector<Task> select_tasks(const std::string& data_dir, const std::vector<std::string>& keys);

/// Helpers the tasks are made of (exposed for tests and users).
at::Tensor wrap_phase(const at::Tensor& phase);  ///< to (-pi, pi]
/// sum_k (1 - cos(4 pi d / lambda_k - phi_k)); d [P, B, 1], phases [B, K] -> [P, B, 1].
at::Tensor two_wavelength_loss(const at::Tensor& d, const at::Tensor& phases, const std::vector<double>& lambdas);
/// The simulator's actuator: u [.., 1] command, s state (broadcast) -> effect.
at::Tensor actuator(const at::Tensor& u, const at::Tensor& s);
/// Nearest level of the codebook task.
at::Tensor codebook_quantize(const at::Tensor& v);

struct UsecasesConfig {
  std::vector<Task> tasks;
  std::vector<Arm> arms = all_arms();
  int64_t seeds = 5;
  uint64_t first_seed = 1;
  /// Multiplies every task's epochs (--quick: 0.5), at least 1 epoch.
  double epoch_scale = 1.0;
  int jobs = 1;
  /// Folder for runs.jsonl, usecases.{txt,csv,json} and fields/ ("" = keep nothing).
  std::string out_dir;
  bool resume = false;     ///< keep the runs in out_dir/runs.jsonl (same settings) and run the rest
  bool overwrite = false;  ///< replace existing results (else they are refused)
  bool dump_fields = true; ///< grid tasks, first seed: out_dir/fields/TASK_ARM.csv
  /// Swarm arms evaluate the loss through Task::kernel where a task has one
  /// (the default); false: through Task::loss, the LibTorch tensor form
  /// (`--tensor-losses`: slower steps, other float rounding, so other
  /// trajectories on the chaotic tasks).
  bool kernels = true;
  int64_t max_runs = -1;   ///< stop after this many new runs (< 0: all): simulates an interruption
  bool progress = true;
};
/// The settings that change results (resume refuses a file written with others).
std::string fingerprint(const UsecasesConfig& c);

struct RunResult {
  std::string task, arm;
  uint64_t seed = 0;
  double error = 0;            ///< true error after training (test rows)
  double untrained_error = 0;  ///< the same network before training
  double train_loss = 0;       ///< mean task loss on the training rows after training
  int64_t steps = 0;
  int64_t evaluations = 0;     ///< evaluations of the task loss on a candidate batch, whole run
  /// Swarm arms: share of steps whose search the swarm loss flagged blind (no
  /// particle scored differently, or no best moved: SwarmLossDiagnostics::blind);
  /// NaN for the other arms.
  double blind_share = std::numeric_limits<double>::quiet_NaN();
  /// Swarm arms: mean over steps of SwarmLossDiagnostics::moved_share (groups
  /// whose best beat the first particle's start); NaN for the other arms.
  double moved_share = std::numeric_limits<double>::quiet_NaN();
  double seconds = 0;
  std::string key() const;     ///< task/arm/seed
};

/// One run. Deterministic in (task, arm, seed, epoch_scale): the data, initial
/// weights and batch order depend on the task and seed only (paired across
/// arms); the swarm and SPSA have their own seeded generators. Writes the
/// predicted field to fields_path when given (grid tasks).
/// kernels: the swarm arms use Task::kernel when the task has one (false:
/// Task::loss).
RunResult run_one(const Task& task, Arm arm, uint64_t seed, double epoch_scale = 1.0,
                  const std::string& fields_path = "", bool kernels = true);

struct Outcome {
  std::vector<RunResult> runs;  ///< every finished run (resumed + new), sorted by key
  int64_t executed = 0, resumed = 0, remaining = 0;
  double seconds = 0;
};
/// Runs every (task, applicable arm, seed) on config.jobs threads.
Outcome run_usecases(const UsecasesConfig& config);

struct Stat {
  int64_t n = 0;
  double mean = 0, std = 0;  ///< sample std (n - 1)
};
struct ArmRow {
  std::string task, arm;
  Stat error, untrained, seconds, evals_per_step;
  Stat blind;  ///< blind_share over the seeds (n = 0 for arms without a swarm)
  Stat moved;  ///< moved_share over the seeds (likewise)
};
/// The verdict rule (docs/usecases.md): a swarm arm beats an opponent when its
/// mean error is lower and it is lower on every paired seed; a task is a "win"
/// for a swarm arm when it beats Adam, the surrogate, SPSA and the constant
/// control (those of them that apply) over at least 5 seeds.
struct Verdict {
  std::string task, swarm_arm;
  bool win = false;
  std::string text;  ///< "win" or "not shown: ..." with the paired counts
  struct Versus {
    std::string opponent;
    int64_t better = 0, paired = 0;
    double ratio = 0;  ///< opponent mean error / swarm mean error
  };
  std::vector<Versus> versus;
};
struct Summary {
  std::vector<ArmRow> rows;
  std::vector<Verdict> verdicts;
};
Summary summarize(const std::vector<RunResult>& runs, const UsecasesConfig& config);
std::string format_text(const Summary& s, const UsecasesConfig& config);
std::string format_csv(const Summary& s);
std::string format_json(const Summary& s, const UsecasesConfig& config);

struct Report {
  Outcome outcome;
  Summary summary;
  std::string text;  ///< empty when runs remain (max_runs)
};
/// run_usecases, then (all runs done) the tables to out_dir/usecases.{txt,csv,json}.
/// Refuses (std::runtime_error naming the file) to replace existing results in
/// out_dir unless resume or overwrite.
Report run_and_report(const UsecasesConfig& config);

}  // namespace adaswarm::experiments::usecases
