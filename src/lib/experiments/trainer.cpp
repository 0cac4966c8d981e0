// The vision trainer: options, data, model, optimizer, the training loop, log, Ctrl-C
// (checkpoints: trainer_checkpoint.cpp; the shared state: trainer_impl.h).
#include "adaswarm/experiments/trainer.h"
#include "trainer_impl.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <thread>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adaswarm/data/images.h"
#include "adaswarm/dist/dist.h"
#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/models/cnn.h"
#include "adaswarm/models/resnet.h"
#include "adaswarm/optim/adaswarm.h"
#include "adaswarm/util/progress.h"

using json = nlohmann::json;

namespace adaswarm::experiments {
namespace {

// ---- Ctrl-C ------------------------------------------------------------------
volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_sigint(int) {
  if (g_stop) {  // second Ctrl-C: give up at once
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    return;
  }
  g_stop = 1;
  static const char msg[] = "\nadaswarm: Ctrl-C: stopping after the current batch (press again to abort)\n";
  ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
}

class SigintScope {
 public:
  explicit SigintScope(bool on) : on_(on) {
    g_stop = 0;
    if (!on_) return;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART needed: nothing blocks on a slow syscall here
    sigaction(SIGINT, &sa, &old_);
  }
  ~SigintScope() {
    if (on_) sigaction(SIGINT, &old_, nullptr);
  }

 private:
  bool on_;
  struct sigaction old_ {};
};

// ---- a small MLP for images ------------------------------------------------------
class VisionMlpImpl : public torch::nn::Module {
 public:
  VisionMlpImpl(int64_t in, int64_t hidden, int64_t classes) {
    fc1 = register_module("fc1", torch::nn::Linear(in, hidden));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, classes));
  }
  torch::Tensor forward(torch::Tensor x) { return fc2->forward(torch::relu(fc1->forward(x.flatten(1)))); }

 private:
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void request_stop() { g_stop = 1; }

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names{"adaswarm", "adam",    "amsgrad", "adamw",
                                              "sgd",      "rmsprop", "adagrad", "emulated-sgd"};
  return names;
}

std::shared_ptr<torch::nn::Module> make_model(const std::string& name, int64_t channels, int64_t height,
                                              int64_t width, int64_t classes, int64_t mlp_hidden) {
  if (name == "cnn")
    return models::SimpleCNN(
               models::SimpleCNNOptions().in_channels(channels).height(height).width(width).classes(classes))
        .ptr();
  if (name == "resnet18" || name == "resnet-18") return models::resnet18(channels, classes).ptr();
  if (name == "mlp") {
    if (mlp_hidden < 1) throw std::invalid_argument("mlp hidden size must be positive");
    return std::make_shared<VisionMlpImpl>(channels * height * width, mlp_hidden, classes);
  }
  throw std::invalid_argument(fmt::format("unknown model '{}' (expected cnn, resnet18 or mlp)", name));
}

at::Tensor model_forward(torch::nn::Module& m, const at::Tensor& x) {
  if (auto* p = dynamic_cast<models::SimpleCNNImpl*>(&m)) return p->forward(x);
  if (auto* p = dynamic_cast<models::ResNetImpl*>(&m)) return p->forward(x);
  if (auto* p = dynamic_cast<VisionMlpImpl*>(&m)) return p->forward(x);
  throw std::invalid_argument("model_forward: not a model made by make_model");
}

/// What every rank must share (docs/distributed.md): the run's identity, the
/// epochs, --resume and the evaluation batches, with the options' names.
dist::Settings Trainer::Impl::settings() const {
  dist::Settings s;
  const json id = identity();
  for (auto it = id.begin(); it != id.end(); ++it) {
    std::string name = it.key();
    if (name == "train_size") name = "training records";
    else if (name == "test_size") name = "test records";
    else if (name == "augment_pad" || name == "augment_flip") name = "--augment (" + name.substr(8) + ")";
    else name = "--" + name;
    std::replace(name.begin(), name.end(), '_', '-');
    s.emplace_back(name, it.value().dump());
  }
  s.emplace_back("--epochs", std::to_string(cfg.epochs));
  s.emplace_back("--resume", cfg.resume ? "on" : "off");
  s.emplace_back("--eval-batch-size", std::to_string(cfg.eval_batch_size));
  return s;
}

void Trainer::Impl::build_optimizer() {
  const auto& name = cfg.optimizer;
  auto params = model->parameters();
  SwarmLossOptions so = SwarmLossOptions::preset(preset_from_string(cfg.preset)).loss(loss_kind);
  {
    auto sw = so.swarm();
    // Rank r > 0 draws its own stream; rank 0 keeps the single-process one.
    const uint64_t r = group ? static_cast<uint64_t>(group->rank()) : 0;
    sw.seed(cfg.seed * 0x9E3779B97F4A7C15ULL + 17 + r * 0xD1B54A32D192ED03ULL);
    so.swarm(sw);
  }
  if (name == "adaswarm") {
    auto opt = std::make_unique<optim::AdaSwarm>(
        params, optim::AdaSwarmOptions(cfg.lr).weight_decay(cfg.weight_decay).swarm(so));
    swarm_loss = std::make_unique<SwarmLoss>(opt->loss());
    optimizer = std::move(opt);
  } else if (name == "adam" || name == "amsgrad") {
    optimizer = std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(cfg.lr).weight_decay(cfg.weight_decay).amsgrad(name == "amsgrad"));
  } else if (name == "adamw") {
    optimizer = std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(cfg.lr).weight_decay(cfg.weight_decay));
  } else if (name == "sgd" || name == "emulated-sgd") {
    optimizer = std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum).weight_decay(cfg.weight_decay));
    if (name == "emulated-sgd") swarm_loss = std::make_unique<SwarmLoss>(so);
  } else if (name == "rmsprop") {
    optimizer = std::make_unique<torch::optim::RMSprop>(
        params, torch::optim::RMSpropOptions(cfg.lr).momentum(cfg.momentum).weight_decay(cfg.weight_decay));
  } else if (name == "adagrad") {
    optimizer = std::make_unique<torch::optim::Adagrad>(
        params, torch::optim::AdagradOptions(cfg.lr).weight_decay(cfg.weight_decay));
  } else {
    std::string all;
    for (const auto& n : optimizer_names()) all += (all.empty() ? "" : ", ") + n;
    throw std::invalid_argument(fmt::format("unknown optimizer '{}' (expected one of: {})", name, all));
  }
}

std::pair<double, double> Trainer::Impl::evaluate() {
  torch::NoGradGuard ng;
  model->eval();
  double loss_sum = 0, correct = 0;
  const int64_t n = test_loader->size();
  // Rank r evaluates batches r, r + N, ...; the sums are added over ranks.
  for (int64_t b = group->rank(); b < test_loader->num_batches(); b += group->size()) {
    auto batch_data = test_loader->batch(b);
    auto x = batch_data.images.to(device), y = batch_data.labels.to(device);
    auto outp = model_forward(*model, x);
    loss_sum += plain_loss(loss_kind, outp, targets(y)).item<double>() * y.size(0);
    correct += outp.argmax(1).eq(y).sum().item<double>();
  }
  model->train();
  std::vector<double> sums{loss_sum, correct};
  dist::all_reduce_sum(*group, sums);
  loss_sum = sums[0];
  correct = sums[1];
  return {n ? loss_sum / n : NAN, n ? correct / n : NAN};
}


Trainer::Trainer(TrainConfig cfg, std::ostream* out, std::ostream* progress) : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  I.cfg = std::move(cfg);
  auto& c = I.cfg;
  if (!(c.dist_timeout > 0) || !std::isfinite(c.dist_timeout))
    throw std::invalid_argument(fmt::format("--dist-timeout must be a positive number of seconds, got {}",
                                            c.dist_timeout));
  I.group = c.group ? c.group : dist::ProcessGroup::from_environment(c.dist_timeout);
  I.lead = I.group->rank() == 0;
  I.out = I.lead ? out : nullptr;  // ranks > 0 train silently
  I.prog = I.lead ? progress : nullptr;
  // Options, files and data: a failure on any rank stops every rank with its message.
  I.group->agree([&] { I.setup(); });
  // Ranks started with other options or data would train apart or wait in a collective.
  dist::require_same_settings(*I.group, I.settings());
  I.build_model();
}

void Trainer::Impl::setup() {
  auto& I = *this;
  auto& c = I.cfg;
  if (c.epochs < 1) throw std::invalid_argument("--epochs must be at least 1");
  if (c.batch_size < 1) throw std::invalid_argument("--batch-size must be at least 1");
  if (!(c.lr > 0) || !std::isfinite(c.lr)) throw std::invalid_argument("--lr must be a positive number");
  if (c.threads < 0) throw std::invalid_argument("--threads must be >= 0");
  {
    const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
    if (c.threads > 4 * cores)
      throw std::invalid_argument(fmt::format("--threads {}: more than 4x the {} core(s) here; give at most {}",
                                              c.threads, cores, 4 * cores));
  }
  if (!std::isfinite(c.momentum) || c.momentum < 0 || c.momentum >= 1)
    throw std::invalid_argument(fmt::format("--momentum must be in [0, 1), got {}", c.momentum));
  if (!std::isfinite(c.weight_decay) || c.weight_decay < 0)
    throw std::invalid_argument(fmt::format("--weight-decay must be a finite number >= 0, got {}", c.weight_decay));
  if (c.mlp_hidden < 1) throw std::invalid_argument("--mlp-hidden must be at least 1");
  if (c.train_limit < 0 || c.test_limit < 0 || c.holdout < 0)
    throw std::invalid_argument("--train-limit, --test-limit and --holdout must be >= 0");
  if (c.batch_size < I.group->size())
    throw std::invalid_argument(fmt::format("--batch-size {} is smaller than WORLD_SIZE={}: every rank needs a share "
                                            "of each batch",
                                            c.batch_size, I.group->size()));
  if (c.resume && c.checkpoint_dir.empty()) throw std::invalid_argument("--resume needs --checkpoint DIR");
  if (!c.checkpoint_dir.empty() && I.lead) I.prepare_checkpoint_dir();
  if (!c.log_path.empty() && I.lead) {  // the log is appended to: check that it can be, before training
    const int fd = ::open(c.log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(fmt::format("--log {}: cannot open for appending: {}", c.log_path,
                                                     std::strerror(errno)));
    ::close(fd);
  }
  if (c.threads > 0) at::set_num_threads(c.threads);
  try {
    I.device = torch::Device(c.device);
  } catch (const std::exception&) {
    throw std::invalid_argument(fmt::format("unknown device '{}' (expected cpu, cuda or cuda:N)", c.device));
  }
  if (I.device.is_cuda() && !torch::cuda::is_available())
    throw std::invalid_argument(fmt::format(
        "device '{}' requested but this LibTorch build sees no CUDA device (build against a CUDA LibTorch)", c.device));
  if (!I.device.is_cpu() && !I.device.is_cuda())
    throw std::invalid_argument(fmt::format("device '{}' is not supported (cpu or cuda)", c.device));
  if (I.device.is_cuda()) {
    // Same seed, same weights on the GPU too (and an exact resume): deterministic
    // cuDNN kernels, no autotuning (docs/vision.md).
    at::globalContext().setDeterministicCuDNN(true);
    at::globalContext().setBenchmarkCuDNN(false);
  }
  I.loss_kind = loss_from_string(c.loss);
  if (I.loss_kind == LossKind::BCE)
    throw std::invalid_argument("loss 'bce' expects probabilities; the models output logits: use bce-logits");
  if (I.loss_kind == LossKind::Custom) throw std::invalid_argument("a custom loss cannot be chosen by name");
  preset_from_string(c.preset);  // validates

  const auto set = data::image_set_from_string(c.dataset);
  data::LoadOptions lo;
  lo.train_limit = c.train_limit;
  lo.test_limit = c.test_limit;
  lo.holdout = c.holdout;
  I.splits = data::load_image_set(set, c.data_dir, lo);
  if (I.splits.train.size() == 0) throw std::runtime_error(fmt::format("{}: no training records", I.splits.dir));
  if (I.splits.test.size() == 0) throw std::runtime_error(fmt::format("{}: no test records", I.splits.dir));
  // A batch larger than the training data is the whole data in one batch.
  c.batch_size = std::min<int64_t>(c.batch_size, I.splits.train.size());
  I.norm = data::default_normalization(set);
  I.augment = c.augment < 0 ? data::default_augmentation(set)
                            : (c.augment ? data::AugmentOptions{4, true} : data::AugmentOptions{0, false});
  I.train_loader = std::make_unique<data::BatchLoader>(I.splits.train, c.batch_size, true, I.augment, I.norm, c.seed);
  I.test_loader = std::make_unique<data::BatchLoader>(I.splits.test, std::max<int64_t>(c.eval_batch_size, 1), false,
                                                      data::AugmentOptions{}, I.norm, c.seed);
}

void Trainer::Impl::build_model() {
  auto& I = *this;
  const auto& c = I.cfg;
  torch::manual_seed(c.seed);
  if (I.device.is_cuda()) torch::cuda::manual_seed_all(c.seed);
  const auto& im = I.splits.train.images;
  I.model = make_model(c.model, im.size(1), im.size(2), im.size(3), I.splits.classes, c.mlp_hidden);
  I.model->to(I.device);
  I.parameters = models::count_parameters(*I.model);
  if (I.group->distributed()) {
    dist::broadcast_module(*I.group, *I.model);  // every rank starts from rank 0's weights
    // Rank r > 0: its own LibTorch stream (dropout); rank 0 keeps the single-process one.
    if (I.group->rank() > 0) {
      const uint64_t s = c.seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(I.group->rank()));
      torch::manual_seed(s);
      if (I.device.is_cuda()) torch::cuda::manual_seed_all(s);
    }
    I.averager = std::make_unique<dist::GradientAverager>(I.group, I.model->parameters());
  }
  I.build_optimizer();
  if (c.resume) I.load_checkpoint();
}

Trainer::~Trainer() = default;

torch::nn::Module& Trainer::model() { return *impl_->model; }
const TrainConfig& Trainer::config() const { return impl_->cfg; }
std::string Trainer::checkpoint_file() const { return impl_->checkpoint_file(); }
int64_t Trainer::train_size() const { return impl_->splits.train.size(); }
int64_t Trainer::test_size() const { return impl_->splits.test.size(); }
int64_t Trainer::parameters() const { return impl_->parameters; }
bool Trainer::approximate_data() const { return impl_->splits.train.approximate || impl_->splits.test.approximate; }
std::string Trainer::data_dir() const { return impl_->splits.dir; }
bool Trainer::test_held_out() const { return impl_->splits.test_held_out; }
int Trainer::world_size() const { return impl_->group->size(); }
int Trainer::rank() const { return impl_->group->rank(); }

// ---- the training loop, step by step ---------------------------------------------------

// One global batch: this rank's shard forward and backward, gradients averaged
// over ranks (weighted by shard size), the optimizer's step.
// Returns the seconds spent building the batch.
double Trainer::Impl::train_batch(at::Tensor& loss_acc, at::Tensor& correct_acc, double& seen) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t rows = train_loader->batch_rows(batch);
  const auto [first, last] = dist::shard_range(rows, group->rank(), group->size());
  auto bd = train_loader->batch(batch, first, last);
  auto x = bd.images.to(device, /*non_blocking=*/true);
  auto y = bd.labels.to(device, /*non_blocking=*/true);
  const double data_seconds = seconds_since(t0);
  optimizer->zero_grad();
  if (last > first) {  // a short last batch may leave a rank without rows
    auto outp = model_forward(*model, x);
    auto tgt = targets(y);
    at::Tensor loss;
    try {
      loss = swarm_loss ? (*swarm_loss)(outp, tgt) : plain_loss(loss_kind, outp, tgt);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("epoch {} batch {}: {}{}", epoch + 1, batch + 1, e.what(),
                                           torch::isfinite(outp).all().item<bool>()
                                               ? ""
                                               : " (the model's output diverged: try a lower --lr)"));
    }
    if (!std::isfinite(loss.item<double>()))
      throw std::runtime_error(fmt::format("epoch {} batch {}: the loss is not finite: training diverged (try a "
                                           "lower --lr)",
                                           epoch + 1, batch + 1));
    loss.backward();
    torch::NoGradGuard ng;
    loss_acc += loss.detach().to(torch::kDouble) * static_cast<double>(y.size(0));
    correct_acc += outp.detach().argmax(1).eq(y).sum();
  }
  if (averager) averager->average(static_cast<double>(last - first) / static_cast<double>(rows));
  optimizer->step();
  seen += static_cast<double>(last - first);
  return data_seconds;
}

// Ctrl-C (or request_stop) on any rank stops every rank after the same batch.
bool Trainer::Impl::stop_requested() const {
  return dist::any_rank(*group, g_stop != 0);
}

// The batches of the current epoch from the current position; true when stopped.
bool Trainer::Impl::train_epoch() {
  const int64_t nb = train_loader->num_batches();
  train_loader->set_epoch(epoch);
  util::Progress bar(nb, fmt::format("epoch {}/{}", epoch + 1, cfg.epochs), cfg.progress ? prog : nullptr,
                     /*terminal=*/true);
  bar.resume_from(batch);
  auto loss_acc = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(device));
  auto correct_acc = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(device));
  double seen = 0, train_s = 0, data_s = 0;
  bool stopped = false;
  for (; batch < nb; ++batch) {
    const auto t0 = std::chrono::steady_clock::now();
    data_s += train_batch(loss_acc, correct_acc, seen);
    const double dt = seconds_since(t0);
    train_s += dt;
    if (cfg.progress && prog) {  // this rank's figures (the whole batch on one process)
      const double shown = std::max(seen, 1.0);
      bar.advance(1, fmt::format("loss {:.4f} acc {:6.2f}% {:.0f} img/s", loss_acc.item<double>() / shown,
                                 100 * static_cast<double>(correct_acc.item<int64_t>()) / shown,
                                 seen * group->size() / std::max(train_s, 1e-9)));
    }
    if (cfg.on_batch) cfg.on_batch(epoch, batch);
    if (stop_requested()) {
      ++batch;
      stopped = true;
      break;
    }
  }
  bar.clear();
  // Running sums: this epoch's part summed over ranks.
  std::vector<double> sums{loss_acc.item<double>(), static_cast<double>(correct_acc.item<int64_t>()), seen};
  dist::all_reduce_sum(*group, sums);
  run_loss += sums[0];
  run_correct += sums[1];
  run_seen += sums[2];
  run_train_s += train_s;
  run_data_s += data_s;
  return stopped;
}

// End of an epoch: evaluate, record, checkpoint, log, say.
void Trainer::Impl::finish_epoch(const TrainSummary& s) {
  const auto& c = cfg;
  const auto t_eval = std::chrono::steady_clock::now();
  auto [tl, ta] = evaluate();
  EpochRecord r;
  r.epoch = epoch + 1;
  r.train_loss = run_loss / std::max(run_seen, 1.0);
  r.train_accuracy = run_correct / std::max(run_seen, 1.0);
  r.test_loss = tl;
  r.test_accuracy = ta;
  r.train_seconds = run_train_s;
  r.data_seconds = run_data_s;
  r.eval_seconds = seconds_since(t_eval);
  r.images_per_second = run_train_s > 0 ? run_seen / run_train_s : 0;
  history.push_back(r);
  ++epoch;
  batch = 0;
  run_loss = run_correct = run_seen = run_train_s = run_data_s = 0;
  save_checkpoint();
  json j = epoch_record_json(r);
  j["type"] = "epoch";
  j["epochs"] = c.epochs;
  j["model"] = c.model;
  j["dataset"] = data::to_string(splits.set);
  j["optimizer"] = c.optimizer;
  j["loss"] = c.loss;
  j["lr"] = c.lr;
  j["batch_size"] = c.batch_size;
  j["seed"] = c.seed;
  j["device"] = c.device;
  j["threads"] = at::get_num_threads();
  j["world_size"] = group->size();
  j["train_size"] = s.train_size;
  j["test_size"] = s.test_size;
  j["approximate_data"] = s.approximate_data;
  log_line(j);
  say(fmt::format("epoch {}/{}  train loss {:.4f} acc {:.2f}%  test loss {:.4f} acc {:.2f}%  "
                  "{:.1f}s train ({:.0f} img/s{}, data {:.1f}%) + {:.1f}s test",
                  r.epoch, c.epochs, r.train_loss, 100 * r.train_accuracy, r.test_loss, 100 * r.test_accuracy,
                  r.train_seconds, r.images_per_second,
                  group->distributed() ? fmt::format(" on {} ranks", group->size()) : std::string(),
                  r.train_seconds > 0 ? 100 * r.data_seconds / r.train_seconds : 0.0, r.eval_seconds));
}

// Best and final accuracy, times, and the summary log record.
void Trainer::Impl::summarize(TrainSummary& s, bool stopped) const {
  const auto& c = cfg;
  s.epochs = history;
  double sum_t = 0;
  for (const auto& r : s.epochs) {
    if (r.test_accuracy > s.best_test_accuracy || s.best_epoch == 0) {
      s.best_test_accuracy = r.test_accuracy;
      s.best_epoch = r.epoch;
    }
    sum_t += r.train_seconds + r.eval_seconds;
  }
  if (!s.epochs.empty()) {
    s.final_test_accuracy = s.epochs.back().test_accuracy;
    s.seconds_per_epoch = sum_t / static_cast<double>(s.epochs.size());
  }
  s.checkpoint_path = last_checkpoint;
  if (!stopped && !s.epochs.empty()) {
    json j{{"type", "summary"},
           {"model", c.model},
           {"dataset", data::to_string(splits.set)},
           {"optimizer", c.optimizer},
           {"epochs", s.epochs.size()},
           {"best_test_accuracy", s.best_test_accuracy},
           {"best_epoch", s.best_epoch},
           {"final_test_accuracy", s.final_test_accuracy},
           {"wall_seconds", s.wall_seconds},
           {"seconds_per_epoch", s.seconds_per_epoch},
           {"parameters", s.parameters},
           {"world_size", s.world_size},
           {"approximate_data", s.approximate_data}};
    const_cast<Impl*>(this)->log_line(j);
  }
}

TrainSummary Trainer::run() {
  auto& I = *impl_;
  const auto& c = I.cfg;
  const auto t_start = std::chrono::steady_clock::now();
  SigintScope sig(c.handle_sigint);
  TrainSummary s;
  s.parameters = I.parameters;
  s.train_size = I.splits.train.size();
  s.test_size = I.splits.test.size();
  s.approximate_data = I.splits.train.approximate || I.splits.test.approximate;
  s.data_dir = I.splits.dir;
  s.world_size = I.group->size();
  s.rank = I.group->rank();
  if (I.averager) {
    s.gradient_bytes = I.averager->bytes();
    s.gradient_buckets = I.averager->buckets();
  }
  if (I.epoch >= c.epochs && c.resume)
    I.say(fmt::format("checkpoint already at epoch {} of {}: nothing to train", I.epoch, c.epochs));
  I.model->train();
  const int64_t nb = I.train_loader->num_batches();
  bool stopped = false;
  while (I.epoch < c.epochs && !stopped) {
    stopped = I.train_epoch();
    if (stopped && I.batch < nb) break;  // mid-epoch: checkpoint below
    // (a stop that came with the epoch's last batch finishes the epoch first)
    I.finish_epoch(s);
    if (I.stop_requested()) stopped = true;
  }
  if (stopped && I.epoch >= c.epochs) stopped = false;  // the stop came during the last evaluation
  if (stopped) {
    s.interrupted = true;
    if (I.batch > 0) I.save_checkpoint();  // at an epoch boundary the epoch's checkpoint is current
    const std::string where = I.batch > 0 ? fmt::format("after batch {}/{} of epoch {}", I.batch, nb, I.epoch + 1)
                                          : fmt::format("after epoch {}", I.epoch);
    if (!c.checkpoint_dir.empty())
      I.say(fmt::format("stopped {}; checkpoint saved to {}", where, I.last_checkpoint));
    else
      I.say(fmt::format("stopped {}; no --checkpoint directory was given, so this run cannot be resumed", where));
  }
  s.wall_seconds = seconds_since(t_start);
  I.summarize(s, stopped);
  return s;
}

}  // namespace adaswarm::experiments
