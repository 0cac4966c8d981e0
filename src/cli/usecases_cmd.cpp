// `adaswarm usecases`: the hard-loss use cases with their controls (SPEC.md
// section 10, docs/usecases.md). Flags in, one library call out.
#include <cstdio>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "adaswarm/data/uci.h"
#include "adaswarm/experiments/usecases.h"
#include "commands.h"

namespace adaswarm::cli {

namespace {
struct UsecasesArgs {
  std::vector<std::string> tasks, arms;
  int64_t seeds = 5, first_seed = 1;
  int jobs = 0;
  std::string out = "usecases", data_dir;
  bool quick = false, resume = false, overwrite = false, no_fields = false, no_progress = false, tensor_losses = false,
       kernels = false;
  int64_t stop_after = -1;
};

void run(const UsecasesArgs& a, CLI::App& cmd) {
  namespace uc = adaswarm::experiments::usecases;
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  no_duplicates(split_list(a.tasks), "--tasks");
  no_duplicates(split_list(a.arms), "--arms");
  if (a.resume && a.overwrite) throw std::invalid_argument("--resume and --overwrite exclude each other");
  if (a.kernels && a.tensor_losses) throw std::invalid_argument("--kernels and --tensor-losses exclude each other");
  uc::UsecasesConfig cfg;
  auto keys = split_list(a.tasks);
  if (keys.size() == 1 && keys[0] == "all") keys.clear();
  const std::string dir = data::find_data_dir(a.data_dir, {ADASWARM_DATA_DIR, ADASWARM_INSTALLED_DATA_DIR});
  cfg.tasks = uc::select_tasks(dir, keys);
  const auto arms = split_list(a.arms);
  if (!arms.empty() && !(arms.size() == 1 && arms[0] == "all")) {
    cfg.arms.clear();
    for (const auto& s : arms) {
      try {
        cfg.arms.push_back(uc::arm_from_string(s));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("--arms: ") + e.what());
      }
    }
  }
  cfg.seeds = cmd.count("--seeds") || !a.quick ? a.seeds : 2;
  cfg.first_seed = static_cast<uint64_t>(a.first_seed);
  cfg.epoch_scale = a.quick ? 0.5 : 1.0;
  cfg.jobs = a.jobs > 0 ? a.jobs : static_cast<int>(hw);
  cfg.out_dir = a.out;
  cfg.resume = a.resume;
  cfg.overwrite = a.overwrite;
  cfg.dump_fields = !a.no_fields;
  cfg.kernels = !a.tensor_losses;
  cfg.max_runs = a.stop_after;
  cfg.progress = !a.no_progress;
  std::fprintf(stderr, "adaswarm usecases: %zu task(s), %lld seed(s), epochs x%.2g, %d job(s), %s losses%s -> %s\n",
               cfg.tasks.size(), static_cast<long long>(cfg.seeds), cfg.epoch_scale, cfg.jobs,
               cfg.kernels ? "kernel" : "tensor", cfg.resume ? ", resuming" : "", cfg.out_dir.c_str());
  const auto rep = uc::run_and_report(cfg);
  if (rep.outcome.remaining > 0) {
    std::fprintf(stderr, "stopped after %lld new run(s); %lld left: rerun with --resume\n",
                 static_cast<long long>(rep.outcome.executed), static_cast<long long>(rep.outcome.remaining));
    return;
  }
  std::cout << rep.text << std::flush;
  std::fprintf(stderr, "wrote %s/{runs.jsonl,usecases.txt,usecases.csv,usecases.json}%s\n", cfg.out_dir.c_str(),
               cfg.dump_fields ? " and fields/" : "");
}
}  // namespace

void add_usecases_command(CLI::App& app) {
  auto args = std::make_shared<UsecasesArgs>();
  auto* cmd = app.add_subcommand("usecases", "Hard-loss use cases: AdaSwarm vs Adam, surrogate, SPSA, ideal limit "
                                             "and the constant-loss control (docs/usecases.md)");
  cmd->add_option("--tasks", args->tasks,
                  "comma list (default all): multiwell, multiwell-hard, step, codebook, unwrap, tof, simulator, "
                  "simulator-levels, "
                  "zero-one-iris, zero-one-breast-cancer, zero-one-wine");
  cmd->add_option("--arms", args->arms,
                  "comma list (default all): adam, surrogate, adaswarm, adaswarm-targets, adaswarm-search, constant, "
                  "spsa, ideal");
  cmd->add_option("--seeds", args->seeds, "seeds per (task, arm), paired; a win needs >= 5")->check(Integer(1, 1000))->capture_default_str();
  cmd->add_option("--first-seed", args->first_seed, "seeds are first-seed .. first-seed + seeds - 1")->check(Integer(0))->capture_default_str();
  cmd->add_option("--jobs,-j", args->jobs, "parallel runs, 1 .. the cores (default: all cores; one intra-op thread each)")
      ->check(Integer(1, cores()));
  cmd->add_option("--out", args->out, "output folder: runs.jsonl, usecases.{txt,csv,json}, fields/")->capture_default_str();
  cmd->add_option("--data-dir", args->data_dir, "folder holding uci/ (default: the shipped data)");
  cmd->add_flag("--quick", args->quick, "2 seeds (unless --seeds) and half the epochs: the smoke run");
  cmd->add_flag("--resume", args->resume, "keep the finished runs in OUT/runs.jsonl and run the rest");
  cmd->add_flag("--overwrite", args->overwrite, "replace the results already in OUT");
  cmd->add_flag("--no-fields", args->no_fields, "do not write the grid tasks' predicted fields (OUT/fields/*.csv)");
  cmd->add_flag("--no-progress", args->no_progress, "no progress bar");
  cmd->add_flag("--tensor-losses", args->tensor_losses,
                "swarm arms evaluate the task loss as LibTorch tensor ops instead of its kernel_math CustomKernel "
                "(the default): slower steps, other float rounding");
  // The default since kernels covered every task; kept so that older command lines run.
  cmd->add_flag("--kernels", args->kernels, "swarm arms use the kernel forms (the default)")->group("");
  cmd->add_option("--stop-after", args->stop_after, "stop after N new runs (simulates an interruption)")
      ->check(Integer(0))
      ->group("");
  cmd->callback([args, cmd] { run(*args, *cmd); });
}

}  // namespace adaswarm::cli
