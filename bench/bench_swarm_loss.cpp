// The swarm loss at the public Python implementation's default search size:
// a [200, 1] output, 20 particles x 40 iterations per step. Measured in one
// run against our own plain MSE forward+backward on the same output (the
// baseline), for a built-in loss (hand-written fitness loops) and a custom
// loss (a LibTorch callable evaluated once per iteration on [20, 200, 1]), with
// per-row and per-element bests; then whole training steps of the 1-32-1
// network (Adam on MSE vs AdaSwarm on a multi-well custom loss).
// `bench/swarm_loss_py_bench.py` times the same search written in PyTorch ops
// (our own port of the algorithm, not the public code) for the cross-language ratio.
// Usage: bench_swarm_loss [repeats]
#include <fmt/core.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <vector>

#include "adaswarm/optim/adaswarm.h"
#include "adaswarm/util/allocator.h"
#include "bench_timing.h"

using namespace adaswarm;
using adaswarm::bench::median_seconds;

namespace {
// The public implementation's figure quoted in the project's issue (one core,
// Python, 20 x 40 on [200, 1]); not measured here.
constexpr double kPythonReferenceSeconds = 7.8e-3;

void row(const std::string& what, double base, double ours) {
  fmt::print("{:<58} {:>9.1f} us {:>9.1f} us {:>7.2f}x {:>7.1f}x\n", what, base * 1e6, ours * 1e6, ours / base,
             kPythonReferenceSeconds / ours);
}

SwarmLossOptions search_20x40() {
  auto o = SwarmLossOptions::preset(Preset::Search);
  o.swarm().particles(20).iterations(40);
  return o;
}

// The same loss as plain loops (CustomKernel: no LibTorch dispatch per iteration).
CustomKernel multi_well_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t C, const torch::Tensor& t, float* out) {
            const float* tp = t.data_ptr<float>();
            const int64_t D = B * C;
            for (int64_t i = 0; i < P; ++i)
              for (int64_t k = 0; k < D; ++k) {
                const float r = pos[i * D + k] - tp[k];
                out[i * D + k] = 0.1f * r * r + 1.0f - std::cos(3.0f * r);
              }
          },
          true};
}

// A step loss |round(y) - round(t)|, as loops and as a tensor callable.
CustomKernel step_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t C, const torch::Tensor& t, float* out) {
            const float* tp = t.data_ptr<float>();
            const int64_t D = B * C;
            for (int64_t i = 0; i < P; ++i)
              for (int64_t k = 0; k < D; ++k) out[i * D + k] = std::fabs(std::nearbyint(pos[i * D + k]) - std::nearbyint(tp[k]));
          },
          true};
}
CustomLossFn step_loss() {
  return [](const torch::Tensor& pos, const torch::Tensor& t) {
    return (torch::round(pos) - torch::round(t).unsqueeze(0)).abs();
  };
}

CustomLossFn multi_well() {
  return [](const torch::Tensor& pos, const torch::Tensor& t) {
    auto r = pos - t.unsqueeze(0);
    return 0.1 * r * r + 1.0 - torch::cos(3.0 * r);
  };
}
}  // namespace

int main(int argc, char** argv) {
  adaswarm::util::tune_malloc_for_training();
  const int repeats = argc > 1 ? std::max(5, std::atoi(argv[1])) : 200;
  torch::set_num_threads(1);
  torch::manual_seed(0);
  fmt::print("swarm loss bench: [200, 1] output, 20 particles x 40 iterations, 1 thread, repeats {}\n", repeats);
  fmt::print("{:<58} {:>12} {:>12} {:>8} {:>8}\n", "what", "baseline", "ours", "ratio", "vs 7.8ms");

  const int64_t B = 200;
  auto y = torch::randn({B, 1}, torch::requires_grad());
  auto t = torch::randn({B, 1}) * 3;
  auto plain = [&] { plain_loss(LossKind::MSE, y, t).backward(); };
  const double base = median_seconds(plain, repeats * 5);

  struct Arm {
    std::string name;
    SwarmLossOptions options;
    int custom;  // 0 built-in, 1 / 2 multi-well tensor callable / kernel, 3 / 4 step tensor / kernel
  };
  std::vector<Arm> arms = {
      {"swarm loss MSE, per-element bests (search 20x40)", search_20x40().loss(LossKind::MSE), 0},
      {"swarm loss MSE, per-row bests", search_20x40().loss(LossKind::MSE).bests(Bests::Row), 0},
      {"custom multi-well kernel, per-element bests", search_20x40().loss(LossKind::Custom), 2},
      {"custom multi-well kernel, per-row bests", search_20x40().loss(LossKind::Custom).bests(Bests::Row), 2},
      {"custom multi-well tensor callable, per-element", search_20x40().loss(LossKind::Custom), 1},
      {"custom multi-well tensor callable, per-row", search_20x40().loss(LossKind::Custom).bests(Bests::Row), 1},
      {"custom step loss kernel, per-element", search_20x40().loss(LossKind::Custom), 4},
      {"custom step loss tensor callable, per-element", search_20x40().loss(LossKind::Custom), 3},
  };
  for (auto& arm : arms) {
    SwarmLoss sl = arm.custom == 1   ? SwarmLoss(arm.options, multi_well())
                   : arm.custom == 2 ? SwarmLoss(arm.options, multi_well_kernel())
                   : arm.custom == 3 ? SwarmLoss(arm.options, step_loss())
                   : arm.custom == 4 ? SwarmLoss(arm.options, step_kernel())
                                     : SwarmLoss(arm.options);
    auto swarm = [&] { sl(y, t).backward(); };
    row(arm.name + " (fwd+bwd)", base, median_seconds(swarm, repeats));
  }

  // Whole training steps of the 1-32-1 tanh network, full batch of 200.
  auto x = torch::linspace(-2, 2, B).unsqueeze(1);
  auto make = [] {
    torch::manual_seed(1);
    return torch::nn::Sequential(torch::nn::Linear(1, 32), torch::nn::Tanh(), torch::nn::Linear(32, 1));
  };
  auto net_a = make(), net_b = make();
  torch::optim::Adam adam(net_a->parameters(), torch::optim::AdamOptions(0.05));
  optim::AdaSwarm ours(net_b->parameters(), optim::AdaSwarmOptions(0.05).swarm(search_20x40().loss(LossKind::Custom)),
                       multi_well());
  auto lf = ours.loss();
  auto adam_step = [&] {
    adam.zero_grad();
    plain_loss(LossKind::MSE, net_a->forward(x), t).backward();
    adam.step();
  };
  auto ours_step = [&] {
    ours.zero_grad();
    lf(net_b->forward(x), t).backward();
    ours.step();
  };
  row("training step 1-32-1: Adam on MSE vs AdaSwarm multi-well", median_seconds(adam_step, repeats),
      median_seconds(ours_step, repeats));
  fmt::print("ratio = ours / baseline; 'vs 7.8ms' = the public Python implementation's quoted step time / ours\n");
  return 0;
}
