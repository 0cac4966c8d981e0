// The swarm loss: its backward is exactly (cbar/eta)(y - g) at the true
// gradient's scale, points the right way, respects grad_output, runs for every
// loss, and rejects bad input.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "adaswarm/loss/swarm_loss.h"
#include "expect_error.h"

using namespace adaswarm;
using adaswarm::testing::expect_error;

namespace {
SwarmLossOptions paper(LossKind k) { return SwarmLossOptions::preset(Preset::Paper).loss(k); }
}  // namespace

TEST(SwarmLoss, ForwardReturnsTheOrdinaryLossValue) {
  torch::manual_seed(0);
  auto y = torch::randn({8, 3}, torch::requires_grad());
  auto t = torch::rand({8, 3});
  SwarmLoss mse(paper(LossKind::MSE)), mae(paper(LossKind::MAE));
  EXPECT_TRUE(torch::allclose(mse(y, t), torch::mse_loss(y, t)));
  EXPECT_TRUE(torch::allclose(mae(y, t), torch::l1_loss(y, t)));
  auto idx = torch::randint(0, 3, {8}, torch::kLong);
  SwarmLoss ce(paper(LossKind::CrossEntropy));
  EXPECT_TRUE(torch::allclose(ce(y, idx), torch::nn::functional::cross_entropy(y, idx)));
}

TEST(SwarmLoss, BackwardIsCbarOverEtaTimesYMinusG) {
  torch::manual_seed(1);
  const int64_t B = 6, C = 4;
  auto y = torch::randn({B, C}, torch::requires_grad());
  auto t = torch::randn({B, C});
  auto opts = paper(LossKind::MSE);
  opts.swarm().seed(123);
  SwarmLoss loss(opts);
  loss(y, t).backward();
  const auto* sw = loss.last_swarm();
  ASSERT_NE(sw, nullptr);
  auto g = torch::from_blob(const_cast<float*>(sw->global_best().data()), {B, C}).clone();
  const double cbar = loss.diagnostics().cbar;
  EXPECT_EQ(cbar, sw->cbar());
  EXPECT_GT(cbar, 0.0);
  auto expected = (cbar / 0.1) * (y.detach() - g) / static_cast<double>(B * C);
  EXPECT_TRUE(torch::allclose(y.grad(), expected, 1e-6, 1e-7));
  EXPECT_EQ(loss.diagnostics().iterations, 5);
}

// The swarm's cross-entropy fitness (a vectorised exp of its own) agrees with
// LibTorch's cross-entropy at the swarm's best point, for class indices and soft
// targets, with logits spread wide enough that exp underflows.
TEST(SwarmLoss, CrossEntropyFitnessMatchesLibTorch) {
  torch::manual_seed(5);
  const int64_t B = 37, C = 10;
  for (const double spread : {1.0, 40.0}) {
    auto y = (spread * torch::randn({B, C})).requires_grad_();
    const auto idx = torch::randint(0, C, {B}, torch::kLong);
    const auto soft = torch::softmax(torch::randn({B, C}), 1);
    for (const bool index_targets : {true, false}) {
      for (const bool per_sample : {true, false}) {
        auto opts = paper(LossKind::CrossEntropy).start(SwarmStart::Output).fitness_per_sample(per_sample);
        opts.swarm().seed(9);
        SwarmLoss loss(opts);
        const auto& t = index_targets ? idx : soft;
        loss(y, t).backward();
        const auto* sw = loss.last_swarm();
        ASSERT_NE(sw, nullptr);
        const auto g = torch::from_blob(const_cast<float*>(sw->global_best().data()), {B, C}).clone();
        const double expected = plain_loss(LossKind::CrossEntropy, g, t).item<double>();
        EXPECT_NEAR(loss.diagnostics().best_fitness, expected, 2e-6 * std::max(1.0, std::fabs(expected)))
            << "spread " << spread << (index_targets ? " indices" : " soft") << (per_sample ? " per sample" : "");
        y.mutable_grad() = torch::Tensor();
      }
    }
  }
}

TEST(SwarmLoss, MseGradientPointsWithinTwentyFiveDegreesOfAutograd) {
  torch::manual_seed(2);
  auto opts = paper(LossKind::MSE).compare_with_autograd(true).start(SwarmStart::Targets);
  for (uint64_t seed = 0; seed < 5; ++seed) {
    opts.swarm().seed(seed);
    SwarmLoss loss(opts);
    auto y = (torch::randn({32, 3}) * 2).requires_grad_(true);
    auto t = torch::rand({32, 3});
    loss(y, t).backward();
    const double angle = std::acos(loss.diagnostics().cosine) * 180.0 / M_PI;
    EXPECT_LT(angle, 25.0) << "seed " << seed;
    // And it agrees with an explicit autograd computation.
    auto y2 = y.detach().clone().requires_grad_(true);
    torch::mse_loss(y2, t).backward();
    const double cos = (y2.grad() * y.grad()).sum().item<double>() / (y2.grad().norm() * y.grad().norm()).item<double>();
    EXPECT_NEAR(cos, loss.diagnostics().cosine, 1e-5);
  }
}

TEST(SwarmLoss, RespectsGradOutputAndReduction) {
  auto y = torch::randn({5, 2}, torch::requires_grad());
  auto t = torch::randn({5, 2});
  auto opts = paper(LossKind::MAE);
  SwarmLoss a(opts), b(opts);
  a(y, t).backward();
  auto g1 = y.grad().clone();
  y.grad().zero_();
  (b(y, t) * 3.0).backward();  // same seed: same swarm
  EXPECT_TRUE(torch::allclose(y.grad(), 3.0 * g1));
  // Sum reduction: B*C times the mean's gradient (same swarm draws).
  y.grad().zero_();
  SwarmLoss s(SwarmLossOptions(opts).reduction(Reduction::Sum));
  s(y, t).backward();
  EXPECT_TRUE(torch::allclose(y.grad(), 10.0 * g1, 1e-5, 1e-6));
}

TEST(SwarmLoss, ReferenceScaleIgnoresGradOutputAndBatchSize) {
  auto y = torch::randn({4, 3}, torch::requires_grad());
  auto t = torch::randn({4, 3});
  auto opts = SwarmLossOptions::preset(Preset::Reference).loss(LossKind::MSE);
  SwarmLoss a(opts), b(opts);
  a(y, t).backward();
  auto g1 = y.grad().clone();
  const auto* sw = a.last_swarm();
  auto g = torch::from_blob(const_cast<float*>(sw->global_best().data()), {4, 3}).clone();
  EXPECT_TRUE(torch::allclose(g1, (sw->cbar() / 0.4) * (y.detach() - g), 1e-6, 1e-7));
  y.grad().zero_();
  (b(y, t) * 5.0).backward();
  EXPECT_TRUE(torch::allclose(y.grad(), g1));
}

TEST(SwarmLoss, EveryLossRunsForwardAndBackward) {
  torch::manual_seed(3);
  const int64_t B = 7, C = 3;
  auto logits = torch::randn({B, C});
  auto probs = torch::sigmoid(logits);
  auto onehot = torch::zeros({B, C});
  auto idx = torch::randint(0, C, {B}, torch::kLong);
  onehot.scatter_(1, idx.unsqueeze(1), 1.0);
  struct Case {
    LossKind kind;
    torch::Tensor y, t;
  };
  std::vector<Case> cases = {{LossKind::MSE, logits, onehot},           {LossKind::MAE, logits, onehot},
                             {LossKind::BCE, probs, onehot},            {LossKind::BCEWithLogits, logits, onehot},
                             {LossKind::CrossEntropy, logits, idx},     {LossKind::CrossEntropy, logits, onehot},
                             {LossKind::Huber, logits * 3, onehot},     {LossKind::SmoothL1, logits * 3, onehot},
                             {LossKind::Hinge, logits, idx},            {LossKind::Hinge, logits, onehot}};
  for (const auto& c : cases) {
    SwarmLoss loss(paper(c.kind).compare_with_autograd(true));
    auto y = c.y.clone().requires_grad_(true);
    auto v = loss(y, c.t);
    EXPECT_TRUE(torch::allclose(v, plain_loss(c.kind, y.detach(), c.t))) << to_string(c.kind);
    v.backward();
    ASSERT_TRUE(y.grad().defined()) << to_string(c.kind);
    EXPECT_TRUE(torch::isfinite(y.grad()).all().item<bool>()) << to_string(c.kind);
    EXPECT_GT(y.grad().abs().sum().item<double>(), 0.0) << to_string(c.kind);
    // On these smooth-enough losses the swarm's direction is a descent direction.
    EXPECT_GT(loss.diagnostics().cosine, 0.0) << to_string(c.kind);
  }
}

TEST(SwarmLoss, TorchLossesMatchTheirLibTorchFunctionals) {
  auto y = torch::randn({5, 4}) * 2;
  auto t = torch::rand({5, 4});
  auto idx = torch::randint(0, 4, {5}, torch::kLong);
  EXPECT_TRUE(torch::allclose(plain_loss(LossKind::Huber, y, t, Reduction::Mean, 0.5),
                              torch::nn::functional::huber_loss(
                                  y, t, torch::nn::functional::HuberLossFuncOptions().delta(0.5))));
  EXPECT_TRUE(torch::allclose(plain_loss(LossKind::Hinge, y, idx),
                              torch::nn::functional::multi_margin_loss(y, idx)));
  auto onehot = torch::one_hot(idx, 4).to(torch::kFloat);
  EXPECT_TRUE(torch::allclose(plain_loss(LossKind::CrossEntropy, y, onehot), plain_loss(LossKind::CrossEntropy, y, idx)));
}

TEST(SwarmLoss, CustomNonDifferentiableLoss) {
  // A 0-1-like loss: 1 where the candidate is more than 0.5 away from the target.
  CustomLossFn zero_one = [](const torch::Tensor& pos, const torch::Tensor& t) {
    return ((pos - t.unsqueeze(0)).abs() > 0.5).to(torch::kFloat);
  };
  SwarmLoss loss(paper(LossKind::Custom).start(SwarmStart::Targets), zero_one);
  auto y = torch::full({6, 2}, 3.0, torch::requires_grad());
  auto t = torch::zeros({6, 2});
  auto v = loss(y, t);
  EXPECT_DOUBLE_EQ(v.item<double>(), 1.0);
  v.backward();
  // Candidates start near the targets, so the gradient pushes y down toward t.
  EXPECT_TRUE((y.grad() > 0).all().item<bool>());
  EXPECT_THROW(SwarmLoss(paper(LossKind::Custom)), std::invalid_argument);
}

TEST(SwarmLoss, TargetsGetNoGradient) {
  auto y = torch::randn({3, 2}, torch::requires_grad());
  auto t = torch::randn({3, 2}, torch::requires_grad());
  SwarmLoss loss(paper(LossKind::MSE));
  loss(y, t).backward();
  EXPECT_TRUE(y.grad().defined());
  EXPECT_FALSE(t.grad().defined());
}

TEST(SwarmLoss, OneDimensionalOutputs) {
  auto y = torch::randn({9}, torch::requires_grad());
  auto t = torch::rand({9});
  SwarmLoss loss(paper(LossKind::MSE));
  loss(y, t).backward();
  EXPECT_EQ(y.grad().sizes(), y.sizes());
}

TEST(SwarmLoss, SameSeedSameGradient) {
  auto y = torch::randn({10, 3}, torch::requires_grad());
  auto t = torch::randn({10, 3});
  auto run = [&](uint64_t seed) {
    auto o = paper(LossKind::MSE);
    o.swarm().seed(seed);
    SwarmLoss l(o);
    y.mutable_grad() = torch::Tensor();
    l(y, t).backward();
    return y.grad().clone();
  };
  EXPECT_TRUE(torch::equal(run(4), run(4)));
  EXPECT_FALSE(torch::equal(run(4), run(5)));
}

TEST(SwarmLoss, NoSwarmWithoutGrad) {
  auto y = torch::randn({4, 2});  // no requires_grad
  SwarmLoss loss(paper(LossKind::MSE));
  auto v = loss(y, torch::zeros({4, 2}));
  EXPECT_EQ(loss.last_swarm(), nullptr);
  EXPECT_FALSE(v.requires_grad());
}

TEST(SwarmLoss, IdealLimitIsYMinusT) {
  auto y = torch::randn({4, 2}, torch::requires_grad());
  auto t = torch::randn({4, 2});
  SwarmLoss loss(paper(LossKind::MAE).ideal_limit(true));
  loss(y, t).backward();
  auto expected = (0.5 * (0.8 + 0.9) / 0.1) * (y.detach() - t) / 8.0;
  EXPECT_TRUE(torch::allclose(y.grad(), expected));
}

TEST(SwarmLoss, RejectsBadInput) {
  SwarmLoss loss(paper(LossKind::MSE));
  auto y = torch::randn({4, 3}, torch::requires_grad());
  EXPECT_THROW(loss(y, torch::zeros({4, 2})), std::invalid_argument);
  EXPECT_THROW(loss(y, torch::zeros({3, 3})), std::invalid_argument);
  EXPECT_THROW(loss(torch::empty({0, 3}, torch::requires_grad()), torch::empty({0, 3})), std::invalid_argument);
  auto bad = torch::randn({4, 3});
  bad[1][1] = std::nan("");
  EXPECT_THROW(loss(bad.requires_grad_(true), torch::zeros({4, 3})), std::invalid_argument);
  auto inf = torch::randn({4, 3});
  inf[0][0] = INFINITY;
  EXPECT_THROW(loss(inf.requires_grad_(true), torch::zeros({4, 3})), std::invalid_argument);
  SwarmLoss ce(paper(LossKind::CrossEntropy));
  EXPECT_THROW(ce(y, torch::tensor({0, 1, 2, 3}, torch::kLong)), std::invalid_argument);  // class 3 of 3
  EXPECT_THROW(ce(y, torch::tensor({0, 1, 2}, torch::kLong)), std::invalid_argument);
  auto zero = paper(LossKind::MSE);
  zero.swarm().particles(0);
  EXPECT_THROW(SwarmLoss{zero}, std::invalid_argument);
  auto neg = paper(LossKind::MSE);
  neg.swarm().iterations(-1);
  EXPECT_THROW(SwarmLoss{neg}, std::invalid_argument);
  EXPECT_THROW(SwarmLoss(paper(LossKind::MSE).eta(0)), std::invalid_argument);
  try {
    loss(y, torch::zeros({4, 2}));
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
  }
}

// Found by the 2026-12-03 audit: each of these was accepted and gave a number.
TEST(SwarmLoss, RefusesWhatItWouldOtherwiseComputeWrongly) {
  auto y = torch::randn({4, 3}, torch::requires_grad());
  SwarmLoss mse(paper(LossKind::MSE));
  // Shapes: only [B] against [B, 1] is taken as the same shape.
  expect_error([&] { mse(y, torch::randn({12})); }, "target [12] does not match output [4, 3]");
  expect_error([&] { mse(torch::randn({6}, torch::requires_grad()), torch::randn({2, 3})); },
                 "target [2, 3] does not match output [6]");
  auto y1 = torch::randn({6}, torch::requires_grad());
  auto t1 = torch::randn({6});
  EXPECT_TRUE(torch::equal(SwarmLoss(paper(LossKind::MSE))(y1, t1.view({6, 1})), SwarmLoss(paper(LossKind::MSE))(y1, t1)));
  // Cross-entropy over one class: value 0 but a swarm gradient of noise.
  expect_error([&] { SwarmLoss(paper(LossKind::CrossEntropy))(torch::randn({4, 1}, torch::requires_grad()), torch::zeros({4}, torch::kLong)); },
                 "cross-entropy needs at least 2 classes");
  // Class indices held as floats: say so, not just "does not match".
  expect_error([&] { SwarmLoss(paper(LossKind::CrossEntropy))(y, torch::tensor({0.f, 1.f, 2.f, 0.f})); },
                 "class indices must be an integer tensor");
  // Doubles beyond float32's range would be inf in the search.
  auto yd = torch::randn({4, 3}, torch::kDouble);
  expect_error([&] { mse((yd * 1e300).requires_grad_(true), yd); }, "output has a value");
  expect_error([&] { mse(yd.clone().requires_grad_(true), yd * 1e300); }, "target has a value");
  // A custom loss's result must be floating point.
  SwarmLoss ints(paper(LossKind::Custom), CustomLossFn([](const at::Tensor& p, const at::Tensor& t) {
                   return (p > t.unsqueeze(0)).to(at::kLong);
                 }));
  expect_error([&] { ints(y, torch::randn({4, 3})); }, "floating-point tensor, got Long");
  // ideal_limit pulls toward the target: the minimiser of a built-in loss only.
  expect_error([&] {
    SwarmLoss(paper(LossKind::MSE).ideal_limit(true),
              CustomLossFn([](const at::Tensor& p, const at::Tensor&) { return (p + 5).pow(2); }));
  }, "ideal_limit needs a built-in loss");
  // LibTorch's own checks gave a c10::Error with its backtrace.
  expect_error([&] { SwarmLoss(paper(LossKind::BCE))(torch::full({4, 3}, 2.0).requires_grad_(true), torch::zeros({4, 3})); },
                 "bce needs outputs and targets in [0, 1]");
  expect_error([&] { plain_loss(LossKind::Huber, torch::zeros({2, 2}), torch::zeros({2, 2}), Reduction::Mean, -1); },
                 "delta must be finite and > 0");
  expect_error([&] { plain_loss(LossKind::CrossEntropy, torch::zeros({2, 3}), torch::tensor({0, 7}), Reduction::Mean, 1); },
                 "class index out of range [0, 3)");
  // Enumerations from a cast integer (C++ callers can make them).
  expect_error([&] { SwarmLoss{paper(LossKind::MSE).reduction(static_cast<Reduction>(7))}; }, "reduction is not one of");
  expect_error([&] { SwarmLoss{paper(static_cast<LossKind>(99))}; }, "loss is not one of");
  expect_error([&] { SwarmLoss{paper(LossKind::MSE).grad_scale(static_cast<GradScale>(42))}; }, "grad_scale is not one of");
  auto variant = paper(LossKind::MSE);
  variant.swarm().variant(static_cast<swarm::Variant>(9));
  expect_error([&] { SwarmLoss{variant}; }, "variant is not one of");
  // NaN stopping rules would switch themselves off.
  auto tol = paper(LossKind::MSE);
  tol.swarm().tolerance(std::nan(""));
  expect_error([&] { SwarmLoss{tol}; }, "tolerance must be a number or -inf");
  auto stall = paper(LossKind::MSE);
  stall.swarm().stall_delta(std::nan(""));
  expect_error([&] { SwarmLoss{stall}; }, "stall_delta must be finite");
}

// Copies of a loss share one state (generator, swarms, diagnostics); threads
// that use it take turns. Before the lock, two threads corrupted the shared
// swarm (segfaults and bad_alloc from Python, which releases the GIL here).
TEST(SwarmLoss, ThreadsSharingOneLossTakeTurns) {
  SwarmLoss shared(paper(LossKind::MSE));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int64_t B : {7, 64, 5, 33}) {
    threads.emplace_back([&shared, &failures, B] {
      SwarmLoss loss = shared;  // a copy: the same state
      for (int i = 0; i < 150; ++i) {
        try {
          auto y = torch::randn({B, 3}, torch::requires_grad());
          loss(y, torch::randn({B, 3})).backward();
          if (!y.grad().isfinite().all().item<bool>() || loss.diagnostics().groups < 1) ++failures;
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(SwarmLoss, StateRoundTripsThroughAnArchive) {
  auto y = torch::randn({5, 2}, torch::requires_grad());
  auto t = torch::randn({5, 2});
  SwarmLoss a(paper(LossKind::MSE));
  a(y, t).backward();  // advance the RNG
  torch::serialize::OutputArchive out;
  a.save(out);
  std::stringstream ss;
  out.save_to(ss);
  SwarmLoss b(paper(LossKind::MSE));
  torch::serialize::InputArchive in;
  in.load_from(ss);
  b.load(in);
  y.mutable_grad() = torch::Tensor();
  a(y, t).backward();
  auto ga = y.grad().clone();
  y.mutable_grad() = torch::Tensor();
  b(y, t).backward();
  EXPECT_TRUE(torch::equal(ga, y.grad()));
}

namespace adaswarm::swarm::detail {
void force_isa_for_testing(int isa);  // src/lib/swarm/swarm.cpp: -1 = the machine's best
}

namespace {
// Three steps of `loss` on fresh [B, C] outputs (seeded): values and gradients, one tensor.
torch::Tensor three_steps(SwarmLoss& loss, const torch::Tensor& t, int64_t B, int64_t C, double scale) {
  std::vector<torch::Tensor> out;
  for (int step = 0; step < 3; ++step) {
    auto y = (torch::randn({B, C}) * scale).requires_grad_(true);
    auto l = loss(y, t);
    l.backward();
    out.push_back(l.detach().reshape({1}));
    out.push_back(y.grad().reshape({-1}));
  }
  return torch::cat(out);
}
}  // namespace

// The engine's passes (moves, bests, NaN check) and the element-wise fitness
// loops are compiled for AVX-512, AVX2 and the baseline and picked at run time:
// every path must give the same bits (values and gradients over a few steps,
// warm and cold, per-element / per-row / whole-batch bests). On a machine
// without AVX-512 (or AVX2) the missing paths fall back to the best it has.
TEST(SwarmLoss, EveryInstructionSetPathGivesTheSameBits) {
  struct Case {
    LossKind kind;
    Bests bests;
    Preset preset;
    int64_t C;
    bool warm;
  };
  const Case cases[] = {{LossKind::MSE, Bests::Element, Preset::Search, 1, false},
                        {LossKind::MSE, Bests::Row, Preset::Search, 3, true},
                        {LossKind::MAE, Bests::Element, Preset::Paper, 2, true},
                        {LossKind::Huber, Bests::Row, Preset::Paper, 1, false},
                        {LossKind::SmoothL1, Bests::Batch, Preset::Search, 2, false},
                        {LossKind::CrossEntropy, Bests::Row, Preset::Paper, 5, true}};
  for (const auto& c : cases) {
    auto run = [&](int isa) {
      swarm::detail::force_isa_for_testing(isa);
      auto o = SwarmLossOptions::preset(c.preset).loss(c.kind).bests(c.bests).warm_start(c.warm);
      o.swarm().seed(17);
      SwarmLoss loss(o);
      torch::manual_seed(3);
      const int64_t B = 37;  // not a multiple of any vector width
      auto t = c.kind == LossKind::CrossEntropy ? torch::randint(0, c.C, {B}, torch::kLong) : torch::randn({B, c.C});
      const auto got = three_steps(loss, t, B, c.C, 2.0);
      swarm::detail::force_isa_for_testing(-1);
      return got;
    };
    const auto base = run(0);
    for (int isa : {1, 2}) {
      const auto got = run(isa);
      EXPECT_TRUE(torch::equal(got, base)) << to_string(c.kind) << " isa " << isa << " max diff "
                                           << (got - base).abs().max().item<double>();
    }
  }
  // A per-element custom kernel with per-row bests (the row sums and scaling around it).
  for (int64_t C : {1, 3}) {
    auto run = [&](int isa) {
      swarm::detail::force_isa_for_testing(isa);
      auto o = SwarmLossOptions::preset(Preset::Paper).loss(LossKind::Custom).bests(Bests::Row);
      o.swarm().seed(5);
      CustomKernel k{[](const float* pos, int64_t P, int64_t B, int64_t Cc, const torch::Tensor& t, float* out) {
                       const float* tp = t.data_ptr<float>();
                       const int64_t D = B * Cc;
                       for (int64_t i = 0; i < P; ++i)
                         for (int64_t j = 0; j < D; ++j) out[i * D + j] = std::fabs(pos[i * D + j] - tp[j]) * 0.3f;
                     },
                     true};
      SwarmLoss loss(o, k);
      torch::manual_seed(8);
      auto t = torch::randn({29, C});
      const auto got = three_steps(loss, t, 29, C, 1.0);
      swarm::detail::force_isa_for_testing(-1);
      return got;
    };
    const auto base = run(0);
    for (int isa : {1, 2}) EXPECT_TRUE(torch::equal(run(isa), base)) << "custom kernel, C " << C << " isa " << isa;
  }
}

// SwarmLoss::set_threads: the batch's rows searched in slices on threads give
// the gradient and diagnostics of one thread bit for bit (built-in losses with
// per-row and per-element bests, class indices, CustomKernels with a [B, 2]
// target, batches that the threads do not divide, several steps so that the
// generator carries over); what cannot be sliced runs on one thread; an error
// in a slice is the one-thread error, naming the batch's row.
namespace {
// Per element: 2 - cos(3 (y - t0)) - cos(2 (y - t1)) with a [B, 2] target.
CustomKernel two_phase_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t C, const at::Tensor& target, float* out) {
            const float* t = target.data_ptr<float>();
            for (int64_t i = 0; i < P; ++i)
              for (int64_t b = 0; b < B; ++b)
                for (int64_t c = 0; c < C; ++c) {
                  const float y = pos[(i * B + b) * C + c];
                  out[(i * B + b) * C + c] = 2.0f - std::cos(3.0f * (y - t[2 * b])) - std::cos(2.0f * (y - t[2 * b + 1]));
                }
          },
          true};
}
// Per row: the number of elements of the row farther than 0.5 from the target.
CustomKernel far_count_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t C, const at::Tensor& target, float* out) {
            const float* t = target.data_ptr<float>();
            for (int64_t i = 0; i < P; ++i)
              for (int64_t b = 0; b < B; ++b) {
                float n = 0;
                for (int64_t c = 0; c < C; ++c) n += std::fabs(pos[(i * B + b) * C + c] - t[b * C + c]) > 0.5f;
                out[i * B + b] = n;
              }
          },
          false};
}

struct ThreadsCase {
  std::string name;
  std::function<SwarmLoss()> make;
  std::function<torch::Tensor(int64_t step)> target;
  int64_t B, C;
  int64_t expected_slices;  // at threads 3 with 4 OpenMP threads
};

struct OmpThreads {  // at::set_num_threads sets OpenMP's count too; restored after
  int saved = at::get_num_threads();
  explicit OmpThreads(int n) { at::set_num_threads(n); }
  ~OmpThreads() { at::set_num_threads(saved); }
};
}  // namespace

TEST(SwarmLoss, ThreadsGiveTheSameGradientBitForBit) {
  OmpThreads omp(4);
  const auto search = [] {
    return SwarmLossOptions::preset(Preset::Search).loss(LossKind::Custom);
  };
  std::vector<ThreadsCase> cases;
  cases.push_back({"mse rows", [] { return SwarmLoss(paper(LossKind::MSE)); },
                   [](int64_t s) { return torch::randn({37, 3}, torch::Generator(at::detail::createCPUGenerator(s))); },
                   37, 3, 3});
  cases.push_back({"ce indices", [] { return SwarmLoss(paper(LossKind::CrossEntropy)); },
                   [](int64_t s) {
                     return torch::randint(0, 4, {20}, torch::Generator(at::detail::createCPUGenerator(s)));
                   },
                   20, 4, 3});
  cases.push_back({"mse elements",
                   [] { return SwarmLoss(paper(LossKind::MSE).bests(Bests::Element).start_span(2.0)); },
                   [](int64_t s) { return torch::randn({11, 2}, torch::Generator(at::detail::createCPUGenerator(s))); },
                   11, 2, 3});
  cases.push_back({"kernel [B, 2] target", [&] { return SwarmLoss(search(), two_phase_kernel()); },
                   [](int64_t s) { return torch::rand({50, 2}, torch::Generator(at::detail::createCPUGenerator(s))) * 6; },
                   50, 1, 3});
  cases.push_back({"kernel per row",
                   [] { return SwarmLoss(SwarmLossOptions().loss(LossKind::Custom), far_count_kernel()); },
                   [](int64_t s) { return torch::randn({9, 5}, torch::Generator(at::detail::createCPUGenerator(s))); },
                   9, 5, 3});
  cases.push_back({"two rows", [] { return SwarmLoss(paper(LossKind::MAE)); },
                   [](int64_t s) { return torch::randn({2, 3}, torch::Generator(at::detail::createCPUGenerator(s))); },
                   2, 3, 2});  // no more slices than rows
  cases.push_back({"batch bests", [] { return SwarmLoss(paper(LossKind::MSE).fitness_per_sample(false)); },
                   [](int64_t s) { return torch::randn({12, 2}, torch::Generator(at::detail::createCPUGenerator(s))); },
                   12, 2, 1});  // one fitness for the batch: not sliced
  cases.push_back({"tensor custom loss",
                   [] {
                     return SwarmLoss(SwarmLossOptions().loss(LossKind::Custom),
                                      CustomLossFn([](const torch::Tensor& p, const torch::Tensor& t) {
                                        return (p - t.unsqueeze(0)).abs();
                                      }));
                   },
                   [](int64_t s) { return torch::randn({12, 2}, torch::Generator(at::detail::createCPUGenerator(s))); },
                   12, 2, 1});
  cases.push_back({"warm start", [] { return SwarmLoss(paper(LossKind::MSE).warm_start(true)); },
                   [](int64_t s) { return torch::randn({12, 2}, torch::Generator(at::detail::createCPUGenerator(s))); },
                   12, 2, 1});
  for (const auto& c : cases) {
    SwarmLoss one = c.make(), three = c.make();
    three.set_threads(3);
    EXPECT_EQ(three.threads(), 3);
    for (int64_t step = 0; step < 3; ++step) {
      const auto y0 = torch::randn({c.B, c.C}, torch::Generator(at::detail::createCPUGenerator(100 + step)));
      const auto t = c.target(step);
      auto grad_of = [&](SwarmLoss& l) {
        auto y = y0.clone().requires_grad_(true);
        l(y, t).backward();
        return y.grad().clone();
      };
      const auto g1 = grad_of(one), g3 = grad_of(three);
      EXPECT_TRUE(torch::equal(g1, g3)) << c.name << " step " << step << " max diff "
                                        << (g1 - g3).abs().max().item<float>();
      EXPECT_GT(g1.abs().sum().item<float>(), 0.0f) << c.name;  // the search did something
      const auto &d1 = one.diagnostics(), &d3 = three.diagnostics();
      EXPECT_EQ(d1.threads, 1) << c.name;
      EXPECT_EQ(d3.threads, c.expected_slices) << c.name;
      EXPECT_EQ(d1.best_fitness, d3.best_fitness) << c.name;
      EXPECT_EQ(d1.cbar, d3.cbar) << c.name;
      EXPECT_EQ(d1.groups, d3.groups) << c.name;
      EXPECT_EQ(d1.moved_share, d3.moved_share) << c.name;
      EXPECT_EQ(d1.flat_share, d3.flat_share) << c.name;
      EXPECT_EQ(d1.blind, d3.blind) << c.name;
      EXPECT_EQ(d1.iterations, d3.iterations) << c.name;
      EXPECT_EQ(d1.evaluations, d3.evaluations) << c.name;
      EXPECT_TRUE(d1.span == d3.span || (std::isnan(d1.span) && std::isnan(d3.span))) << c.name;
      EXPECT_EQ(three.last_swarm() == nullptr, c.expected_slices > 1) << c.name;
    }
  }
  // Held at one OpenMP thread (a worker of `tables` / `usecases --jobs`): one slice, same bits.
  {
    OmpThreads single(1);
    SwarmLoss one(paper(LossKind::MSE)), many(paper(LossKind::MSE));
    many.set_threads(8);
    const auto y0 = torch::randn({16, 2}), t = torch::randn({16, 2});
    auto y1 = y0.clone().requires_grad_(true), y2 = y0.clone().requires_grad_(true);
    one(y1, t).backward();
    many(y2, t).backward();
    EXPECT_TRUE(torch::equal(y1.grad(), y2.grad()));
    EXPECT_EQ(many.diagnostics().threads, 1);
  }
  SwarmLoss l(paper(LossKind::MSE));
  for (int64_t bad : {0, -2}) {
    try {
      l.set_threads(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("threads must be >= 1, got " + std::to_string(bad)), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(l.threads(), 1);
}

TEST(SwarmLoss, AnErrorInASliceNamesTheBatchRowAsOnOneThread) {
  OmpThreads omp(4);
  // NaN for every candidate of row 25 of 30: the third slice's sixth row.
  CustomKernel nan_row{[](const float* pos, int64_t P, int64_t B, int64_t C, const at::Tensor& target, float* out) {
                         const float* t = target.data_ptr<float>();
                         for (int64_t i = 0; i < P; ++i)
                           for (int64_t b = 0; b < B; ++b)
                             for (int64_t c = 0; c < C; ++c) {
                               const int64_t k = (i * B + b) * C + c;
                               // NaN in the search only (P > 1); the forward's value (P = 1) is finite.
                               out[k] = P > 1 && t[b * 2 + 1] > 0.5f ? std::nanf("") : std::fabs(pos[k] - t[b * 2]);
                             }
                       },
                       true};
  auto t = torch::zeros({30, 2});
  t[25][1] = 1.0f;
  const auto y0 = torch::randn({30, 1});
  auto message = [&](int64_t threads) {
    SwarmLoss l(SwarmLossOptions::preset(Preset::Search).loss(LossKind::Custom), nan_row);
    l.set_threads(threads);
    auto y = y0.clone().requires_grad_(true);
    try {
      l(y, t).backward();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string one = message(1);
  EXPECT_NE(one.find("NaN for particle 0 row 25"), std::string::npos) << one;
  EXPECT_EQ(message(3), one);
}
