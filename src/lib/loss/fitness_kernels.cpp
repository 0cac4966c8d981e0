// Fitness kernels of the swarm loss (see fitness_kernels.h). Plain loops on
// float buffers: the per-batch swarm is small enough that tensor-op dispatch
// would cost more than the arithmetic.
#include "fitness_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace adaswarm::swarm::detail {
int dispatch_isa();  // src/lib/swarm/swarm.cpp
}

namespace adaswarm::detail {
namespace {

inline float log_clamped(float v) { return std::max(std::log(v), -100.0f); }

/// out[k] = exp(x[k]) for x[k] in [-87, 0] (the caller clamps: branches would
/// stop GCC from vectorising), written so that GCC vectorises it at -O2 with
/// SSE2 (given `omp simd`): Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a
/// degree-6 polynomial for e^r (Cephes' expf coefficients, about 1 ulp), and 2^n
/// built from its exponent bits.
void exp_nonpositive(const float* __restrict x, float* __restrict out, int64_t n) {
  constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
  // GCC's -O2 cost model will not vectorise a loop that needs a remainder loop;
  // the OpenMP simd directive (the library is built with -fopenmp) asks it to.
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) {
    const float v = x[k];
    const float fn = (v * kLog2e + kRound) - kRound;
    const float r = (v - fn * kLn2Hi) - fn * kLn2Lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float er = p * r * r + r + 1.0f;
    const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(fn) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    out[k] = er * scale;
  }
}

/// Cross-entropy of each of the B rows (C logits each): log-sum-exp minus the
/// target logit (class indices) or the target-weighted sum (soft targets).
void cross_entropy_rows(const float* pos, const float* tgt, const int64_t* idx, int64_t B, int64_t C,
                        float* rows_out) {
  // Scratch reused across calls (this runs for every particle of every evaluation).
  thread_local std::vector<float> shifted, ex, mx;
  const auto n = static_cast<size_t>(B * C);
  if (shifted.size() < n) {
    shifted.resize(n);
    ex.resize(n);
  }
  if (mx.size() < static_cast<size_t>(B)) mx.resize(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const float* y = pos + b * C;
    float m = y[0];
    for (int64_t c = 1; c < C; ++c) m = std::max(m, y[c]);
    mx[b] = m;
    // exp(-87) ~ 1.6e-38 instead of smaller values or 0: harmless in a softmax
    // denominator that holds a 1.
    for (int64_t c = 0; c < C; ++c) shifted[b * C + c] = std::max(y[c] - m, -87.0f);
  }
  exp_nonpositive(shifted.data(), ex.data(), B * C);
  for (int64_t b = 0; b < B; ++b) {
    const float* y = pos + b * C;
    float se = 0.f;
    for (int64_t c = 0; c < C; ++c) se += ex[b * C + c];
    const float lse = mx[b] + std::log(se);
    float s = 0.f;
    if (idx) {
      s = lse - y[idx[b]];
    } else {
      const float* t = tgt + b * C;
      for (int64_t c = 0; c < C; ++c) s += t[c] * (lse - y[c]);
    }
    rows_out[b] = s;
  }
}

// The element-wise terms, one functor per kind (inlined into each loop).
struct MseTerm {
  float operator()(float y, float t, float) const { return (y - t) * (y - t); }
};
struct MaeTerm {
  float operator()(float y, float t, float) const { return std::fabs(y - t); }
};
struct BceTerm {
  float operator()(float y, float t, float) const {
    const float p = std::min(std::max(y, 0.0f), 1.0f);
    return -(t * log_clamped(p) + (1 - t) * log_clamped(1 - p));
  }
};
struct BceLogitsTerm {
  float operator()(float y, float t, float) const {
    return std::max(y, 0.0f) - y * t + std::log1p(std::exp(-std::fabs(y)));
  }
};
struct HuberTerm {
  float operator()(float y, float t, float delta) const {
    const float d = std::fabs(y - t);
    return d <= delta ? 0.5f * d * d : delta * (d - 0.5f * delta);
  }
};
struct SmoothL1Term {
  float operator()(float y, float t, float delta) const {
    const float d = std::fabs(y - t);
    return d < delta ? 0.5f * d * d / delta : d - 0.5f * delta;
  }
};
struct HingeTerm {  // +-1 targets (t > 0 is the positive class)
  float operator()(float y, float t, float) const { return std::max(0.0f, 1.0f - (t > 0 ? 1.0f : -1.0f) * y); }
};

// The flat loops of the terms without library calls (MSE, MAE, Huber, SmoothL1,
// hinge), compiled for AVX-512, AVX2 and the baseline and picked at run time,
// as the swarm engine's passes are (swarm.cpp); the same operations in the
// same order, fp-contract=off: the same bits on every path.
template <typename Term>
constexpr bool kVectorTerm = !std::is_same_v<Term, BceTerm> && !std::is_same_v<Term, BceLogitsTerm>;

/// out[k] = zero + term(pos[k], tgt[k]); zero = 0 gives rows_of's C == 1 form
/// (0 + term), no zero the element form (adding +0.0f would turn -0 into +0).
template <typename Term, bool AddZero>
inline __attribute__((always_inline)) void flat_body(const float* __restrict pos, const float* __restrict tgt,
                                                     int64_t n, float delta, float* __restrict out) {
  const Term term;
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) {
    if constexpr (AddZero)
      out[k] = 0.f + term(pos[k], tgt[k], delta);
    else
      out[k] = term(pos[k], tgt[k], delta);
  }
}
template <typename Term, bool AddZero>
void flat_base(const float* pos, const float* tgt, int64_t n, float delta, float* out) {
  flat_body<Term, AddZero>(pos, tgt, n, delta, out);
}
#if defined(__GNUC__) && defined(__x86_64__)
#define ADASWARM_FITNESS_DISPATCH 1
template <typename Term, bool AddZero>
__attribute__((target("avx2"), optimize("fp-contract=off"))) void flat_avx2(const float* pos, const float* tgt,
                                                                             int64_t n, float delta, float* out) {
  flat_body<Term, AddZero>(pos, tgt, n, delta, out);
}
template <typename Term, bool AddZero>
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,prefer-vector-width=512"), optimize("fp-contract=off"))) void
flat_avx512(const float* pos, const float* tgt, int64_t n, float delta, float* out) {
  flat_body<Term, AddZero>(pos, tgt, n, delta, out);
}
int fitness_isa() { return swarm::detail::dispatch_isa(); }  // the swarm engine's choice (swarm.cpp)
#endif
template <typename Term, bool AddZero>
void flat(const float* pos, const float* tgt, int64_t n, float delta, float* out) {
#if ADASWARM_FITNESS_DISPATCH
  if constexpr (kVectorTerm<Term>) {
    switch (fitness_isa()) {
      case 2: return flat_avx512<Term, AddZero>(pos, tgt, n, delta, out);
      case 1: return flat_avx2<Term, AddZero>(pos, tgt, n, delta, out);
      default: break;
    }
  }
#endif
  flat_base<Term, AddZero>(pos, tgt, n, delta, out);
}

// Two flat passes of a custom kernel's output, dispatched the same way.
inline __attribute__((always_inline)) void plus_zero_body(const float* __restrict in, int64_t n,
                                                          float* __restrict out) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) out[k] = 0.f + in[k];
}
inline __attribute__((always_inline)) void scale_body(const float* __restrict in, int64_t n, double scale,
                                                      float* __restrict out) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) out[k] = static_cast<float>(static_cast<double>(in[k]) * scale);
}
void plus_zero_base(const float* in, int64_t n, float* out) { plus_zero_body(in, n, out); }
void scale_base(const float* in, int64_t n, double scale, float* out) { scale_body(in, n, scale, out); }
#if ADASWARM_FITNESS_DISPATCH
__attribute__((target("avx2"), optimize("fp-contract=off"))) void plus_zero_avx2(const float* in, int64_t n,
                                                                                  float* out) {
  plus_zero_body(in, n, out);
}
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,prefer-vector-width=512"), optimize("fp-contract=off"))) void
plus_zero_avx512(const float* in, int64_t n, float* out) {
  plus_zero_body(in, n, out);
}
__attribute__((target("avx2"), optimize("fp-contract=off"))) void scale_avx2(const float* in, int64_t n,
                                                                              double scale, float* out) {
  scale_body(in, n, scale, out);
}
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,prefer-vector-width=512"), optimize("fp-contract=off"))) void
scale_avx512(const float* in, int64_t n, double scale, float* out) {
  scale_body(in, n, scale, out);
}
#endif

template <typename Term>
void rows_of(const float* pos, const float* tgt, int64_t B, int64_t C, float delta, float* rows_out) {
  const Term term;
  if (C == 1) {  // one output per row: a flat, vectorisable loop (0 + term, as below)
    flat<Term, true>(pos, tgt, B, delta, rows_out);
    return;
  }
  for (int64_t b = 0; b < B; ++b) {
    const float* y = pos + b * C;
    const float* t = tgt + b * C;
    float s = 0.f;
    for (int64_t c = 0; c < C; ++c) s += term(y[c], t[c], delta);
    rows_out[b] = s;
  }
}

template <typename Term>
void elements_of(const float* pos, const float* tgt, int64_t n, float delta, float* out) {
  flat<Term, false>(pos, tgt, n, delta, out);
}

/// Calls f(Term{}) with the element-wise term of `kind`; false for per-sample kinds.
template <typename F>
bool with_term(LossKind kind, F&& f) {
  switch (kind) {
    case LossKind::MSE: f(MseTerm{}); return true;
    case LossKind::MAE: f(MaeTerm{}); return true;
    case LossKind::BCE: f(BceTerm{}); return true;
    case LossKind::BCEWithLogits: f(BceLogitsTerm{}); return true;
    case LossKind::Huber: f(HuberTerm{}); return true;
    case LossKind::SmoothL1: f(SmoothL1Term{}); return true;
    case LossKind::Hinge: f(HingeTerm{}); return true;
    case LossKind::CrossEntropy:
    case LossKind::Custom: return false;
  }
  return false;
}

/// Multi-class margin loss of each row (class indices), as LibTorch's multi_margin_loss.
void hinge_index_rows(const float* pos, const int64_t* idx, int64_t B, int64_t C, float* rows_out) {
  for (int64_t b = 0; b < B; ++b) {
    const float* y = pos + b * C;
    const float yy = y[idx[b]];
    float s = 0.f;
    for (int64_t c = 0; c < C; ++c)
      if (c != idx[b]) s += std::max(0.0f, 1.0f - yy + y[c]);
    rows_out[b] = s / static_cast<float>(C);
  }
}

}  // namespace

bool elementwise_kind(LossKind kind, bool index_target) {
  if (kind == LossKind::CrossEntropy || kind == LossKind::Custom) return false;
  return !(kind == LossKind::Hinge && index_target);
}

void row_losses(LossKind kind, const float* pos, const float* tgt, const int64_t* idx, int64_t B, int64_t C,
                float delta, float* rows_out) {
  if (kind == LossKind::CrossEntropy) return cross_entropy_rows(pos, tgt, idx, B, C, rows_out);
  if (kind == LossKind::Hinge && idx) return hinge_index_rows(pos, idx, B, C, rows_out);
  if (!with_term(kind, [&](auto term) { rows_of<decltype(term)>(pos, tgt, B, C, delta, rows_out); }))
    throw std::invalid_argument(std::string("swarm loss: no built-in fitness for loss '") + to_string(kind) + "'");
}

void row_sums(const float* in, int64_t R, int64_t C, float* rows_out) {
  if (C == 1) {  // 0 + in[r]: a flat pass
#if ADASWARM_FITNESS_DISPATCH
    switch (fitness_isa()) {
      case 2: return plus_zero_avx512(in, R, rows_out);
      case 1: return plus_zero_avx2(in, R, rows_out);
      default: break;
    }
#endif
    return plus_zero_base(in, R, rows_out);
  }
  for (int64_t r = 0; r < R; ++r) {
    float s = 0.f;
    for (int64_t c = 0; c < C; ++c) s += in[r * C + c];
    rows_out[r] = s;
  }
}

void scale_to_float(const float* in, int64_t n, double scale, float* out) {
#if ADASWARM_FITNESS_DISPATCH
  switch (fitness_isa()) {
    case 2: return scale_avx512(in, n, scale, out);
    case 1: return scale_avx2(in, n, scale, out);
    default: break;
  }
#endif
  scale_base(in, n, scale, out);
}

void element_losses(LossKind kind, const float* pos, const float* tgt, int64_t n, float delta, float* out) {
  if (!with_term(kind, [&](auto term) { elements_of<decltype(term)>(pos, tgt, n, delta, out); }))
    throw std::invalid_argument(std::string("swarm loss: per-element bests need an element-wise loss; '") +
                                to_string(kind) + "' is per sample");
}

}  // namespace adaswarm::detail
