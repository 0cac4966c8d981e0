// Measures, in one run, what the swarm costs:
//  1. swarm-loss forward+backward vs the plain loss's forward+backward;
//  2. one training step of AdaSwarm vs torch::optim::Adam on the paper's simple
//     CNN (batch 64, MNIST-shaped input) and on a 4-10-3 MLP (batch 40).
// Prints medians and ratios. Usage: bench_adaswarm [repeats] [threads]
#include <fmt/core.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "adaswarm/models/cnn.h"
#include "adaswarm/models/mlp.h"
#include "adaswarm/optim/adaswarm.h"
#include "adaswarm/util/allocator.h"
#include "bench_timing.h"

using namespace adaswarm;
using adaswarm::bench::median_seconds;

namespace {
void row(const char* what, double base, double ours) {
  fmt::print("{:<44} {:>10.1f} us {:>10.1f} us {:>8.2f}x\n", what, base * 1e6, ours * 1e6, ours / base);
}

template <typename Model>
void step_pair(const char* name, Model model_a, Model model_b, torch::Tensor x, torch::Tensor y, LossKind kind,
               int repeats) {
  torch::optim::Adam adam(model_a->parameters(), torch::optim::AdamOptions(1e-3));
  optim::AdaSwarm ours(model_b->parameters(),
                       optim::AdaSwarmOptions(1e-3).swarm(SwarmLossOptions::preset(Preset::Paper).loss(kind)));
  auto swarm_loss = ours.loss();
  auto adam_step = [&] {
    adam.zero_grad();
    plain_loss(kind, model_a->forward(x), y).backward();
    adam.step();
  };
  auto ours_step = [&] {
    ours.zero_grad();
    swarm_loss(model_b->forward(x), y).backward();
    ours.step();
  };
  // Interleave blocks so that drift on a shared machine hits both alike.
  double ta = 0, tb = 0;
  const int blocks = 5;
  for (int b = 0; b < blocks; ++b) {
    ta += median_seconds(adam_step, repeats / blocks + 1);
    tb += median_seconds(ours_step, repeats / blocks + 1);
  }
  row(name, ta / blocks, tb / blocks);
}
}  // namespace

int main(int argc, char** argv) {
  adaswarm::util::tune_malloc_for_training();  // as the CLI does
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 200;
  if (argc > 2) torch::set_num_threads(std::atoi(argv[2]));
  torch::manual_seed(0);
  fmt::print("adaswarm bench: torch threads {}, repeats {}\n", torch::get_num_threads(), repeats);
  fmt::print("{:<44} {:>13} {:>13} {:>9}\n", "what", "baseline", "adaswarm", "ratio");

  // 1. Loss forward + backward alone.
  for (auto [B, C, kind] : {std::tuple<int, int, LossKind>{40, 3, LossKind::MSE},
                            {64, 10, LossKind::CrossEntropy}, {125, 10, LossKind::CrossEntropy}}) {
    auto y = torch::randn({B, C}, torch::requires_grad());
    auto t = kind == LossKind::CrossEntropy ? torch::randint(0, C, {B}, torch::kLong) : torch::rand({B, C});
    SwarmLoss sl(SwarmLossOptions::preset(Preset::Paper).loss(kind));
    auto plain = [&] { plain_loss(kind, y, t).backward(); };
    auto swarm = [&] { sl(y, t).backward(); };
    row(fmt::format("loss fwd+bwd {} B={} C={} (plain vs swarm)", to_string(kind), B, C).c_str(),
        median_seconds(plain, repeats * 5), median_seconds(swarm, repeats * 5));
  }

  // 2. Training steps.
  {
    auto make = [] {
      torch::manual_seed(1);
      return models::MLP(models::MLPOptions(4, 3).hidden({10}));
    };
    auto x = torch::randn({40, 4});
    auto y = torch::randint(0, 3, {40}, torch::kLong);
    step_pair("step MLP 4-10-3 batch 40 CE (Adam vs AdaSwarm)", make(), make(), x, y, LossKind::CrossEntropy,
              repeats * 5);
    auto yo = torch::one_hot(y, 3).to(torch::kFloat);
    step_pair("step MLP 4-10-3 batch 40 MSE (Adam vs AdaSwarm)", make(), make(), x, yo, LossKind::MSE,
              repeats * 5);
  }
  {
    auto make = [] {
      torch::manual_seed(2);
      return models::SimpleCNN(models::SimpleCNNOptions());
    };
    auto x = torch::randn({64, 1, 28, 28});
    auto y = torch::randint(0, 10, {64}, torch::kLong);
    step_pair("step paper CNN batch 64 CE (Adam vs AdaSwarm)", make(), make(), x, y, LossKind::CrossEntropy,
              std::max(10, repeats / 5));
  }
  return 0;
}
