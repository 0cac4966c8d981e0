// `adaswarm tables`: the AdaSwarm paper's UCI tables (IV: MSE, V: MAE,
// supplementary 5: BCE) rerun with one protocol for every optimizer, our numbers
// beside the paper's. See docs/uci-tables.md.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "adaswarm/data/uci.h"
#include "adaswarm/experiments/uci_tables.h"
#include "adaswarm/util/atomic_file.h"
#include "adaswarm/util/progress.h"
#include "commands.h"

namespace adaswarm::cli {

namespace {
struct TablesArgs {
  std::vector<std::string> losses;
  std::vector<std::string> datasets;
  std::vector<std::string> optimizers;
  int64_t seeds = 10;
  int64_t first_seed = 1;
  int64_t epochs = 30;
  int64_t batch_size = 16;
  double lr = 0;
  double test_fraction = 0.2;
  int jobs = 0;
  std::string activation = "relu";
  std::string out = "uci-tables";
  std::string data_dir;
  bool resume = false, overwrite = false, quick = false, no_standardize = false, no_progress = false;
  int64_t stop_after = -1;
  // a user's CSV
  std::string csv;
  std::string label_column;
  std::vector<std::string> categorical, drop;
  bool header = false, no_header = false;
  std::string delimiter = ",";
  std::string name;
};

// A column given on the command line: the option is named in any error.
data::ColumnRef column(const std::string& text, const char* option) {
  try {
    return data::ColumnRef::parse(text);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string(option) + " " + text + ": " + e.what());
  }
}

void check_options(const TablesArgs& a, CLI::App& cmd) {
  auto given = [&](const char* name) { return cmd.count(name) > 0; };
  if (a.header && a.no_header) throw std::invalid_argument("--header and --no-header exclude each other");
  if (a.resume && a.overwrite) throw std::invalid_argument("--resume and --overwrite exclude each other");
  if (a.csv.empty())
    for (const char* o : {"--label-column", "--name", "--categorical", "--drop", "--header", "--no-header",
                          "--delimiter"})
      if (given(o)) throw std::invalid_argument(std::string(o) + " only applies with --csv FILE");
  // numeric ranges: checked by the options' validators (add_tables_command)
  no_duplicates(split_list(a.datasets), "--datasets");
  no_duplicates(split_list(a.losses), "--loss");
  no_duplicates(split_list(a.optimizers), "--optimizers");
}

void run(const TablesArgs& a, CLI::App& cmd) {
  namespace ex = adaswarm::experiments::uci;
  check_options(a, cmd);
  ex::TablesConfig cfg;
  // losses
  auto losses = split_list(a.losses);
  if (losses.empty()) losses = {"mse", "mae", "bce"};
  if (losses.size() == 1 && losses[0] == "all") losses = {"mse", "mae", "bce"};
  cfg.losses.clear();
  for (const auto& l : losses) cfg.losses.push_back(ex::table_loss_from_string(l));
  // optimizers
  const auto opts = split_list(a.optimizers);
  if (!opts.empty() && !(opts.size() == 1 && opts[0] == "all")) {
    cfg.optimizers.clear();
    for (const auto& o : opts) cfg.optimizers.push_back(ex::optimizer_from_string(o));
  }
  // data sets
  if (!a.csv.empty()) {
    if (a.label_column.empty()) throw std::invalid_argument("--csv needs --label-column N|NAME");
    data::TabularSpec spec;
    spec.path = a.csv;
    spec.name = a.name.empty() ? std::filesystem::path(a.csv).stem().string() : a.name;
    spec.label = column(a.label_column, "--label-column");
    for (const auto& c : split_list(a.categorical)) spec.categorical.push_back(column(c, "--categorical"));
    for (const auto& c : split_list(a.drop)) spec.drop.push_back(column(c, "--drop"));
    bool named = !spec.label.name.empty();
    for (const auto& c : spec.categorical) named = named || !c.name.empty();
    for (const auto& c : spec.drop) named = named || !c.name.empty();
    spec.csv.header = a.header || (named && !a.no_header);
    if (a.delimiter == "whitespace" || a.delimiter == "space") {
      spec.csv.whitespace = true;
    } else if (a.delimiter == "tab" || a.delimiter == "\\t") {
      spec.csv.delimiter = '\t';
    } else if (a.delimiter.size() == 1) {
      spec.csv.delimiter = a.delimiter[0];
    } else {
      throw std::invalid_argument("--delimiter must be one character, 'tab' or 'whitespace'");
    }
    if (!a.datasets.empty()) throw std::invalid_argument("give either --csv or --datasets, not both");
    cfg.datasets.push_back({spec.name, "", spec});
  } else {
    std::vector<std::string> candidates = {ADASWARM_DATA_DIR, ADASWARM_INSTALLED_DATA_DIR};
    const std::string dir = data::find_data_dir(a.data_dir, candidates);
    auto keys = split_list(a.datasets);
    if (keys.size() == 1 && keys[0] == "all") keys.clear();
    cfg.datasets = ex::uci_sources(dir, keys);
  }
  // protocol
  const bool quick = a.quick;
  auto given = [&](const char* name) { return cmd.count(name) > 0; };
  cfg.seeds = given("--seeds") || !quick ? a.seeds : 3;
  cfg.epochs = given("--epochs") || !quick ? a.epochs : 10;
  cfg.first_seed = static_cast<uint64_t>(a.first_seed);
  cfg.batch_size = a.batch_size;
  cfg.test_fraction = a.test_fraction;
  cfg.standardize = !a.no_standardize;
  cfg.activation = models::activation_from_string(a.activation);
  if (given("--lr")) cfg.lr = a.lr;
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  cfg.jobs = a.jobs > 0 ? a.jobs : static_cast<int>(hw);
  cfg.resume = a.resume;
  cfg.max_runs = a.stop_after;
  cfg.progress = !a.no_progress;
  std::filesystem::create_directories(a.out);
  cfg.results_path = (std::filesystem::path(a.out) / "runs.jsonl").string();
  if (!a.resume && !a.overwrite && std::filesystem::exists(std::filesystem::symlink_status(cfg.results_path)))
    throw std::invalid_argument(cfg.results_path + " exists: pass --resume to continue that run, --overwrite to "
                                "replace it, or another --out");

  const int64_t total = static_cast<int64_t>(cfg.losses.size() * cfg.datasets.size() * cfg.optimizers.size()) * cfg.seeds;
  std::fprintf(stderr, "adaswarm tables: %lld runs (%zu table(s) x %zu data set(s) x %zu optimizer(s) x %lld seed(s)), "
               "%lld epochs, batch %lld, %d job(s)%s\n",
               static_cast<long long>(total), cfg.losses.size(), cfg.datasets.size(), cfg.optimizers.size(),
               static_cast<long long>(cfg.seeds), static_cast<long long>(cfg.epochs),
               static_cast<long long>(cfg.batch_size), cfg.jobs, cfg.resume ? ", resuming" : "");
  const auto outcome = ex::run_tables(cfg);
  if (outcome.remaining > 0) {
    std::fprintf(stderr, "stopped after %lld new run(s); %lld left: rerun with --resume\n",
                 static_cast<long long>(outcome.executed), static_cast<long long>(outcome.remaining));
    return;
  }
  const auto rows = ex::summarize(outcome.runs, cfg);
  const std::string text = ex::format_tables(rows, cfg);
  std::cout << text << std::flush;
  const auto dir = std::filesystem::path(a.out);
  util::write_files_atomic({{(dir / "tables.txt").string(), text},
                            {(dir / "tables.csv").string(), ex::tables_csv(rows)},
                            {(dir / "tables.json").string(), ex::tables_json(rows, cfg)}});
  std::fprintf(stderr, "%lld run(s) trained, %lld resumed, wall time %s (%.1f s); wrote %s/{runs.jsonl,tables.txt,tables.csv,tables.json}\n",
               static_cast<long long>(outcome.executed), static_cast<long long>(outcome.resumed),
               util::Progress::format_duration(outcome.seconds).c_str(), outcome.seconds, a.out.c_str());
}
}  // namespace

void add_tables_command(CLI::App& app) {
  auto args = std::make_shared<TablesArgs>();
  auto* cmd = app.add_subcommand("tables", "Rerun the AdaSwarm paper's UCI tables (IV: MSE, V: MAE, supp. 5: BCE)");
  cmd->add_option("--loss", args->losses, "mse, mae, bce or all (comma list; default all three tables)");
  cmd->add_option("--datasets", args->datasets,
                  "registry keys (comma list; default all 15): iris, ionosphere, breast-cancer, sonar, seeds, banknote, "
                  "heart, haberman, wine, car, liver, abalone, titanic, pima, mushroom");
  cmd->add_option("--optimizers", args->optimizers,
                  "comma list (default all 9): sgd, sgd-swarm, adagrad, adadelta, rmsprop, amsgrad, adam, adaswarm, adam-ideal");
  cmd->add_option("--seeds", args->seeds, "seeds per (table, data set, optimizer)")->check(Integer(1, 1000))->capture_default_str();
  cmd->add_option("--first-seed", args->first_seed, "seeds are first-seed .. first-seed + seeds - 1")->check(Integer(0))->capture_default_str();
  cmd->add_option("--epochs", args->epochs, "training epochs")->check(Integer(1, 1000000))->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "mini-batch size (more than the rows: one batch)")->check(Integer(1, 1000000000))->capture_default_str();
  cmd->add_option("--lr", args->lr, "one learning rate for every optimizer (default: each optimizer's PyTorch default)")
      ->check(Positive(1e6));
  cmd->add_option("--test-fraction", args->test_fraction, "held-out share per class")->check(Number(0, 1, true, true))->capture_default_str();
  cmd->add_option("--activation", args->activation, "hidden activation: relu, sigmoid, tanh, softmax or none (also: identity, linear)")
      ->check(CLI::IsMember({"relu", "sigmoid", "tanh", "softmax", "none", "identity", "linear"}))
      ->capture_default_str();
  cmd->add_option("--jobs,-j", args->jobs, "parallel runs (default: all cores; one intra-op thread each)")->check(Threads());
  cmd->add_option("--out", args->out, "output folder: runs.jsonl, tables.txt, tables.csv, tables.json")->capture_default_str();
  cmd->add_option("--data-dir", args->data_dir, "folder holding uci/ (default: the shipped data)");
  cmd->add_flag("--resume", args->resume, "keep the finished runs in OUT/runs.jsonl and run the rest");
  cmd->add_flag("--overwrite", args->overwrite,
                "replace an existing OUT/runs.jsonl (without it, or --resume, an existing one is refused)");
  cmd->add_flag("--quick", args->quick, "3 seeds, 10 epochs (unless given): the few-minutes smoke run");
  cmd->add_flag("--no-standardize", args->no_standardize, "train on unscaled features");
  cmd->add_flag("--no-progress", args->no_progress, "no progress bar");
  cmd->add_option("--stop-after", args->stop_after, "stop after N new runs (simulates an interruption)")
      ->check(Integer(0))
      ->group("");  // hidden: tests use it
  cmd->add_option("--csv", args->csv, "your own CSV file instead of the UCI sets");
  cmd->add_option("--label-column", args->label_column, "with --csv: label column, 0-based index or header name");
  cmd->add_option("--categorical", args->categorical, "with --csv: columns to one-hot encode (comma list)");
  cmd->add_option("--drop", args->drop, "with --csv: columns to ignore (comma list)");
  cmd->add_flag("--header", args->header, "with --csv: the first line names the columns (implied by a column name)");
  cmd->add_flag("--no-header", args->no_header, "with --csv: no header line");
  cmd->add_option("--delimiter", args->delimiter, "with --csv: one character, 'tab' or 'whitespace'")->capture_default_str();
  cmd->add_option("--name", args->name, "with --csv: the row name (default: the file's stem)");
  cmd->callback([args, cmd] { run(*args, *cmd); });
}

}  // namespace adaswarm::cli
