// `adaswarm fidelity`: how close the swarm's dL/dy (and SPSA / Gaussian
// smoothing at the same number of loss evaluations) is to autograd's, along
// real training runs. See docs/fidelity.md.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "adaswarm/data/uci.h"
#include "adaswarm/experiments/fidelity.h"
#include "adaswarm/util/atomic_file.h"
#include "adaswarm/util/progress.h"
#include "commands.h"

namespace adaswarm::cli {

namespace {
struct FidelityArgs {
  std::vector<std::string> losses, sources, presets, starts, grad_scales;
  // number lists as text: each checked by ListOf, read by list_values
  std::vector<std::string> spans, particles, iterations, mlp_epochs, cnn_steps;
  int64_t seeds = 5, first_seed = 1, mlp_batch = 32, cnn_batch = 64;
  double zo_step = 1e-2;
  int threads = 0;
  std::string out = "fidelity.csv", data_dir, images_dir, uci_set = "iris";
  bool quick = false, overwrite = false, no_progress = false;
};

void run(const FidelityArgs& a, CLI::App& cmd) {
  namespace fx = adaswarm::experiments::fidelity;
  auto given = [&](const char* name) { return cmd.count(name) > 0; };
  fx::FidelityOptions o = a.quick ? fx::FidelityOptions::quick() : fx::FidelityOptions();
  // ranges: checked by the options' validators (add_fidelity_command)
  if (given("--seeds")) o.seeds = a.seeds;
  o.first_seed = static_cast<uint64_t>(a.first_seed);
  if (auto l = split_list(a.losses); !l.empty() && !(l.size() == 1 && l[0] == "all")) o.losses = l;
  if (auto s = split_list(a.sources); !s.empty()) {
    o.sources.clear();
    for (const auto& x : s) {
      try {
        o.sources.push_back(fx::source_from_string(x));
      } catch (const std::exception& e) {
        throw std::invalid_argument(std::string("--sources: ") + e.what());
      }
    }
  }
  if (auto v = split_list(a.presets); !v.empty()) o.presets = v;
  if (auto v = split_list(a.starts); !v.empty()) o.starts = v;
  if (auto v = split_list(a.grad_scales); !v.empty()) o.grad_scales = v;
  if (!a.spans.empty()) o.spans = list_values<double>(a.spans);
  if (!a.particles.empty()) o.particles = list_values<int64_t>(a.particles);
  if (!a.iterations.empty()) o.iterations = list_values<int64_t>(a.iterations);
  if (!a.mlp_epochs.empty()) o.mlp_epochs = list_values<int64_t>(a.mlp_epochs);
  if (!a.cnn_steps.empty()) o.cnn_steps = list_values<int64_t>(a.cnn_steps);
  o.mlp_batch = a.mlp_batch;
  o.cnn_batch = a.cnn_batch;
  o.zo_step = a.zo_step;
  o.threads = a.threads;
  o.uci_set = a.uci_set;
  o.images_dir = a.images_dir;
  o.progress = !a.no_progress;
  bool need_uci = false;
  for (auto s : o.sources) need_uci = need_uci || s == fx::Source::MLP_UCI;
  if (need_uci) o.uci_data_dir = data::find_data_dir(a.data_dir, {ADASWARM_DATA_DIR, ADASWARM_INSTALLED_DATA_DIR});
  o.validate();

  if (std::filesystem::exists(a.out) && !a.overwrite)
    throw std::invalid_argument("--out: " + a.out + " exists; pass --overwrite to replace it");
  if (std::filesystem::is_directory(a.out)) throw std::invalid_argument("--out: " + a.out + " is a folder");

  const auto result = fx::run_fidelity(o, [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); });
  util::write_file_atomic(a.out, fx::to_csv(result.rows));
  std::cout << fx::format_summary(result.rows) << std::flush;
  std::fprintf(stderr, "%zu row(s), wall time %s (%.1f s); wrote %s\n", result.rows.size(),
               util::Progress::format_duration(result.seconds).c_str(), result.seconds, a.out.c_str());
}
}  // namespace

void add_fidelity_command(CLI::App& app) {
  auto args = std::make_shared<FidelityArgs>();
  auto* cmd = app.add_subcommand(
      "fidelity", "Cosine and norm ratio of the swarm's dL/dy (and SPSA / Gaussian smoothing) against autograd's");
  cmd->add_option("--out", args->out, "CSV file to write (refused if it exists, unless --overwrite)")->capture_default_str();
  cmd->add_flag("--overwrite", args->overwrite, "replace an existing --out file");
  cmd->add_flag("--quick", args->quick,
                "1 seed, presets paper+search, spans 0,1, 10 particles, MLP epochs 0,20, CNN steps 0,60 (unless given)");
  cmd->add_option("--seeds", args->seeds, "seeds (training run + estimator seeds) per probe")->check(Integer(1, 1000))->capture_default_str();
  cmd->add_option("--first-seed", args->first_seed, "seeds are first-seed .. first-seed + seeds - 1")->check(Integer(0))->capture_default_str();
  cmd->add_option("--losses", args->losses, "comma list (default all): mse, mae, huber, smooth-l1, bce-logits, ce, hinge");
  cmd->add_option("--sources", args->sources, "comma list (default both): mlp (MLP on a UCI set), cnn (CNN on Fashion-MNIST)");
  cmd->add_option("--presets", args->presets, "swarm presets to measure (default paper,reference,search)");
  cmd->add_option("--starts", args->starts, "swarm starts (default targets,output)");
  cmd->add_option("--spans", args->spans, "start spans, 0 = the preset's (default 0,0.1,1)")
      ->check(ListOf(Number(0, 1e6)));
  cmd->add_option("--particles", args->particles, "particle counts (default 10,40)")->check(ListOf(Integer(1, 100000)));
  cmd->add_option("--iterations", args->iterations, "iterations per batch (default 5,40)")->check(ListOf(Integer(1, 100000)));
  cmd->add_option("--grad-scales", args->grad_scales, "backward scales (default swarm,unit,row-clip)");
  cmd->add_option("--zo-step", args->zo_step, "SPSA c and Gaussian sigma")->check(Positive(1e6))->capture_default_str();
  cmd->add_option("--uci-set", args->uci_set, "UCI registry key for the MLP")->capture_default_str();
  cmd->add_option("--mlp-batch", args->mlp_batch, "rows in the MLP's probe batch")->check(Integer(1, 100000))->capture_default_str();
  cmd->add_option("--mlp-epochs", args->mlp_epochs, "MLP snapshots, epochs of Adam (default 0,10,50)")
      ->check(ListOf(Integer(0, 100000)));
  cmd->add_option("--cnn-batch", args->cnn_batch, "images in the CNN's probe batch")->check(Integer(1, 100000))->capture_default_str();
  cmd->add_option("--cnn-steps", args->cnn_steps, "CNN snapshots, Adam steps (default 0,300)")
      ->check(ListOf(Integer(0, 1000000)));
  cmd->add_option("--data-dir", args->data_dir, "folder holding uci/ (default: the shipped data)");
  cmd->add_option("--images-dir", args->images_dir, "Fashion-MNIST folder (default: Debian's dataset-fashion-mnist)");
  cmd->add_option("--threads", args->threads, "worker threads over the swarm grid (0: all cores; at most 4x the cores)")
      ->check(Threads())
      ->capture_default_str();
  cmd->add_flag("--no-progress", args->no_progress, "no progress bar");
  cmd->callback([args, cmd] { run(*args, *cmd); });
}

}  // namespace adaswarm::cli
