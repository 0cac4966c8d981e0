// The particle swarm engine (see include/adaswarm/swarm/swarm.h and SPEC.md section 1).
#include "adaswarm/swarm/swarm.h"

#include <algorithm>
#include <numeric>
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
  if (particles() < 1) bad_option("particles must be >= 1, got " + std::to_string(particles()));
  if (iterations() < 0) bad_option("iterations must be >= 0, got " + std::to_string(iterations()));
  if (!std::isfinite(c1()) || c1() < 0) bad_option("c1 must be finite and >= 0, got " + num(c1()));
  if (!std::isfinite(c2()) || c2() < 0) bad_option("c2 must be finite and >= 0, got " + num(c2()));
  if (!(beta() >= 0 && beta() < 1)) bad_option("beta must be in [0, 1), got " + num(beta()));
  if (!std::isfinite(inertia())) bad_option("inertia must be finite, got " + num(inertia()));
  if (!(lambda() >= 0 && lambda() <= 1)) bad_option("lambda must be in [0, 1], got " + num(lambda()));
  if (!(random_low() >= -1 && random_low() < 1))
    bad_option("random_low must be in [-1, 1), got " + num(random_low()));
  if (!std::isfinite(rotation_angle())) bad_option("rotation_angle must be finite");
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
  for (size_t k = 0; k < f_.size(); ++k) {
    const T f = f_[k];
    if (std::isnan(f) || (std::isinf(f) && f < 0)) {
      throw std::domain_error("swarm fitness returned " + std::string(std::isnan(f) ? "NaN" : "-inf") +
                              " for particle " + std::to_string(k / groups_) +
                              (groups_ > 1 ? " row " + std::to_string(k % groups_) : std::string()));
    }
  }
  // Personal bests (strictly better replaces).
  for (int64_t i = 0; i < P; ++i)
    for (int64_t gi = 0; gi < groups_; ++gi) {
      const size_t k = static_cast<size_t>(i * groups_ + gi);
      if (f_[k] < pf_[k] || !evaluated_) {
        pf_[k] = f_[k];
        const auto off = i * dim_ + gi * group_size_;
        std::copy(x_.begin() + off, x_.begin() + off + group_size_, p_.begin() + off);
      }
    }
  // Swarm bests, per group.
  for (int64_t gi = 0; gi < groups_; ++gi) {
    int64_t best = -1;
    T bf = gf_[gi];
    for (int64_t i = 0; i < P; ++i) {
      const T f = pf_[i * groups_ + gi];
      if (f < bf || (best < 0 && !evaluated_ && i == 0)) {
        bf = f;
        best = i;
      }
    }
    if (best >= 0) {
      gf_[gi] = bf;
      const auto off = best * dim_ + gi * group_size_;
      std::copy(p_.begin() + off, p_.begin() + off + group_size_, g_.begin() + gi * group_size_);
    }
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
  }
  cbar_ = csum / static_cast<double>(P);
  ++iteration_;
  evaluate(fitness);
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
