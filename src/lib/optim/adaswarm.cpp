// AdaSwarm: Adam's update rule (with bias correction, weight decay and AMSGrad,
// as in LibTorch's torch::optim::Adam) applied to the gradients that the paired
// swarm loss left in .grad(). See include/adaswarm/optim/adaswarm.h.
#include "adaswarm/optim/adaswarm.h"

#include <torch/torch.h>

#include "adaswarm/optim/torch_compat.h"
#include "adaswarm/util/tensor_check.h"

#include <cmath>
#include <sstream>
#include <unordered_set>
#include <stdexcept>

namespace adaswarm::optim {

AdaSwarmOptions::AdaSwarmOptions(double lr) : lr_(lr) {}

bool operator==(const AdaSwarmOptions& lhs, const AdaSwarmOptions& rhs) {
  return lhs.lr() == rhs.lr() && std::get<0>(lhs.betas()) == std::get<0>(rhs.betas()) &&
         std::get<1>(lhs.betas()) == std::get<1>(rhs.betas()) && lhs.eps() == rhs.eps() &&
         lhs.weight_decay() == rhs.weight_decay() && lhs.amsgrad() == rhs.amsgrad() &&
         options_to_json(lhs.swarm()) == options_to_json(rhs.swarm());
}

void AdaSwarmOptions::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("lr", c10::IValue(lr()));
  archive.write("betas", c10::IValue(std::vector<double>{std::get<0>(betas()), std::get<1>(betas())}));
  archive.write("eps", c10::IValue(eps()));
  archive.write("weight_decay", c10::IValue(weight_decay()));
  archive.write("amsgrad", c10::IValue(amsgrad()));
  archive.write("swarm", c10::IValue(options_to_json(swarm())));
}

namespace {
[[noreturn]] void bad_group_options(const std::string& what) {
  throw std::runtime_error("not an AdaSwarm optimizer state: " + what);
}
double read_double(torch::serialize::InputArchive& archive, const char* key) {
  c10::IValue v;
  if (!archive.try_read(key, v)) bad_group_options(std::string("its group options have no '") + key + "'");
  if (!v.isDouble()) bad_group_options(std::string("group option '") + key + "' is not a number");
  return v.toDouble();
}
}  // namespace

void AdaSwarmOptions::serialize(torch::serialize::InputArchive& archive) {
  c10::IValue v;
  const double lr = read_double(archive, "lr");
  if (!archive.try_read("betas", v)) bad_group_options("its group options have no 'betas'");
  if (!v.isDoubleList())  // torch::optim::Adam / AdamW save betas as a tuple
    bad_group_options(v.isTuple() ? "its betas are a tuple, as torch::optim::Adam or AdamW save them"
                                  : "group option 'betas' is not a list of two numbers");
  const auto b = v.toDoubleVector();
  if (b.size() != 2) bad_group_options("group option 'betas' does not hold two numbers");
  const double eps = read_double(archive, "eps"), weight_decay = read_double(archive, "weight_decay");
  if (!archive.try_read("amsgrad", v) || !v.isBool()) bad_group_options("group option 'amsgrad' is missing");
  const bool amsgrad = v.toBool();
  SwarmLossOptions swarm = swarm_;
  if (archive.try_read("swarm", v)) {  // older files have none: the swarm settings stay as constructed
    if (!v.isString()) bad_group_options("group option 'swarm' is not a text");
    try {
      swarm = options_from_json(v.toStringRef());
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("AdaSwarm state: ") + e.what());
    }
  }
  lr_ = lr;
  betas_ = std::make_tuple(b[0], b[1]);
  eps_ = eps;
  weight_decay_ = weight_decay;
  amsgrad_ = amsgrad;
  swarm_ = swarm;
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
std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
/// Range and finiteness of the Adam settings; `where` names a param group.
void check_adam_options(const AdaSwarmOptions& o, const std::string& where) {
  auto bad = [&](const std::string& m) { throw std::invalid_argument("invalid AdaSwarm option" + where + ": " + m); };
  if (!(o.lr() >= 0) || !std::isfinite(o.lr())) bad("lr must be finite and >= 0, got " + num(o.lr()));
  if (!(o.eps() >= 0) || !std::isfinite(o.eps())) bad("eps must be finite and >= 0, got " + num(o.eps()));
  const auto [b1, b2] = o.betas();
  if (!(b1 >= 0 && b1 < 1)) bad("betas[0] must be in [0, 1), got " + num(b1));
  if (!(b2 >= 0 && b2 < 1)) bad("betas[1] must be in [0, 1), got " + num(b2));
  if (!(o.weight_decay() >= 0) || !std::isfinite(o.weight_decay()))
    bad("weight_decay must be finite and >= 0, got " + num(o.weight_decay()));
}
void check_options(const AdaSwarmOptions& o) {
  check_adam_options(o, "");
  o.swarm().validate();
}
/// Each group's options: AdaSwarm's own kind, in range (a group may carry its
/// own options, and schedulers change lr between steps).
const AdaSwarmOptions& group_options(const torch::optim::OptimizerParamGroup& group, size_t index) {
  if (!group.has_options())
    throw std::invalid_argument("AdaSwarm: param group " + std::to_string(index) + " has no options");
  const auto* o = dynamic_cast<const AdaSwarmOptions*>(&group.options());
  if (!o)
    throw std::invalid_argument("AdaSwarm: param group " + std::to_string(index) +
                                " has another optimizer's options (give it AdaSwarmOptions)");
  check_adam_options(*o, " (param group " + std::to_string(index) + ")");
  return *o;
}
/// Every group holds parameters, and no tensor is in two places (it would be
/// stepped twice per step; torch.optim refuses both too). Groups added with
/// add_param_group (not virtual) are checked at the next step.
void check_groups(const std::vector<torch::optim::OptimizerParamGroup>& groups) {
  std::unordered_set<const void*> seen;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    if (groups[gi].params().empty())
      throw std::invalid_argument("AdaSwarm: param group " + std::to_string(gi) + " has no parameters");
    for (const auto& p : groups[gi].params())
      if (!seen.insert(p.unsafeGetTensorImpl()).second)
        throw std::invalid_argument("AdaSwarm: a parameter " + c10::str(p.sizes()) + " appears twice (param group " +
                                    std::to_string(gi) + "); each tensor may be in one group, once");
  }
}

/// A parameter Adam can update and a gradient that belongs to it: a real
/// floating-point tensor, and a gradient of its shape, dtype and device (LibTorch
/// would broadcast a [1] gradient silently, drop a complex one's imaginary part,
/// or stop on an internal assert for another dtype).
void check_param_and_grad(const at::Tensor& p, const at::Tensor& grad, size_t group) {
  auto where = [&] { return "AdaSwarm: a parameter " + c10::str(p.sizes()) + " of param group " + std::to_string(group); };
  if (!at::isFloatingType(p.scalar_type()))
    throw std::invalid_argument(where() + " is " + c10::toString(p.scalar_type()) +
                                "; Adam updates real floating-point parameters only");
  if (grad.is_sparse()) throw std::invalid_argument(where() + " has a sparse gradient; AdaSwarm needs dense ones");
  if (grad.sizes() != p.sizes() || grad.scalar_type() != p.scalar_type() || grad.device() != p.device())
    throw std::invalid_argument(where() + " (" + c10::toString(p.scalar_type()) + ", " + p.device().str() +
                                ") has a gradient " + c10::str(grad.sizes()) + " (" +
                                c10::toString(grad.scalar_type()) + ", " + grad.device().str() +
                                "): it must have the parameter's shape, dtype and device");
}
}  // namespace

AdaSwarm::AdaSwarm(std::vector<torch::optim::OptimizerParamGroup> param_groups, AdaSwarmOptions defaults)
    : Optimizer((check_options(defaults), std::move(param_groups)), std::make_unique<AdaSwarmOptions>(defaults)),
      loss_(defaults.swarm()) {
  for (size_t i = 0; i < param_groups_.size(); ++i) group_options(param_groups_[i], i);
  check_groups(param_groups_);
}

AdaSwarm::AdaSwarm(std::vector<torch::Tensor> params, AdaSwarmOptions defaults)
    : AdaSwarm({torch::optim::OptimizerParamGroup(std::move(params))}, std::move(defaults)) {}

AdaSwarm::AdaSwarm(std::vector<torch::Tensor> params, AdaSwarmOptions defaults, CustomLossFn custom)
    : Optimizer((check_options(defaults), std::vector<torch::optim::OptimizerParamGroup>{
                                              torch::optim::OptimizerParamGroup(std::move(params))}),
                std::make_unique<AdaSwarmOptions>(defaults)),
      loss_(defaults.swarm(), std::move(custom)) {
  check_groups(param_groups_);
}

AdaSwarm::AdaSwarm(std::vector<torch::Tensor> params, AdaSwarmOptions defaults, CustomKernel kernel)
    : Optimizer((check_options(defaults), std::vector<torch::optim::OptimizerParamGroup>{
                                              torch::optim::OptimizerParamGroup(std::move(params))}),
                std::make_unique<AdaSwarmOptions>(defaults)),
      loss_(defaults.swarm(), std::move(kernel)) {
  check_groups(param_groups_);
}

torch::Tensor AdaSwarm::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = {};
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  check_groups(param_groups_);
  for (size_t gi = 0; gi < param_groups_.size(); ++gi) {
    auto& group = param_groups_[gi];
    const auto& options = group_options(group, gi);
    const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;  // no gradient (zero_grad(set_to_none), LibTorch 2.x's default): no step
      auto grad = p.grad();
      check_param_and_grad(p, grad, gi);
      const auto key = state_key(p);
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

namespace {
/// What another optimizer's file is, from its first group's option names.
std::string describe_other_optimizer(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive groups, group, options;
  c10::IValue v;
  try {
    if (!archive.try_read("param_groups", groups)) return "";
    if (!groups.try_read("param_groups/0", group) || !group.try_read("options", options)) return "";
  } catch (const std::exception&) {
    return "";
  }
  auto has = [&](const char* k) { return options.try_read(k, v); };
  if (has("momentum") && has("dampening")) return "torch::optim::SGD's";
  if (has("alpha") && has("centered")) return "torch::optim::RMSprop's";
  if (has("lr_decay")) return "torch::optim::Adagrad's";
  if (has("max_iter")) return "torch::optim::LBFGS's";
  if (has("betas") && v.isTuple()) return "torch::optim::Adam's or AdamW's";
  return "";
}
/// The per-parameter states of an optimizer file, by the keys the file itself
/// uses (its param groups name the same strings). Read here rather than by
/// LibTorch's helper so that a file's keys need not parse as this LibTorch's
/// key type: files of LibTorch 1.x (hex addresses) and 2.x (decimal) both load.
ska::flat_hash_map<std::string, std::unique_ptr<torch::optim::OptimizerParamState>> read_param_states(
    torch::serialize::InputArchive& archive) {
  ska::flat_hash_map<std::string, std::unique_ptr<torch::optim::OptimizerParamState>> states;
  for (const std::string& key : archive.keys()) {
    torch::serialize::InputArchive one;
    archive.read(key, one);
    auto st = std::make_unique<AdaSwarmParamState>();
    st->serialize(one);
    states[key] = std::move(st);
  }
  return states;
}
}  // namespace

void AdaSwarm::load(torch::serialize::InputArchive& archive) {
  c10::IValue v;
  at::Tensor t;
  const bool optimizer_file = archive.try_read("pytorch_version", v);
  if (!optimizer_file)
    throw std::runtime_error("not an AdaSwarm optimizer state: it holds no optimizer (no pytorch_version / "
                             "param_groups; a model's parameters, perhaps)");
  if (!archive.try_read("swarm_loss/rng", t)) {
    const std::string what = describe_other_optimizer(archive);
    throw std::runtime_error("not an AdaSwarm optimizer state: it has no swarm loss state" +
                             (what.empty() ? std::string() : "; it is " + what + " state") +
                             " (AdaSwarm loads only what AdaSwarm saved)");
  }
  c10::IValue version;
  archive.read("pytorch_version", version);
  if (!version.isString() || version.toStringRef() != "1.5.0")
    throw std::runtime_error("AdaSwarm state: unknown optimizer file version " +
                             (version.isString() ? version.toStringRef() : std::string(version.tagKind())));
  // Read and check everything before changing anything: a failed load leaves
  // this optimizer as it was.
  ska::flat_hash_map<std::string, std::unique_ptr<torch::optim::OptimizerParamState>> saved_state;
  std::vector<std::pair<std::vector<std::string>, std::unique_ptr<torch::optim::OptimizerOptions>>> saved_groups;
  try {
    torch::serialize::InputArchive state_archive, groups_archive;
    archive.read("state", state_archive);
    saved_state = read_param_states(state_archive);
    archive.read("param_groups", groups_archive);
    torch::optim::detail::serialize<AdaSwarmOptions>(groups_archive, saved_groups);
  } catch (const c10::Error& e) {
    throw std::runtime_error("AdaSwarm state is malformed: " + std::string(e.what_without_backtrace()));
  }
  if (saved_groups.size() != param_groups_.size())
    throw std::runtime_error("AdaSwarm state has " + std::to_string(saved_groups.size()) +
                             " parameter group(s), this optimizer " + std::to_string(param_groups_.size()));
  StateMap state;
  for (size_t gi = 0; gi < saved_groups.size(); ++gi) {
    const auto& keys = saved_groups[gi].first;
    const auto& params = param_groups_[gi].params();
    if (keys.size() != params.size())
      throw std::runtime_error("AdaSwarm state: parameter group " + std::to_string(gi) + " has " +
                               std::to_string(keys.size()) + " parameters in the file, " +
                               std::to_string(params.size()) + " here");
    const auto& o = static_cast<const AdaSwarmOptions&>(*saved_groups[gi].second);
    try {
      check_adam_options(o, " (param group " + std::to_string(gi) + " in the file)");
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("AdaSwarm state: ") + e.what());
    }
    for (size_t pi = 0; pi < params.size(); ++pi) {
      auto it = saved_state.find(keys[pi]);
      if (it == saved_state.end()) continue;
      auto& ps = static_cast<AdaSwarmParamState&>(*it->second);
      auto fits = [&](const at::Tensor& m) {
        return !m.defined() || (m.sizes() == params[pi].sizes() && m.scalar_type() == params[pi].scalar_type() &&
                                util::storage_covers(m));
      };
      if (!ps.exp_avg().defined() || !ps.exp_avg_sq().defined() || !fits(ps.exp_avg()) ||
          !fits(ps.exp_avg_sq()) || !fits(ps.max_exp_avg_sq()) || ps.step() < 0)
        throw std::runtime_error("AdaSwarm state: parameter " + std::to_string(pi) + " of group " +
                                 std::to_string(gi) + " has moments of another shape or dtype than the parameter (or truncated data) " +
                                 c10::str(params[pi].sizes()) + " (a file of another model?)");
      state[state_key(params[pi])] = std::move(it->second);
    }
  }
  loss_.load(archive);  // checks everything before it changes anything
  state_ = std::move(state);
  for (size_t gi = 0; gi < saved_groups.size(); ++gi) param_groups_[gi].set_options(std::move(saved_groups[gi].second));
}

}  // namespace adaswarm::optim
