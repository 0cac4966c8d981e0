// Loss-driven search (SPEC.md section 9): the swarm loss's start modes, spans,
// per-element bests, blind-search diagnostics and gradient scales. The central
// claim is tested with controls: a constant loss must not train under the
// custom default, while losses with a signal (step, 0-1) do.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <sstream>

#include "adaswarm/data/tabular.h"
#include "adaswarm/data/uci.h"
#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/optim/adaswarm.h"

using namespace adaswarm;
using adaswarm::optim::AdaSwarm;
using adaswarm::optim::AdaSwarmOptions;

namespace {

// ---- custom losses --------------------------------------------------------------
CustomLossFn multi_well(double a, double k) {
  return [a, k](const torch::Tensor& pos, const torch::Tensor& t) {
    auto r = pos - t.unsqueeze(0);
    return a * r * r + 1.0 - torch::cos(k * r);
  };
}
CustomLossFn step_loss() {
  return [](const torch::Tensor& pos, const torch::Tensor& t) {
    return (torch::round(pos) - torch::round(t).unsqueeze(0)).abs();
  };
}
CustomLossFn constant_loss() {
  return [](const torch::Tensor& pos, const torch::Tensor&) { return torch::zeros_like(pos); };
}
/// 0-1 loss of class indices: [P, B].
CustomLossFn zero_one() {
  return [](const torch::Tensor& pos, const torch::Tensor& t) {
    return (pos.argmax(-1) != t.unsqueeze(0)).to(torch::kFloat);
  };
}

// ---- 1-D regression: network 1-32-1 tanh, full batch ------------------------------
struct Regression {
  torch::Tensor x, t;
};
Regression regression_data() {
  auto x = torch::linspace(-2, 2, 200).unsqueeze(1);
  auto t = 6 * torch::sin(2 * x) + 3 * x;
  return {x, t};
}
torch::nn::Sequential regression_net(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(1, 32), torch::nn::Tanh(), torch::nn::Linear(32, 1));
}
double mse_of(torch::nn::Sequential& net, const Regression& d) {
  torch::NoGradGuard ng;
  return torch::mse_loss(net->forward(d.x), d.t).item<double>();
}
/// Final MSE after `steps` AdaSwarm steps (Adam lr 0.05) on the swarm loss.
double train_regression(SwarmLossOptions so, CustomLossFn fn, uint64_t seed, int steps = 250) {
  const auto d = regression_data();
  auto net = regression_net(seed);
  so.swarm().seed(seed);
  AdaSwarm opt(net->parameters(), AdaSwarmOptions(0.05).swarm(so), std::move(fn));
  auto loss_fn = opt.loss();
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    loss_fn(net->forward(d.x), d.t).backward();
    opt.step();
  }
  return mse_of(net, d);
}
double untrained_mse(uint64_t seed) {
  auto net = regression_net(seed);
  return mse_of(net, regression_data());
}

}  // namespace

// ---- classification on the shipped Breast Cancer Wisconsin set (699 rows, 9 features) ----
namespace {
struct Classification {
  torch::Tensor x_train, y_train, x_test, y_test;
  int64_t classes = 2;
};
const Classification& breast_cancer() {
  static const Classification c = [] {
    const auto d = data::load_uci("breast-cancer", ADASWARM_DATA_DIR);
    const auto p = data::prepare(d, data::stratified_split(d.labels, 0.2, 1));
    return Classification{p.x_train, p.y_train, p.x_test, p.y_test, p.num_classes};
  }();
  return c;
}
torch::nn::Sequential classifier(int64_t in, int64_t classes, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(in, 16), torch::nn::ReLU(), torch::nn::Linear(16, classes));
}
double accuracy(torch::nn::Sequential& net, const torch::Tensor& x, const torch::Tensor& y) {
  torch::NoGradGuard ng;
  return (net->forward(x).argmax(1) == y).to(torch::kFloat).mean().item<double>();
}
/// Mini-batches of 64 for `epochs`; `step` runs one batch (zero_grad, loss, backward, step).
void epochs_of(const Classification& d, int epochs, uint64_t seed,
               const std::function<void(const torch::Tensor&, const torch::Tensor&)>& step) {
  torch::manual_seed(seed + 100);
  const int64_t n = d.x_train.size(0);
  for (int e = 0; e < epochs; ++e) {
    auto perm = torch::randperm(n, torch::kLong);
    for (int64_t s = 0; s < n; s += 64) {
      auto idx = perm.slice(0, s, std::min(n, s + 64));
      step(d.x_train.index_select(0, idx), d.y_train.index_select(0, idx));
    }
  }
}
/// Test accuracy of AdaSwarm (Adam lr 0.01) on a custom classification loss.
double train_custom_classifier(SwarmLossOptions so, CustomLossFn fn, uint64_t seed, int epochs = 20) {
  const auto& d = breast_cancer();
  auto net = classifier(d.x_train.size(1), d.classes, seed);
  so.swarm().seed(seed);
  AdaSwarm opt(net->parameters(), AdaSwarmOptions(0.01).swarm(so), std::move(fn));
  auto loss_fn = opt.loss();
  epochs_of(d, epochs, seed, [&](const torch::Tensor& x, const torch::Tensor& y) {
    opt.zero_grad();
    loss_fn(net->forward(x), y).backward();
    opt.step();
  });
  return accuracy(net, d.x_test, d.y_test);
}
}  // namespace

namespace {
SwarmLossOptions custom_default() { return SwarmLossOptions::preset(Preset::Paper).loss(LossKind::Custom); }
torch::Tensor best_of(const SwarmLoss& l, int64_t B, int64_t C) {
  return torch::from_blob(const_cast<float*>(l.last_swarm()->global_best().data()), {B, C}).clone();
}
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no exception)";
}
}  // namespace

// The control of the whole issue: under the custom default (a loss-driven start
// around the output) a loss that gives no signal does not train, while losses
// that carry one (a step loss, a multi-well loss) do.
TEST(SwarmSearch, ConstantLossDoesNotTrainUnderTheCustomDefaultButStepAndMultiWellDo) {
  for (uint64_t seed : {0, 1, 2}) {
    const double before = untrained_mse(seed);
    EXPECT_GT(train_regression(custom_default(), constant_loss(), seed), 0.5 * before) << "seed " << seed;
    EXPECT_LT(train_regression(custom_default(), step_loss(), seed), 0.02 * before) << "seed " << seed;
    EXPECT_LT(train_regression(custom_default(), multi_well(0.1, 3), seed), 0.02 * before) << "seed " << seed;
  }
}

// The original defect: started around the targets, a 0-1 loss is 0 for every
// particle, so the search is blind (and says so); the custom default trains on
// the 0-1 loss, and the constant control under the same default does not.
TEST(SwarmSearch, ZeroOneLossTrainsUnderTheCustomDefaultAndTheConstantControlDoesNot) {
  const auto& d = breast_cancer();
  for (uint64_t seed : {0, 1, 2}) {
    EXPECT_GT(train_custom_classifier(custom_default(), zero_one(), seed), 0.93) << "seed " << seed;
    EXPECT_LT(train_custom_classifier(custom_default(), constant_loss(), seed), 0.8) << "seed " << seed;
  }
  SwarmLoss targets(SwarmLossOptions(custom_default()).start(SwarmStart::Targets).warn_blind_after(3), zero_one());
  auto net = classifier(d.x_train.size(1), d.classes, 0);
  for (int i = 0; i < 3; ++i) {
    targets(net->forward(d.x_train.slice(0, 64 * i, 64 * (i + 1))), d.y_train.slice(0, 64 * i, 64 * (i + 1)))
        .backward();
    EXPECT_TRUE(targets.diagnostics().blind);
    EXPECT_EQ(targets.diagnostics().flat_share, 1.0);
    EXPECT_EQ(targets.diagnostics().start, SwarmStart::Targets);
  }
  EXPECT_NE(targets.diagnostics().warning.find("around the targets"), std::string::npos)
      << targets.diagnostics().warning;
}

// Search mode finds the global basin of a multi-well loss per element, from
// offsets of several basins in either direction; the paper's small output
// start stays in the current basin.
TEST(SwarmSearch, SearchPresetFindsTheGlobalBasinOfMultiWellLosses) {
  torch::manual_seed(7);
  const int64_t B = 200;
  for (const auto& [a, k] : std::vector<std::pair<double, double>>{{0.1, 3.0}, {0.05, 5.0}}) {
    const double spacing = 2 * M_PI / k;
    auto y = torch::randn({B, 1}).requires_grad_(true);
    // Targets 0 to 1.6 basins away, either side: never in the output's own basin only.
    auto t = y.detach() + (torch::rand({B, 1}) * 3.2 - 1.6) * spacing;
    auto so = SwarmLossOptions::preset(Preset::Search).loss(LossKind::Custom);
    so.swarm().seed(3);
    SwarmLoss search(so, multi_well(a, k));
    search(y, t).backward();
    const auto g = best_of(search, B, 1);
    const double in_global = ((g - t).abs() < 0.5 * spacing).to(torch::kFloat).mean().item<double>();
    EXPECT_GT(in_global, 0.9) << "a " << a << " k " << k;
    // The gradient points toward the target for those elements.
    EXPECT_GT(((y.grad() * (y.detach() - t)) > 0).to(torch::kFloat).mean().item<double>(), 0.85);
    // Control: the output start with the paper's small noise does not.
    auto local = SwarmLossOptions::preset(Preset::Paper).loss(LossKind::Custom).start(SwarmStart::Output);
    local.swarm().seed(3);
    SwarmLoss near(local, multi_well(a, k));
    near(y, t).backward();
    const auto gl = best_of(near, B, 1);
    EXPECT_LT(((gl - t).abs() < 0.5 * spacing).to(torch::kFloat).mean().item<double>(), 0.6);
    EXPECT_EQ(search.diagnostics().groups, B);
  }
}

// Per-element bests pick each element's best candidate; per-row bests keep a
// row's elements together. From the same start (no iterations), every element
// of the per-element best is at least as good, and some are strictly better.
TEST(SwarmSearch, PerElementBestsDifferFromPerRowBests) {
  torch::manual_seed(2);
  const int64_t B = 16, C = 3;
  auto y = torch::randn({B, C}).requires_grad_(true);
  auto t = torch::randn({B, C});
  auto run = [&](Bests bests) {
    auto so = SwarmLossOptions::preset(Preset::Paper).loss(LossKind::MAE).bests(bests).start(SwarmStart::Output)
                  .start_span(2.0).grad_scale(GradScale::Unit);
    so.swarm().seed(5).iterations(0);
    SwarmLoss l(so);
    l(y, t).backward();
    return std::make_pair(best_of(l, B, C), l.diagnostics().groups);
  };
  const auto [ge, groups_e] = run(Bests::Element);
  const auto [gr, groups_r] = run(Bests::Row);
  const auto [gb, groups_b] = run(Bests::Batch);
  EXPECT_EQ(groups_e, B * C);
  EXPECT_EQ(groups_r, B);
  EXPECT_EQ(groups_b, 1);
  const auto le = (ge - t).abs(), lr = (gr - t).abs();
  EXPECT_TRUE((le <= lr + 1e-6).all().item<bool>());
  EXPECT_GT((le < lr - 1e-4).sum().item<int64_t>(), B);  // better in many elements
  EXPECT_LE(lr.sum(1).sub(le.sum(1)).min().item<double>() >= -1e-5, true);
  EXPECT_LE(lr.sum().item<double>(), (gb - t).abs().sum().item<double>() + 1e-4);
  // Per-element bests need per-element losses.
  auto ce = SwarmLossOptions::preset(Preset::Paper).loss(LossKind::CrossEntropy);
  EXPECT_THROW(SwarmLoss(SwarmLossOptions(ce).bests(Bests::Element)), std::invalid_argument);
  auto per_row_custom = [](const torch::Tensor& pos, const torch::Tensor& tt) {
    return (pos - tt.unsqueeze(0)).abs().sum(2);
  };
  SwarmLoss rows_only(SwarmLossOptions(custom_default()).bests(Bests::Element), per_row_custom);
  EXPECT_NE(message_of([&] { rows_only(y, t); }).find("per-element"), std::string::npos);
}

// A custom loss gets its target as given (two wrapped phases for one output);
// starts that need the target's shape refuse it, naming both shapes.
TEST(SwarmSearch, CustomLossesTakeTargetsOfAnyShape) {
  const int64_t B = 32;
  torch::manual_seed(4);
  auto d = torch::rand({B, 1}) * 4;  // the truth
  auto phases = torch::cat({torch::remainder(4 * M_PI * d / 1.0, 2 * M_PI), torch::remainder(4 * M_PI * d / 1.3, 2 * M_PI)}, 1);
  std::vector<int64_t> seen;
  CustomLossFn unwrap = [&](const torch::Tensor& pos, const torch::Tensor& phi) {
    seen = phi.sizes().vec();
    return (1 - torch::cos(4 * M_PI * pos / 1.0 - phi.select(1, 0).view({1, -1, 1}))) +
           (1 - torch::cos(4 * M_PI * pos / 1.3 - phi.select(1, 1).view({1, -1, 1})));
  };
  auto y = torch::zeros({B, 1}).requires_grad_(true);
  SwarmLoss auto_start(custom_default(), unwrap);
  auto v = auto_start(y, phases);
  v.backward();
  EXPECT_EQ(seen, (std::vector<int64_t>{B, 2}));
  EXPECT_EQ(auto_start.diagnostics().start, SwarmStart::Output);
  EXPECT_TRUE(torch::isfinite(y.grad()).all().item<bool>());
  SwarmLoss targets(SwarmLossOptions(custom_default()).start(SwarmStart::Targets), unwrap);
  const auto msg = message_of([&] { targets(y, phases); });
  EXPECT_NE(msg.find("[32, 1]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[32, 2]"), std::string::npos) << msg;
  // A centre of the wrong shape is refused the same way; the right one is used.
  SwarmLoss centred(SwarmLossOptions(custom_default()).start(SwarmStart::Center).start_span(0.01), unwrap);
  EXPECT_NE(message_of([&] { centred(y, phases); }).find("set_center"), std::string::npos);
  centred.set_center(torch::zeros({B, 2}));
  const auto msg2 = message_of([&] { centred(y, phases); });
  EXPECT_NE(msg2.find("[32, 2]"), std::string::npos) << msg2;
  centred.set_center(d);  // the truth as the centre: the best stays within the span of it
  y.mutable_grad() = torch::Tensor();
  centred(y, phases).backward();
  EXPECT_LT((best_of(centred, B, 1) - d).abs().max().item<double>(), 0.0101);
  // Built-in losses still need matching targets.
  SwarmLoss mse(SwarmLossOptions::preset(Preset::Paper));
  EXPECT_THROW(mse(y, phases), std::invalid_argument);
}

// Spans: symmetric U(-s, s) around the centre; span_scale follows the output's
// spread; Previous starts from the last batch's best.
TEST(SwarmSearch, StartSpansAndPreviousStart) {
  torch::manual_seed(6);
  const int64_t B = 50;
  auto y = (torch::randn({B, 2}) * torch::tensor({1.0, 10.0})).requires_grad_(true);
  auto t = torch::zeros({B, 2});
  auto so = SwarmLossOptions::preset(Preset::Paper).loss(LossKind::MSE).start(SwarmStart::Output).start_span(0.5)
                .grad_scale(GradScale::Unit);
  so.swarm().iterations(0).particles(30);
  SwarmLoss fixed(so);
  fixed(y, t).backward();
  const auto pos = torch::from_blob(const_cast<float*>(fixed.last_swarm()->positions().data()), {30, B, 2}).clone();
  const auto off = pos - y.detach().unsqueeze(0);
  EXPECT_LE(off.abs().max().item<double>(), 0.5);
  EXPECT_GT(off.abs().max().item<double>(), 0.45);
  EXPECT_LT(off.mean().abs().item<double>(), 0.05);  // symmetric
  EXPECT_DOUBLE_EQ(fixed.diagnostics().span, 0.5);
  SwarmLoss scaled(SwarmLossOptions(so).span_scale(1.0));
  scaled(y, t).backward();
  const auto pos2 = torch::from_blob(const_cast<float*>(scaled.last_swarm()->positions().data()), {30, B, 2}).clone();
  const auto off2 = (pos2 - y.detach().unsqueeze(0)).abs().amax({0, 1});
  const auto sd = y.detach().std(0, /*unbiased=*/false);
  EXPECT_LE(off2[1].item<double>(), sd[1].item<double>() + 1e-4);
  EXPECT_GT(off2[1].item<double>(), 0.9 * sd[1].item<double>());
  EXPECT_LE(off2[0].item<double>(), std::max(0.5, sd[0].item<double>()) + 1e-4);
  // Previous: the second batch starts around the first batch's best.
  auto po = SwarmLossOptions(so).start(SwarmStart::Previous).start_span(1e-3);
  po.swarm().iterations(5);
  SwarmLoss prev(po);
  prev(y, t).backward();
  const auto g1 = best_of(prev, B, 2);
  auto y2 = (y.detach() + 100).requires_grad_(true);
  prev(y2, t).backward();
  EXPECT_LT((best_of(prev, B, 2) - g1).abs().max().item<double>(), 2e-3 + 1e-6);
  EXPECT_EQ(prev.diagnostics().start, SwarmStart::Previous);
}

TEST(SwarmSearch, BlindWarningFiresForAConstantLossAndNotForMse) {
  torch::manual_seed(8);
  auto y = torch::randn({20, 1}).requires_grad_(true);
  auto t = torch::randn({20, 1});
  SwarmLoss constant(SwarmLossOptions(custom_default()).warn_blind_after(5), constant_loss());
  auto mse_opts = SwarmLossOptions::preset(Preset::Paper).loss(LossKind::MSE).warn_blind_after(5);
  SwarmLoss mse(mse_opts);
  for (int i = 0; i < 6; ++i) {
    constant(y, t).backward();
    mse(y, t).backward();
    EXPECT_EQ(constant.diagnostics().warning.empty(), i < 4) << "batch " << i;
  }
  EXPECT_EQ(constant.diagnostics().blind_streak, 6);
  EXPECT_EQ(constant.diagnostics().moved_share, 0.0);
  EXPECT_TRUE(mse.diagnostics().warning.empty());
  EXPECT_FALSE(mse.diagnostics().blind);
  EXPECT_GT(mse.diagnostics().moved_share, 0.5);
  EXPECT_LT(mse.diagnostics().flat_share, 0.01);
  // 0 turns the warning off.
  SwarmLoss quiet(SwarmLossOptions(custom_default()).warn_blind_after(0), constant_loss());
  for (int i = 0; i < 30; ++i) quiet(y, t).backward();
  EXPECT_TRUE(quiet.diagnostics().warning.empty());
  EXPECT_TRUE(quiet.diagnostics().blind);
}

// Gradient scales: Unit is (y - g) at the reduction's scale, RowClip caps each
// row's norm, Swarm is the paper's (cbar / eta)(y - g).
TEST(SwarmSearch, GradientScales) {
  torch::manual_seed(9);
  const int64_t B = 12, C = 3;
  auto y = (torch::randn({B, C}) * 5).requires_grad_(true);
  auto t = torch::randn({B, C});
  std::map<GradScale, torch::Tensor> grads;
  torch::Tensor g;
  double cbar = 0;
  for (auto gs : {GradScale::Swarm, GradScale::Unit, GradScale::RowClip}) {
    auto so = SwarmLossOptions::preset(Preset::Paper).loss(LossKind::MSE).grad_scale(gs);
    so.swarm().seed(1);
    SwarmLoss l(so);
    y.mutable_grad() = torch::Tensor();
    l(y, t).backward();
    grads[gs] = y.grad().clone();
    g = best_of(l, B, C);
    cbar = l.diagnostics().cbar;
  }
  const auto diff = y.detach() - g;
  EXPECT_TRUE(torch::allclose(grads[GradScale::Unit], diff / (B * C), 1e-5, 1e-7));
  EXPECT_TRUE(torch::allclose(grads[GradScale::Swarm], (cbar / 0.1) * diff / (B * C), 1e-5, 1e-7));
  const auto rn = diff.norm(2, 1, true);
  EXPECT_TRUE(torch::allclose(grads[GradScale::RowClip], diff / rn.clamp_min(1.0) / (B * C), 1e-5, 1e-7));
  EXPECT_LE(grads[GradScale::RowClip].norm(2, 1).max().item<double>(), 1.0 / (B * C) + 1e-7);
}

// Plain SGD on the swarm's cross-entropy gradient: the paper's scale diverges
// at lr 0.1 here; the unit and row-clipped scales train at 0.01 and 0.1 on
// every seed.
TEST(SwarmSearch, SgdWithAScaleOptionTrainsOnEverySeed) {
  const auto& d = breast_cancer();
  for (auto gs : {GradScale::Unit, GradScale::RowClip})
    for (double lr : {0.01, 0.1})
      for (uint64_t seed = 0; seed < 5; ++seed) {
        auto net = classifier(d.x_train.size(1), d.classes, seed);
        auto so = SwarmLossOptions::preset(Preset::Paper).loss(LossKind::CrossEntropy).grad_scale(gs);
        so.swarm().seed(seed);
        SwarmLoss lf(so);
        torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(lr));
        epochs_of(d, 20, seed, [&](const torch::Tensor& x, const torch::Tensor& y) {
          sgd.zero_grad();
          lf(net->forward(x), y).backward();
          sgd.step();
        });
        EXPECT_GT(accuracy(net, d.x_test, d.y_test), 0.93) << to_string(gs) << " lr " << lr << " seed " << seed;
      }
}

// AdaSwarm owns a custom loss: one save / load of the optimizer continues exactly.
TEST(SwarmSearch, AdaSwarmWithACustomLossResumesExactly) {
  const auto d = regression_data();
  auto make = [](torch::nn::Sequential& net) {
    return std::make_unique<AdaSwarm>(net->parameters(), AdaSwarmOptions(0.05).swarm(custom_default()), step_loss());
  };
  auto net_a = regression_net(1);
  auto opt_a = make(net_a);
  auto run = [&](torch::nn::Sequential& net, AdaSwarm& opt, int steps) {
    auto lf = opt.loss();
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      lf(net->forward(d.x), d.t).backward();
      opt.step();
    }
  };
  run(net_a, *opt_a, 10);
  std::stringstream model_buf, opt_buf;
  torch::save(net_a, model_buf);
  torch::save(*opt_a, opt_buf);
  auto net_b = regression_net(99);
  torch::load(net_b, model_buf);
  auto opt_b = make(net_b);
  torch::load(*opt_b, opt_buf);
  run(net_a, *opt_a, 10);
  run(net_b, *opt_b, 10);
  for (size_t i = 0; i < net_a->parameters().size(); ++i)
    EXPECT_TRUE(torch::equal(net_a->parameters()[i], net_b->parameters()[i]));
}

TEST(SwarmSearch, OptionsAreValidatedByName) {
  auto msg = [](SwarmLossOptions o) { return message_of([&] { SwarmLoss l(o); }); };
  auto base = SwarmLossOptions::preset(Preset::Paper);
  EXPECT_NE(msg(SwarmLossOptions(base).start_span(-1)).find("start_span"), std::string::npos);
  EXPECT_NE(msg(SwarmLossOptions(base).start_span(INFINITY)).find("start_span"), std::string::npos);
  EXPECT_NE(msg(SwarmLossOptions(base).span_scale(NAN)).find("span_scale"), std::string::npos);
  EXPECT_NE(msg(SwarmLossOptions(base).warn_blind_after(-2)).find("warn_blind_after"), std::string::npos);
  EXPECT_NE(msg(SwarmLossOptions(base).start_noise(NAN)).find("start_noise"), std::string::npos);
  EXPECT_NE(msg(SwarmLossOptions(base).delta(INFINITY)).find("delta"), std::string::npos);
  EXPECT_NE(msg(SwarmLossOptions(base).eta(NAN)).find("eta"), std::string::npos);
  auto no_iterations = SwarmLossOptions(base);
  no_iterations.swarm().iterations(0);
  EXPECT_NE(msg(no_iterations).find("iterations must be >= 1"), std::string::npos);
  EXPECT_EQ(msg(SwarmLossOptions(no_iterations).grad_scale(GradScale::Unit)), "(no exception)");
  EXPECT_THROW(start_from_string("middle"), std::invalid_argument);
  EXPECT_THROW(bests_from_string("pixel"), std::invalid_argument);
  EXPECT_THROW(grad_scale_from_string("big"), std::invalid_argument);
  EXPECT_EQ(preset_from_string("search"), Preset::Search);
  for (auto s : {SwarmStart::Auto, SwarmStart::Targets, SwarmStart::Output, SwarmStart::Center, SwarmStart::Previous})
    EXPECT_EQ(start_from_string(to_string(s)), s);
  EXPECT_THROW(SwarmLoss{}.set_center(torch::tensor({1.0, std::nan("")})), std::invalid_argument);
}

// The fast form of a custom loss (plain loops, no dispatch) gives the same
// search, gradient and value as the tensor callable, per element and per row.
TEST(SwarmSearch, CustomKernelMatchesTheTensorCallable) {
  torch::manual_seed(12);
  const int64_t B = 40, C = 2;
  auto y = torch::randn({B, C}).requires_grad_(true);
  auto t = torch::randn({B, C}) * 3;
  CustomKernel kernel{[](const float* pos, int64_t P, int64_t B_, int64_t C_, const torch::Tensor& tt, float* out) {
                        const float* tp = tt.data_ptr<float>();
                        for (int64_t i = 0; i < P; ++i)
                          for (int64_t k = 0; k < B_ * C_; ++k) {
                            const float r = pos[i * B_ * C_ + k] - tp[k];
                            out[i * B_ * C_ + k] = 0.1f * r * r + 1.0f - std::cos(3.0f * r);
                          }
                      },
                      true};
  for (auto bests : {Bests::Element, Bests::Row, Bests::Batch}) {
    auto so = SwarmLossOptions::preset(Preset::Search).loss(LossKind::Custom).bests(bests);
    so.swarm().seed(4);
    SwarmLoss a(so, multi_well(0.1, 3)), b(so, kernel);
    y.mutable_grad() = torch::Tensor();
    auto va = a(y, t);
    va.backward();
    const auto ga = y.grad().clone();
    y.mutable_grad() = torch::Tensor();
    auto vb = b(y, t);
    vb.backward();
    EXPECT_NEAR(va.item<double>(), vb.item<double>(), 1e-5) << to_string(bests);
    // Float rounding of the two loss formulas may differ in the last bit, which
    // can move a best; the gradients agree almost everywhere.
    EXPECT_GT((ga - y.grad()).abs().lt(1e-5).to(torch::kFloat).mean().item<double>(), 0.95) << to_string(bests);
  }
  CustomKernel per_row{[](const float* pos, int64_t P, int64_t B_, int64_t C_, const torch::Tensor&, float* out) {
                         for (int64_t r = 0; r < P * B_; ++r) out[r] = pos[r * C_];
                       },
                       false};
  SwarmLoss rows(SwarmLossOptions(custom_default()).bests(Bests::Element), per_row);
  EXPECT_NE(message_of([&] { rows(y, t).backward(); }).find("per_element"), std::string::npos);
  EXPECT_THROW(SwarmLoss(custom_default(), CustomKernel{}), std::invalid_argument);
}
