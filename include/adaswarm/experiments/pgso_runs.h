// The `adaswarm pgso` runs as library calls (docs/pgso.md): the benchmark
// tables (PSO / GSO / PGSO per function and dimension), the network weight
// search against Adam, and the thread / rank scaling measurement. Each prints
// its table on stdout and writes its files atomically under `out` (files
// already there are refused unless `overwrite`); with
// torchrun's variables set (RANK, WORLD_SIZE, ...) PGSO's subswarms are spread
// over the ranks and rank 0 alone prints and writes (docs/distributed.md).
#pragma once
#include <cstdint>
#include <string>

namespace adaswarm::experiments::pgso_runs {

/// `adaswarm pgso bench`: mean best error per function, dimension and algorithm.
struct BenchConfig {
  /// comma list of pso, gso, gso-u01, pgso
  std::string algorithms = "pso,gso,pgso";
  std::string functions = "paper";
  std::string dims = "10,30,50";
  int64_t runs = 10;
  uint64_t seed = 1;
  int threads = 0;
  int64_t iterations = 1000;
  int64_t subswarms = 7, particles = 20, pso_particles = 50;
  int64_t log_every = 10;
  std::string out = "pgso-bench";
  /// replace results already in `out` (otherwise refused before any work)
  bool overwrite = false;
  double dist_timeout = 300;
};
void run_bench(const BenchConfig& config);

/// `adaswarm pgso train`: an MLP's weights searched with PGSO / PSO, and Adam.
/// `data_dir` must hold Churn_Modelling.csv / nba_logreg.csv for the datasets
/// "churn" / "nba"; any other `dataset` is a numeric CSV file with a header.
struct SearchConfig {
  std::string dataset = "churn", label, data_dir;
  std::string algorithms = "pgso,adam";
  std::string epochs = "20,40,100";
  int64_t particles = 200, iterations = 25, subswarms = 3, batch = 400, hidden = 6;
  double bound = 10, init_scale = 1, test_fraction = 0.2;
  double adam_lr = 1e-3;
  int64_t adam_epochs = 100, adam_batch = 32;
  uint64_t seed = 1;
  int threads = 0;
  std::string out = "pgso-train";
  /// replace results already in `out` (otherwise refused before any work)
  bool overwrite = false;
  double dist_timeout = 300;
};
void run_search(const SearchConfig& config);

/// `adaswarm pgso scaling`: PGSO speed-up at fixed work and work in fixed time.
/// `threads` is a comma list (empty: 1 .. cores).
struct ScalingConfig {
  std::string function = "rastrigin";
  int64_t dim = 30, subswarms = 8, particles = 20, iterations = 1000, runs = 3;
  double seconds = 2.0;
  std::string threads;
  uint64_t seed = 1;
  std::string out = "pgso-scaling";
  /// replace results already in `out` (otherwise refused before any work)
  bool overwrite = false;
  double dist_timeout = 300;
};
void run_scaling(const ScalingConfig& config);

}  // namespace adaswarm::experiments::pgso_runs
