// The approximate gradient of SPEC.md section 2 for any f: R^D -> R, and the
// "emulated gradient descent" of the AdaSwarm paper's Tables I-III.
//
//   ghat(x) = (cbar / eta) (x - g)
//
// where g is the swarm best of a short swarm run on f started AROUND x and cbar
// is the mean over particles of c1 r1 + c2 r2 at the swarm's last iteration.
//
// Swarm start (the paper does not say; our choice, all options):
//   - particle 0 starts exactly at x (include_x), so f(g) <= f(x) always and
//     ghat is never an ascent direction in the "towards a better point" sense;
//   - the other particles start uniformly in the box x +- radius (per coordinate),
//     clamped to [lower, upper] when bounds are given;
//   - velocities and momentum start at zero; the swarm runs exactly `iterations`
//     steps (no tolerance, no stall stop).
// f may return +inf for points outside its domain; NaN is read as +inf.
//
// Emulated GD: x_{t+1} = P(x_t - lr * ghat(x_t)), P the projection onto
// [lower, upper] when bounds are given (identity otherwise), one fresh swarm per
// step (seed derived from the run's seed and t). Stops when
// max_d |x_{t+1} - x_t| < tolerance for `patience` consecutive updates, or
// after max_iterations updates.
// With lr = eta (the paper) the update is x - cbar (x - g): eta cancels.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "adaswarm/swarm/swarm.h"

namespace adaswarm::swarm {

/// f over a batch: X is [n x dim] row-major, writes n values.
using BatchFunction = std::function<void(const double* X, int64_t n, int64_t dim, double* out)>;
/// f at one point (dim values).
using PointFunction = std::function<double(const double* x, int64_t dim)>;

/// Lifts a point function to a batch function (evaluates the points one by one).
BatchFunction batch_function(PointFunction f);

struct GradientOptions {
  GradientOptions() = default;
  /// eta of ghat = (cbar / eta)(x - g); must be > 0. EMPSO: eta = 1 - beta.
  TORCH_ARG(double, eta) = 0.1;
  /// Swarm size P (>= 1).
  TORCH_ARG(int64_t, particles) = 10;
  /// Swarm iterations per gradient (>= 1).
  TORCH_ARG(int64_t, iterations) = 10;
  /// Half-width of the box around x where particles 1..P-1 start (> 0).
  TORCH_ARG(double, radius) = 0.5;
  /// Particle 0 starts exactly at x.
  TORCH_ARG(bool, include_x) = true;
  TORCH_ARG(Variant, variant) = Variant::EMPSO;
  TORCH_ARG(double, c1) = 0.8;
  TORCH_ARG(double, c2) = 0.9;
  TORCH_ARG(double, beta) = 0.9;
  /// PSO inertia w (variant PSO); the paper's Table I assumes w = eta.
  TORCH_ARG(double, inertia) = 0.1;
  TORCH_ARG(RandomMode, random_mode) = RandomMode::PerParticle;
  /// Swarm position bounds (clamp): empty, one value or D values.
  TORCH_ARG(std::vector<double>, lower) = {};
  TORCH_ARG(std::vector<double>, upper) = {};
  TORCH_ARG(uint64_t, seed) = 0;

 public:
  /// Throws std::invalid_argument ("invalid gradient option: ...") when impossible.
  void validate(int64_t dim) const;
};

struct GradientEstimate {
  std::vector<double> gradient;  ///< (cbar / eta)(x - g)
  std::vector<double> best;      ///< g, the swarm best
  double best_value = std::numeric_limits<double>::infinity();  ///< f(g)
  double value_at_x = std::numeric_limits<double>::quiet_NaN(); ///< f(x) (when include_x)
  double cbar = 0.0;             ///< mean of c1 r1 + c2 r2 at the last iteration
  int64_t evaluations = 0;       ///< function evaluations (points)
};

/// One gradient estimate at x. Throws std::invalid_argument on bad options or an
/// empty x, std::domain_error when f is not finite at x (include_x) or at every
/// start point.
GradientEstimate estimate_gradient(const BatchFunction& f, const std::vector<double>& x,
                                   const GradientOptions& options);
/// Convenience: just the gradient.
std::vector<double> approximate_gradient(const BatchFunction& f, const std::vector<double>& x,
                                         const GradientOptions& options);

struct EmulatedGDOptions {
  EmulatedGDOptions() = default;
  /// The swarm of each step (its seed is ignored: derived from `seed` and t).
  TORCH_ARG(GradientOptions, gradient) = GradientOptions();
  /// Step size of x - lr * ghat (> 0); the paper uses lr = eta.
  TORCH_ARG(double, learning_rate) = 0.1;
  /// Stop when max_d |x_{t+1} - x_t| < tolerance (>= 0).
  TORCH_ARG(double, tolerance) = 1e-4;
  /// ... for this many consecutive updates (>= 1).
  TORCH_ARG(int64_t, patience) = 1;
  /// At most this many updates (>= 1).
  TORCH_ARG(int64_t, max_iterations) = 1000;
  /// Project iterates onto [lower, upper] (these bounds also go to the swarm).
  TORCH_ARG(std::vector<double>, lower) = {};
  TORCH_ARG(std::vector<double>, upper) = {};
  TORCH_ARG(uint64_t, seed) = 0;
  /// Keep every iterate in DescentResult::trajectory.
  TORCH_ARG(bool, record_trajectory) = false;

 public:
  void validate(int64_t dim) const;
};

struct DescentResult {
  std::vector<double> x;   ///< final iterate
  double value = std::numeric_limits<double>::quiet_NaN();  ///< f(x)
  int64_t iterations = 0;  ///< updates performed
  int64_t evaluations = 0;
  bool converged = false;  ///< stopped by the step tolerance
  /// "converged", "max-iterations" or "left-domain" (f not finite at the new
  /// iterate; x is then the last finite iterate).
  std::string status;
  std::vector<std::vector<double>> trajectory;  ///< x_0 .. x_T when recorded
};

/// x_{t+1} = P(x_t - lr * ghat(x_t)), see the header comment.
DescentResult emulated_gradient_descent(const BatchFunction& f, const std::vector<double>& x0,
                                        const EmulatedGDOptions& options);

/// The seed of step t of a run seeded `seed` (splitmix64 of both).
uint64_t step_seed(uint64_t seed, uint64_t t);

}  // namespace adaswarm::swarm
