// CEC-2014 (30 functions, pagmo2's implementation with the competition's data)
// for our PSO, GSO and PGSO beside pagmo2's pso, pso_gen, sade, de1220 and
// cmaes, at the competition's budget of 10000 * D evaluations (docs/pgso.md).
// Error = f - f* (f* = 100 * function number), errors <= 1e-8 count as 0.
// One core: every algorithm runs single-threaded, one run after another.
//
// Usage: cec2014_bench [--runs N] [--dim D] [--functions 1,2,...] [--csv FILE]
// Built only when pagmo2 is installed (bench/CMakeLists.txt).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <pagmo/algorithm.hpp>
#include <pagmo/algorithms/cmaes.hpp>
#include <pagmo/algorithms/de1220.hpp>
#include <pagmo/algorithms/pso.hpp>
#include <pagmo/algorithms/pso_gen.hpp>
#include <pagmo/algorithms/sade.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/problems/cec2014.hpp>

#include "adaswarm/pgso/gso.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace pg = adaswarm::pgso;

struct Cell {
  std::vector<double> errors;
  double seconds = 0;
  int64_t evaluations = 0;
};

double error_of(double f, unsigned fn) {
  const double e = f - 100.0 * fn;
  return e <= 1e-8 ? 0.0 : e;
}

/// The largest knob value in [1, hi] whose evaluation count fits the budget
/// (counts from a dry run on a trivial objective).
int64_t fit_budget(const std::function<int64_t(int64_t)>& evals_at, int64_t budget, int64_t hi) {
  int64_t lo = 1;
  if (evals_at(lo) > budget) throw std::runtime_error("even the smallest setting exceeds the budget");
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) / 2;
    if (evals_at(mid) <= budget)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/// Our algorithms on a CEC function (pagmo's fitness, one row at a time).
struct Ours {
  std::string name;
  std::function<pg::Result(const pg::Objective&, int64_t dim, uint64_t seed)> run;
};

std::vector<Ours> our_algorithms(int64_t D, int64_t budget, std::vector<std::string>& settings) {
  const std::vector<double> lo{-100.0}, hi{100.0};
  const pg::Objective trivial = [](const double* X, int64_t P, int64_t Dm, double* out) {
    for (int64_t i = 0; i < P; ++i) out[i] = X[i * Dm];
  };
  auto pso_opts = [lo, hi](int64_t iters) {
    return pg::PsoOptions().particles(50).iterations(iters).lower(lo).upper(hi).log_every(0);
  };
  const int64_t pso_iters =
      fit_budget([&](int64_t k) { return pg::pso(trivial, D, pso_opts(k).seed(1)).evaluations; }, budget, budget / 50);
  settings.push_back("pso: 50 particles, " + std::to_string(pso_iters) + " iterations, w 0.5, c1 1, c2 2");

  auto gso_opts = [lo, hi, D](int64_t epochs) {
    return pg::GsoOptions::authors(D).epochs(epochs).lower(lo).upper(hi).log_every(0);
  };
  const auto authors = pg::GsoOptions::authors(D);
  const int64_t gso_epochs =
      fit_budget([&](int64_t k) { return pg::gso(trivial, D, gso_opts(k).seed(1)).evaluations; }, budget, 1000);
  settings.push_back("gso: the authors' settings (" + std::to_string(authors.subswarms()) + " galaxies x " +
                     std::to_string(authors.particles()) + " particles, level-1 " +
                     std::to_string(authors.level1_iterations()) + " / level-2 " +
                     std::to_string(authors.level2_iterations()) + " iterations), " + std::to_string(gso_epochs) +
                     " epochs");

  auto pgso_opts = [lo, hi](int64_t iters) {
    return pg::PgsoOptions().iterations(iters).threads(1).limit_torch_threads(false).lower(lo).upper(hi).log_every(0);
  };
  const int64_t pgso_iters =
      fit_budget([&](int64_t k) { return pg::pgso(trivial, D, pgso_opts(k).seed(1)).evaluations; }, budget, budget / 140);
  settings.push_back("pgso: 7 subswarms x 20 particles, " + std::to_string(pgso_iters) +
                     " iterations per stage, one exchange, w 0.5, c1 1, c2 2, one thread");

  return {
      {"pso", [=](const pg::Objective& f, int64_t d, uint64_t s) { return pg::pso(f, d, pso_opts(pso_iters).seed(s)); }},
      {"gso", [=](const pg::Objective& f, int64_t d, uint64_t s) { return pg::gso(f, d, gso_opts(gso_epochs).seed(s)); }},
      {"pgso",
       [=](const pg::Objective& f, int64_t d, uint64_t s) { return pg::pgso(f, d, pgso_opts(pgso_iters).seed(s)); }},
  };
}

/// pagmo2's algorithms: name, population size, factory (generations, seed).
struct Theirs {
  std::string name;
  unsigned pop;
  std::function<pagmo::algorithm(unsigned gen, unsigned seed)> make;
  bool initial_counts = true;  // the population's initial evaluations count toward the budget
};

std::vector<Theirs> pagmo_algorithms(unsigned D) {
  const unsigned cma_pop = 4u + static_cast<unsigned>(std::floor(3.0 * std::log(static_cast<double>(D))));
  return {
      {"pagmo pso", 50u, [](unsigned g, unsigned s) { return pagmo::algorithm{pagmo::pso(g, 0.7298, 2.05, 2.05, 0.5, 5u, 2u, 4u, false, s)}; }},
      {"pagmo pso_gen", 50u,
       [](unsigned g, unsigned s) { return pagmo::algorithm{pagmo::pso_gen(g, 0.7298, 2.05, 2.05, 0.5, 5u, 2u, 4u, false, s)}; }},
      {"pagmo sade", 50u, [](unsigned g, unsigned s) { return pagmo::algorithm{pagmo::sade(g, 2u, 1u, 0.0, 0.0, false, s)}; }},
      {"pagmo de1220", 50u,
       [](unsigned g, unsigned s) {
         return pagmo::algorithm{pagmo::de1220(g, pagmo::de1220_statics<void>::allowed_variants, 1u, 0.0, 0.0, false, s)};
       }},
      {"pagmo cmaes", cma_pop,
       [](unsigned g, unsigned s) {
         return pagmo::algorithm{pagmo::cmaes(g, -1, -1, -1, -1, 0.5, 0.0, 0.0, false, true, s)};
       }},
  };
}

/// Two-sided Mann-Whitney U test (normal approximation with tie correction):
/// +1 when a's errors are significantly lower, -1 when higher, 0 otherwise.
int compare(const std::vector<double>& a, const std::vector<double>& b, double z_crit = 1.959964) {
  const size_t n1 = a.size(), n2 = b.size();
  std::vector<std::pair<double, int>> all;
  for (double v : a) all.emplace_back(v, 0);
  for (double v : b) all.emplace_back(v, 1);
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  const size_t N = all.size();
  std::vector<double> rank(N);
  double tie_term = 0;
  for (size_t i = 0; i < N;) {
    size_t j = i;
    while (j + 1 < N && all[j + 1].first == all[i].first) ++j;
    const double r = 0.5 * static_cast<double>(i + j) + 1.0;
    for (size_t k = i; k <= j; ++k) rank[k] = r;
    const double t = static_cast<double>(j - i + 1);
    tie_term += t * t * t - t;
    i = j + 1;
  }
  double r1 = 0;
  for (size_t k = 0; k < N; ++k)
    if (all[k].second == 0) r1 += rank[k];
  const double U1 = r1 - static_cast<double>(n1 * (n1 + 1)) / 2.0;
  const double mu = static_cast<double>(n1 * n2) / 2.0;
  const double Nd = static_cast<double>(N);
  const double var = static_cast<double>(n1 * n2) / 12.0 * ((Nd + 1) - tie_term / (Nd * (Nd - 1)));
  if (var <= 0) return 0;  // all equal
  const double z = (U1 - mu) / std::sqrt(var);
  if (z < -z_crit) return +1;  // a ranks lower: smaller errors
  if (z > z_crit) return -1;
  return 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

std::vector<unsigned> parse_list(const std::string& s) {
  std::vector<unsigned> out;
  size_t i = 0;
  while (i <= s.size()) {
    const size_t j = s.find(',', i);
    const std::string part = s.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!part.empty()) out.push_back(static_cast<unsigned>(std::stoul(part)));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 10;
  unsigned D = 10;
  std::vector<unsigned> functions;
  for (unsigned f = 1; f <= 30; ++f) functions.push_back(f);
  std::string csv;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "cec2014_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--runs") runs = std::stoi(next());
      else if (a == "--dim") D = static_cast<unsigned>(std::stoul(next()));
      else if (a == "--functions") functions = parse_list(next());
      else if (a == "--csv") csv = next();
      else {
        std::fprintf(stderr, "usage: cec2014_bench [--runs N] [--dim 10|20|30|50|100] [--functions 1,2,..] [--csv FILE]\n");
        return 2;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "cec2014_bench: bad value for %s\n", a.c_str());
      return 2;
    }
  }
  if (runs < 2 || runs > 1000) {
    std::fprintf(stderr, "cec2014_bench: --runs must be in [2, 1000]\n");
    return 2;
  }
  if (D != 10 && D != 20 && D != 30 && D != 50 && D != 100) {
    std::fprintf(stderr, "cec2014_bench: --dim must be 10, 20, 30, 50 or 100 (the competition's data)\n");
    return 2;
  }
  for (unsigned f : functions)
    if (f < 1 || f > 30) {
      std::fprintf(stderr, "cec2014_bench: --functions must be in 1..30, got %u\n", f);
      return 2;
    }
  const int64_t budget = 10000 * static_cast<int64_t>(D);
  std::vector<std::string> settings;
  const auto ours = our_algorithms(D, budget, settings);
  const auto theirs = pagmo_algorithms(D);
  std::vector<std::string> names;
  for (const auto& o : ours) names.push_back(o.name);
  for (const auto& t : theirs) names.push_back(t.name);
  const size_t A = names.size();

  std::printf("== CEC-2014, D = %u, budget %lld evaluations, %d runs per cell, one core\n", D,
              static_cast<long long>(budget), runs);
  for (const auto& s : settings) std::printf("   %s\n", s.c_str());
  for (const auto& t : theirs)
    std::printf("   %s: population %u, %u generations\n", t.name.c_str(), t.pop,
                static_cast<unsigned>(budget / t.pop - 1));
  std::fflush(stdout);

  std::map<unsigned, std::vector<Cell>> cells;
  const auto t_all = Clock::now();
  for (unsigned fn : functions) {
    const pagmo::cec2014 prob(fn, D);
    auto& row = cells[fn];
    row.resize(A);
    const pg::Objective f = [&prob](const double* X, int64_t P, int64_t Dm, double* out) {
      pagmo::vector_double x(static_cast<size_t>(Dm));
      for (int64_t i = 0; i < P; ++i) {
        std::copy(X + i * Dm, X + (i + 1) * Dm, x.begin());
        out[i] = prob.fitness(x)[0];
      }
    };
    for (size_t a = 0; a < ours.size(); ++a) {
      const auto t0 = Clock::now();
      for (int r = 0; r < runs; ++r) {
        const auto res = ours[a].run(f, D, static_cast<uint64_t>(r + 1));
        row[a].errors.push_back(error_of(res.best_fitness, fn));
        row[a].evaluations += res.evaluations;
      }
      row[a].seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    for (size_t k = 0; k < theirs.size(); ++k) {
      auto& cell = row[ours.size() + k];
      const unsigned gens = static_cast<unsigned>(budget / theirs[k].pop - 1);
      const auto t0 = Clock::now();
      for (int r = 0; r < runs; ++r) {
        pagmo::problem p{prob};
        pagmo::population pop{p, theirs[k].pop, static_cast<unsigned>(r + 1)};
        pop = theirs[k].make(gens, static_cast<unsigned>(r + 1)).evolve(pop);
        cell.errors.push_back(error_of(pop.champion_f()[0], fn));
        cell.evaluations += static_cast<int64_t>(pop.get_problem().get_fevals());
      }
      cell.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    std::printf("  f%-2u done (%.0f s so far)\n", fn, std::chrono::duration<double>(Clock::now() - t_all).count());
    std::fflush(stdout);
  }

  // Table: median (mean) error per function and algorithm.
  std::printf("\n| f |");
  for (const auto& n : names) std::printf(" %s |", n.c_str());
  std::printf("\n|---|");
  for (size_t a = 0; a < A; ++a) std::printf("---|");
  std::printf("\n");
  std::vector<double> rank_sum(A, 0.0);
  for (unsigned fn : functions) {
    const auto& row = cells[fn];
    std::printf("| %u |", fn);
    std::vector<double> med(A);
    for (size_t a = 0; a < A; ++a) {
      med[a] = median(row[a].errors);
      std::printf(" %.3g (%.3g) |", med[a], mean(row[a].errors));
    }
    std::printf("\n");
    for (size_t a = 0; a < A; ++a) {  // average rank by median, ties shared
      double less = 0, equal = 0;
      for (size_t b = 0; b < A; ++b) {
        less += med[b] < med[a];
        equal += med[b] == med[a];
      }
      rank_sum[a] += less + (equal + 1) / 2.0;
    }
  }
  std::printf("\nmean rank by median error over %zu functions (1 = best):", functions.size());
  for (size_t a = 0; a < A; ++a) std::printf("  %s %.2f", names[a].c_str(), rank_sum[a] / functions.size());
  std::printf("\n\nwins / ties / losses (Mann-Whitney U, two-sided, 5%%) of ours against each pagmo2 algorithm:\n");
  for (size_t a = 0; a < ours.size(); ++a) {
    std::printf("  %-5s", names[a].c_str());
    for (size_t k = 0; k < theirs.size(); ++k) {
      int w = 0, t = 0, l = 0;
      for (unsigned fn : functions) {
        const int c = compare(cells[fn][a].errors, cells[fn][ours.size() + k].errors);
        (c > 0 ? w : c < 0 ? l : t)++;
      }
      std::printf("  vs %s %d/%d/%d", theirs[k].name.c_str() + 6, w, t, l);
    }
    std::printf("\n");
  }
  std::printf("\nwall time per algorithm (all functions and runs) and mean evaluations per run:\n");
  for (size_t a = 0; a < A; ++a) {
    double s = 0;
    int64_t e = 0;
    for (unsigned fn : functions) s += cells[fn][a].seconds, e += cells[fn][a].evaluations;
    std::printf("  %-14s %8.1f s  %9.0f evaluations\n", names[a].c_str(), s,
                static_cast<double>(e) / (runs * static_cast<double>(functions.size())));
  }
  std::printf("total wall time %.0f s\n", std::chrono::duration<double>(Clock::now() - t_all).count());

  if (!csv.empty()) {
    std::ofstream out(csv);
    out << "dim,function,algorithm,run,error\n";
    for (unsigned fn : functions)
      for (size_t a = 0; a < A; ++a)
        for (size_t r = 0; r < cells[fn][a].errors.size(); ++r)
          out << D << ',' << fn << ',' << names[a] << ',' << r + 1 << ',' << cells[fn][a].errors[r] << '\n';
    if (!out) {
      std::fprintf(stderr, "cec2014_bench: cannot write %s\n", csv.c_str());
      return 1;
    }
  }
  return 0;
}
