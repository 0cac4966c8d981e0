// Benchmark functions of SPEC.md section 7: known minima, orthogonal rotations,
// fixed shifts, batched evaluation, and the fast periodic kernels against libm.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "adaswarm/pgso/functions.h"
#include "adaswarm/util/random.h"

using adaswarm::pgso::Function;
using adaswarm::pgso::Transform;

// Test hooks defined in src/lib/pgso/functions.cpp (deliberately not in the
// public header): kernel `name` compiled for `isa` (0 baseline, 1 AVX2+FMA,
// 2 AVX-512; false when this CPU lacks it), and the path the dispatch picks.
namespace adaswarm::pgso::kernels::detail {
bool run_kernel_isa(const std::string& name, int isa, const double* X, int64_t P, int64_t D, double* out);
int kernel_isa();
}  // namespace adaswarm::pgso::kernels::detail

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

// The periodic kernels as they were written before the flat-loop rewrite, one
// value at a time: x - round(x) by the 1.5 * 2^52 trick, the degree-23 Taylor
// polynomial for sin(pi t) by Horner, the terms summed per row in blocks of 64
// with four accumulators. Fused: the Horner steps (and Ackley's last line) as one
// rounding each, as the AVX2+FMA build computed them; otherwise two roundings
// (volatile keeps the compiler from fusing them here).
double madd(bool fused, double a, double b, double c) {
  if (fused) return std::fma(a, b, c);
  volatile double ab = a * b;
  return ab + c;
}
double old_sin2pi_half(bool fused, double x) {
  const double lim = 4503599627370496.0, big = 6755399441055744.0;
  double xc = x < -lim ? -lim : x;
  xc = xc > lim ? lim : xc;
  const double t = xc - ((xc + big) - big);
  const double pi = 3.14159265358979323846;
  const double s = pi * t, u = s * s;
  const double c[] = {1.0 / 51090942171709440000.0, -1.0 / 121645100408832000.0, 1.0 / 355687428096000.0,
                      -1.0 / 1307674368000.0,       1.0 / 6227020800.0,           -1.0 / 39916800.0,
                      1.0 / 362880.0,               -1.0 / 5040.0,                1.0 / 120.0,
                      -1.0 / 6.0,                   1.0};
  double p = -1.0 / 25852016738884976640000.0;
  for (double ci : c) p = madd(fused, p, u, ci);
  const double sp = s * p;
  return sp * sp;
}
double old_block_sum(const std::vector<double>& terms) {
  const int64_t D = static_cast<int64_t>(terms.size());
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (int64_t d0 = 0; d0 < D; d0 += 64) {
    const int64_t n = std::min<int64_t>(64, D - d0);
    int64_t d = 0;
    for (; d + 4 <= n; d += 4) {
      a0 += terms[d0 + d];
      a1 += terms[d0 + d + 1];
      a2 += terms[d0 + d + 2];
      a3 += terms[d0 + d + 3];
    }
    for (; d < n; ++d) a0 += terms[d0 + d];
  }
  return (a0 + a1) + (a2 + a3);
}
double old_kernel(const std::string& name, bool fused, const double* x, int64_t D) {
  std::vector<double> t(static_cast<size_t>(D)), q(static_cast<size_t>(D));
  for (int64_t d = 0; d < D; ++d) {
    if (name == "rastrigin") {
      t[d] = x[d] * x[d] + 20.0 * old_sin2pi_half(fused, x[d]);
    } else if (name == "noncontinuous_rastrigin") {
      const double y = std::fabs(x[d]) < 0.5 ? x[d] : std::round(2.0 * x[d]) * 0.5;
      t[d] = y * y + 20.0 * old_sin2pi_half(fused, y);
    } else {
      t[d] = x[d] * x[d];
      q[d] = old_sin2pi_half(fused, x[d]);
    }
  }
  if (name != "ackley") return old_block_sum(t);
  const double invD = 1.0 / static_cast<double>(D), s = old_block_sum(t), c = old_block_sum(q);
  const double e = 2.71828182845904523536;
  return madd(fused, 20.0, 1.0 - std::exp(-0.2 * std::sqrt(s * invD)), e * (1.0 - std::exp(-2.0 * c * invD)));
}

// Points in the box, on and next to its edges, on the half-integers (where
// round() ties), and far outside: |x| up to 1e300 and infinity.
std::vector<double> test_points(adaswarm::Rng& rng, double lo, double hi, int64_t n, int mode) {
  std::vector<double> X(static_cast<size_t>(n));
  const double inf = std::numeric_limits<double>::infinity();
  for (auto& v : X) {
    double u = rng.uniform(lo, hi);
    switch (mode) {
      case 1: {
        const double e[] = {lo, hi, std::nextafter(lo, 0.0), std::nextafter(hi, 0.0), 0.0, -0.0, 0.5, -0.5, 0.25};
        u = e[rng.below(9)];
        break;
      }
      case 2: u = std::round(2.0 * u) * 0.5 + (static_cast<double>(rng.below(3)) - 1.0) * 1e-12; break;
      case 3: u *= 1e6; break;
      case 4: {
        const double e[] = {4503599627370496.0 + 0.5 * static_cast<double>(rng.below(4)),
                            2251799813685247.5, -2251799813685248.5, 9007199254740993.0, 1e300, -1e300, inf, -inf,
                            std::ldexp(rng.uniform(-1, 1), static_cast<int>(rng.below(1000)))};
        u = e[rng.below(9)];
        break;
      }
      default: break;
    }
    v = u;
  }
  return X;
}

}  // namespace

// The flat-loop kernels (all P*D terms in one vectorised loop, then each row
// summed in the old order) give exactly the old values, on every ISA path this
// CPU has: the fused reference for the FMA paths, the unfused one for the
// baseline; and the two references agree to 1e-11 relative in any case.
TEST(PgsoFunctions, FastKernelsEqualTheOldScalarFormulaBitForBit) {
  int checked_paths = 0;
  for (const std::string name : {"rastrigin", "noncontinuous_rastrigin", "ackley"}) {
    const Function f(name, 2);
    for (const int64_t D : {1, 2, 3, 4, 5, 7, 30, 63, 64, 65, 129, 2048, 2049, 4200}) {
      const int64_t P = D >= 2048 ? 2 : D >= 64 ? 40 : 137;  // rows cross the 2048-value chunks
      adaswarm::Rng rng(static_cast<uint64_t>(D), 5);
      for (int mode = 0; mode < 5; ++mode) {
        const auto X = test_points(rng, f.lower(), f.upper(), P * D, mode);
        std::vector<double> want_fused(P), want_plain(P);
        for (int64_t i = 0; i < P; ++i) {
          want_fused[i] = old_kernel(name, true, X.data() + i * D, D);
          want_plain[i] = old_kernel(name, false, X.data() + i * D, D);
          const double a = want_fused[i], b = want_plain[i];
          if (std::isinf(a) || std::isinf(b)) {
            EXPECT_EQ(a, b);
          } else {
            EXPECT_LE(std::fabs(a - b), 1e-11 * std::max(1.0, std::fabs(a))) << name << " D=" << D;
          }
        }
        for (int isa = 0; isa <= 2; ++isa) {
          std::vector<double> got(P, -1.0);
          if (!adaswarm::pgso::kernels::detail::run_kernel_isa(name, isa, X.data(), P, D, got.data())) continue;
          ++checked_paths;
          const auto& want = isa > 0 ? want_fused : want_plain;
          for (int64_t i = 0; i < P; ++i) {
            ASSERT_EQ(got[i], want[i]) << name << " isa " << isa << " D=" << D << " mode " << mode << " row " << i;
            ASSERT_EQ(std::signbit(got[i]), std::signbit(want[i]));
          }
        }
      }
    }
  }
  EXPECT_GE(checked_paths, 3 * 14 * 5);  // at least the baseline path everywhere
  EXPECT_FALSE(adaswarm::pgso::kernels::detail::run_kernel_isa("sphere", 0, nullptr, 0, 1, nullptr));
}

// Every ISA path of a kernel gives the same bits as the others of its kind
// (AVX2+FMA and AVX-512 both fuse exactly the Horner steps), and what the
// dispatch picks is one of them.
TEST(PgsoFunctions, IsaPathsGiveIdenticalBits) {
  using adaswarm::pgso::kernels::detail::kernel_isa;
  using adaswarm::pgso::kernels::detail::run_kernel_isa;
  ASSERT_GE(kernel_isa(), 0);
  ASSERT_LE(kernel_isa(), 2);
  for (const std::string name : {"rastrigin", "noncontinuous_rastrigin", "ackley"}) {
    const int64_t P = 50, D = 30;
    adaswarm::Rng rng(3);
    Function f(name, D);
    for (int mode = 0; mode < 5; ++mode) {
      const auto X = test_points(rng, f.lower(), f.upper(), P * D, mode);
      std::vector<double> dispatched(P);
      f.evaluate(X.data(), P, D, dispatched.data());
      std::vector<double> chosen(P);
      ASSERT_TRUE(run_kernel_isa(name, kernel_isa(), X.data(), P, D, chosen.data()));
      EXPECT_EQ(std::memcmp(chosen.data(), dispatched.data(), P * sizeof(double)), 0) << name;
      std::vector<double> avx2(P), avx512(P);
      if (run_kernel_isa(name, 1, X.data(), P, D, avx2.data()) && run_kernel_isa(name, 2, X.data(), P, D, avx512.data()))
        EXPECT_EQ(std::memcmp(avx2.data(), avx512.data(), P * sizeof(double)), 0) << name << " mode " << mode;
    }
  }
}

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

// Found by the 2026-12-03 API audit: a short point was read past its end, and
// rotated forms of huge dimensions reached the allocator.
TEST(Functions, PointsOfAnotherDimensionAndAbsurdDimensionsAreRefused) {
  const Function f("sphere", 3);
  EXPECT_THROW(f(std::vector<double>{1.0}), std::invalid_argument);
  EXPECT_DOUBLE_EQ(f(std::vector<double>{1.0, 2.0, 2.0}), 9.0);  // the control
  EXPECT_THROW(Function("sphere", Function::kMaxDim + 1), std::invalid_argument);
  EXPECT_THROW(Function("rotated_sphere", Function::kMaxRotatedDim + 1), std::invalid_argument);
}
