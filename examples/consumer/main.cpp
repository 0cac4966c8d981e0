// Trains a tiny regression model with AdaSwarm through the installed package.
#include <torch/torch.h>

#include <adaswarm/optim/adaswarm.h>

#include <cstdio>

int main() {
  torch::manual_seed(0);
  auto model = torch::nn::Linear(3, 1);
  auto x = torch::randn({64, 3});
  auto y = x.matmul(torch::tensor({1.0f, -2.0f, 0.5f}).unsqueeze(1)) + 0.3;
  adaswarm::optim::AdaSwarm opt(model->parameters(), adaswarm::optim::AdaSwarmOptions(0.05));
  auto loss_fn = opt.loss();
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    opt.zero_grad();
    auto loss = loss_fn(model->forward(x), y);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  std::printf("consumer: AdaSwarm MSE %.4f -> %.4f\n", first, last);
  return last < first * 0.1 ? 0 : 1;
}
