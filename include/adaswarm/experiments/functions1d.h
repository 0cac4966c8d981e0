// The AdaSwarm paper's first experiments (section III, Tables I-III, Fig. 1):
// eight 1-D functions, GD / SGD with momentum against emulated GD driven by the
// swarm's approximate gradient (include/adaswarm/swarm/gradient.h).
//
// Every choice the paper leaves open is an option here, with the defaults that
// docs/functions.md states and justifies:
//   - each function is minimised on a search interval [lo, hi]; the true optimum
//     is the global minimum on that interval, found by a dense grid;
//   - iterates are projected onto [lo, hi] (option `project`), the swarm is
//     clamped to it too; without projection only the function's domain limits;
//   - one fixed start point per function, plus `runs` random starts drawn
//     uniformly in [lo, hi] (the same start for both methods of a run);
//   - stopping rule, the same for every method: |x_{t+1} - x_t| < tolerance, or
//     max_iterations updates (with `patience` consecutive small steps); a gradient that does not exist at x_t ends the run
//     ("no-gradient"), a step outside the domain too ("left-domain");
//   - SGD with momentum is the paper's eq. 16: V <- beta V + (1 - beta) f'(x),
//     x <- x - eta V (deterministic: a 1-D function has no mini-batches);
//   - emulated GD: x <- x - eta ghat(x) with a fresh swarm around x each step;
//     Table I uses PSO with inertia w = eta (the paper's assumption 2),
//     Tables II-III use EMPSO with beta (eta = 1 - beta).
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "adaswarm/swarm/gradient.h"

namespace adaswarm::experiments {

struct Function1D {
  std::string key;      ///< short name used on the command line and in CSV files
  std::string formula;  ///< as the paper prints it
  std::function<double(double)> f;   ///< +inf outside the domain
  std::function<double(double)> df;  ///< NaN where the derivative does not exist
  double lo = 0, hi = 0;             ///< search interval
  double x0 = 0;                     ///< the fixed start point
  double domain_lo = -std::numeric_limits<double>::infinity();
  bool smooth = true;
  int table = 1;                     ///< 1: Tables I and II; 3: Table III
  std::string derivative_note;       ///< how f' is defined where f is not smooth
  std::string minimiser_note;        ///< when the minimiser is not a single point
};

/// The eight functions: four smooth (Tables I, II), four not (Table III).
const std::vector<Function1D>& functions1d();
/// The functions of one table (1, 2 or 3).
std::vector<Function1D> table_functions(int table);
const Function1D& function1d(const std::string& key);

/// One row of the paper's Tables I-III as printed. NaN / -1: "NA".
struct PaperRow {
  int table = 0;
  std::string key;
  double global_min = 0;
  double baseline_opt = 0;
  int64_t baseline_iterations = 0;
  double emulated_opt = 0;
  int64_t emulated_iterations = 0;
};
const std::vector<PaperRow>& paper_rows();
const PaperRow& paper_row(int table, const std::string& key);

struct TrueOptimum {
  double x = 0, f = 0;
};
/// Global minimum of f on [lo, hi]: dense grid of `points` points, then a
/// golden-section refinement in the best cell's neighbourhood (smallest x wins ties).
TrueOptimum true_optimum(const Function1D& fn, int64_t points = 200001);

struct ExperimentOptions {
  ExperimentOptions() = default;
  TORCH_ARG(double, eta) = 0.1;
  TORCH_ARG(double, c1) = 0.8;
  TORCH_ARG(double, c2) = 0.9;
  TORCH_ARG(double, beta) = 0.9;
  /// Swarm of one gradient estimate.
  TORCH_ARG(int64_t, particles) = 10;
  TORCH_ARG(int64_t, swarm_iterations) = 10;
  TORCH_ARG(double, radius) = 0.5;
  /// Stopping rule of every method.
  TORCH_ARG(double, tolerance) = 1e-4;
  TORCH_ARG(int64_t, max_iterations) = 1000;
  /// ... for this many consecutive updates (2: a momentum iterate turning round
  /// does not count as convergence).
  TORCH_ARG(int64_t, patience) = 2;
  /// Project iterates (and the swarm) onto the search interval.
  TORCH_ARG(bool, project) = true;
  /// Random starts per function (0: only the fixed start).
  TORCH_ARG(int64_t, runs) = 20;
  TORCH_ARG(uint64_t, seed) = 1;
  /// A run "hits" the optimum when |f(x_T) - f*| <= hit_tolerance.
  TORCH_ARG(double, hit_tolerance) = 1e-3;
  TORCH_ARG(int64_t, grid_points) = 200001;

 public:
  void validate() const;
};

struct RunResult {
  std::string method;  ///< "gd", "sgd-momentum", "emulated-pso", "emulated-empso"
  int64_t run = -1;    ///< -1: the fixed start
  uint64_t seed = 0;
  double x0 = 0;
  double x = 0, f = 0;
  int64_t iterations = 0;
  int64_t evaluations = 0;
  std::string status;  ///< converged, max-iterations, no-gradient, left-domain
  bool hit = false;
};

/// GD (momentum 0) or SGD with momentum (eq. 16) with the true derivative.
RunResult run_gradient_method(const Function1D& fn, double x0, double momentum, const ExperimentOptions& o);
/// Emulated GD with a PSO (w = eta) or EMPSO swarm.
RunResult run_emulated(const Function1D& fn, double x0, swarm::Variant variant, uint64_t seed,
                       const ExperimentOptions& o);
/// The swarm-gradient options the experiments use for a variant.
swarm::GradientOptions gradient_options(const Function1D& fn, swarm::Variant variant, uint64_t seed,
                                        const ExperimentOptions& o);

struct TableRow {
  int table = 0;
  Function1D fn;
  TrueOptimum optimum;
  PaperRow paper;
  RunResult baseline_fixed, emulated_fixed;
  std::vector<RunResult> baseline_runs, emulated_runs;  ///< random starts
};
/// Runs one table (1, 2 or 3): fixed start, then o.runs random starts.
std::vector<TableRow> run_table(int table, const ExperimentOptions& o);

/// Median of the values (NaN for none).
double median(std::vector<double> v);

/// Writes `content` to `path` with util::write_file_atomic (util/atomic_file.h).
void write_file_atomically(const std::string& path, const std::string& content);
/// Every run of the rows as CSV (one line per run, fixed start first).
std::string table_csv(const std::vector<TableRow>& rows);

/// Fig. 1: for each function, `points` x values evenly spaced on [lo, hi]:
/// true derivative (NaN where none) and one EMPSO estimate of ghat per x
/// (seeded from o.seed and the point index).
struct Fig1Point {
  std::string key;
  double x = 0, true_gradient = 0, approx_gradient = 0, cbar = 0, g = 0;
};
std::vector<Fig1Point> fig1_data(const ExperimentOptions& o, int64_t points);
std::string fig1_csv(const std::vector<Fig1Point>& data);

}  // namespace adaswarm::experiments
