// Element-wise maths for CustomKernel loops that the compiler can vectorise.
//
// A CustomKernel (swarm_loss.h) evaluates a loss on every candidate of every
// swarm iteration: P x B x C elements, (iterations + 1) times per step. Calls
// of std::cos or std::nearbyint in such a loop are scalar library calls (GCC
// does not vectorise them without -ffast-math), and they made a hand-written
// kernel slower than the same loss as LibTorch ops (docs/benchmarks.md). The
// functions here are inline, branch-free and use only + - * and selects, so a
// loop of them under `#pragma omp simd` (or -O3) compiles to vector code at any
// ISA, including the baseline x86-64 one; kernel_math::fused's use fused
// multiply-adds, for loops compiled for FMA. They do not depend on
// -ffast-math (they need IEEE arithmetic and the default rounding mode).
//
// Header-only, no LibTorch. Tests: tests/test_kernel_math.cpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

/// Put before a free function that holds a kernel's loop (not a lambda) to
/// compile it for AVX-512, x86-64-v3 (AVX2 with FMA) and the baseline x86-64,
/// the best one picked when the program loads (GCC's target_clones), with the
/// loop's multiply-adds left unfused (kernel_math::fused's are std::fma calls,
/// one rounding on every path) so that every path gives the same bits
/// (x86-64-v3: AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE, which every AVX2 CPU
/// since 2013 has; a CPU without one of them runs the baseline clone):
///
///   ADASWARM_KERNEL_CLONES void my_loss(const float* x, const float* t, int64_t n, float* out) {
///   #pragma omp simd
///     for (int64_t k = 0; k < n; ++k) out[k] = 1.0f - adaswarm::kernel_math::cos(x[k] - t[k]);
///   }
///
/// A build for the baseline ISA runs such a loop 4 floats at a time, AVX-512
/// 16 (3.4x faster for the multi-well loss on a 2026 EPYC: docs/benchmarks.md;
/// kernel_math::fused's functions a further 1.3x on the AVX-512 and x86-64-v3
/// clones).
/// Empty on other compilers and targets, and in sanitizer builds.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__) && !defined(ADASWARM_NO_KERNEL_CLONES)
#if __GNUC__ >= 12  // target_clones' "arch=x86-64-v3" (tested with GCC 12)
#define ADASWARM_KERNEL_CLONES \
  __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"), optimize("fp-contract=off")))
#else  // an AVX2 clone without FMA: kernel_math::fused calls fmaf there
#define ADASWARM_KERNEL_CLONES \
  __attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off")))
#endif
#else
#define ADASWARM_KERNEL_CLONES
#endif

namespace adaswarm::kernel_math {

namespace detail {
inline uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
inline float float_of(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}
}  // namespace detail

/// c ? a : b by bit masks, for every float (NaN, signed zeros and infinities
/// pass through unchanged). Write a kernel's clamps and piecewise parts with it
/// rather than `?:`: GCC may turn a ternary into a branch (threading a clamped
/// constant through what follows), and it does not vectorise a loop whose
/// branch guards a division, as that could trap (-ftrapping-math, the
/// default). The simulator use case's kernel ran scalar for that reason.
inline float select(bool c, float a, float b) {
  const uint32_t m = uint32_t{0} - static_cast<uint32_t>(c);
  return detail::float_of((detail::bits_of(a) & m) | (detail::bits_of(b) & ~m));
}

/// x rounded to the nearest integer, ties to even: std::nearbyint(x) in the
/// default rounding mode, for every float (zeros keep their sign, NaN and
/// infinities pass through; tested against std::nearbyint).
inline float round_even(float x) {
  // For |x| < 2^23, |x| + 2^23 lies in [2^23, 2^24), where floats are the
  // integers: the addition rounds |x| to an integer (ties to even, as 2^23 is
  // even) and the subtraction is exact; the sign is x's (round(-0.3) is -0).
  // Larger floats are integers already. Selects by bit masks, as below.
  constexpr float kTwo23 = 8388608.0f;
  const float a = std::fabs(x);
  const uint32_t xb = detail::bits_of(x);
  const uint32_t rb = detail::bits_of((a + kTwo23) - kTwo23) | (xb & 0x80000000u);
  const uint32_t small = uint32_t{0} - static_cast<uint32_t>(a < kTwo23);
  return detail::float_of((rb & small) | (xb & ~small));
}

/// cos(x) for float x with |x| <= 8192 (the reduction's domain): within
/// 1.5e-7 of the exact cosine (1.19e-7 measured; tested on a dense grid and at
/// the edges), all in float so that a loop runs at the full float vector width
/// on any ISA, the baseline x86-64 included. For |x| > 8192, NaN and
/// infinities it returns NaN: use std::cos there.
inline float cos(float x);

/// sin(x), same domain and accuracy as cos.
inline float sin(float x);

/// The same functions with fused multiply-adds (std::fma: one rounding
/// each): 9 fused operations where cos and sin above have 18 separate ones,
/// about 1.3x faster in an AVX-512 or x86-64-v3 (AVX2 + FMA) loop, e.g. an
/// ADASWARM_KERNEL_CLONES function (docs/benchmarks.md), with the same bits on
/// every ISA (not the same bits as kernel_math::cos). Same domain; within
/// 1.5e-7 of the exact value (1.39e-7 measured). Where the loop is compiled
/// for an ISA without FMA (the baseline x86-64: a function without the clones
/// macro, a lambda, the clones' fallback on a pre-2013 CPU) each fused
/// operation is a call of the C library's exact fmaf, and the loop is scalar
/// and about 10x slower than kernel_math::cos: use these only in code compiled
/// for FMA.
namespace fused {
inline float cos(float x);
inline float sin(float x);
}  // namespace fused

namespace detail {
constexpr float kDomain = 8192.0f;

// a b + c: two roundings (Fused = false; the fallback in `a * b + c` is the
// same addition as `c + a * b`), or one (std::fma).
template <bool Fused>
inline float mul_add(float a, float b, float c) {
  if constexpr (Fused) {
    return std::fma(a, b, c);
  } else {
    return a * b + c;
  }
}

// sin(r) for |r| <= pi/2 (a little more after rounding): r + r^3 P(r^2), P a
// degree-3 polynomial fitted to sin on [0, pi/2] by near-minimax weighted least
// squares (truncation below 5e-9 there; float rounding dominates the error).
template <bool Fused>
inline float sin_poly(float r) {
  const float z = r * r;
  float p = mul_add<Fused>(z, 2.59986188e-6f, -1.98065285e-4f);
  p = mul_add<Fused>(z, p, 8.33301619e-3f);
  p = mul_add<Fused>(z, p, -0.166666570f);
  return mul_add<Fused>(r * z, p, r);
}

// sin(x + s pi/2) for s = 0 (sin) or 1 (cos) as (-1)^n sin(r), with
// n = round(x/pi + s/2) and r = x - k pi/2, k = 2n - s (|r| <= pi/2): one
// polynomial, no quadrant selects. Cody-Waite reduction with pi/2 in three parts;
// the first has 8 significant bits, so k kP1 is exact for |k| < 2^16, which
// |x| <= 8192 keeps (|k| <= 5217). n is rounded by adding 1.5 * 2^23, whose low
// mantissa bit is then n's parity: the sign flip, by bit masks. No float-to-int
// conversion (undefined for NaN) and no branch (which would stop vectorisation).
template <bool Fused>
inline float sin_shifted(float x, float s) {
  constexpr float kOneOverPi = 0.318309886f;
  constexpr float kP1 = 1.5703125f;
  constexpr float kP2 = 4.837512969970703125e-4f;
  constexpr float kP3 = 7.54978995489188216e-8f;
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: rounds to an integer
  const float shifted = mul_add<Fused>(x, kOneOverPi, 0.5f * s) + kMagic;
  const float n = shifted - kMagic;
  const float k = (n + n) - s;  // exact
  const float r = mul_add<Fused>(-k, kP3, mul_add<Fused>(-k, kP2, mul_add<Fused>(-k, kP1, x)));
  const uint32_t vb = bits_of(sin_poly<Fused>(r)) ^ (bits_of(shifted) << 31);  // (-1)^n
  // Outside the domain (and for NaN, infinities): NaN, never a wrong number.
  const uint32_t outside = uint32_t{0} - static_cast<uint32_t>(!(std::fabs(x) <= kDomain));
  return float_of(vb | (outside & 0x7fc00000u));
}
}  // namespace detail

inline float cos(float x) { return detail::sin_shifted<false>(x, 1.0f); }
inline float sin(float x) { return detail::sin_shifted<false>(x, 0.0f); }
inline float fused::cos(float x) { return detail::sin_shifted<true>(x, 1.0f); }
inline float fused::sin(float x) { return detail::sin_shifted<true>(x, 0.0f); }

}  // namespace adaswarm::kernel_math
