// The vision trainer: data, model, optimizer, loop, checkpoints, log, Ctrl-C.
#include "adaswarm/experiments/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
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
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <sstream>
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
#include "adaswarm/util/atomic_file.h"
#include "adaswarm/util/errors.h"
#include "adaswarm/util/progress.h"
#include "adaswarm/util/tensor_check.h"
#include "adaswarm/util/zip_check.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace adaswarm::experiments {
namespace {

constexpr const char* kCheckpointFormat = "adaswarm-train-checkpoint-1";

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

// ---- atomic checkpoint write (util/atomic_file.h: temp file, fsync, rename) ----------
void save_atomically(torch::serialize::OutputArchive& archive, const std::string& path) {
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: cannot serialise checkpoint: {}", path, e.what()));
  }
  util::write_file_atomic(path, bytes.str());
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

json to_json(const EpochRecord& r) {
  return json{{"epoch", r.epoch},
              {"train_loss", r.train_loss},
              {"train_accuracy", r.train_accuracy},
              {"test_loss", r.test_loss},
              {"test_accuracy", r.test_accuracy},
              {"train_seconds", r.train_seconds},
              {"data_seconds", r.data_seconds},
              {"eval_seconds", r.eval_seconds},
              {"images_per_second", r.images_per_second}};
}
EpochRecord record_from_json(const json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch").get<int64_t>();
  r.train_loss = j.at("train_loss").get<double>();
  r.train_accuracy = j.at("train_accuracy").get<double>();
  r.test_loss = j.at("test_loss").get<double>();
  r.test_accuracy = j.at("test_accuracy").get<double>();
  r.train_seconds = j.at("train_seconds").get<double>();
  r.data_seconds = j.at("data_seconds").get<double>();
  r.eval_seconds = j.at("eval_seconds").get<double>();
  r.images_per_second = j.at("images_per_second").get<double>();
  return r;
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

// ---------------------------------------------------------------------------------------
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

  json identity() const {
    return json{{"model", cfg.model},         {"dataset", data::to_string(splits.set)},
                {"optimizer", cfg.optimizer}, {"loss", cfg.loss},
                {"preset", cfg.preset},       {"batch_size", cfg.batch_size},
                {"lr", cfg.lr},               {"momentum", cfg.momentum},
                {"weight_decay", cfg.weight_decay}, {"seed", cfg.seed},
                {"train_size", splits.train.size()}, {"test_size", splits.test.size()},
                {"holdout", cfg.holdout},     {"augment_pad", augment.pad},
                {"augment_flip", augment.hflip}, {"mlp_hidden", cfg.model == "mlp" ? cfg.mlp_hidden : 0}};
  }

  /// What every rank must share (docs/distributed.md): the run's identity, the
  /// epochs, --resume and the evaluation batches, with the options' names.
  dist::Settings settings() const {
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

  std::string checkpoint_file() const {
    return cfg.checkpoint_dir.empty() ? std::string() : (fs::path(cfg.checkpoint_dir) / "checkpoint.pt").string();
  }

  at::Tensor targets(const at::Tensor& labels) const {
    if (loss_kind == LossKind::CrossEntropy || loss_kind == LossKind::Hinge) return labels;
    return torch::one_hot(labels, splits.classes).to(torch::kFloat);
  }

  void build_optimizer() {
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

  /// This rank's own generator states (swarm loss, LibTorch CPU), as bytes.
  std::string rank_state() const {
    torch::serialize::OutputArchive a;
    if (swarm_loss) {
      torch::serialize::OutputArchive sl;
      swarm_loss->save(sl);
      a.write("swarm_loss", sl);
    }
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      a.write("rng_cpu", gen.get_state());
    }
    std::ostringstream bytes;
    a.save_to(bytes);
    return bytes.str();
  }
  void load_rank_state(const std::string& bytes) {
    torch::serialize::InputArchive a;
    a.load_from(bytes.data(), bytes.size());
    if (swarm_loss) {
      torch::serialize::InputArchive sl;
      a.read("swarm_loss", sl);
      swarm_loss->load(sl);
    }
    at::Tensor state;
    a.read("rng_cpu", state);
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state.to(torch::kCPU));
  }

  /// Every rank calls it (the ranks' generator states are gathered); rank 0 writes.
  void save_checkpoint() {
    if (cfg.checkpoint_dir.empty()) return;
    std::vector<std::string> states;
    if (group->distributed()) states = group->all_gather_bytes(rank_state());
    group->agree([&] {
      if (lead) write_checkpoint(states);
    });
    last_checkpoint = checkpoint_file();
  }

  void write_checkpoint(const std::vector<std::string>& rank_states) {
    std::error_code ec;
    fs::create_directories(cfg.checkpoint_dir, ec);
    if (!fs::is_directory(cfg.checkpoint_dir))
      throw std::runtime_error(fmt::format("{}: cannot create checkpoint directory", cfg.checkpoint_dir));
    torch::serialize::OutputArchive ar;
    ar.write("format", c10::IValue(std::string(kCheckpointFormat)));
    ar.write("identity", c10::IValue(identity().dump()));
    ar.write("epoch", c10::IValue(epoch));
    ar.write("batch", c10::IValue(batch));
    ar.write("running", torch::tensor({run_loss, run_correct, run_seen, run_train_s, run_data_s}, torch::kDouble));
    json h = json::array();
    for (const auto& r : history) h.push_back(to_json(r));
    ar.write("history", c10::IValue(h.dump()));
    torch::serialize::OutputArchive m, o;
    model->save(m);
    ar.write("model", m);
    optimizer->save(o);  // AdaSwarm: includes its swarm loss's RNG state
    ar.write("optimizer", o);
    if (swarm_loss && cfg.optimizer != "adaswarm") {
      torch::serialize::OutputArchive s;
      swarm_loss->save(s);
      ar.write("swarm_loss", s);
    }
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      ar.write("rng_cpu", gen.get_state());
    }
    if (device.is_cuda()) {
      auto gen = at::globalContext().defaultGenerator(device);
      std::lock_guard<std::mutex> lock(gen.mutex());
      ar.write("rng_cuda", gen.get_state());
    }
    // Data parallel: the world size and ranks 1..N-1's generator states (rank 0's are above).
    ar.write("world_size", c10::IValue(static_cast<int64_t>(group->size())));
    for (size_t r = 1; r < rank_states.size(); ++r) {
      const auto& b = rank_states[r];
      ar.write(fmt::format("rank_state_{}", r),
               torch::from_blob(const_cast<char*>(b.data()), {static_cast<int64_t>(b.size())}, torch::kUInt8).clone());
    }
    save_atomically(ar, checkpoint_file());
  }

  // Before any training: the checkpoint folder exists and takes a new file, an
  // interrupted write's temporary files are gone, and an existing checkpoint is
  // only replaced when asked to.
  void prepare_checkpoint_dir() {
    const std::string dir = cfg.checkpoint_dir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
      throw std::runtime_error(fmt::format("--checkpoint {}: cannot create the checkpoint directory: {}", dir,
                                           ec ? ec.message() : "not a directory"));
    const std::string prefix = "checkpoint.pt.tmp";
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.size() != prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0) continue;
      std::error_code rec;
      if (!it->is_regular_file(rec)) continue;
      if (fs::remove(it->path(), rec))
        *out_or_null() << fmt::format("removed {}: the temporary file of an interrupted checkpoint write",
                                      it->path().string())
                       << std::endl;
    }
    const std::string path = checkpoint_file();
    const std::string tmpl = (fs::path(dir) / (prefix + "XXXXXX")).string();
    std::vector<char> probe(tmpl.c_str(), tmpl.c_str() + tmpl.size() + 1);
    const int fd = ::mkstemp(probe.data());
    if (fd < 0)
      throw std::runtime_error(fmt::format("--checkpoint {}: cannot write a checkpoint there: {}", dir,
                                           std::strerror(errno)));
    ::close(fd);
    ::unlink(probe.data());
    if (fs::is_directory(path))
      throw std::runtime_error(fmt::format("--checkpoint: {} is a directory, not a checkpoint file", path));
    if (cfg.resume && cfg.overwrite)
      throw std::invalid_argument("--resume and --overwrite exclude each other");
    if (!cfg.resume && !cfg.overwrite && fs::exists(fs::symlink_status(path)))
      throw std::runtime_error(fmt::format(
          "{} exists: pass --resume to continue that run, --overwrite to replace it, or another --checkpoint", path));
  }
  std::ostream* out_or_null() {
    static std::ostringstream sink;
    return out ? out : &sink;
  }

  /// Every rank calls it: rank 0 reads the file and sends its bytes to the
  /// others (no shared file system needed).
  void load_checkpoint() {
    const std::string path = checkpoint_file();
    if (path.empty()) throw std::invalid_argument("--resume needs --checkpoint DIR");
    std::string bytes;
    group->agree([&] {
      if (!lead) return;
      if (!fs::is_regular_file(path))
        throw std::runtime_error(fmt::format("{}: no checkpoint to resume from", path));
      std::ifstream f(path, std::ios::binary);
      std::ostringstream ss;
      ss << f.rdbuf();
      if (!f) throw std::runtime_error(fmt::format("{}: cannot read the checkpoint", path));
      bytes = ss.str();
    });
    bytes = group->broadcast_bytes(bytes);
    util::verify_zip_bytes(bytes, path);  // LibTorch checks no CRC and can crash on a corrupted file
    torch::serialize::InputArchive ar;
    try {
      ar.load_from(bytes.data(), bytes.size(), device);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("{}: not a readable checkpoint: {}", path, e.what()));
    }
    c10::IValue v;
    if (!ar.try_read("format", v) || !v.isString() || v.toStringRef() != kCheckpointFormat)
      throw std::runtime_error(fmt::format("{}: not an adaswarm train checkpoint", path));
    // Each record is checked for its type and range before use: a damaged or
    // hand-made file is named, never a LibTorch or JSON backtrace.
    auto malformed = [&](const std::string& what) {
      return std::runtime_error(fmt::format("{}: the checkpoint's {} is malformed", path, what));
    };
    auto read_int = [&](const char* key, int64_t lo, int64_t hi) {
      c10::IValue x;
      if (!ar.try_read(key, x) || !x.isInt()) throw malformed(fmt::format("\"{}\" record (missing or not an integer)", key));
      const int64_t n = x.toInt();
      if (n < lo || n > hi)
        throw std::runtime_error(
            fmt::format("{}: the checkpoint's \"{}\" is {}, expected {}..{}", path, key, n, lo, hi));
      return n;
    };
    auto read_json = [&](const char* key) {
      c10::IValue x;
      if (!ar.try_read(key, x) || !x.isString()) throw malformed(fmt::format("\"{}\" record (missing or not text)", key));
      try {
        return json::parse(x.toStringRef());
      } catch (const std::exception&) {
        throw malformed(fmt::format("\"{}\" record (not JSON)", key));
      }
    };
    const json saved = read_json("identity"), now = identity();
    if (!saved.is_object()) throw malformed("\"identity\" record (not a JSON object)");
    std::string diff;
    for (auto it = now.begin(); it != now.end(); ++it)
      if (!saved.contains(it.key()) || saved.at(it.key()) != it.value())
        diff += fmt::format("{}{}: checkpoint {} vs now {}", diff.empty() ? "" : "; ", it.key(),
                            saved.contains(it.key()) ? saved.at(it.key()).dump() : "(none)", it.value().dump());
    if (!diff.empty())
      throw std::runtime_error(fmt::format("{}: checkpoint is from a different run ({})", path, diff));
    {
      int64_t saved_world = 1;  // checkpoints before data parallelism: one process
      if (ar.try_read("world_size", v) && v.isInt()) saved_world = v.toInt();
      if (saved_world != group->size())
        throw std::runtime_error(fmt::format(
            "{}: the checkpoint was written by a run of {} rank(s) and this run has WORLD_SIZE={}: resuming at "
            "another world size is refused (each rank's shard of the batches and its generator stream depend on "
            "it); resume with {} rank(s), or start over with --overwrite",
            path, saved_world, group->size(), saved_world));
    }
    epoch = read_int("epoch", 0, std::numeric_limits<int32_t>::max());
    batch = read_int("batch", 0, train_loader->num_batches() - 1);
    at::Tensor running;
    ar.read("running", running);
    if (!util::storage_covers(running) || running.scalar_type() != torch::kDouble || running.numel() != 5)
      throw std::runtime_error(fmt::format("{}: the checkpoint's running sums are malformed", path));
    running = running.to(torch::kCPU).contiguous();
    auto* r = running.data_ptr<double>();
    run_loss = r[0], run_correct = r[1], run_seen = r[2], run_train_s = r[3], run_data_s = r[4];
    {
      const json h = read_json("history");
      if (!h.is_array() || h.size() != static_cast<size_t>(epoch))
        throw malformed(fmt::format("\"history\" record (expected a list of {} epoch records)", epoch));
      history.clear();
      for (const auto& j : h) {
        try {
          history.push_back(record_from_json(j));
        } catch (const json::exception& e) {
          throw malformed(fmt::format("\"history\" record ({})", util::json_message(e)));
        }
        if (history.back().epoch != static_cast<int64_t>(history.size()))
          throw malformed(fmt::format("\"history\" record (epoch {} at position {})", history.back().epoch,
                                      history.size()));
      }
    }
    torch::serialize::InputArchive m, o;
    ar.read("model", m);
    model->load(m);
    for (const auto& t : model->parameters()) util::check_storage(t, path + ": a model parameter");
    for (const auto& t : model->buffers()) util::check_storage(t, path + ": a model buffer");
    model->to(device);
    ar.read("optimizer", o);
    optimizer->load(o);
    if (swarm_loss && cfg.optimizer != "adaswarm") {
      torch::serialize::InputArchive s;
      ar.read("swarm_loss", s);
      swarm_loss->load(s);
    }
    at::Tensor state;
    ar.read("rng_cpu", state);
    util::check_storage(state, path + ": the generator state");
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state.to(torch::kCPU));
    }
    if (device.is_cuda()) {
      ar.read("rng_cuda", state);
      auto gen = at::globalContext().defaultGenerator(device);
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state.to(torch::kCPU));
    }
    if (group->rank() > 0) {  // this rank's own generators
      at::Tensor mine;
      ar.read(fmt::format("rank_state_{}", group->rank()), mine);
      util::check_storage(mine, path + ": this rank's state");
      mine = mine.to(torch::kCPU).contiguous();
      load_rank_state(std::string(reinterpret_cast<const char*>(mine.data_ptr<uint8_t>()),
                                  static_cast<size_t>(mine.numel())));
    }
    last_checkpoint = path;
  }

  std::pair<double, double> evaluate() {
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

  void log_line(const json& j) {
    if (cfg.log_path.empty() || !lead) return;
    try {
      util::append_line(cfg.log_path, j.dump());  // names the OS reason (e.g. a full disk)
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("--log: {}", e.what()));
    }
  }
};

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
  json j = to_json(r);
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
