// `adaswarm train`: the vision trainer (CNN / ResNet-18 / MLP on MNIST,
// Fashion-MNIST, CIFAR-10, CIFAR-100) with AdaSwarm or a baseline. See docs/vision.md.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "adaswarm/experiments/trainer.h"
#include "commands.h"

namespace adaswarm::cli {
namespace {
namespace ex = adaswarm::experiments;

std::string quote(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t'\"$\\`*?") == std::string::npos) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// The command that continues an interrupted run.
std::string resume_command(const ex::TrainConfig& c) {
  std::string cmd = fmt::format("adaswarm train --model {} --dataset {}", c.model, c.dataset);
  if (!c.data_dir.empty()) cmd += " --data-dir " + quote(c.data_dir);
  cmd += fmt::format(" --optimizer {} --loss {} --preset {} --epochs {} --batch-size {} --lr {} --seed {}",
                     c.optimizer, c.loss, c.preset, c.epochs, c.batch_size, c.lr, c.seed);
  if (c.momentum != 0) cmd += fmt::format(" --momentum {}", c.momentum);
  if (c.weight_decay != 0) cmd += fmt::format(" --weight-decay {}", c.weight_decay);
  if (c.train_limit) cmd += fmt::format(" --train-limit {}", c.train_limit);
  if (c.test_limit) cmd += fmt::format(" --test-limit {}", c.test_limit);
  if (c.holdout) cmd += fmt::format(" --holdout {}", c.holdout);
  if (c.augment >= 0) cmd += c.augment ? " --augment on" : " --augment off";
  if (c.model == "mlp") cmd += fmt::format(" --mlp-hidden {}", c.mlp_hidden);
  if (c.device != "cpu") cmd += " --device " + c.device;
  if (c.threads) cmd += fmt::format(" --threads {}", c.threads);
  if (!c.log_path.empty()) cmd += " --log " + quote(c.log_path);
  if (c.dist_timeout != 300) cmd += fmt::format(" --dist-timeout {}", c.dist_timeout);
  cmd += " --checkpoint " + quote(c.checkpoint_dir) + " --resume";
  return cmd;
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto cfg = std::make_shared<ex::TrainConfig>();
  auto progress = std::make_shared<std::string>("auto");
  auto aug = std::make_shared<std::string>("default");
  auto* cmd = app.add_subcommand(
      "train", "Train the paper's simple CNN, ResNet-18 or an MLP on MNIST / Fashion-MNIST / CIFAR-10 / CIFAR-100");
  cmd->add_option("--model", cfg->model, "cnn | resnet18 | mlp")
      ->check(CLI::IsMember({"cnn", "resnet18", "mlp"}))
      ->capture_default_str();
  cmd->add_option("--dataset", cfg->dataset, "mnist | fashion-mnist | cifar10 | cifar100")
      ->check(CLI::IsMember({"mnist", "fashion-mnist", "cifar10", "cifar100"}))
      ->capture_default_str();
  cmd->add_option("--data-dir", cfg->data_dir,
                  "directory of the official files (default for fashion-mnist: /usr/share/datasets/fashion-mnist)");
  std::string names;
  for (const auto& n : ex::optimizer_names()) names += (names.empty() ? "" : " | ") + n;
  cmd->add_option("--optimizer", cfg->optimizer, names)->check(CLI::IsMember(ex::optimizer_names()))->capture_default_str();
  cmd->add_option("--loss", cfg->loss, "ce | mse | mae | bce-logits | huber | smooth-l1 | hinge")->capture_default_str();
  cmd->add_option("--preset", cfg->preset, "swarm preset: paper | reference")
      ->check(CLI::IsMember({"paper", "reference"}))
      ->capture_default_str();
  cmd->add_option("--epochs", cfg->epochs, "epochs in total (a resumed run continues up to this)")
      ->check(Integer(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--batch-size", cfg->batch_size, "images per batch (more than the training images: one batch)")
      ->check(Integer(1, 1000000000))
      ->capture_default_str();
  cmd->add_option("--lr", cfg->lr, "learning rate")->check(Positive(1e6))->capture_default_str();
  cmd->add_option("--momentum", cfg->momentum, "sgd / emulated-sgd / rmsprop momentum")
      ->check(Number(0, 1, false, true))
      ->capture_default_str();
  cmd->add_option("--weight-decay", cfg->weight_decay, "L2 penalty")->check(Number(0, 1e6))->capture_default_str();
  cmd->add_option("--seed", cfg->seed)->check(Seed())->capture_default_str();
  cmd->add_option("--device", cfg->device, "cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_option("--threads", cfg->threads, "intra-op threads (0: LibTorch's default; at most 4x the cores)")
      ->check(Threads())
      ->capture_default_str();
  cmd->add_option("--checkpoint", cfg->checkpoint_dir, "directory for checkpoint.pt, written atomically every epoch");
  cmd->add_flag("--resume", cfg->resume, "continue from --checkpoint DIR/checkpoint.pt");
  cmd->add_flag("--overwrite", cfg->overwrite,
                "replace an existing --checkpoint DIR/checkpoint.pt (without it, or --resume, it is refused)");
  cmd->add_option("--log", cfg->log_path, "JSON-lines log, one record per epoch (appended)");
  cmd->add_option("--train-limit", cfg->train_limit, "use the first N training records only (0: all)")
      ->check(Integer(0, 1000000000));
  cmd->add_option("--test-limit", cfg->test_limit, "use the first N test records only (0: all)")
      ->check(Integer(0, 1000000000));
  cmd->add_option("--holdout", cfg->holdout,
                  "when the directory has no test file, test on the last N training records")
      ->check(Integer(0, 1000000000));
  cmd->add_option("--augment", *aug, "default (CIFAR: crop 4 + flip; MNIST: none) | on | off")
      ->check(CLI::IsMember({"default", "on", "off"}))
      ->capture_default_str();
  cmd->add_option("--mlp-hidden", cfg->mlp_hidden, "hidden units of --model mlp")
      ->check(Integer(1, 65536))
      ->capture_default_str();
  cmd->add_option("--dist-timeout", cfg->dist_timeout,
                  "data-parallel ranks (launched with RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT, e.g. by "
                  "scripts/launch-local.sh): seconds a rank waits for the others before stopping with an error")
      ->check(Positive(86400))
      ->capture_default_str();
  cmd->add_option("--progress", *progress, "progress bar: auto (when stderr is a terminal) | on | off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  cmd->callback([cfg, progress, aug] {
    cfg->progress = *progress == "on" || (*progress == "auto" && ::isatty(STDERR_FILENO));
    cfg->augment = *aug == "default" ? -1 : (*aug == "on" ? 1 : 0);
    ex::Trainer trainer(*cfg, &std::cout, &std::cerr);
    const auto& c = trainer.config();
    const bool lead = trainer.rank() == 0;  // ranks > 0 train silently
    if (!lead) {
      const ex::TrainSummary s = trainer.run();
      if (s.interrupted) throw CLI::RuntimeError("training interrupted (Ctrl-C)", 130);
      return;
    }
    fmt::print("adaswarm train: {} ({} parameters) on {} from {}: {} train / {} test images{}{}\n", c.model,
               trainer.parameters(), c.dataset, trainer.data_dir(), trainer.train_size(), trainer.test_size(),
               trainer.test_held_out() ? " (test held out of the training files)" : "",
               trainer.approximate_data() ? " [APPROXIMATE training images: not the official file]" : "");
    fmt::print("optimizer {}, loss {}{}, lr {}, batch {}, seed {}, device {}, {} epoch(s){}\n", c.optimizer, c.loss,
               (c.optimizer == "adaswarm" || c.optimizer == "emulated-sgd") ? " (preset " + c.preset + ")" : "", c.lr,
               c.batch_size, c.seed, c.device, c.epochs, c.resume ? ", resuming from " + trainer.checkpoint_file() : "");
    if (trainer.world_size() > 1)
      fmt::print("data parallel: {} ranks, each a shard of every batch of {} (about {} images)\n", trainer.world_size(),
                 c.batch_size, c.batch_size / trainer.world_size());
    std::fflush(stdout);
    const ex::TrainSummary s = trainer.run();
    if (s.interrupted) {
      if (!c.checkpoint_dir.empty())
        fmt::print("resume with{}:\n  {}\n",
                   trainer.world_size() > 1 ? fmt::format(" (launched as {} ranks again, e.g. scripts/launch-local.sh {} "
                                                          "-- ...)", trainer.world_size(), trainer.world_size())
                                            : std::string(),
                   resume_command(c));
      std::fflush(stdout);
      throw CLI::RuntimeError("training interrupted (Ctrl-C); the checkpoint above resumes it", 130);
    }
    fmt::print("summary: best test accuracy {:.2f}% (epoch {}), final {:.2f}%, wall time {:.1f}s, {:.1f}s per epoch, "
               "{} parameters{}\n",
               100 * s.best_test_accuracy, s.best_epoch, 100 * s.final_test_accuracy, s.wall_seconds,
               s.seconds_per_epoch, s.parameters,
               s.approximate_data ? "\nnote: the training images are NOT the official file (approximate rebuild): "
                                    "do not report these figures as the official data set's"
                                  : "");
  });
}

}  // namespace adaswarm::cli
