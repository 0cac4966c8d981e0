// PSO, GSO and PGSO (SPEC.md section 6), built on adaswarm::swarm::Swarm<double>.
//
// - pso():  one swarm (the baseline of the PGSO paper's tables).
// - gso():  Muthiah-Nakarajan and Noel's two-level, multi-epoch algorithm.
// - pgso(): M subswarms in parallel (OpenMP, one subswarm per task), ONE galactic
//           exchange at a fixed iteration, then a stage-2 superswarm seeded at the
//           subswarm bests on the same objective.
//
// Determinism: subswarm k draws from Rng(seed, k + 1) only and the exchange happens
// between two parallel sections (all subswarms have reached the same iteration), so
// the result is bit-identical for any thread count.
//
// Islands (PgsoOptions::group, include/adaswarm/dist/dist.h): with a process group
// of N ranks, subswarm k runs on rank k mod N (OpenMP inside the rank as without
// one); the galactic exchange is an all-gather of the subswarm bests (fitness and
// position), and stage 2 runs identically on every rank from the gathered bests,
// so every rank returns the same Result, bit-identical for any world size and
// thread count (Result::seconds aside). Every rank must call pgso() with the same
// options and objective.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "adaswarm/swarm/swarm.h"

namespace adaswarm::dist {
class ProcessGroup;
}

namespace adaswarm::pgso {

/// fitness(X [P x D] row-major, P, D, out[P]). For pgso() it is called
/// concurrently from several threads and must be thread-safe.
using Objective = std::function<void(const double* X, int64_t P, int64_t D, double* out)>;
/// Stage-1 fitness that knows which subswarm asks (network search: its own batch).
using SubswarmObjective =
    std::function<void(int64_t subswarm, const double* X, int64_t P, int64_t D, double* out)>;

/// One line of the convergence log.
struct LogEntry {
  int64_t iteration = 0;    ///< global iteration counter of the algorithm (stage 2 continues it)
  int64_t evaluations = 0;  ///< cumulative fitness evaluations
  double best = 0.0;        ///< best fitness so far
  int stage = 1;            ///< PGSO/GSO: 1 subswarms, 2 superswarm; PSO: 1
};

struct Result {
  std::vector<double> best_position;
  double best_fitness = std::numeric_limits<double>::infinity();
  int64_t evaluations = 0;
  std::vector<LogEntry> log;
  double seconds = 0.0;
  // PGSO only.
  int64_t exchanges = 0;
  int64_t exchange_iteration = -1;
  int64_t exchange_source = -1;  ///< subswarm whose best was shared
  double exchange_best = std::numeric_limits<double>::infinity();
  std::vector<double> subswarm_best_before_exchange, subswarm_best_after_exchange, subswarm_best_final;
  double stage1_best = std::numeric_limits<double>::infinity();
  int64_t stage2_evaluations = 0;
};

/// Common bounds: empty vectors are not allowed; 1 value (every coordinate) or D values.
struct PsoOptions {
  PsoOptions() = default;
  TORCH_ARG(int64_t, particles) = 50;
  TORCH_ARG(int64_t, iterations) = 1000;
  TORCH_ARG(double, inertia) = 0.5;
  TORCH_ARG(double, c1) = 1.0;
  TORCH_ARG(double, c2) = 2.0;
  TORCH_ARG(std::vector<double>, lower) = {};
  TORCH_ARG(std::vector<double>, upper) = {};
  TORCH_ARG(uint64_t, seed) = 0;
  /// Log every k-th iteration (and the last); 0 disables the log.
  TORCH_ARG(int64_t, log_every) = 1;
};

struct GsoOptions {
  GsoOptions() = default;
  /// The GSO authors' settings for D = 10, 30, 50 (SPEC.md section 6); other D
  /// get the nearest of the three.
  static GsoOptions authors(int64_t dim);
  TORCH_ARG(int64_t, epochs) = 5;
  TORCH_ARG(int64_t, level1_iterations) = 198;
  TORCH_ARG(int64_t, level2_iterations) = 1000;
  TORCH_ARG(int64_t, particles) = 5;   ///< per galaxy
  TORCH_ARG(int64_t, subswarms) = 10;  ///< galaxies M
  /// r1..r4 ~ U(random_low, 1): -1 is the GSO paper's U(-1, 1); 0 standard PSO.
  TORCH_ARG(double, random_low) = -1.0;
  TORCH_ARG(std::vector<double>, lower) = {};
  TORCH_ARG(std::vector<double>, upper) = {};
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(int64_t, log_every) = 1;
};

struct PgsoOptions {
  PgsoOptions() = default;
  TORCH_ARG(int64_t, subswarms) = 7;   ///< M
  TORCH_ARG(int64_t, particles) = 20;  ///< per subswarm
  TORCH_ARG(int64_t, iterations) = 1000;
  /// Stage-2 iterations; -1: the same as iterations; 0: no stage 2.
  TORCH_ARG(int64_t, stage2_iterations) = -1;
  TORCH_ARG(double, inertia) = 0.5;
  TORCH_ARG(double, c1) = 1.0;
  TORCH_ARG(double, c2) = 2.0;
  /// Iteration after which the single exchange happens; -1: iterations / 2.
  TORCH_ARG(int64_t, exchange_iteration) = -1;
  TORCH_ARG(bool, exchange) = true;
  /// OpenMP threads for stage 1; 0: all cores.
  TORCH_ARG(int, threads) = 0;
  /// Hold LibTorch's intra-op threads at 1 during stage 1 (needed when the
  /// objective calls LibTorch). Changing the pool size costs milliseconds
  /// (thread pools are rebuilt), so it happens once per run, not per region;
  /// objectives that never touch LibTorch may turn it off.
  TORCH_ARG(bool, limit_torch_threads) = true;
  TORCH_ARG(std::vector<double>, lower) = {};
  TORCH_ARG(std::vector<double>, upper) = {};
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(int64_t, log_every) = 1;
  /// Islands over ranks (null, or a single-process group: everything here).
  TORCH_ARG(std::shared_ptr<dist::ProcessGroup>, group) = nullptr;
};

/// Throw std::invalid_argument naming the option for impossible settings.
void validate(const PsoOptions& o, int64_t dim);
void validate(const GsoOptions& o, int64_t dim);
void validate(const PgsoOptions& o, int64_t dim);

Result pso(const Objective& f, int64_t dim, const PsoOptions& options);
Result gso(const Objective& f, int64_t dim, const GsoOptions& options);
Result pgso(const Objective& f, int64_t dim, const PgsoOptions& options);
/// PGSO with a per-subswarm stage-1 objective and a separate stage-2 objective.
Result pgso(const SubswarmObjective& stage1, const Objective& stage2, int64_t dim, const PgsoOptions& options);

/// What one galactic exchange did.
struct ExchangeInfo {
  int64_t source = -1;  ///< subswarm whose best is shared (lowest index on ties)
  double best = std::numeric_limits<double>::infinity();
  int64_t adopted = 0;  ///< subswarms that took the shared best as their g
};
/// The galactic exchange over subswarms that have all reached the same point:
/// every subswarm publishes its best (the shared best becomes the minimum), then
/// every subswarm whose best is worse adopts it as its swarm best. This is the
/// outcome of "publish under a lock, otherwise adopt" when all publishes happen
/// before the adopts, which makes it independent of thread timing.
ExchangeInfo galactic_exchange(std::vector<swarm::Swarm<double>>& subswarms);

/// Keeps LibTorch's intra-op pool at one thread while alive (for use around an
/// OpenMP parallel region whose tasks call LibTorch); restores it afterwards.
class TorchThreadsGuard {
 public:
  explicit TorchThreadsGuard(int threads = 1);
  ~TorchThreadsGuard();
  TorchThreadsGuard(const TorchThreadsGuard&) = delete;
  TorchThreadsGuard& operator=(const TorchThreadsGuard&) = delete;

 private:
  int saved_;
};

/// Runs body(k) for k in [0, n) on `threads` OpenMP threads (0: all cores),
/// dynamic schedule. With limit_torch_threads, LibTorch's intra-op threads are
/// held at 1 during the region (callers running many regions should instead hold
/// one TorchThreadsGuard around all of them and pass false). The first exception
/// thrown by a body is rethrown after the region.
void parallel_for_subswarms(int64_t n, int threads, const std::function<void(int64_t)>& body,
                            bool limit_torch_threads = true);

/// Swarm options shared by the algorithms (PSO rule, per-coordinate r, bounds clamp).
swarm::SwarmOptions pso_swarm_options(int64_t particles, double w, double c1, double c2,
                                      const std::vector<double>& lower, const std::vector<double>& upper,
                                      uint64_t seed);

}  // namespace adaswarm::pgso
