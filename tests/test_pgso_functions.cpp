// Benchmark functions of SPEC.md section 7: known minima, orthogonal rotations,
// fixed shifts, batched evaluation, and the fast periodic kernels against libm.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "adaswarm/pgso/functions.h"
#include "adaswarm/swarm/random.h"

using adaswarm::pgso::Function;
using adaswarm::pgso::Transform;

namespace {

std::vector<std::string> all_names() {
  std::vector<std::string> n;
  for (const auto& b : Function::base_names()) {
    n.push_back(b);
    n.push_back("rotated_" + b);
    n.push_back("shifted_rotated_" + b);
  }
  return n;
}

// Straightforward textbook definitions (libm), to check the fast kernels.
double reference(const std::string& base, const std::vector<double>& x) {
  const double pi = std::acos(-1.0);
  const size_t D = x.size();
  double s = 0, t = 0, p = 1;
  if (base == "sphere") { for (double v : x) s += v * v; return s; }
  if (base == "sum_squares") { for (size_t i = 0; i < D; ++i) s += (i + 1.0) * x[i] * x[i]; return s; }
  if (base == "schwefel_2_20") { for (double v : x) s += std::fabs(v); return s; }
  if (base == "schwefel_2_22") { for (double v : x) s += std::fabs(v), p *= std::fabs(v); return s + p; }
  if (base == "powell_sum") { for (size_t i = 0; i < D; ++i) s += std::pow(std::fabs(x[i]), i + 2.0); return s; }
  if (base == "exponential") { for (double v : x) s += v * v; return -std::exp(-0.5 * s); }
  if (base == "zakharov") {
    for (size_t i = 0; i < D; ++i) s += x[i] * x[i], t += 0.5 * (i + 1.0) * x[i];
    return s + t * t + std::pow(t, 4);
  }
  if (base == "griewank") {
    for (size_t i = 0; i < D; ++i) s += x[i] * x[i] / 4000.0, p *= std::cos(x[i] / std::sqrt(i + 1.0));
    return s - p + 1;
  }
  if (base == "rastrigin" || base == "noncontinuous_rastrigin") {
    for (double v : x) {
      const double y = (base == "rastrigin" || std::fabs(v) < 0.5) ? v : std::round(2 * v) / 2;
      s += y * y - 10 * std::cos(2 * pi * y) + 10;
    }
    return s;
  }
  if (base == "ackley") {
    for (double v : x) s += v * v, t += std::cos(2 * pi * v);
    return -20 * std::exp(-0.2 * std::sqrt(s / D)) - std::exp(t / D) + 20 + std::exp(1.0);
  }
  if (base == "rosenbrock") {
    for (size_t i = 0; i + 1 < D; ++i) s += 100 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(x[i] - 1, 2);
    return s;
  }
  ADD_FAILURE() << "no reference for " << base;
  return 0;
}

}  // namespace

TEST(PgsoFunctions, EachHasItsKnownMinimumAtItsMinimiser) {
  for (int64_t D : {2, 10, 30}) {
    for (const auto& name : all_names()) {
      Function f(name, D);
      const auto xs = f.minimiser();
      ASSERT_EQ(static_cast<int64_t>(xs.size()), D);
      const double fmin = f(xs);
      EXPECT_NEAR(fmin, f.minimum(), 1e-9) << name << " D=" << D;
      for (double v : xs) {
        EXPECT_GE(v, f.lower()) << name;
        EXPECT_LE(v, f.upper()) << name;
      }
      // Minimum means minimum: random points in the box, and small steps away
      // from the minimiser, are never lower.
      adaswarm::Rng rng(42, static_cast<uint64_t>(D));
      for (int k = 0; k < 50; ++k) {
        std::vector<double> x(static_cast<size_t>(D));
        for (auto& v : x) v = rng.uniform(f.lower(), f.upper());
        EXPECT_GE(f(x), f.minimum() - 1e-9) << name;
        std::vector<double> y = xs;
        for (auto& v : y) v += rng.uniform(-1e-2, 1e-2);
        EXPECT_GT(f(y), fmin) << name << " D=" << D;
      }
    }
  }
}

TEST(PgsoFunctions, UntransformedMatchTextbookDefinitions) {
  adaswarm::Rng rng(7);
  for (const auto& base : Function::base_names()) {
    for (int64_t D : {1, 5, 30, 50}) {
      Function f(base, D);
      for (int k = 0; k < 200; ++k) {
        std::vector<double> x(static_cast<size_t>(D));
        // Mostly in the box; some far outside (periodic range reduction).
        const double scale = k % 10 == 0 ? 1e6 : 1.0;
        for (auto& v : x) v = scale * rng.uniform(f.lower(), f.upper());
        const double want = reference(base, x), got = f(x);
        if (std::isinf(want)) {
          EXPECT_EQ(got, want) << base << " D=" << D;
          continue;
        }
        // Far out, libm's cos(2 pi x) loses ~|2 pi x| eps to the rounding of 2 pi x
        // (our reduction x - round(x) is exact), hence the looser bound there.
        const double tol = scale > 1 ? 1e-6 : 1e-11;
        EXPECT_NEAR(got, want, tol * std::max(1.0, std::fabs(want))) << base << " D=" << D;
      }
    }
  }
}

TEST(PgsoFunctions, KnownValuesAwayFromTheMinimum) {
  // Values a wrong formula would not give.
  std::vector<double> ones(10, 1.0);
  EXPECT_NEAR(Function("rastrigin", 10)(ones), 10.0, 1e-12);
  EXPECT_NEAR(Function("sum_squares", 10)(ones), 55.0, 1e-12);
  EXPECT_NEAR(Function("schwefel_2_22", 10)(ones), 11.0, 1e-12);
  EXPECT_NEAR(Function("rosenbrock", 2)(std::vector<double>{0.0, 0.0}), 1.0, 1e-12);
  std::vector<double> half(3, 0.5);
  // cos(pi) = -1: every term 0.25 + 20.
  EXPECT_NEAR(Function("rastrigin", 3)(half), 3 * 20.25, 1e-12);
  // non-continuous: 0.7 -> round(1.4)/2 = 0.5
  EXPECT_NEAR(Function("noncontinuous_rastrigin", 1)(std::vector<double>{0.7}), 20.25, 1e-12);
}

TEST(PgsoFunctions, RotationsAreOrthogonalAndFixed) {
  for (int64_t D : {2, 10, 50}) {
    Function f("rotated_rastrigin", D);
    const auto& R = f.rotation();
    ASSERT_EQ(static_cast<int64_t>(R.size()), D * D);
    for (int64_t i = 0; i < D; ++i)
      for (int64_t j = 0; j < D; ++j) {
        double s = 0;
        for (int64_t k = 0; k < D; ++k) s += R[i * D + k] * R[j * D + k];
        EXPECT_NEAR(s, i == j ? 1.0 : 0.0, 1e-12);
        double t = 0;
        for (int64_t k = 0; k < D; ++k) t += R[k * D + i] * R[k * D + j];
        EXPECT_NEAR(t, i == j ? 1.0 : 0.0, 1e-12);
      }
    // Not the identity, and the same for the same (seed, name, dim).
    double off = 0;
    for (int64_t i = 0; i < D; ++i) off += std::fabs(R[i * D + i] - 1.0);
    EXPECT_GT(off, 0.1);
    EXPECT_EQ(Function("rotated_rastrigin", D).rotation(), R);
    EXPECT_NE(Function("rotated_rastrigin", D, 99).rotation(), R);
  }
  EXPECT_TRUE(Function("rastrigin", 5).rotation().empty());
}

TEST(PgsoFunctions, RotatedIsBaseOfRotatedPointAndShiftIsFixed) {
  const int64_t D = 10;
  Function base("ackley", D), rot("rotated_ackley", D), sr("shifted_rotated_ackley", D);
  ASSERT_EQ(sr.transform(), Transform::ShiftedRotated);
  ASSERT_EQ(static_cast<int64_t>(sr.shift().size()), D);
  adaswarm::Rng rng(3);
  std::vector<double> x(D), z(D), y(D);
  for (auto& v : x) v = rng.uniform(-5, 5);
  const auto& R = rot.rotation();
  for (int64_t r = 0; r < D; ++r) {
    z[r] = 0;
    for (int64_t c = 0; c < D; ++c) z[r] += R[r * D + c] * x[c];
  }
  EXPECT_NEAR(rot(x), base(z), 1e-12);
  const auto& R2 = sr.rotation();
  const auto& o = sr.shift();
  for (int64_t r = 0; r < D; ++r) {
    y[r] = 0;
    for (int64_t c = 0; c < D; ++c) y[r] += R2[r * D + c] * (x[c] - o[c]);
  }
  EXPECT_NEAR(sr(x), base(y), 1e-12);
  // The shift does not change between calls (the reference code redraws it).
  EXPECT_EQ(sr(x), sr(x));
  EXPECT_EQ(Function("shifted_rotated_ackley", D).shift(), o);
  // Shifted-rotated boxes of the paper.
  EXPECT_EQ(Function("shifted_rotated_rastrigin", D).upper(), 5.12);
  EXPECT_EQ(sr.upper(), 10.0);
}

TEST(PgsoFunctions, BatchedEqualsOneByOne) {
  for (const auto& name : all_names()) {
    const int64_t D = 7, P = 13;
    Function f(name, D);
    adaswarm::Rng rng(11);
    std::vector<double> X(P * D), out(P);
    for (auto& v : X) v = rng.uniform(f.lower(), f.upper());
    f.evaluate(X.data(), P, D, out.data());
    for (int64_t i = 0; i < P; ++i) EXPECT_EQ(out[i], f(X.data() + i * D)) << name;
  }
}

TEST(PgsoFunctions, BadInputIsRejectedWithTheName) {
  EXPECT_THROW(Function("no_such", 10), std::invalid_argument);
  try {
    Function("rotated_nope", 3);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("rotated_nope"), std::string::npos);
  }
  EXPECT_THROW(Function("sphere", 0), std::invalid_argument);
  Function f("sphere", 3);
  std::vector<double> x(4), out(1);
  EXPECT_THROW(f.evaluate(x.data(), 1, 4, out.data()), std::invalid_argument);
}
