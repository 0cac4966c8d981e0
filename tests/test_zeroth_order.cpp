// Zeroth-order estimates of dL/dy (SPSA, antithetic Gaussian smoothing): they
// converge to the true gradient as the number of pairs grows, cost exactly 2k
// evaluations in one batched call, are reproducible from their seed, reject bad
// options, and the built-in batched losses agree with plain_loss.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>

#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/loss/zeroth_order.h"
#include "expect_error.h"

using namespace adaswarm;
using adaswarm::testing::expect_error;

namespace {

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  auto x = a.reshape({-1}).to(torch::kDouble), y = b.reshape({-1}).to(torch::kDouble);
  return (x * y).sum().item<double>() / (x.norm().item<double>() * y.norm().item<double>());
}

/// L(y) = sum_j a_j (y_j - b_j)^2 / 2 + w . y ; gradient a * (y - b) + w.
struct Quadratic {
  torch::Tensor a, b, w;
  explicit Quadratic(int64_t B, int64_t C) {
    torch::manual_seed(3);
    a = torch::rand({B, C}, torch::kDouble) + 0.5;
    b = torch::randn({B, C}, torch::kDouble);
    w = 0.3 * torch::randn({B, C}, torch::kDouble);
  }
  BatchedLossFn fn() const {
    auto A = a, Bv = b, W = w;
    return [A, Bv, W](const torch::Tensor& cand) {
      auto d = cand - Bv.unsqueeze(0);
      return (0.5 * A.unsqueeze(0) * d * d + W.unsqueeze(0) * cand).sum({1, 2});
    };
  }
  torch::Tensor grad(const torch::Tensor& y) const { return a * (y.to(torch::kDouble) - b) + w; }
};

ZerothOrderOptions zo(int64_t k, uint64_t seed = 1) {
  ZerothOrderOptions o;
  o.pairs(k).step(1e-2).seed(seed);
  return o;
}

}  // namespace

TEST(ZerothOrder, BothEstimatorsConvergeToTheTrueGradientAsPairsGrow) {
  const int64_t B = 4, C = 5;  // D = 20
  Quadratic q(B, C);
  torch::manual_seed(9);
  auto y = torch::randn({B, C});
  const auto truth = q.grad(y);
  for (ZerothOrder m : {ZerothOrder::SPSA, ZerothOrder::Gaussian}) {
    SCOPED_TRACE(to_string(m));
    // mean cosine over a few seeds at k = 1 (noisy) and one large-k estimate
    double small = 0;
    for (uint64_t s = 1; s <= 8; ++s) small += cosine(zeroth_order_gradient(m, q.fn(), y, zo(1, s)).grad, truth) / 8;
    const auto big = zeroth_order_gradient(m, q.fn(), y, zo(4000, 5));
    const double c_big = cosine(big.grad, truth);
    EXPECT_GT(c_big, 0.99);
    EXPECT_LT(small, 0.8);
    EXPECT_LT(small, c_big);
    // |g_hat|^2 ~ |g|^2 (1 + D / k): the norm ratio tends to 1
    const double ratio = big.grad.to(torch::kDouble).norm().item<double>() / truth.norm().item<double>();
    EXPECT_GT(ratio, 0.95);
    EXPECT_LT(ratio, 1.1);
    EXPECT_EQ(big.grad.sizes(), y.sizes());
    EXPECT_EQ(big.grad.scalar_type(), y.scalar_type());
  }
}

TEST(ZerothOrder, SpsaOnALinearLossAtOnePairIsTheProjectionOnItsDirection) {
  // L = w . y: (L(y + cD) - L(y - cD)) / 2c = w . D exactly, so g_hat = (w . D) D
  // with D in {-1, +1}: every entry has magnitude |w . D|.
  torch::manual_seed(4);
  auto w = torch::randn({3, 4}, torch::kDouble);
  BatchedLossFn lin = [w](const torch::Tensor& cand) { return (cand * w.unsqueeze(0)).sum({1, 2}); };
  auto y = torch::randn({3, 4}, torch::kDouble);
  auto est = spsa_gradient(lin, y, zo(1, 11));
  auto mag = est.grad.abs();
  EXPECT_TRUE(torch::allclose(mag, mag.flatten()[0].expand_as(mag), 1e-9, 1e-9));
  // g_hat = s D with s = w . D, so w . sign(g_hat) = sign(s) (w . D) = |s|
  EXPECT_NEAR((w * est.grad.sign()).sum().item<double>(), est.grad.flatten()[0].abs().item<double>(), 1e-9);
}

TEST(ZerothOrder, PerRowReadingsOfASeparableLossConvergeFaster) {
  // L = sum over rows of a row-only quadratic: the row shares give B readings per
  // evaluation, so at the same k the per-row estimate is closer to the gradient.
  const int64_t B = 8, C = 3;
  Quadratic q(B, C);
  auto A = q.a, Bv = q.b, W = q.w;
  BatchedLossFn rows = [A, Bv, W](const torch::Tensor& cand) {
    auto d = cand - Bv.unsqueeze(0);
    return (0.5 * A.unsqueeze(0) * d * d + W.unsqueeze(0) * cand).sum(2);  // [N, B]
  };
  auto y = torch::randn({B, C});
  const auto truth = q.grad(y);
  for (ZerothOrder m : {ZerothOrder::SPSA, ZerothOrder::Gaussian}) {
    double whole = 0, per_row = 0;
    for (uint64_t s = 1; s <= 10; ++s) {
      whole += cosine(zeroth_order_gradient(m, q.fn(), y, zo(10, s)).grad, truth) / 10;
      per_row += cosine(zeroth_order_gradient(m, rows, y, zo(10, s).per_row(true)).grad, truth) / 10;
    }
    EXPECT_GT(per_row, whole + 0.1) << to_string(m);
    EXPECT_GT(cosine(zeroth_order_gradient(m, rows, y, zo(2000, 3).per_row(true)).grad, truth), 0.99);
  }
  // the row shares must come as [2k, B]
  EXPECT_THROW(zeroth_order_gradient(ZerothOrder::SPSA, q.fn(), y, zo(3).per_row(true)), std::invalid_argument);
}

TEST(ZerothOrder, CostsExactlyTwoKEvaluationsInOneBatchedCall) {
  Quadratic q(2, 3);
  auto y = torch::zeros({2, 3});
  for (int64_t k : {1, 7, 30}) {
    int calls = 0;
    int64_t seen = 0;
    auto base = q.fn();
    BatchedLossFn counting = [&](const torch::Tensor& cand) {
      ++calls;
      seen += cand.size(0);
      EXPECT_EQ(cand.dim(), 3);
      EXPECT_EQ(cand.size(1), 2);
      EXPECT_EQ(cand.size(2), 3);
      return base(cand);
    };
    for (ZerothOrder m : {ZerothOrder::SPSA, ZerothOrder::Gaussian}) {
      calls = 0;
      seen = 0;
      auto est = zeroth_order_gradient(m, counting, y, zo(k));
      EXPECT_EQ(est.evaluations, 2 * k);
      EXPECT_EQ(seen, 2 * k);
      EXPECT_EQ(calls, 1);
    }
  }
}

TEST(ZerothOrder, SameSeedSameEstimateOtherSeedOrStreamAnother) {
  Quadratic q(3, 4);
  auto y = torch::randn({3, 4});
  for (ZerothOrder m : {ZerothOrder::SPSA, ZerothOrder::Gaussian}) {
    auto a = zeroth_order_gradient(m, q.fn(), y, zo(5, 42)).grad;
    auto b = zeroth_order_gradient(m, q.fn(), y, zo(5, 42)).grad;
    auto c = zeroth_order_gradient(m, q.fn(), y, zo(5, 43)).grad;
    auto d = zeroth_order_gradient(m, q.fn(), y, zo(5, 42).stream(1)).grad;
    EXPECT_TRUE(torch::equal(a, b));
    EXPECT_FALSE(torch::equal(a, c));
    EXPECT_FALSE(torch::equal(a, d));
  }
  // the two methods draw different directions from the same seed
  EXPECT_FALSE(torch::equal(spsa_gradient(q.fn(), y, zo(5, 42)).grad, gaussian_gradient(q.fn(), y, zo(5, 42)).grad));
}

TEST(ZerothOrder, GaussianDirectionsAreStandardNormal) {
  // With L = w . y, g_hat = (1/k) sum (w . u) u; its expectation is w and, for
  // w = e_1, the first coordinate averages u_1^2 (mean 1), the others u_1 u_j (mean 0).
  auto w = torch::zeros({1, 50}, torch::kDouble);
  w[0][0] = 1.0;
  BatchedLossFn lin = [w](const torch::Tensor& cand) { return (cand * w.unsqueeze(0)).sum({1, 2}); };
  auto est = gaussian_gradient(lin, torch::zeros({1, 50}), zo(20000, 3));
  auto g = est.grad.to(torch::kDouble).flatten();
  EXPECT_NEAR(g[0].item<double>(), 1.0, 0.05);
  EXPECT_LT(g.slice(0, 1).abs().max().item<double>(), 0.05);
}

TEST(ZerothOrder, RejectsBadOptionsNamingThem) {
  Quadratic q(2, 2);
  auto y = torch::zeros({2, 2});
  auto expect_msg = [&](ZerothOrderOptions o, const std::string& word) {
    try {
      spsa_gradient(q.fn(), y, o);
      ADD_FAILURE() << "no exception for " << word;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  };
  expect_msg(zo(0), "pairs");
  expect_msg(zo(-3), "pairs");
  expect_msg(zo(2).step(0.0), "step");
  expect_msg(zo(2).step(-0.1), "step");
  expect_msg(zo(2).step(std::numeric_limits<double>::quiet_NaN()), "step");
  expect_msg(zo(2).step(std::numeric_limits<double>::infinity()), "step");
  EXPECT_THROW(zeroth_order_from_string("adam"), std::invalid_argument);
  EXPECT_EQ(zeroth_order_from_string("gaussian"), ZerothOrder::Gaussian);
  // bad outputs and bad losses
  EXPECT_THROW(spsa_gradient(q.fn(), torch::zeros({2, 2, 2}), zo(1)), std::invalid_argument);
  EXPECT_THROW(spsa_gradient(q.fn(), torch::full({2, 2}, std::nan("")), zo(1)), std::invalid_argument);
  EXPECT_THROW(spsa_gradient(q.fn(), torch::zeros({2, 2}, torch::kLong), zo(1)), std::invalid_argument);
  BatchedLossFn wrong = [](const torch::Tensor& c) { return torch::zeros({c.size(0) + 1}); };
  EXPECT_THROW(spsa_gradient(wrong, y, zo(2)), std::invalid_argument);
  BatchedLossFn nan = [](const torch::Tensor& c) { return torch::full({c.size(0)}, std::nan("")); };
  EXPECT_THROW(spsa_gradient(nan, y, zo(2)), std::invalid_argument);
  EXPECT_THROW(batched_loss(LossKind::Custom, y), std::invalid_argument);
}

TEST(ZerothOrder, BatchedBuiltInLossesMatchPlainLossPerCandidate) {
  torch::manual_seed(5);
  const int64_t N = 3, B = 5, C = 4;
  auto cand = 2 * torch::randn({N, B, C}, torch::kDouble);
  auto idx = torch::randint(0, C, {B}, torch::kLong);
  auto onehot = torch::one_hot(idx, C).to(torch::kFloat);
  auto reg = torch::randn({B, C});
  struct Case {
    LossKind k;
    torch::Tensor t;
  };
  for (const Case& cs : {Case{LossKind::MSE, reg}, Case{LossKind::MAE, reg}, Case{LossKind::Huber, reg},
                         Case{LossKind::SmoothL1, reg}, Case{LossKind::BCEWithLogits, onehot},
                         Case{LossKind::CrossEntropy, idx}, Case{LossKind::CrossEntropy, onehot},
                         Case{LossKind::Hinge, idx}, Case{LossKind::Hinge, onehot}}) {
    for (Reduction r : {Reduction::Mean, Reduction::Sum}) {
      SCOPED_TRACE(std::string(to_string(cs.k)) + (r == Reduction::Mean ? " mean" : " sum"));
      auto v = batched_loss(cs.k, cs.t, r, 0.7)(cand);
      ASSERT_EQ(v.numel(), N);
      auto shares = batched_loss(cs.k, cs.t, r, 0.7, /*per_row=*/true)(cand);
      ASSERT_EQ(shares.sizes(), (std::vector<int64_t>{N, B}));
      EXPECT_TRUE(torch::allclose(shares.sum(1), v, 1e-12, 1e-12));
      for (int64_t n = 0; n < N; ++n) {
        const double want = plain_loss(cs.k, cand[n], cs.t.is_floating_point() ? cs.t.to(torch::kDouble) : cs.t, r, 0.7)
                                .item<double>();
        EXPECT_NEAR(v[n].item<double>(), want, 1e-9 * (1 + std::abs(want)));
      }
    }
  }
}

TEST(ZerothOrder, EstimatesAutogradsGradientOfBuiltInLosses) {
  torch::manual_seed(6);
  auto y = torch::randn({4, 3});
  auto idx = torch::randint(0, 3, {4}, torch::kLong);
  for (LossKind k : {LossKind::MSE, LossKind::CrossEntropy, LossKind::BCEWithLogits}) {
    SCOPED_TRACE(to_string(k));
    auto t = k == LossKind::CrossEntropy ? idx : torch::one_hot(idx, 3).to(torch::kFloat);
    auto yv = y.clone().requires_grad_(true);
    plain_loss(k, yv, t).backward();
    auto est = spsa_gradient(batched_loss(k, t), y, zo(3000, 8));
    EXPECT_GT(cosine(est.grad, yv.grad()), 0.99);
  }
}

// Found by the 2026-12-03 API audit.
TEST(ZerothOrder, RefusesAReshapedTargetTooManyPairsAStepBelowResolutionAndAnUnknownMethod) {
  const auto y = torch::zeros({2, 3});
  // A [3, 2] target was read as [2, 3].
  expect_error([&] {
    zeroth_order_gradient(ZerothOrder::Gaussian, batched_loss(LossKind::MSE, torch::arange(6.).reshape({3, 2})), y,
                          ZerothOrderOptions().pairs(4));
  }, "does not match candidates [2, 3]");
  // [B] against a [B, 1] output is the same shape.
  EXPECT_NO_THROW(zeroth_order_gradient(ZerothOrder::SPSA, batched_loss(LossKind::MSE, torch::zeros({4})),
                                        torch::zeros({4, 1}), ZerothOrderOptions().pairs(2)));
  expect_error([&] { ZerothOrderOptions().pairs(int64_t{1} << 40).validate(); }, "pairs must be in [1, 1000000]");
  expect_error([&] {
    zeroth_order_gradient(ZerothOrder::SPSA, batched_loss(LossKind::MSE, torch::zeros({1, 1})),
                          torch::zeros({1, 1}).fill_(1e30), ZerothOrderOptions().step(0.01));
  }, "below the resolution of the output");
  expect_error([&] {
    zeroth_order_gradient(static_cast<ZerothOrder>(5), batched_loss(LossKind::MSE, torch::zeros({2, 3})), y,
                          ZerothOrderOptions());
  }, "method is not one of its values");
}
