// The CUDA path (skipped where LibTorch sees no GPU; scripts/device-check.sh
// runs them on a GPU machine): the swarm loss on CUDA tensors gives the CPU's
// result for a seed, AdaSwarm on CUDA parameters takes Adam's step given the
// same gradients, and a trainer checkpoint saved on CUDA resumes exactly.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <csignal>
#include <cstdlib>
#include <sstream>
#include <string>

#include "adaswarm/experiments/trainer.h"
#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/optim/adaswarm.h"
#include "temp_dir.h"

using namespace adaswarm;
namespace ex = adaswarm::experiments;

#define SKIP_WITHOUT_CUDA()                                                                   \
  do {                                                                                        \
    if (!torch::cuda::is_available()) GTEST_SKIP() << "LibTorch sees no CUDA device here"; \
  } while (0)

namespace {
const torch::Device kCuda(torch::kCUDA, 0);

// One forward + backward of a swarm loss on `y` (on y's device); value and gradient on the CPU.
std::pair<torch::Tensor, torch::Tensor> loss_and_grad(const SwarmLossOptions& o, const torch::Tensor& y,
                                                      const torch::Tensor& t) {
  SwarmLoss loss(o);
  auto yy = y.detach().clone().requires_grad_(true);
  auto l = loss(yy, t);
  l.backward();
  EXPECT_EQ(yy.grad().device(), y.device());
  return {l.detach().cpu(), yy.grad().cpu()};
}
}  // namespace

TEST(Cuda, SwarmLossOnCudaTensorsEqualsTheCpuResult) {
  SKIP_WITHOUT_CUDA();
  torch::manual_seed(4);
  const auto y = torch::randn({16, 10}), t = torch::randint(0, 10, {16}, torch::kLong);
  const auto yr = torch::rand({16, 3}), tr = torch::rand({16, 3});
  struct Case {
    LossKind kind;
    torch::Tensor y, t;
  };
  for (const Case& c : {Case{LossKind::CrossEntropy, y, t}, Case{LossKind::MAE, yr, tr}, Case{LossKind::MSE, yr, tr}}) {
    for (Preset p : {Preset::Paper, Preset::Search}) {
      auto o = SwarmLossOptions::preset(p).loss(c.kind);
      o.swarm().seed(11);
      const auto [lc, gc] = loss_and_grad(o, c.y, c.t);
      const auto [lg, gg] = loss_and_grad(o, c.y.to(kCuda), c.t.to(kCuda));
      // The swarm runs on the CPU from the same float values: the same gradient;
      // the loss value is the device's own reduction.
      EXPECT_TRUE(torch::equal(gc, gg)) << to_string(c.kind);
      EXPECT_TRUE(torch::allclose(lc, lg, 1e-5, 1e-6)) << to_string(c.kind) << " " << lc.item<double>() << " vs "
                                                       << lg.item<double>();
    }
  }
}

TEST(Cuda, AdaSwarmOnCudaParametersTakesAdamsStep) {
  SKIP_WITHOUT_CUDA();
  for (bool amsgrad : {false, true}) {
    torch::manual_seed(0);
    auto w1 = torch::randn({64, 32}).to(kCuda).requires_grad_(true);
    auto w2 = w1.detach().clone().requires_grad_(true);
    optim::AdaSwarm ours({w1}, optim::AdaSwarmOptions(0.01).weight_decay(0.1).amsgrad(amsgrad).betas({0.8, 0.99}));
    torch::optim::Adam adam({w2},
                            torch::optim::AdamOptions(0.01).weight_decay(0.1).amsgrad(amsgrad).betas({0.8, 0.99}));
    for (int step = 0; step < 25; ++step) {
      auto g = torch::randn({64, 32}).to(kCuda);
      w1.mutable_grad() = g.clone();
      w2.mutable_grad() = g.clone();
      ours.step();
      adam.step();
    }
    EXPECT_TRUE(w1.is_cuda());
    EXPECT_TRUE(torch::allclose(w1, w2, 1e-6, 1e-7)) << "amsgrad " << amsgrad;
  }
}

TEST(Cuda, TrainerCheckpointSavedOnCudaResumesExactly) {
  SKIP_WITHOUT_CUDA();
  setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", 0);  // deterministic cuBLAS (the trainer asks for determinism)
  adaswarm::testing::TempDir d;
  ex::TrainConfig c;
  c.model = "cnn";
  c.dataset = "mnist";
  c.data_dir = std::string(ADASWARM_SHARED_DATA) + "/mnist";
  c.optimizer = "adaswarm";
  c.loss = "ce";
  c.epochs = 2;
  c.batch_size = 50;
  c.lr = 1e-3;
  c.seed = 7;
  c.train_limit = 300;
  c.test_limit = 200;
  c.progress = false;
  c.device = "cuda";
  std::ostringstream quiet;
  c.checkpoint_dir = d / "full";
  ex::Trainer full(c, &quiet, nullptr);
  const auto s_full = full.run();
  ASSERT_FALSE(s_full.interrupted);

  auto first_cfg = c;
  first_cfg.checkpoint_dir = d / "split";
  first_cfg.on_batch = [](int64_t e, int64_t b) {
    if (e == 0 && b == 2) std::raise(SIGINT);
  };
  ex::Trainer first(first_cfg, &quiet, nullptr);
  ASSERT_TRUE(first.run().interrupted);
  auto resume_cfg = c;
  resume_cfg.checkpoint_dir = d / "split";
  resume_cfg.resume = true;
  ex::Trainer second(resume_cfg, &quiet, nullptr);
  const auto s2 = second.run();
  ASSERT_FALSE(s2.interrupted);
  auto pa = full.model().named_parameters(), pb = second.model().named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& kv : pa) {
    EXPECT_TRUE(kv.value().is_cuda()) << kv.key();
    EXPECT_TRUE(torch::equal(kv.value(), pb[kv.key()])) << kv.key();
  }
  ASSERT_EQ(s2.epochs.size(), s_full.epochs.size());
  for (size_t i = 0; i < s2.epochs.size(); ++i)
    EXPECT_DOUBLE_EQ(s2.epochs[i].test_accuracy, s_full.epochs[i].test_accuracy);
}
