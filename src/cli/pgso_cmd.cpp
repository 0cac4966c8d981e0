// `adaswarm pgso`: flags in, one library call out (experiments/pgso_runs.h).
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "adaswarm/experiments/pgso_runs.h"
#include "commands.h"

namespace adaswarm::cli {
namespace {
namespace fs = std::filesystem;
using namespace adaswarm::experiments::pgso_runs;

// --data-dir when given (it must hold the files), else $ADASWARM_PGSO_DATA,
// the source tree's data/pgso and the shared data folder beside it.
std::string find_pgso_data(const std::string& given) {
  auto holds = [](const std::string& d) {
    return fs::exists(fs::path(d) / "Churn_Modelling.csv") || fs::exists(fs::path(d) / "nba_logreg.csv");
  };
  if (!given.empty()) {
    if (!holds(given))
      throw std::runtime_error("--data-dir '" + given + "' holds neither Churn_Modelling.csv nor nba_logreg.csv");
    return given;
  }
  std::vector<std::string> c;
  if (const char* env = std::getenv("ADASWARM_PGSO_DATA")) c.emplace_back(env);
  c.push_back(std::string(ADASWARM_DATA_DIR) + "/pgso");
  c.push_back(std::string(ADASWARM_DATA_DIR) + "/../../shared/data/pgso");
  c.push_back("../shared/data/pgso");
  for (const auto& d : c)
    if (holds(d)) return d;
  throw std::runtime_error("cannot find the PGSO data (Churn_Modelling.csv, nba_logreg.csv): give --data-dir");
}

}  // namespace

void add_pgso_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("pgso", "PSO / GSO / PGSO: benchmark tables, network weight search, thread scaling");
  cmd->require_subcommand(1);

  auto b = std::make_shared<BenchConfig>();
  auto* bench = cmd->add_subcommand("bench", "mean best error per function, dimension and algorithm (paper Tables 4-6)");
  bench->add_option("--algorithms", b->algorithms, "comma list of pso, gso (r ~ U(-1,1), the GSO paper), gso-u01 (r ~ U(0,1)), pgso")->capture_default_str();
  bench->add_option("--functions", b->functions,
                    "comma list of function names, or 'paper' (default suite) or 'all' (every base, rotated_, "
                    "shifted_rotated_)")
      ->capture_default_str();
  bench->add_option("--dims", b->dims, "comma list of dimensions")->capture_default_str();
  bench->add_option("--runs", b->runs, "runs per cell (seeds seed + run * 1000003)")->check(Integer(1, 100000))->capture_default_str();
  bench->add_option("--seed", b->seed)->check(Seed())->capture_default_str();
  bench->add_option("--threads", b->threads, "PGSO threads (0: all cores)")->check(Threads())->capture_default_str();
  bench->add_option("--iterations", b->iterations, "PSO and PGSO iterations (stage 2 the same)")->check(Integer(1, 10000000))->capture_default_str();
  bench->add_option("--subswarms", b->subswarms, "PGSO M")->check(Integer(1, 1000000))->capture_default_str();
  bench->add_option("--particles", b->particles, "PGSO particles per subswarm")->check(Integer(1, 1000000))->capture_default_str();
  bench->add_option("--pso-particles", b->pso_particles)->check(Integer(1, 1000000))->capture_default_str();
  bench->add_option("--log-every", b->log_every, "convergence log interval (iterations)")->check(Integer(1, 10000000))->capture_default_str();
  bench->add_option("--out", b->out, "output directory (runs.csv, convergence.csv, summary.json)")->capture_default_str();
  bench->add_flag("--overwrite", b->overwrite, "replace the results already in --out (refused otherwise)");
  bench->add_option("--dist-timeout", b->dist_timeout,
                    "PGSO islands on ranks (RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT set, e.g. by "
                    "scripts/launch-local.sh): seconds a rank waits for the others")
      ->check(Positive(86400))
      ->capture_default_str();
  bench->callback([b] { run_bench(*b); });

  auto t = std::make_shared<SearchConfig>();
  auto* train = cmd->add_subcommand("train", "train an MLP's weights with PGSO / PSO and compare with Adam");
  train->add_option("--dataset", t->dataset, "churn, nba, or a numeric CSV with a header")->capture_default_str();
  train->add_option("--label", t->label, "label column of a CSV dataset (default: last); not with churn / nba");
  train->add_option("--data-dir", t->data_dir, "folder with Churn_Modelling.csv / nba_logreg.csv");
  train->add_option("--algorithms", t->algorithms, "comma list of pgso, pso, adam")->capture_default_str();
  train->add_option("--epochs", t->epochs, "comma list of swarm epoch counts")
      ->check(ListOf(Integer(1, 1000000)))
      ->capture_default_str();
  train->add_option("--particles", t->particles, "particles per subswarm")->check(Integer(1, 100000))->capture_default_str();
  train->add_option("--iterations", t->iterations, "iterations per stage per epoch")
      ->check(Integer(1, 10000000))
      ->capture_default_str();
  train->add_option("--subswarms", t->subswarms)->check(Integer(1, 10000))->capture_default_str();
  train->add_option("--batch", t->batch, "rows per subswarm batch")->check(Integer(1, 1000000000))->capture_default_str();
  train->add_option("--hidden", t->hidden, "hidden units")->check(Integer(1, 10000))->capture_default_str();
  train->add_option("--bound", t->bound, "weights stay in [-bound, bound]")->check(Positive(1e6))->capture_default_str();
  train->add_option("--init-scale", t->init_scale, "particles start U(-s, s); at most --bound")
      ->check(Positive(1e6))
      ->capture_default_str();
  train->add_option("--test-fraction", t->test_fraction, "held-out share of the rows")
      ->check(Number(0, 1, true, true))
      ->capture_default_str();
  train->add_option("--adam-lr", t->adam_lr)->check(Positive(1e6))->capture_default_str();
  train->add_option("--adam-epochs", t->adam_epochs)->check(Integer(1, 1000000))->capture_default_str();
  train->add_option("--adam-batch", t->adam_batch)->check(Integer(1, 1000000000))->capture_default_str();
  train->add_option("--seed", t->seed)->check(Seed())->capture_default_str();
  train->add_option("--threads", t->threads, "PGSO threads (0: all cores)")->check(Threads())->capture_default_str();
  train->add_option("--out", t->out, "output directory (train.json, train_log.csv)")->capture_default_str();
  train->add_flag("--overwrite", t->overwrite, "replace the results already in --out (refused otherwise)");
  train->add_option("--dist-timeout", t->dist_timeout, "PGSO islands on ranks: seconds a rank waits for the others")
      ->check(Positive(86400))
      ->capture_default_str();
  train->callback([t, train] {
    SearchConfig c = *t;
    if (c.dataset == "churn" || c.dataset == "nba") {
      if (train->count("--label") > 0)
        throw std::invalid_argument("--label applies to a CSV dataset only; the " + c.dataset +
                                    " set's label column is fixed");
      c.data_dir = find_pgso_data(c.data_dir);
    }
    run_search(c);
  });

  auto s = std::make_shared<ScalingConfig>();
  auto* sc = cmd->add_subcommand("scaling", "PGSO speed-up at fixed work and work done in fixed time, 1..N threads");
  sc->add_option("--function", s->function)->capture_default_str();
  sc->add_option("--dim", s->dim)->check(Integer(1, 10000))->capture_default_str();
  sc->add_option("--subswarms", s->subswarms)->check(Integer(1, 10000))->capture_default_str();
  sc->add_option("--particles", s->particles, "particles per subswarm")->check(Integer(1, 100000))->capture_default_str();
  sc->add_option("--iterations", s->iterations)->check(Integer(1, 10000000))->capture_default_str();
  sc->add_option("--runs", s->runs, "fixed-work repetitions (best time kept)")
      ->check(Integer(1, 1000))
      ->capture_default_str();
  sc->add_option("--seconds", s->seconds, "fixed-time budget")->check(Positive(86400))->capture_default_str();
  sc->add_option("--threads", s->threads, "comma list (default 1..cores), each at most 4x the cores")
      ->check(ListOf(Integer(1, 4 * cores())));
  sc->add_option("--seed", s->seed)->check(Seed())->capture_default_str();
  sc->add_option("--out", s->out, "output directory (scaling.json, scaling.csv)")->capture_default_str();
  sc->add_flag("--overwrite", s->overwrite, "replace the results already in --out (refused otherwise)");
  sc->add_option("--dist-timeout", s->dist_timeout, "PGSO islands on ranks: seconds a rank waits for the others")
      ->check(Positive(86400))
      ->capture_default_str();
  sc->callback([s] { run_scaling(*s); });
}

}  // namespace adaswarm::cli
