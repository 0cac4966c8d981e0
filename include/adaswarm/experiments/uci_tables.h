// The AdaSwarm paper's UCI tables (Table IV: MSE, Table V: MAE, supplementary
// Table 5: BCE), rerun with one protocol for every optimizer (docs/uci-tables.md):
// stratified train/test split per seed, features standardised on the training
// split, MLP in -> 10 (ReLU) -> classes, mini-batches, a fixed number of epochs.
//
//   using namespace adaswarm::experiments::uci;
//   TablesConfig cfg;  cfg.datasets = uci_sources(data_dir, {"iris"});  cfg.seeds = 3;
//   TablesOutcome out = run_tables(cfg);
//   std::cout << format_tables(summarize(out.runs, cfg), cfg);
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adaswarm/data/tabular.h"
#include "adaswarm/models/mlp.h"

namespace adaswarm::experiments::uci {

enum class TableLoss { MSE, MAE, BCE };
const char* to_string(TableLoss l);
TableLoss table_loss_from_string(const std::string& s);  ///< mse, mae, bce
/// "Table IV (MSE)", "Table V (MAE)", "Supplementary Table 5 (BCE)".
std::string table_title(TableLoss l);

enum class OptimizerKind {
  SGD,
  SGDSwarm,  ///< "emulation of SGD with PSO parameters": SGD driven by the swarm loss
  AdaGrad,
  AdaDelta,
  RMSProp,
  AMSGrad,
  Adam,
  AdaSwarm,
  AdamIdeal,  ///< ablation: Adam driven by the swarm's ideal limit (backward = y - t, no swarm)
};
/// sgd, sgd-swarm, adagrad, adadelta, rmsprop, amsgrad, adam, adaswarm, adam-ideal
const char* to_string(OptimizerKind k);
/// Column header: SGD, SGD-PSO, AdaGrad, AdaDelta, RMSProp, AMSGrad, Adam, AdaSwarm, Adam-ideal.
const char* column_name(OptimizerKind k);
OptimizerKind optimizer_from_string(const std::string& s);
/// The paper's eight, then the ablation.
std::vector<OptimizerKind> all_optimizers();
/// The learning-rate policy: each optimizer's PyTorch default (SGD: 0.01).
double default_lr(OptimizerKind k);
bool uses_swarm(OptimizerKind k);

struct DatasetSource {
  std::string key;         ///< row name and results key
  std::string paper_name;  ///< empty for a user's CSV
  data::TabularSpec spec;  ///< path resolved
};
/// The registry's sets (all 15 when `keys` is empty) with paths under data_dir.
std::vector<DatasetSource> uci_sources(const std::string& data_dir, const std::vector<std::string>& keys = {});

struct TablesConfig {
  std::vector<TableLoss> losses = {TableLoss::MSE};
  std::vector<DatasetSource> datasets;
  std::vector<OptimizerKind> optimizers = all_optimizers();
  int64_t seeds = 10;
  uint64_t first_seed = 1;
  int64_t epochs = 30;
  int64_t batch_size = 16;
  int64_t hidden = 10;
  models::Activation activation = models::Activation::ReLU;
  double test_fraction = 0.2;
  bool standardize = true;
  /// One learning rate for every optimizer; unset: default_lr() per optimizer.
  std::optional<double> lr;
  int jobs = 1;
  /// JSON-lines file, one finished run per line (appended durably); "" = none.
  std::string results_path;
  /// Keep the runs already in results_path (same settings) and run the rest.
  bool resume = false;
  /// Stop after this many new runs (< 0: all); simulates an interruption.
  int64_t max_runs = -1;
  bool progress = true;
};

/// The settings that change results (resume refuses a file written with others).
std::string fingerprint(const TablesConfig& c);

struct RunResult {
  std::string loss, dataset, optimizer;
  uint64_t seed = 0;
  double test_loss = 0, test_acc = 0;    ///< held-out test split, after training (acc in %)
  double train_loss = 0, train_acc = 0;  ///< running average over the last epoch's batches (the paper's apparent metric)
  double lr = 0;
  int64_t epochs = 0, steps = 0;
  double seconds = 0;
  std::string key() const;  ///< loss/dataset/optimizer/seed
};

/// One training run. Deterministic in (config, dataset, loss, optimizer, seed):
/// the split, the initial weights and the batch order depend on the seed and the
/// data set only (shared by all optimizers and losses); the swarm has its own
/// seeded generator. Independent of --jobs and of the order of runs.
RunResult run_one(const TablesConfig& config, const DatasetSource& source, const data::Dataset& dataset,
                  TableLoss loss, OptimizerKind optimizer, uint64_t seed);

struct TablesOutcome {
  std::vector<RunResult> runs;  ///< every finished run (resumed + new), sorted by key
  int64_t executed = 0, resumed = 0, remaining = 0;
  double seconds = 0;
};
/// Runs every (loss, data set, optimizer, seed) in parallel (config.jobs
/// threads, one intra-op thread each). Throws data::DataError for bad files,
/// std::runtime_error for a results file that resume cannot use.
TablesOutcome run_tables(const TablesConfig& config);

struct Stat {
  int64_t n = 0;
  double mean = 0, std = 0;  ///< sample std (n - 1); 0 when n < 2
};
struct PaperValue {
  double loss = 0, acc = 0;  ///< acc in %
};
/// The paper's printed value (Tables IV and V); none for BCE (supplementary
/// Table 5 is not in the text we have), for a user's CSV and for the ablation.
std::optional<PaperValue> paper_value(TableLoss loss, const std::string& dataset_key, OptimizerKind optimizer);
/// The paper's "± x%" printed beside AdaSwarm's accuracy.
std::optional<double> paper_adaswarm_std(TableLoss loss, const std::string& dataset_key);

struct Summary {
  TableLoss loss;
  std::string dataset, paper_name;
  OptimizerKind optimizer;
  Stat test_acc, test_loss, train_acc, train_loss;
  double seconds = 0;  ///< summed over seeds
  std::optional<PaperValue> paper;
};
std::vector<Summary> summarize(const std::vector<RunResult>& runs, const TablesConfig& config);

/// The tables as the paper lays them out (data sets down, optimizers across).
std::string format_tables(const std::vector<Summary>& rows, const TablesConfig& config);
std::string tables_csv(const std::vector<Summary>& rows);
std::string tables_json(const std::vector<Summary>& rows, const TablesConfig& config);

}  // namespace adaswarm::experiments::uci
