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

#include "passes.h"  // the vectorised passes (internal)

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
  // Enumerations set from a cast integer: each one of its named values.
  if (static_cast<int>(variant()) < 0 || static_cast<int>(variant()) > static_cast<int>(Variant::REMPSO))
    bad_option("variant is not one of its values (got " + std::to_string(static_cast<int>(variant())) + ")");
  if (static_cast<int>(random_mode()) < 0 || static_cast<int>(random_mode()) > static_cast<int>(RandomMode::PerCoordinate))
    bad_option("random_mode is not one of its values (got " + std::to_string(static_cast<int>(random_mode())) + ")");
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
  // -inf (the default) turns the tolerance off; NaN would turn it off silently.
  if (std::isnan(tolerance()) || tolerance() == std::numeric_limits<double>::infinity())
    bad_option("tolerance must be a number or -inf (off), got " + num(tolerance()));
  if (!(stall_delta() >= 0) || !std::isfinite(stall_delta()))
    bad_option("stall_delta must be finite and >= 0, got " + num(stall_delta()));
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

// One step's settings, read from the options once per step (the general path).
template <typename T>
struct Swarm<T>::StepSettings {
  StepSettings(const SwarmOptions& o, int64_t dim, bool bounded)
      : c1(static_cast<T>(o.c1())),
        c2(static_cast<T>(o.c2())),
        beta(static_cast<T>(o.beta())),
        w(static_cast<T>(o.inertia())),
        lam(static_cast<T>(o.lambda())),
        vclamp(static_cast<T>(o.velocity_clamp())),
        ref_scale(static_cast<T>(std::pow(std::cos(M_PI / 5.0), 2.0))),
        rlow(o.random_low()),
        variant(o.variant()),
        per_coord(o.random_mode() == RandomMode::PerCoordinate),
        rempso(variant == Variant::REMPSO),
        ref_rot(o.reference_rotation()),
        store_momentum(o.store_momentum()),
        vbounds(o.clamp_velocity_to_bounds() && bounded),
        bounded(bounded),
        zero_at_bounds(o.zero_velocity_at_bounds()),
        async(o.asynchronous()),
        fused(variant == Variant::EMPSO && store_momentum && !per_coord && !ref_rot && vclamp == 0 && !vbounds &&
              !bounded && !async),
        rows(o.rows()),
        row_len(dim / rows),
        n_rot_rows(std::min<int64_t>(rows, 2 * static_cast<int64_t>(std::floor(0.4 * rows)))) {}
  T c1, c2, beta, w, lam, vclamp, ref_scale;
  double rlow;
  Variant variant;
  bool per_coord, rempso, ref_rot, store_momentum, vbounds, bounded, zero_at_bounds, async;
  /// The swarm loss's common case: EMPSO, stored momentum, one r pair per
  /// particle, no bounds or clamps (one pass per particle).
  bool fused;
  int64_t rows, row_len, n_rot_rows;
};

template <typename T>
void Swarm<T>::step(const Fitness& fitness) {
  if (!started_) throw std::logic_error("Swarm::step called before reset()");
  if (!evaluated_) evaluate(fitness);
  const bool pso = options_.variant() == Variant::PSO && !options_.reference_rotation();
  const double csum = pso ? move_pso(fitness) : move_general(fitness);
  cbar_ = csum / static_cast<double>(options_.particles());
  ++iteration_;
  if (!options_.asynchronous()) evaluate(fitness);
}

template <typename T>
double Swarm<T>::move_pso(const Fitness& fitness) {
  // PSO (the PGSO area's case): draws, then one fused pass per particle.
  const int64_t P = options_.particles();
  const int64_t D = dim_;
  const T c1 = static_cast<T>(options_.c1()), c2 = static_cast<T>(options_.c2());
  const T w = static_cast<T>(options_.inertia());
  const T vclamp = static_cast<T>(options_.velocity_clamp());
  const bool per_coord = options_.random_mode() == RandomMode::PerCoordinate;
  const bool bounded = !lo_.empty();
  const bool vbounds = options_.clamp_velocity_to_bounds() && bounded;
  const bool async = options_.asynchronous();
  const double rlow = options_.random_low();
  const PsoMoveFn<T> move =
      pick_pso_move<T>({per_coord, vclamp > 0, vbounds, bounded, bounded && options_.zero_velocity_at_bounds()});
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
  double csum = 0.0;
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
      // U(0, 1) when rlow = 0: 0 + 1 * u is u, bit for bit.
      const T r1 = static_cast<T>(rng_.uniform(rlow, 1.0)), r2 = static_cast<T>(rng_.uniform(rlow, 1.0));
      m.k1 = c1 * r1;
      m.k2 = c2 * r2;
      csum += static_cast<double>(m.k1 + m.k2);
    }
    move(m);
    if (async) evaluate_particle(i, fitness);
  }
  return csum;
}

template <typename T>
double Swarm<T>::move_general(const Fitness& fitness) {
  const StepSettings s(options_, dim_, !lo_.empty());
  const int64_t P = options_.particles();
  const int64_t D = dim_;
  if (s.rempso) draw_rotation_pairs();
  double csum = 0.0;
  for (int64_t i = 0; i < P; ++i) {
    T* x = x_.data() + i * D;
    T* v = v_.data() + i * D;
    const T* p = p_.data() + i * D;
    if (s.fused) {
      // The same expressions in the same order as the steps below, so the
      // results are identical.
      const T k1 = s.c1 * static_cast<T>(rng_.uniform(s.rlow, 1.0));
      const T k2 = s.c2 * static_cast<T>(rng_.uniform(s.rlow, 1.0));
      csum += static_cast<double>(k1 + k2);
      empso_move<T>(EmpsoMove<T>{D, x, v, m_.data() + i * D, p, g_.data(), k1, k2, s.beta, T(1) - s.beta});
      continue;
    }
    csum += attraction(s, x, p);
    if (s.ref_rot && s.n_rot_rows > 0) scale_reference_rows(s);
    velocity_rule(s, i);
    move_and_clamp(s, x, v);
    if (s.async) evaluate_particle(i, fitness);
  }
  return csum;
}

template <typename T>
double Swarm<T>::attraction(const StepSettings& s, const T* x, const T* p) {
  // a1 = c1 r1 (p - x), a2 = c2 r2 (g - x); returns c1 r1 + c2 r2 (its mean
  // over the coordinates when r is drawn per coordinate).
  const int64_t D = dim_;
  const T* g = g_.data();
  T* a1 = a1_.data();
  T* a2 = a2_.data();
  // U(0, 1) when rlow = 0: 0 + 1 * u is u, bit for bit.
  auto draw_r = [&]() { return rng_.uniform(s.rlow, 1.0); };
  const T c1 = s.c1, c2 = s.c2;
  double sum = 0.0;
  if (s.per_coord) {
    for (int64_t d = 0; d < D; ++d) {
      r1_[d] = static_cast<T>(draw_r());
      r2_[d] = static_cast<T>(draw_r());
    }
    double acc = 0.0;
    for (int64_t d = 0; d < D; ++d) {
      a1[d] = c1 * r1_[d] * (p[d] - x[d]);
      a2[d] = c2 * r2_[d] * (g[d] - x[d]);
      acc += static_cast<double>(c1 * r1_[d] + c2 * r2_[d]);
    }
    sum = acc / static_cast<double>(D);
  } else {
    const T r1 = static_cast<T>(draw_r()), r2 = static_cast<T>(draw_r());
    const T k1 = c1 * r1, k2 = c2 * r2;
    for (int64_t d = 0; d < D; ++d) {
      a1[d] = k1 * (p[d] - x[d]);
      a2[d] = k2 * (g[d] - x[d]);
    }
    sum = static_cast<double>(k1 + k2);
  }
  // REMPSO: A^T Phi A (target - x): rotate the difference, scale, rotate back.
  // With one r per particle, Phi = c r I and A^T Phi A = Phi: nothing to do.
  if (s.rempso && s.per_coord) {
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
  return sum;
}

template <typename T>
void Swarm<T>::scale_reference_rows(const StepSettings& s) {
  // The reference code's "rotation": n_rot_rows rows, drawn without
  // replacement, of both attraction terms scaled by cos^2(pi / 5).
  row_perm_.resize(static_cast<size_t>(s.rows));
  std::iota(row_perm_.begin(), row_perm_.end(), 0);
  for (int64_t k = 0; k < s.n_rot_rows; ++k) {
    const int64_t j = k + static_cast<int64_t>(rng_.below(static_cast<uint64_t>(s.rows - k)));
    std::swap(row_perm_[k], row_perm_[j]);
    const int64_t r = row_perm_[k];
    for (int64_t d = r * s.row_len; d < (r + 1) * s.row_len; ++d) {
      a1_[d] *= s.ref_scale;
      a2_[d] *= s.ref_scale;
    }
  }
}

template <typename T>
void Swarm<T>::velocity_rule(const StepSettings& s, int64_t i) {
  // The factors as locals: read through `s`, the stores to v could alias them.
  const int64_t D = dim_;
  const T w = s.w, lam = s.lam, beta = s.beta;
  T* v = v_.data() + i * D;
  const T* a1 = a1_.data();
  const T* a2 = a2_.data();
  switch (s.variant) {
    case Variant::PSO:
      for (int64_t d = 0; d < D; ++d) v[d] = w * v[d] + a1[d] + a2[d];
      break;
    case Variant::MPSO: {
      T* vp = vprev_.data() + i * D;
      for (int64_t d = 0; d < D; ++d) {
        const T nv = (T(1) - lam) * (v[d] + a1[d] + a2[d]) + lam * vp[d];
        vp[d] = v[d];
        v[d] = nv;
      }
      break;
    }
    case Variant::EMPSO:
    case Variant::REMPSO:
      if (s.store_momentum) {
        T* m = m_.data() + i * D;
        for (int64_t d = 0; d < D; ++d) {
          m[d] = beta * m[d] + (T(1) - beta) * v[d];
          v[d] = m[d] + a1[d] + a2[d];
        }
      } else {
        for (int64_t d = 0; d < D; ++d) v[d] = (T(1) - beta) * v[d] + a1[d] + a2[d];
      }
      break;
  }
}

template <typename T>
void Swarm<T>::move_and_clamp(const StepSettings& s, T* x, T* v) const {
  const int64_t D = dim_;
  const T vclamp = s.vclamp;
  if (vclamp > 0)
    for (int64_t d = 0; d < D; ++d) v[d] = std::min(std::max(v[d], -vclamp), vclamp);
  if (s.vbounds)
    for (int64_t d = 0; d < D; ++d) v[d] = std::min(std::max(v[d], lo_[d]), hi_[d]);
  for (int64_t d = 0; d < D; ++d) x[d] += v[d];
  if (!s.bounded) return;
  if (s.zero_at_bounds) {
    for (int64_t d = 0; d < D; ++d) {
      const T clamped = std::min(std::max(x[d], lo_[d]), hi_[d]);
      if (clamped != x[d]) v[d] = T(0);
      x[d] = clamped;
    }
  } else {
    for (int64_t d = 0; d < D; ++d) x[d] = std::min(std::max(x[d], lo_[d]), hi_[d]);
  }
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
