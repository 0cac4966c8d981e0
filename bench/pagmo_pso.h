// pagmo2's PSO at the settings of bench_pgso section 2 (docs/pgso.md), shared by
// bench/pagmo_pso_bench.cpp and bench_pgso (when pagmo2 is installed):
// variant 1 (inertia weight, r per coordinate), gbest (neighb_type 1),
// w 0.7298, eta1 = eta2 = 1.49618, max_vel 0.5 (fraction of the box), 50 particles.
#pragma once
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include <pagmo/algorithm.hpp>
#include <pagmo/algorithms/pso.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/problems/rastrigin.hpp>
#include <pagmo/problems/rosenbrock.hpp>

namespace adaswarm::bench {

struct PagmoPsoResult {
  double best_mean = 0, best_sd = 0, best_median = 0;
  double evals_per_s_wall = 0, evals_per_s_cpu = 0;  // medians over the runs
};

inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// `runs` seeds (1 .. runs), `iters` generations each, one core.
template <class Prob>
PagmoPsoResult run_pagmo_pso(Prob prob, int runs, unsigned iters) {
  std::vector<double> best, rate, crate;
  for (int r = 0; r < runs; ++r) {
    pagmo::problem p{prob};
    pagmo::population pop{p, 50u, static_cast<unsigned>(r + 1)};
    pagmo::algorithm algo{
        pagmo::pso(iters, 0.7298, 1.49618, 1.49618, 0.5, 1u, 1u, 4u, false, static_cast<unsigned>(r + 1))};
    const auto f0 = pop.get_problem().get_fevals();
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    pop = algo.evolve(pop);
    const double c = thread_cpu_seconds() - c0;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto fe = static_cast<double>(pop.get_problem().get_fevals() - f0);
    crate.push_back(fe / c);
    rate.push_back(fe / t);
    best.push_back(pop.champion_f()[0]);
  }
  PagmoPsoResult res;
  for (double b : best) res.best_mean += b;
  res.best_mean /= static_cast<double>(best.size());
  for (double b : best) res.best_sd += (b - res.best_mean) * (b - res.best_mean);
  res.best_sd = best.size() > 1 ? std::sqrt(res.best_sd / static_cast<double>(best.size() - 1)) : 0;
  std::sort(best.begin(), best.end());
  std::sort(rate.begin(), rate.end());
  std::sort(crate.begin(), crate.end());
  res.best_median = best[best.size() / 2];
  res.evals_per_s_wall = rate[rate.size() / 2];
  res.evals_per_s_cpu = crate[crate.size() / 2];
  return res;
}

}  // namespace adaswarm::bench
