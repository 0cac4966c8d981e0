// Benchmark functions of SPEC.md section 7 (see include/adaswarm/pgso/functions.h).
//
// The periodic terms of Rastrigin and Ackley use cos(2 pi x) = 1 - 2 sin^2(pi t)
// with t = x - round(x) in [-1/2, 1/2] and an odd Taylor polynomial for sin(pi t)
// (error < 1e-17 on that range): exact range reduction, no libm call, and a loop
// the compiler vectorises. The hot kernels are compiled for AVX2+FMA and for the
// baseline ISA, picked at run time (__builtin_cpu_supports).
#include "adaswarm/pgso/functions.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

#include "adaswarm/swarm/random.h"

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

// Sum of term(x[d]) over d: the terms are computed in vectorisable blocks into a
// small buffer, then added with four accumulators (a fixed order: deterministic).
template <class Term>
ADASWARM_INLINE double block_sum(const double* x, int64_t D, Term term) {
  constexpr int64_t B = 64;
  double buf[B];
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (int64_t d0 = 0; d0 < D; d0 += B) {
    const int64_t n = std::min<int64_t>(B, D - d0);
    for (int64_t d = 0; d < n; ++d) buf[d] = term(x[d0 + d]);
    int64_t d = 0;
    for (; d + 4 <= n; d += 4) {
      a0 += buf[d];
      a1 += buf[d + 1];
      a2 += buf[d + 2];
      a3 += buf[d + 3];
    }
    for (; d < n; ++d) a0 += buf[d];
  }
  return (a0 + a1) + (a2 + a3);
}

// sin(pi t) for |t| <= 1/2.
ADASWARM_INLINE double sinpi_reduced(double t) {
  const double s = kPi * t, u = s * s;
  double p = -1.0 / 25852016738884976640000.0;  // -1/23!
  p = p * u + 1.0 / 51090942171709440000.0;     // 1/21!
  p = p * u - 1.0 / 121645100408832000.0;       // -1/19!
  p = p * u + 1.0 / 355687428096000.0;          // 1/17!
  p = p * u - 1.0 / 1307674368000.0;            // -1/15!
  p = p * u + 1.0 / 6227020800.0;               // 1/13!
  p = p * u - 1.0 / 39916800.0;                 // -1/11!
  p = p * u + 1.0 / 362880.0;                   // 1/9!
  p = p * u - 1.0 / 5040.0;                     // -1/7!
  p = p * u + 1.0 / 120.0;                      // 1/5!
  p = p * u - 1.0 / 6.0;                        // -1/3!
  p = p * u + 1.0;
  return s * p;
}

// sin^2(pi x) = (1 - cos(2 pi x)) / 2.
ADASWARM_INLINE double sin2pi_half(double x) {
  const double s = sinpi_reduced(frac_round(x));
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

ADASWARM_INLINE void rastrigin_body(const double* X, int64_t P, int64_t D, double* out) {
  // sum x^2 - 10 cos(2 pi x) + 10 = sum x^2 + 20 sin^2(pi x)
  for (int64_t i = 0; i < P; ++i)
    out[i] = block_sum(X + i * D, D, [](double x) ADASWARM_LAMBDA_INLINE { return x * x + 20.0 * sin2pi_half(x); });
}

ADASWARM_INLINE void noncontinuous_rastrigin_body(const double* X, int64_t P, int64_t D, double* out) {
  for (int64_t i = 0; i < P; ++i)
    out[i] = block_sum(X + i * D, D, [](double x) ADASWARM_LAMBDA_INLINE {
      const double y = std::fabs(x) < 0.5 ? x : std::round(2.0 * x) * 0.5;
      return y * y + 20.0 * sin2pi_half(y);
    });
}

ADASWARM_INLINE void ackley_body(const double* X, int64_t P, int64_t D, double* out) {
  const double invD = 1.0 / static_cast<double>(D);
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    const double s = block_sum(x, D, [](double v) ADASWARM_LAMBDA_INLINE { return v * v; });
    // c = sum (1 - cos(2 pi x)) / 2
    const double c = block_sum(x, D, [](double v) ADASWARM_LAMBDA_INLINE { return sin2pi_half(v); });
    // -20 exp(-0.2 sqrt(s/D)) - exp(mean cos) + 20 + e, mean cos = 1 - 2c/D
    out[i] = 20.0 * (1.0 - std::exp(-0.2 * std::sqrt(s * invD))) + kE * (1.0 - std::exp(-2.0 * c * invD));
  }
}

#if ADASWARM_X86_DISPATCH
#define ADASWARM_DISPATCH(name)                                                                  \
  __attribute__((target("avx2,fma"))) static void name##_avx2(const double* X, int64_t P, int64_t D, \
                                                               double* out) {                     \
    name##_body(X, P, D, out);                                                                   \
  }                                                                                              \
  void name(const double* X, int64_t P, int64_t D, double* out) {                                \
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");    \
    if (avx2)                                                                                    \
      name##_avx2(X, P, D, out);                                                                 \
    else                                                                                         \
      name##_body(X, P, D, out);                                                                 \
  }
#else
#define ADASWARM_DISPATCH(name) \
  void name(const double* X, int64_t P, int64_t D, double* out) { name##_body(X, P, D, out); }
#endif
ADASWARM_DISPATCH(rastrigin)
ADASWARM_DISPATCH(noncontinuous_rastrigin)
ADASWARM_DISPATCH(ackley)

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
  if (dim < 1) throw std::invalid_argument("benchmark function '" + name + "': dimension must be >= 1");
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
