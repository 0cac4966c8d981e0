// AdaDelta against its published update rule (Zeiler 2012, Algorithm 1),
// computed here in double precision, element by element.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "adaswarm/optim/adadelta.h"

using adaswarm::optim::AdaDelta;
using adaswarm::optim::AdaDeltaOptions;

namespace {
struct Reference {  // one scalar parameter
  double x, eg2 = 0, edx2 = 0;
  void step(double g, double lr, double rho, double eps, double wd) {
    g += wd * x;
    eg2 = rho * eg2 + (1 - rho) * g * g;
    const double dx = -std::sqrt(edx2 + eps) / std::sqrt(eg2 + eps) * g;
    edx2 = rho * edx2 + (1 - rho) * dx * dx;
    x += lr * dx;
  }
};
}  // namespace

TEST(AdaDelta, MatchesZeilerAlgorithmOneStepByStep) {
  for (const double lr : {1.0, 0.5}) {
    for (const double wd : {0.0, 0.01}) {
      const double rho = 0.95, eps = 1e-6;
      auto p = torch::tensor({0.5, -1.5, 3.0}, torch::kDouble).requires_grad_(true);
      AdaDelta opt({p}, AdaDeltaOptions(lr).rho(rho).eps(eps).weight_decay(wd));
      std::vector<Reference> ref = {{0.5}, {-1.5}, {3.0}};
      for (int t = 0; t < 25; ++t) {
        opt.zero_grad();
        // loss with a changing, non-trivial gradient: sum(a_t * p^2 + sin(p))
        const double a = 1.0 + 0.1 * t;
        auto loss = (a * p * p + torch::sin(p)).sum();
        loss.backward();
        std::vector<double> grads;
        for (int i = 0; i < 3; ++i) grads.push_back(p.grad()[i].item<double>());
        opt.step();
        for (int i = 0; i < 3; ++i) {
          EXPECT_NEAR(grads[i], 2 * a * (ref[i].x) + std::cos(ref[i].x), 1e-9);
          ref[i].step(grads[i], lr, rho, eps, wd);
          EXPECT_NEAR(p[i].item<double>(), ref[i].x, 1e-12) << "lr " << lr << " wd " << wd << " t " << t;
        }
      }
    }
  }
}

TEST(AdaDelta, FirstStepHasTheUnitsCorrectionMagnitude) {
  // With E[dx^2] = 0 the first step is -sqrt(eps) / sqrt((1 - rho) g^2 + eps) * g.
  auto p = torch::tensor({2.0}, torch::kDouble).requires_grad_(true);
  AdaDelta opt({p}, AdaDeltaOptions().rho(0.9).eps(1e-6));
  (p * 4.0).sum().backward();
  opt.step();
  const double expected = 2.0 - std::sqrt(1e-6) / std::sqrt(0.1 * 16 + 1e-6) * 4.0;
  EXPECT_NEAR(p.item<double>(), expected, 1e-15);
}

TEST(AdaDelta, MinimisesAQuadratic) {
  auto p = torch::full({4}, 3.0, torch::kDouble).requires_grad_(true);
  AdaDelta opt({p}, AdaDeltaOptions(1.0).rho(0.9).eps(1e-2));
  for (int t = 0; t < 2000; ++t) {
    opt.zero_grad();
    (p * p).sum().backward();
    opt.step();
  }
  EXPECT_LT(p.abs().max().item<double>(), 0.05);
}

TEST(AdaDelta, SaveLoadResumesExactly) {
  auto make = [] { return torch::tensor({1.0, -2.0}, torch::kDouble).requires_grad_(true); };
  auto run = [](torch::Tensor& p, AdaDelta& opt, int steps) {
    for (int t = 0; t < steps; ++t) {
      opt.zero_grad();
      (p * p * p).sum().backward();
      opt.step();
    }
  };
  auto a = make();
  AdaDelta oa({a}, AdaDeltaOptions(0.7).rho(0.8));
  run(a, oa, 10);

  auto b = make();
  AdaDelta ob({b}, AdaDeltaOptions(0.7).rho(0.8));
  run(b, ob, 4);
  std::stringstream ss;
  torch::save(ob, ss);
  auto c = b.detach().clone().requires_grad_(true);
  // As with LibTorch's own optimizers, the archive restores the per-parameter
  // state (step, E[g^2], E[dx^2]); the options come from the constructor.
  AdaDelta oc({c}, AdaDeltaOptions(0.7).rho(0.8));
  torch::load(oc, ss);
  ASSERT_EQ(oc.state().size(), 1u);
  run(c, oc, 6);
  EXPECT_TRUE(torch::allclose(a, c, 0, 0)) << a << c;
}

TEST(AdaDelta, RejectsInvalidOptions) {
  auto p = torch::zeros({1}, torch::requires_grad());
  EXPECT_THROW(AdaDelta({p}, AdaDeltaOptions(-1.0)), c10::Error);
  EXPECT_THROW(AdaDelta({p}, AdaDeltaOptions().rho(1.5)), c10::Error);
  EXPECT_THROW(AdaDelta({p}, AdaDeltaOptions().eps(-1)), c10::Error);
}
