// Whole-network weight search with PGSO / PSO (SPEC.md section 6).
//
// A particle is a network's flattened parameter vector (in `parameters()` order);
// its fitness is the loss on rows of a data set, computed without autograd. Two
// evaluators:
//   - BatchedMlpObjective: a stack of bias-free (or biased) linear layers with ReLU
//     hidden units, evaluated for MANY particles at once with batched matmuls over
//     stacked weights ([P, out, in] per layer);
//   - ClonedModuleObjective: any torch::nn::Module + forward function; the
//     parameters are written into one clone per worker and evaluated particle by
//     particle (the module must be Cloneable).
// The loss is binary cross-entropy on logits (the network's sigmoid output layer
// folded into the loss, which is the same function and numerically safer).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>

namespace adaswarm::dist {
class ProcessGroup;
}

namespace adaswarm::pgso {

/// A binary classification set, split and standardised (train statistics).
struct Dataset {
  std::string name;
  std::vector<std::string> features;
  at::Tensor x_train, y_train, x_test, y_test;  // float32; y is [rows, 1] of 0/1
};

/// The PGSO paper's sets. churn: Churn_Modelling.csv, 11 features (Geography
/// one-hot minus France, Gender 0/1, eight numeric columns), label Exited.
/// nba: nba_logreg.csv, 19 numeric stats (name dropped), label target_5yrs;
/// empty values are replaced by the training-split mean.
/// test_fraction of the rows (shuffled with seed) form the test split.
Dataset load_churn(const std::string& path, double test_fraction = 0.2, uint64_t seed = 0);
Dataset load_nba(const std::string& path, double test_fraction = 0.2, uint64_t seed = 0);
/// A numeric CSV with a header; `label` names the 0/1 label column ("" = last);
/// columns in `drop` are ignored. Errors name the file, line and column.
Dataset load_csv(const std::string& path, const std::string& label = "", const std::vector<std::string>& drop = {},
                 double test_fraction = 0.2, uint64_t seed = 0);

/// Evaluates P particles (rows of W, [P x D]) on (x, y); out gets P losses.
class NetworkObjective {
 public:
  virtual ~NetworkObjective() = default;
  virtual int64_t dim() const = 0;
  /// `worker`: which worker asks (0 .. workers()-1); concurrent calls use distinct workers.
  virtual void evaluate(int64_t worker, const double* W, int64_t P, const at::Tensor& x, const at::Tensor& y,
                        double* out) const = 0;
  /// Fills `out` (dim() values) with the model's current parameters.
  virtual std::vector<double> parameters() const = 0;
  /// Writes a particle into the model's parameters.
  virtual void write(const double* w) = 0;
  /// Logits of the model with its current parameters.
  virtual at::Tensor forward(const at::Tensor& x) const = 0;
};

/// layers = {in, hidden..., out}; out must be 1 (logit).
class BatchedMlpObjective : public NetworkObjective {
 public:
  explicit BatchedMlpObjective(std::vector<int64_t> layers, bool bias = false);
  int64_t dim() const override { return dim_; }
  void evaluate(int64_t worker, const double* W, int64_t P, const at::Tensor& x, const at::Tensor& y,
                double* out) const override;
  std::vector<double> parameters() const override { return params_; }
  void write(const double* w) override { params_.assign(w, w + dim_); }
  at::Tensor forward(const at::Tensor& x) const override;
  /// An equivalent torch::nn::Sequential (Linear/ReLU) holding the current parameters.
  std::shared_ptr<torch::nn::Module> to_module() const;
  const std::vector<int64_t>& layers() const { return layers_; }

 private:
  std::vector<int64_t> layers_;
  bool bias_;
  int64_t dim_;
  std::vector<double> params_;
};

/// Any Cloneable module. forward(module, x) returns [rows, 1] logits.
class ClonedModuleObjective : public NetworkObjective {
 public:
  using Forward = std::function<at::Tensor(torch::nn::Module&, const at::Tensor&)>;
  ClonedModuleObjective(std::shared_ptr<torch::nn::Module> module, Forward forward, int64_t workers);
  int64_t dim() const override { return dim_; }
  void evaluate(int64_t worker, const double* W, int64_t P, const at::Tensor& x, const at::Tensor& y,
                double* out) const override;
  std::vector<double> parameters() const override;
  void write(const double* w) override;
  at::Tensor forward(const at::Tensor& x) const override;

 private:
  std::shared_ptr<torch::nn::Module> module_;
  std::vector<std::shared_ptr<torch::nn::Module>> clones_;
  Forward forward_;
  int64_t dim_;
};

/// Flatten / write back a module's parameters (parameters() order, as double).
std::vector<double> flatten_parameters(const torch::nn::Module& m);
void write_parameters(torch::nn::Module& m, const double* w);

struct WeightSearchOptions {
  WeightSearchOptions() = default;
  /// "pgso" or "pso".
  TORCH_ARG(std::string, algorithm) = "pgso";
  TORCH_ARG(int64_t, subswarms) = 3;
  TORCH_ARG(int64_t, particles) = 200;   ///< per subswarm (PSO: the whole swarm)
  TORCH_ARG(int64_t, iterations) = 25;   ///< per stage per epoch
  TORCH_ARG(int64_t, batch_rows) = 400;  ///< each subswarm's mini-batch (PSO: its batch)
  TORCH_ARG(int64_t, epochs) = 20;
  TORCH_ARG(double, bound) = 10.0;       ///< weights in [-bound, bound]
  TORCH_ARG(double, init_scale) = 1.0;   ///< start positions U(-init_scale, init_scale)
  TORCH_ARG(double, inertia) = 0.5;
  TORCH_ARG(double, c1) = 1.0;
  TORCH_ARG(double, c2) = 2.0;
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(int, threads) = 0;
  /// Islands over ranks (gso.h): subswarm k on rank k mod N, the exchange and the
  /// stage-2 start gathered from every rank; every rank gets the same result.
  TORCH_ARG(std::shared_ptr<dist::ProcessGroup>, group) = nullptr;
};

struct EpochLog {
  int64_t epoch = 0;
  int64_t evaluations = 0;
  double train_loss = 0, train_accuracy = 0, test_loss = 0, test_accuracy = 0;
  double seconds = 0;
};

struct WeightSearchResult {
  std::vector<double> weights;
  double train_loss = 0, train_accuracy = 0, test_loss = 0, test_accuracy = 0;
  int64_t evaluations = 0;
  double seconds = 0;
  std::vector<EpochLog> log;
};

/// Searches the objective's weights; writes the best into it (objective.write()).
/// PGSO per epoch: every subswarm (in parallel) draws its own batch, runs
/// `iterations` with the galactic exchange at the middle, then a superswarm of M
/// particles at the subswarm bests runs `iterations` on the whole training set.
/// The best network (training loss) is kept across epochs and offered to every
/// subswarm as its swarm best at the next epoch.
WeightSearchResult search_weights(NetworkObjective& objective, const Dataset& data, const WeightSearchOptions& options);

/// Mean BCE-with-logits loss and accuracy (threshold 0.5) of logits vs 0/1 targets.
std::pair<double, double> bce_and_accuracy(const at::Tensor& logits, const at::Tensor& y);

struct AdamOptions {
  AdamOptions() = default;
  TORCH_ARG(double, lr) = 1e-3;
  TORCH_ARG(int64_t, batch_size) = 32;
  TORCH_ARG(int64_t, epochs) = 100;
  TORCH_ARG(uint64_t, seed) = 0;
};

/// Adam on the same bias-free MLP and split (baseline); returns the final metrics.
WeightSearchResult train_adam(const std::vector<int64_t>& layers, bool bias, const Dataset& data,
                              const AdamOptions& options);

}  // namespace adaswarm::pgso
