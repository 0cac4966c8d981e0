// pagmo2's PSO on Rastrigin-30 and Rosenbrock-30 (docs/pgso.md): evaluations per
// second on one core and best fitness at the budget of bench_pgso section 2.
// Variant 1 (inertia weight, r per coordinate), gbest topology (neighb_type 1),
// w 0.7298, eta1 = eta2 = 1.49618, max_vel 0.5 (fraction of the box), 50 particles.
// Built only when pagmo2 is installed (bench/CMakeLists.txt). Usage: pagmo_pso_bench [runs] [iterations]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <pagmo/algorithm.hpp>
#include <pagmo/algorithms/pso.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/problems/rastrigin.hpp>
#include <pagmo/problems/rosenbrock.hpp>

static double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

template <class Prob>
void run(const char* name, Prob prob, int runs, unsigned iters) {
  std::vector<double> best, rate, crate;
  for (int r = 0; r < runs; ++r) {
    pagmo::problem p{prob};
    pagmo::population pop{p, 50u, static_cast<unsigned>(r + 1)};
    pagmo::algorithm algo{pagmo::pso(iters, 0.7298, 1.49618, 1.49618, 0.5, 1u, 1u, 4u, false, static_cast<unsigned>(r + 1))};
    const auto f0 = pop.get_problem().get_fevals();
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_now();
    pop = algo.evolve(pop);
    crate.push_back(static_cast<double>(pop.get_problem().get_fevals() - f0) / (cpu_now() - c0));
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto fe = pop.get_problem().get_fevals() - f0;
    best.push_back(pop.champion_f()[0]);
    rate.push_back(static_cast<double>(fe) / t);
  }
  double m = 0, sd = 0;
  for (double b : best) m += b;
  m /= best.size();
  for (double b : best) sd += (b - m) * (b - m);
  sd = best.size() > 1 ? std::sqrt(sd / (best.size() - 1)) : 0;
  std::sort(rate.begin(), rate.end());
  std::sort(crate.begin(), crate.end());
  std::sort(best.begin(), best.end());
  std::printf("  %-11s best mean %10.4g sd %9.3g median %10.4g | %6.2f M evals/s wall, %6.2f M/s CPU (medians)\n",
              name, m, sd, best[best.size() / 2], rate[rate.size() / 2] / 1e6, crate[crate.size() / 2] / 1e6);
}

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  const unsigned iters = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 1000u;
  std::printf("== pagmo2 PSO (variant 1, gbest), 50 particles, %u generations, %d seeds, one core\n", iters, runs);
  run("rastrigin", pagmo::rastrigin{30u}, runs, iters);
  run("rosenbrock", pagmo::rosenbrock{30u}, runs, iters);
  return 0;
}
