// A small, fast, seedable random generator (xoshiro256++), one per worker.
// Every stochastic component of adaswarm draws from one of these; the same seed
// gives the same stream on every machine.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>

namespace adaswarm {

#if defined(__GNUC__)
#define ADASWARM_RNG_INLINE inline __attribute__((always_inline))
#else
#define ADASWARM_RNG_INLINE inline
#endif

/// splitmix64: used to expand a 64-bit seed (and a stream index) into state.
inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// GCC warns (-Wpsabi) that passing a 512-bit vector type by value has another
// ABI with and without AVX-512. That is real when such a function is called,
// not inlined: an AVX-512 caller (swarm/passes.h's lanes_fill_avx512) passes the
// vector in a register, the baseline-compiled callee reads it from memory. At
// -O0 (the sanitizer builds) the templates were called, and the lanes path gave
// wrong numbers on AVX-512 machines. They are always inlined now
// (ADASWARM_RNG_INLINE, honoured at -O0), so no vector crosses a call; the
// warning, about calls that no longer happen, is silenced here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
/// One xoshiro256++ state transition, for one generator (uint64_t) or for
/// lanes stepped together (GCC vector types): Rng, RngLanes8 and the PSO's
/// register walk (swarm.cpp) all use this one.
template <class U>
ADASWARM_RNG_INLINE void xoshiro_advance(U& s0, U& s1, U& s2, U& s3) {
  const U t = s1 << 17;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = (s3 << 45) | (s3 >> 19);
}
/// xoshiro256++'s output, from s0 and s3 before the transition.
template <class U>
ADASWARM_RNG_INLINE U xoshiro_output(const U& s0, const U& s3) {
  const U x = s0 + s3;
  return ((x << 23) | (x >> 41)) + s0;
}

class Rng {
 public:
  using result_type = uint64_t;
  /// `stream` selects an independent stream for the same seed (one per worker).
  explicit Rng(uint64_t seed = 0, uint64_t stream = 0) { reseed(seed, stream); }

  void reseed(uint64_t seed, uint64_t stream = 0) {
    uint64_t x = seed ^ (0xD1B54A32D192ED03ULL * (stream + 1));
    for (auto& w : s_) w = splitmix64(x);
  }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<uint64_t>::max(); }

  result_type operator()() {
    const uint64_t result = xoshiro_output(s_[0], s_[3]);
    xoshiro_advance(s_[0], s_[1], s_[2], s_[3]);
    return result;
  }
  /// Uniform double in [0, 1).
  double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
  /// Uniform double in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return n == 0 ? 0 : (*this)() % n; }

  const std::array<uint64_t, 4>& state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_{};
};

/// Eight xoshiro256++ generators stepped together: the bulk stream behind
/// SwarmOptions::random_lanes (opt-in; the default stream is Rng's). Lane j's
/// four state words are splitmix64 of 32 consecutive outputs of a parent Rng
/// (word w of lane j from output 4 j + w), so a RngLanes8 carries no state of
/// its own beyond what it took from the parent. Value k of a fill is lane
/// k % 8's output number k / 8 (a partial last block still steps every lane).
/// fill() is written for the vectoriser (the lanes are independent);
/// fill_reference() computes the same bits one value at a time.
class RngLanes8 {
 public:
  static constexpr int kLanes = 8;
  explicit RngLanes8(Rng& parent) {
    for (int j = 0; j < kLanes; ++j) {
      uint64_t w[4];
      for (auto& x : w) {
        uint64_t v = parent();
        x = splitmix64(v);
      }
      s0_[j] = w[0], s1_[j] = w[1], s2_[j] = w[2], s3_[j] = w[3];
    }
  }
  /// out[k] = lo + (hi - lo) u_k for k < n, u_k uniform in [0, 1) as Rng::uniform.
  ADASWARM_RNG_INLINE void fill(double* out, int64_t n, double lo, double hi) {
#if defined(__GNUC__)
    // GCC/Clang vector types: the eight lanes of a state word are one vector
    // (one AVX-512 register, or several narrower ones), whatever the target.
    typedef uint64_t u64x8 __attribute__((vector_size(64)));
    typedef double f64x8 __attribute__((vector_size(64)));
    u64x8 a, b, c, e;
    std::memcpy(&a, s0_, sizeof a);
    std::memcpy(&b, s1_, sizeof b);
    std::memcpy(&c, s2_, sizeof c);
    std::memcpy(&e, s3_, sizeof e);
    const double span = hi - lo;
    const f64x8 vlo = {lo, lo, lo, lo, lo, lo, lo, lo}, vspan = {span, span, span, span, span, span, span, span};
    const f64x8 scale = {0x1.0p-53, 0x1.0p-53, 0x1.0p-53, 0x1.0p-53, 0x1.0p-53, 0x1.0p-53, 0x1.0p-53, 0x1.0p-53};
    for (int64_t k0 = 0; k0 < n; k0 += kLanes) {
      const u64x8 result = xoshiro_output(a, e);
      xoshiro_advance(a, b, c, e);
      const f64x8 u = vlo + vspan * (__builtin_convertvector(result >> 11, f64x8) * scale);
      if (n - k0 >= kLanes) {
        std::memcpy(out + k0, &u, sizeof u);
      } else {
        double tail[kLanes];
        std::memcpy(tail, &u, sizeof u);
        for (int64_t j = 0; j < n - k0; ++j) out[k0 + j] = tail[j];
      }
    }
    std::memcpy(s0_, &a, sizeof a);
    std::memcpy(s1_, &b, sizeof b);
    std::memcpy(s2_, &c, sizeof c);
    std::memcpy(s3_, &e, sizeof e);
#else
    fill_reference(out, n, lo, hi);
#endif
  }
  /// The same values as fill(), one lane step at a time (the test reference).
  void fill_reference(double* out, int64_t n, double lo, double hi) {
    for (int64_t k0 = 0; k0 < n; k0 += kLanes)
      for (int j = 0; j < kLanes; ++j) {
        Rng one;
        one.set_state({s0_[j], s1_[j], s2_[j], s3_[j]});
        const uint64_t result = one();
        const auto& st = one.state();
        s0_[j] = st[0], s1_[j] = st[1], s2_[j] = st[2], s3_[j] = st[3];
        volatile double prod = (hi - lo) * (static_cast<double>(result >> 11) * 0x1.0p-53);  // no fused multiply-add
        if (k0 + j < n) out[k0 + j] = lo + prod;
      }
  }

 private:
  alignas(64) uint64_t s0_[kLanes], s1_[kLanes], s2_[kLanes], s3_[kLanes];
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace adaswarm
