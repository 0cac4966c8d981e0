// The swarm engine: update equations against hand-computed values, momentum,
// rotations, convergence on known optima, determinism and option checks.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"  // RngLanes8's vector helpers, as in src/lib/swarm/swarm.cpp
#endif
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "adaswarm/swarm/swarm.h"

using adaswarm::Rng;
using namespace adaswarm::swarm;

namespace {
// Sphere, per particle.
void sphere(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i) {
    double s = 0;
    for (int64_t d = 0; d < D; ++d) s += X[i * D + d] * X[i * D + d];
    out[i] = s;
  }
}
void rastrigin(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i) {
    double s = 10.0 * D;
    for (int64_t d = 0; d < D; ++d) {
      const double x = X[i * D + d];
      s += x * x - 10.0 * std::cos(2 * M_PI * x);
    }
    out[i] = s;
  }
}
// A fitness that improves at every call, so p = g = x and attraction is zero.
Swarm<double>::Fitness improving_fitness() {
  auto counter = std::make_shared<double>(0.0);
  return [counter](const double*, int64_t P, int64_t, double* out) {
    for (int64_t i = 0; i < P; ++i) out[i] = --*counter;
  };
}
}  // namespace

// Three EMPSO steps by hand: M <- beta M + (1-beta) v ; v <- M + c1 r1 (p-x) + c2 r2 (g-x) ;
// x <- x + v ; strictly better fitness replaces p and g.
TEST(Swarm, EmpsoStepsMatchHandComputation) {
  const int64_t P = 3, D = 2;
  SwarmOptions o;
  o.particles(P).c1(0.8).c2(0.9).beta(0.9).seed(7).variant(Variant::EMPSO);
  Swarm<double> s(o, D);
  const std::vector<double> x0 = {1.0, 2.0, -1.0, 0.5, 0.3, -0.25};
  const std::vector<double> v0 = {0.1, -0.2, 0.3, -0.4, 0.5, 0.6};
  s.reset(x0.data(), v0.data());
  s.evaluate(sphere);
  std::vector<double> x = x0, v = v0, m(P * D, 0.0), p = x0, pf(P), g(D);
  auto f = [&](const double* y) { return y[0] * y[0] + y[1] * y[1]; };
  for (int64_t i = 0; i < P; ++i) pf[i] = f(&x[i * D]);
  auto update_g = [&] {
    int64_t bi = std::min_element(pf.begin(), pf.end()) - pf.begin();
    std::copy(p.begin() + bi * D, p.begin() + bi * D + D, g.begin());
  };
  update_g();
  ASSERT_EQ(s.global_best(), g);
  for (int step = 0; step < 3; ++step) {
    Rng r = s.rng();  // the draws the swarm is about to make
    double csum = 0;
    for (int64_t i = 0; i < P; ++i) {
      const double r1 = r.uniform(), r2 = r.uniform();
      csum += 0.8 * r1 + 0.9 * r2;
      for (int64_t d = 0; d < D; ++d) {
        const int64_t k = i * D + d;
        m[k] = 0.9 * m[k] + 0.1 * v[k];
        v[k] = m[k] + 0.8 * r1 * (p[k] - x[k]) + 0.9 * r2 * (g[d] - x[k]);
        x[k] += v[k];
      }
    }
    for (int64_t i = 0; i < P; ++i)
      if (f(&x[i * D]) < pf[i]) {
        pf[i] = f(&x[i * D]);
        std::copy(x.begin() + i * D, x.begin() + i * D + D, p.begin() + i * D);
      }
    update_g();
    s.step(sphere);
    for (int64_t k = 0; k < P * D; ++k) {
      EXPECT_NEAR(s.velocities()[k], v[k], 1e-12) << "step " << step << " k " << k;
      EXPECT_NEAR(s.positions()[k], x[k], 1e-12);
      EXPECT_NEAR(s.momentum()[k], m[k], 1e-12);
      EXPECT_NEAR(s.personal_best()[k], p[k], 1e-12);
    }
    for (int64_t d = 0; d < D; ++d) EXPECT_NEAR(s.global_best()[d], g[d], 1e-12);
    EXPECT_NEAR(s.cbar(), csum / P, 1e-12);
  }
}

TEST(Swarm, MomentumIsStoredUnlessReferenceQuirk) {
  const int64_t D = 4;
  const std::vector<double> x0 = {3, -2, 1, 4}, v0 = {1, 1, -1, 2};
  SwarmOptions o;
  o.particles(1).beta(0.5).seed(3);
  Swarm<double> stored(o, D), quirk(SwarmOptions(o).store_momentum(false), D);
  for (auto* s : {&stored, &quirk}) {
    s->reset(x0.data(), v0.data());
    s->evaluate(sphere);
  }
  // A single particle is its own best: attraction terms are zero, so only the
  // momentum rule moves it.
  stored.step(sphere);
  quirk.step(sphere);
  for (int64_t d = 0; d < D; ++d) {
    EXPECT_DOUBLE_EQ(stored.momentum()[d], 0.5 * v0[d]);
    EXPECT_DOUBLE_EQ(stored.velocities()[d], 0.5 * v0[d]);
    EXPECT_DOUBLE_EQ(quirk.velocities()[d], 0.5 * v0[d]);
    EXPECT_DOUBLE_EQ(quirk.momentum()[d], 0.0);
  }
  // Second step: stored momentum M = 0.5*M + 0.5*v = 0.5 v0 ; quirk: 0.5 * 0.5 v0.
  // (Attraction may now be non-zero; compare the momentum parts only.)
  const auto v1s = stored.velocities(), v1q = quirk.velocities();
  stored.step(sphere);
  for (int64_t d = 0; d < D; ++d) EXPECT_DOUBLE_EQ(stored.momentum()[d], 0.5 * (0.5 * v0[d]) + 0.5 * v1s[d]);
  EXPECT_NE(stored.velocities(), quirk.velocities());
}

TEST(Swarm, PsoAndMpsoRules) {
  const int64_t D = 2;
  const std::vector<double> x0 = {1, 1}, v0 = {0.5, -0.5};
  SwarmOptions o;
  o.particles(1).seed(1);
  Swarm<double> pso(SwarmOptions(o).variant(Variant::PSO).inertia(0.7), D);
  Swarm<double> mpso(SwarmOptions(o).variant(Variant::MPSO).lambda(0.25), D);
  // A fitness that improves at every call keeps p = g = x: attraction is zero.
  const auto improving = improving_fitness();
  for (auto* s : {&pso, &mpso}) {
    s->reset(x0.data(), v0.data());
    s->step(improving);
  }
  for (int64_t d = 0; d < D; ++d) {
    EXPECT_DOUBLE_EQ(pso.velocities()[d], 0.7 * v0[d]);
    EXPECT_DOUBLE_EQ(mpso.velocities()[d], 0.75 * v0[d] + 0.25 * 0.0);  // v_prev starts at 0
  }
  const auto v1 = mpso.velocities();
  mpso.step(improving);
  for (int64_t d = 0; d < D; ++d) EXPECT_DOUBLE_EQ(mpso.velocities()[d], 0.75 * v1[d] + 0.25 * v0[d]);
}

// random_low = -1 (the GSO paper's r ~ U(-1, 1)), r per coordinate, PSO rule:
// one step by hand, and over many draws negative r values do occur.
TEST(Swarm, SignedRandomFactorsFollowTheirRange) {
  const int64_t P = 2, D = 3;
  SwarmOptions o;
  o.particles(P).variant(Variant::PSO).inertia(0.6).c1(1.5).c2(2.0).seed(11).random_mode(RandomMode::PerCoordinate)
      .random_low(-1.0);
  Swarm<double> s(o, D);
  const std::vector<double> x0 = {1.0, -2.0, 0.5, 3.0, 0.25, -1.0};
  const std::vector<double> v0 = {0.2, 0.1, -0.3, 0.0, 0.4, 0.5};
  s.reset(x0.data(), v0.data());
  s.evaluate(sphere);
  const auto p = s.personal_best();
  const auto g = s.global_best();
  Rng r = s.rng();
  std::vector<double> v(P * D), x(P * D);
  for (int64_t i = 0; i < P; ++i) {
    std::vector<double> r1(D), r2(D);
    for (int64_t d = 0; d < D; ++d) {
      r1[d] = -1.0 + 2.0 * r.uniform();
      r2[d] = -1.0 + 2.0 * r.uniform();
    }
    for (int64_t d = 0; d < D; ++d) {
      const int64_t k = i * D + d;
      v[k] = 0.6 * v0[k] + 1.5 * r1[d] * (p[k] - x0[k]) + 2.0 * r2[d] * (g[d] - x0[k]);
      x[k] = x0[k] + v[k];
    }
  }
  s.step(sphere);
  for (int64_t k = 0; k < P * D; ++k) {
    EXPECT_NEAR(s.velocities()[k], v[k], 1e-12) << k;
    EXPECT_NEAR(s.positions()[k], x[k], 1e-12) << k;
  }
  // The default range is U(0, 1): the same seed gives a different step.
  Swarm<double> unsigned_swarm(SwarmOptions(o).random_low(0.0), D);
  unsigned_swarm.reset(x0.data(), v0.data());
  unsigned_swarm.step(sphere);
  EXPECT_NE(unsigned_swarm.velocities(), s.velocities());
  // cbar averages c1 r1 + c2 r2 as drawn: with U(-1, 1) its mean over many steps is near 0.
  double cb = 0;
  for (int it = 0; it < 400; ++it) {
    s.step(sphere);
    cb += s.cbar();
  }
  EXPECT_LT(std::abs(cb / 400), 0.15);
  EXPECT_THROW(Swarm<double>(SwarmOptions(o).random_low(-1.5), D), std::invalid_argument);
  EXPECT_THROW(Swarm<double>(SwarmOptions(o).random_low(1.0), D), std::invalid_argument);
}

// Boundary handling: a coordinate pushed past a bound lands on it; with
// zero_velocity_at_bounds its velocity is reset to 0, otherwise it is kept.
TEST(Swarm, ZeroVelocityAtBoundsResetsOnlyTheClampedCoordinates) {
  const int64_t D = 3;
  const std::vector<double> x0 = {0.9, 0.0, -0.9}, v0 = {0.5, 0.25, -0.5};
  SwarmOptions o;
  o.particles(1).variant(Variant::PSO).inertia(1.0).lower({-1}).upper({1}).seed(2);
  Swarm<double> keep(o, D), zero(SwarmOptions(o).zero_velocity_at_bounds(true), D);
  const auto improving = improving_fitness();  // only inertia moves the particle
  for (auto* s : {&keep, &zero}) {
    s->reset(x0.data(), v0.data());
    s->step(improving);
    EXPECT_EQ(s->positions(), (std::vector<double>{1.0, 0.25, -1.0}));
  }
  EXPECT_EQ(keep.velocities(), v0);
  EXPECT_EQ(zero.velocities(), (std::vector<double>{0.0, 0.25, 0.0}));
}

TEST(Swarm, GivensRotationIsOrthogonal) {
  const int64_t D = 7;
  const std::vector<std::pair<int64_t, int64_t>> pairs = {{0, 3}, {5, 1}, {2, 6}};
  const auto A = givens_matrix(D, pairs, 0.6283185307179586);
  for (int64_t i = 0; i < D; ++i)
    for (int64_t j = 0; j < D; ++j) {
      double s = 0;
      for (int64_t k = 0; k < D; ++k) s += A[k * D + i] * A[k * D + j];
      EXPECT_NEAR(s, i == j ? 1.0 : 0.0, 1e-12);
    }
  EXPECT_NEAR(A[0 * D + 0], std::cos(0.6283185307179586), 1e-12);  // really rotates
  EXPECT_THROW(givens_matrix(3, {{0, 0}}, 0.1), std::invalid_argument);
}

// REMPSO's attraction is A^T Phi A (target - x): check against explicit matrices.
TEST(Swarm, RempsoAttractionUsesRotatedScaling) {
  const int64_t D = 4;
  SwarmOptions o;
  o.particles(2).variant(Variant::REMPSO).random_mode(RandomMode::PerCoordinate).seed(11).beta(0.9);
  Swarm<double> s(o, D);
  const std::vector<double> x0 = {1, 2, 3, 4, 0.1, 0.2, 0.3, 0.4};
  s.reset(x0.data());
  s.evaluate(sphere);  // particle 1 is best
  Rng r = s.rng();
  std::vector<int64_t> perm(D);
  std::iota(perm.begin(), perm.end(), 0);
  for (int64_t i = D - 1; i > 0; --i) std::swap(perm[i], perm[r.below(i + 1)]);
  s.step(sphere);
  ASSERT_EQ(s.rotation_pairs().size(), 2u);
  EXPECT_EQ(s.rotation_pairs()[0], std::make_pair(perm[0], perm[1]));
  const auto A = givens_matrix(D, s.rotation_pairs(), o.rotation_angle());
  // Particle 0: p = x (own best), so only the g term acts; v0 = 0, so v = A^T Phi2 A (g - x).
  std::vector<double> r1(D), r2(D);
  for (int64_t d = 0; d < D; ++d) r1[d] = r.uniform(), r2[d] = r.uniform();
  std::vector<double> diff(D), u(D, 0.0), w(D, 0.0);
  for (int64_t d = 0; d < D; ++d) diff[d] = x0[4 + d] - x0[d];
  for (int64_t i = 0; i < D; ++i)
    for (int64_t k = 0; k < D; ++k) u[i] += A[i * D + k] * diff[k];
  for (int64_t i = 0; i < D; ++i) u[i] *= o.c2() * r2[i];
  for (int64_t i = 0; i < D; ++i)
    for (int64_t k = 0; k < D; ++k) w[i] += A[k * D + i] * u[k];
  for (int64_t d = 0; d < D; ++d) EXPECT_NEAR(s.velocities()[d], w[d], 1e-12);
}

TEST(Swarm, ReferenceRotationScalesTwoFifthsOfTheRows) {
  const int64_t rows = 5, C = 2, D = rows * C;
  SwarmOptions o;
  o.particles(2).rows(rows).reference_rotation(true).store_momentum(false).seed(5);
  Swarm<double> s(o, D), plain(SwarmOptions(o).reference_rotation(false), D);
  std::vector<double> x0(2 * D);
  for (int64_t k = 0; k < D; ++k) x0[k] = 1.0 + k, x0[D + k] = 0.1;
  for (auto* sw : {&s, &plain}) {
    sw->reset(x0.data());
    sw->step(sphere);
  }
  // Same r draws for particle 0 come first in both, so rows differ only by the scale.
  const double c2 = std::pow(std::cos(M_PI / 5), 2);
  int scaled = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const double ratio = s.velocities()[r * C] / plain.velocities()[r * C];
    if (std::fabs(ratio - c2) < 1e-12) ++scaled;
    else EXPECT_NEAR(ratio, 1.0, 1e-12);
  }
  EXPECT_EQ(scaled, 4);  // 2 * floor(0.4 * 5)
}

TEST(Swarm, PerRowFitnessKeepsABestPerRow) {
  // Two rows of one coordinate each; particle 0 is best in row 0, particle 1 in row 1.
  SwarmOptions o;
  o.particles(2).rows(2).fitness_per_row(true);
  Swarm<double> s(o, 2);
  const std::vector<double> x0 = {0.1, 5.0, 3.0, -0.2};
  s.reset(x0.data());
  s.evaluate([](const double* X, int64_t P, int64_t D, double* out) {
    for (int64_t i = 0; i < P; ++i)
      for (int64_t r = 0; r < 2; ++r) out[i * 2 + r] = X[i * D + r] * X[i * D + r];
  });
  EXPECT_EQ(s.global_best(), (std::vector<double>{0.1, -0.2}));
  EXPECT_NEAR(s.best_fitness(), 0.01 + 0.04, 1e-12);
}

TEST(Swarm, ConvergesOnSphereAndRastrigin) {
  for (int64_t D : {2, 10}) {
    SwarmOptions o;
    o.particles(40).variant(Variant::PSO).inertia(0.7298).c1(1.49618).c2(1.49618)
        .random_mode(RandomMode::PerCoordinate).lower({-5.12}).upper({5.12}).seed(42);
    Swarm<double> s(o, D);
    s.reset_uniform(0.1);
    s.run(sphere, 600);
    EXPECT_LT(s.best_fitness(), 1e-10) << "sphere D=" << D;
    Swarm<double> r(o, D);
    r.reset_uniform(0.1);
    r.run(rastrigin, 1500);
    // 2-D: the global minimum 0; 10-D: within a few local basins of it.
    EXPECT_LT(r.best_fitness(), D == 2 ? 1e-8 : 15.0) << "rastrigin D=" << D;
  }
}

TEST(Swarm, SameSeedSameResultDifferentSeedDifferent) {
  auto run = [](uint64_t seed) {
    SwarmOptions o;
    o.particles(20).lower({-3}).upper({3}).seed(seed);
    Swarm<double> s(o, 5);
    s.reset_uniform();
    s.run(rastrigin, 50);
    return s.positions();
  };
  EXPECT_EQ(run(9), run(9));
  EXPECT_NE(run(9), run(10));
}

TEST(Swarm, ApproximateGradientFormula) {
  SwarmOptions o;
  o.particles(10).lower({-1}).upper({1}).seed(2);
  Swarm<double> s(o, 3);
  s.reset_uniform();
  std::vector<double> out(3);
  const std::vector<double> x = {0.5, -0.5, 0.25};
  s.approximate_gradient(x.data(), 0.1, out.data());
  EXPECT_EQ(out, std::vector<double>(3, 0.0));  // no step yet: cbar = 0
  s.run(sphere, 3);
  s.approximate_gradient(x.data(), 0.1, out.data());
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(out[d], s.cbar() / 0.1 * (x[d] - s.global_best()[d]), 1e-15);
  EXPECT_THROW(s.approximate_gradient(x.data(), 0.0, out.data()), std::invalid_argument);
}

TEST(Swarm, StopsAtToleranceAndStall) {
  SwarmOptions o;
  o.particles(20).lower({-5}).upper({5}).seed(1).tolerance(1e-3);
  Swarm<double> s(o, 2);
  s.reset_uniform();
  auto info = s.run(sphere, 10000);
  EXPECT_TRUE(info.reached_tolerance);
  EXPECT_LT(info.iterations, 10000);
  EXPECT_LE(info.best_fitness, 1e-3);
  Swarm<double> t(SwarmOptions(o).tolerance(-1).stall_iterations(5).stall_delta(1e300), 2);
  t.reset_uniform();
  auto i2 = t.run(sphere, 1000);
  EXPECT_TRUE(i2.stalled);
  EXPECT_EQ(i2.iterations, 5);
}

TEST(Swarm, RejectsImpossibleOptions) {
  auto make = [](SwarmOptions o, int64_t D) { Swarm<double> s(o, D); };
  EXPECT_THROW(make(SwarmOptions().particles(0), 3), std::invalid_argument);
  EXPECT_THROW(make(SwarmOptions().iterations(-1), 3), std::invalid_argument);
  EXPECT_THROW(make(SwarmOptions().beta(1.0), 3), std::invalid_argument);
  EXPECT_THROW(make(SwarmOptions().c1(-1), 3), std::invalid_argument);
  EXPECT_THROW(make(SwarmOptions().lower({1}).upper({1}), 3), std::invalid_argument);
  EXPECT_THROW(make(SwarmOptions().lower({0, 0}).upper({1, 1}), 3), std::invalid_argument);
  EXPECT_THROW(make(SwarmOptions().lower({0}), 3), std::invalid_argument);
  EXPECT_THROW(make(SwarmOptions().rows(2), 3), std::invalid_argument);
  EXPECT_THROW(make(SwarmOptions(), 0), std::invalid_argument);
  try {
    make(SwarmOptions().particles(0), 3);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("particles"), std::string::npos) << e.what();
  }
  Swarm<double> s(SwarmOptions().particles(2), 1);
  EXPECT_THROW(s.step(sphere), std::logic_error);  // no reset yet
  EXPECT_THROW(s.reset_uniform(), std::invalid_argument);  // unbounded
}

TEST(Swarm, NanFitnessIsAnError) {
  Swarm<double> s(SwarmOptions().particles(3), 2);
  const std::vector<double> x(6, 0.0);
  s.reset(x.data());
  EXPECT_THROW(s.evaluate([](const double*, int64_t P, int64_t, double* out) {
    for (int64_t i = 0; i < P; ++i) out[i] = i == 1 ? std::nan("") : 1.0;
  }),
               std::domain_error);
}

// Single-element groups check the fitness inside the one-pass bests: a -inf
// or NaN after the first evaluation is still an error naming its particle and
// row, and it never becomes a personal or swarm best.
TEST(Swarm, BadFitnessInTheOnePassBestsIsAnErrorAndNeverABest) {
  for (const float bad : {-std::numeric_limits<float>::infinity(), std::nanf("")}) {
    SwarmOptions o;
    o.particles(3).variant(Variant::EMPSO).rows(4).fitness_per_row(true).seed(2);
    Swarm<float> s(o, 4);
    const std::vector<float> x(12, 1.f);
    s.reset(x.data());
    int calls = 0;
    const Swarm<float>::Fitness f = [&](const float* X, int64_t P, int64_t D, float* out) {
      for (int64_t k = 0; k < P * D; ++k) out[k] = X[k] * X[k];
      if (calls++ == 1) out[1 * D + 2] = bad;  // the first step: particle 1, row 2
    };
    s.evaluate(f);
    try {
      s.step(f);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const std::domain_error& e) {
      EXPECT_NE(std::string(e.what()).find("particle 1 row 2"), std::string::npos) << e.what();
    }
    for (float v : s.global_best_fitness()) EXPECT_TRUE(std::isfinite(v)) << v;
    for (float v : s.personal_best_fitness()) EXPECT_TRUE(std::isfinite(v)) << v;
  }
}

// Asynchronous updates (pagmo2's order): particle 1 already follows the best that
// particle 0 found in the same iteration; synchronous updates do not.
TEST(Swarm, AsynchronousUpdatesFollowTheNewBestWithinAnIteration) {
  for (const bool async : {false, true}) {
    SwarmOptions o;
    o.particles(2).variant(Variant::PSO).inertia(0.5).c1(1.0).c2(1.0).random_mode(RandomMode::PerCoordinate)
        .seed(7).asynchronous(async);
    Swarm<double> s(o, 1);
    int calls = 0;
    const Swarm<double>::Fitness f = [&](const double* X, int64_t P, int64_t, double* out) {
      ++calls;
      for (int64_t i = 0; i < P; ++i) out[i] = (X[i] - 1.0) * (X[i] - 1.0);
    };
    const double x0[] = {0.0, 4.0}, v0[] = {1.0, 0.0};
    s.reset(x0, v0);
    s.evaluate(f);  // f = {1, 9}: g = 0
    Rng r = s.rng();  // the draws the step will make: r1, r2 of particle 0, then of particle 1
    const double r1a = r.uniform(0.0, 1.0), r2a = r.uniform(0.0, 1.0);
    const double r1b = r.uniform(0.0, 1.0), r2b = r.uniform(0.0, 1.0);
    s.step(f);
    // Particle 0: v = 0.5 * 1 + r1 (0 - 0) + r2 (0 - 0) = 0.5, x = 0.5, f = 0.25 < 1: the new best.
    const double x0_new = 0.0 + (0.5 * 1.0 + (1.0 * r1a) * (0.0 - 0.0) + (1.0 * r2a) * (0.0 - 0.0));
    EXPECT_DOUBLE_EQ(s.positions()[0], x0_new);
    // Particle 1 follows g = 0.5 (asynchronous) or g = 0 (synchronous).
    const double g_seen = async ? x0_new : 0.0;
    const double x1_new = 4.0 + (0.5 * 0.0 + (1.0 * r1b) * (4.0 - 4.0) + (1.0 * r2b) * (g_seen - 4.0));
    EXPECT_DOUBLE_EQ(s.positions()[1], x1_new) << "asynchronous " << async;
    EXPECT_EQ(s.evaluations(), 4);
    EXPECT_EQ(calls, async ? 3 : 2);  // one call per particle when asynchronous
    EXPECT_DOUBLE_EQ(s.global_best()[0], std::abs(x1_new - 1.0) < 0.5 ? x1_new : x0_new);
    EXPECT_DOUBLE_EQ(s.global_best_fitness()[0], std::min((x0_new - 1) * (x0_new - 1), (x1_new - 1) * (x1_new - 1)));
  }
}

TEST(Swarm, AsynchronousRunsAreReproducibleAndRejectBadFitness) {
  auto run = [](uint64_t seed) {
    SwarmOptions o;
    o.particles(8).variant(Variant::PSO).inertia(0.7).c1(1.5).c2(1.5).random_mode(RandomMode::PerCoordinate)
        .lower({-3.0}).upper({3.0}).zero_velocity_at_bounds(true).asynchronous(true).seed(seed);
    Swarm<double> s(o, 3);
    s.reset_uniform(0.5);
    s.run([](const double* X, int64_t P, int64_t D, double* out) {
      for (int64_t i = 0; i < P; ++i) {
        double v = 0;
        for (int64_t d = 0; d < D; ++d) v += X[i * D + d] * X[i * D + d];
        out[i] = v;
      }
    }, 60);
    return s;
  };
  const auto a = run(3), b = run(3);
  EXPECT_EQ(a.positions(), b.positions());
  EXPECT_EQ(a.global_best(), b.global_best());
  EXPECT_LT(a.best_fitness(), 1e-3);  // it converges on the sphere
  EXPECT_EQ(a.evaluations(), 8 + 60 * 8);
  SwarmOptions o;
  o.particles(2).asynchronous(true).seed(1);
  Swarm<double> s(o, 1);
  const double x[] = {0.0, 1.0};
  s.reset(x);
  int n = 0;
  EXPECT_THROW(s.step([&](const double*, int64_t P, int64_t, double* out) {
    for (int64_t i = 0; i < P; ++i) out[i] = n++ < 2 ? 1.0 : std::nan("");
  }), std::domain_error);
}

// The PSO move (fused into one pass per particle in Swarm::step) against the
// textbook update written out here, for every combination of the options it
// covers: random factors per coordinate or per particle, U(0, 1) or U(-1, 1),
// velocity clamp, velocity clamped to the box, position bounds (one value or
// one per coordinate), zero velocity at bounds; double and float. Positions,
// velocities and cbar must be equal to the bit: same expressions, same order.
// lanes: SwarmOptions::random_lanes(8), whose draws come from RngLanes8's
// scalar reference here (the library's vectorised fill must give the same bits).
template <typename T>
void check_pso_move_against_textbook(bool lanes = false) {
  const int64_t P = 7, D = 13;
  int combos = 0;
  for (const bool per_coord : lanes ? std::vector<bool>{true} : std::vector<bool>{false, true})
    for (const double rlow : {0.0, -1.0})
      for (const double vclamp : {0.0, 0.75})
        for (const bool vbounds : {false, true})
          for (const int bounds : {0, 1, 2})
            for (const bool zero : {false, true}) {
              SwarmOptions o;
              o.particles(P).variant(Variant::PSO).inertia(0.7298).c1(1.49618).c2(1.3).seed(31 + combos);
              o.random_mode(per_coord ? RandomMode::PerCoordinate : RandomMode::PerParticle).random_low(rlow);
              o.velocity_clamp(vclamp).clamp_velocity_to_bounds(vbounds).zero_velocity_at_bounds(zero);
              o.random_lanes(lanes ? 8 : 0);
              std::vector<double> lo(D, -1.5), hi(D, 2.0);
              if (bounds == 1) o.lower({-1.5}).upper({2.0});
              if (bounds == 2) {
                for (int64_t d = 0; d < D; ++d) lo[d] = -1.0 - 0.1 * d, hi[d] = 0.5 + 0.2 * d;
                o.lower(lo).upper(hi);
              }
              ++combos;
              Swarm<T> s(o, D);
              std::vector<T> x0(P * D), v0(P * D);
              Rng init(100 + combos);
              for (auto& v : x0) v = static_cast<T>(init.uniform(-2.5, 2.5));
              for (auto& v : v0) v = static_cast<T>(init.uniform(-1.0, 1.0));
              s.reset(x0.data(), v0.data());
              const typename Swarm<T>::Fitness fit = [](const T* X, int64_t n, int64_t d, T* out) {
                for (int64_t i = 0; i < n; ++i) {
                  T acc = 0;
                  for (int64_t j = 0; j < d; ++j) acc += (X[i * d + j] - T(0.25)) * (X[i * d + j] - T(0.25));
                  out[i] = acc;
                }
              };
              for (int step = 0; step < 4; ++step) {
                if (!s.evaluated()) s.evaluate(fit);
                std::vector<T> x = s.positions(), v = s.velocities();
                const std::vector<T> p = s.personal_best(), g = s.global_best();
                const T c1 = T(1.49618), c2 = T(1.3), w = T(0.7298), vc = static_cast<T>(vclamp);
                Rng r = s.rng();  // the draws the step is about to make
                double csum = 0;
                std::unique_ptr<adaswarm::RngLanes8> gen;
                if (lanes) gen = std::make_unique<adaswarm::RngLanes8>(r);
                for (int64_t i = 0; i < P; ++i) {
                  std::vector<T> k1(D), k2(D);
                  if (lanes) {
                    // The particle's D r1, then its D r2; cbar's sum in eight partial
                    // sums (element j into j % 8), added pairwise.
                    std::vector<double> u(2 * D);
                    gen->fill_reference(u.data(), 2 * D, rlow, 1.0);
                    double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                    for (int64_t d = 0; d < D; ++d) {
                      const T r1 = static_cast<T>(u[d]), r2 = static_cast<T>(u[D + d]);
                      k1[d] = c1 * r1, k2[d] = c2 * r2;
                      part[d % 8] += static_cast<double>(c1 * r1 + c2 * r2);
                    }
                    const double sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
                    csum += sum / static_cast<double>(D);
                  } else if (per_coord) {
                    double sum = 0;
                    for (int64_t d = 0; d < D; ++d) {
                      const T r1 = static_cast<T>(r.uniform(rlow, 1.0)), r2 = static_cast<T>(r.uniform(rlow, 1.0));
                      k1[d] = c1 * r1, k2[d] = c2 * r2;
                      sum += static_cast<double>(c1 * r1 + c2 * r2);
                    }
                    csum += sum / static_cast<double>(D);
                  } else {
                    const T r1 = static_cast<T>(r.uniform(rlow, 1.0)), r2 = static_cast<T>(r.uniform(rlow, 1.0));
                    std::fill(k1.begin(), k1.end(), c1 * r1);
                    std::fill(k2.begin(), k2.end(), c2 * r2);
                    csum += static_cast<double>(c1 * r1 + c2 * r2);
                  }
                  for (int64_t d = 0; d < D; ++d) {
                    const int64_t k = i * D + d;
                    const T a1 = k1[d] * (p[k] - x[k]), a2 = k2[d] * (g[d] - x[k]);
                    T nv = w * v[k] + a1 + a2;
                    if (vclamp > 0) nv = std::min(std::max(nv, -vc), vc);
                    if (vbounds && bounds) nv = std::min(std::max(nv, T(lo[d])), T(hi[d]));
                    T nx = x[k] + nv;
                    if (bounds) {
                      const T c = std::min(std::max(nx, T(lo[d])), T(hi[d]));
                      if (zero && c != nx) nv = 0;
                      nx = c;
                    }
                    x[k] = nx, v[k] = nv;
                  }
                }
                s.step(fit);
                const std::string what = "combo " + std::to_string(combos) + " step " + std::to_string(step);
                ASSERT_EQ(s.positions(), x) << what;
                ASSERT_EQ(s.velocities(), v) << what;
                ASSERT_EQ(s.cbar(), csum / static_cast<double>(P)) << what;
                ASSERT_EQ(s.rng().state(), r.state()) << what;
              }
            }
  EXPECT_EQ(combos, lanes ? 48 : 96);
}

TEST(Swarm, PsoMoveEqualsTheTextbookUpdateBitForBit) {
  check_pso_move_against_textbook<double>();
  check_pso_move_against_textbook<float>();
}

// random_lanes 8: the same, with the draws of RngLanes8's scalar reference.
TEST(Swarm, PsoWithRandomLanesEqualsTheTextbookUpdateOnTheReferenceStream) {
  check_pso_move_against_textbook<double>(true);
  check_pso_move_against_textbook<float>(true);
}

// The vectorised fill gives the bits of the one-value-at-a-time reference, for
// any length (partial last blocks included), and the same lane states after;
// seeding takes exactly 32 outputs of the parent.
TEST(Swarm, RngLanes8FillEqualsItsScalarReference) {
  for (const int64_t n : {0, 1, 7, 8, 9, 60, 64, 1000, 2999})
    for (const double lo : {0.0, -1.0, 2.5}) {
      Rng pa(77, static_cast<uint64_t>(n)), pb(77, static_cast<uint64_t>(n)), pc(77, static_cast<uint64_t>(n));
      adaswarm::RngLanes8 a(pa), b(pb);
      for (int k = 0; k < 32; ++k) pc();
      EXPECT_EQ(pa.state(), pc.state());
      for (int round = 0; round < 3; ++round) {
        std::vector<double> x(n + 1, -7.0), y(n + 1, -7.0);
        a.fill(x.data(), n, lo, lo + 1.5);
        b.fill_reference(y.data(), n, lo, lo + 1.5);
        ASSERT_EQ(x, y) << "n " << n << " lo " << lo << " round " << round;
        EXPECT_EQ(x[n], -7.0);  // nothing written past n
        for (int64_t k = 0; k < n; ++k) {
          ASSERT_GE(x[k], lo);
          ASSERT_LT(x[k], lo + 1.5);
        }
      }
    }
  // The lanes are not copies of each other or of the parent stream.
  Rng p(1);
  adaswarm::RngLanes8 g(p);
  std::vector<double> v(64);
  g.fill(v.data(), 64, 0.0, 1.0);
  for (int j = 1; j < 8; ++j) EXPECT_NE(v[j], v[0]);
  EXPECT_NE(v[0], Rng(1).uniform());
}

TEST(Swarm, RandomLanesOptionIsValidated) {
  auto pso = SwarmOptions().variant(Variant::PSO).random_mode(RandomMode::PerCoordinate);
  EXPECT_NO_THROW(Swarm<double>(SwarmOptions(pso).random_lanes(8), 4));
  for (const int64_t bad : {-1, 1, 4, 16}) {
    try {
      Swarm<double>(SwarmOptions(pso).random_lanes(bad), 4);
      ADD_FAILURE() << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("random_lanes"), std::string::npos);
    }
  }
  EXPECT_THROW(Swarm<double>(SwarmOptions(pso).random_lanes(8).variant(Variant::EMPSO), 4), std::invalid_argument);
  EXPECT_THROW(Swarm<double>(SwarmOptions(pso).random_lanes(8).random_mode(RandomMode::PerParticle), 4),
               std::invalid_argument);
}

// random_lanes 8 keeps no random state of its own: a swarm rebuilt from the
// visible state (positions, velocities, bests, generator state) continues
// with the same bits; and a different stream from the default one.
TEST(Swarm, RandomLanesResumeFromTheGeneratorStateAndDifferFromTheDefaultStream) {
  const int64_t P = 9, D = 11;
  auto opts = SwarmOptions().particles(P).variant(Variant::PSO).random_mode(RandomMode::PerCoordinate)
                  .lower({-3}).upper({3}).velocity_clamp(3).seed(5).random_lanes(8);
  const auto improving = improving_fitness();  // p = x after every evaluation, g = the last particle
  Swarm<double> a(opts, D);
  a.reset_uniform(0.2);
  for (int k = 0; k < 5; ++k) a.step(improving);
  Swarm<double> b(opts, D);
  b.reset(a.positions().data(), a.velocities().data());
  b.evaluate(improving);
  ASSERT_EQ(b.personal_best(), a.personal_best());
  ASSERT_EQ(b.global_best(), a.global_best());
  b.rng().set_state(a.rng().state());
  for (int k = 0; k < 3; ++k) {
    a.step(improving);
    b.step(improving);
    EXPECT_EQ(a.positions(), b.positions());
    EXPECT_EQ(a.velocities(), b.velocities());
    EXPECT_EQ(a.cbar(), b.cbar());
    EXPECT_EQ(a.rng().state(), b.rng().state());
  }
  Swarm<double> c(SwarmOptions(opts).random_lanes(0), D);
  c.reset_uniform(0.2);
  Swarm<double> d(opts, D);
  d.reset_uniform(0.2);
  ASSERT_EQ(c.positions(), d.positions());  // the start uses the one stream either way
  c.step(improving);
  d.step(improving);
  EXPECT_NE(c.positions(), d.positions());
}

// A PSO run is a function of its seed alone: the same swarms run one after the
// other, or spread over 2, 3 or 4 threads at once, end with the same bits
// (positions, velocities, bests, generator state).
TEST(Swarm, PsoResultsIdenticalForASeedAcrossThreadCounts) {
  for (const int64_t lanes : {0, 8}) {
    const int64_t P = 20, D = 30, K = 6;
    auto run_one = [&](uint64_t seed) {
      SwarmOptions o;
      o.particles(P).variant(Variant::PSO).inertia(0.7298).c1(1.49618).c2(1.49618).random_lanes(lanes);
      o.random_mode(RandomMode::PerCoordinate).lower({-5.12}).upper({5.12}).velocity_clamp(5.12).seed(seed);
      Swarm<double> s(o, D);
      s.reset_uniform(0.0);
      s.run(rastrigin, 60);
      std::vector<double> bits = s.positions();
      for (const auto* v : {&s.velocities(), &s.personal_best(), &s.global_best(), &s.global_best_fitness()})
        bits.insert(bits.end(), v->begin(), v->end());
      for (uint64_t w : s.rng().state()) bits.push_back(static_cast<double>(w >> 11));
      return bits;
    };
    std::vector<std::vector<double>> serial(K);
    for (int64_t k = 0; k < K; ++k) serial[k] = run_one(static_cast<uint64_t>(k + 1));
    for (const int threads : {2, 3, 4}) {
      std::vector<std::vector<double>> par(K);
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          for (int64_t k = t; k < K; k += threads) par[k] = run_one(static_cast<uint64_t>(k + 1));
        });
      for (auto& th : pool) th.join();
      for (int64_t k = 0; k < K; ++k)
        EXPECT_EQ(par[k], serial[k]) << "seed " << k + 1 << ", " << threads << " threads, random_lanes " << lanes;
    }
    EXPECT_NE(serial[0], serial[1]);
  }
}
