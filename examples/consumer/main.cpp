// Trains tiny regression models with AdaSwarm through the installed package:
// a built-in loss, then a custom loss with no usable gradient (a step loss)
// against its control (a constant loss), which must not train.
#include <torch/torch.h>

#include <adaswarm/optim/adaswarm.h>

#include <cstdio>

namespace {
/// MSE of a fresh Linear(3, 1) after 300 AdaSwarm steps on `loss` (built-in MSE when empty).
std::pair<double, double> train(const adaswarm::CustomLossFn& loss) {
  torch::manual_seed(0);
  auto model = torch::nn::Linear(3, 1);
  auto x = torch::randn({64, 3});
  auto y = x.matmul(torch::tensor({3.0f, -2.0f, 1.5f}).unsqueeze(1)) + 0.3;
  auto options = adaswarm::optim::AdaSwarmOptions(0.05);
  if (loss) options.swarm().loss(adaswarm::LossKind::Custom);
  auto opt = loss ? adaswarm::optim::AdaSwarm(model->parameters(), options, loss)
                  : adaswarm::optim::AdaSwarm(model->parameters(), options);
  auto loss_fn = opt.loss();
  auto mse = [&] {
    torch::NoGradGuard ng;
    return torch::mse_loss(model->forward(x), y).item<double>();
  };
  const double first = mse();
  for (int step = 0; step < 300; ++step) {
    opt.zero_grad();
    loss_fn(model->forward(x), y).backward();
    opt.step();
  }
  return {first, mse()};
}
}  // namespace

int main() {
  const auto [m0, m1] = train(nullptr);
  std::printf("consumer: AdaSwarm MSE %.4f -> %.4f\n", m0, m1);
  const auto [s0, s1] = train([](const torch::Tensor& pos, const torch::Tensor& t) {
    return (torch::round(pos) - torch::round(t).unsqueeze(0)).abs();
  });
  std::printf("consumer: AdaSwarm on a step loss: MSE %.4f -> %.4f\n", s0, s1);
  const auto [c0, c1] = train([](const torch::Tensor& pos, const torch::Tensor&) { return torch::zeros_like(pos); });
  std::printf("consumer: the constant-loss control: MSE %.4f -> %.4f (must not train)\n", c0, c1);
  return m1 < 0.1 * m0 && s1 < 0.1 * s0 && c1 > 0.5 * c0 ? 0 : 1;
}
