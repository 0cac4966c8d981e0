// adaswarm._core: the pybind11 bindings behind the Python package `adaswarm`
// (python/adaswarm, docs/python.md). Built against the LibTorch of Debian's
// python3-torch, which is the LibTorch of libtorch-dev, so tensors cross the
// boundary as the same at::Tensor (no copies) and the C++ autograd nodes run in
// Python's autograd engine.
//
// GIL: every call into the library releases it; Python callables (custom losses,
// PGSO objectives) take it back for the time of the call.
#include <torch/extension.h>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/optim/adaswarm.h"
#include "adaswarm/optim/torch_compat.h"
#include "adaswarm/pgso/functions.h"
#include "adaswarm/pgso/gso.h"

namespace py = pybind11;

namespace {

using adaswarm::SwarmLoss;
using adaswarm::SwarmLossOptions;
using adaswarm::optim::AdaSwarm;
using adaswarm::optim::AdaSwarmOptions;

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument(what); }

// ---------------------------------------------------------------------------
// Reading Python keyword options with the C++ names and messages.
// ---------------------------------------------------------------------------
class Kwargs {
 public:
  Kwargs(py::dict d, std::string owner) : d_(std::move(d)), owner_(std::move(owner)) {}

  bool has(const char* key) const { return d_.contains(key) && !d_[key].is_none(); }
  template <typename T>
  bool get(const char* key, T& out) {
    if (!d_.contains(key)) return false;
    py::object v = d_[key];
    used_.emplace_back(key);
    if (v.is_none()) return false;
    // Python's own types only: bool for flags, int (not bool) for counts, a
    // real number (not bool, not str) for values; pybind11 would turn True into
    // 1, 2 into True and 1.5 into 1.
    const bool is_bool = PyBool_Check(v.ptr());
    bool type_ok = true;
    if constexpr (std::is_same_v<T, bool>) type_ok = is_bool;
    else if constexpr (std::is_integral_v<T>) type_ok = !is_bool && PyIndex_Check(v.ptr()) && !PyFloat_Check(v.ptr());
    else if constexpr (std::is_floating_point_v<T>) type_ok = !is_bool && (PyFloat_Check(v.ptr()) || PyIndex_Check(v.ptr()));
    if (!type_ok)
      bad(owner_ + ": option '" + key + "' must be " +
          (std::is_same_v<T, bool> ? "True or False"
                                   : std::is_integral_v<T> ? "an integer" : std::is_floating_point_v<T> ? "a number" : "a string") +
          ", got " + std::string(py::str(py::repr(v))) + " (" + std::string(py::str(py::type::of(v).attr("__name__"))) + ")");
    try {
      out = v.cast<T>();
    } catch (const py::cast_error&) {
      bad(owner_ + ": option '" + key + "' has the wrong type (" + std::string(py::str(py::type::of(v).attr("__name__"))) +
          ")");
    }
    return true;
  }
  /// Throws naming the first key that no get() asked for.
  void check_all_used() const {
    for (auto item : d_) {
      const auto key = item.first.cast<std::string>();
      if (std::find(used_.begin(), used_.end(), key) == used_.end()) bad(owner_ + ": unknown option '" + key + "'");
    }
  }

 private:
  py::dict d_;
  std::string owner_;
  std::vector<std::string> used_;
};

/// SwarmLossOptions from a preset name and keyword options (the C++ names).
SwarmLossOptions swarm_loss_options(const std::string& loss, const std::string& preset, const py::dict& kw) {
  SwarmLossOptions o = SwarmLossOptions::preset(adaswarm::preset_from_string(preset));
  if (loss != "custom") o.loss(adaswarm::loss_from_string(loss));
  Kwargs k(kw, "SwarmLoss");
  std::string s;
  double d;
  int64_t i;
  bool b;
  uint64_t u;
  if (k.get("reduction", s)) {
    if (s == "mean") o.reduction(adaswarm::Reduction::Mean);
    else if (s == "sum") o.reduction(adaswarm::Reduction::Sum);
    else bad("SwarmLoss: reduction must be 'mean' or 'sum', got '" + s + "'");
  }
  if (k.get("eta", d)) o.eta(d);
  if (k.get("reference_scale", b)) o.reference_scale(b);
  if (k.get("start", s)) o.start(adaswarm::start_from_string(s));
  if (k.get("start_noise", d)) o.start_noise(d);
  if (k.get("start_span", d)) o.start_span(d);
  if (k.get("span_scale", d)) o.span_scale(d);
  if (k.get("bests", s)) o.bests(adaswarm::bests_from_string(s));
  if (k.get("fitness_per_sample", b)) o.fitness_per_sample(b);
  if (k.get("warm_start", b)) o.warm_start(b);
  if (k.get("grad_scale", s)) o.grad_scale(adaswarm::grad_scale_from_string(s));
  if (k.get("warn_blind_after", i)) o.warn_blind_after(i);
  if (k.get("delta", d)) o.delta(d);
  if (k.get("ideal_limit", b)) o.ideal_limit(b);
  if (k.get("compare_with_autograd", b)) o.compare_with_autograd(b);
  auto& sw = o.swarm();
  if (k.get("particles", i)) sw.particles(i);
  if (k.get("iterations", i)) sw.iterations(i);
  if (k.get("variant", s)) sw.variant(adaswarm::swarm::variant_from_string(s));
  if (k.get("c1", d)) sw.c1(d);
  if (k.get("c2", d)) sw.c2(d);
  if (k.get("beta", d)) sw.beta(d);
  if (k.get("inertia", d)) sw.inertia(d);
  if (k.get("momentum_lambda", d)) sw.lambda(d);
  if (k.get("random_mode", s)) {
    if (s == "per-particle" || s == "per_particle") sw.random_mode(adaswarm::swarm::RandomMode::PerParticle);
    else if (s == "per-coordinate" || s == "per_coordinate") sw.random_mode(adaswarm::swarm::RandomMode::PerCoordinate);
    else bad("SwarmLoss: random_mode must be 'per-particle' or 'per-coordinate', got '" + s + "'");
  }
  if (k.get("random_low", d)) sw.random_low(d);
  if (k.get("store_momentum", b)) sw.store_momentum(b);
  if (k.get("rotation_angle", d)) sw.rotation_angle(d);
  if (k.get("reference_rotation", b)) sw.reference_rotation(b);
  if (k.get("velocity_clamp", d)) sw.velocity_clamp(d);
  if (k.has("seed")) {
    if (!k.get("seed", i) || i < 0) bad("SwarmLoss: seed must be >= 0");
    u = static_cast<uint64_t>(i);
    sw.seed(u);
  }
  if (k.get("tolerance", d)) sw.tolerance(d);
  if (k.get("stall_iterations", i)) sw.stall_iterations(i);
  if (k.get("stall_delta", d)) sw.stall_delta(d);
  k.check_all_used();
  o.validate();
  return o;
}

py::dict options_dict(const SwarmLossOptions& o) {
  py::dict d;
  d["loss"] = adaswarm::to_string(o.loss());
  d["reduction"] = o.reduction() == adaswarm::Reduction::Mean ? "mean" : "sum";
  d["eta"] = o.eta();
  d["reference_scale"] = o.reference_scale();
  d["start"] = adaswarm::to_string(o.start());
  d["start_noise"] = o.start_noise();
  d["start_span"] = o.start_span();
  d["span_scale"] = o.span_scale();
  d["bests"] = adaswarm::to_string(o.bests());
  d["warm_start"] = o.warm_start();
  d["grad_scale"] = adaswarm::to_string(o.grad_scale());
  d["warn_blind_after"] = o.warn_blind_after();
  d["delta"] = o.delta();
  d["ideal_limit"] = o.ideal_limit();
  d["compare_with_autograd"] = o.compare_with_autograd();
  const auto& sw = o.swarm();
  d["particles"] = sw.particles();
  d["iterations"] = sw.iterations();
  d["variant"] = adaswarm::swarm::to_string(sw.variant());
  d["c1"] = sw.c1();
  d["c2"] = sw.c2();
  d["beta"] = sw.beta();
  d["inertia"] = sw.inertia();
  d["momentum_lambda"] = sw.lambda();
  d["random_mode"] = sw.random_mode() == adaswarm::swarm::RandomMode::PerParticle ? "per-particle" : "per-coordinate";
  d["random_low"] = sw.random_low();
  d["store_momentum"] = sw.store_momentum();
  d["velocity_clamp"] = sw.velocity_clamp();
  d["seed"] = sw.seed();
  d["rotation_angle"] = sw.rotation_angle();
  d["reference_rotation"] = sw.reference_rotation();
  d["tolerance"] = sw.tolerance();
  d["stall_iterations"] = sw.stall_iterations();
  d["stall_delta"] = sw.stall_delta();
  return d;
}

py::dict diagnostics_dict(const adaswarm::SwarmLossDiagnostics& g) {
  py::dict d;
  d["best_fitness"] = g.best_fitness;
  d["cbar"] = g.cbar;
  d["iterations"] = g.iterations;
  d["evaluations"] = g.evaluations;
  d["cosine"] = g.cosine;
  d["norm_ratio"] = g.norm_ratio;
  d["start"] = adaswarm::to_string(g.start);
  d["span"] = g.span;
  d["groups"] = g.groups;
  d["moved_share"] = g.moved_share;
  d["flat_share"] = g.flat_share;
  d["blind"] = g.blind;
  d["blind_streak"] = g.blind_streak;
  d["warning"] = g.warning;
  d["grad_norm"] = g.grad_norm;
  d["threads"] = g.threads;
  return d;
}

/// A Python callable as a custom loss. It runs under the GIL; the candidates it
/// gets are a copy (the swarm's buffer is reused), so the callable may keep them.
adaswarm::CustomLossFn python_loss(py::function fn) {
  // The callable is held by a shared_ptr whose deleter takes the GIL: the
  // std::function may be destroyed from C++ with the GIL released.
  auto held = std::shared_ptr<py::function>(new py::function(std::move(fn)), [](py::function* f) {
    py::gil_scoped_acquire gil;
    delete f;
  });
  return [held](const at::Tensor& positions, const at::Tensor& target) -> at::Tensor {
    py::gil_scoped_acquire gil;
    py::object r = (*held)(positions.clone(), target);
    try {
      return r.cast<at::Tensor>();
    } catch (const py::cast_error&) {
      bad("SwarmLoss: the custom loss must return a torch.Tensor, got " +
          std::string(py::str(py::type::of(r).attr("__name__"))));
    }
  };
}

SwarmLoss make_swarm_loss(const py::object& loss, const std::string& preset, const py::dict& kw) {
  if (py::isinstance<py::str>(loss)) {
    const auto name = loss.cast<std::string>();
    if (name == "custom") bad("SwarmLoss: loss 'custom' needs a callable: pass the callable as loss=");
    return SwarmLoss(swarm_loss_options(name, preset, kw));
  }
  if (!PyCallable_Check(loss.ptr()))
    bad("SwarmLoss: loss must be a name (mse, mae, bce, bce-logits, ce, huber, smooth-l1, hinge) or a callable");
  return SwarmLoss(swarm_loss_options("custom", preset, kw), python_loss(loss.cast<py::function>()));
}

// ---------------------------------------------------------------------------
// The optimizer.
// ---------------------------------------------------------------------------
struct GroupOptions {
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad;
};

/// The checks of AdaSwarm's constructor, for every group (a scheduler or a user
/// may change a group's options at any time).
void check_group(const GroupOptions& g, size_t index) {
  const std::string where = "invalid AdaSwarm option (param group " + std::to_string(index) + "): ";
  if (!(g.lr >= 0)) bad(where + "lr must be >= 0, got " + std::to_string(g.lr));
  if (!(g.eps >= 0)) bad(where + "eps must be >= 0, got " + std::to_string(g.eps));
  if (!(g.beta1 >= 0 && g.beta1 < 1)) bad(where + "betas[0] must be in [0, 1), got " + std::to_string(g.beta1));
  if (!(g.beta2 >= 0 && g.beta2 < 1)) bad(where + "betas[1] must be in [0, 1), got " + std::to_string(g.beta2));
  if (!(g.weight_decay >= 0)) bad(where + "weight_decay must be >= 0, got " + std::to_string(g.weight_decay));
}

void apply_group(AdaSwarmOptions& o, const GroupOptions& g) {
  o.lr(g.lr);
  o.betas(std::make_tuple(g.beta1, g.beta2));
  o.eps(g.eps);
  o.weight_decay(g.weight_decay);
  o.amsgrad(g.amsgrad);
}

std::vector<at::Tensor> checked_params(const std::vector<at::Tensor>& params) {
  if (params.empty()) bad("AdaSwarm: a parameter group has no parameters");
  for (const auto& p : params) {
    if (!p.defined()) bad("AdaSwarm: undefined parameter");
    if (!p.is_leaf()) bad("AdaSwarm: can't optimize a non-leaf Tensor");
  }
  return params;
}

class PyAdaSwarm {
 public:
  PyAdaSwarm(const std::vector<at::Tensor>& params, const GroupOptions& g, const py::object& loss,
             const std::string& preset, const py::dict& swarm) {
    check_group(g, 0);
    AdaSwarmOptions o(g.lr);
    apply_group(o, g);
    SwarmLoss probe = make_swarm_loss(loss, preset, swarm);  // checks the options, builds a callable
    o.swarm(probe.options());
    if (probe.options().loss() == adaswarm::LossKind::Custom)
      opt_ = std::make_unique<AdaSwarm>(checked_params(params), o, python_loss(loss.cast<py::function>()));
    else
      opt_ = std::make_unique<AdaSwarm>(checked_params(params), o);
  }

  void add_param_group(const std::vector<at::Tensor>& params, const GroupOptions& g) {
    check_group(g, opt_->param_groups().size());
    auto o = std::make_unique<AdaSwarmOptions>(static_cast<const AdaSwarmOptions&>(opt_->defaults()));
    apply_group(*o, g);
    opt_->add_param_group(torch::optim::OptimizerParamGroup(checked_params(params), std::move(o)));
  }

  /// Every group's options from Python (before each step: schedulers write there).
  void sync(const std::vector<GroupOptions>& groups) {
    auto& pg = opt_->param_groups();
    if (groups.size() != pg.size())
      bad("AdaSwarm: " + std::to_string(groups.size()) + " param groups in Python, " + std::to_string(pg.size()) +
          " in C++");
    for (size_t i = 0; i < groups.size(); ++i) check_group(groups[i], i);
    for (size_t i = 0; i < groups.size(); ++i) apply_group(static_cast<AdaSwarmOptions&>(pg[i].options()), groups[i]);
  }

  std::vector<GroupOptions> group_options() const {
    std::vector<GroupOptions> out;
    for (const auto& g : opt_->param_groups()) {
      const auto& o = static_cast<const AdaSwarmOptions&>(g.options());
      out.push_back({o.lr(), std::get<0>(o.betas()), std::get<1>(o.betas()), o.eps(), o.weight_decay(), o.amsgrad()});
    }
    return out;
  }

  void step() {
    py::gil_scoped_release nogil;
    opt_->step();
  }

  py::bytes state_bytes() const {
    std::ostringstream out;
    {
      py::gil_scoped_release nogil;
      torch::serialize::OutputArchive archive;
      opt_->save(archive);
      archive.save_to(out);
    }
    return py::bytes(out.str());
  }

  void load_state_bytes(const py::bytes& blob) {
    std::string s = blob;
    py::gil_scoped_release nogil;
    std::istringstream in(s);
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(in);
    } catch (const c10::Error& e) {
      throw std::invalid_argument(std::string("AdaSwarm.load_state_dict: not an AdaSwarm state (") +
                                  e.what_without_backtrace() + ")");
    }
    opt_->load(archive);
  }

  /// Adam's state of one parameter (the C++ tensors themselves), or None before its first step.
  py::object param_state(const at::Tensor& p) const {
    auto it = opt_->state().find(adaswarm::optim::state_key(p));
    if (it == opt_->state().end()) return py::none();
    const auto& st = static_cast<const adaswarm::optim::AdaSwarmParamState&>(*it->second);
    py::dict d;
    d["step"] = st.step();
    d["exp_avg"] = st.exp_avg();
    d["exp_avg_sq"] = st.exp_avg_sq();
    if (st.max_exp_avg_sq().defined()) d["max_exp_avg_sq"] = st.max_exp_avg_sq();
    return d;
  }

  SwarmLoss loss() const { return opt_->loss(); }

 private:
  std::unique_ptr<AdaSwarm> opt_;
};

// ---------------------------------------------------------------------------
// PGSO.
// ---------------------------------------------------------------------------
std::vector<double> bound_vector(const py::object& v, int64_t dim, const char* which) {
  if (py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v)) return {v.cast<double>()};
  std::vector<double> out;
  try {
    out = v.cast<std::vector<double>>();
  } catch (const py::cast_error&) {
    bad(std::string("minimize: the ") + which + " bound must be a number or a sequence of " + std::to_string(dim) +
        " numbers");
  }
  if (static_cast<int64_t>(out.size()) != dim && out.size() != 1)
    bad(std::string("minimize: the ") + which + " bound has " + std::to_string(out.size()) + " values, dim is " +
        std::to_string(dim));
  return out;
}

adaswarm::pgso::Objective python_objective(py::function fn) {
  auto held = std::shared_ptr<py::function>(new py::function(std::move(fn)), [](py::function* f) {
    py::gil_scoped_acquire gil;
    delete f;
  });
  return [held](const double* X, int64_t P, int64_t D, double* out) {
    py::gil_scoped_acquire gil;
    at::Tensor x = at::from_blob(const_cast<double*>(X), {P, D}, at::TensorOptions().dtype(at::kDouble)).clone();
    py::object r = (*held)(x);
    at::Tensor f;
    try {
      f = r.cast<at::Tensor>();
    } catch (const py::cast_error&) {
      bad("minimize: the objective must return a torch.Tensor of " + std::to_string(P) + " values, got " +
          std::string(py::str(py::type::of(r).attr("__name__"))));
    }
    if (f.numel() != P || (f.dim() != 1 && !(f.dim() == 2 && f.size(1) == 1)))
      bad("minimize: the objective must return " + std::to_string(P) + " values ([P] or [P, 1]) for a [" +
          std::to_string(P) + ", " + std::to_string(D) + "] batch, got shape " + c10::str(f.sizes()));
    if (!at::isFloatingType(f.scalar_type()) && !at::isIntegralType(f.scalar_type(), /*includeBool=*/false))
      bad("minimize: the objective must return real numbers, got a " + std::string(c10::toString(f.scalar_type())) +
          " tensor");
    f = f.detach().to(at::kCPU, at::kDouble).contiguous();
    std::copy(f.data_ptr<double>(), f.data_ptr<double>() + P, out);
  };
}

py::dict result_dict(const adaswarm::pgso::Result& r, const std::string& algorithm) {
  py::dict d;
  d["x"] = torch::tensor(r.best_position, torch::kDouble);
  d["fun"] = r.best_fitness;
  d["evaluations"] = r.evaluations;
  d["seconds"] = r.seconds;
  d["algorithm"] = algorithm;
  py::list log;
  for (const auto& e : r.log) log.append(py::make_tuple(e.iteration, e.evaluations, e.best, e.stage));
  d["log"] = log;
  if (algorithm == "pgso") {
    d["exchanges"] = r.exchanges;
    d["exchange_iteration"] = r.exchange_iteration;
    d["exchange_source"] = r.exchange_source;
    d["stage1_best"] = r.stage1_best;
    d["stage2_evaluations"] = r.stage2_evaluations;
  }
  return d;
}

py::dict minimize(const py::object& fn, py::object dim_obj, py::object bounds, const std::string& algorithm,
                  int64_t seed, int threads, py::dict kw) {
  using namespace adaswarm::pgso;
  if (seed < 0) bad("minimize: seed must be >= 0");
  if (threads < 0) bad("minimize: threads must be >= 0 (0: all cores)");
  Objective objective;
  std::shared_ptr<Function> named;
  std::vector<double> lower, upper;
  if (dim_obj.is_none() || PyBool_Check(dim_obj.ptr()) || !PyIndex_Check(dim_obj.ptr()) || PyFloat_Check(dim_obj.ptr()))
    bad("minimize: dim must be an integer >= 1, got " + std::string(py::str(py::repr(dim_obj))));
  const int64_t dim = dim_obj.cast<int64_t>();
  if (dim < 1) bad("minimize: dim must be an integer >= 1, got " + std::to_string(dim));
  if (py::isinstance<py::str>(fn)) {
    named = std::make_shared<Function>(fn.cast<std::string>(), dim);
    objective = [named](const double* X, int64_t P, int64_t D, double* out) { named->evaluate(X, P, D, out); };
    lower = {named->lower()};
    upper = {named->upper()};
  } else if (PyCallable_Check(fn.ptr())) {
    objective = python_objective(fn.cast<py::function>());
    if (bounds.is_none()) bad("minimize: a callable objective needs bounds=(lower, upper)");
  } else {
    bad("minimize: fn must be a benchmark name (e.g. 'rastrigin') or a callable taking a [P, D] tensor");
  }
  if (!bounds.is_none()) {
    py::sequence b;
    if (!py::isinstance<py::sequence>(bounds) || py::len(bounds) != 2)
      bad("minimize: bounds must be (lower, upper), each a number or a sequence of dim numbers");
    b = bounds.cast<py::sequence>();
    lower = bound_vector(b[0], dim, "lower");
    upper = bound_vector(b[1], dim, "upper");
  }
  Kwargs k(kw, "minimize");
  int64_t i;
  double d;
  bool flag;
  Result r;
  if (algorithm == "pgso") {
    PgsoOptions o;
    o.seed(static_cast<uint64_t>(seed)).threads(threads).lower(lower).upper(upper).log_every(0);
    if (k.get("subswarms", i)) o.subswarms(i);
    if (k.get("particles", i)) o.particles(i);
    if (k.get("iterations", i)) o.iterations(i);
    if (k.get("stage2_iterations", i)) o.stage2_iterations(i);
    if (k.get("inertia", d)) o.inertia(d);
    if (k.get("c1", d)) o.c1(d);
    if (k.get("c2", d)) o.c2(d);
    if (k.get("exchange_iteration", i)) o.exchange_iteration(i);
    if (k.get("exchange", flag)) o.exchange(flag);
    if (k.get("log_every", i)) o.log_every(i);
    k.check_all_used();
    validate(o, dim);
    py::gil_scoped_release nogil;
    r = pgso(objective, dim, o);
  } else if (algorithm == "gso") {
    GsoOptions o = GsoOptions::authors(dim);
    o.seed(static_cast<uint64_t>(seed)).lower(lower).upper(upper).log_every(0);
    if (k.get("epochs", i)) o.epochs(i);
    if (k.get("level1_iterations", i)) o.level1_iterations(i);
    if (k.get("level2_iterations", i)) o.level2_iterations(i);
    if (k.get("particles", i)) o.particles(i);
    if (k.get("subswarms", i)) o.subswarms(i);
    if (k.get("random_low", d)) o.random_low(d);
    if (k.get("log_every", i)) o.log_every(i);
    k.check_all_used();
    validate(o, dim);
    py::gil_scoped_release nogil;
    r = gso(objective, dim, o);
  } else if (algorithm == "pso") {
    PsoOptions o;
    o.seed(static_cast<uint64_t>(seed)).lower(lower).upper(upper).log_every(0);
    if (k.get("particles", i)) o.particles(i);
    if (k.get("iterations", i)) o.iterations(i);
    if (k.get("inertia", d)) o.inertia(d);
    if (k.get("c1", d)) o.c1(d);
    if (k.get("c2", d)) o.c2(d);
    if (k.get("log_every", i)) o.log_every(i);
    k.check_all_used();
    validate(o, dim);
    py::gil_scoped_release nogil;
    r = pso(objective, dim, o);
  } else {
    bad("minimize: algorithm must be 'pgso', 'gso' or 'pso', got '" + algorithm + "'");
  }
  return result_dict(r, algorithm);
}

py::dict function_info(const std::string& name, int64_t dim) {
  adaswarm::pgso::Function f(name, dim);
  py::dict d;
  d["name"] = f.name();
  d["dim"] = f.dim();
  d["lower"] = f.lower();
  d["upper"] = f.upper();
  d["minimum"] = f.minimum();
  d["minimiser"] = torch::tensor(f.minimiser(), torch::kDouble);
  d["unimodal"] = f.unimodal();
  return d;
}

at::Tensor evaluate_function(const std::string& name, const at::Tensor& x) {
  if (x.dim() != 2) bad("evaluate: x must be [P, D], got " + c10::str(x.sizes()));
  if (!at::isFloatingType(x.scalar_type()) && !at::isIntegralType(x.scalar_type(), /*includeBool=*/false))
    bad("evaluate: x must hold real numbers, got a " + std::string(c10::toString(x.scalar_type())) + " tensor");
  adaswarm::pgso::Function f(name, x.size(1));
  at::Tensor xc = x.detach().to(at::kCPU, at::kDouble).contiguous();
  at::Tensor out = at::empty({x.size(0)}, at::TensorOptions().dtype(at::kDouble));
  f.evaluate(xc.data_ptr<double>(), x.size(0), x.size(1), out.data_ptr<double>());
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "adaswarm C++ kernels (use the `adaswarm` package, not this module)";

  // c10 errors (TORCH_CHECK and friends) as Python exceptions with the C++
  // message (std::invalid_argument / domain_error -> ValueError and
  // std::runtime_error -> RuntimeError are pybind11's own translations).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const c10::IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what_without_backtrace());
    } catch (const c10::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what_without_backtrace());
    } catch (const c10::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what_without_backtrace());
    } catch (const c10::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what_without_backtrace());
    }
  });

  py::class_<SwarmLoss>(m, "SwarmLoss")
      .def(py::init(&make_swarm_loss), py::arg("loss"), py::arg("preset"), py::arg("options"))
      .def(
          "forward",
          [](SwarmLoss& self, const at::Tensor& output, const at::Tensor& target) {
            py::gil_scoped_release nogil;
            return self.forward(output, target);
          },
          py::arg("output"), py::arg("target"))
      .def(
          "set_center",
          [](SwarmLoss& self, const py::object& c) {
            at::Tensor t;
            if (!c.is_none()) {
              if (!THPVariable_Check(c.ptr()))
                bad("SwarmLoss.set_center: center must be a torch.Tensor or None, got " +
                    std::string(py::str(py::type::of(c).attr("__name__"))));
              t = c.cast<at::Tensor>();
            }
            py::gil_scoped_release nogil;  // the loss's lock may be held by a forward that calls Python
            self.set_center(t);
          },
          py::arg("center"))
      .def_property_readonly("options", [](const SwarmLoss& self) { return options_dict(self.options()); })
      .def_property_readonly("diagnostics", [](const SwarmLoss& self) { return diagnostics_dict(self.diagnostics()); })
      .def_property("threads", &SwarmLoss::threads,
                    [](SwarmLoss& self, const py::object& n) {
                      if (PyBool_Check(n.ptr()) || !PyIndex_Check(n.ptr()) || PyFloat_Check(n.ptr()))
                        bad("SwarmLoss.threads must be an integer >= 1, got " + std::string(py::str(py::repr(n))));
                      const auto v = n.cast<int64_t>();
                      py::gil_scoped_release nogil;
                      self.set_threads(v);
                    })
      .def("same_state", [](const SwarmLoss& a, const SwarmLoss& b) {
        // Handles share state when they came from the same loss (the optimizer's).
        return &a.diagnostics() == &b.diagnostics();
      });

  py::class_<GroupOptions>(m, "GroupOptions")
      .def(py::init([](double lr, double b1, double b2, double eps, double wd, bool ams) {
             return GroupOptions{lr, b1, b2, eps, wd, ams};
           }),
           py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
           py::arg("amsgrad"))
      .def_readonly("lr", &GroupOptions::lr)
      .def_readonly("beta1", &GroupOptions::beta1)
      .def_readonly("beta2", &GroupOptions::beta2)
      .def_readonly("eps", &GroupOptions::eps)
      .def_readonly("weight_decay", &GroupOptions::weight_decay)
      .def_readonly("amsgrad", &GroupOptions::amsgrad);

  py::class_<PyAdaSwarm>(m, "AdaSwarm")
      .def(py::init<const std::vector<at::Tensor>&, const GroupOptions&, const py::object&, const std::string&,
                    const py::dict&>(),
           py::arg("params"), py::arg("group"), py::arg("loss"), py::arg("preset"), py::arg("swarm"))
      .def("add_param_group", &PyAdaSwarm::add_param_group, py::arg("params"), py::arg("group"))
      .def("sync", &PyAdaSwarm::sync, py::arg("groups"))
      .def("group_options", &PyAdaSwarm::group_options)
      .def("step", &PyAdaSwarm::step)
      .def("state_bytes", &PyAdaSwarm::state_bytes)
      .def("load_state_bytes", &PyAdaSwarm::load_state_bytes, py::arg("blob"))
      .def("param_state", &PyAdaSwarm::param_state, py::arg("param"))
      .def("loss", &PyAdaSwarm::loss);

  m.def("minimize", &minimize, py::arg("fn"), py::arg("dim"), py::arg("bounds"), py::arg("algorithm"),
        py::arg("seed"), py::arg("threads"), py::arg("options"));
  m.def("function_info", &function_info, py::arg("name"), py::arg("dim"));
  m.def("evaluate_function", &evaluate_function, py::arg("name"), py::arg("x"));
  m.def("function_names", [] { return adaswarm::pgso::Function::base_names(); });
}
