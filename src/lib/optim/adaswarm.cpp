// AdaSwarm: Adam's update rule (with bias correction, weight decay and AMSGrad,
// as in LibTorch's torch::optim::Adam) applied to the gradients that the paired
// swarm loss left in .grad(). See include/adaswarm/optim/adaswarm.h.
#include "adaswarm/optim/adaswarm.h"

#include <torch/torch.h>

#include <cmath>

namespace adaswarm::optim {

AdaSwarmOptions::AdaSwarmOptions(double lr) : lr_(lr) {}

bool operator==(const AdaSwarmOptions& lhs, const AdaSwarmOptions& rhs) {
  return lhs.lr() == rhs.lr() && std::get<0>(lhs.betas()) == std::get<0>(rhs.betas()) &&
         std::get<1>(lhs.betas()) == std::get<1>(rhs.betas()) && lhs.eps() == rhs.eps() &&
         lhs.weight_decay() == rhs.weight_decay() && lhs.amsgrad() == rhs.amsgrad();
}

void AdaSwarmOptions::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("lr", c10::IValue(lr()));
  archive.write("betas", c10::IValue(std::vector<double>{std::get<0>(betas()), std::get<1>(betas())}));
  archive.write("eps", c10::IValue(eps()));
  archive.write("weight_decay", c10::IValue(weight_decay()));
  archive.write("amsgrad", c10::IValue(amsgrad()));
}

void AdaSwarmOptions::serialize(torch::serialize::InputArchive& archive) {
  c10::IValue v;
  archive.read("lr", v);
  lr_ = v.toDouble();
  archive.read("betas", v);
  const auto b = v.toDoubleVector();
  betas_ = std::make_tuple(b.at(0), b.at(1));
  archive.read("eps", v);
  eps_ = v.toDouble();
  archive.read("weight_decay", v);
  weight_decay_ = v.toDouble();
  archive.read("amsgrad", v);
  amsgrad_ = v.toBool();
}

double AdaSwarmOptions::get_lr() const { return lr(); }
void AdaSwarmOptions::set_lr(const double lr) { this->lr(lr); }

bool operator==(const AdaSwarmParamState& lhs, const AdaSwarmParamState& rhs) {
  auto eq = [](const torch::Tensor& a, const torch::Tensor& b) {
    return a.defined() == b.defined() && (!a.defined() || torch::equal(a, b));
  };
  return lhs.step() == rhs.step() && eq(lhs.exp_avg(), rhs.exp_avg()) && eq(lhs.exp_avg_sq(), rhs.exp_avg_sq()) &&
         eq(lhs.max_exp_avg_sq(), rhs.max_exp_avg_sq());
}

void AdaSwarmParamState::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("step", c10::IValue(step()));
  archive.write("exp_avg", exp_avg(), /*is_buffer=*/true);
  archive.write("exp_avg_sq", exp_avg_sq(), true);
  if (max_exp_avg_sq().defined()) archive.write("max_exp_avg_sq", max_exp_avg_sq(), true);
}

void AdaSwarmParamState::serialize(torch::serialize::InputArchive& archive) {
  c10::IValue v;
  archive.read("step", v);
  step_ = v.toInt();
  archive.read("exp_avg", exp_avg_, true);
  archive.read("exp_avg_sq", exp_avg_sq_, true);
  torch::Tensor m;
  if (archive.try_read("max_exp_avg_sq", m, true)) max_exp_avg_sq_ = m;
}

namespace {
void check_options(const AdaSwarmOptions& o) {
  auto bad = [](const std::string& m) { throw std::invalid_argument("invalid AdaSwarm option: " + m); };
  if (!(o.lr() >= 0)) bad("lr must be >= 0, got " + std::to_string(o.lr()));
  if (!(o.eps() >= 0)) bad("eps must be >= 0, got " + std::to_string(o.eps()));
  const auto [b1, b2] = o.betas();
  if (!(b1 >= 0 && b1 < 1)) bad("betas[0] must be in [0, 1), got " + std::to_string(b1));
  if (!(b2 >= 0 && b2 < 1)) bad("betas[1] must be in [0, 1), got " + std::to_string(b2));
  if (!(o.weight_decay() >= 0)) bad("weight_decay must be >= 0, got " + std::to_string(o.weight_decay()));
  o.swarm().validate();
}
}  // namespace

AdaSwarm::AdaSwarm(std::vector<torch::optim::OptimizerParamGroup> param_groups, AdaSwarmOptions defaults)
    : Optimizer((check_options(defaults), std::move(param_groups)), std::make_unique<AdaSwarmOptions>(defaults)),
      loss_(defaults.swarm()) {}

AdaSwarm::AdaSwarm(std::vector<torch::Tensor> params, AdaSwarmOptions defaults)
    : AdaSwarm({torch::optim::OptimizerParamGroup(std::move(params))}, std::move(defaults)) {}

AdaSwarm::AdaSwarm(std::vector<torch::Tensor> params, AdaSwarmOptions defaults, CustomLossFn custom)
    : Optimizer((check_options(defaults), std::vector<torch::optim::OptimizerParamGroup>{
                                              torch::optim::OptimizerParamGroup(std::move(params))}),
                std::make_unique<AdaSwarmOptions>(defaults)),
      loss_(defaults.swarm(), std::move(custom)) {}

AdaSwarm::AdaSwarm(std::vector<torch::Tensor> params, AdaSwarmOptions defaults, CustomKernel kernel)
    : Optimizer((check_options(defaults), std::vector<torch::optim::OptimizerParamGroup>{
                                              torch::optim::OptimizerParamGroup(std::move(params))}),
                std::make_unique<AdaSwarmOptions>(defaults)),
      loss_(defaults.swarm(), std::move(kernel)) {}

torch::Tensor AdaSwarm::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = {};
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const AdaSwarmOptions&>(group.options());
    const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto grad = p.grad();
      TORCH_CHECK(!grad.is_sparse(), "AdaSwarm does not support sparse gradients");
      auto key = c10::guts::to_string(p.unsafeGetTensorImpl());
      auto it = state_.find(key);
      if (it == state_.end()) {
        auto st = std::make_unique<AdaSwarmParamState>();
        st->step(0);
        st->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        st->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        if (options.amsgrad()) st->max_exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = state_.emplace(key, std::move(st)).first;
      }
      auto& st = static_cast<AdaSwarmParamState&>(*it->second);
      auto& exp_avg = st.exp_avg();
      auto& exp_avg_sq = st.exp_avg_sq();
      st.step(st.step() + 1);
      const double bias1 = 1 - std::pow(beta1, st.step());
      const double bias2 = 1 - std::pow(beta2, st.step());
      if (options.weight_decay() != 0) grad = grad.add(p, options.weight_decay());
      exp_avg.mul_(beta1).add_(grad, 1 - beta1);
      exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
      torch::Tensor denom;
      if (options.amsgrad()) {
        auto& mx = st.max_exp_avg_sq();
        if (!mx.defined()) mx = torch::zeros_like(p, torch::MemoryFormat::Preserve);
        torch::max_out(mx, exp_avg_sq, mx);
        denom = (mx.sqrt() / std::sqrt(bias2)).add_(options.eps());
      } else {
        denom = (exp_avg_sq.sqrt() / std::sqrt(bias2)).add_(options.eps());
      }
      p.addcdiv_(exp_avg, denom, -options.lr() / bias1);
    }
  }
  return loss;
}

void AdaSwarm::save(torch::serialize::OutputArchive& archive) const {
  torch::optim::serialize<AdaSwarmParamState, AdaSwarmOptions>(archive, *this);
  loss_.save(archive);
}

void AdaSwarm::load(torch::serialize::InputArchive& archive) {
  torch::optim::serialize<AdaSwarmParamState, AdaSwarmOptions>(archive, *this);
  loss_.load(archive);
}

}  // namespace adaswarm::optim
