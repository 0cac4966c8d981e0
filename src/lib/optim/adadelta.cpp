#include "adaswarm/optim/adadelta.h"

#include <torch/serialize/archive.h>

#include "adaswarm/optim/torch_compat.h"

namespace adaswarm::optim {

AdaDeltaOptions::AdaDeltaOptions(double lr) : lr_(lr) {}

bool operator==(const AdaDeltaOptions& a, const AdaDeltaOptions& b) {
  return a.lr() == b.lr() && a.rho() == b.rho() && a.eps() == b.eps() && a.weight_decay() == b.weight_decay();
}

void AdaDeltaOptions::serialize(torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(lr);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(rho);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(eps);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(weight_decay);
}

void AdaDeltaOptions::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, lr);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, rho);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, eps);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, weight_decay);
}

double AdaDeltaOptions::get_lr() const { return lr(); }
void AdaDeltaOptions::set_lr(const double lr) { this->lr(lr); }

bool operator==(const AdaDeltaParamState& a, const AdaDeltaParamState& b) {
  return a.step() == b.step() && torch::equal(a.square_avg(), b.square_avg()) &&
         torch::equal(a.acc_delta(), b.acc_delta());
}

void AdaDeltaParamState::serialize(torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(step);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(square_avg);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(acc_delta);
}

void AdaDeltaParamState::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(int64_t, step);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(torch::Tensor, square_avg);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(torch::Tensor, acc_delta);
}

AdaDelta::AdaDelta(std::vector<torch::optim::OptimizerParamGroup> param_groups, AdaDeltaOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<AdaDeltaOptions>(defaults)) {
  TORCH_CHECK(defaults.lr() >= 0, "Invalid learning rate: ", defaults.lr());
  TORCH_CHECK(defaults.rho() >= 0 && defaults.rho() <= 1.0, "Invalid rho value: ", defaults.rho());
  TORCH_CHECK(defaults.eps() >= 0, "Invalid epsilon value: ", defaults.eps());
  TORCH_CHECK(defaults.weight_decay() >= 0, "Invalid weight_decay value: ", defaults.weight_decay());
}

AdaDelta::AdaDelta(std::vector<torch::Tensor> params, AdaDeltaOptions defaults)
    : AdaDelta({torch::optim::OptimizerParamGroup(std::move(params))}, defaults) {}

torch::Tensor AdaDelta::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = {};
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& options = static_cast<AdaDeltaOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto grad = p.grad();
      TORCH_CHECK(!grad.is_sparse(), "AdaDelta does not support sparse gradients");
      const auto key = state_key(p);
      auto it = state_.find(key);
      if (it == state_.end()) {
        auto st = std::make_unique<AdaDeltaParamState>();
        st->square_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        st->acc_delta(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = state_.emplace(key, std::move(st)).first;
      }
      auto& st = static_cast<AdaDeltaParamState&>(*it->second);
      st.step(st.step() + 1);
      if (options.weight_decay() != 0) grad = grad.add(p, options.weight_decay());
      const double rho = options.rho();
      const double eps = options.eps();
      auto& square_avg = st.square_avg();
      auto& acc_delta = st.acc_delta();
      square_avg.mul_(rho).addcmul_(grad, grad, 1 - rho);
      auto std_g = square_avg.add(eps).sqrt_();
      auto delta = acc_delta.add(eps).sqrt_().div_(std_g).mul_(grad);
      acc_delta.mul_(rho).addcmul_(delta, delta, 1 - rho);
      p.add_(delta, -options.lr());
    }
  }
  return loss;
}

void AdaDelta::save(torch::serialize::OutputArchive& archive) const { serialize(*this, archive); }

void AdaDelta::load(torch::serialize::InputArchive& archive) {
  // Our own archives always hold param groups (no legacy format to support).
  serialize(*this, archive);
}

}  // namespace adaswarm::optim
