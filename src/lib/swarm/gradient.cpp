// The approximate gradient and emulated GD (include/adaswarm/swarm/gradient.h).
#include "adaswarm/swarm/gradient.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "adaswarm/util/random.h"

namespace adaswarm::swarm {

namespace {
[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument("invalid gradient option: " + what);
}
std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
void check_bounds(const std::vector<double>& lo, const std::vector<double>& hi, int64_t dim) {
  if (lo.empty() != hi.empty()) bad("give both lower and upper bounds, or neither");
  auto sz = [&](const std::vector<double>& b, const char* name) {
    if (!b.empty() && b.size() != 1 && static_cast<int64_t>(b.size()) != dim)
      bad(std::string(name) + " bounds must have 1 or " + std::to_string(dim) + " values, got " +
          std::to_string(b.size()));
  };
  sz(lo, "lower");
  sz(hi, "upper");
  for (int64_t d = 0; d < dim && !lo.empty(); ++d) {
    const double l = lo[lo.size() == 1 ? 0 : d], h = hi[hi.size() == 1 ? 0 : d];
    if (std::isnan(l) || std::isnan(h) || !(l < h))
      bad("lower bound must be < upper bound (coordinate " + std::to_string(d) + ": " + num(l) + ", " +
          num(h) + ")");
  }
}
double bound_at(const std::vector<double>& b, int64_t d) { return b[b.size() == 1 ? 0 : static_cast<size_t>(d)]; }
}  // namespace

BatchFunction batch_function(PointFunction f) {
  if (!f) throw std::invalid_argument("batch_function: empty function");
  return [f = std::move(f)](const double* X, int64_t n, int64_t dim, double* out) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(X + i * dim, dim);
  };
}

uint64_t step_seed(uint64_t seed, uint64_t t) {
  uint64_t s = seed ^ (0x9E3779B97F4A7C15ULL * (t + 1));
  splitmix64(s);
  return splitmix64(s);
}

void GradientOptions::validate(int64_t dim) const {
  if (dim < 1) bad("x must have at least one coordinate");
  if (!(eta() > 0) || !std::isfinite(eta())) bad("eta must be finite and > 0, got " + num(eta()));
  if (particles() < 1) bad("particles must be >= 1, got " + std::to_string(particles()));
  if (iterations() < 1) bad("iterations must be >= 1, got " + std::to_string(iterations()));
  if (!(radius() > 0) || !std::isfinite(radius())) bad("radius must be finite and > 0, got " + num(radius()));
  if (!std::isfinite(c1()) || c1() < 0) bad("c1 must be finite and >= 0, got " + num(c1()));
  if (!std::isfinite(c2()) || c2() < 0) bad("c2 must be finite and >= 0, got " + num(c2()));
  if (c1() + c2() <= 0) bad("c1 + c2 must be > 0 (otherwise cbar = 0 and the gradient is always 0)");
  if (!(beta() >= 0 && beta() < 1)) bad("beta must be in [0, 1), got " + num(beta()));
  if (!std::isfinite(inertia())) bad("inertia must be finite, got " + num(inertia()));
  // MPSO and REMPSO run, though the paper's derivation covers PSO and EMPSO only.
  if (variant() == Variant::REMPSO && random_mode() != RandomMode::PerCoordinate)
    bad("variant 'rempso' needs random_mode per-coordinate (with one random factor per particle REMPSO equals "
        "EMPSO)");
  check_bounds(lower(), upper(), dim);
}

GradientEstimate estimate_gradient(const BatchFunction& f, const std::vector<double>& x,
                                   const GradientOptions& options) {
  const int64_t D = static_cast<int64_t>(x.size());
  options.validate(D);
  if (!f) throw std::invalid_argument("estimate_gradient: empty function");
  for (int64_t d = 0; d < D; ++d)
    if (!std::isfinite(x[d])) throw std::invalid_argument("estimate_gradient: x is not finite");

  SwarmOptions so;
  so.particles(options.particles())
      .iterations(options.iterations())
      .variant(options.variant())
      .c1(options.c1())
      .c2(options.c2())
      .beta(options.beta())
      .inertia(options.inertia())
      .random_mode(options.random_mode())
      .lower(options.lower())
      .upper(options.upper())
      .seed(options.seed());
  Swarm<double> swarm(so, D);

  // Start: particle 0 at x (include_x), the others uniform in x +- radius.
  const int64_t P = options.particles();
  std::vector<double> start(static_cast<size_t>(P * D));
  Rng& rng = swarm.rng();
  for (int64_t i = 0; i < P; ++i)
    for (int64_t d = 0; d < D; ++d)
      start[i * D + d] =
          (i == 0 && options.include_x()) ? x[d] : x[d] + rng.uniform(-options.radius(), options.radius());
  swarm.reset(start.data());

  // NaN means "outside the domain": +inf (the swarm's "worst").
  const Swarm<double>::Fitness fit = [&f](const double* X, int64_t n, int64_t dim, double* out) {
    f(X, n, dim, out);
    for (int64_t i = 0; i < n; ++i)
      if (std::isnan(out[i])) out[i] = std::numeric_limits<double>::infinity();
  };
  swarm.evaluate(fit);
  GradientEstimate est;
  if (options.include_x()) {
    est.value_at_x = swarm.fitness()[0];
    bool inside = options.lower().empty();
    if (!inside) {
      inside = true;
      for (int64_t d = 0; d < D; ++d)
        if (x[d] < bound_at(options.lower(), d) || x[d] > bound_at(options.upper(), d)) inside = false;
    }
    if (!std::isfinite(est.value_at_x) && inside)
      throw std::domain_error("estimate_gradient: f is not finite at x (x outside f's domain?)");
  }
  bool any_finite = false;
  for (double v : swarm.fitness()) any_finite = any_finite || std::isfinite(v);
  if (!any_finite) throw std::domain_error("estimate_gradient: f is not finite at any swarm start point");

  swarm.run(fit, options.iterations());
  est.best = swarm.global_best();
  est.best_value = swarm.global_best_fitness()[0];
  est.cbar = swarm.cbar();
  est.evaluations = swarm.evaluations();
  est.gradient.resize(static_cast<size_t>(D));
  swarm.approximate_gradient(x.data(), options.eta(), est.gradient.data());
  return est;
}

std::vector<double> approximate_gradient(const BatchFunction& f, const std::vector<double>& x,
                                         const GradientOptions& options) {
  return estimate_gradient(f, x, options).gradient;
}

void EmulatedGDOptions::validate(int64_t dim) const {
  gradient().validate(dim);
  if (!(learning_rate() > 0) || !std::isfinite(learning_rate()))
    bad("learning_rate must be finite and > 0, got " + num(learning_rate()));
  if (!(tolerance() >= 0)) bad("tolerance must be >= 0, got " + num(tolerance()));
  if (patience() < 1) bad("patience must be >= 1, got " + std::to_string(patience()));
  if (max_iterations() < 1) bad("max_iterations must be >= 1, got " + std::to_string(max_iterations()));
  check_bounds(lower(), upper(), dim);
}

DescentResult emulated_gradient_descent(const BatchFunction& f, const std::vector<double>& x0,
                                        const EmulatedGDOptions& options) {
  const int64_t D = static_cast<int64_t>(x0.size());
  options.validate(D);
  if (!f) throw std::invalid_argument("emulated_gradient_descent: empty function");
  const bool project = !options.lower().empty();
  auto clamp = [&](std::vector<double>& x) {
    if (!project) return;
    for (int64_t d = 0; d < D; ++d)
      x[d] = std::min(std::max(x[d], bound_at(options.lower(), d)), bound_at(options.upper(), d));
  };
  GradientOptions go = options.gradient();
  if (project) go.lower(options.lower()).upper(options.upper());

  DescentResult res;
  res.x = x0;
  clamp(res.x);
  double value = 0.0;
  f(res.x.data(), 1, D, &value);
  ++res.evaluations;
  if (!std::isfinite(value)) throw std::domain_error("emulated_gradient_descent: f is not finite at x0");
  if (options.record_trajectory()) res.trajectory.push_back(res.x);
  res.status = "max-iterations";
  std::vector<double> next(static_cast<size_t>(D));
  int64_t small = 0;
  for (int64_t t = 0; t < options.max_iterations(); ++t) {
    go.seed(step_seed(options.seed(), static_cast<uint64_t>(t)));
    const GradientEstimate est = estimate_gradient(f, res.x, go);
    res.evaluations += est.evaluations;
    double step = 0.0;
    for (int64_t d = 0; d < D; ++d) next[d] = res.x[d] - options.learning_rate() * est.gradient[d];
    clamp(next);
    for (int64_t d = 0; d < D; ++d) step = std::max(step, std::abs(next[d] - res.x[d]));
    double nv = 0.0;
    f(next.data(), 1, D, &nv);
    ++res.evaluations;
    if (!std::isfinite(nv)) {
      res.status = "left-domain";
      res.iterations = t + 1;
      break;
    }
    res.x = next;
    value = nv;
    res.iterations = t + 1;
    if (options.record_trajectory()) res.trajectory.push_back(res.x);
    small = step < options.tolerance() ? small + 1 : 0;
    if (small >= options.patience()) {
      res.converged = true;
      res.status = "converged";
      break;
    }
  }
  res.value = value;
  return res;
}

}  // namespace adaswarm::swarm
