// kernel_math: the vectorisable element-wise functions for CustomKernel loops
// against the C library, on dense grids, at the domain's edges and on random
// bit patterns.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "adaswarm/loss/kernel_math.h"

namespace km = adaswarm::kernel_math;

namespace {
uint32_t bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
float from_bits(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}
// The points cos and sin are checked at: a dense grid over the domain, next to
// the multiples of pi/2 (where the reduction cancels most) and the edges.
template <typename F>
void for_each_domain_point(F check) {
  for (double x = -8192.0; x <= 8192.0; x += 0.00731) check(static_cast<float>(x));
  for (int k = -5215; k <= 5215; ++k) {
    const float m = static_cast<float>(k * 1.5707963267948966);
    for (float x : {m, std::nextafter(m, 1e9f), std::nextafter(m, -1e9f)}) check(x);
  }
  for (float x : {8192.0f, -8192.0f, 0.0f, -0.0f, 1e-30f, 0.785398f}) check(x);
}
void expect_same_float(float got, float want, float x) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << "x = " << x;
  } else {
    EXPECT_EQ(bits(got), bits(want)) << "x = " << x << ": " << got << " vs " << want;
  }
}
}  // namespace

TEST(KernelMath, RoundEvenIsNearbyintForEveryKindOfFloat) {
  // Halves (the ties), values around them, signed zeros, the 2^22 / 2^23
  // boundaries of the trick, huge values, infinities, NaN.
  std::vector<float> xs = {0.0f, -0.0f, 0.3f, -0.3f, 0.5f, -0.5f, 0.7f, -0.7f,
                           4194303.5f, -4194303.5f, 4194304.0f, 4194305.0f, 8388607.0f, 8388608.0f,
                           8388609.0f, 1e10f, -1e30f, std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::denorm_min(),
                           -std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::quiet_NaN()};
  for (int k = -2000; k <= 2000; ++k) {
    const float h = static_cast<float>(k) + 0.5f;
    xs.push_back(h);
    xs.push_back(std::nextafter(h, 1e9f));
    xs.push_back(std::nextafter(h, -1e9f));
  }
  std::mt19937 gen(7);
  for (int i = 0; i < 1000000; ++i) xs.push_back(from_bits(static_cast<uint32_t>(gen())));
  for (float x : xs) expect_same_float(km::round_even(x), std::nearbyint(x), x);
}

TEST(KernelMath, CosAndSinAreWithinTheirStatedErrorOnTheDomain) {
  double worst_cos = 0.0, worst_sin = 0.0;
  auto check = [&](float x) {
    const double xd = x;
    worst_cos = std::max(worst_cos, std::fabs(static_cast<double>(km::cos(x)) - std::cos(xd)));
    worst_sin = std::max(worst_sin, std::fabs(static_cast<double>(km::sin(x)) - std::sin(xd)));
  };
  for_each_domain_point(check);
  EXPECT_LE(worst_cos, 1.5e-7);
  EXPECT_LE(worst_sin, 1.5e-7);
  // Exact where it must be.
  EXPECT_EQ(km::cos(0.0f), 1.0f);
  EXPECT_EQ(km::sin(0.0f), 0.0f);
}

TEST(KernelMath, FusedCosAndSinAreWithinTheirStatedErrorAndDifferFromTheUnfusedOnes) {
  double worst_cos = 0.0, worst_sin = 0.0;
  int64_t differ = 0, n = 0;
  auto check = [&](float x) {
    const double xd = x;
    const float c = km::fused::cos(x), s = km::fused::sin(x);
    worst_cos = std::max(worst_cos, std::fabs(static_cast<double>(c) - std::cos(xd)));
    worst_sin = std::max(worst_sin, std::fabs(static_cast<double>(s) - std::sin(xd)));
    differ += (bits(c) != bits(km::cos(x))) + (bits(s) != bits(km::sin(x)));
    n += 2;
  };
  for_each_domain_point(check);
  EXPECT_LE(worst_cos, 1.5e-7);
  EXPECT_LE(worst_sin, 1.5e-7);
  EXPECT_EQ(km::fused::cos(0.0f), 1.0f);
  EXPECT_EQ(km::fused::sin(0.0f), 0.0f);
  // The fused operations round once where the plain ones round twice: on a
  // dense grid some last bits differ (if none did, `fused` would not be fused).
  EXPECT_GT(differ, n / 100) << differ << " of " << n;
  for (float x : {std::nextafter(8192.0f, 1e9f), -1e30f, std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN()}) {
    EXPECT_TRUE(std::isnan(km::fused::cos(x))) << x;
    EXPECT_TRUE(std::isnan(km::fused::sin(x))) << x;
  }
}

TEST(KernelMath, CosAndSinAreNaNOutsideTheDomain) {
  for (float x : {std::nextafter(8192.0f, 1e9f), -std::nextafter(8192.0f, 1e9f), 1e30f, -3e38f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN()}) {
    EXPECT_TRUE(std::isnan(km::cos(x))) << x;
    EXPECT_TRUE(std::isnan(km::sin(x))) << x;
  }
}

// The loop form a kernel writes (vectorised by the compiler) gives the same
// bits as element-by-element calls.
__attribute__((noinline)) void cos_loop(const float* x, float* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = km::cos(x[i]) + km::round_even(x[i]);
}
// select(c, a, b) is c ? a : b bit for bit, for NaN, signed zeros and infinities too.
TEST(KernelMath, SelectPicksEitherOperandBitForBit) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float values[] = {0.0f, -0.0f, 1.5f, -2.25f, inf, -inf, nan, from_bits(0x7fc00123u), 1e-42f};
  for (float a : values)
    for (float b : values) {
      EXPECT_EQ(bits(km::select(true, a, b)), bits(a));
      EXPECT_EQ(bits(km::select(false, a, b)), bits(b));
    }
}

TEST(KernelMath, VectorisedLoopEqualsElementCalls) {
  std::vector<float> x(4099), y(x.size());
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> u(-9000.0f, 9000.0f);
  for (auto& v : x) v = u(gen);
  cos_loop(x.data(), y.data(), static_cast<int>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    volatile float xi = x[i];  // keeps this call scalar
    expect_same_float(y[i], km::cos(xi) + km::round_even(xi), x[i]);
  }
}

namespace {
// The same loop twice: compiled for AVX-512 / AVX2 / baseline (picked at load
// time) and for the baseline only.
ADASWARM_KERNEL_CLONES void loop_clones(const float* x, const float* t, int64_t n, float* out) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) {
    const float r = x[k] - t[k];
    out[k] = 0.1f * r * r + 1.0f - km::cos(3.0f * r) + km::sin(r) * km::round_even(2.5f * x[k]);
  }
}
void loop_plain(const float* x, const float* t, int64_t n, float* out) {
  for (int64_t k = 0; k < n; ++k) {
    const float r = x[k] - t[k];
    out[k] = 0.1f * r * r + 1.0f - km::cos(3.0f * r) + km::sin(r) * km::round_even(2.5f * x[k]);
  }
}
// The same with kernel_math::fused (FMA instructions in the AVX-512 and
// x86-64-v3 clones, fmaf calls in the baseline one and in loop_fused_plain).
ADASWARM_KERNEL_CLONES void loop_fused_clones(const float* x, const float* t, int64_t n, float* out) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) {
    const float r = x[k] - t[k];
    out[k] = 0.1f * r * r + 1.0f - km::fused::cos(3.0f * r) + km::fused::sin(r) * km::round_even(2.5f * x[k]);
  }
}
void loop_fused_plain(const float* x, const float* t, int64_t n, float* out) {
  for (int64_t k = 0; k < n; ++k) {
    const float r = x[k] - t[k];
    out[k] = 0.1f * r * r + 1.0f - km::fused::cos(3.0f * r) + km::fused::sin(r) * km::round_even(2.5f * x[k]);
  }
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 12
#define KM_TEST_V3 1
// The x86-64-v3 path (AVX2 + FMA) compiled on its own, so that it is tested on
// a machine where the clones' loader picks AVX-512.
__attribute__((target("arch=x86-64-v3"), optimize("fp-contract=off"))) void loop_v3(const float* x, const float* t,
                                                                                   int64_t n, float* out) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) {
    const float r = x[k] - t[k];
    out[k] = 0.1f * r * r + 1.0f - km::cos(3.0f * r) + km::sin(r) * km::round_even(2.5f * x[k]);
  }
}
__attribute__((target("arch=x86-64-v3"), optimize("fp-contract=off"))) void loop_fused_v3(const float* x,
                                                                                         const float* t, int64_t n,
                                                                                         float* out) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) {
    const float r = x[k] - t[k];
    out[k] = 0.1f * r * r + 1.0f - km::fused::cos(3.0f * r) + km::fused::sin(r) * km::round_even(2.5f * x[k]);
  }
}
#endif
}  // namespace

// ADASWARM_KERNEL_CLONES: whichever ISA the loader picks here, the loop gives
// the baseline's bits (the loop's multiply-adds unfused; kernel_math::fused's
// rounded once, by an FMA instruction or by fmaf), also in the vector tail.
TEST(KernelMath, KernelClonesGiveTheBaselineBits) {
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> u(-3000.f, 3000.f);
  for (int64_t n : {1, 7, 16, 37, 1000}) {
    std::vector<float> x(n), t(n), a(n), b(n);
    for (int64_t k = 0; k < n; ++k) x[k] = u(gen), t[k] = u(gen) * 0.001f;
    if (n > 3) x[1] = 0.25f, x[2] = -0.0f, x[3] = 1.25f;  // rounding ties and a signed zero
    for (auto pair : {std::make_pair(&loop_clones, &loop_plain), std::make_pair(&loop_fused_clones, &loop_fused_plain)}) {
      pair.first(x.data(), t.data(), n, a.data());
      pair.second(x.data(), t.data(), n, b.data());
      for (int64_t k = 0; k < n; ++k)
        ASSERT_EQ(bits(a[k]), bits(b[k])) << (pair.first == &loop_clones ? "plain" : "fused") << " n " << n << " k "
                                          << k << ": " << a[k] << " vs " << b[k];
    }
  }
}

#ifdef KM_TEST_V3
TEST(KernelMath, TheX8664V3PathGivesTheBaselineBits) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("x86-64-v3")) GTEST_SKIP() << "this CPU has no AVX2 + FMA";
  std::mt19937 gen(13);
  std::uniform_real_distribution<float> u(-3000.f, 3000.f);
  for (int64_t n : {1, 7, 8, 37, 1000}) {
    std::vector<float> x(n), t(n), a(n), b(n);
    for (int64_t k = 0; k < n; ++k) x[k] = u(gen), t[k] = u(gen) * 0.001f;
    if (n > 3) x[1] = 0.25f, x[2] = -0.0f, x[3] = 1.25f;
    for (auto pair : {std::make_pair(&loop_v3, &loop_plain), std::make_pair(&loop_fused_v3, &loop_fused_plain)}) {
      pair.first(x.data(), t.data(), n, a.data());
      pair.second(x.data(), t.data(), n, b.data());
      for (int64_t k = 0; k < n; ++k)
        ASSERT_EQ(bits(a[k]), bits(b[k])) << (pair.first == &loop_v3 ? "plain" : "fused") << " n " << n << " k " << k
                                          << ": " << a[k] << " vs " << b[k];
    }
  }
}
#endif
