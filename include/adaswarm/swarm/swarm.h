// The particle swarm engine: PSO, MPSO, EMPSO and REMPSO (SPEC.md section 1).
//
// One swarm type for everything in adaswarm. Particles live in one contiguous
// row-major [particles x dim] buffer of T (float or double); the fitness is a
// callable that evaluates ALL particles at once. A particle may be viewed as
// `rows` x (dim / rows) (the AdaSwarm loss uses batch x classes), and fitness can
// be per row (each row keeps its own personal and swarm best) or per particle.
//
// Header only needs the standard library: the engine never touches LibTorch, so
// black-box optimisation (PGSO) and the swarm loss share the same kernels.
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <torch/arg.h>

#include "adaswarm/util/random.h"

namespace adaswarm::swarm {

/// The velocity rules of SPEC.md section 1.
enum class Variant {
  PSO,     ///< v <- w v + c1 r1 (p - x) + c2 r2 (g - x)
  MPSO,    ///< v <- (1 - lambda)[v + attraction] + lambda v_prev
  EMPSO,   ///< M <- beta M + (1 - beta) v ; v <- M + attraction
  REMPSO,  ///< EMPSO whose attraction terms are A^T Phi_k A (target - x)
};
/// r1, r2: one scalar per particle per iteration, or one per coordinate.
enum class RandomMode { PerParticle, PerCoordinate };

const char* to_string(Variant v);
Variant variant_from_string(const std::string& s);

struct SwarmOptions {
  SwarmOptions() = default;
  /// Number of particles P (>= 1).
  TORCH_ARG(int64_t, particles) = 10;
  /// Iterations that Swarm::run performs (>= 0).
  TORCH_ARG(int64_t, iterations) = 5;
  TORCH_ARG(Variant, variant) = Variant::EMPSO;
  TORCH_ARG(double, c1) = 0.8;
  TORCH_ARG(double, c2) = 0.9;
  /// EMPSO/REMPSO momentum decay.
  TORCH_ARG(double, beta) = 0.9;
  /// PSO inertia w (may be changed between steps for schedules).
  TORCH_ARG(double, inertia) = 0.7298;
  /// MPSO mixing lambda.
  TORCH_ARG(double, lambda) = 0.5;
  TORCH_ARG(RandomMode, random_mode) = RandomMode::PerParticle;
  /// r1, r2 ~ U(random_low, 1): 0 is standard PSO; -1 is the GSO paper's
  /// U(-1, 1). Must be in [-1, 1). (cbar averages c1 r1 + c2 r2 as drawn.)
  TORCH_ARG(double, random_low) = 0.0;
  /// false reproduces the reference code's quirk: M is never stored, so EMPSO
  /// degenerates to PSO with inertia (1 - beta).
  TORCH_ARG(bool, store_momentum) = true;
  /// REMPSO Givens rotation angle theta.
  TORCH_ARG(double, rotation_angle) = 0.6283185307179586;  // pi / 5
  /// The reference code's element-wise "rotation": the attraction terms of
  /// 2 * floor(0.4 * rows) random rows per particle are scaled by cos^2(pi/5).
  TORCH_ARG(bool, reference_rotation) = false;
  /// Position bounds: empty (unbounded), one value (every coordinate) or dim values.
  TORCH_ARG(std::vector<double>, lower) = {};
  TORCH_ARG(std::vector<double>, upper) = {};
  /// |v_d| <= velocity_clamp when > 0.
  TORCH_ARG(double, velocity_clamp) = 0.0;
  /// Clamp velocities to [lower, upper] as the GSO authors' code does.
  TORCH_ARG(bool, clamp_velocity_to_bounds) = false;
  /// A coordinate moved past a bound is put on the bound and its velocity set
  /// to 0 (pagmo2's feasibility correction); false keeps the velocity.
  TORCH_ARG(bool, zero_velocity_at_bounds) = false;
  TORCH_ARG(uint64_t, seed) = 0;
  /// run() stops once the best fitness (summed over rows) is <= tolerance.
  TORCH_ARG(double, tolerance) = -std::numeric_limits<double>::infinity();
  /// run() stops after this many iterations without an improvement larger
  /// than stall_delta (0: never).
  TORCH_ARG(int64_t, stall_iterations) = 0;
  TORCH_ARG(double, stall_delta) = 0.0;
  /// A particle is `rows` x (dim / rows); rows must divide dim.
  TORCH_ARG(int64_t, rows) = 1;
  /// Fitness gives one value per particle per row; each row has its own bests.
  TORCH_ARG(bool, fitness_per_row) = false;
  /// Asynchronous updates (pagmo2's PSO): each particle is evaluated as soon as
  /// it has moved, and its personal best and the swarm best are updated at once,
  /// so the particles after it in the same iteration already follow the new
  /// best. The fitness is then called with one particle at a time. false (the
  /// default): the whole swarm moves, then is evaluated in one call.
  TORCH_ARG(bool, asynchronous) = false;
  /// The random factors' stream. 0 (the default): one xoshiro256++ stream
  /// (Swarm::rng()), r1, r2 drawn one after the other. 8: each step draws all
  /// its r1, r2 at once from eight xoshiro256++ lanes stepped together
  /// (adaswarm::RngLanes8, vectorised), seeded from Swarm::rng() at the start of
  /// the step, so the swarm has no other random state (what saves and restores
  /// rng() still resumes exactly). A different stream: other trajectories than
  /// 0 for the same seed, equally reproducible; cbar's sum is then added in
  /// a fixed blocked order (equal up to rounding). PSO with random_mode
  /// per-coordinate only (the PSO/GSO/PGSO case, where the draws cost most).
  TORCH_ARG(int64_t, random_lanes) = 0;

 public:
  /// Throws std::invalid_argument naming the option when something is impossible.
  void validate(int64_t dim) const;
};

/// What Swarm::run did.
struct RunInfo {
  int64_t iterations = 0;
  int64_t evaluations = 0;
  bool reached_tolerance = false;
  bool stalled = false;
  double best_fitness = std::numeric_limits<double>::infinity();
};

template <typename T>
class Swarm {
 public:
  /// fitness(positions [P x dim], P, dim, out): writes P (or P x rows when
  /// fitness_per_row) values. NaN or -inf fitness is an error (std::domain_error
  /// naming the particle and row; no such value becomes a best); +inf means "worst".
  using Fitness = std::function<void(const T* positions, int64_t particles, int64_t dim, T* out)>;

  Swarm(SwarmOptions options, int64_t dim);

  /// Starts the swarm at `positions` ([P x dim]); velocities zero unless given.
  /// Clears bests, momentum, counters. Does not evaluate.
  void reset(const T* positions, const T* velocities = nullptr);
  /// Positions uniform within the bounds (which must be finite); velocities
  /// uniform in +-velocity_scale * (upper - lower).
  void reset_uniform(double velocity_scale = 0.0);

  /// Evaluates the current positions and updates personal and swarm bests.
  void evaluate(const Fitness& fitness);
  /// One iteration: velocity rule, move, clamp, evaluate, update bests.
  /// Evaluates the start positions first if that has not happened yet.
  void step(const Fitness& fitness);
  /// Runs options().iterations() steps (or `iterations`), honouring tolerance and stall.
  RunInfo run(const Fitness& fitness);
  RunInfo run(const Fitness& fitness, int64_t iterations);

  /// The gradient approximation of SPEC.md section 2 at x (dim values):
  /// (cbar / eta) (x - g). Zero before the first step.
  void approximate_gradient(const T* x, double eta, T* out) const;

  /// Replaces the swarm best (the galactic exchange). fitness: one value per
  /// best group (rows when fitness_per_row, else 1).
  void set_global_best(const T* position, const T* fitness);

  const SwarmOptions& options() const { return options_; }
  /// Mutable options: per-iteration schedules (inertia, c1, c2) may change
  /// them between steps. Shape options must not change.
  SwarmOptions& options() { return options_; }
  int64_t dim() const { return dim_; }
  int64_t particles() const { return options_.particles(); }
  /// Number of independent best groups: rows when fitness_per_row, else 1.
  int64_t groups() const { return groups_; }

  const std::vector<T>& positions() const { return x_; }
  std::vector<T>& mutable_positions() { return x_; }
  const std::vector<T>& velocities() const { return v_; }
  const std::vector<T>& momentum() const { return m_; }
  const std::vector<T>& personal_best() const { return p_; }
  const std::vector<T>& personal_best_fitness() const { return pf_; }
  const std::vector<T>& fitness() const { return f_; }
  const std::vector<T>& global_best() const { return g_; }
  const std::vector<T>& global_best_fitness() const { return gf_; }
  /// Swarm best fitness summed over groups.
  double best_fitness() const;
  /// Mean over particles (and coordinates, per-coordinate mode) of c1 r1 + c2 r2
  /// at the last step; 0 before the first.
  double cbar() const { return cbar_; }
  int64_t iteration() const { return iteration_; }
  int64_t evaluations() const { return evaluations_; }
  bool evaluated() const { return evaluated_; }
  /// Axis pairs of the last REMPSO rotation.
  const std::vector<std::pair<int64_t, int64_t>>& rotation_pairs() const { return pairs_; }

  Rng& rng() { return rng_; }
  const Rng& rng() const { return rng_; }

 private:
  /// One step's settings, read from the options once (swarm.cpp).
  struct StepSettings;
  /// step's two paths: each moves every particle (and evaluates it in
  /// asynchronous mode) and returns the sum over particles of c1 r1 + c2 r2
  /// (per coordinate: its mean over the coordinates), for cbar.
  /// PSO (the PGSO case): the vectorised passes of passes.h.
  double move_pso(const Fitness& fitness);
  /// MPSO, EMPSO, REMPSO, and PSO with the reference rotation: per particle,
  /// attraction, the reference code's row scaling, velocity rule, move and clamp.
  double move_general(const Fitness& fitness);
  /// a1_ = c1 r1 (p - x), a2_ = c2 r2 (g - x) (rotated for REMPSO); returns c1 r1 + c2 r2.
  double attraction(const StepSettings& s, const T* x, const T* p);
  void scale_reference_rows(const StepSettings& s);
  void velocity_rule(const StepSettings& s, int64_t i);
  void move_and_clamp(const StepSettings& s, T* x, T* v) const;
  void draw_rotation_pairs();
  /// Evaluates particle i alone and updates its personal and the swarm bests
  /// (asynchronous mode).
  void evaluate_particle(int64_t i, const Fitness& fitness);
  /// Throws std::domain_error for a NaN or -inf among the n fitness values of
  /// particles first.. (groups_ values each).
  void check_fitness(const T* f, int64_t n, int64_t first) const;
  void rotate(T* d, bool transpose) const;

  SwarmOptions options_;
  int64_t dim_;
  int64_t groups_;
  int64_t group_size_;
  std::vector<T> lo_, hi_;  // empty when unbounded
  std::vector<T> x_, v_, vprev_, m_, p_, pf_, f_, g_, gf_;
  std::vector<T> a1_, a2_, r1_, r2_;  // scratch
  std::vector<double> lane_u_;       // scratch: a step's uniforms (random_lanes)
  std::vector<T> lane_k_;            // scratch: a step's c1 r1, c2 r2 (random_lanes)
  std::vector<int64_t> perm_;
  std::vector<int64_t> row_perm_;  // scratch: the reference code's row draw
  std::vector<int32_t> best_;  // scratch: best particle per group
  std::vector<std::pair<int64_t, int64_t>> pairs_;
  double cbar_ = 0.0;
  int64_t iteration_ = 0;
  int64_t evaluations_ = 0;
  bool evaluated_ = false;
  bool started_ = false;
  Rng rng_;
};

extern template class Swarm<float>;
extern template class Swarm<double>;

/// The D x D matrix (row-major) of a product of Givens rotations by theta over
/// disjoint axis pairs: what REMPSO applies. Orthogonal by construction.
std::vector<double> givens_matrix(int64_t dim, const std::vector<std::pair<int64_t, int64_t>>& pairs,
                                  double theta);

}  // namespace adaswarm::swarm
