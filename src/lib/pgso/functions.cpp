// Benchmark functions of SPEC.md section 7 (see include/adaswarm/pgso/functions.h).
//
// The periodic terms of Rastrigin and Ackley use cos(2 pi x) = 1 - 2 sin^2(pi t)
// with t = x - round(x) in [-1/2, 1/2] and an odd Taylor polynomial for sin(pi t)
// (error < 1e-17 on that range): exact range reduction, no libm call, and a loop
// the compiler vectorises. The elementwise terms of a whole block of particles
// are computed in one flat loop (full vector width across particles, not one
// short row at a time), then each row is summed in a fixed order (row_sum), so
// every value is the same to the bit on every path. The hot kernels are
// compiled for AVX-512, AVX2+FMA and the baseline ISA, picked at run time
// (__builtin_cpu_supports); the build uses ISO C++ (CMAKE_CXX_EXTENSIONS OFF),
// hence -ffp-contract=off: no multiply-add is fused on any path, and the paths
// give identical bits (tests/test_pgso_functions.cpp compares them).
#include "adaswarm/pgso/functions.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

#include "adaswarm/util/random.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define ADASWARM_X86_DISPATCH 1
#define ADASWARM_INLINE inline __attribute__((always_inline))
#define ADASWARM_LAMBDA_INLINE __attribute__((always_inline))
#else
#define ADASWARM_LAMBDA_INLINE
#define ADASWARM_INLINE inline
#endif

namespace adaswarm::pgso {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kE = 2.71828182845904523536;

// x - round(x) for |x| < 2^51 (round half to even); 0 beyond, where every
// double is (almost) an integer. Exact: no rounding error is introduced.
ADASWARM_INLINE double frac_round(double x) {
  // |x| >= 2^52 is an integer: clamping there keeps t = 0 and makes the code a
  // straight line (min/max, no branch) that the compiler vectorises.
  constexpr double lim = 4503599627370496.0;  // 2^52
  constexpr double big = 6755399441055744.0;  // 1.5 * 2^52
  double xc = x < -lim ? -lim : x;
  xc = xc > lim ? lim : xc;
  const double r = (xc + big) - big;
  return xc - r;
}

// Sum of buf[0..D) in a fixed order: blocks of 64, each added with four
// accumulators (element d of a block into accumulator d % 4, a tail beyond the
// last multiple of 4 into the first), then (a0 + a1) + (a2 + a3). Deterministic,
// and the order every kernel below has always used.
struct OrderedSum {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  // Adds buf[0..n) (n a multiple of 64, or the row's last piece) in that order.
  ADASWARM_INLINE void add(const double* buf, int64_t n) {
    for (int64_t d0 = 0; d0 < n; d0 += 64) {
      const int64_t m = std::min<int64_t>(64, n - d0);
      const double* b = buf + d0;
      int64_t d = 0;
      for (; d + 4 <= m; d += 4) {
        a0 += b[d];
        a1 += b[d + 1];
        a2 += b[d + 2];
        a3 += b[d + 3];
      }
      for (; d < m; ++d) a0 += b[d];
    }
  }
  double total() const { return (a0 + a1) + (a2 + a3); }
};

ADASWARM_INLINE double row_sum(const double* buf, int64_t D) {
  OrderedSum s;
  s.add(buf, D);
  return s.total();
}

// The elementwise terms of rows at a time: `rows_per_chunk(D)` rows of D values
// fit the kChunk-double buffers; a row longer than that is done in pieces of
// whole 64-blocks (row_sum's blocks), continuing the same accumulators.
constexpr int64_t kChunk = 2048;

// term(x[k]) for k in [0, n): one flat loop, vectorised across particles.
template <class Term>
ADASWARM_INLINE void terms(const double* __restrict x, int64_t n, double* __restrict buf, Term term) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) buf[k] = term(x[k]);
}

// out[i] = finish(row_sum of term over row i) for every row, with the terms of
// many rows computed in one flat loop. For D > kChunk, per row in pieces.
template <class Term, class Finish>
ADASWARM_INLINE void rows_sum(const double* X, int64_t P, int64_t D, double* out, Term term, Finish finish) {
  alignas(64) double buf[kChunk];
  if (D <= kChunk) {
    const int64_t rows = kChunk / D;
    for (int64_t i0 = 0; i0 < P; i0 += rows) {
      const int64_t nr = std::min(rows, P - i0);
      terms(X + i0 * D, nr * D, buf, term);
      for (int64_t r = 0; r < nr; ++r) out[i0 + r] = finish(i0 + r, row_sum(buf + r * D, D));
    }
    return;
  }
  // Long rows: kChunk is a multiple of 64, so each piece holds whole row_sum
  // blocks; the four accumulators carry on across pieces exactly as in row_sum.
  static_assert(kChunk % 64 == 0, "pieces must hold whole 64-blocks");
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    OrderedSum s;  // pieces of kChunk (a multiple of 64): the same blocks as row_sum
    for (int64_t c0 = 0; c0 < D; c0 += kChunk) {
      const int64_t m = std::min(kChunk, D - c0);
      terms(x + c0, m, buf, term);
      s.add(buf, m);
    }
    out[i] = finish(i, s.total());
  }
}

// std::round(a) (half away from zero) by exact arithmetic and selects, which
// vectorise where std::round and std::trunc do not (GCC keeps those scalar
// under the default -ftrapping-math). For m = |a| < 2^52, r = (m + 2^52) - 2^52
// is m rounded to nearest-even and f = m - r in [-1/2, 1/2] is exact; a tie
// that went down to even (f = 1/2) goes up instead. m >= 2^52 is an integer
// (kept), a NaN stays NaN; the sign of a is put back (round(-0.3) = -0).
ADASWARM_INLINE double round_half_away(double a) {
  constexpr double two52 = 4503599627370496.0;  // 2^52
  const double m = __builtin_fabs(a);
  const double mc = m < two52 ? m : two52;
  const double r = (mc + two52) - two52;
  const double f = mc - r;
  const double up = r + 1.0;
  const double rm = f >= 0.5 ? up : r;
  return __builtin_copysign(m < two52 ? rm : m, a);
}

// a * b + c, fused (one rounding) in the FMA paths and two roundings in the
// baseline path: exactly where GCC contracted the AVX2+FMA build of these
// kernels before they were rewritten (the Horner steps below and Ackley's last
// line; not the x^2 + 20 sin^2 sum). The FMA paths are compiled with
// fp-contract=off (ADASWARM_NO_CONTRACT) so that no other product is fused:
// the AVX2 and AVX-512 paths give the same bits as each other and as before.
template <bool Fma>
ADASWARM_INLINE double madd(double a, double b, double c) {
  if constexpr (Fma)
    return __builtin_fma(a, b, c);
  else
    return a * b + c;
}

// sin(pi t) for |t| <= 1/2.
template <bool Fma>
ADASWARM_INLINE double sinpi_reduced(double t) {
  const double s = kPi * t, u = s * s;
  double p = -1.0 / 25852016738884976640000.0;    // -1/23!
  p = madd<Fma>(p, u, 1.0 / 51090942171709440000.0);  // 1/21!
  p = madd<Fma>(p, u, -1.0 / 121645100408832000.0);   // -1/19!
  p = madd<Fma>(p, u, 1.0 / 355687428096000.0);       // 1/17!
  p = madd<Fma>(p, u, -1.0 / 1307674368000.0);        // -1/15!
  p = madd<Fma>(p, u, 1.0 / 6227020800.0);            // 1/13!
  p = madd<Fma>(p, u, -1.0 / 39916800.0);             // -1/11!
  p = madd<Fma>(p, u, 1.0 / 362880.0);                // 1/9!
  p = madd<Fma>(p, u, -1.0 / 5040.0);                 // -1/7!
  p = madd<Fma>(p, u, 1.0 / 120.0);                   // 1/5!
  p = madd<Fma>(p, u, -1.0 / 6.0);                    // -1/3!
  p = madd<Fma>(p, u, 1.0);
  return s * p;
}

// sin^2(pi x) = (1 - cos(2 pi x)) / 2.
template <bool Fma>
ADASWARM_INLINE double sin2pi_half(double x) {
  const double s = sinpi_reduced<Fma>(frac_round(x));
  return s * s;
}

}  // namespace

namespace kernels {

void sphere(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t d = 0; d < D; ++d) s += x[d] * x[d];
    out[i] = s;
  }
}

void sum_squares(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    double s = 0.0;
    for (int64_t d = 0; d < D; ++d) s += static_cast<double>(d + 1) * x[d] * x[d];
    out[i] = s;
  }
}

void schwefel_2_20(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    double s = 0.0;
    for (int64_t d = 0; d < D; ++d) s += std::fabs(x[d]);
    out[i] = s;
  }
}

void schwefel_2_22(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    double s = 0.0, p = 1.0;
    for (int64_t d = 0; d < D; ++d) {
      s += std::fabs(x[d]);
      p *= std::fabs(x[d]);
    }
    out[i] = s + p;
  }
}

void powell_sum(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    double s = 0.0;
    for (int64_t d = 0; d < D; ++d) s += std::pow(std::fabs(x[d]), static_cast<double>(d + 2));
    out[i] = s;
  }
}

void exponential(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    double s = 0.0;
    for (int64_t d = 0; d < D; ++d) s += x[d] * x[d];
    out[i] = -std::exp(-0.5 * s);
  }
}

void zakharov(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    double s = 0.0, t = 0.0;
    for (int64_t d = 0; d < D; ++d) {
      s += x[d] * x[d];
      t += 0.5 * static_cast<double>(d + 1) * x[d];
    }
    const double t2 = t * t;
    out[i] = s + t2 + t2 * t2;
  }
}

void griewank(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    double s = 0.0, p = 1.0;
    for (int64_t d = 0; d < D; ++d) {
      s += x[d] * x[d];
      p *= std::cos(x[d] / std::sqrt(static_cast<double>(d + 1)));
    }
    out[i] = s / 4000.0 - p + 1.0;
  }
}

template <bool Fma>
ADASWARM_INLINE void rastrigin_body(const double* X, int64_t P, int64_t D, double* out) {
  // sum x^2 - 10 cos(2 pi x) + 10 = sum x^2 + 20 sin^2(pi x)
  rows_sum(
      X, P, D, out, [](double x) ADASWARM_LAMBDA_INLINE { return x * x + 20.0 * sin2pi_half<Fma>(x); },
      [](int64_t, double s) ADASWARM_LAMBDA_INLINE { return s; });
}

template <bool Fma>
ADASWARM_INLINE void noncontinuous_rastrigin_body(const double* X, int64_t P, int64_t D, double* out) {
  rows_sum(
      X, P, D, out,
      [](double x) ADASWARM_LAMBDA_INLINE {
        const double r = round_half_away(2.0 * x) * 0.5;
        const double y = __builtin_fabs(x) < 0.5 ? x : r;
        return y * y + 20.0 * sin2pi_half<Fma>(y);
      },
      [](int64_t, double s) ADASWARM_LAMBDA_INLINE { return s; });
}

template <bool Fma>
ADASWARM_INLINE void ackley_body(const double* X, int64_t P, int64_t D, double* out) {
  const double invD = 1.0 / static_cast<double>(D);
  // s = sum x^2 first (kept in out), then c = sum (1 - cos(2 pi x)) / 2 and
  // -20 exp(-0.2 sqrt(s/D)) - exp(mean cos) + 20 + e, mean cos = 1 - 2c/D.
  rows_sum(
      X, P, D, out, [](double v) ADASWARM_LAMBDA_INLINE { return v * v; },
      [](int64_t, double s) ADASWARM_LAMBDA_INLINE { return s; });
  rows_sum(
      X, P, D, out, [](double v) ADASWARM_LAMBDA_INLINE { return sin2pi_half<Fma>(v); },
      [&](int64_t i, double c) ADASWARM_LAMBDA_INLINE {
        const double s = out[i];
        return madd<Fma>(20.0, 1.0 - std::exp(-0.2 * std::sqrt(s * invD)), kE * (1.0 - std::exp(-2.0 * c * invD)));
      });
}

// The kernels compiled for each ISA; the plain one is the baseline (SSE2).
#if ADASWARM_X86_DISPATCH
#define ADASWARM_NO_CONTRACT optimize("fp-contract=off")
#define ADASWARM_ISA_CLONES(name)                                                                           \
  __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma,prefer-vector-width=512"), ADASWARM_NO_CONTRACT)) \
  static void name##_avx512(const double* X, int64_t P, int64_t D, double* out) {                           \
    name##_body<true>(X, P, D, out);                                                                        \
  }                                                                                                         \
  __attribute__((target("avx2,fma"), ADASWARM_NO_CONTRACT)) static void name##_avx2(                        \
      const double* X, int64_t P, int64_t D, double* out) {                                                 \
    name##_body<true>(X, P, D, out);                                                                        \
  }                                                                                                         \
  static void name##_base(const double* X, int64_t P, int64_t D, double* out) { name##_body<false>(X, P, D, out); }
#else
#define ADASWARM_ISA_CLONES(name) \
  static void name##_base(const double* X, int64_t P, int64_t D, double* out) { name##_body<false>(X, P, D, out); }
#endif
ADASWARM_ISA_CLONES(rastrigin)
ADASWARM_ISA_CLONES(noncontinuous_rastrigin)
ADASWARM_ISA_CLONES(ackley)

namespace {
#if ADASWARM_X86_DISPATCH
bool cpu_has_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}
bool cpu_has_avx512() {
  static const bool ok = cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                         __builtin_cpu_supports("avx512vl");
  return ok;
}
#endif
// 2: AVX-512, 1: AVX2+FMA, 0: baseline.
int best_isa() {
#if ADASWARM_X86_DISPATCH
  static const int isa = cpu_has_avx512() ? 2 : cpu_has_avx2() ? 1 : 0;
  return isa;
#else
  return 0;
#endif
}
bool isa_available(int isa) { return isa >= 0 && isa <= best_isa(); }
}  // namespace

#if ADASWARM_X86_DISPATCH
#define ADASWARM_DISPATCH(name)                                       \
  void name(const double* X, int64_t P, int64_t D, double* out) {     \
    switch (best_isa()) {                                             \
      case 2: name##_avx512(X, P, D, out); return;                    \
      case 1: name##_avx2(X, P, D, out); return;                      \
      default: name##_base(X, P, D, out); return;                     \
    }                                                                 \
  }
#else
#define ADASWARM_DISPATCH(name) \
  void name(const double* X, int64_t P, int64_t D, double* out) { name##_base(X, P, D, out); }
#endif
ADASWARM_DISPATCH(rastrigin)
ADASWARM_DISPATCH(noncontinuous_rastrigin)
ADASWARM_DISPATCH(ackley)

namespace detail {
// Not in the public header: the test suite declares it itself
// (tests/test_pgso_functions.cpp) to compare the ISA paths bit for bit.
// Runs kernel `name` (rastrigin, noncontinuous_rastrigin, ackley) compiled for
// `isa` (0 baseline, 1 AVX2+FMA, 2 AVX-512); false when this CPU or build lacks
// that path or the name is not one of the three.
bool run_kernel_isa(const std::string& name, int isa, const double* X, int64_t P, int64_t D, double* out) {
  if (!isa_available(isa)) return false;
#if ADASWARM_X86_DISPATCH
#define ADASWARM_RUN_ISA(k)                  \
  if (name == #k) {                          \
    if (isa == 2) k##_avx512(X, P, D, out);  \
    else if (isa == 1) k##_avx2(X, P, D, out); \
    else k##_base(X, P, D, out);             \
    return true;                             \
  }
#else
#define ADASWARM_RUN_ISA(k)   \
  if (name == #k) {           \
    k##_base(X, P, D, out);   \
    return true;              \
  }
#endif
  ADASWARM_RUN_ISA(rastrigin)
  ADASWARM_RUN_ISA(noncontinuous_rastrigin)
  ADASWARM_RUN_ISA(ackley)
#undef ADASWARM_RUN_ISA
  return false;
}
/// The best path this CPU runs (what the dispatch picks).
int kernel_isa() { return best_isa(); }
}  // namespace detail

void rosenbrock(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    double s = 0.0;
    for (int64_t d = 0; d + 1 < D; ++d) {
      const double a = x[d + 1] - x[d] * x[d], b = x[d] - 1.0;
      s += 100.0 * a * a + b * b;
    }
    out[i] = s;
  }
}

}  // namespace kernels

namespace {

struct BaseInfo {
  const char* name;
  Kernel kernel;
  double lower, upper;
  double minimum;
  double minimiser;  // the same value in every coordinate
  bool unimodal;
};

const std::vector<BaseInfo>& bases() {
  static const std::vector<BaseInfo> b = {
      {"sphere", kernels::sphere, -100, 100, 0, 0, true},
      {"sum_squares", kernels::sum_squares, -10, 10, 0, 0, true},
      {"schwefel_2_20", kernels::schwefel_2_20, -100, 100, 0, 0, true},
      {"schwefel_2_22", kernels::schwefel_2_22, -100, 100, 0, 0, true},
      {"powell_sum", kernels::powell_sum, -1, 1, 0, 0, true},
      {"exponential", kernels::exponential, -1, 1, -1, 0, true},
      {"zakharov", kernels::zakharov, -5, 10, 0, 0, true},
      {"griewank", kernels::griewank, -600, 600, 0, 0, false},
      {"rastrigin", kernels::rastrigin, -100, 100, 0, 0, false},
      {"noncontinuous_rastrigin", kernels::noncontinuous_rastrigin, -100, 100, 0, 0, false},
      {"ackley", kernels::ackley, -40, 40, 0, 0, false},
      {"rosenbrock", kernels::rosenbrock, -30, 30, 0, 1, false},
  };
  return b;
}

double gaussian(Rng& rng) {
  // Box-Muller; u1 in (0, 1].
  const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

uint64_t name_hash(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a: stable across platforms
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

}  // namespace

std::vector<double> random_orthogonal(int64_t dim, uint64_t seed) {
  if (dim < 1) throw std::invalid_argument("random_orthogonal: dimension must be >= 1");
  Rng rng(seed, 7);
  const auto n = static_cast<size_t>(dim);
  std::vector<double> q(n * n);
  for (auto& v : q) v = gaussian(rng);
  // Modified Gram-Schmidt on the rows (twice, for orthogonality to rounding).
  for (int pass = 0; pass < 2; ++pass)
    for (size_t i = 0; i < n; ++i) {
      double* qi = q.data() + i * n;
      for (size_t j = 0; j < i; ++j) {
        const double* qj = q.data() + j * n;
        double dot = 0.0;
        for (size_t k = 0; k < n; ++k) dot += qi[k] * qj[k];
        for (size_t k = 0; k < n; ++k) qi[k] -= dot * qj[k];
      }
      double norm = 0.0;
      for (size_t k = 0; k < n; ++k) norm += qi[k] * qi[k];
      norm = std::sqrt(norm);
      if (!(norm > 1e-12)) throw std::runtime_error("random_orthogonal: degenerate draw");
      for (size_t k = 0; k < n; ++k) qi[k] /= norm;
    }
  return q;
}

Function::Function(const std::string& name, int64_t dim, uint64_t instance_seed) : name_(name), dim_(dim) {
  if (dim < 1 || dim > kMaxDim)
    throw std::invalid_argument("benchmark function '" + name + "': dimension must be in [1, " +
                                std::to_string(kMaxDim) + "], got " + std::to_string(dim));
  std::string base = name;
  if (base.rfind("shifted_rotated_", 0) == 0) {
    transform_ = Transform::ShiftedRotated;
    base = base.substr(16);
  } else if (base.rfind("rotated_", 0) == 0) {
    transform_ = Transform::Rotated;
    base = base.substr(8);
  }
  const BaseInfo* info = nullptr;
  for (const auto& b : bases())
    if (base == b.name) info = &b;
  if (!info) {
    std::string known;
    for (const auto& b : bases()) known += std::string(known.empty() ? "" : ", ") + b.name;
    throw std::invalid_argument("unknown benchmark function '" + name + "' (known: " + known +
                                "; prefix rotated_ or shifted_rotated_)");
  }
  base_ = base;
  kernel_ = info->kernel;
  lower_ = info->lower;
  upper_ = info->upper;
  minimum_ = info->minimum;
  unimodal_ = info->unimodal;
  if (transform_ == Transform::ShiftedRotated) {
    // The PGSO paper's narrower boxes for the shifted-rotated Rastrigin and Ackley.
    if (base_ == "rastrigin") lower_ = -5.12, upper_ = 5.12;
    if (base_ == "ackley") lower_ = -10, upper_ = 10;
  }
  if (transform_ != Transform::None && dim > kMaxRotatedDim)
    throw std::invalid_argument("benchmark function '" + name + "': the rotated forms hold a dim x dim matrix; " +
                                "dimension must be <= " + std::to_string(kMaxRotatedDim) + ", got " +
                                std::to_string(dim));
  if (transform_ != Transform::None) {
    const uint64_t s = instance_seed ^ name_hash(base_) ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(dim));
    rotation_ = random_orthogonal(dim, s);
    if (transform_ == Transform::ShiftedRotated) {
      // o in the central 60% of the box, so that the minimiser o + R^T x* stays inside.
      Rng rng(s, 11);
      const double w = upper_ - lower_;
      shift_.resize(static_cast<size_t>(dim));
      for (auto& o : shift_) o = rng.uniform(lower_ + 0.2 * w, upper_ - 0.2 * w);
    }
  }
}

void Function::evaluate(const double* X, int64_t P, int64_t D, double* out) const {
  if (D != dim_)
    throw std::invalid_argument("benchmark function '" + name_ + "' has dimension " + std::to_string(dim_) +
                                ", got points of dimension " + std::to_string(D));
  if (P < 0) throw std::invalid_argument("benchmark function '" + name_ + "': negative particle count");
  if (transform_ == Transform::None) {
    kernel_(X, P, D, out);
    return;
  }
  // z = R (x - o), one particle at a time into a per-thread scratch buffer.
  thread_local std::vector<double> z, y;
  z.resize(static_cast<size_t>(P * D));
  y.resize(static_cast<size_t>(D));
  const double* R = rotation_.data();
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    if (!shift_.empty()) {
      for (int64_t d = 0; d < D; ++d) y[d] = x[d] - shift_[d];
      x = y.data();
    }
    double* zi = z.data() + i * D;
    for (int64_t r = 0; r < D; ++r) {
      const double* row = R + r * D;
      double s = 0.0;
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < D; ++c) s += row[c] * x[c];
      zi[r] = s;
    }
  }
  kernel_(z.data(), P, D, out);
}

double Function::operator()(const double* x) const {
  double out = 0.0;
  evaluate(x, 1, dim_, &out);
  return out;
}

std::vector<double> Function::minimiser() const {
  double base_min = 0.0;
  for (const auto& b : bases())
    if (base_ == b.name) base_min = b.minimiser;
  std::vector<double> xs(static_cast<size_t>(dim_), base_min);
  if (transform_ == Transform::None) return xs;
  // f(R (x - o)) is minimal where R (x - o) = x*, i.e. x = o + R^T x*.
  std::vector<double> x(static_cast<size_t>(dim_), 0.0);
  for (int64_t c = 0; c < dim_; ++c) {
    double s = shift_.empty() ? 0.0 : shift_[c];
    for (int64_t r = 0; r < dim_; ++r) s += rotation_[r * dim_ + c] * xs[r];
    x[c] = s;
  }
  return x;
}

std::vector<std::string> Function::base_names() {
  std::vector<std::string> n;
  for (const auto& b : bases()) n.emplace_back(b.name);
  return n;
}

std::vector<std::string> Function::paper_suite() {
  auto n = base_names();
  for (const char* s : {"rotated_rastrigin", "rotated_griewank", "rotated_ackley", "shifted_rotated_rastrigin"})
    n.emplace_back(s);
  return n;
}

}  // namespace adaswarm::pgso
