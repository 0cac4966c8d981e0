// PGSO area benchmarks (docs/pgso.md):
//   1. fitness kernel throughput (Rastrigin-30, Rosenbrock-30, 50 particles);
//   2. whole-PSO throughput on one core (evaluations per second, 50 particles), and
//      best fitness at an equal evaluation budget, with the settings of the
//      pagmo2 / PySwarms comparison programs (w 0.7298, c1 = c2 = 1.49618, gbest,
//      velocity clamp half the box, Rastrigin [-5.12, 5.12], Rosenbrock [-5, 10]);
//   3. PGSO stage-1 speed-up at fixed work, 1 vs 2 threads;
//   4. the Rastrigin-30 kernel's and the PSO loop's evaluations per second
//      beside the plain `omp simd` probe bound (bench/pgso_simd_probe.h),
//      measured in this run (CPU time of the calling thread, one core);
//   5. pagmo2's PSO (in this process, when built with pagmo2) and PySwarms
//      (bench/pyswarms_bench.py through /usr/bin/python3) at the settings of 2.
// Usage: bench_pgso [runs=10] [iterations=1000]
#include <fmt/format.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "adaswarm/pgso/functions.h"
#include "adaswarm/pgso/gso.h"
#include "adaswarm/util/random.h"
#include "adaswarm/swarm/swarm.h"
#include "pgso_simd_probe.h"
#ifdef ADASWARM_BENCH_PAGMO
#include "pagmo_pso.h"
#endif

namespace pg = adaswarm::pgso;
using Clock = std::chrono::steady_clock;

namespace {
double secs(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
// CPU time of the calling thread: on a shared machine, wall time counts other
// people's processes; one-core rates are reported against this clock too.
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Stats {
  double mean = 0, sd = 0, median = 0;
};
Stats stats(std::vector<double> v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / static_cast<double>(v.size() - 1)) : 0;
  std::sort(v.begin(), v.end());
  s.median = v[v.size() / 2];
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  const int64_t iters = argc > 2 ? std::atoll(argv[2]) : 1000;
  const int64_t P = 50, D = 30;

  fmt::print("== 1. fitness kernels, {} particles x {} dims (one core)\n", P, D);
  for (const char* name : {"rastrigin", "rosenbrock", "ackley", "rotated_rastrigin"}) {
    pg::Function f(name, D);
    std::vector<double> X(P * D), out(P);
    adaswarm::Rng rng(1);
    for (auto& x : X) x = rng.uniform(-5.12, 5.12);
    int64_t n = 0;
    const auto t0 = Clock::now();
    const double c0 = cpu_now();
    double sink = 0;
    while (secs(t0) < 1.0) {
      for (int k = 0; k < 1000; ++k) {
        f.evaluate(X.data(), P, D, out.data());
        sink += out[0];
      }
      n += 1000 * P;
    }
    fmt::print("  {:<20} {:8.2f} M evaluations/s wall, {:8.2f} M/s CPU time  (checksum {:.3g})\n", name,
               n / secs(t0) / 1e6, n / (cpu_now() - c0) / 1e6, sink);
  }

  struct Case {
    const char* name;
    double lo, hi;
  };
  const Case cases[] = {{"rastrigin", -5.12, 5.12}, {"rosenbrock", -5.0, 10.0}};
  double pso_rastrigin_cpu_rate = 0;  // "ours", Rastrigin: for section 4
  std::map<std::string, std::pair<double, double>> ours;  // "ours": best mean, CPU rate (section 5)
  fmt::print("\n== 2. PSO on one core: {} particles, {} iterations ({} evaluations), {} seeds\n", P, iters,
             P * (iters + 1), runs);
  fmt::print("   settings as the pagmo2 / PySwarms programs: w 0.7298, c1 = c2 = 1.49618, gbest, |v| <= (hi-lo)/2\n");
  // Three policies: ours (velocities start at 0; a clamped coordinate keeps its
  // velocity), pagmo-like (velocities start U(-vmax, vmax); a coordinate clamped
  // to a bound gets velocity 0) and pagmo2's rules (pagmo-like, and the swarm best
  // updated after every single evaluation: SwarmOptions::asynchronous).
  for (const int policy : {0, 1, 2})
  for (const auto& c : cases) {
    const bool pagmo_like = policy > 0;
    pg::Function f(c.name, D);
    const pg::Objective obj = [&f](const double* X, int64_t n, int64_t d, double* out) { f.evaluate(X, n, d, out); };
    std::vector<double> best, rate, crate;
    for (int r = 0; r < runs; ++r) {
      auto so = pg::pso_swarm_options(P, 0.7298, 1.49618, 1.49618, {c.lo}, {c.hi}, static_cast<uint64_t>(r + 1))
                    .velocity_clamp(0.5 * (c.hi - c.lo))
                    .zero_velocity_at_bounds(pagmo_like)
                    .asynchronous(policy == 2);
      adaswarm::swarm::Swarm<double> s(so, D);
      s.reset_uniform(pagmo_like ? 0.5 : 0.0);
      const auto t0 = Clock::now();
      const double c0 = cpu_now();
      s.run(obj, iters);
      const double t = secs(t0), c = cpu_now() - c0;
      best.push_back(s.best_fitness());
      rate.push_back(static_cast<double>(s.evaluations()) / t);
      crate.push_back(static_cast<double>(s.evaluations()) / c);
    }
    const auto b = stats(best), e = stats(rate), ce = stats(crate);
    if (policy == 0 && std::string(c.name) == "rastrigin") pso_rastrigin_cpu_rate = ce.median;
    if (policy == 0) ours[c.name] = {b.mean, ce.median};
    fmt::print("  {:<11} {:<11} best mean {:10.4g} sd {:9.3g} median {:10.4g} | {:6.2f} M evals/s wall, {:6.2f} M/s "
               "CPU (medians)\n",
               c.name, policy == 0 ? "ours" : policy == 1 ? "pagmo-like" : "pagmo-async", b.mean, b.sd, b.median, e.median / 1e6, ce.median / 1e6);
  }
  // The paper's PSO setting on its box (Rastrigin +-100) for reference.
  {
    pg::Function f("rastrigin", D);
    const pg::Objective obj = [&f](const double* X, int64_t n, int64_t d, double* out) { f.evaluate(X, n, d, out); };
    std::vector<double> rate;
    for (int r = 0; r < runs; ++r) {
      const auto res = pg::pso(obj, D, pg::PsoOptions().particles(P).iterations(iters).lower({-100}).upper({100})
                                           .seed(static_cast<uint64_t>(r + 1)).log_every(0));
      rate.push_back(static_cast<double>(res.evaluations) / res.seconds);
    }
    fmt::print("  rastrigin, paper PSO (w 0.5, c1 1, c2 2, +-100, no velocity clamp): {:6.2f} M evals/s\n",
               stats(rate).median / 1e6);
  }

  fmt::print("\n== 3. PGSO stage 1 at fixed work (rastrigin-30, 8 subswarms x 20 particles, {} iterations)\n", iters);
  {
    pg::Function f("rastrigin", D);
    const pg::Objective obj = [&f](const double* X, int64_t n, int64_t d, double* out) { f.evaluate(X, n, d, out); };
    double t1 = 0;
    for (int t : {1, 2}) {
      double best_t = 1e300, fit = 0;
      for (int r = 0; r < 5; ++r) {
        const auto res = pg::pgso(obj, D, pg::PgsoOptions().subswarms(8).particles(20).iterations(iters)
                                              .stage2_iterations(0).lower({-100}).upper({100}).seed(1).threads(t).limit_torch_threads(false)
                                              .log_every(0));
        best_t = std::min(best_t, res.seconds);
        fit = res.best_fitness;
      }
      if (t == 1) t1 = best_t;
      fmt::print("  {} thread(s): {:.3f} s (best of 5), speed-up {:.2f}, best fitness {:.6g}\n", t, best_t,
                 t1 / best_t, fit);
    }
  }

  fmt::print("\n== 4. Rastrigin-30 speed, {} particles x {} dims, one core, CPU time (evaluations/s)\n", P, D);
  {
    pg::Function f("rastrigin", D);
    std::vector<double> X(P * D), out(P), ref(P);
    adaswarm::Rng rng(1);
    for (auto& x : X) x = rng.uniform(-5.12, 5.12);
    // CPU-time rate of fn over about `seconds`, best of three tries (the machine may be shared).
    auto rate = [&](const auto& fn, double seconds) {
      double best = 0, sink = 0;
      for (int rep = 0; rep < 3; ++rep) {
        int64_t n = 0;
        const double c0 = cpu_now();
        while (cpu_now() - c0 < seconds / 3) {
          for (int k = 0; k < 200; ++k) {
            fn(X.data(), P, D, out.data());
            sink += out[0];
          }
          n += 200 * P;
        }
        best = std::max(best, static_cast<double>(n) / (cpu_now() - c0));
      }
      if (sink == 0.123) fmt::print(" ");  // keeps the calls
      return best;
    };
    const double kernel = rate([](const double* x, int64_t p, int64_t d, double* o) { pg::kernels::rastrigin(x, p, d, o); }, 1.5);
    const double function = rate([&f](const double* x, int64_t p, int64_t d, double* o) { f.evaluate(x, p, d, o); }, 1.5);
    const double probe = rate(adaswarm::bench::probe_rastrigin, 1.5);
    f.evaluate(X.data(), P, D, ref.data());
    adaswarm::bench::probe_rastrigin(X.data(), P, D, out.data());
    double dev = 0;
    for (int64_t i = 0; i < P; ++i) dev = std::max(dev, std::fabs(out[i] - ref[i]) / std::fabs(ref[i]));
    fmt::print("  probe bound (plain omp simd loop, degree-17 sin, {}): {:8.2f} M/s  (max rel. deviation from the kernel {:.1e})\n",
               adaswarm::bench::probe_isa(), probe / 1e6, dev);
    fmt::print("  kernel (kernels::rastrigin, degree 23, bit-identical to before): {:8.2f} M/s  ({:.2f} x the probe; goal >= 20)\n",
               kernel / 1e6, kernel / probe);
    fmt::print("  Function::evaluate (the kernel through the Function object):    {:8.2f} M/s\n", function / 1e6);
    fmt::print("  PSO loop (section 2, ours, Rastrigin, median of {} seeds):        {:8.2f} M/s  ({:.2f} x the probe; goal >= 8)\n",
               runs, pso_rastrigin_cpu_rate / 1e6, pso_rastrigin_cpu_rate / probe);
    // The same PSO with the opt-in bulk random stream (SwarmOptions::random_lanes 8).
    const pg::Objective obj = [&f](const double* x, int64_t n, int64_t d, double* o) { f.evaluate(x, n, d, o); };
    std::vector<double> lane_rate, lane_best;
    for (int r = 0; r < runs; ++r) {
      auto so = pg::pso_swarm_options(P, 0.7298, 1.49618, 1.49618, {-5.12}, {5.12}, static_cast<uint64_t>(r + 1))
                    .velocity_clamp(5.12)
                    .random_lanes(8);
      adaswarm::swarm::Swarm<double> s(so, D);
      s.reset_uniform(0.0);
      const double c0 = cpu_now();
      s.run(obj, iters);
      lane_rate.push_back(static_cast<double>(s.evaluations()) / (cpu_now() - c0));
      lane_best.push_back(s.best_fitness());
    }
    fmt::print("  PSO loop as above with random_lanes(8) (8 xoshiro lanes, opt-in):  {:8.2f} M/s  (best mean {:.4g}: another "
               "random stream)\n",
               stats(lane_rate).median / 1e6, stats(lane_best).mean);
  }
  fmt::print("\n== 5. The same PSO elsewhere, same settings and budget, {} seeds, one core, CPU time\n", runs);
  auto versus = [&](const char* who, const char* fn, double best_mean, double cpu_rate) {
    const auto& o = ours[fn];
    fmt::print("  {:<11} {:<8} best mean {:10.4g} (ours {:10.4g}) | {:6.3f} M/s CPU; ours {:.1f} x faster\n", fn, who,
               best_mean, o.first, cpu_rate / 1e6, o.second / cpu_rate);
  };
  fmt::print("  (\"ours\" is section 2's default policy; with pagmo2's rules, pagmo-async, the means over 1000 seeds\n"
             "   are level with pagmo2's: docs/pgso.md)\n");
#ifdef ADASWARM_BENCH_PAGMO
  {
    const auto ra = adaswarm::bench::run_pagmo_pso(pagmo::rastrigin{30u}, runs, static_cast<unsigned>(iters));
    versus("pagmo2", "rastrigin", ra.best_mean, ra.evals_per_s_cpu);
    const auto ro = adaswarm::bench::run_pagmo_pso(pagmo::rosenbrock{30u}, runs, static_cast<unsigned>(iters));
    versus("pagmo2", "rosenbrock", ro.best_mean, ro.evals_per_s_cpu);
  }
#else
  fmt::print("  pagmo2: not built (install libpagmo-dev and reconfigure)\n");
#endif
  {
    // PySwarms through Debian's interpreter (bench/pyswarms_bench.py), its lines parsed.
    const std::string cmd = fmt::format("/usr/bin/python3 {}/../bench/pyswarms_bench.py {} {} 2>&1", ADASWARM_DATA_DIR,
                                        runs, iters);
    std::string text;
    if (FILE* pipe = ::popen(cmd.c_str(), "r")) {
      char buf[512];
      while (std::fgets(buf, sizeof buf, pipe)) text += buf;
      ::pclose(pipe);
    }
    int found = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      char fn[32] = {0};
      double mean = 0, sd = 0, median = 0, wall = 0, cpu = 0;
      if (std::sscanf(line.c_str(), " %31s best mean %lf sd %lf median %lf | %lf M evals/s wall, %lf M/s CPU", fn,
                      &mean, &sd, &median, &wall, &cpu) == 6 &&
          ours.count(fn)) {
        versus("PySwarms", fn, mean, cpu * 1e6);
        ++found;
      }
    }
    if (found == 0)
      fmt::print("  PySwarms: not run (needs /usr/bin/python3 with python3-pyswarms): {}\n",
                 text.substr(0, text.find('\n')));
  }
  return 0;
}
