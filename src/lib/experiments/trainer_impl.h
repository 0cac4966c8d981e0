// Internal: the trainer's state and its steps, shared by trainer.cpp (setup,
// model, the training loop) and trainer_checkpoint.cpp (checkpoint write,
// resume, the checkpoint folder).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adaswarm/data/images.h"
#include "adaswarm/dist/dist.h"
#include "adaswarm/experiments/trainer.h"
#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/util/atomic_file.h"

namespace adaswarm::experiments {

/// One epoch's record as JSON (the log's and the checkpoint's history lines).
nlohmann::json epoch_record_json(const EpochRecord& r);

struct Trainer::Impl {
  TrainConfig cfg;
  std::ostream* out = nullptr;
  std::ostream* prog = nullptr;
  torch::Device device{torch::kCPU};
  data::ImageSplits splits;
  data::Normalization norm;
  data::AugmentOptions augment;
  LossKind loss_kind = LossKind::CrossEntropy;
  std::shared_ptr<torch::nn::Module> model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<SwarmLoss> swarm_loss;  // adaswarm (shared with the optimizer) / emulated-sgd
  std::unique_ptr<data::BatchLoader> train_loader, test_loader;
  int64_t parameters = 0;

  // Data-parallel ranks (a single-process group when not launched as ranks).
  std::shared_ptr<dist::ProcessGroup> group;
  std::unique_ptr<dist::GradientAverager> averager;
  bool lead = true;  // rank 0: writes the log, the output and the checkpoint

  // Position and running sums (restored by resume).
  int64_t epoch = 0, batch = 0;
  double run_loss = 0, run_correct = 0, run_seen = 0, run_train_s = 0, run_data_s = 0;
  std::vector<EpochRecord> history;
  std::string last_checkpoint;

  nlohmann::json identity() const {
    return nlohmann::json{{"model", cfg.model},         {"dataset", data::to_string(splits.set)},
                {"optimizer", cfg.optimizer}, {"loss", cfg.loss},
                {"preset", cfg.preset},       {"batch_size", cfg.batch_size},
                {"lr", cfg.lr},               {"momentum", cfg.momentum},
                {"weight_decay", cfg.weight_decay}, {"seed", cfg.seed},
                {"train_size", splits.train.size()}, {"test_size", splits.test.size()},
                {"holdout", cfg.holdout},     {"augment_pad", augment.pad},
                {"augment_flip", augment.hflip}, {"mlp_hidden", cfg.model == "mlp" ? cfg.mlp_hidden : 0}};
  }

  std::string checkpoint_file() const {
    return cfg.checkpoint_dir.empty() ? std::string() : (std::filesystem::path(cfg.checkpoint_dir) / "checkpoint.pt").string();
  }

  at::Tensor targets(const at::Tensor& labels) const {
    if (loss_kind == LossKind::CrossEntropy || loss_kind == LossKind::Hinge) return labels;
    return torch::one_hot(labels, splits.classes).to(torch::kFloat);
  }

  /// What every rank must share (docs/distributed.md): the run's identity, the
  /// epochs, --resume and the evaluation batches, with the options' names.
  dist::Settings settings() const;
  void build_optimizer();

  // Checkpoints (trainer_checkpoint.cpp).
  /// This rank's own generator states (swarm loss, LibTorch CPU), as bytes.
  std::string rank_state() const;
  void load_rank_state(const std::string& bytes);
  /// Every rank calls it (the ranks' generator states are gathered); rank 0 writes.
  void save_checkpoint();
  void write_checkpoint(const std::vector<std::string>& rank_states);
  // Before any training: the checkpoint folder exists and takes a new file, an
  // interrupted write's temporary files are gone, and an existing checkpoint is
  // only replaced when asked to.
  void prepare_checkpoint_dir();
  std::ostream* out_or_null();
  /// Every rank calls it: rank 0 reads the file and sends its bytes to the
  /// others (no shared file system needed).
  void load_checkpoint();
  // load_checkpoint's steps: rank 0 reads the file and sends it to every rank
  // (zip and format checked); same run and world size; the position and
  // running sums; model, optimizer, swarm loss and generator states.
  void read_checkpoint(const std::string& path, torch::serialize::InputArchive& ar);
  void check_checkpoint_run(torch::serialize::InputArchive& ar, const std::string& path) const;
  void restore_position(torch::serialize::InputArchive& ar, const std::string& path);
  void restore_state(torch::serialize::InputArchive& ar, const std::string& path);

  std::pair<double, double> evaluate();
  void setup();        // options, files, data (no collective: runs inside agree)
  void build_model();  // model, broadcast, optimizer, resume (collective)
  double train_batch(at::Tensor& loss_acc, at::Tensor& correct_acc, double& seen);
  bool stop_requested() const;
  bool train_epoch();
  void finish_epoch(const TrainSummary& s);
  void summarize(TrainSummary& s, bool stopped) const;

  void say(const std::string& line) const {
    if (out) *out << line << std::endl;
  }

  void log_line(const nlohmann::json& j) {
    if (cfg.log_path.empty() || !lead) return;
    try {
      util::append_line(cfg.log_path, j.dump());  // names the OS reason (e.g. a full disk)
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("--log: {}", e.what()));
    }
  }
};

}  // namespace adaswarm::experiments
