// pagmo2's PSO on Rastrigin-30 and Rosenbrock-30 (docs/pgso.md): evaluations per
// second on one core and best fitness at the budget of bench_pgso section 2
// (settings in bench/pagmo_pso.h; bench_pgso section 5 runs the same beside ours).
// Built only when pagmo2 is installed (bench/CMakeLists.txt). Usage: pagmo_pso_bench [runs] [iterations]
#include <cstdio>
#include <cstdlib>

#include "pagmo_pso.h"

namespace {
template <class Prob>
void report(const char* name, Prob prob, int runs, unsigned iters) {
  const auto r = adaswarm::bench::run_pagmo_pso(prob, runs, iters);
  std::printf("  %-11s best mean %10.4g sd %9.3g median %10.4g | %6.2f M evals/s wall, %6.2f M/s CPU (medians)\n",
              name, r.best_mean, r.best_sd, r.best_median, r.evals_per_s_wall / 1e6, r.evals_per_s_cpu / 1e6);
}
}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  const unsigned iters = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 1000u;
  std::printf("== pagmo2 PSO (variant 1, gbest), 50 particles, %u generations, %d seeds, one core\n", iters, runs);
  report("rastrigin", pagmo::rastrigin{30u}, runs, iters);
  report("rosenbrock", pagmo::rosenbrock{30u}, runs, iters);
  return 0;
}
