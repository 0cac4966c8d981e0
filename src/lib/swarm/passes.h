// The vectorised passes of Swarm (swarm.cpp): the PSO and EMPSO moves, the
// generator's lanes, and the fitness checks and best updates of
// Swarm::evaluate, each compiled for AVX-512, AVX2 and the baseline x86-64 and
// picked at run time (detail::dispatch_isa), with the same bits on every path.
// Internal: included by swarm.cpp only (one translation unit), so that the
// Swarm class's file holds the algorithm and this one its loops.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <type_traits>

#include "adaswarm/swarm/swarm.h"
#include "adaswarm/util/random.h"

namespace adaswarm::swarm {
namespace detail {
/// The instruction set the passes run at: 2 AVX-512, 1 AVX2, 0 the baseline
/// (defined in swarm.cpp; also used by the swarm loss's fitness loops).
int dispatch_isa();
}  // namespace detail

namespace {
/// c ? a : b by masks, not branches (GCC turns a `?:` store into a conditional
/// store, which it cannot vectorise without AVX masked stores).
template <typename T>
inline T select_bits(bool c, T a, T b) {
  using U = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
  static_assert(sizeof(U) == sizeof(T), "select_bits: 4- or 8-byte types");
  const U m = U(0) - static_cast<U>(c);
  U ua, ub;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  const U r = (ua & m) | (ub & ~m);
  T out;
  std::memcpy(&out, &r, sizeof out);
  return out;
}

#if defined(__GNUC__) && defined(__x86_64__)
#define ADASWARM_SWARM_DISPATCH 1
#endif

// The PSO move of one particle (SPEC.md section 1), fused into one pass:
// v <- w v + c1 r1 (p - x) + c2 r2 (g - x), the velocity clamps, x <- x + v and
// the position bounds, with the same expressions in the same order as the
// general path of Swarm::step (and as before the fusion), so every bit is the
// same. k1, k2 are c1 r1, c2 r2 per coordinate (PerCoord) or per particle.
template <typename T>
struct PsoMove {
  int64_t D;
  T* x;
  T* v;
  const T* p;
  const T* g;
  const T* r1;  // per coordinate: k1[d] = c1 r1[d], k2[d] = c2 r2[d]
  const T* r2;
  T k1, k2;  // per particle: c1 r1, c2 r2
  T w, vclamp;
  const T* lo;  // null when unbounded
  const T* hi;
};

// std::max(a, b) and std::min(a, b) by value (the same comparisons, hence the
// same result for NaN and signed zeros): GCC if-converts these, not the
// reference-returning std versions inside the fp-contract=off clones.
template <typename T>
inline __attribute__((always_inline)) T max_of(T a, T b) {
  return (a < b) ? b : a;
}
template <typename T>
inline __attribute__((always_inline)) T min_of(T a, T b) {
  return (b < a) ? b : a;
}

template <typename T, bool PerCoord, bool VClamp, bool VBounds, bool Bounded, bool Zero>
inline __attribute__((always_inline)) void pso_move_body(const PsoMove<T>& m) {
  T* __restrict x = m.x;
  T* __restrict v = m.v;
  const T* __restrict p = m.p;
  const T* __restrict g = m.g;
  const T* __restrict r1 = m.r1;
  const T* __restrict r2 = m.r2;
  const T* __restrict lo = m.lo;
  const T* __restrict hi = m.hi;
  const T w = m.w, vclamp = m.vclamp, k1p = m.k1, k2p = m.k2;
  const int64_t D = m.D;
#pragma omp simd
  for (int64_t d = 0; d < D; ++d) {
    T k1 = k1p, k2 = k2p;
    if constexpr (PerCoord) {
      k1 = r1[d];
      k2 = r2[d];
    }
    const T a1 = k1 * (p[d] - x[d]);
    const T a2 = k2 * (g[d] - x[d]);
    T vd = w * v[d] + a1 + a2;
    if constexpr (VClamp) vd = min_of(max_of(vd, -vclamp), vclamp);
    if constexpr (VBounds) vd = min_of(max_of(vd, lo[d]), hi[d]);
    T xd = x[d] + vd;
    if constexpr (Bounded) {
      const T clamped = min_of(max_of(xd, lo[d]), hi[d]);
      if constexpr (Zero) vd = select_bits(clamped != xd, T(0), vd);
      xd = clamped;
    }
    v[d] = vd;
    x[d] = xd;
  }
}

// The per-coordinate draws of one particle: r1[d], r2[d] alternately from the
// stream (as the general path draws them), k1[d] = c1 r1[d], k2[d] = c2 r2[d]
// and ks[d] = c1 r1[d] + c2 r2[d] (cbar adds these up, in order). The same
// numbers as 2D calls of Rng::uniform(rlow, 1), in two passes per chunk: a
// scalar walk of xoshiro256++'s state (a copy of it in registers) that keeps
// each step's output, then the conversions to [rlow, 1) and the products in a
// loop the compiler vectorises. The in-order sum over the previous particle's
// ks (a chain of dependent additions) is done in the scalar walk, where it
// costs nothing; it is returned (0 without `prev`). Unit: random_low is 0,
// where rlow + (1 - rlow) u is u to the bit.
template <typename T, bool Unit>
inline __attribute__((always_inline)) double pso_draws_body(Rng& rng, T* __restrict k1, T* __restrict k2,
                                                            T* __restrict ks, const T* __restrict prev, int64_t D,
                                                            double rlow, T c1, T c2) {
  constexpr int64_t kChunk = 256;
  alignas(64) uint64_t a0[kChunk], a3[kChunk], b0[kChunk], b3[kChunk];
  const auto& st = rng.state();
  uint64_t s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
  // One step of xoshiro256++ (Rng::operator()), keeping the two words its
  // output is made of (s0, s3 before the step; the output is formed below).
  auto step = [&](uint64_t& w0, uint64_t& w3) __attribute__((always_inline)) {
    w0 = s0;
    w3 = s3;
    xoshiro_advance(s0, s1, s2, s3);
  };
  const double span = 1.0 - rlow;
  double sum_prev = 0.0;
  for (int64_t d0 = 0; d0 < D; d0 += kChunk) {
    const int64_t n = std::min(kChunk, D - d0);
    if (prev) {
      const T* pv = prev + d0;
      for (int64_t d = 0; d < n; ++d) {
        step(a0[d], a3[d]);
        step(b0[d], b3[d]);
        sum_prev += static_cast<double>(pv[d]);
      }
    } else {
      for (int64_t d = 0; d < n; ++d) {
        step(a0[d], a3[d]);
        step(b0[d], b3[d]);
      }
    }
    T* __restrict a = k1 + d0;
    T* __restrict b = k2 + d0;
    T* __restrict c = ks + d0;
#pragma omp simd
    for (int64_t d = 0; d < n; ++d) {
      // xoshiro256++'s output; Rng::uniform(): its top 53 bits times 2^-53;
      // then uniform(lo, hi).
      const uint64_t raw1 = xoshiro_output(a0[d], a3[d]);
      const uint64_t raw2 = xoshiro_output(b0[d], b3[d]);
      const double u1 = static_cast<double>(raw1 >> 11) * 0x1.0p-53;
      const double u2 = static_cast<double>(raw2 >> 11) * 0x1.0p-53;
      const T r1 = static_cast<T>(Unit ? u1 : rlow + span * u1);
      const T r2 = static_cast<T>(Unit ? u2 : rlow + span * u2);
      a[d] = c1 * r1;
      b[d] = c2 * r2;
      c[d] = c1 * r1 + c2 * r2;
    }
  }
  rng.set_state({s0, s1, s2, s3});
  return sum_prev;
}

// Compiled for AVX-512, AVX2 and the baseline ISA, picked at run time. The
// wide paths are compiled with fp-contract=off: GCC would otherwise fuse w v + a1
// into one FMA there (one rounding instead of two) and the bits would depend on
// the machine; as it is, every path computes the same values.
template <typename T, bool... F>
void pso_move_base(const PsoMove<T>& m) {
  pso_move_body<T, F...>(m);
}
#if ADASWARM_SWARM_DISPATCH
template <typename T, bool... F>
__attribute__((target("avx2"), optimize("fp-contract=off"))) void pso_move_avx2(const PsoMove<T>& m) {
  pso_move_body<T, F...>(m);
}
template <typename T, bool... F>
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,prefer-vector-width=512"), optimize("fp-contract=off"))) void
pso_move_avx512(const PsoMove<T>& m) {
  pso_move_body<T, F...>(m);
}
int swarm_isa() { return detail::dispatch_isa(); }
#endif

template <typename T, bool Unit>
double pso_draws_base(Rng& rng, T* k1, T* k2, T* ks, const T* prev, int64_t D, double rlow, T c1, T c2) {
  return pso_draws_body<T, Unit>(rng, k1, k2, ks, prev, D, rlow, c1, c2);
}
#if ADASWARM_SWARM_DISPATCH
// BMI2's three-operand shifts and rotations (shlx, rorx) save the register
// copies that xoshiro's update needs otherwise.
template <typename T, bool Unit>
__attribute__((target("avx2,bmi2"), optimize("fp-contract=off"))) double pso_draws_avx2(
    Rng& rng, T* k1, T* k2, T* ks, const T* prev, int64_t D, double rlow, T c1, T c2) {
  return pso_draws_body<T, Unit>(rng, k1, k2, ks, prev, D, rlow, c1, c2);
}
// AVX-512DQ converts 64-bit integers to doubles in vectors.
template <typename T, bool Unit>
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,bmi2,prefer-vector-width=512"), optimize("fp-contract=off")))
double pso_draws_avx512(Rng& rng, T* k1, T* k2, T* ks, const T* prev, int64_t D, double rlow, T c1, T c2) {
  return pso_draws_body<T, Unit>(rng, k1, k2, ks, prev, D, rlow, c1, c2);
}
#endif
template <typename T>
using PsoDrawsFn = double (*)(Rng&, T*, T*, T*, const T*, int64_t, double, T, T);
template <typename T>
PsoDrawsFn<T> pick_pso_draws(bool unit) {
#if ADASWARM_SWARM_DISPATCH
  static const bool bmi2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
  if (bmi2 && swarm_isa() == 2) return unit ? &pso_draws_avx512<T, true> : &pso_draws_avx512<T, false>;
  if (bmi2) return unit ? &pso_draws_avx2<T, true> : &pso_draws_avx2<T, false>;
#endif
  return unit ? &pso_draws_base<T, true> : &pso_draws_base<T, false>;
}

// RngLanes8::fill (random_lanes 8): the eight lanes are one vector per state
// word; fp-contract=off keeps lo + (hi - lo) u two roundings, as in
// RngLanes8::fill_reference.
void lanes_fill_base(RngLanes8& g, double* out, int64_t n, double lo, double hi) { g.fill(out, n, lo, hi); }
#if ADASWARM_SWARM_DISPATCH
__attribute__((target("avx2"), optimize("fp-contract=off"))) void lanes_fill_avx2(RngLanes8& g, double* out,
                                                                                    int64_t n, double lo, double hi) {
  g.fill(out, n, lo, hi);
}
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,prefer-vector-width=512"), optimize("fp-contract=off"))) void
lanes_fill_avx512(RngLanes8& g, double* out, int64_t n, double lo, double hi) {
  g.fill(out, n, lo, hi);
}
#endif
void lanes_fill(RngLanes8& g, double* out, int64_t n, double lo, double hi) {
#if ADASWARM_SWARM_DISPATCH
  switch (swarm_isa()) {
    case 2: lanes_fill_avx512(g, out, n, lo, hi); return;
    case 1: lanes_fill_avx2(g, out, n, lo, hi); return;
    default: break;
  }
#endif
  lanes_fill_base(g, out, n, lo, hi);
}

// random_lanes 8: k[j] = c1 r1[j], k[n + j] = c2 r2[j] from u (a particle's n r1,
// then its n r2), and the sum of c1 r1 + c2 r2 over j: partial sum j % 8, then
// ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)).
template <typename T>
inline __attribute__((always_inline)) double lanes_prepare_body(const double* __restrict u, int64_t n, T c1, T c2,
                                                                T* __restrict k) {
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j0 = 0;
  for (; j0 + 8 <= n; j0 += 8)
    for (int l = 0; l < 8; ++l) {
      const int64_t j = j0 + l;
      const T r1 = static_cast<T>(u[j]), r2 = static_cast<T>(u[n + j]);
      k[j] = c1 * r1;
      k[n + j] = c2 * r2;
      part[l] += static_cast<double>(c1 * r1 + c2 * r2);
    }
  for (int l = 0; j0 + l < n; ++l) {
    const int64_t j = j0 + l;
    const T r1 = static_cast<T>(u[j]), r2 = static_cast<T>(u[n + j]);
    k[j] = c1 * r1;
    k[n + j] = c2 * r2;
    part[l] += static_cast<double>(c1 * r1 + c2 * r2);
  }
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}
template <typename T>
double lanes_prepare_base(const double* u, int64_t n, T c1, T c2, T* k) {
  return lanes_prepare_body<T>(u, n, c1, c2, k);
}
#if ADASWARM_SWARM_DISPATCH
template <typename T>
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,prefer-vector-width=512"), optimize("fp-contract=off"))) double
lanes_prepare_avx512(const double* u, int64_t n, T c1, T c2, T* k) {
  return lanes_prepare_body<T>(u, n, c1, c2, k);
}
template <typename T>
__attribute__((target("avx2"), optimize("fp-contract=off"))) double lanes_prepare_avx2(const double* u, int64_t n,
                                                                                      T c1, T c2, T* k) {
  return lanes_prepare_body<T>(u, n, c1, c2, k);
}
#endif
template <typename T>
double lanes_prepare(const double* u, int64_t n, T c1, T c2, T* k) {
#if ADASWARM_SWARM_DISPATCH
  switch (swarm_isa()) {
    case 2: return lanes_prepare_avx512<T>(u, n, c1, c2, k);
    case 1: return lanes_prepare_avx2<T>(u, n, c1, c2, k);
    default: break;
  }
#endif
  return lanes_prepare_base<T>(u, n, c1, c2, k);
}

// ---- The passes of Swarm::evaluate and the swarm loss's EMPSO move --------------
// Element-wise compares, selects and the EMPSO arithmetic, dispatched by ISA like
// the PSO move (the same operations in the same order, fp-contract=off: the same
// bits on every path). Each body returns an int32_t so that one macro makes the
// three clones and the picker.
#if ADASWARM_SWARM_DISPATCH
#define ADASWARM_SWARM_CLONES(name, PARAMS, ARGS)                                                            \
  template <typename T>                                                                                      \
  int32_t name##_base PARAMS {                                                                               \
    return name##_body<T> ARGS;                                                                              \
  }                                                                                                          \
  template <typename T>                                                                                      \
  __attribute__((target("avx2"), optimize("fp-contract=off"))) int32_t name##_avx2 PARAMS {                  \
    return name##_body<T> ARGS;                                                                              \
  }                                                                                                          \
  template <typename T>                                                                                      \
  __attribute__((target("avx512f,avx512dq,avx512vl,avx2,prefer-vector-width=512"), optimize("fp-contract=off"))) \
  int32_t name##_avx512 PARAMS {                                                                             \
    return name##_body<T> ARGS;                                                                              \
  }                                                                                                          \
  template <typename T>                                                                                      \
  int32_t name PARAMS {                                                                                      \
    switch (swarm_isa()) {                                                                                   \
      case 2: return name##_avx512<T> ARGS;                                                                  \
      case 1: return name##_avx2<T> ARGS;                                                                    \
      default: return name##_base<T> ARGS;                                                                   \
    }                                                                                                        \
  }
#else
#define ADASWARM_SWARM_CLONES(name, PARAMS, ARGS) \
  template <typename T>                           \
  int32_t name PARAMS {                           \
    return name##_body<T> ARGS;                   \
  }
#endif

/// 1 when some fitness value is NaN or -inf (both fail `f > -inf`), one branch-free pass.
template <typename T>
inline __attribute__((always_inline)) int32_t fitness_bad_body(const T* __restrict f, int64_t n) {
  constexpr T lowest = -std::numeric_limits<T>::infinity();
  int32_t bad = 0;
#pragma omp simd reduction(| : bad)
  for (int64_t k = 0; k < n; ++k) bad |= select_bits<int32_t>(f[k] > lowest, 0, 1);
  return bad;
}
ADASWARM_SWARM_CLONES(fitness_bad, (const T* f, int64_t n), (f, n))

/// The swarm bests of G groups over particles from..P-1 in order: a strictly
/// lower personal best takes the group (so the first of equal ones keeps it).
template <typename T>
inline __attribute__((always_inline)) int32_t swarm_bests_body(const T* __restrict pf, T* __restrict gf,
                                                                int32_t* __restrict best, int64_t from, int64_t P,
                                                                int64_t G) {
  for (int64_t i = from; i < P; ++i) {
    const T* __restrict pfi = pf + i * G;
    const auto ii = static_cast<int32_t>(i);
#pragma omp simd
    for (int64_t gi = 0; gi < G; ++gi) {
      const bool better = pfi[gi] < gf[gi];
      gf[gi] = select_bits(better, pfi[gi], gf[gi]);
      best[gi] = select_bits(better, ii, best[gi]);
    }
  }
  return 0;
}
ADASWARM_SWARM_CLONES(swarm_bests, (const T* pf, T* gf, int32_t* best, int64_t from, int64_t P, int64_t G),
                      (pf, gf, best, from, P, G))
/// The same for single-element groups (D == G), with the swarm best position
/// g taken along in the same pass (particle i's element gi is p[i * G + gi]):
/// the position of the particle the pass ends on, as the copy after it gives.
template <typename T>
inline __attribute__((always_inline)) int32_t element_swarm_bests_body(const T* __restrict pf,
                                                                        const T* __restrict p, T* __restrict gf,
                                                                        T* __restrict g, int64_t from, int64_t P,
                                                                        int64_t G) {
  for (int64_t i = from; i < P; ++i) {
    const T* __restrict pfi = pf + i * G;
    const T* __restrict pi = p + i * G;
#pragma omp simd
    for (int64_t gi = 0; gi < G; ++gi) {
      const bool better = pfi[gi] < gf[gi];
      gf[gi] = select_bits(better, pfi[gi], gf[gi]);
      g[gi] = select_bits(better, pi[gi], g[gi]);
    }
  }
  return 0;
}
ADASWARM_SWARM_CLONES(element_swarm_bests, (const T* pf, const T* p, T* gf, T* g, int64_t from, int64_t P, int64_t G),
                      (pf, p, gf, g, from, P, G))

/// Personal and swarm bests of single-element groups after the first
/// evaluation, particle by particle in one pass each: particle i's new personal
/// best at element k is compared with the running swarm best of k right away
/// (gf and g, G elements, stay in L1), instead of a second pass that reads every
/// personal best back. Per element the same comparisons in the same particle
/// order as personal bests for all particles, then swarm bests over particles
/// 0..P-1 (particle i's personal best is final once its own update is done):
/// the same bits. The validity check rides along (fitness_bad's test): a NaN
/// or -inf is never taken as a best, and the pass returns 1 when it saw one.
template <typename T>
inline __attribute__((always_inline)) int32_t element_all_bests_body(const T* __restrict f, const T* __restrict x,
                                                                      T* __restrict pf, T* __restrict p,
                                                                      T* __restrict gf, T* __restrict g, int64_t P,
                                                                      int64_t G) {
  constexpr T lowest = -std::numeric_limits<T>::infinity();
  int32_t bad = 0;
  for (int64_t i = 0; i < P; ++i) {
    const T* __restrict fi = f + i * G;
    const T* __restrict xi = x + i * G;
    T* __restrict pfi = pf + i * G;
    T* __restrict pi = p + i * G;
#pragma omp simd reduction(| : bad)
    for (int64_t k = 0; k < G; ++k) {
      const bool valid = fi[k] > lowest;  // false for NaN and -inf
      bad |= select_bits<int32_t>(valid, 0, 1);
      const bool better = fi[k] < pfi[k] && valid;
      const T bf = select_bits(better, fi[k], pfi[k]);
      const T bp = select_bits(better, xi[k], pi[k]);
      pfi[k] = bf;
      pi[k] = bp;
      const bool swarm_better = bf < gf[k];
      gf[k] = select_bits(swarm_better, bf, gf[k]);
      g[k] = select_bits(swarm_better, bp, g[k]);
    }
  }
  return bad;
}
ADASWARM_SWARM_CLONES(element_all_bests, (const T* f, const T* x, T* pf, T* p, T* gf, T* g, int64_t P, int64_t G),
                      (f, x, pf, p, gf, g, P, G))

/// The swarm loss's common EMPSO move (stored momentum, one r pair per particle,
/// no bounds or clamps) of one particle, in one pass: the general path's
/// expressions in its order.
template <typename T>
struct EmpsoMove {
  int64_t D;
  T* x;
  T* v;
  T* m;
  const T* p;
  const T* g;
  T k1, k2, beta, one_minus_beta;
};
template <typename T>
inline __attribute__((always_inline)) int32_t empso_move_body(const EmpsoMove<T>& e) {
  T* __restrict x = e.x;
  T* __restrict v = e.v;
  T* __restrict m = e.m;
  const T* __restrict p = e.p;
  const T* __restrict g = e.g;
  const T k1 = e.k1, k2 = e.k2, beta = e.beta, one_minus_beta = e.one_minus_beta;
#pragma omp simd
  for (int64_t d = 0; d < e.D; ++d) {
    const T a1d = k1 * (p[d] - x[d]);
    const T a2d = k2 * (g[d] - x[d]);
    m[d] = beta * m[d] + one_minus_beta * v[d];
    v[d] = m[d] + a1d + a2d;
    x[d] += v[d];
  }
  return 0;
}
ADASWARM_SWARM_CLONES(empso_move, (const EmpsoMove<T>& e), (e))
#undef ADASWARM_SWARM_CLONES

template <typename T>
using PsoMoveFn = void (*)(const PsoMove<T>&);

template <typename T, bool... F>
PsoMoveFn<T> pso_move_for_isa() {
#if ADASWARM_SWARM_DISPATCH
  switch (swarm_isa()) {
    case 2: return &pso_move_avx512<T, F...>;
    case 1: return &pso_move_avx2<T, F...>;
    default: break;
  }
#endif
  return &pso_move_base<T, F...>;
}

// The instantiation for the run-time flags, one flag at a time.
template <typename T, bool... F>
PsoMoveFn<T> pick_pso_move(std::initializer_list<bool> flags) {
  if constexpr (sizeof...(F) == 5) {
    return pso_move_for_isa<T, F...>();
  } else {
    const bool f = *(flags.begin() + sizeof...(F));
    return f ? pick_pso_move<T, F..., true>(flags) : pick_pso_move<T, F..., false>(flags);
  }
}
}  // namespace
}  // namespace adaswarm::swarm
