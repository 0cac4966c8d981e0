// The vision trainer behind `adaswarm train`: a model (the paper's simple CNN,
// CIFAR-style ResNet-18 or a small MLP) trained on an image set in its official
// format with AdaSwarm or a baseline optimizer. Per epoch: a progress bar, a
// test evaluation, a JSON-lines log record and an atomically written checkpoint
// (model + optimizer incl. swarm RNG + torch RNG + epoch/batch position), so that
// a resumed run ends with the same weights as an uninterrupted one. SIGINT stops
// after the current batch and saves a checkpoint.
//
// Data parallel (docs/distributed.md): with a process group of N ranks (from
// torchrun's RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT, or TrainConfig::group)
// every rank takes a disjoint, contiguous shard of every global batch of
// batch_size images, rank 0's parameters and buffers are broadcast at the start,
// the gradients are averaged (weighted by shard size, bucketed all-reduce) after
// backward, and the metrics are summed over ranks. The swarm loss of each rank
// works on its own output block with its own generator stream (seed, rank); rank
// 0 keeps the single-process stream, so one rank is the single-process run.
// Rank 0 alone writes the log, the output and the checkpoint (which holds every
// rank's generator state); a resume at another world size is refused.
#pragma once
#include <torch/nn/module.h>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace adaswarm::dist {
class ProcessGroup;
}

namespace adaswarm::experiments {

struct TrainConfig {
  std::string model = "cnn";            ///< cnn | resnet18 | mlp
  std::string dataset = "fashion-mnist";  ///< mnist | fashion-mnist | cifar10 | cifar100
  std::string data_dir;                 ///< empty: the default (Fashion-MNIST only)
  /// adaswarm | adam | amsgrad | adamw | sgd | rmsprop | adagrad | emulated-sgd
  /// (plain SGD driven by the swarm loss's gradients).
  std::string optimizer = "adaswarm";
  std::string loss = "ce";      ///< ce, mse, mae, bce-logits, huber, smooth-l1, hinge
  std::string preset = "paper";  ///< swarm preset: paper | reference
  int64_t epochs = 1;
  int64_t batch_size = 125;
  double lr = 1e-3;
  double momentum = 0.0;  ///< SGD / emulated SGD / RMSprop
  double weight_decay = 0.0;
  uint64_t seed = 0;
  std::string device = "cpu";  ///< cpu | cuda | cuda:N
  int threads = 0;             ///< intra-op threads (0: leave LibTorch's default)
  std::string checkpoint_dir;  ///< empty: no checkpoints
  bool resume = false;         ///< continue from checkpoint_dir/checkpoint.pt
  /// Replace an existing checkpoint_dir/checkpoint.pt when not resuming (else
  /// the Trainer refuses it, naming the file).
  bool overwrite = false;
  std::string log_path;        ///< JSON lines, appended (empty: none)
  int64_t train_limit = 0;     ///< first n training records only (0: all)
  int64_t test_limit = 0;      ///< first n test records only (0: all)
  int64_t holdout = 0;         ///< test split held out of the training files when there is no test file
  int augment = -1;            ///< -1: the set's default (CIFAR crop+flip), 0: off, 1: on
  int64_t mlp_hidden = 128;
  int64_t eval_batch_size = 500;
  bool progress = true;        ///< draw a progress bar on the progress stream
  bool handle_sigint = true;   ///< install the Ctrl-C handler while running
  /// Called after every training batch (epoch, batch index): tests use it.
  std::function<void(int64_t epoch, int64_t batch)> on_batch;
  /// Data-parallel ranks; null: from torchrun's environment variables (none set:
  /// one process).
  std::shared_ptr<dist::ProcessGroup> group;
  /// Seconds a rank waits for the others (rendezvous and every collective)
  /// before it stops with an error.
  double dist_timeout = 300;
};

struct EpochRecord {
  int64_t epoch = 0;  ///< 1-based
  double train_loss = 0, train_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;
  double train_seconds = 0;  ///< training batches only (this process's share when resumed mid-epoch)
  double data_seconds = 0;   ///< of which building batches (decode, augment, normalise)
  double eval_seconds = 0;
  double images_per_second = 0;  ///< training images / train_seconds
};

struct TrainSummary {
  std::vector<EpochRecord> epochs;  ///< every finished epoch, including those before a resume
  double best_test_accuracy = 0;
  int64_t best_epoch = 0;
  double final_test_accuracy = 0;
  double wall_seconds = 0;  ///< this process
  double seconds_per_epoch = 0;  ///< mean train + eval time of the finished epochs
  bool interrupted = false;
  int64_t parameters = 0;
  int64_t train_size = 0, test_size = 0;
  bool approximate_data = false;  ///< the training images are not an official file
  std::string data_dir;
  std::string checkpoint_path;  ///< last checkpoint written (empty: none)
  int world_size = 1;  ///< data-parallel ranks
  int rank = 0;        ///< this process's rank (only rank 0 writes)
  /// Gradient bytes all-reduced per step and all-reduces per step (0 for one process).
  int64_t gradient_bytes = 0, gradient_buckets = 0;
};

class Trainer {
 public:
  /// Loads the data and builds model and optimizer; throws on any bad option or
  /// file. Before loading anything it checks that checkpoint_dir can be written
  /// (a temporary file is created and removed there), removes leftover
  /// temporary files of an interrupted checkpoint write (checkpoint.pt.tmpXXXXXX,
  /// said on `out`) and refuses an existing checkpoint unless resume or overwrite. `out`: epoch lines and messages; `progress`: the progress bar.
  Trainer(TrainConfig config, std::ostream* out, std::ostream* progress);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// Trains from the start (or the checkpoint when config.resume) to config.epochs.
  TrainSummary run();

  torch::nn::Module& model();
  const TrainConfig& config() const;
  /// checkpoint_dir/checkpoint.pt
  std::string checkpoint_file() const;
  int64_t train_size() const;
  int64_t test_size() const;
  int64_t parameters() const;
  /// The training (or test) images are not an official file (e.g. *.APPROX.*).
  bool approximate_data() const;
  /// The directory the files were read from.
  std::string data_dir() const;
  /// The test split was held out of the training files (--holdout).
  bool test_held_out() const;
  /// Data-parallel ranks and this process's rank.
  int world_size() const;
  int rank() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// The models by name (cnn, resnet18, mlp) for `channels` x `height` x `width` input.
std::shared_ptr<torch::nn::Module> make_model(const std::string& name, int64_t channels, int64_t height,
                                              int64_t width, int64_t classes, int64_t mlp_hidden = 128);
/// Forward of a module made by make_model.
at::Tensor model_forward(torch::nn::Module& model, const at::Tensor& x);

/// Names accepted by TrainConfig::optimizer.
const std::vector<std::string>& optimizer_names();

/// Asks a running Trainer to stop after the current batch (what SIGINT does).
void request_stop();

}  // namespace adaswarm::experiments
