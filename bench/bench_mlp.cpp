// Training steps per second on the UCI tables' MLP (in -> 10 ReLU -> C,
// softmax, MSE), one intra-op thread: torch::optim::Adam with the autograd
// MSE (the baseline), AdaSwarm (Adam + the swarm loss, paper preset), SGD
// driven by the swarm loss, and Adam driven by the swarm's ideal limit.
//
//   build-*/bench/bench_mlp [inputs=34] [classes=2] [batch=16] [seconds_per_case=2]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>

#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/models/mlp.h"
#include "adaswarm/optim/adaswarm.h"
#include "adaswarm/util/allocator.h"

using Clock = std::chrono::steady_clock;

namespace {
double steps_per_second(const std::function<void()>& step, double seconds) {
  for (int i = 0; i < 50; ++i) step();  // warm-up
  int64_t n = 0;
  const auto t0 = Clock::now();
  double el = 0;
  while (el < seconds) {
    for (int i = 0; i < 100; ++i) step();
    n += 100;
    el = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  return static_cast<double>(n) / el;
}
}  // namespace

int main(int argc, char** argv) {
  adaswarm::util::tune_malloc_for_training();  // as the CLI does
  const int64_t in = argc > 1 ? std::atoll(argv[1]) : 34;
  const int64_t classes = argc > 2 ? std::atoll(argv[2]) : 2;
  const int64_t batch = argc > 3 ? std::atoll(argv[3]) : 16;
  const double secs = argc > 4 ? std::atof(argv[4]) : 2.0;
  at::set_num_threads(1);
  torch::manual_seed(0);
  const auto x = torch::randn({batch, in});
  const auto t = torch::one_hot(torch::randint(classes, {batch}), classes).to(torch::kFloat);
  using adaswarm::models::Activation;
  auto make_net = [&] {
    adaswarm::models::MLP net(adaswarm::models::MLPOptions(in, classes).hidden({10}).output_activation(Activation::Softmax));
    net->reset_parameters(1);
    return net;
  };
  std::printf("MLP %lld-10-%lld, batch %lld, 1 intra-op thread, %.1f s per case\n", static_cast<long long>(in),
              static_cast<long long>(classes), static_cast<long long>(batch), secs);

  auto net_a = make_net();
  torch::optim::Adam adam(net_a->parameters(), torch::optim::AdamOptions(1e-3));
  const double base = steps_per_second(
      [&] {
        auto loss = torch::mse_loss(net_a->forward(x), t);
        adam.zero_grad();
        loss.backward();
        adam.step();
      },
      secs);
  std::printf("%-44s %10.0f steps/s  (1.00x)\n", "torch::optim::Adam + autograd MSE (baseline)", base);

  auto paper = adaswarm::SwarmLossOptions::preset(adaswarm::Preset::Paper).loss(adaswarm::LossKind::MSE);
  auto net_s = make_net();
  adaswarm::optim::AdaSwarm adaswarm_opt(net_s->parameters(), adaswarm::optim::AdaSwarmOptions(1e-3).swarm(paper));
  auto swarm_loss = adaswarm_opt.loss();
  const double sw = steps_per_second(
      [&] {
        auto loss = swarm_loss(net_s->forward(x), t);
        adaswarm_opt.zero_grad();
        loss.backward();
        adaswarm_opt.step();
      },
      secs);
  std::printf("%-44s %10.0f steps/s  (%.2fx)\n", "AdaSwarm (Adam + swarm loss, paper preset)", sw, sw / base);

  auto net_g = make_net();
  torch::optim::SGD sgd(net_g->parameters(), torch::optim::SGDOptions(0.01));
  adaswarm::SwarmLoss sgd_loss(paper);
  const double sg = steps_per_second(
      [&] {
        auto loss = sgd_loss(net_g->forward(x), t);
        sgd.zero_grad();
        loss.backward();
        sgd.step();
      },
      secs);
  std::printf("%-44s %10.0f steps/s  (%.2fx)\n", "SGD + swarm loss (emulated SGD)", sg, sg / base);

  auto net_i = make_net();
  torch::optim::Adam adam_i(net_i->parameters(), torch::optim::AdamOptions(1e-3));
  auto ideal_opts = paper;
  ideal_opts.ideal_limit(true);
  adaswarm::SwarmLoss ideal(ideal_opts);
  const double id = steps_per_second(
      [&] {
        auto loss = ideal(net_i->forward(x), t);
        adam_i.zero_grad();
        loss.backward();
        adam_i.step();
      },
      secs);
  std::printf("%-44s %10.0f steps/s  (%.2fx)\n", "Adam + ideal-limit swarm loss (ablation)", id, id / base);
  return 0;
}
