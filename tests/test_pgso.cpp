// PSO / GSO / PGSO (SPEC.md section 6): convergence on sphere and Rastrigin 10-D,
// thread-count independence, the single galactic exchange, stage 2 on the real
// objective, option validation.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <vector>

#include "adaswarm/pgso/functions.h"
#include "adaswarm/pgso/gso.h"
#include "expect_error.h"

using namespace adaswarm::pgso;
using adaswarm::testing::expect_error;

namespace {

Objective objective(const Function& f) {
  return [&f](const double* X, int64_t P, int64_t D, double* out) { f.evaluate(X, P, D, out); };
}

PsoOptions pso_opts(const Function& f, uint64_t seed) {
  return PsoOptions().lower({f.lower()}).upper({f.upper()}).seed(seed);
}
GsoOptions gso_opts(const Function& f, uint64_t seed) {
  return GsoOptions::authors(f.dim()).lower({f.lower()}).upper({f.upper()}).seed(seed);
}
PgsoOptions pgso_opts(const Function& f, uint64_t seed) {
  return PgsoOptions().lower({f.lower()}).upper({f.upper()}).seed(seed);
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

}  // namespace

// Stated tolerances (paper protocol, 10-D, mean of 3 seeds): see docs/pgso.md.
TEST(Pgso, AllThreeReachTolerancesOnSphere10) {
  Function f("sphere", 10);
  std::vector<double> p, g, g01, q;
  for (uint64_t s = 1; s <= 3; ++s) {
    p.push_back(pso(objective(f), 10, pso_opts(f, s)).best_fitness);
    g.push_back(gso(objective(f), 10, gso_opts(f, s)).best_fitness);
    g01.push_back(gso(objective(f), 10, gso_opts(f, s).random_low(0.0)).best_fitness);
    q.push_back(pgso(objective(f), 10, pgso_opts(f, s).threads(2)).best_fitness);
  }
  // The start box is +-100: a random point has f ~ 3e4.
  // Measured (seeds 1-3): PSO ~1e-104, GSO (r ~ U(-1,1), the GSO paper) 1e-3..6e-2,
  // GSO with r ~ U(0,1) ~1e-10, PGSO ~1e-81.
  EXPECT_LT(mean(p), 1e-50);
  EXPECT_LT(mean(g), 0.5);
  EXPECT_LT(mean(g01), 1e-6);
  EXPECT_LT(mean(q), 1e-50);
}

TEST(Pgso, AllThreeReachTolerancesOnRastrigin10) {
  Function f("rastrigin", 10);
  std::vector<double> p, g, g01, q;
  for (uint64_t s = 1; s <= 3; ++s) {
    p.push_back(pso(objective(f), 10, pso_opts(f, s)).best_fitness);
    g.push_back(gso(objective(f), 10, gso_opts(f, s)).best_fitness);
    g01.push_back(gso(objective(f), 10, gso_opts(f, s).random_low(0.0)).best_fitness);
    q.push_back(pgso(objective(f), 10, pgso_opts(f, s).threads(2)).best_fitness);
  }
  // Measured (seeds 1-3): PSO 14.9, GSO (U(-1,1)) 21.2, GSO (U(0,1)) 4.3, PGSO 9.9;
  // a random point in +-100 scores ~3e4, so these bounds fail for any broken search.
  EXPECT_LT(mean(p), 30.0);
  EXPECT_LT(mean(g), 40.0);
  EXPECT_LT(mean(g01), 12.0);
  EXPECT_LT(mean(q), 20.0);
}

TEST(Pgso, SameSeedSameResultForOneAndTwoThreads) {
  Function f("rotated_rastrigin", 10);
  auto o = pgso_opts(f, 17).iterations(200);
  const Result a = pgso(objective(f), 10, PgsoOptions(o).threads(1));
  const Result b = pgso(objective(f), 10, PgsoOptions(o).threads(2));
  const Result c = pgso(objective(f), 10, PgsoOptions(o).threads(3));
  EXPECT_EQ(a.best_fitness, b.best_fitness);
  EXPECT_EQ(a.best_position, b.best_position);
  EXPECT_EQ(a.best_position, c.best_position);
  ASSERT_EQ(a.log.size(), b.log.size());
  for (size_t i = 0; i < a.log.size(); ++i) EXPECT_EQ(a.log[i].best, b.log[i].best);
  EXPECT_EQ(a.subswarm_best_final, b.subswarm_best_final);
  // ...and a different seed gives a different run.
  EXPECT_NE(pgso(objective(f), 10, PgsoOptions(o).seed(18)).best_position, a.best_position);
}

TEST(Pgso, ExchangeHappensOnceAndPropagatesTheBest) {
  Function f("rastrigin", 10);
  std::atomic<int64_t> calls{0};
  auto obj = [&](const double* X, int64_t P, int64_t D, double* out) {
    ++calls;
    f.evaluate(X, P, D, out);
  };
  const int64_t M = 5, T = 40;
  const Result r = pgso(obj, 10, pgso_opts(f, 3).subswarms(M).iterations(T).stage2_iterations(0).threads(2));
  EXPECT_EQ(r.exchanges, 1);
  EXPECT_EQ(r.exchange_iteration, T / 2);
  ASSERT_EQ(static_cast<int64_t>(r.subswarm_best_before_exchange.size()), M);
  // The shared best is the best of the subswarm bests...
  double best = r.subswarm_best_before_exchange[0];
  int64_t src = 0;
  for (int64_t k = 1; k < M; ++k)
    if (r.subswarm_best_before_exchange[k] < best) best = r.subswarm_best_before_exchange[k], src = k;
  EXPECT_EQ(r.exchange_source, src);
  EXPECT_EQ(r.exchange_best, best);
  // ...and afterwards every subswarm holds it (the subswarms differed before).
  bool differed = false;
  for (int64_t k = 0; k < M; ++k) {
    EXPECT_EQ(r.subswarm_best_after_exchange[k], best) << k;
    differed |= r.subswarm_best_before_exchange[k] != best;
  }
  EXPECT_TRUE(differed);
  // Evaluations: M subswarms x 20 particles x (T + 1).
  EXPECT_EQ(r.evaluations, M * 20 * (T + 1));
  EXPECT_EQ(calls.load(), M * (T + 1));
  // Without the exchange the subswarms keep their own bests.
  const Result n = pgso(obj, 10, pgso_opts(f, 3).subswarms(M).iterations(T).stage2_iterations(0).exchange(false));
  EXPECT_EQ(n.exchanges, 0);
  EXPECT_EQ(n.subswarm_best_after_exchange, n.subswarm_best_before_exchange);
  EXPECT_EQ(n.subswarm_best_before_exchange, r.subswarm_best_before_exchange);  // same until the exchange
}

TEST(Pgso, Stage2OptimisesTheRealObjective) {
  // The reference code's stage 2 optimises a fixed 1-D Rastrigin instead of the
  // objective: its "best" would not be the objective's value at the returned
  // point, stage-2 calls would not have dimension D, and stage 2 would not improve
  // the objective. Each of these fails on that bug.
  Function f("shifted_rotated_rastrigin", 10);
  std::mutex mu;
  std::vector<int64_t> dims_seen;
  int64_t stage2_calls = 0;
  bool in_stage2 = false;
  auto obj = [&](const double* X, int64_t P, int64_t D, double* out) {
    {
      std::lock_guard<std::mutex> lock(mu);
      dims_seen.push_back(D);
      if (in_stage2) ++stage2_calls;
    }
    f.evaluate(X, P, D, out);
  };
  auto o = pgso_opts(f, 5).iterations(60).stage2_iterations(300).threads(2);
  const Result r = pgso(
      [&](int64_t, const double* X, int64_t P, int64_t D, double* out) { obj(X, P, D, out); },
      [&](const double* X, int64_t P, int64_t D, double* out) {
        in_stage2 = true;
        EXPECT_EQ(P, 7);  // M particles
        obj(X, P, D, out);
      },
      10, o);
  for (int64_t d : dims_seen) EXPECT_EQ(d, 10);
  EXPECT_EQ(stage2_calls, 301);
  EXPECT_EQ(r.stage2_evaluations, 7 * 301);
  EXPECT_DOUBLE_EQ(r.best_fitness, f(r.best_position));
  EXPECT_LE(r.best_fitness, r.stage1_best);
  EXPECT_LT(r.best_fitness, r.stage1_best);  // stage 2 improves a short stage 1
  // The plain overload passes the same objective to both stages.
  const Result q = pgso(objective(f), 10, o);
  EXPECT_EQ(q.best_fitness, r.best_fitness);
}

TEST(Pgso, LogIsMonotoneAndCountsEvaluations) {
  Function f("ackley", 10);
  const Result r = pso(objective(f), 10, pso_opts(f, 2).iterations(100));
  ASSERT_EQ(r.log.size(), 101u);
  for (size_t i = 1; i < r.log.size(); ++i) {
    EXPECT_LE(r.log[i].best, r.log[i - 1].best);
    EXPECT_EQ(r.log[i].evaluations, 50 * static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(r.log.back().best, r.best_fitness);
  const Result g = gso(objective(f), 10, gso_opts(f, 2).epochs(2).level1_iterations(20).level2_iterations(30));
  EXPECT_EQ(g.evaluations, 2 * (10 * 5 * 20 + 10 * 31) + 10 * 5);
  for (size_t i = 1; i < g.log.size(); ++i) EXPECT_LE(g.log[i].best, g.log[i - 1].best);
  EXPECT_EQ(g.log.back().best, g.best_fitness);
  EXPECT_DOUBLE_EQ(g.best_fitness, f(g.best_position));
  const Result q = pgso(objective(f), 10, pgso_opts(f, 2).iterations(50).log_every(10));
  for (size_t i = 1; i < q.log.size(); ++i) EXPECT_LE(q.log[i].best, q.log[i - 1].best);
  EXPECT_EQ(q.log.back().iteration, 100);
  EXPECT_EQ(q.log.back().evaluations, q.evaluations);
}

// GSO draws its random factors from U(-1, 1) as its paper says; U(0, 1) is an
// option. The two differ for the same seed, and both still search.
TEST(Pgso, GsoUsesSignedRandomFactorsByDefault) {
  Function f("rastrigin", 10);
  EXPECT_EQ(GsoOptions().random_low(), -1.0);
  const auto opts = gso_opts(f, 5).epochs(1).level1_iterations(50).level2_iterations(100);
  const Result a = gso(objective(f), 10, opts);
  const Result b = gso(objective(f), 10, GsoOptions(opts).random_low(0.0));
  EXPECT_NE(a.best_position, b.best_position);
  const Result a2 = gso(objective(f), 10, opts);
  EXPECT_EQ(a.best_position, a2.best_position);
  EXPECT_LT(a.best_fitness, 3e3);  // a random point in +-100 scores ~3e4
  EXPECT_LT(b.best_fitness, 3e3);
}

TEST(Pgso, OptionsAreValidatedWithClearErrors) {
  Function f("sphere", 4);
  auto expect_msg = [](auto fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no exception for " << needle;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto obj = objective(f);
  expect_msg([&] { pgso(obj, 4, pgso_opts(f, 0).subswarms(0)); }, "subswarms");
  expect_msg([&] { pgso(obj, 4, pgso_opts(f, 0).particles(0)); }, "particles");
  expect_msg([&] { pso(obj, 4, pso_opts(f, 0).particles(0)); }, "particles");
  expect_msg([&] { gso(obj, 4, gso_opts(f, 0).subswarms(0)); }, "subswarms");
  expect_msg([&] { gso(obj, 4, gso_opts(f, 0).random_low(-2)); }, "random_low");
  expect_msg([&] { pgso(obj, 4, pgso_opts(f, 0).lower({5}).upper({-5})); }, "lower bound must be < upper");
  expect_msg([&] { pgso(obj, 4, pgso_opts(f, 0).lower({1, 2, 3})); }, "lower bounds must have 1 or 4");
  expect_msg([&] { pgso(obj, 0, pgso_opts(f, 0)); }, "dimension");
  expect_msg([&] { pso(obj, 4, PsoOptions()); }, "bounds are required");
  expect_msg([&] { pgso(obj, 4, pgso_opts(f, 0).exchange_iteration(5000)); }, "exchange_iteration");
  // Per-coordinate bounds work.
  const Result r = pso(obj, 4, pso_opts(f, 0).lower({-1, -2, -3, -4}).upper({1, 2, 3, 4}).iterations(5));
  EXPECT_LE(std::fabs(r.best_position[0]), 1.0);
}

// Found by the 2026-12-03 API audit.
TEST(PgsoValidation, InfiniteBoxWidthsUnknownRandomLowAbsurdThreadsAndEmptyObjectivesAreRefused) {
  const Objective sphere = [](const double* X, int64_t P, int64_t D, double* out) {
    for (int64_t i = 0; i < P; ++i) {
      out[i] = 0;
      for (int64_t d = 0; d < D; ++d) out[i] += X[i * D + d] * X[i * D + d];
    }
  };
  expect_error([&] { pso(sphere, 2, PsoOptions().lower({-1e308}).upper({1e308}).iterations(5)); },
          "width upper - lower must be finite");
  expect_error([&] { validate(GsoOptions().lower({-1}).upper({1}).random_low(std::nan("")), 2); }, "random_low");
  expect_error([&] { validate(GsoOptions().lower({-1}).upper({1}).random_low(5), 2); }, "random_low");
  expect_error([&] { validate(PgsoOptions().lower({-1}).upper({1}).threads(1 << 30), 2); }, "threads must be in [0, 4 x");
  expect_error([&] { pso(Objective(), 2, PsoOptions().lower({-1}).upper({1})); }, "objective is empty");
  expect_error([&] { parallel_for_subswarms(3, -3, [](int64_t) {}); }, "threads must be >= 0");
  // The control: a finite box runs.
  EXPECT_LT(pso(sphere, 2, PsoOptions().lower({-1}).upper({1}).iterations(20)).best_fitness, 0.5);
}
