// A speed bound for bench_pgso (docs/pgso.md, "Speed"): Rastrigin written the
// plain way, one particle at a time, `#pragma omp simd` over its D coordinates
// with a sum reduction, and a cheaper sin(pi t) than the library's (an odd
// Taylor polynomial of degree 17 instead of 23, error ~1e-9 on |t| <= 1/2,
// multiply-adds free to fuse). It is not used for results: it tells how fast
// the straightforward vectorised loop runs on this machine, beside the library
// kernel (all P*D terms in one flat loop, then the rows summed in a fixed order)
// and the whole PSO loop.
//
// bench/ is compiled without -fopenmp, where `omp simd` is ignored: the
// clones below then say what `omp simd reduction(+)` allows through GCC's
// options instead (ivdep, and associative math so that the sum is split over
// the vector lanes). Compiled for AVX-512 and AVX2+FMA, picked at run time like
// the library's kernels.
#pragma once
#include <cstdint>

namespace adaswarm::bench {

namespace probe_detail {

template <int Tag>
inline __attribute__((always_inline)) void rastrigin_deg17_body(const double* X, int64_t P, int64_t D, double* out) {
  constexpr double pi = 3.14159265358979323846;
  constexpr double lim = 4503599627370496.0;  // 2^52
  constexpr double big = 6755399441055744.0;  // 1.5 * 2^52
  for (int64_t i = 0; i < P; ++i) {
    const double* x = X + i * D;
    double acc = 0.0;
#if defined(_OPENMP)
#pragma omp simd reduction(+ : acc)
#else
#pragma GCC ivdep
#endif
    for (int64_t d = 0; d < D; ++d) {
      const double v = x[d];
      double c = v < -lim ? -lim : v;
      c = c > lim ? lim : c;
      const double t = c - ((c + big) - big);  // v - round(v), in [-1/2, 1/2]
      const double s = pi * t, u = s * s;
      double p = 1.0 / 355687428096000.0;  // 1/17!
      p = p * u - 1.0 / 1307674368000.0;   // -1/15!
      p = p * u + 1.0 / 6227020800.0;      // 1/13!
      p = p * u - 1.0 / 39916800.0;        // -1/11!
      p = p * u + 1.0 / 362880.0;          // 1/9!
      p = p * u - 1.0 / 5040.0;            // -1/7!
      p = p * u + 1.0 / 120.0;             // 1/5!
      p = p * u - 1.0 / 6.0;               // -1/3!
      p = p * u + 1.0;
      const double sn = s * p;  // sin(pi v)
      acc += v * v + 20.0 * sn * sn;
    }
    out[i] = acc;
  }
}

#define ADASWARM_PROBE_SIMD_REDUCTION optimize("associative-math", "no-signed-zeros", "no-trapping-math")
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma,prefer-vector-width=512"),
               ADASWARM_PROBE_SIMD_REDUCTION)) inline void
rastrigin_deg17_avx512(const double* X, int64_t P, int64_t D, double* out) {
  rastrigin_deg17_body<2>(X, P, D, out);
}
__attribute__((target("avx2,fma"), ADASWARM_PROBE_SIMD_REDUCTION)) inline void rastrigin_deg17_avx2(
    const double* X, int64_t P, int64_t D, double* out) {
  rastrigin_deg17_body<1>(X, P, D, out);
}
__attribute__((ADASWARM_PROBE_SIMD_REDUCTION)) inline void rastrigin_deg17_base(const double* X, int64_t P,
                                                                                int64_t D, double* out) {
  rastrigin_deg17_body<0>(X, P, D, out);
}

}  // namespace probe_detail

/// Which path the probe runs here: "AVX-512", "AVX2+FMA" or "baseline".
inline const char* probe_isa() {
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "AVX-512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "AVX2+FMA";
  return "baseline";
}

/// Rastrigin of P points of dimension D (the probe; see above).
inline void probe_rastrigin(const double* X, int64_t P, int64_t D, double* out) {
  static const int isa = probe_isa()[0] == 'A' ? (probe_isa()[3] == '-' ? 2 : 1) : 0;
  if (isa == 2)
    probe_detail::rastrigin_deg17_avx512(X, P, D, out);
  else if (isa == 1)
    probe_detail::rastrigin_deg17_avx2(X, P, D, out);
  else
    probe_detail::rastrigin_deg17_base(X, P, D, out);
}

}  // namespace adaswarm::bench
