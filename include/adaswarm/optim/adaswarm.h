// AdaSwarm (the AdaSwarm paper's Algorithm 2; SPEC.md section 4): Adam's update
// rule driven by the gradients that the swarm loss (adaswarm/loss/swarm_loss.h)
// approximates. The optimizer owns its swarm loss so that the two are always
// configured together and saved together:
//
//   adaswarm::optim::AdaSwarm opt(model->parameters(),
//       adaswarm::optim::AdaSwarmOptions(1e-3).swarm(
//           adaswarm::SwarmLossOptions::preset(adaswarm::Preset::Paper).loss(adaswarm::LossKind::MAE)));
//   auto loss_fn = opt.loss();
//   opt.zero_grad(); loss_fn(model->forward(x), y).backward(); opt.step();
#pragma once
#include <torch/optim/optimizer.h>
#include <torch/optim/serialize.h>

#include <tuple>
#include <vector>

#include "adaswarm/loss/swarm_loss.h"

namespace adaswarm::optim {

struct AdaSwarmOptions : public torch::optim::OptimizerCloneableOptions<AdaSwarmOptions> {
  AdaSwarmOptions(double lr = 1e-3);
  TORCH_ARG(double, lr) = 1e-3;
  typedef std::tuple<double, double> betas_t;
  TORCH_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);
  TORCH_ARG(double, eps) = 1e-8;
  TORCH_ARG(double, weight_decay) = 0;
  TORCH_ARG(bool, amsgrad) = false;
  /// The swarm loss this optimizer hands out (preset `paper` by default).
  TORCH_ARG(SwarmLossOptions, swarm) = SwarmLossOptions::preset(Preset::Paper);

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  friend bool operator==(const AdaSwarmOptions& lhs, const AdaSwarmOptions& rhs);
  ~AdaSwarmOptions() override = default;
  double get_lr() const override;
  void set_lr(const double lr) override;
};

struct AdaSwarmParamState : public torch::optim::OptimizerCloneableParamState<AdaSwarmParamState> {
  TORCH_ARG(int64_t, step) = 0;
  TORCH_ARG(torch::Tensor, exp_avg);
  TORCH_ARG(torch::Tensor, exp_avg_sq);
  TORCH_ARG(torch::Tensor, max_exp_avg_sq) = {};

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  friend bool operator==(const AdaSwarmParamState& lhs, const AdaSwarmParamState& rhs);
  ~AdaSwarmParamState() override = default;
};

class AdaSwarm : public torch::optim::Optimizer {
 public:
  explicit AdaSwarm(std::vector<torch::optim::OptimizerParamGroup> param_groups, AdaSwarmOptions defaults = {});
  explicit AdaSwarm(std::vector<torch::Tensor> params, AdaSwarmOptions defaults = {});
  /// With a custom loss callable (LossKind::Custom): the optimizer owns it, so
  /// one torch::save / torch::load of the optimizer holds the whole state.
  AdaSwarm(std::vector<torch::Tensor> params, AdaSwarmOptions defaults, CustomLossFn custom);
  AdaSwarm(std::vector<torch::Tensor> params, AdaSwarmOptions defaults, CustomKernel kernel);

  torch::Tensor step(LossClosure closure = nullptr) override;
  /// Saves Adam state, param groups AND the swarm loss's RNG / warm state.
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  /// The swarm loss paired with this optimizer (copies share its state).
  SwarmLoss loss() const { return loss_; }

 private:
  SwarmLoss loss_;
};

}  // namespace adaswarm::optim
