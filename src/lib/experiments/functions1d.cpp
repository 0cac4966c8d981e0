// The AdaSwarm paper's Tables I-III and Fig. 1 (include/adaswarm/experiments/functions1d.h).
#include "adaswarm/experiments/functions1d.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "adaswarm/util/random.h"
#include "adaswarm/util/atomic_file.h"

namespace adaswarm::experiments {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<Function1D> make_functions() {
  std::vector<Function1D> v;
  {
    Function1D f;
    f.key = "poly10";
    f.formula = "-(3x^5 - x^10)";
    f.f = [](double x) { return std::pow(x, 10) - 3 * std::pow(x, 5); };
    f.df = [](double x) { return 10 * std::pow(x, 9) - 15 * std::pow(x, 4); };
    f.lo = -1.5, f.hi = 1.5, f.x0 = 0.5;
    v.push_back(f);
  }
  {
    Function1D f;
    f.key = "cubic";
    f.formula = "x^3 - 3x^2 + 7";
    f.f = [](double x) { return x * x * x - 3 * x * x + 7; };
    f.df = [](double x) { return 3 * x * x - 6 * x; };
    f.lo = -0.5, f.hi = 3.5, f.x0 = 1.0;
    v.push_back(f);
  }
  {
    Function1D f;
    f.key = "expcos";
    f.formula = "-exp(cos(x^2)) + x^2";
    f.f = [](double x) { return -std::exp(std::cos(x * x)) + x * x; };
    f.df = [](double x) { return 2 * x * std::sin(x * x) * std::exp(std::cos(x * x)) + 2 * x; };
    f.lo = -2.0, f.hi = 2.0, f.x0 = 1.0;
    v.push_back(f);
  }
  {
    Function1D f;
    f.key = "poly15";
    f.formula = "x^15 - sin(x) + exp(x^6)";
    f.f = [](double x) { return std::pow(x, 15) - std::sin(x) + std::exp(std::pow(x, 6)); };
    f.df = [](double x) {
      return 15 * std::pow(x, 14) - std::cos(x) + 6 * std::pow(x, 5) * std::exp(std::pow(x, 6));
    };
    f.lo = -1.2, f.hi = 1.2, f.x0 = -0.5;
    v.push_back(f);
  }
  {
    Function1D f;
    f.key = "sqrt";
    f.formula = "sqrt(x)";
    f.f = [](double x) { return x >= 0 ? std::sqrt(x) : kInf; };
    f.df = [](double x) { return x > 0 ? 0.5 / std::sqrt(x) : kNaN; };
    f.lo = 0.0, f.hi = 4.0, f.x0 = 1.0, f.domain_lo = 0.0;
    f.smooth = false, f.table = 3;
    f.derivative_note = "domain x >= 0 (f = +inf outside); f'(0) = +inf: no gradient at 0";
    v.push_back(f);
  }
  {
    Function1D f;
    f.key = "abs";
    f.formula = "|x|";
    f.f = [](double x) { return std::abs(x); };
    f.df = [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); };
    f.lo = -2.0, f.hi = 2.0, f.x0 = 1.0;
    f.smooth = false, f.table = 3;
    f.derivative_note = "f'(0) := 0 (the subgradient of least norm)";
    v.push_back(f);
  }
  {
    Function1D f;
    f.key = "cbrt-sin";
    f.formula = "x^(1/3) + sin(x) if x > 0, 0 if x <= 0";
    f.f = [](double x) { return x > 0 ? std::cbrt(x) + std::sin(x) : 0.0; };
    f.df = [](double x) { return x > 0 ? 1.0 / (3.0 * std::cbrt(x * x)) + std::cos(x) : 0.0; };
    f.lo = -2.0, f.hi = 2.0, f.x0 = 1.0;
    f.smooth = false, f.table = 3;
    f.derivative_note = "f'(0) := 0 (the branch x <= 0 defines f(0)); f' -> +inf as x -> 0+";
    f.minimiser_note = "every x <= 0";
    v.push_back(f);
  }
  {
    Function1D f;
    f.key = "piecewise";
    f.formula = "x if x > 0, x^2 if x < 0, 0 if x = 0";
    f.f = [](double x) { return x > 0 ? x : (x < 0 ? x * x : 0.0); };
    f.df = [](double x) { return x > 0 ? 1.0 : (x < 0 ? 2 * x : 0.0); };
    f.lo = -2.0, f.hi = 2.0, f.x0 = 1.0;
    f.smooth = false, f.table = 3;
    f.derivative_note = "f'(0) := 0 (the branch f(0) = 0); one-sided derivatives 0 and 1";
    v.push_back(f);
  }
  return v;
}

std::vector<PaperRow> make_paper_rows() {
  // Tables I-III of the paper exactly as printed; NaN / -1 where it prints "NA".
  return {
      {1, "poly10", -2.25, 2.6, 31, -2.249, 9},
      {1, "cubic", 3, 3.00, 17, 3.00, 11},
      {1, "expcos", -2.718, -2.718, 349, -2.718, 9},
      {1, "poly15", 0.4747, 2.6, 548, 0.4747, 11},
      {2, "poly10", -2.25, -1.45, 667, -2.249, 13},
      {2, "cubic", 3, 3.0, 71, 3.00, 16},
      {2, "expcos", -2.718, -2.718, 49, -2.706, 8},
      {2, "poly15", 0.4747, 0.679, 66, 0.4747, 6},
      {3, "sqrt", 0, kNaN, -1, 0.01, 22},
      {3, "abs", 0, 0.1, 1001, 0.03, 21},
      {3, "cbrt-sin", 0, 0.14, 13, 0.004, 21},
      {3, "piecewise", 0, 0.001, 50, 0.04, 20},
  };
}

double clamp_to(double x, double lo, double hi) { return std::min(std::max(x, lo), hi); }

// Seeds: one stream per (table, function, run); start points shared by tables.
uint64_t run_seed(uint64_t seed, int table, size_t fn_index, int64_t run) {
  using swarm::step_seed;
  return step_seed(step_seed(step_seed(seed, static_cast<uint64_t>(table)), fn_index), static_cast<uint64_t>(run + 1));
}
double random_start(const Function1D& fn, uint64_t seed, size_t fn_index, int64_t run) {
  Rng rng(swarm::step_seed(seed ^ 0x5eed57a27ULL, fn_index), static_cast<uint64_t>(run));
  return fn.lo + (fn.hi - fn.lo) * rng.uniform();
}
size_t index_of(const Function1D& fn) {
  const auto& all = functions1d();
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i].key == fn.key) return i;
  return all.size();
}

std::string fmt_num(double v) {
  if (std::isnan(v)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
}  // namespace

const std::vector<Function1D>& functions1d() {
  static const std::vector<Function1D> all = make_functions();
  return all;
}

std::vector<Function1D> table_functions(int table) {
  if (table < 1 || table > 3) throw std::invalid_argument("table must be 1, 2 or 3, got " + std::to_string(table));
  std::vector<Function1D> out;
  for (const auto& f : functions1d())
    if ((table == 3) == (f.table == 3)) out.push_back(f);
  return out;
}

const Function1D& function1d(const std::string& key) {
  for (const auto& f : functions1d())
    if (f.key == key) return f;
  throw std::invalid_argument("unknown 1-D function '" + key + "'");
}

const std::vector<PaperRow>& paper_rows() {
  static const std::vector<PaperRow> rows = make_paper_rows();
  return rows;
}

const PaperRow& paper_row(int table, const std::string& key) {
  for (const auto& r : paper_rows())
    if (r.table == table && r.key == key) return r;
  throw std::invalid_argument("no paper row for table " + std::to_string(table) + " function " + key);
}

TrueOptimum true_optimum(const Function1D& fn, int64_t points) {
  if (points < 2) throw std::invalid_argument("true_optimum: need at least 2 grid points");
  const double h = (fn.hi - fn.lo) / static_cast<double>(points - 1);
  TrueOptimum best{fn.lo, kInf};
  int64_t bi = 0;
  for (int64_t i = 0; i < points; ++i) {
    const double x = i == points - 1 ? fn.hi : fn.lo + h * static_cast<double>(i);
    const double v = fn.f(x);
    if (v < best.f) best = {x, v}, bi = i;
  }
  // Golden-section refinement on the neighbouring cells (kept only if better).
  double a = std::max(fn.lo, best.x - h), b = std::min(fn.hi, best.x + h);
  const double r = (std::sqrt(5.0) - 1) / 2;
  double c = b - r * (b - a), d = a + r * (b - a);
  double fc = fn.f(c), fd = fn.f(d);
  for (int k = 0; k < 100 && b - a > 1e-14; ++k) {
    if (fc < fd) {
      b = d, d = c, fd = fc, c = b - r * (b - a), fc = fn.f(c);
    } else {
      a = c, c = d, fc = fd, d = a + r * (b - a), fd = fn.f(d);
    }
  }
  const double xm = (a + b) / 2, fm = fn.f(xm);
  if (fm < best.f) best = {xm, fm};
  (void)bi;
  return best;
}

void ExperimentOptions::validate() const {
  auto bad = [](const std::string& s) { throw std::invalid_argument("invalid experiment option: " + s); };
  if (!(eta() > 0) || !std::isfinite(eta())) bad("eta must be finite and > 0");
  if (!(beta() >= 0 && beta() < 1)) bad("beta must be in [0, 1)");
  if (!(c1() >= 0) || !(c2() >= 0) || !std::isfinite(c1() + c2())) bad("c1, c2 must be finite and >= 0");
  if (particles() < 1) bad("particles must be >= 1, got " + std::to_string(particles()));
  if (swarm_iterations() < 1) bad("swarm iterations must be >= 1, got " + std::to_string(swarm_iterations()));
  if (!(radius() > 0) || !std::isfinite(radius())) bad("radius must be finite and > 0");
  if (!(tolerance() >= 0)) bad("tolerance must be >= 0");
  if (max_iterations() < 1) bad("max iterations must be >= 1");
  if (patience() < 1) bad("patience must be >= 1");
  if (runs() < 0) bad("runs must be >= 0");
  if (!(hit_tolerance() >= 0)) bad("hit tolerance must be >= 0");
  if (grid_points() < 2) bad("grid points must be >= 2");
}

RunResult run_gradient_method(const Function1D& fn, double x0, double momentum, const ExperimentOptions& o) {
  o.validate();
  if (!(momentum >= 0 && momentum < 1)) throw std::invalid_argument("momentum must be in [0, 1)");
  RunResult r;
  r.method = momentum > 0 ? "sgd-momentum" : "gd";
  r.x0 = x0;
  double x = o.project() ? clamp_to(x0, fn.lo, fn.hi) : x0;
  double fx = fn.f(x);
  r.evaluations = 1;
  if (!std::isfinite(fx)) throw std::domain_error("start point outside the domain of " + fn.formula);
  double v = 0.0;
  int64_t small = 0;
  r.status = "max-iterations";
  for (int64_t t = 0; t < o.max_iterations(); ++t) {
    const double g = fn.df(x);
    ++r.evaluations;
    if (!std::isfinite(g)) {
      r.status = "no-gradient";
      break;
    }
    v = momentum > 0 ? momentum * v + (1 - momentum) * g : g;  // eq. 16
    double xn = x - o.eta() * v;
    if (o.project()) xn = clamp_to(xn, fn.lo, fn.hi);
    const double fn_x = std::isfinite(xn) ? fn.f(xn) : kInf;
    ++r.evaluations;
    r.iterations = t + 1;
    if (!std::isfinite(fn_x)) {
      r.status = std::isfinite(xn) && std::abs(xn) < 1e300 ? "left-domain" : "diverged";
      break;
    }
    const double step = std::abs(xn - x);
    x = xn, fx = fn_x;
    small = step < o.tolerance() ? small + 1 : 0;
    if (small >= o.patience()) {
      r.status = "converged";
      break;
    }
  }
  r.x = x, r.f = fx;
  return r;
}

swarm::GradientOptions gradient_options(const Function1D& fn, swarm::Variant variant, uint64_t seed,
                                        const ExperimentOptions& o) {
  swarm::GradientOptions g;
  g.eta(o.eta())
      .particles(o.particles())
      .iterations(o.swarm_iterations())
      .radius(o.radius())
      .variant(variant)
      .c1(o.c1())
      .c2(o.c2())
      .beta(o.beta())
      .inertia(o.eta())  // Table I: w = eta (paper, assumption 2)
      .seed(seed);
  if (std::isfinite(fn.domain_lo)) g.lower({fn.domain_lo}).upper({kInf});
  return g;
}

RunResult run_emulated(const Function1D& fn, double x0, swarm::Variant variant, uint64_t seed,
                       const ExperimentOptions& o) {
  o.validate();
  swarm::EmulatedGDOptions e;
  e.gradient(gradient_options(fn, variant, seed, o))
      .learning_rate(o.eta())
      .tolerance(o.tolerance())
      .patience(o.patience())
      .max_iterations(o.max_iterations())
      .seed(seed);
  if (o.project()) e.lower({fn.lo}).upper({fn.hi});
  const auto f = fn.f;
  const swarm::BatchFunction bf = [f](const double* X, int64_t n, int64_t dim, double* out) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(X[i * dim]);
  };
  const swarm::DescentResult d = swarm::emulated_gradient_descent(bf, {x0}, e);
  RunResult r;
  r.method = variant == swarm::Variant::PSO ? "emulated-pso" : "emulated-empso";
  r.seed = seed;
  r.x0 = x0;
  r.x = d.x[0];
  r.f = d.value;
  r.iterations = d.iterations;
  r.evaluations = d.evaluations;
  r.status = d.status;
  return r;
}

std::vector<TableRow> run_table(int table, const ExperimentOptions& o) {
  o.validate();
  const auto fns = table_functions(table);
  const double momentum = table == 1 ? 0.0 : o.beta();
  const swarm::Variant variant = table == 1 ? swarm::Variant::PSO : swarm::Variant::EMPSO;
  std::vector<TableRow> rows;
  for (const auto& fn : fns) {
    const size_t k = index_of(fn);
    TableRow row;
    row.table = table;
    row.fn = fn;
    row.optimum = true_optimum(fn, o.grid_points());
    row.paper = paper_row(table, fn.key);
    auto mark = [&](RunResult& r, int64_t run, uint64_t seed) {
      r.run = run;
      r.seed = seed;
      r.hit = std::isfinite(r.f) && std::abs(r.f - row.optimum.f) <= o.hit_tolerance();
    };
    const uint64_t s0 = run_seed(o.seed(), table, k, -1);
    row.baseline_fixed = run_gradient_method(fn, fn.x0, momentum, o);
    mark(row.baseline_fixed, -1, 0);
    row.emulated_fixed = run_emulated(fn, fn.x0, variant, s0, o);
    mark(row.emulated_fixed, -1, s0);
    for (int64_t r = 0; r < o.runs(); ++r) {
      const double x0 = random_start(fn, o.seed(), k, r);
      const uint64_t s = run_seed(o.seed(), table, k, r);
      RunResult b = run_gradient_method(fn, x0, momentum, o);
      mark(b, r, 0);
      RunResult e = run_emulated(fn, x0, variant, s, o);
      mark(e, r, s);
      row.baseline_runs.push_back(b);
      row.emulated_runs.push_back(e);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void write_file_atomically(const std::string& path, const std::string& content) {
  util::write_file_atomic(path, content);  // symlinks followed, devices written in place, OS reason on error
}

std::string table_csv(const std::vector<TableRow>& rows) {
  std::ostringstream os;
  os << "table,function,interval_lo,interval_hi,x_star,f_star,method,run,seed,x0,x_final,f_final,"
        "iterations,evaluations,status,hit\n";
  for (const auto& row : rows) {
    auto line = [&](const RunResult& r) {
      os << row.table << ',' << row.fn.key << ',' << fmt_num(row.fn.lo) << ',' << fmt_num(row.fn.hi) << ','
         << fmt_num(row.optimum.x) << ',' << fmt_num(row.optimum.f) << ',' << r.method << ','
         << (r.run < 0 ? std::string("fixed") : std::to_string(r.run)) << ',' << r.seed << ','
         << fmt_num(r.x0) << ',' << fmt_num(r.x) << ',' << fmt_num(r.f) << ',' << r.iterations << ','
         << r.evaluations << ',' << r.status << ',' << (r.hit ? 1 : 0) << '\n';
    };
    line(row.baseline_fixed);
    line(row.emulated_fixed);
    for (size_t i = 0; i < row.baseline_runs.size(); ++i) {
      line(row.baseline_runs[i]);
      line(row.emulated_runs[i]);
    }
  }
  return os.str();
}

std::vector<Fig1Point> fig1_data(const ExperimentOptions& o, int64_t points) {
  o.validate();
  if (points < 2) throw std::invalid_argument("fig1: need at least 2 points");
  std::vector<Fig1Point> out;
  const auto& fns = functions1d();
  for (size_t k = 0; k < fns.size(); ++k) {
    const auto& fn = fns[k];
    const auto f = fn.f;
    const swarm::BatchFunction bf = [f](const double* X, int64_t n, int64_t dim, double* y) {
      for (int64_t i = 0; i < n; ++i) y[i] = f(X[i * dim]);
    };
    for (int64_t i = 0; i < points; ++i) {
      const double x = fn.lo + (fn.hi - fn.lo) * static_cast<double>(i) / static_cast<double>(points - 1);
      // Fig. 1 uses the EMPSO estimate; the swarm is bounded by f's domain only.
      const auto go = gradient_options(fn, swarm::Variant::EMPSO, run_seed(o.seed(), 9, k, i), o);
      const auto est = swarm::estimate_gradient(bf, {x}, go);
      Fig1Point p;
      p.key = fn.key;
      p.x = x;
      p.true_gradient = fn.df(x);
      p.approx_gradient = est.gradient[0];
      p.cbar = est.cbar;
      p.g = est.best[0];
      out.push_back(p);
    }
  }
  return out;
}

std::string fig1_csv(const std::vector<Fig1Point>& data) {
  std::ostringstream os;
  os << "function,x,true_gradient,approx_gradient,cbar,g\n";
  for (const auto& p : data)
    os << p.key << ',' << fmt_num(p.x) << ',' << fmt_num(p.true_gradient) << ',' << fmt_num(p.approx_gradient)
       << ',' << fmt_num(p.cbar) << ',' << fmt_num(p.g) << '\n';
  return os.str();
}

}  // namespace adaswarm::experiments
