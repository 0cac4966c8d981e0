// The particle swarm engine (see include/adaswarm/swarm/swarm.h and SPEC.md section 1).
#include "adaswarm/swarm/swarm.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <type_traits>
#include <sstream>

// RngLanes8's 512-bit vector helpers (util/random.h) are always inlined, so no
// vector crosses a call between an AVX-512 clone and baseline code; GCC still
// warns (-Wpsabi) when it instantiates them at the end of this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace adaswarm::swarm {

const char* to_string(Variant v) {
  switch (v) {
    case Variant::PSO: return "pso";
    case Variant::MPSO: return "mpso";
    case Variant::EMPSO: return "empso";
    case Variant::REMPSO: return "rempso";
  }
  return "?";
}

Variant variant_from_string(const std::string& s) {
  if (s == "pso") return Variant::PSO;
  if (s == "mpso") return Variant::MPSO;
  if (s == "empso") return Variant::EMPSO;
  if (s == "rempso") return Variant::REMPSO;
  throw std::invalid_argument("unknown swarm variant '" + s + "' (expected pso, mpso, empso or rempso)");
}

namespace detail {
namespace {
std::atomic<int> g_isa_override{-1};
}
/// Tests: run the dispatched loops of the swarm engine and the swarm loss's
/// fitness kernels on at most this ISA (0 baseline, 1 AVX2, 2 AVX-512; -1: the
/// machine's best), to check that every path gives the same bits.
void force_isa_for_testing(int isa) { g_isa_override.store(isa, std::memory_order_relaxed); }
/// The widest ISA the dispatched loops may use here (0 baseline, 1 AVX2, 2
/// AVX-512), capped by force_isa_for_testing; the swarm loss's fitness loops
/// (fitness_kernels.cpp) ask this too.
int dispatch_isa() {
#if defined(__GNUC__) && defined(__x86_64__)
  static const int isa = !(__builtin_cpu_supports("avx2")) ? 0
                         : (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                            __builtin_cpu_supports("avx512vl"))
                             ? 2
                             : 1;
#else
  constexpr int isa = 0;
#endif
  const int forced = g_isa_override.load(std::memory_order_relaxed);
  return forced >= 0 && forced < isa ? forced : isa;
}
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

[[noreturn]] void bad_option(const std::string& what) {
  throw std::invalid_argument("invalid swarm option: " + what);
}
std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

void SwarmOptions::validate(int64_t dim) const {
  if (dim < 1) bad_option("dimension must be >= 1, got " + std::to_string(dim));
  if (particles() < 1 || particles() > std::numeric_limits<int32_t>::max())
    bad_option("particles must be in [1, 2^31), got " + std::to_string(particles()));
  if (iterations() < 0) bad_option("iterations must be >= 0, got " + std::to_string(iterations()));
  if (!std::isfinite(c1()) || c1() < 0) bad_option("c1 must be finite and >= 0, got " + num(c1()));
  if (!std::isfinite(c2()) || c2() < 0) bad_option("c2 must be finite and >= 0, got " + num(c2()));
  if (!(beta() >= 0 && beta() < 1)) bad_option("beta must be in [0, 1), got " + num(beta()));
  if (!std::isfinite(inertia())) bad_option("inertia must be finite, got " + num(inertia()));
  if (!(lambda() >= 0 && lambda() <= 1)) bad_option("lambda must be in [0, 1], got " + num(lambda()));
  if (!(random_low() >= -1 && random_low() < 1))
    bad_option("random_low must be in [-1, 1), got " + num(random_low()));
  if (!std::isfinite(rotation_angle())) bad_option("rotation_angle must be finite");
  // With one r per particle, Phi = c r I commutes with the rotation (A^T Phi A =
  // Phi) and REMPSO would silently be EMPSO: the rotation needs Phi = diag(c r_1..D).
  if (variant() == Variant::REMPSO && random_mode() != RandomMode::PerCoordinate)
    bad_option("variant 'rempso' needs random_mode per-coordinate (with one random factor per particle, "
               "A^T (c r I) A = c r I and REMPSO equals EMPSO)");
  if (random_lanes() != 0 && random_lanes() != 8)
    bad_option("random_lanes must be 0 (one stream) or 8 (eight lanes), got " + std::to_string(random_lanes()));
  if (random_lanes() != 0 && (variant() != Variant::PSO || random_mode() != RandomMode::PerCoordinate))
    bad_option("random_lanes 8 needs variant 'pso' and random_mode per-coordinate (got variant '" +
               std::string(to_string(variant())) + "', random_mode " +
               (random_mode() == RandomMode::PerCoordinate ? "per-coordinate" : "per-particle") + ")");
  if (!(velocity_clamp() >= 0)) bad_option("velocity_clamp must be >= 0, got " + num(velocity_clamp()));
  if (stall_iterations() < 0) bad_option("stall_iterations must be >= 0");
  if (rows() < 1 || dim % rows() != 0)
    bad_option("rows (" + std::to_string(rows()) + ") must be >= 1 and divide the dimension (" +
               std::to_string(dim) + ")");
  auto check_bounds = [&](const std::vector<double>& b, const char* name) {
    if (!b.empty() && b.size() != 1 && static_cast<int64_t>(b.size()) != dim)
      bad_option(std::string(name) + " bounds must have 1 or " + std::to_string(dim) + " values, got " +
                 std::to_string(b.size()));
    for (double v : b)
      if (std::isnan(v)) bad_option(std::string(name) + " bound is NaN");
  };
  check_bounds(lower(), "lower");
  check_bounds(upper(), "upper");
  if (lower().empty() != upper().empty()) bad_option("give both lower and upper bounds, or neither");
  for (int64_t d = 0; d < dim && !lower().empty(); ++d) {
    double lo = lower()[lower().size() == 1 ? 0 : d], hi = upper()[upper().size() == 1 ? 0 : d];
    if (!(lo < hi))
      bad_option("lower bound must be < upper bound (coordinate " + std::to_string(d) + ": " + num(lo) +
                 " >= " + num(hi) + ")");
  }
}

template <typename T>
Swarm<T>::Swarm(SwarmOptions options, int64_t dim) : options_(std::move(options)), dim_(dim) {
  options_.validate(dim_);
  groups_ = options_.fitness_per_row() ? options_.rows() : 1;
  group_size_ = dim_ / groups_;
  if (!options_.lower().empty()) {
    lo_.resize(dim_);
    hi_.resize(dim_);
    for (int64_t d = 0; d < dim_; ++d) {
      lo_[d] = static_cast<T>(options_.lower()[options_.lower().size() == 1 ? 0 : d]);
      hi_[d] = static_cast<T>(options_.upper()[options_.upper().size() == 1 ? 0 : d]);
    }
  }
  const auto n = static_cast<size_t>(options_.particles() * dim_);
  // The per-particle buffers are read and written together in every pass. With
  // particles of 1024 floats they are multiples of 4 KiB long, and blocks that
  // malloc places one after the other then start within a few bytes of each
  // other modulo 4 KiB: a store to one and a load from another look alike to
  // the core's 4K-aliasing check and the load waits (measured: the swarm loss's
  // step about 6 % slower at 1024 rows). 576 spare bytes per block put
  // consecutive blocks about 600 bytes apart modulo 4 KiB. Where malloc reuses
  // freed blocks instead, the starts are whatever it gives, as before.
  constexpr size_t kStaggerBytes = 576;
  const auto nf = static_cast<size_t>(options_.particles() * groups_);
  for (auto [b, size] : {std::pair{&x_, n}, {&v_, n}, {&vprev_, n}, {&m_, n}, {&p_, n}, {&pf_, nf}, {&f_, nf}}) {
    std::vector<T>().swap(*b);
    b->reserve(size + kStaggerBytes / sizeof(T));
  }
  x_.assign(n, T(0));
  v_.assign(n, T(0));
  vprev_.assign(n, T(0));
  m_.assign(n, T(0));
  p_.assign(n, T(0));
  pf_.assign(nf, std::numeric_limits<T>::infinity());
  f_.assign(nf, std::numeric_limits<T>::infinity());
  g_.assign(static_cast<size_t>(dim_), T(0));
  gf_.assign(static_cast<size_t>(groups_), std::numeric_limits<T>::infinity());
  a1_.resize(static_cast<size_t>(dim_));
  a2_.resize(static_cast<size_t>(dim_));
  r1_.resize(static_cast<size_t>(dim_));
  r2_.resize(static_cast<size_t>(dim_));
  rng_.reseed(options_.seed());
}

template <typename T>
void Swarm<T>::reset(const T* positions, const T* velocities) {
  std::copy(positions, positions + x_.size(), x_.begin());
  if (velocities)
    std::copy(velocities, velocities + v_.size(), v_.begin());
  else
    std::fill(v_.begin(), v_.end(), T(0));
  if (!lo_.empty()) {
    const int64_t P = options_.particles();
    for (int64_t i = 0; i < P; ++i)
      for (int64_t d = 0; d < dim_; ++d) {
        T& x = x_[i * dim_ + d];
        x = std::min(std::max(x, lo_[d]), hi_[d]);
      }
  }
  std::fill(vprev_.begin(), vprev_.end(), T(0));
  std::fill(m_.begin(), m_.end(), T(0));
  std::fill(pf_.begin(), pf_.end(), std::numeric_limits<T>::infinity());
  std::fill(gf_.begin(), gf_.end(), std::numeric_limits<T>::infinity());
  p_ = x_;
  std::fill(g_.begin(), g_.end(), T(0));
  cbar_ = 0.0;
  iteration_ = 0;
  evaluations_ = 0;
  evaluated_ = false;
  started_ = true;
}

template <typename T>
void Swarm<T>::reset_uniform(double velocity_scale) {
  if (lo_.empty()) throw std::invalid_argument("reset_uniform needs finite lower and upper bounds");
  for (int64_t d = 0; d < dim_; ++d)
    if (!std::isfinite(static_cast<double>(lo_[d])) || !std::isfinite(static_cast<double>(hi_[d])))
      throw std::invalid_argument("reset_uniform needs finite bounds (coordinate " + std::to_string(d) + ")");
  std::vector<T> x(x_.size()), v(v_.size());
  const int64_t P = options_.particles();
  for (int64_t i = 0; i < P; ++i)
    for (int64_t d = 0; d < dim_; ++d) {
      const double lo = lo_[d], hi = hi_[d];
      x[i * dim_ + d] = static_cast<T>(rng_.uniform(lo, hi));
      const double s = velocity_scale * (hi - lo);
      v[i * dim_ + d] = static_cast<T>(s > 0 ? rng_.uniform(-s, s) : 0.0);
    }
  reset(x.data(), v.data());
}

template <typename T>
void Swarm<T>::evaluate(const Fitness& fitness) {
  if (!started_) throw std::logic_error("Swarm::evaluate called before reset()");
  const int64_t P = options_.particles();
  fitness(x_.data(), P, dim_, f_.data());
  evaluations_ += P;
  const int64_t nf = static_cast<int64_t>(f_.size());
  const int64_t G = groups_, gs = group_size_, D = dim_;
  const bool first = !evaluated_;
  if (gs != 1 || first) check_fitness(f_.data(), nf, 0);  // else the one-pass bests below check
  // Personal bests (strictly better replaces), with raw pointers: groups may be
  // single elements (per-element bests, or rows of one output), where a copy
  // call per group would cost more than the comparison; that case runs
  // branch-free so that random improvements cost no mispredictions.
  const T* f = f_.data();
  const T* x = x_.data();
  T* pf = pf_.data();
  T* p = p_.data();
  T* gf = gf_.data();
  T* g = g_.data();
  if (gs == 1) {
    // D == G: particle i's group gi is element i * D + gi of every buffer (distinct vectors).
    if (first) {
      // Every start is a personal best; particle 0 takes the swarm bests before comparing.
      const int64_t n = P * G;
      std::copy(f, f + n, pf);
      std::copy(x, x + n, p);
      std::copy(pf, pf + G, gf);
      std::copy(p, p + G, g);
      element_swarm_bests<T>(pf, p, gf, g, 1, P, G);
    } else {
      // Personal and swarm bests, one pass per particle; a NaN or -inf is
      // never taken, and is reported (with its particle) after the pass.
      if (element_all_bests<T>(f, x, pf, p, gf, g, P, G)) check_fitness(f, nf, 0);
    }
    evaluated_ = true;
    return;
  }
  for (int64_t i = 0; i < P; ++i)
    for (int64_t gi = 0; gi < G; ++gi) {
      const int64_t k = i * G + gi;
      if (f[k] < pf[k] || first) {
        pf[k] = f[k];
        const int64_t off = i * D + gi * gs;
        for (int64_t j = 0; j < gs; ++j) p[off + j] = x[off + j];
      }
    }
  // Swarm bests, per group: the first particle with the lowest personal best
  // (particles in order, strictly better replaces; the first evaluation always
  // takes particle 0 before comparing).
  best_.assign(static_cast<size_t>(G), -1);
  int32_t* best = best_.data();
  if (first) {
    std::copy(pf, pf + G, gf);
    std::fill(best, best + G, 0);
  }
  swarm_bests<T>(pf, gf, best, first ? 1 : 0, P, G);
  for (int64_t gi = 0; gi < G; ++gi)
    if (best[gi] >= 0) {
      const T* src = p + best[gi] * D + gi * gs;
      for (int64_t j = 0; j < gs; ++j) g[gi * gs + j] = src[j];
    }
  evaluated_ = true;
}

template <typename T>
void Swarm<T>::check_fitness(const T* f, int64_t n, int64_t first) const {
  // NaN or -inf is an error: one branch-free pass (both fail `f > -inf`), then
  // the culprit is looked for only when there is one.
  if (!fitness_bad<T>(f, n)) return;
  for (int64_t k = 0; k < n; ++k) {
    const T v = f[k];
    if (std::isnan(v) || (std::isinf(v) && v < 0))
      throw std::domain_error("swarm fitness returned " + std::string(std::isnan(v) ? "NaN" : "-inf") +
                              " for particle " + std::to_string(first + k / groups_) +
                              (groups_ > 1 ? " row " + std::to_string(k % groups_) : std::string()));
  }
}

template <typename T>
void Swarm<T>::draw_rotation_pairs() {
  perm_.resize(static_cast<size_t>(dim_));
  std::iota(perm_.begin(), perm_.end(), 0);
  for (int64_t i = dim_ - 1; i > 0; --i) std::swap(perm_[i], perm_[rng_.below(static_cast<uint64_t>(i + 1))]);
  pairs_.clear();
  for (int64_t k = 0; k + 1 < dim_; k += 2) pairs_.emplace_back(perm_[k], perm_[k + 1]);
}

template <typename T>
void Swarm<T>::rotate(T* d, bool transpose) const {
  const T c = static_cast<T>(std::cos(options_.rotation_angle()));
  const T s = static_cast<T>(std::sin(options_.rotation_angle())) * (transpose ? T(-1) : T(1));
  for (const auto& [i, j] : pairs_) {
    const T di = d[i], dj = d[j];
    d[i] = c * di - s * dj;
    d[j] = s * di + c * dj;
  }
}

template <typename T>
void Swarm<T>::step(const Fitness& fitness) {
  if (!started_) throw std::logic_error("Swarm::step called before reset()");
  if (!evaluated_) evaluate(fitness);
  const int64_t P = options_.particles();
  const int64_t D = dim_;
  const T c1 = static_cast<T>(options_.c1()), c2 = static_cast<T>(options_.c2());
  const T beta = static_cast<T>(options_.beta()), w = static_cast<T>(options_.inertia());
  const T lam = static_cast<T>(options_.lambda());
  const bool per_coord = options_.random_mode() == RandomMode::PerCoordinate;
  const Variant variant = options_.variant();
  const bool rempso = variant == Variant::REMPSO;
  const bool ref_rot = options_.reference_rotation();
  const int64_t rows = options_.rows(), row_len = D / rows;
  const int64_t n_rot_rows = std::min<int64_t>(rows, 2 * static_cast<int64_t>(std::floor(0.4 * rows)));
  const T ref_scale = static_cast<T>(std::pow(std::cos(M_PI / 5.0), 2.0));
  const T vclamp = static_cast<T>(options_.velocity_clamp());
  const bool vbounds = options_.clamp_velocity_to_bounds() && !lo_.empty();
  const bool zero_at_bounds = options_.zero_velocity_at_bounds();
  const double rlow = options_.random_low();
  // U(0, 1) when rlow = 0: 0 + 1 * u is u, bit for bit.
  auto draw_r = [&]() { return rng_.uniform(rlow, 1.0); };
  if (rempso) draw_rotation_pairs();

  const bool async = options_.asynchronous();
  const bool fused = variant == Variant::EMPSO && options_.store_momentum() && !per_coord && !ref_rot &&
                     vclamp == 0 && !vbounds && lo_.empty() && !async;
  double csum = 0.0;
  if (variant == Variant::PSO && !ref_rot) {
    // PSO (the PGSO area's case): draws, then one fused pass per particle.
    const bool bounded = !lo_.empty();
    const PsoMoveFn<T> move =
        pick_pso_move<T>({per_coord, vclamp > 0, vbounds, bounded, bounded && zero_at_bounds});
    // r1_, r2_ hold k1 = c1 r1, k2 = c2 r2 here.
    const PsoDrawsFn<T> draws = pick_pso_draws<T>(rlow == 0.0);
    PsoMove<T> m{};
    m.D = D;
    m.g = g_.data();
    m.r1 = r1_.data();
    m.r2 = r2_.data();
    m.w = w;
    m.vclamp = vclamp;
    m.lo = bounded ? lo_.data() : nullptr;
    m.hi = bounded ? hi_.data() : nullptr;
    const bool lanes = options_.random_lanes() != 0;  // validated: PSO, per coordinate
    // random_lanes 8: per particle, its D r1 then its D r2 from eight lanes
    // seeded by rng_ at the start of the step (each particle takes whole
    // blocks of eight, the unused end of the last one is dropped); c1 r1 and
    // c2 r2 in a vector loop that also adds up c1 r1 + c2 r2 for cbar (eight
    // partial sums in a fixed order: equal to the one-stream order up to
    // rounding, and as reproducible). Small buffers: they stay in L1.
    std::unique_ptr<RngLanes8> gen;
    if (lanes) {
      gen = std::make_unique<RngLanes8>(rng_);
      lane_u_.resize(static_cast<size_t>(2 * D));
      lane_k_.resize(static_cast<size_t>(2 * D));
    }
    for (int64_t i = 0; i < P; ++i) {
      m.x = x_.data() + i * D;
      m.v = v_.data() + i * D;
      m.p = p_.data() + i * D;
      if (lanes) {
        lanes_fill(*gen, lane_u_.data(), 2 * D, rlow, 1.0);
        csum += lanes_prepare<T>(lane_u_.data(), D, c1, c2, lane_k_.data()) / static_cast<double>(D);
        m.r1 = lane_k_.data();
        m.r2 = lane_k_.data() + D;
      } else if (per_coord) {
        // a1_, a2_ (scratch) hold this and the previous particle's c1 r1 + c2 r2;
        // the previous one's sum comes back from this call (added in order).
        T* ks = (i % 2 ? a2_ : a1_).data();
        const T* prev = i > 0 ? (i % 2 ? a1_ : a2_).data() : nullptr;
        const double sum_prev = draws(rng_, r1_.data(), r2_.data(), ks, prev, D, rlow, c1, c2);
        if (i > 0) csum += sum_prev / static_cast<double>(D);
        if (i == P - 1) {
          double s = 0.0;
          for (int64_t d = 0; d < D; ++d) s += static_cast<double>(ks[d]);
          csum += s / static_cast<double>(D);
        }
      } else {
        const T r1 = static_cast<T>(draw_r()), r2 = static_cast<T>(draw_r());
        m.k1 = c1 * r1;
        m.k2 = c2 * r2;
        csum += static_cast<double>(m.k1 + m.k2);
      }
      move(m);
      if (async) evaluate_particle(i, fitness);
    }
    cbar_ = csum / static_cast<double>(P);
    ++iteration_;
    if (!async) evaluate(fitness);
    return;
  }
  std::vector<int64_t> row_perm;
  for (int64_t i = 0; i < P; ++i) {
    T* x = x_.data() + i * D;
    T* v = v_.data() + i * D;
    T* vp = vprev_.data() + i * D;
    T* m = m_.data() + i * D;
    const T* p = p_.data() + i * D;
    const T* g = g_.data();
    T* a1 = a1_.data();
    T* a2 = a2_.data();
    if (fused) {
      // The swarm loss's common case (EMPSO, stored momentum, one r pair per
      // particle, no bounds or clamps) in one pass: the same expressions in the
      // same order as the general path below, so the results are identical.
      const T k1 = c1 * static_cast<T>(draw_r()), k2 = c2 * static_cast<T>(draw_r());
      csum += static_cast<double>(k1 + k2);
      empso_move<T>(EmpsoMove<T>{D, x, v, m, p, g, k1, k2, beta, T(1) - beta});
      continue;
    }
    // Attraction terms a1 = c1 r1 (p - x), a2 = c2 r2 (g - x).
    if (per_coord) {
      for (int64_t d = 0; d < D; ++d) {
        r1_[d] = static_cast<T>(draw_r());
        r2_[d] = static_cast<T>(draw_r());
      }
      double s = 0.0;
      for (int64_t d = 0; d < D; ++d) {
        a1[d] = c1 * r1_[d] * (p[d] - x[d]);
        a2[d] = c2 * r2_[d] * (g[d] - x[d]);
        s += static_cast<double>(c1 * r1_[d] + c2 * r2_[d]);
      }
      csum += s / static_cast<double>(D);
    } else {
      const T r1 = static_cast<T>(draw_r()), r2 = static_cast<T>(draw_r());
      const T k1 = c1 * r1, k2 = c2 * r2;
      for (int64_t d = 0; d < D; ++d) {
        a1[d] = k1 * (p[d] - x[d]);
        a2[d] = k2 * (g[d] - x[d]);
      }
      csum += static_cast<double>(k1 + k2);
    }
    if (rempso) {
      // A^T Phi A (target - x): rotate the difference, scale, rotate back.
      if (per_coord) {
        for (int64_t d = 0; d < D; ++d) {
          a1[d] = p[d] - x[d];
          a2[d] = g[d] - x[d];
        }
        rotate(a1, false);
        rotate(a2, false);
        for (int64_t d = 0; d < D; ++d) {
          a1[d] *= c1 * r1_[d];
          a2[d] *= c2 * r2_[d];
        }
        rotate(a1, true);
        rotate(a2, true);
      }
      // With one r per particle, Phi = c r I and A^T Phi A = Phi: nothing to do.
    }
    if (ref_rot && n_rot_rows > 0) {
      row_perm.resize(static_cast<size_t>(rows));
      std::iota(row_perm.begin(), row_perm.end(), 0);
      for (int64_t k = 0; k < n_rot_rows; ++k) {
        const int64_t j = k + static_cast<int64_t>(rng_.below(static_cast<uint64_t>(rows - k)));
        std::swap(row_perm[k], row_perm[j]);
        const int64_t r = row_perm[k];
        for (int64_t d = r * row_len; d < (r + 1) * row_len; ++d) {
          a1[d] *= ref_scale;
          a2[d] *= ref_scale;
        }
      }
    }
    // Velocity rule.
    switch (variant) {
      case Variant::PSO:
        for (int64_t d = 0; d < D; ++d) v[d] = w * v[d] + a1[d] + a2[d];
        break;
      case Variant::MPSO:
        for (int64_t d = 0; d < D; ++d) {
          const T nv = (T(1) - lam) * (v[d] + a1[d] + a2[d]) + lam * vp[d];
          vp[d] = v[d];
          v[d] = nv;
        }
        break;
      case Variant::EMPSO:
      case Variant::REMPSO:
        if (options_.store_momentum()) {
          for (int64_t d = 0; d < D; ++d) {
            m[d] = beta * m[d] + (T(1) - beta) * v[d];
            v[d] = m[d] + a1[d] + a2[d];
          }
        } else {
          for (int64_t d = 0; d < D; ++d) v[d] = (T(1) - beta) * v[d] + a1[d] + a2[d];
        }
        break;
    }
    if (vclamp > 0)
      for (int64_t d = 0; d < D; ++d) v[d] = std::min(std::max(v[d], -vclamp), vclamp);
    if (vbounds)
      for (int64_t d = 0; d < D; ++d) v[d] = std::min(std::max(v[d], lo_[d]), hi_[d]);
    for (int64_t d = 0; d < D; ++d) x[d] += v[d];
    if (!lo_.empty()) {
      if (zero_at_bounds) {
        for (int64_t d = 0; d < D; ++d) {
          const T clamped = std::min(std::max(x[d], lo_[d]), hi_[d]);
          if (clamped != x[d]) v[d] = T(0);
          x[d] = clamped;
        }
      } else {
        for (int64_t d = 0; d < D; ++d) x[d] = std::min(std::max(x[d], lo_[d]), hi_[d]);
      }
    }
    if (async) evaluate_particle(i, fitness);
  }
  cbar_ = csum / static_cast<double>(P);
  ++iteration_;
  if (!async) evaluate(fitness);
}

template <typename T>
void Swarm<T>::evaluate_particle(int64_t i, const Fitness& fitness) {
  const int64_t G = groups_, gs = group_size_, D = dim_;
  T* f = f_.data() + i * G;
  const T* x = x_.data() + i * D;
  fitness(x, 1, D, f);
  evaluations_ += 1;
  check_fitness(f, G, i);
  // Strictly better replaces, as in evaluate(); the swarm best follows at once.
  for (int64_t gi = 0; gi < G; ++gi) {
    const int64_t k = i * G + gi;
    if (!(f[gi] < pf_[k])) continue;
    pf_[k] = f[gi];
    const int64_t off = i * D + gi * gs;
    std::copy(x + gi * gs, x + (gi + 1) * gs, p_.begin() + off);
    if (f[gi] < gf_[gi]) {
      gf_[gi] = f[gi];
      std::copy(x + gi * gs, x + (gi + 1) * gs, g_.begin() + gi * gs);
    }
  }
}

template <typename T>
RunInfo Swarm<T>::run(const Fitness& fitness) {
  return run(fitness, options_.iterations());
}

template <typename T>
RunInfo Swarm<T>::run(const Fitness& fitness, int64_t iterations) {
  if (iterations < 0) throw std::invalid_argument("invalid swarm option: iterations must be >= 0");
  RunInfo info;
  const int64_t evals0 = evaluations_;
  if (!evaluated_) evaluate(fitness);
  // The summed best is needed between steps only for a tolerance or a stall
  // rule (a serial sum over the groups: with per-row bests, as long as a step
  // of a small swarm); it is the same value either way.
  const double tolerance = options_.tolerance();
  const bool watch = tolerance > -std::numeric_limits<double>::infinity() || options_.stall_iterations() > 0;
  double b = watch ? best_fitness() : 0.0;
  double last_best = b;
  int64_t stall = 0;
  for (int64_t it = 0; it < iterations; ++it) {
    if (watch && b <= tolerance) {
      info.reached_tolerance = true;
      break;
    }
    step(fitness);
    ++info.iterations;
    if (!watch) continue;
    b = best_fitness();
    if (last_best - b > options_.stall_delta()) {
      stall = 0;
    } else if (options_.stall_iterations() > 0 && ++stall >= options_.stall_iterations()) {
      info.stalled = true;
      last_best = b;
      break;
    }
    last_best = std::min(last_best, b);
  }
  info.best_fitness = best_fitness();
  if (info.best_fitness <= tolerance) info.reached_tolerance = true;
  info.evaluations = evaluations_ - evals0;
  return info;
}

template <typename T>
double Swarm<T>::best_fitness() const {
  double s = 0.0;
  for (T f : gf_) s += static_cast<double>(f);
  return s;
}

template <typename T>
void Swarm<T>::approximate_gradient(const T* x, double eta, T* out) const {
  if (!(eta > 0)) throw std::invalid_argument("invalid swarm option: eta must be > 0");
  const T k = static_cast<T>(cbar_ / eta);
  for (int64_t d = 0; d < dim_; ++d) out[d] = k * (x[d] - g_[d]);
}

template <typename T>
void Swarm<T>::set_global_best(const T* position, const T* fitness) {
  std::copy(position, position + dim_, g_.begin());
  std::copy(fitness, fitness + groups_, gf_.begin());
}

template class Swarm<float>;
template class Swarm<double>;

std::vector<double> givens_matrix(int64_t dim, const std::vector<std::pair<int64_t, int64_t>>& pairs,
                                  double theta) {
  std::vector<double> a(static_cast<size_t>(dim * dim), 0.0);
  for (int64_t d = 0; d < dim; ++d) a[d * dim + d] = 1.0;
  const double c = std::cos(theta), s = std::sin(theta);
  for (const auto& [i, j] : pairs) {
    if (i < 0 || j < 0 || i >= dim || j >= dim || i == j)
      throw std::invalid_argument("givens_matrix: bad axis pair");
    // Left-multiply by the rotation G(i, j): rows i and j mix.
    for (int64_t col = 0; col < dim; ++col) {
      const double ai = a[i * dim + col], aj = a[j * dim + col];
      a[i * dim + col] = c * ai - s * aj;
      a[j * dim + col] = s * ai + c * aj;
    }
  }
  return a;
}

}  // namespace adaswarm::swarm
