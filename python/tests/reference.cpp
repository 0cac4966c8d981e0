// The computations of python/tests/test_same_as_cpp.py done through the C++ API
// alone, printed as hex floats, so that the Python bindings can be compared with
// the library bit for bit. The inputs are dyadic rationals built from integers
// (exact in float32), generated the same way on both sides.
//
//   adaswarm_py_reference grad <mse|mae|ce|custom> <seed>   two forward/backward calls
//   adaswarm_py_reference train <steps>                      an MLP 4-10-3 trained with AdaSwarm
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/optim/adaswarm.h"

namespace {

/// ((k * a) mod m - m / 2) / d for k = 0..n-1 (integer m / 2), as float32.
torch::Tensor pattern(int64_t n, int64_t a, int64_t m, double d, std::vector<int64_t> shape) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) v[static_cast<size_t>(k)] = static_cast<float>(static_cast<double>((k * a) % m - m / 2) / d);
  return torch::tensor(v, torch::kFloat).reshape(shape);
}

void print(const char* name, const torch::Tensor& t) {
  auto c = t.detach().to(torch::kFloat).contiguous().reshape({-1});
  std::printf("%s", name);
  for (int64_t i = 0; i < c.numel(); ++i) std::printf(" %a", static_cast<double>(c[i].item<float>()));
  std::printf("\n");
}

int grad(const std::string& loss, uint64_t seed) {
  auto o = adaswarm::SwarmLossOptions::preset(adaswarm::Preset::Paper);
  o.swarm().seed(seed);
  torch::Tensor target;
  std::unique_ptr<adaswarm::SwarmLoss> fn;
  if (loss == "ce") {
    target = torch::arange(12, torch::kLong).remainder(3);
  } else {
    target = pattern(36, 3, 11, 4.0, {12, 3});
  }
  if (loss == "custom") {
    fn = std::make_unique<adaswarm::SwarmLoss>(
        o.loss(adaswarm::LossKind::Custom),
        [](const at::Tensor& pos, const at::Tensor& t) { return (pos - t.unsqueeze(0)).abs(); });
  } else {
    fn = std::make_unique<adaswarm::SwarmLoss>(o.loss(adaswarm::loss_from_string(loss)));
  }
  for (int call = 0; call < 2; ++call) {
    auto y = pattern(36, 5 + call, 17, 8.0, {12, 3}).requires_grad_(true);
    auto value = (*fn)(y, target);
    value.backward();
    print("value", value);
    print("grad", y.grad());
  }
  return 0;
}

int train(int steps) {
  auto w1 = pattern(40, 7, 13, 16.0, {10, 4}).requires_grad_(true);
  auto b1 = pattern(10, 5, 7, 32.0, {10}).requires_grad_(true);
  auto w2 = pattern(30, 11, 17, 16.0, {3, 10}).requires_grad_(true);
  auto b2 = pattern(3, 3, 5, 32.0, {3}).requires_grad_(true);
  auto x = pattern(120, 13, 23, 8.0, {30, 4});
  auto y = torch::arange(30, torch::kLong).remainder(3);
  auto defaults = adaswarm::optim::AdaSwarmOptions(0.01).swarm(
      adaswarm::SwarmLossOptions::preset(adaswarm::Preset::Paper).loss(adaswarm::LossKind::CrossEntropy));
  defaults.swarm().swarm().seed(3);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{w1, b1});
  auto second = std::make_unique<adaswarm::optim::AdaSwarmOptions>(defaults);
  second->lr(0.02);
  groups.emplace_back(std::vector<torch::Tensor>{w2, b2}, std::move(second));
  adaswarm::optim::AdaSwarm opt(std::move(groups), defaults);
  auto loss_fn = opt.loss();
  std::vector<float> losses;
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    auto out = torch::linear(torch::linear(x, w1, b1).relu(), w2, b2);
    auto loss = loss_fn(out, y);
    loss.backward();
    opt.step();
    losses.push_back(loss.item<float>());
  }
  print("loss", torch::tensor(losses));
  print("w1", w1);
  print("b1", b1);
  print("w2", w2);
  print("b2", b2);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "grad" && argc == 4) return grad(argv[2], std::strtoull(argv[3], nullptr, 10));
  if (mode == "train" && argc == 3) return train(std::atoi(argv[2]));
  std::fprintf(stderr, "usage: adaswarm_py_reference grad <mse|mae|ce|custom> <seed> | train <steps>\n");
  return 2;
}
