// `adaswarm functions`: the AdaSwarm paper's Tables I-III and Fig. 1 (section III).
// Every choice the paper leaves open is printed with the tables; see docs/functions.md.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "adaswarm/experiments/functions1d.h"
#include "adaswarm/util/atomic_file.h"
#include "commands.h"

namespace adaswarm::cli {
namespace {
namespace ex = adaswarm::experiments;

struct FunctionsArgs {
  std::string table = "all";
  uint64_t seed = 1;
  int64_t runs = 20;
  double eta = 0.1, c1 = 0.8, c2 = 0.9, beta = 0.9, radius = 0.5, tolerance = 1e-4, hit_tol = 1e-3;
  int64_t particles = 10, swarm_iterations = 10, max_iterations = 1000, patience = 2, grid = 200001;
  bool no_project = false, overwrite = false;
  std::string csv_dir, fig1;
  int64_t fig1_points = 201;
};

std::string num(double v, int prec = 4) {
  if (std::isnan(v)) return "NA";
  return fmt::format("{:.{}f}", v, prec);
}
std::string paper_num(double v) {
  if (std::isnan(v)) return "NA";
  return fmt::format("{:g}", v);
}
std::string paper_it(int64_t v) { return v < 0 ? "NA" : std::to_string(v); }

std::string result_cell(const ex::RunResult& r) {
  std::string s = fmt::format("{} (x {}) {} it", num(r.f), num(r.x, 4), r.iterations);
  if (r.status != "converged") s += " [" + r.status + "]";
  return s;
}

void print_settings(const FunctionsArgs& a, const ex::ExperimentOptions& o) {
  fmt::print("adaswarm functions: the AdaSwarm paper's Tables I-III (section III)\n");
  fmt::print("Settings (paper): eta {}, c1 {}, c2 {}, beta {}.\n", o.eta(), o.c1(), o.c2(), o.beta());
  fmt::print("Our choices (the paper does not state them; all are options):\n");
  fmt::print("  gradient estimate ghat(x) = (cbar/eta)(x - g): a fresh swarm of {} particles, {} iterations, "
             "at every step;\n    particle 0 starts at x, the others uniform in [x - {}, x + {}], velocities 0;\n",
             o.particles(), o.swarm_iterations(), o.radius(), o.radius());
  fmt::print("    Table I: PSO with inertia w = eta (the paper's assumption 2); Tables II-III: EMPSO (beta {}).\n",
             o.beta());
  fmt::print("  emulated GD: x <- x - eta * ghat(x)  (= x - cbar (x - g)).\n");
  fmt::print("  GD: x <- x - eta f'(x); SGD with momentum (paper eq. 16, deterministic in 1-D): "
             "V <- beta V + (1 - beta) f'(x), x <- x - eta V.\n");
  fmt::print("  stopping rule (every method): |x_(t+1) - x_t| < {:g} for {} consecutive updates, or {} updates;\n",
             o.tolerance(), o.patience(), o.max_iterations());
  fmt::print("    a missing gradient at x_t stops GD/SGD [no-gradient]; a step outside f's domain stops any method "
             "[left-domain].\n");
  fmt::print("  iterates {} the search interval{}.\n", o.project() ? "are projected onto" : "are NOT projected onto",
             o.project() ? " (the swarm is clamped to it too)" : " (only f's domain bounds the swarm)");
  fmt::print("  true optimum: global minimum of f on the interval (grid of {} points + golden-section refinement).\n",
             o.grid_points());
  fmt::print("  start points: the fixed x0 shown, then {} random starts uniform on the interval (seed {}); "
             "a run hits when |f(x_T) - f*| <= {:g}.\n",
             o.runs(), o.seed(), o.hit_tolerance());
  fmt::print("Reading the paper's columns: 'Global Minimum', 'GD/SGD Optimum' and 'Emulated GD' are values of f\n"
             "  (e.g. -2.25 = f(1.0845) for -(3x^5 - x^10)); we print f at the final iterate and that iterate x.\n");
  (void)a;
}

void print_table(int table, const std::vector<ex::TableRow>& rows, const ex::ExperimentOptions& o) {
  static const char* titles[] = {"", "Table I: differentiable functions, GD vs PSO-emulated GD",
                                 "Table II: differentiable functions, SGD with momentum vs EMPSO-emulated GD",
                                 "Table III: non-differentiable functions, SGD with momentum vs EMPSO-emulated GD"};
  const std::string base = table == 1 ? "GD" : "SGD-m";
  fmt::print("\n{}\n", titles[table]);
  fmt::print("{:<26} {:<12} {:>6} {:>22} | {:>14} {:<44} | {:>14} {:<44}\n", "function", "interval", "x0",
             "true f* (x*)", "paper " + base, "ours " + base + " f (x) iterations", "paper emul.",
             "ours emulated f (x) iterations");
  for (const auto& r : rows) {
    const std::string interval = fmt::format("[{:g}, {:g}]", r.fn.lo, r.fn.hi);
    const std::string opt = fmt::format("{} ({})", num(r.optimum.f),
                                        r.fn.minimiser_note.empty() ? num(r.optimum.x) : r.fn.minimiser_note);
    const std::string pb =
        fmt::format("{} / {}", paper_num(r.paper.baseline_opt), paper_it(r.paper.baseline_iterations));
    const std::string pe =
        fmt::format("{} / {}", paper_num(r.paper.emulated_opt), paper_it(r.paper.emulated_iterations));
    fmt::print("{:<26} {:<12} {:>6g} {:>22} | {:>14} {:<44} | {:>14} {:<44}\n", r.fn.formula.substr(0, 26), interval,
               r.fn.x0, opt, pb, result_cell(r.baseline_fixed), pe, result_cell(r.emulated_fixed));
  }
  if (o.runs() > 0) {
    fmt::print("  random starts ({} per function): hits / median f(x_T) / median iterations [median f evaluations]\n",
               o.runs());
    for (const auto& r : rows) {
      auto summary = [&](const std::vector<ex::RunResult>& runs) {
        int hits = 0;
        std::vector<double> f, it, ev;
        for (const auto& x : runs) {
          hits += x.hit ? 1 : 0;
          f.push_back(x.f);
          it.push_back(static_cast<double>(x.iterations));
          ev.push_back(static_cast<double>(x.evaluations));
        }
        return fmt::format("{:>3}/{:<3} {:>9} {:>7g} [{:g}]", hits, runs.size(), num(ex::median(f)),
                           ex::median(it), ex::median(ev));
      };
      fmt::print("  {:<26} {:<6} {:<36} | emulated {}\n", r.fn.formula.substr(0, 26), base, summary(r.baseline_runs),
                 summary(r.emulated_runs));
    }
  }
  for (const auto& r : rows)
    if (!r.fn.derivative_note.empty()) fmt::print("  note {}: {}\n", r.fn.formula, r.fn.derivative_note);
}

void run_functions(const FunctionsArgs& a) {
  ex::ExperimentOptions o;
  o.eta(a.eta)
      .c1(a.c1)
      .c2(a.c2)
      .beta(a.beta)
      .particles(a.particles)
      .swarm_iterations(a.swarm_iterations)
      .radius(a.radius)
      .tolerance(a.tolerance)
      .max_iterations(a.max_iterations)
      .patience(a.patience)
      .project(!a.no_project)
      .runs(a.runs)
      .seed(a.seed)
      .hit_tolerance(a.hit_tol)
      .grid_points(a.grid);
  o.validate();
  std::vector<int> tables;
  if (a.table == "all")
    tables = {1, 2, 3};
  else if (a.table == "1" || a.table == "2" || a.table == "3")
    tables = {std::stoi(a.table)};
  else if (a.table == "none")
    tables = {};
  else
    throw std::invalid_argument("--table must be 1, 2, 3, all or none, got '" + a.table + "'");
  // Results already there are refused before any run, unless --overwrite.
  auto table_path = [&](int t) {
    return (std::filesystem::path(a.csv_dir) / fmt::format("table{}.csv", t)).string();
  };
  std::vector<std::string> outputs;
  if (!a.csv_dir.empty())
    for (int t : tables) outputs.push_back(table_path(t));
  if (!a.fig1.empty()) outputs.push_back(a.fig1);
  util::check_outputs(outputs, a.overwrite, "pass --overwrite to replace it, or another --csv-dir / --fig1");
  if (!a.csv_dir.empty()) std::filesystem::create_directories(a.csv_dir);

  print_settings(a, o);
  for (int t : tables) {
    const auto rows = ex::run_table(t, o);
    print_table(t, rows, o);
    if (!a.csv_dir.empty()) {
      const std::string path = table_path(t);
      ex::write_file_atomically(path, ex::table_csv(rows));
      fmt::print("  wrote {}\n", path);
    }
  }
  if (!a.fig1.empty()) {
    const auto parent = std::filesystem::path(a.fig1).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    ex::write_file_atomically(a.fig1, ex::fig1_csv(ex::fig1_data(o, a.fig1_points)));
    fmt::print("\nFig. 1 data ({} points per function, one EMPSO estimate per x, swarm bounded by f's domain only)"
               " written to {}\n  plot: python3 scripts/plot_fig1.py {} --out fig1.png\n",
               a.fig1_points, a.fig1, a.fig1);
  }
  std::fflush(stdout);
}
}  // namespace

void add_functions_command(CLI::App& app) {
  auto args = std::make_shared<FunctionsArgs>();
  auto* cmd = app.add_subcommand(
      "functions", "Reproduce the AdaSwarm paper's Tables I-III (GD / SGD-momentum vs emulated GD) and Fig. 1 data");
  cmd->add_option("--table", args->table, "1, 2, 3, all or none")->capture_default_str();
  cmd->add_option("--seed", args->seed, "seed of the swarms and of the random starts")->check(Seed())->capture_default_str();
  cmd->add_option("--runs", args->runs, "random starts per function (0: only the fixed start)")
      ->check(Integer(0, 100000))
      ->capture_default_str();
  cmd->add_option("--csv-dir", args->csv_dir, "write every run to DIR/table{1,2,3}.csv");
  cmd->add_option("--fig1", args->fig1, "write Fig. 1 data (x, true and approximate gradient) to FILE.csv");
  cmd->add_flag("--overwrite", args->overwrite, "replace existing --csv-dir tables and --fig1 file (refused otherwise)");
  cmd->add_option("--fig1-points", args->fig1_points, "x values per function in the Fig. 1 data")
      ->check(Integer(2, 1000000))
      ->capture_default_str();
  cmd->add_option("--eta", args->eta, "eta (learning rate and the eta of ghat)")
      ->check(Positive(1e6))
      ->capture_default_str();
  cmd->add_option("--c1", args->c1, "cognitive coefficient")->check(Number(0, 1e6))->capture_default_str();
  cmd->add_option("--c2", args->c2, "social coefficient")->check(Number(0, 1e6))->capture_default_str();
  cmd->add_option("--beta", args->beta, "EMPSO momentum and the SGD momentum")
      ->check(Number(0, 1, false, true))
      ->capture_default_str();
  cmd->add_option("--particles", args->particles, "particles per gradient estimate")
      ->check(Integer(1, 100000))
      ->capture_default_str();
  cmd->add_option("--swarm-iterations", args->swarm_iterations, "swarm iterations per gradient estimate")
      ->check(Integer(1, 100000))
      ->capture_default_str();
  cmd->add_option("--radius", args->radius, "particles start uniform in [x - radius, x + radius]")
      ->check(Positive(1e6))
      ->capture_default_str();
  cmd->add_option("--tolerance", args->tolerance, "stop when |x_(t+1) - x_t| < tolerance ...")
      ->check(Number(0, 1e6))
      ->capture_default_str();
  cmd->add_option("--patience", args->patience, "... for this many consecutive updates")
      ->check(Integer(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-iterations", args->max_iterations, "at most this many updates")
      ->check(Integer(1, 10000000))
      ->capture_default_str();
  cmd->add_flag("--no-project", args->no_project, "do not project iterates onto the search interval");
  cmd->add_option("--hit-tolerance", args->hit_tol, "a run hits when |f(x_T) - f*| <= this")
      ->check(Number(0, 1e6))
      ->capture_default_str();
  cmd->add_option("--grid", args->grid, "grid points for the true optimum")
      ->check(Integer(2, 100000000))
      ->capture_default_str();
  cmd->callback([args] { run_functions(*args); });
}

}  // namespace adaswarm::cli
