// bench_vision: training-step throughput (images/s) of the paper's simple CNN
// and ResNet-18 with AdaSwarm and with Adam, measured in the same run and
// interleaved round by round, reported as a ratio; the swarm loss's own cost per
// step; data-loading throughput (decode + crop/flip + normalise). On a GPU
// (--device cuda) also the time the swarm loss spends moving its batch x classes
// block between the GPU and the CPU (the swarm runs on the CPU), as a share of
// the AdaSwarm step.
//
//   bench_vision [--device cpu|cuda[:N]] [--threads N] [--batch B] [--rounds R] [--cnn-steps K]
//                [--resnet-steps K] [--no-resnet]
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "adaswarm/data/images.h"
#include "adaswarm/experiments/trainer.h"
#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/models/cnn.h"
#include "adaswarm/optim/adaswarm.h"
#include "adaswarm/util/allocator.h"

namespace ex = adaswarm::experiments;
namespace data = adaswarm::data;
using Clock = std::chrono::steady_clock;

namespace {

// The shared data folder: $ADASWARM_SHARED_DATA, else the one the build was configured with.
std::string shared_data() {
  if (const char* e = std::getenv("ADASWARM_SHARED_DATA")) return e;
#ifdef ADASWARM_SHARED_DATA
  return ADASWARM_SHARED_DATA;
#endif
  return (std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "shared" / "data").lexically_normal().string();
}

torch::Device g_device{torch::kCPU};
// Waits for the GPU's queued work, so that a clock read after it counts that work.
void sync() {
  if (g_device.is_cuda()) torch::cuda::synchronize(g_device.index());
}
double secs(Clock::time_point t0) {
  sync();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]));
}

struct Runner {
  std::shared_ptr<torch::nn::Module> model;
  std::unique_ptr<torch::optim::Optimizer> opt;
  std::unique_ptr<adaswarm::SwarmLoss> swarm;
  void step(const torch::Tensor& x, const torch::Tensor& y) {
    opt->zero_grad();
    auto out = ex::model_forward(*model, x);
    auto loss = swarm ? (*swarm)(out, y) : adaswarm::plain_loss(adaswarm::LossKind::CrossEntropy, out, y);
    loss.backward();
    opt->step();
  }
};

Runner make_runner(const std::string& model, const std::string& opt, int64_t c, int64_t hw) {
  torch::manual_seed(1);
  Runner r;
  r.model = ex::make_model(model, c, hw, hw, 10);
  r.model->to(g_device);
  r.model->train();
  if (opt == "adam") {
    r.opt = std::make_unique<torch::optim::Adam>(r.model->parameters(), torch::optim::AdamOptions(1e-3));
  } else {
    auto so = adaswarm::SwarmLossOptions::preset(adaswarm::Preset::Paper).loss(adaswarm::LossKind::CrossEntropy);
    auto o = std::make_unique<adaswarm::optim::AdaSwarm>(r.model->parameters(),
                                                         adaswarm::optim::AdaSwarmOptions(1e-3).swarm(so));
    r.swarm = std::make_unique<adaswarm::SwarmLoss>(o->loss());
    r.opt = std::move(o);
  }
  return r;
}

// Median seconds per step of Adam and AdaSwarm, interleaved: each round runs
// `steps` Adam steps then `steps` AdaSwarm steps on the same batches.
struct StepTimes {
  double adam = 0, adaswarm = 0;  // median seconds per step
};
StepTimes compare(const std::string& model, const data::ImageData& d, data::Normalization norm, int64_t batch,
             int rounds, int steps) {
  const int64_t c = d.images.size(1), hw = d.images.size(2);
  data::BatchLoader loader(d, batch, true, data::default_augmentation(c == 3 ? data::ImageSet::CIFAR10 : data::ImageSet::MNIST),
                           norm, 3);
  std::vector<data::Batch> batches;
  for (int64_t i = 0; i < std::min<int64_t>(loader.num_batches(), 4); ++i) {
    batches.push_back(loader.batch(i));
    batches.back().images = batches.back().images.to(g_device);
    batches.back().labels = batches.back().labels.to(g_device);
  }
  Runner adam = make_runner(model, "adam", c, hw), swarm = make_runner(model, "adaswarm", c, hw);
  // Warm-up (allocator, kernels).
  adam.step(batches[0].images, batches[0].labels);
  swarm.step(batches[0].images, batches[0].labels);
  std::vector<double> ta, ts;
  for (int r = 0; r < rounds; ++r) {
    for (Runner* run : {&adam, &swarm}) {
      sync();
      const auto t0 = Clock::now();
      for (int k = 0; k < steps; ++k) {
        const auto& b = batches[(r * steps + k) % batches.size()];
        run->step(b.images, b.labels);
      }
      (run == &adam ? ta : ts).push_back(secs(t0) / steps);
    }
  }
  const double a = median(ta), s = median(ts);
  fmt::print("{:<9} batch {:>3} {}x{}x{}: Adam {:8.1f} img/s ({:7.1f} ms/step)  AdaSwarm {:8.1f} img/s ({:7.1f} ms/step)  "
             "AdaSwarm/Adam time per step {:.3f} ({:+.1f}%)  [{} rounds x {} steps, medians]\n",
             model, batch, c, hw, hw, batch / a, 1e3 * a, batch / s, 1e3 * s, s / a, 100 * (s / a - 1), rounds, steps);
  return {a, s};
}

// The swarm loss alone: forward + backward on a [B, 10] output, no network.
// Returns the median seconds that moving the block (and its gradient) between
// the device and the CPU takes, 0 on the CPU.
double swarm_loss_cost(int64_t batch) {
  auto so = adaswarm::SwarmLossOptions::preset(adaswarm::Preset::Paper).loss(adaswarm::LossKind::CrossEntropy);
  adaswarm::SwarmLoss loss(so);
  auto y = torch::randn({batch, 10}).to(g_device).requires_grad_(true);
  auto t = torch::randint(0, 10, {batch}, torch::kInt64).to(g_device);
  std::vector<double> ts, tp, tx;
  for (int i = 0; i < 200; ++i) {
    sync();
    auto t0 = Clock::now();
    loss(y, t).backward();
    ts.push_back(secs(t0));
    t0 = Clock::now();
    adaswarm::plain_loss(adaswarm::LossKind::CrossEntropy, y, t).backward();
    tp.push_back(secs(t0));
    if (g_device.is_cuda()) {  // what the swarm loss moves: output and target to the CPU, the gradient back
      sync();
      t0 = Clock::now();
      auto yc = y.detach().to(torch::kCPU, torch::kFloat).contiguous();
      auto tc = t.to(torch::kCPU).contiguous();
      auto g = yc.to(g_device);
      (void)tc;
      tx.push_back(secs(t0));
    }
  }
  fmt::print("swarm loss alone (CE, preset paper, batch {}, {}): {:.3f} ms per forward+backward; autograd CE {:.3f} ms\n",
             batch, g_device.str(), 1e3 * median(ts), 1e3 * median(tp));
  if (tx.empty()) return 0;
  fmt::print("  of which moving the {}x10 block GPU->CPU and its gradient back: {:.3f} ms\n", batch, 1e3 * median(tx));
  return median(tx);
}

void loading(const std::string& what, const data::ImageData& d, data::Normalization norm, data::AugmentOptions aug,
             int64_t batch) {
  data::BatchLoader l(d, batch, true, aug, norm, 5);
  const auto t0 = Clock::now();
  int64_t n = 0;
  for (int e = 0; e < 2; ++e) {
    l.set_epoch(e);
    for (int64_t b = 0; b < l.num_batches(); ++b) n += l.batch(b).labels.size(0);
  }
  const double s = secs(t0);
  fmt::print("data loading {:<38} {:>10.0f} img/s ({} images, batch {}, crop pad {}, flip {})\n", what, n / s, n,
             batch, aug.pad, aug.hflip ? "yes" : "no");
}

}  // namespace

int main(int argc, char** argv) {
  adaswarm::util::tune_malloc_for_training();  // as the CLI does
  std::string device = "cpu";
  int threads = 0, rounds = 5, cnn_steps = 4, resnet_steps = 1, resnet_rounds = 3;
  int64_t batch = 125;
  bool resnet = true;
  for (int i = 1; i < argc; ++i) {
    auto next = [&] {
      if (i + 1 >= argc) {
        fmt::print(stderr, "bench_vision: {} needs a value\n", argv[i]);
        std::exit(2);
      }
      return std::atoi(argv[++i]);
    };
    if (!std::strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
    else if (!std::strcmp(argv[i], "--threads")) threads = next();
    else if (!std::strcmp(argv[i], "--batch")) batch = next();
    else if (!std::strcmp(argv[i], "--rounds")) rounds = next();
    else if (!std::strcmp(argv[i], "--cnn-steps")) cnn_steps = next();
    else if (!std::strcmp(argv[i], "--resnet-steps")) resnet_steps = next();
    else if (!std::strcmp(argv[i], "--resnet-rounds")) resnet_rounds = next();
    else if (!std::strcmp(argv[i], "--no-resnet")) resnet = false;
    else {
      fmt::print(stderr,
                 "usage: bench_vision [--device cpu|cuda[:N]] [--threads N] [--batch B] [--rounds R] [--cnn-steps K] [--resnet-rounds R] "
                 "[--resnet-steps K] [--no-resnet]\n");
      return 2;
    }
  }
  try {
    g_device = torch::Device(device);
  } catch (const std::exception&) {
    fmt::print(stderr, "bench_vision: unknown --device '{}' (cpu, cuda or cuda:N)\n", device);
    return 2;
  }
  if (g_device.is_cuda() && !torch::cuda::is_available()) {
    fmt::print(stderr, "bench_vision: --device {}: this LibTorch sees no CUDA device\n", device);
    return 2;
  }
  if (threads > 0) at::set_num_threads(threads);
  fmt::print("bench_vision: {} intra-op thread(s), LibTorch {}, device {}\n", at::get_num_threads(), TORCH_VERSION,
             g_device.str());

  // Image data: Fashion-MNIST when installed, else the shared MNIST test split; CIFAR-10's 200 shared records.
  data::ImageData gray;
  std::string gray_name;
  if (std::filesystem::is_directory(data::kDefaultFashionMnistDir)) {
    gray = data::load_image_set(data::ImageSet::FashionMNIST, "").train;
    gray_name = "Fashion-MNIST train";
  } else {
    gray = data::load_image_set(data::ImageSet::MNIST, shared_data() + "/mnist").test;
    gray_name = "MNIST test";
  }
  auto cifar200 = data::read_cifar10_bin(shared_data() + "/cifar10/data_batch_1_first200.bin");
  data::ImageData cifar;
  cifar.images = cifar200.images.repeat({50, 1, 1, 1});  // 10000 records of real pixels
  cifar.labels = cifar200.labels.repeat({50});

  loading(gray_name + " (1x28x28)", gray, data::default_normalization(data::ImageSet::FashionMNIST), {}, batch);
  loading("CIFAR-10 records x50 (3x32x32)", cifar, data::default_normalization(data::ImageSet::CIFAR10), {4, true},
          batch);
  const double transfer = swarm_loss_cost(batch);
  auto share = [&](const char* model, const StepTimes& t) {
    if (transfer > 0)
      fmt::print("  {}: moving the swarm's block between GPU and CPU is {:.1f}% of the AdaSwarm step\n", model,
                 100 * transfer / t.adaswarm);
  };
  share("cnn", compare("cnn", gray, data::default_normalization(data::ImageSet::FashionMNIST), batch, rounds,
                       cnn_steps));
  if (resnet)
    share("resnet18", compare("resnet18", cifar, data::default_normalization(data::ImageSet::CIFAR10), batch,
                              resnet_rounds, resnet_steps));
  return 0;
}
