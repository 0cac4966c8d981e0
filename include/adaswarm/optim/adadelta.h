// AdaDelta (Zeiler 2012, arXiv:1212.5701, Algorithm 1), which LibTorch 1.13's
// C++ API lacks. Per parameter, with gradient g (plus weight_decay * x):
//   E[g^2]  <- rho E[g^2] + (1 - rho) g^2
//   dx      <- -sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g
//   E[dx^2] <- rho E[dx^2] + (1 - rho) dx^2
//   x       <- x + lr * dx
// lr = 1 is the paper's rule; lr scales the step as PyTorch's Adadelta does.
#pragma once
#include <torch/optim/optimizer.h>
#include <torch/optim/serialize.h>

#include <vector>

namespace adaswarm::optim {

struct AdaDeltaOptions : public torch::optim::OptimizerCloneableOptions<AdaDeltaOptions> {
  AdaDeltaOptions(double lr = 1.0);
  TORCH_ARG(double, lr) = 1.0;
  TORCH_ARG(double, rho) = 0.9;
  TORCH_ARG(double, eps) = 1e-6;
  TORCH_ARG(double, weight_decay) = 0;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  friend bool operator==(const AdaDeltaOptions& lhs, const AdaDeltaOptions& rhs);
  ~AdaDeltaOptions() override = default;
  double get_lr() const override;
  void set_lr(const double lr) override;
};

struct AdaDeltaParamState : public torch::optim::OptimizerCloneableParamState<AdaDeltaParamState> {
  TORCH_ARG(int64_t, step) = 0;
  TORCH_ARG(torch::Tensor, square_avg);  ///< E[g^2]
  TORCH_ARG(torch::Tensor, acc_delta);   ///< E[dx^2]

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  friend bool operator==(const AdaDeltaParamState& lhs, const AdaDeltaParamState& rhs);
  ~AdaDeltaParamState() override = default;
};

class AdaDelta : public torch::optim::Optimizer {
 public:
  explicit AdaDelta(std::vector<torch::optim::OptimizerParamGroup> param_groups, AdaDeltaOptions defaults = {});
  explicit AdaDelta(std::vector<torch::Tensor> params, AdaDeltaOptions defaults = {});

  torch::Tensor step(LossClosure closure = nullptr) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

 private:
  template <typename Self, typename Archive>
  static void serialize(Self& self, Archive& archive) {
    _TORCH_OPTIM_SERIALIZE_WITH_TEMPLATE_ARG(AdaDelta);
  }
};

}  // namespace adaswarm::optim
