// The `adaswarm pgso` runs (include/adaswarm/experiments/pgso_runs.h): benchmark
// tables, network weight search and scaling (SPEC.md sections 6 and 7; docs/pgso.md).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "adaswarm/dist/dist.h"
#include "adaswarm/pgso/functions.h"
#include "adaswarm/pgso/gso.h"
#include "adaswarm/pgso/network.h"
#include "adaswarm/util/atomic_file.h"
#include "adaswarm/experiments/pgso_runs.h"

namespace adaswarm::experiments::pgso_runs {
namespace {
namespace pg = adaswarm::pgso;
namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<std::string> split_list(const std::string& s, const char* what) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  if (out.empty()) throw std::invalid_argument(std::string("--") + what + " is empty");
  return out;
}

std::vector<int64_t> int_list(const std::string& s, const char* what, int64_t min) {
  std::vector<int64_t> out;
  for (const auto& t : split_list(s, what)) {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(t, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != t.size()) throw std::invalid_argument(std::string("--") + what + ": '" + t + "' is not an integer");
    if (v < min)
      throw std::invalid_argument(std::string("--") + what + ": " + t + " must be >= " + std::to_string(min));
    out.push_back(v);
  }
  return out;
}

// Memory this machine has available now (MemAvailable; 0 when unknown).
double available_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  double kb = 0;
  std::string unit;
  while (f >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024.0;
  const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0.0;
}

std::string gib(double bytes) { return fmt::format("{:.3g} GiB", bytes / (1024.0 * 1024.0 * 1024.0)); }

/// The output folder exists and its `files` may be written (util::check_outputs:
/// results already there are refused unless --overwrite).
void prepare_out(const std::string& dir, std::initializer_list<const char*> files, bool overwrite) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create output directory '" + dir + "': " + ec.message());
  std::vector<std::string> paths;
  for (const char* f : files) paths.push_back((fs::path(dir) / f).string());
  util::check_outputs(paths, overwrite, "pass --overwrite to replace the results there, or another --out");
}

std::string g(double v) { return fmt::format("{:.4g}", v); }

/// PGSO islands over ranks launched with torchrun's variables (docs/distributed.md):
/// every rank runs the command; rank 0 alone prints and writes files.
struct Ranks {
  std::shared_ptr<dist::ProcessGroup> group;
  bool lead = true;
};
Ranks join_ranks(double timeout) {
  Ranks r;
  r.group = dist::ProcessGroup::from_environment(timeout);
  r.lead = r.group->rank() == 0;
  if (!r.lead && !std::freopen("/dev/null", "w", stdout))  // ranks > 0: errors only (stderr)
    throw std::runtime_error("cannot silence the standard output of rank " + std::to_string(r.group->rank()));
  return r;
}
std::string ranks_note(const Ranks& r) {
  return r.group->distributed() ? fmt::format(", subswarms on {} ranks (k mod {})", r.group->size(), r.group->size())
                                : std::string();
}

// ------------------------------------------------------------------ bench

}  // namespace

void run_bench(const BenchConfig& a) {
  const auto algos = split_list(a.algorithms, "algorithms");
  for (const auto& al : algos)
    if (al != "pso" && al != "gso" && al != "gso-u01" && al != "pgso")
      throw std::invalid_argument("--algorithms: unknown algorithm '" + al + "' (pso, gso, gso-u01, pgso)");
  std::vector<std::string> funcs;
  if (a.functions == "paper") {
    funcs = pg::Function::paper_suite();
  } else if (a.functions == "all") {
    for (const auto& b : pg::Function::base_names())
      for (const char* p : {"", "rotated_", "shifted_rotated_"}) funcs.push_back(p + b);
  } else {
    funcs = split_list(a.functions, "functions");
  }
  for (const auto& f : funcs) pg::Function(f, 2);  // validates the names up front
  const auto dims = int_list(a.dims, "dims", 1);
  {
    // A rough upper estimate of the memory one cell needs: the swarms' positions,
    // velocities, bests and scratch (8 arrays of particles x D doubles) and, for a
    // rotated function, its D x D rotation (twice: the matrix and its construction).
    bool rotated = false;
    for (const auto& f : funcs) rotated = rotated || f.find("rotated_") != std::string::npos;
    const double particles = static_cast<double>(std::max<int64_t>({a.pso_particles, a.subswarms * a.particles, 100}));
    const double avail = available_bytes();
    for (int64_t D : dims) {
      const double d = static_cast<double>(D);
      const double need = 8.0 * (8.0 * particles * d + (rotated ? 2.0 * d * d : 0.0));
      if (D > 100000000 || (avail > 0 && need > 0.8 * avail))
        throw std::invalid_argument(fmt::format(
            "--dims {}: needs about {} of memory{} but {} is available; give smaller dimensions", D, gib(need),
            rotated ? " (a rotated function holds a D x D matrix)" : "", gib(avail)));
    }
  }
  if (a.runs < 1) throw std::invalid_argument("--runs must be >= 1");
  if (a.iterations < 1) throw std::invalid_argument("--iterations must be >= 1");
  if (a.log_every < 1) throw std::invalid_argument("--log-every must be >= 1");
  const Ranks ranks = join_ranks(a.dist_timeout);
  // (--threads may differ: the results do not depend on it)
  dist::require_same_settings(*ranks.group, {{"--algorithms", a.algorithms},
                                             {"--functions", a.functions},
                                             {"--dims", a.dims},
                                             {"--runs", fmt::format("{}", a.runs)},
                                             {"--seed", fmt::format("{}", a.seed)},
                                             {"--iterations", fmt::format("{}", a.iterations)},
                                             {"--subswarms", fmt::format("{}", a.subswarms)},
                                             {"--particles", fmt::format("{}", a.particles)},
                                             {"--pso-particles", fmt::format("{}", a.pso_particles)},
                                             {"--log-every", fmt::format("{}", a.log_every)}});
  ranks.group->agree([&] {
    if (ranks.lead) prepare_out(a.out, {"runs.csv", "convergence.csv", "summary.json"}, a.overwrite);
  });

  fmt::print("adaswarm pgso bench: mean best error (best - minimum) over {} runs, seed {}\n", a.runs, a.seed);
  fmt::print("  PSO : {} particles, {} iterations, w 0.5, c1 1, c2 2, r per coordinate, positions clamped\n",
             a.pso_particles, a.iterations);
  fmt::print("  GSO : the authors' settings per D (SPEC.md 6), c1..c4 = 2.05 U(0,1) per run, r ~ U(-1,1) "
             "(gso-u01: r ~ U(0,1))\n");
  fmt::print("  PGSO: M {} subswarms x {} particles, {} iterations, exchange at {}, stage 2 {} iterations, "
             "{} threads{}\n",
             a.subswarms, a.particles, a.iterations, a.iterations / 2, a.iterations,
             a.threads > 0 ? std::to_string(a.threads) : "all", ranks_note(ranks));
  fmt::print("  Reference (PGSO paper) PSO/GSO values: not available -- the paper text we have\n"
             "  (papers/pgso-paper.txt) names Tables 4-6 but contains none of their numbers.\n");

  std::string runs_csv = "function,dim,algorithm,run,seed,best_error,best_fitness,evaluations,seconds\n";
  std::string conv_csv = "function,dim,algorithm,iteration,evaluations,mean_best_error,stage\n";
  json summary = json::array();
  const auto t_all = std::chrono::steady_clock::now();
  for (int64_t D : dims) {
    fmt::print("\nD = {}\n{:<28}", D, "function");
    for (const auto& al : algos) fmt::print(" {:>22}", al + " mean (std)");
    fmt::print("\n");
    for (const auto& fname : funcs) {
      const pg::Function f(fname, D);
      const pg::Objective obj = [&f](const double* X, int64_t P, int64_t Dd, double* out) {
        f.evaluate(X, P, Dd, out);
      };
      const std::vector<double> lo{f.lower()}, hi{f.upper()};
      fmt::print("{:<28}", fname);
      std::fflush(stdout);
      for (const auto& al : algos) {
        std::vector<double> errs;
        std::vector<pg::LogEntry> mean_log;
        double secs = 0;
        int64_t evals = 0;
        for (int64_t run = 0; run < a.runs; ++run) {
          const uint64_t seed = a.seed + static_cast<uint64_t>(run) * 1000003ULL;
          pg::Result r;
          if (al == "pso")
            r = pg::pso(obj, D,
                        pg::PsoOptions().particles(a.pso_particles).iterations(a.iterations).lower(lo).upper(hi)
                            .seed(seed).log_every(a.log_every));
          else if (al == "gso" || al == "gso-u01")
            r = pg::gso(obj, D,
                        pg::GsoOptions::authors(D).lower(lo).upper(hi).seed(seed).log_every(a.log_every)
                            .random_low(al == "gso" ? -1.0 : 0.0));
          else
            r = pg::pgso(obj, D,
                         pg::PgsoOptions().subswarms(a.subswarms).particles(a.particles).iterations(a.iterations)
                             .lower(lo).upper(hi).seed(seed).threads(a.threads).log_every(a.log_every)
                             .limit_torch_threads(false).group(ranks.group));
          const double err = r.best_fitness - f.minimum();
          errs.push_back(err);
          secs += r.seconds;
          evals = r.evaluations;
          runs_csv += fmt::format("{},{},{},{},{},{:.17g},{:.17g},{},{:.6f}\n", fname, D, al, run, seed, err,
                                  r.best_fitness, r.evaluations, r.seconds);
          if (run == 0) {
            mean_log = r.log;
            for (auto& e : mean_log) e.best = 0;
          }
          for (size_t i = 0; i < mean_log.size() && i < r.log.size(); ++i)
            mean_log[i].best += (r.log[i].best - f.minimum()) / static_cast<double>(a.runs);
        }
        double m = 0, s = 0;
        for (double e : errs) m += e;
        m /= static_cast<double>(errs.size());
        for (double e : errs) s += (e - m) * (e - m);
        s = errs.size() > 1 ? std::sqrt(s / static_cast<double>(errs.size() - 1)) : 0.0;
        fmt::print(" {:>22}", g(m) + " (" + g(s) + ")");
        std::fflush(stdout);
        for (const auto& e : mean_log)
          conv_csv += fmt::format("{},{},{},{},{},{:.17g},{}\n", fname, D, al, e.iteration, e.evaluations, e.best,
                                  e.stage);
        summary.push_back({{"function", fname},
                           {"dim", D},
                           {"algorithm", al},
                           {"mean_error", m},
                           {"std_error", s},
                           {"errors", errs},
                           {"evaluations_per_run", evals},
                           {"seconds_total", secs},
                           {"reference_error", nullptr}});
      }
      fmt::print("\n");
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();
  json doc = {{"command", "pgso bench"},
              {"runs", a.runs},
              {"seed", a.seed},
              {"threads", a.threads},
              {"iterations", a.iterations},
              {"pgso", {{"subswarms", a.subswarms}, {"particles", a.particles}}},
              {"pso_particles", a.pso_particles},
              {"wall_seconds", wall},
              {"reference_note",
               "the PGSO paper text available here lacks the numbers of its Tables 4-6; reference_error is null"},
              {"results", summary}};
  // all three or none (util/atomic_file.h); rank 0 alone
  ranks.group->agree([&] {
    if (ranks.lead)
      util::write_files_atomic({{(fs::path(a.out) / "runs.csv").string(), runs_csv},
                                {(fs::path(a.out) / "convergence.csv").string(), conv_csv},
                                {(fs::path(a.out) / "summary.json").string(), doc.dump(2) + "\n"}});
  });
  fmt::print("\nwall time {:.1f} s; wrote {}/runs.csv, convergence.csv, summary.json\n", wall, a.out);
}

// ------------------------------------------------------------------ train


void run_search(const SearchConfig& a) {
  const Ranks ranks = join_ranks(a.dist_timeout);
  pg::Dataset d;
  // A data file that fails on one rank stops every rank with its message.
  ranks.group->agree([&] {
    if (a.dataset == "churn")
      d = pg::load_churn(a.data_dir + "/Churn_Modelling.csv", a.test_fraction, a.seed);
    else if (a.dataset == "nba")
      d = pg::load_nba(a.data_dir + "/nba_logreg.csv", a.test_fraction, a.seed);
    else
      d = pg::load_csv(a.dataset, a.label, {}, a.test_fraction, a.seed);
  });
  // (--threads and the data's paths may differ; the data's shape may not)
  dist::require_same_settings(*ranks.group, {{"--dataset", a.dataset == "churn" || a.dataset == "nba" ? a.dataset
                                                                                            : "a CSV file"},
                                             {"--label", a.label},
                                             {"--algorithms", a.algorithms},
                                             {"--epochs", a.epochs},
                                             {"--particles", fmt::format("{}", a.particles)},
                                             {"--iterations", fmt::format("{}", a.iterations)},
                                             {"--subswarms", fmt::format("{}", a.subswarms)},
                                             {"--batch", fmt::format("{}", a.batch)},
                                             {"--hidden", fmt::format("{}", a.hidden)},
                                             {"--bound", fmt::format("{}", a.bound)},
                                             {"--init-scale", fmt::format("{}", a.init_scale)},
                                             {"--test-fraction", fmt::format("{}", a.test_fraction)},
                                             {"--adam-lr", fmt::format("{}", a.adam_lr)},
                                             {"--adam-epochs", fmt::format("{}", a.adam_epochs)},
                                             {"--adam-batch", fmt::format("{}", a.adam_batch)},
                                             {"--seed", fmt::format("{}", a.seed)},
                                             {"training rows x features",
                                              fmt::format("{} x {}", d.x_train.size(0), d.x_train.size(1))},
                                             {"test rows", fmt::format("{}", d.x_test.size(0))}});
  const std::vector<int64_t> layers{d.x_train.size(1), a.hidden, 1};
  const auto algos = split_list(a.algorithms, "algorithms");
  for (const auto& al : algos)
    if (al != "pgso" && al != "pso" && al != "adam")
      throw std::invalid_argument("--algorithms: unknown '" + al + "' (pgso, pso, adam)");
  const auto epochs = int_list(a.epochs, "epochs", 1);
  ranks.group->agree([&] {
    if (ranks.lead) prepare_out(a.out, {"train.json", "train_log.csv"}, a.overwrite);
  });
  fmt::print("adaswarm pgso train: {} ({} train / {} test rows, {} features), net {}-{}-1, no biases, ReLU hidden, "
             "sigmoid out, BCE\n",
             d.name, d.x_train.size(0), d.x_test.size(0), d.x_train.size(1), layers[0], a.hidden);
  fmt::print("  swarm: {} particles per subswarm, {} iterations per stage per epoch, {} subswarms of {}-row batches, "
             "bounds +-{}, start U(+-{})\n",
             a.particles, a.iterations, a.subswarms, a.batch, a.bound, a.init_scale);
  fmt::print("  Adam: lr {}, batch {}, {} epochs (PGSO paper: Keras Adam churn 0.84, NBA 0.683)\n", a.adam_lr,
             a.adam_batch, a.adam_epochs);
  fmt::print("\n{:<6} {:>7} {:>11} {:>10} {:>10} {:>10} {:>12} {:>9}\n", "algo", "epochs", "train loss", "train acc",
             "test loss", "test acc", "evaluations", "seconds");
  json results = json::array();
  std::string log_csv = "algorithm,epochs_setting,epoch,evaluations,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n";
  auto report = [&](const std::string& al, int64_t ep, const pg::WeightSearchResult& r) {
    fmt::print("{:<6} {:>7} {:>11.4f} {:>10.4f} {:>10.4f} {:>10.4f} {:>12} {:>9.2f}\n", al, ep, r.train_loss,
               r.train_accuracy, r.test_loss, r.test_accuracy, r.evaluations, r.seconds);
    std::fflush(stdout);
    for (const auto& e : r.log)
      log_csv += fmt::format("{},{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.3f}\n", al, ep, e.epoch, e.evaluations,
                             e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy, e.seconds);
    results.push_back({{"algorithm", al},
                       {"epochs", ep},
                       {"train_loss", r.train_loss},
                       {"train_accuracy", r.train_accuracy},
                       {"test_loss", r.test_loss},
                       {"test_accuracy", r.test_accuracy},
                       {"evaluations", r.evaluations},
                       {"seconds", r.seconds}});
  };
  for (const auto& al : algos) {
    if (al == "adam") {
      report(al, a.adam_epochs,
             pg::train_adam(layers, false, d,
                            pg::AdamOptions().lr(a.adam_lr).batch_size(a.adam_batch).epochs(a.adam_epochs).seed(a.seed)));
      continue;
    }
    for (int64_t ep : epochs) {
      pg::BatchedMlpObjective mlp(layers);
      report(al, ep,
             pg::search_weights(mlp, d,
                                pg::WeightSearchOptions()
                                    .algorithm(al)
                                    .subswarms(a.subswarms)
                                    .particles(a.particles)
                                    .iterations(a.iterations)
                                    .batch_rows(a.batch)
                                    .epochs(ep)
                                    .bound(a.bound)
                                    .init_scale(a.init_scale)
                                    .seed(a.seed)
                                    .threads(a.threads)
                                    .group(ranks.group)));
    }
  }
  json doc = {{"command", "pgso train"}, {"dataset", d.name},       {"layers", layers},
              {"seed", a.seed},          {"particles", a.particles}, {"iterations", a.iterations},
              {"subswarms", a.subswarms}, {"batch", a.batch},        {"results", results}};
  ranks.group->agree([&] {
    if (ranks.lead)
      util::write_files_atomic({{(fs::path(a.out) / "train.json").string(), doc.dump(2) + "\n"},
                                {(fs::path(a.out) / "train_log.csv").string(), log_csv}});
  });
  fmt::print("\nwrote {}/train.json, train_log.csv\n", a.out);
}

// ------------------------------------------------------------------ scaling


void run_scaling(const ScalingConfig& a) {
  const pg::Function f(a.function, a.dim);
  const pg::Objective obj = [&f](const double* X, int64_t P, int64_t D, double* out) { f.evaluate(X, P, D, out); };
  std::vector<int64_t> threads;
  if (a.threads.empty())
    for (int t = 1; t <= omp_get_num_procs(); ++t) threads.push_back(t);
  else
    threads = int_list(a.threads, "threads", 1);
  if (a.runs < 1 || !(a.seconds > 0) || a.iterations < 1 || a.subswarms < 1 || a.particles < 1)
    throw std::invalid_argument("--runs, --seconds, --iterations, --subswarms, --particles must be positive");
  const Ranks ranks = join_ranks(a.dist_timeout);
  // (every rank runs every round: the thread list must match too)
  dist::require_same_settings(*ranks.group, {{"--function", a.function},
                                             {"--dim", fmt::format("{}", a.dim)},
                                             {"--subswarms", fmt::format("{}", a.subswarms)},
                                             {"--particles", fmt::format("{}", a.particles)},
                                             {"--iterations", fmt::format("{}", a.iterations)},
                                             {"--runs", fmt::format("{}", a.runs)},
                                             {"--seconds", fmt::format("{}", a.seconds)},
                                             {"--threads", fmt::format("{}", fmt::join(threads, ","))},
                                             {"--seed", fmt::format("{}", a.seed)}});
  ranks.group->agree([&] {
    if (ranks.lead) prepare_out(a.out, {"scaling.json", "scaling.csv"}, a.overwrite);
  });
  const std::vector<double> lo{f.lower()}, hi{f.upper()};
  auto opts = [&](int t) {
    return pg::PgsoOptions().subswarms(a.subswarms).particles(a.particles).iterations(a.iterations)
        .stage2_iterations(0).lower(lo).upper(hi).seed(a.seed).threads(t).log_every(0)
        .limit_torch_threads(false)  // benchmark functions never call LibTorch
        .group(ranks.group);
  };
  fmt::print("adaswarm pgso scaling: {} D={}, PGSO stage 1 with {} subswarms x {} particles ({} cores here{})\n",
             a.function, a.dim, a.subswarms, a.particles, omp_get_num_procs(), ranks_note(ranks));
  fmt::print("  fixed work: {} iterations (best of {} runs); fixed time: {} s of 50-iteration PGSO rounds\n",
             a.iterations, a.runs, a.seconds);
  fmt::print("  cpu s: CPU time of the fixed work (best of the runs) on the busiest rank; with one thread per\n"
             "  rank it is the wall time an otherwise idle machine would take (loaded machines stretch wall times)\n");
  fmt::print("\n{:>7} {:>12} {:>10} {:>14} {:>16} {:>10} {:>9}\n", "threads", "fixed-work s", "speed-up", "evals/s",
             "evals in fixed t", "work ratio", "cpu s");
  json rows = json::array();
  std::string csv =
      "threads,fixed_work_seconds,speedup,evals_per_second,fixed_time_evaluations,work_ratio,cpu_seconds\n";
  double t1 = 0, w1 = 0;
  auto cpu_now = [] {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  };
  double best_fit_check = 0;
  for (size_t i = 0; i < threads.size(); ++i) {
    const int t = static_cast<int>(threads[i]);
    double best_t = 1e300, best_cpu = 1e300;
    int64_t evals = 0;
    for (int64_t r = 0; r < a.runs; ++r) {
      const double c0 = cpu_now();
      const auto res = pg::pgso(obj, a.dim, opts(t));
      best_cpu = std::min(best_cpu, cpu_now() - c0);
      best_t = std::min(best_t, res.seconds);
      evals = res.evaluations;
      if (i == 0 && r == 0) best_fit_check = res.best_fitness;
      else if (res.best_fitness != best_fit_check)
        throw std::runtime_error("PGSO result changed with the thread count (determinism bug)");
    }
    // Fixed time: rounds of 50 iterations until the time is up.
    int64_t work = 0;
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t round = 0;
    // (ranks agree on when the time is up: every rank must run the same rounds)
    auto time_left = [&] {
      return !dist::any_rank(*ranks.group,
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= a.seconds);
    };
    while (time_left()) work += pg::pgso(obj, a.dim, opts(t).iterations(50).seed(a.seed + ++round)).evaluations;
    {  // the busiest rank's
      std::vector<at::Tensor> c{at::full({1}, best_cpu, at::kDouble)};
      ranks.group->all_reduce(c, dist::ProcessGroup::Op::Max);
      best_cpu = c[0].item<double>();
    }
    if (i == 0) t1 = best_t, w1 = static_cast<double>(work);
    const double sp = t1 / best_t, wr = static_cast<double>(work) / w1;
    fmt::print("{:>7} {:>12.3f} {:>10.2f} {:>14.3e} {:>16} {:>10.2f} {:>9.3f}\n", t, best_t, sp,
               static_cast<double>(evals) / best_t, work, wr, best_cpu);
    std::fflush(stdout);
    csv += fmt::format("{},{:.6f},{:.4f},{:.1f},{},{:.4f},{:.6f}\n", t, best_t, sp,
                       static_cast<double>(evals) / best_t, work, wr, best_cpu);
    rows.push_back({{"threads", t},
                    {"fixed_work_seconds", best_t},
                    {"speedup", sp},
                    {"evals_per_second", static_cast<double>(evals) / best_t},
                    {"fixed_time_evaluations", work},
                    {"work_ratio", wr},
                    {"cpu_seconds", best_cpu}});
  }
  json doc = {{"command", "pgso scaling"}, {"function", a.function}, {"dim", a.dim},
              {"subswarms", a.subswarms},   {"particles", a.particles}, {"iterations", a.iterations},
              {"seconds", a.seconds},       {"cores", omp_get_num_procs()}, {"rows", rows}};
  doc["ranks"] = ranks.group->size();
  ranks.group->agree([&] {
    if (ranks.lead)
      util::write_files_atomic({{(fs::path(a.out) / "scaling.json").string(), doc.dump(2) + "\n"},
                                {(fs::path(a.out) / "scaling.csv").string(), csv}});
  });
  fmt::print("\nresults identical for every thread count; wrote {}/scaling.json, scaling.csv\n", a.out);
}

}  // namespace adaswarm::experiments::pgso_runs
