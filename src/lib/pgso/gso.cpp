// PSO, GSO and PGSO (see include/adaswarm/pgso/gso.h and SPEC.md section 6).
#include "adaswarm/pgso/gso.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "adaswarm/dist/dist.h"
#include "islands.h"

namespace adaswarm::pgso {

using swarm::Swarm;
using swarm::SwarmOptions;

namespace {

[[noreturn]] void bad(const std::string& algo, const std::string& what) {
  throw std::invalid_argument("invalid " + algo + " option: " + what);
}

void check_common(const std::string& algo, int64_t dim, const std::vector<double>& lo, const std::vector<double>& hi,
                  int64_t log_every) {
  if (dim < 1) bad(algo, "dimension must be >= 1, got " + std::to_string(dim));
  if (lo.empty() || hi.empty()) bad(algo, "lower and upper bounds are required");
  auto sz = [&](const std::vector<double>& b, const char* n) {
    if (b.size() != 1 && static_cast<int64_t>(b.size()) != dim)
      bad(algo, std::string(n) + " bounds must have 1 or " + std::to_string(dim) + " values (the dimension), got " +
                    std::to_string(b.size()));
  };
  sz(lo, "lower");
  sz(hi, "upper");
  for (int64_t d = 0; d < dim; ++d) {
    const double l = lo[lo.size() == 1 ? 0 : d], h = hi[hi.size() == 1 ? 0 : d];
    if (!std::isfinite(l) || !std::isfinite(h)) bad(algo, "bounds must be finite (coordinate " + std::to_string(d) + ")");
    if (!(l < h))
      bad(algo, "lower bound must be < upper bound (coordinate " + std::to_string(d) + ": " + std::to_string(l) +
                    " >= " + std::to_string(h) + ")");
    if (!std::isfinite(h - l))  // e.g. [-1e308, 1e308]: the span (and every velocity) would be inf
      bad(algo, "the box's width upper - lower must be finite (coordinate " + std::to_string(d) + ")");
  }
  if (log_every < 0) bad(algo, "log_every must be >= 0");
}

void check_coeffs(const std::string& algo, double w, double c1, double c2) {
  if (!std::isfinite(w)) bad(algo, "inertia must be finite");
  if (!std::isfinite(c1) || c1 < 0) bad(algo, "c1 must be finite and >= 0");
  if (!std::isfinite(c2) || c2 < 0) bad(algo, "c2 must be finite and >= 0");
}

bool want_log(int64_t log_every, int64_t it, int64_t last) {
  return log_every > 0 && (it % log_every == 0 || it == last);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

SwarmOptions pso_swarm_options(int64_t particles, double w, double c1, double c2, const std::vector<double>& lower,
                               const std::vector<double>& upper, uint64_t seed) {
  return SwarmOptions()
      .particles(particles)
      .variant(swarm::Variant::PSO)
      .inertia(w)
      .c1(c1)
      .c2(c2)
      .random_mode(swarm::RandomMode::PerCoordinate)
      .lower(lower)
      .upper(upper)
      .seed(seed);
}

void validate(const PsoOptions& o, int64_t dim) {
  check_common("pso", dim, o.lower(), o.upper(), o.log_every());
  if (o.particles() < 1) bad("pso", "particles must be >= 1, got " + std::to_string(o.particles()));
  if (o.iterations() < 0) bad("pso", "iterations must be >= 0, got " + std::to_string(o.iterations()));
  check_coeffs("pso", o.inertia(), o.c1(), o.c2());
}

void validate(const GsoOptions& o, int64_t dim) {
  check_common("gso", dim, o.lower(), o.upper(), o.log_every());
  if (o.subswarms() < 1) bad("gso", "subswarms (M) must be >= 1, got " + std::to_string(o.subswarms()));
  if (o.particles() < 1) bad("gso", "particles must be >= 1, got " + std::to_string(o.particles()));
  if (o.epochs() < 1) bad("gso", "epochs must be >= 1, got " + std::to_string(o.epochs()));
  if (o.level1_iterations() < 0 || o.level2_iterations() < 0) bad("gso", "iterations must be >= 0");
  if (!(o.random_low() >= -1 && o.random_low() < 1))
    bad("gso", "random_low must be in [-1, 1), got " + std::to_string(o.random_low()));
}

void validate(const PgsoOptions& o, int64_t dim) {
  check_common("pgso", dim, o.lower(), o.upper(), o.log_every());
  if (o.subswarms() < 1) bad("pgso", "subswarms (M) must be >= 1, got " + std::to_string(o.subswarms()));
  if (o.particles() < 1) bad("pgso", "particles must be >= 1, got " + std::to_string(o.particles()));
  if (o.iterations() < 0) bad("pgso", "iterations must be >= 0, got " + std::to_string(o.iterations()));
  if (o.stage2_iterations() < -1) bad("pgso", "stage2_iterations must be >= 0 (or -1: same as iterations)");
  if (o.exchange_iteration() < -1 || o.exchange_iteration() > o.iterations())
    bad("pgso", "exchange_iteration must be in [0, iterations] (or -1: iterations / 2), got " +
                    std::to_string(o.exchange_iteration()));
  if (o.threads() < 0 || o.threads() > 4 * std::max(1, omp_get_num_procs()))
    bad("pgso", "threads must be in [0, 4 x the cores = " + std::to_string(4 * std::max(1, omp_get_num_procs())) +
                    "] (0: all cores), got " + std::to_string(o.threads()));
  check_coeffs("pgso", o.inertia(), o.c1(), o.c2());
}

GsoOptions GsoOptions::authors(int64_t dim) {
  GsoOptions o;
  if (dim <= 20) return o.epochs(5).level1_iterations(198).level2_iterations(1000).particles(5).subswarms(10);
  if (dim <= 40) return o.epochs(5).level1_iterations(280).level2_iterations(1500).particles(5).subswarms(20);
  return o.epochs(9).level1_iterations(250).level2_iterations(1500).particles(5).subswarms(20);
}

// ---------------------------------------------------------------- threads

TorchThreadsGuard::TorchThreadsGuard(int threads) : saved_(at::get_num_threads()) {
  if (threads != saved_) at::set_num_threads(threads);
}
TorchThreadsGuard::~TorchThreadsGuard() {
  if (at::get_num_threads() != saved_) at::set_num_threads(saved_);
}

void parallel_for_subswarms(int64_t n, int threads, const std::function<void(int64_t)>& body,
                            bool limit_torch_threads) {
  if (threads < 0) throw std::invalid_argument("parallel_for_subswarms: threads must be >= 0 (0: all cores)");
  if (!body) throw std::invalid_argument("parallel_for_subswarms: the body is empty");
  int nt = threads > 0 ? threads : omp_get_num_procs();
  nt = static_cast<int>(std::min<int64_t>(nt, n));
  if (nt <= 1) {
    for (int64_t k = 0; k < n; ++k) body(k);
    return;
  }
  std::unique_ptr<TorchThreadsGuard> guard;
  if (limit_torch_threads) guard = std::make_unique<TorchThreadsGuard>(1);
  std::exception_ptr error;
  std::mutex mu;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
  for (int64_t k = 0; k < n; ++k) {
    try {
      body(k);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// ---------------------------------------------------------------- PSO

Result pso(const Objective& f, int64_t dim, const PsoOptions& o) {
  validate(o, dim);
  if (!f) bad("pso", "the objective is empty");
  const auto t0 = std::chrono::steady_clock::now();
  Swarm<double> s(pso_swarm_options(o.particles(), o.inertia(), o.c1(), o.c2(), o.lower(), o.upper(), o.seed()), dim);
  s.reset_uniform(0.0);
  const Swarm<double>::Fitness fit = f;
  s.evaluate(fit);
  Result r;
  const int64_t T = o.iterations();
  if (want_log(o.log_every(), 0, T)) r.log.push_back({0, s.evaluations(), s.best_fitness(), 1});
  for (int64_t it = 1; it <= T; ++it) {
    s.step(fit);
    if (want_log(o.log_every(), it, T)) r.log.push_back({it, s.evaluations(), s.best_fitness(), 1});
  }
  r.best_position = s.global_best();
  r.best_fitness = s.best_fitness();
  r.evaluations = s.evaluations();
  r.seconds = seconds_since(t0);
  return r;
}

// ---------------------------------------------------------------- GSO

Result gso(const Objective& f, int64_t dim, const GsoOptions& o) {
  validate(o, dim);
  if (!f) bad("gso", "the objective is empty");
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t M = o.subswarms(), L1 = o.level1_iterations(), L2 = o.level2_iterations();
  // c1..c4 = 2.05 U(0, 1), drawn once per run (the authors' code).
  Rng crng(o.seed(), 0);
  const double c1 = 2.05 * crng.uniform(), c2 = 2.05 * crng.uniform();
  const double c3 = 2.05 * crng.uniform(), c4 = 2.05 * crng.uniform();

  std::vector<Swarm<double>> galaxies;
  galaxies.reserve(static_cast<size_t>(M));
  for (int64_t k = 0; k < M; ++k) {
    galaxies.emplace_back(pso_swarm_options(o.particles(), 1.0, c1, c2, o.lower(), o.upper(), o.seed())
                              .clamp_velocity_to_bounds(true)
                              .random_low(o.random_low()),
                          dim);
    galaxies.back().rng().reseed(o.seed(), static_cast<uint64_t>(k + 1));
    galaxies.back().reset_uniform(0.5);  // velocities within the (symmetric) box
  }
  Swarm<double> super(
      pso_swarm_options(M, 1.0, c3, c4, o.lower(), o.upper(), o.seed())
          .clamp_velocity_to_bounds(true)
          .random_low(o.random_low()),
      dim);
  super.rng().reseed(o.seed(), static_cast<uint64_t>(M + 1));

  const Swarm<double>::Fitness fit = f;
  Result r;
  std::vector<double> best_pos;
  double best = std::numeric_limits<double>::infinity();
  int64_t iteration = 0;
  const int64_t last = o.epochs() * (L1 + L2);
  auto evals = [&] {
    int64_t e = super.evaluations();
    for (const auto& g : galaxies) e += g.evaluations();
    return e + r.evaluations;  // r.evaluations accumulates superswarm resets
  };
  auto note = [&](const Swarm<double>& s) {
    if (s.best_fitness() < best) {
      best = s.best_fitness();
      best_pos = s.global_best();
    }
  };
  for (int64_t e = 0; e < o.epochs(); ++e) {
    // Level 1: every galaxy runs L1 iterations, inertia 1 - r / (L1 + 1).
    for (auto& g : galaxies)
      if (!g.evaluated()) {
        g.evaluate(fit);
        note(g);
      }
    if (e == 0 && want_log(o.log_every(), 0, last)) r.log.push_back({0, evals(), best, 1});
    for (int64_t it = 1; it <= L1; ++it) {
      for (auto& g : galaxies) {
        g.options().inertia(1.0 - static_cast<double>(it) / static_cast<double>(L1 + 1));
        g.step(fit);
        note(g);
      }
      ++iteration;
      if (want_log(o.log_every(), iteration, last)) r.log.push_back({iteration, evals(), best, 1});
    }
    // Level 2: the superswarm starts at the galaxy bests, velocity = position.
    std::vector<double> pos(static_cast<size_t>(M * dim));
    for (int64_t k = 0; k < M; ++k)
      std::copy(galaxies[k].global_best().begin(), galaxies[k].global_best().end(), pos.begin() + k * dim);
    r.evaluations += super.evaluations();
    super.reset(pos.data(), pos.data());
    super.evaluate(fit);
    if (best < super.best_fitness()) super.set_global_best(best_pos.data(), &best);
    for (int64_t it = 1; it <= L2; ++it) {
      super.options().inertia(1.0 - static_cast<double>(it) / static_cast<double>(L2 + 1));
      super.step(fit);
      note(super);
      ++iteration;
      if (want_log(o.log_every(), iteration, last)) r.log.push_back({iteration, evals(), best, 2});
    }
    note(super);
  }
  r.evaluations = evals();
  r.best_position = best_pos;
  r.best_fitness = best;
  r.seconds = seconds_since(t0);
  return r;
}

// ---------------------------------------------------------------- PGSO

ExchangeInfo galactic_exchange(std::vector<Swarm<double>>& subswarms) {
  ExchangeInfo info;
  // Publish: the shared best is the best of all subswarm bests (lowest index on ties).
  for (size_t k = 0; k < subswarms.size(); ++k)
    if (subswarms[k].best_fitness() < info.best) {
      info.best = subswarms[k].best_fitness();
      info.source = static_cast<int64_t>(k);
    }
  if (info.source < 0) return info;
  // Adopt: every subswarm whose best is worse takes the shared best as its g.
  const std::vector<double> g = subswarms[static_cast<size_t>(info.source)].global_best();
  const double gf = info.best;
  for (auto& s : subswarms)
    if (gf < s.best_fitness()) {
      s.set_global_best(g.data(), &gf);
      ++info.adopted;
    }
  return info;
}

Result pgso(const Objective& f, int64_t dim, const PgsoOptions& o) {
  return pgso([&f](int64_t, const double* X, int64_t P, int64_t D, double* out) { f(X, P, D, out); }, f, dim, o);
}

Result pgso(const SubswarmObjective& stage1, const Objective& stage2, int64_t dim, const PgsoOptions& o) {
  validate(o, dim);
  if (!stage1 || !stage2) bad("pgso", "the objective is empty");
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t M = o.subswarms(), N = o.particles(), T = o.iterations();
  const int64_t T2 = o.stage2_iterations() < 0 ? T : o.stage2_iterations();
  const int64_t ex = o.exchange_iteration() < 0 ? T / 2 : o.exchange_iteration();

  detail::Islands isl(o.group().get(), M, dim, T + 1,
                      {{"particles", std::to_string(N)},
                       {"stage-2 iterations", std::to_string(T2)},
                       {"exchange", o.exchange() ? std::to_string(ex) : "off"},
                       {"seed", std::to_string(o.seed())}});
  const int64_t local = static_cast<int64_t>(isl.mine.size());
  // Every rank builds every subswarm (cheap) but runs only its own.
  std::vector<Swarm<double>> subs;
  subs.reserve(static_cast<size_t>(M));
  for (int64_t k = 0; k < M; ++k) {
    subs.emplace_back(pso_swarm_options(N, o.inertia(), o.c1(), o.c2(), o.lower(), o.upper(), o.seed()), dim);
    subs.back().rng().reseed(o.seed(), static_cast<uint64_t>(k + 1));  // subswarm k's own stream
    subs.back().reset_uniform(0.0);
  }
  // best_hist[k][t]: subswarm k's best after t iterations (merged into the log).
  std::vector<std::vector<double>> hist(static_cast<size_t>(M), std::vector<double>(static_cast<size_t>(T + 1)));
  // One guard for the whole of stage 1 (see PgsoOptions::limit_torch_threads).
  const int nthreads = o.threads() > 0 ? o.threads() : omp_get_num_procs();
  std::unique_ptr<TorchThreadsGuard> guard;
  if (o.limit_torch_threads() && nthreads > 1 && local > 1) guard = std::make_unique<TorchThreadsGuard>(1);
  auto segment = [&](int64_t from, int64_t to) {
    parallel_for_subswarms(local, o.threads(), [&](int64_t j) {
      const int64_t k = isl.mine[static_cast<size_t>(j)];
      auto& s = subs[static_cast<size_t>(k)];
      const Swarm<double>::Fitness fit = [&stage1, k](const double* X, int64_t P, int64_t D, double* out) {
        stage1(k, X, P, D, out);
      };
      if (!s.evaluated()) {
        s.evaluate(fit);
        hist[k][0] = s.best_fitness();
      }
      for (int64_t it = from; it < to; ++it) {
        s.step(fit);
        hist[k][static_cast<size_t>(it + 1)] = s.best_fitness();
      }
    }, false);
  };

  Result r;
  segment(0, ex);
  isl.sync(subs, hist);
  r.subswarm_best_before_exchange = isl.best;
  if (o.exchange()) {
    const ExchangeInfo info = isl.exchange(subs);
    r.exchanges = 1;
    r.exchange_iteration = ex;
    r.exchange_source = info.source;
    r.exchange_best = info.best;
  }
  r.subswarm_best_after_exchange = isl.best;
  // An exchange at iteration ex is visible in the log from iteration ex on.
  if (o.exchange())
    for (int64_t k = 0; k < M; ++k) hist[k][static_cast<size_t>(ex)] = isl.best[k];
  segment(ex, T);
  guard.reset();
  isl.sync(subs, hist);

  // Stage 1 log: best over subswarms at each iteration.
  const int64_t last = T + T2;
  for (int64_t it = 0; it <= T; ++it) {
    if (!want_log(o.log_every(), it, last)) continue;
    double b = std::numeric_limits<double>::infinity();
    for (int64_t k = 0; k < M; ++k) b = std::min(b, hist[k][static_cast<size_t>(it)]);
    r.log.push_back({it, M * N * (it + 1), b, 1});
  }
  int64_t evals = 0;
  int64_t best_k = 0;
  r.subswarm_best_final = isl.best;
  for (int64_t k = 0; k < M; ++k) {
    evals += isl.evals[k];
    if (isl.best[k] < isl.best[best_k]) best_k = k;
  }
  r.stage1_best = isl.best[best_k];
  r.best_fitness = r.stage1_best;
  r.best_position = isl.pos[best_k];

  if (T2 > 0) {
    // Stage 2: a superswarm of M particles at the subswarm bests, on the stage-2
    // objective (the same objective for benchmark functions); every rank runs it
    // from the same gathered bests, so every rank gets the same answer.
    std::vector<double> pos(static_cast<size_t>(M * dim));
    for (int64_t k = 0; k < M; ++k) std::copy(isl.pos[k].begin(), isl.pos[k].end(), pos.begin() + k * dim);
    Swarm<double> super(pso_swarm_options(M, o.inertia(), o.c1(), o.c2(), o.lower(), o.upper(), o.seed()), dim);
    super.rng().reseed(o.seed(), static_cast<uint64_t>(M + 1));
    super.reset(pos.data());
    const Swarm<double>::Fitness fit = stage2;
    super.evaluate(fit);
    for (int64_t it = 1; it <= T2; ++it) {
      super.step(fit);
      if (want_log(o.log_every(), T + it, last))
        r.log.push_back({T + it, evals + super.evaluations(), super.best_fitness(), 2});
    }
    r.stage2_evaluations = super.evaluations();
    evals += super.evaluations();
    // The answer is the superswarm's best on the stage-2 objective.
    r.best_fitness = super.best_fitness();
    r.best_position = super.global_best();
  }
  r.evaluations = evals;
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace adaswarm::pgso
