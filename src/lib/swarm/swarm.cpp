// The particle swarm engine (see include/adaswarm/swarm/swarm.h and SPEC.md section 1).
#include "adaswarm/swarm/swarm.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <sstream>

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
  x_.assign(n, T(0));
  v_.assign(n, T(0));
  vprev_.assign(n, T(0));
  m_.assign(n, T(0));
  p_.assign(n, T(0));
  pf_.assign(static_cast<size_t>(options_.particles() * groups_), std::numeric_limits<T>::infinity());
  f_.assign(pf_.size(), std::numeric_limits<T>::infinity());
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
  // NaN or -inf is an error: one branch-free pass (both fail `f > -inf`), then
  // the culprit is looked for only when there is one.
  {
    const T* fk = f_.data();
    const int64_t n = static_cast<int64_t>(f_.size());
    constexpr T lowest = -std::numeric_limits<T>::infinity();
    int32_t bad = 0;
#pragma omp simd reduction(| : bad)
    for (int64_t k = 0; k < n; ++k) bad |= select_bits<int32_t>(fk[k] > lowest, 0, 1);
    if (bad)
      for (int64_t k = 0; k < n; ++k) {
        const T f = fk[k];
        if (std::isnan(f) || (std::isinf(f) && f < 0))
          throw std::domain_error("swarm fitness returned " + std::string(std::isnan(f) ? "NaN" : "-inf") +
                                  " for particle " + std::to_string(k / groups_) +
                                  (groups_ > 1 ? " row " + std::to_string(k % groups_) : std::string()));
      }
  }
  // Personal bests (strictly better replaces), with raw pointers: groups may be
  // single elements (per-element bests, or rows of one output), where a copy
  // call per group would cost more than the comparison; that case runs
  // branch-free so that random improvements cost no mispredictions.
  const int64_t G = groups_, gs = group_size_, D = dim_;
  const T* f = f_.data();
  const T* x = x_.data();
  T* pf = pf_.data();
  T* p = p_.data();
  const bool first = !evaluated_;
  if (gs == 1) {
    // D == G: particle i's group gi is element i * D + gi of every buffer.
    const int64_t n = P * G;
    if (first) {
      std::copy(f, f + n, pf);
      std::copy(x, x + n, p);
    } else {
      // The buffers are distinct vectors: tell the vectoriser (omp simd).
#pragma omp simd
      for (int64_t k = 0; k < n; ++k) {
        const bool better = f[k] < pf[k];
        pf[k] = select_bits(better, f[k], pf[k]);
        p[k] = select_bits(better, x[k], p[k]);
      }
    }
  } else {
    for (int64_t i = 0; i < P; ++i)
      for (int64_t gi = 0; gi < G; ++gi) {
        const int64_t k = i * G + gi;
        if (f[k] < pf[k] || first) {
          pf[k] = f[k];
          const int64_t off = i * D + gi * gs;
          for (int64_t j = 0; j < gs; ++j) p[off + j] = x[off + j];
        }
      }
  }
  // Swarm bests, per group: the first particle with the lowest personal best
  // (particles in order, strictly better replaces; the first evaluation always
  // takes particle 0 before comparing).
  best_.assign(static_cast<size_t>(G), -1);
  T* gf = gf_.data();
  int32_t* best = best_.data();
  for (int64_t i = 0; i < P; ++i) {
    const T* pfi = pf + i * G;
    if (first && i == 0) {
      std::copy(pfi, pfi + G, gf);
      std::fill(best, best + G, 0);
      continue;
    }
    const auto ii = static_cast<int32_t>(i);
#pragma omp simd
    for (int64_t gi = 0; gi < G; ++gi) {
      const bool better = pfi[gi] < gf[gi];
      gf[gi] = select_bits(better, pfi[gi], gf[gi]);
      best[gi] = select_bits(better, ii, best[gi]);
    }
  }
  T* g = g_.data();
  for (int64_t gi = 0; gi < G; ++gi)
    if (best[gi] >= 0) {
      const T* src = p + best[gi] * D + gi * gs;
      for (int64_t j = 0; j < gs; ++j) g[gi * gs + j] = src[j];
    }
  evaluated_ = true;
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
      const T one_minus_beta = T(1) - beta;
#pragma omp simd
      for (int64_t d = 0; d < D; ++d) {
        const T a1d = k1 * (p[d] - x[d]);
        const T a2d = k2 * (g[d] - x[d]);
        m[d] = beta * m[d] + one_minus_beta * v[d];
        v[d] = m[d] + a1d + a2d;
        x[d] += v[d];
      }
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
  for (int64_t gi = 0; gi < G; ++gi) {
    const T v = f[gi];
    if (std::isnan(v) || (std::isinf(v) && v < 0))
      throw std::domain_error("swarm fitness returned " + std::string(std::isnan(v) ? "NaN" : "-inf") +
                              " for particle " + std::to_string(i) +
                              (G > 1 ? " row " + std::to_string(gi) : std::string()));
  }
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
  double last_best = best_fitness();
  int64_t stall = 0;
  for (int64_t it = 0; it < iterations; ++it) {
    if (best_fitness() <= options_.tolerance()) {
      info.reached_tolerance = true;
      break;
    }
    step(fitness);
    ++info.iterations;
    const double b = best_fitness();
    if (last_best - b > options_.stall_delta()) {
      stall = 0;
    } else if (options_.stall_iterations() > 0 && ++stall >= options_.stall_iterations()) {
      info.stalled = true;
      last_best = b;
      break;
    }
    last_best = std::min(last_best, b);
  }
  if (best_fitness() <= options_.tolerance()) info.reached_tolerance = true;
  info.evaluations = evaluations_ - evals0;
  info.best_fitness = best_fitness();
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
