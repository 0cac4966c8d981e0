// The swarm loss (SPEC.md section 3): forward = the ordinary loss value; backward
// = (cbar / eta)(y - g) from an EMPSO swarm whose particles are candidate outputs
// of shape batch x classes. The swarm runs on contiguous CPU float buffers (the
// per-batch swarm is tiny, so op-dispatch overhead would dominate a tensor
// version); outputs on another device are copied over and the gradient is
// returned on the output's device and dtype.
#include "adaswarm/loss/swarm_loss.h"

#include <omp.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <sstream>
#include <vector>

#include "fitness_kernels.h"
#include "swarm_loss_state.h"

namespace adaswarm {

// ---------------------------------------------------------------------------
// Plain losses (torch ops; any device)
// ---------------------------------------------------------------------------
namespace {

bool is_index_target(const at::Tensor& t) {
  return !at::isFloatingType(t.scalar_type()) && t.scalar_type() != at::kBool;
}

at::Tensor reduce(const at::Tensor& v, Reduction r) { return r == Reduction::Mean ? v.mean() : v.sum(); }

at::Tensor hinge_sign(const at::Tensor& t) { return at::where(t > 0, at::ones_like(t), -at::ones_like(t)); }

}  // namespace

namespace {
at::Tensor plain_value(LossKind kind, const at::Tensor& y, const at::Tensor& t, Reduction reduction, double delta) {
  const auto red = reduction == Reduction::Mean ? at::Reduction::Mean : at::Reduction::Sum;
  switch (kind) {
    case LossKind::MSE: return at::mse_loss(y, t.to(y.dtype()), red);
    case LossKind::MAE: return at::l1_loss(y, t.to(y.dtype()), red);
    case LossKind::BCE: return at::binary_cross_entropy(y, t.to(y.dtype()), {}, red);
    case LossKind::BCEWithLogits: return at::binary_cross_entropy_with_logits(y, t.to(y.dtype()), {}, {}, red);
    case LossKind::Huber: return at::huber_loss(y, t.to(y.dtype()), red, delta);
    case LossKind::SmoothL1: return at::smooth_l1_loss(y, t.to(y.dtype()), red, delta);
    case LossKind::CrossEntropy:
      if (is_index_target(t)) return at::cross_entropy_loss(y, t.to(at::kLong), {}, red);
      return reduce(-(t.to(y.dtype()) * at::log_softmax(y, 1)).sum(1), reduction);
    case LossKind::Hinge:
      if (is_index_target(t)) return at::multi_margin_loss(y, t.to(at::kLong), 1, 1.0, {}, red);
      return reduce(at::clamp_min(1 - hinge_sign(t) * y, 0), reduction);
    case LossKind::Custom: break;
  }
  throw std::invalid_argument("plain_loss: a custom loss has no built-in value");
}
}  // namespace

at::Tensor plain_loss(LossKind kind, const at::Tensor& y, const at::Tensor& t, Reduction reduction, double delta) {
  if ((kind == LossKind::Huber || kind == LossKind::SmoothL1) && !(delta > 0 && std::isfinite(delta)))
    throw std::invalid_argument("swarm loss: delta must be finite and > 0");
  try {
    return plain_value(kind, y, t, reduction, delta);
  } catch (const c10::Error&) {
    // LibTorch checks the inputs itself (no extra pass on the good path); the
    // causes we know are named here, without its backtrace; others go on as they are.
    auto in_unit = [](const at::Tensor& v) {
      return v.numel() == 0 || (v.min().item<double>() >= 0 && v.max().item<double>() <= 1);
    };
    if (kind == LossKind::BCE && !in_unit(y))
      throw std::invalid_argument("swarm loss: bce needs outputs and targets in [0, 1] (probabilities; use "
                                  "'bce-logits' for logits)");
    if ((kind == LossKind::CrossEntropy || kind == LossKind::Hinge) && is_index_target(t) && t.numel() > 0 &&
        y.dim() == 2 && (t.min().item<int64_t>() < 0 || t.max().item<int64_t>() >= y.size(1)))
      throw std::invalid_argument("swarm loss: class index out of range [0, " + std::to_string(y.size(1)) + ")");
    throw;
  }
}

namespace {

std::string shape_str(const at::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

}  // namespace

SwarmLoss::SwarmLoss(SwarmLossOptions options) : SwarmLoss(std::move(options), nullptr) {}

namespace {
/// The options of a loss with (or without) a custom callable, validated.
SwarmLossOptions checked_options(SwarmLossOptions options, bool has_custom) {
  if (options.loss() == LossKind::Custom && !has_custom)
    throw std::invalid_argument("invalid swarm loss option: loss 'custom' needs a callable");
  // The loss kind first, so that the checks that depend on it (ideal_limit,
  // element bests) see the custom loss the object will run.
  if (has_custom) options.loss(LossKind::Custom);
  options.validate();
  return options;
}
}  // namespace

SwarmLoss::SwarmLoss(SwarmLossOptions options, CustomLossFn custom) : state_(std::make_shared<State>()) {
  state_->options = checked_options(std::move(options), static_cast<bool>(custom));
  state_->custom = std::move(custom);
  state_->rng.reseed(state_->options.swarm().seed(), 0x5ULL);
}

SwarmLoss::SwarmLoss(SwarmLossOptions options, CustomKernel kernel) : state_(std::make_shared<State>()) {
  if (!kernel.fn) throw std::invalid_argument("invalid swarm loss option: a custom kernel needs a function");
  state_->options = checked_options(std::move(options), true);
  state_->kernel = std::move(kernel);
  state_->rng.reseed(state_->options.swarm().seed(), 0x5ULL);
}

void SwarmLoss::set_center(const at::Tensor& center) {
  const std::lock_guard<std::mutex> lock(state_->mutex);
  if (!center.defined()) {
    state_->center = at::Tensor();
    return;
  }
  if (!at::isFloatingType(center.scalar_type()))
    throw std::invalid_argument("swarm loss: the start centre must be a floating-point tensor, got " +
                                std::string(c10::toString(center.scalar_type())));
  at::Tensor c = center.detach().to(at::kCPU, at::kFloat).contiguous().clone();
  if (!at::isfinite(c).all().item<bool>()) throw std::invalid_argument("swarm loss: the start centre contains NaN or Inf");
  state_->center = c;
}

const SwarmLossOptions& SwarmLoss::options() const { return state_->options; }
const SwarmLossDiagnostics& SwarmLoss::diagnostics() const { return state_->diagnostics; }
const swarm::Swarm<float>* SwarmLoss::last_swarm() const { return state_->swarm.get(); }
void SwarmLoss::set_threads(int64_t n) {
  if (n < 1) throw std::invalid_argument("swarm loss: threads must be >= 1, got " + std::to_string(n));
  const std::lock_guard<std::mutex> lock(state_->mutex);
  state_->threads = n;
}
int64_t SwarmLoss::threads() const { return state_->threads; }

namespace {

/// The autograd Function: forward returns the precomputed loss value, backward
/// scales the precomputed swarm gradient by grad_output (unless the reference
/// scale ignores it).
struct SwarmLossFunction : public torch::autograd::Function<SwarmLossFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& output,
                            const at::Tensor& value, const at::Tensor& grad, bool use_grad_output) {
    ctx->saved_data["grad"] = grad;
    ctx->saved_data["use_grad_output"] = use_grad_output;
    return value.clone();
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    auto grad = ctx->saved_data["grad"].toTensor();
    if (ctx->saved_data["use_grad_output"].toBool()) grad = grad * grad_outputs[0];
    return {grad, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

/// One batch, validated and seen as [B, C].
struct Batch {
  at::Tensor output;  ///< [B, C] view of the output (with its autograd history)
  at::Tensor target;  ///< built-in: [B, C] float or [B] int64; custom: as given
  int64_t B = 0, C = 0;
  bool index_target = false;  ///< class indices [B] in [0, C)
  bool shaped_target = false; ///< a [B, C] float target (or class indices): target-bound starts can use it
  at::Tensor target_bc;       ///< that [B, C] float target when shaped_target and not index_target
};

/// Step 1: validate the inputs and view them as [B, C].
Batch view_batch(LossKind kind, const at::Tensor& output_in, const at::Tensor& target_in) {
  if (!output_in.defined() || !target_in.defined())
    throw std::invalid_argument("swarm loss: output and target must be defined tensors");
  if (output_in.dim() < 1 || output_in.dim() > 2)
    throw std::invalid_argument("swarm loss: output must be [batch] or [batch, classes], got " +
                                shape_str(output_in));
  if (!at::isFloatingType(output_in.scalar_type()))
    throw std::invalid_argument("swarm loss: output must be a floating-point tensor");
  Batch bt;
  bt.output = output_in.dim() == 1 ? output_in.unsqueeze(1) : output_in;
  bt.B = bt.output.size(0);
  bt.C = bt.output.size(1);
  const int64_t B = bt.B, C = bt.C;
  if (B == 0 || C == 0) throw std::invalid_argument("swarm loss: empty batch (output " + shape_str(output_in) + ")");
  if (kind == LossKind::CrossEntropy && C < 2)
    throw std::invalid_argument("swarm loss: cross-entropy needs at least 2 classes (output [batch, classes]), got " +
                                shape_str(output_in));
  const bool custom = kind == LossKind::Custom;
  const bool looks_index = is_index_target(target_in) && target_in.dim() == 1 && target_in.size(0) == B;
  // The output's shape, or [B] against [B, 1] either way round (one output per
  // row); nothing else is reshaped (a [4, 3] output and a [12] target are refused).
  const bool same_shape = target_in.sizes() == output_in.sizes() ||
                          (C == 1 && target_in.numel() == B &&
                           (target_in.dim() == 1 || (target_in.dim() == 2 && target_in.size(1) == 1)));
  if (custom) {
    // A custom loss takes its target as given; target-bound starts check it later.
    bt.target = target_in;
    if (looks_index && C > 1) {
      const auto mn = target_in.min().item<int64_t>(), mx = target_in.max().item<int64_t>();
      bt.index_target = bt.shaped_target = mn >= 0 && mx < C;
    } else if (same_shape) {
      bt.shaped_target = true;
      bt.target_bc = target_in.reshape({B, C}).to(bt.output.dtype());
    }
    return bt;
  }
  const bool index_ok = looks_index || (is_index_target(target_in) && target_in.dim() == 1);
  if (index_ok && (kind == LossKind::CrossEntropy || kind == LossKind::Hinge)) {
    if (target_in.size(0) != B)
      throw std::invalid_argument("swarm loss: target " + shape_str(target_in) + " does not match output " +
                                  shape_str(output_in) + " (expected " + std::to_string(B) + " class indices)");
    bt.target = target_in.to(at::kLong);
    const auto mn = bt.target.min().item<int64_t>(), mx = bt.target.max().item<int64_t>();
    if (mn < 0 || mx >= C)
      throw std::invalid_argument("swarm loss: class index out of range [0, " + std::to_string(C) +
                                  "): found " + std::to_string(mn < 0 ? mn : mx));
    bt.index_target = bt.shaped_target = true;
    return bt;
  }
  if (!same_shape && (kind == LossKind::CrossEntropy || kind == LossKind::Hinge) && target_in.dim() == 1 &&
      target_in.size(0) == B)
    throw std::invalid_argument("swarm loss: target " + shape_str(target_in) + " looks like class indices for output " +
                                shape_str(output_in) + " but is " + c10::toString(target_in.scalar_type()) +
                                ": class indices must be an integer tensor (torch.long)");
  if (!same_shape)
    throw std::invalid_argument("swarm loss: target " + shape_str(target_in) + " does not match output " +
                                shape_str(output_in));
  bt.target = bt.target_bc = target_in.reshape({B, C}).to(bt.output.dtype());
  bt.shaped_target = true;
  return bt;
}

/// A tensor converted to CPU float32 for the search: every value finite (a
/// finite double beyond float32's range would be inf here).
void check_float32(const at::Tensor& t, const char* what) {
  const float* p = t.data_ptr<float>();
  for (int64_t k = 0, n = t.numel(); k < n; ++k)
    if (!std::isfinite(p[k]))
      throw std::invalid_argument(std::string("swarm loss: the ") + what +
                                  " has a value that is NaN, Inf or beyond float32's range (the search runs in "
                                  "float32; |value| <= 3.4e38)");
}

/// A custom loss's result checked: [P, B, C] or [P, B].
void check_custom_result(const at::Tensor& l, int64_t P, int64_t B, int64_t C) {
  const bool ok = (l.dim() == 3 && l.size(0) == P && l.size(1) == B && l.size(2) == C) ||
                  (l.dim() == 2 && l.size(0) == P && l.size(1) == B);
  if (!ok)
    throw std::invalid_argument("swarm loss: a custom loss must return [P, B, C] or [P, B] = [" + std::to_string(P) +
                                ", " + std::to_string(B) + ", " + std::to_string(C) + "] or [" + std::to_string(P) +
                                ", " + std::to_string(B) + "], got " + shape_str(l));
  if (!at::isFloatingType(l.scalar_type()))
    throw std::invalid_argument("swarm loss: a custom loss must return a floating-point tensor, got " +
                                std::string(c10::toString(l.scalar_type())));
}

/// Where the swarm of one batch starts, Auto resolved.
struct StartPlan {
  SwarmStart start = SwarmStart::Targets;
  bool symmetric = false;      ///< centre + U(-s_c, s_c)
  std::vector<float> span;     ///< s_c per column (symmetric)
};

/// Step 3: resolve the start of this batch (Auto, spans, shape checks).
StartPlan plan_start(const SwarmLossOptions& o, const Batch& bt, const float* yp) {
  StartPlan plan;
  const bool custom = o.loss() == LossKind::Custom;
  plan.start = o.start();
  double span = o.start_span(), scale = o.span_scale();
  if (plan.start == SwarmStart::Auto) {
    plan.start = custom ? SwarmStart::Output : SwarmStart::Targets;
    if (custom) {
      // The loss-driven default (docs/fidelity.md): a span that follows the
      // output's spread and is never below 1 output unit.
      if (span == 0) span = 1.0;
      if (scale == 0) scale = 1.0;
    }
  }
  if (plan.start == SwarmStart::Targets && !bt.shaped_target)
    throw std::invalid_argument("swarm loss: the targets start needs a target of the output's shape " +
                                shape_str(bt.output) + " (or " + std::to_string(bt.B) +
                                " class indices), got target " + shape_str(bt.target) +
                                "; start around the output (SwarmStart::Output or Auto) instead");
  plan.symmetric = span > 0 || scale > 0;
  if (plan.symmetric) {
    plan.span.assign(static_cast<size_t>(bt.C), static_cast<float>(span));
    if (scale > 0) {
      for (int64_t c = 0; c < bt.C; ++c) {
        double m = 0, m2 = 0;
        for (int64_t b = 0; b < bt.B; ++b) m += yp[b * bt.C + c];
        m /= static_cast<double>(bt.B);
        for (int64_t b = 0; b < bt.B; ++b) m2 += (yp[b * bt.C + c] - m) * (yp[b * bt.C + c] - m);
        const double sd = std::sqrt(m2 / static_cast<double>(bt.B));
        plan.span[static_cast<size_t>(c)] = static_cast<float>(std::max(span, scale * sd));
      }
    }
  }
  return plan;
}

}  // namespace

// ---------------------------------------------------------------------------
// The steps of SwarmLoss::forward
// ---------------------------------------------------------------------------
struct SwarmLoss::Step {
  State& st;
  const SwarmLossOptions& o;
  const Batch& bt;
  const float* yp;        // output, CPU float [B, C]
  const float* tp;        // target, CPU float [B, C] (shaped targets only)
  const int64_t* idx;     // class indices (index targets only)
  at::Tensor target_cpu;  // custom: the target as given, on the CPU
  int64_t D;
  bool element = false;  // Bests::Element: one best group per output element
  double red_scale = 1.0;

  /// Step 4: the start positions [P x D] around the plan's centre.
  std::vector<float> start_positions(const StartPlan& plan, int64_t P) {
    const int64_t B = bt.B, C = bt.C;
    const bool ce = o.loss() == LossKind::CrossEntropy;
    // The centre of each element.
    std::vector<float> centre(static_cast<size_t>(D));
    switch (plan.start) {
      case SwarmStart::Targets:
        for (int64_t b = 0; b < B; ++b)
          for (int64_t c = 0; c < C; ++c) {
            const int64_t k = b * C + c;
            const float tv = idx ? (idx[b] == c ? 1.f : 0.f) : tp[k];
            // Cross-entropy (reference): -4 everywhere, 1 at the true class.
            centre[static_cast<size_t>(k)] = ce ? -4.f + 5.f * tv : tv;
          }
        break;
      case SwarmStart::Center: {
        if (!st.center.defined())
          throw std::invalid_argument("swarm loss: start 'center' needs a centre (SwarmLoss::set_center)");
        if (st.center.numel() != D ||
            !(st.center.dim() == 2 ? st.center.size(0) == B : st.center.dim() == 1 && C == 1))
          throw std::invalid_argument("swarm loss: the start centre " + shape_str(st.center) +
                                      " does not match the output " + shape_str(bt.output));
        std::copy_n(st.center.data_ptr<float>(), D, centre.begin());
        break;
      }
      case SwarmStart::Previous:
        if (st.previous_B == B && st.previous_C == C && !st.previous_best.empty()) {
          centre = st.previous_best;
          break;
        }
        [[fallthrough]];
      case SwarmStart::Output:
      case SwarmStart::Auto:
        std::copy_n(yp, D, centre.begin());
        break;
    }
    std::vector<float> x0(static_cast<size_t>(P * D));
    const float noise = static_cast<float>(o.start_noise());
    // A local copy of the generator keeps its state in registers through the
    // loop (the member's was stored and reloaded per draw); the same draws.
    Rng rng = st.rng;
    for (int64_t i = 0; i < P; ++i) {
      float* x = x0.data() + i * D;
      size_t c = 0;  // k % C without a division per element
      for (int64_t k = 0; k < D; ++k, c = c + 1 == static_cast<size_t>(C) ? 0 : c + 1) {
        float u;
        if (plan.symmetric) {
          const double s = plan.span[c];
          u = static_cast<float>(rng.uniform(-s, s));
        } else if (plan.start == SwarmStart::Targets) {
          // The reference: U(0, 1) above the target (cross-entropy: unscaled).
          u = ce ? static_cast<float>(rng.uniform()) : noise * static_cast<float>(rng.uniform());
        } else {
          u = noise * static_cast<float>(rng.uniform(-1.0, 1.0));
        }
        x[k] = centre[static_cast<size_t>(k)] + u;
      }
    }
    st.rng = rng;
    return x0;
  }

  /// The fitness of P candidate outputs, one value per best group.
  void fitness(const float* X, int64_t P, int64_t groups, float* out) {
    fitness(X, P, groups, out, 0, bt.B, target_cpu);
  }
  /// The same for the rows b0 .. b0 + nb - 1 of the batch (X: [P, nb, C];
  /// target: those rows of a custom target; a sliced search, search_sliced).
  void fitness(const float* X, int64_t P, int64_t groups, float* out, int64_t b0, int64_t nb,
               const at::Tensor& target) {
    const int64_t B = nb, C = bt.C, Ds = nb * C;
    const LossKind kind = o.loss();
    if (st.kernel.fn) {
      const bool pe = st.kernel.per_element;
      if (element && !pe)
        throw std::invalid_argument("swarm loss: bests 'element' need a custom kernel with per_element = true");
      if (element) {  // unscaled: see search()
        st.kernel.fn(X, P, B, C, target, out);
        return;
      }
      thread_local std::vector<float> buf, rows;
      buf.resize(static_cast<size_t>(P * B * (pe ? C : 1)));
      st.kernel.fn(X, P, B, C, target, buf.data());
      const float* lp = buf.data();
      if (pe) {
        rows.resize(static_cast<size_t>(P * B));
        detail::row_sums(buf.data(), P * B, C, rows.data());
        lp = rows.data();
      }
      reduce_rows(lp, P, B, groups, out);
      return;
    }
    if (kind == LossKind::Custom) {  // never sliced (search_slices)
      at::Tensor pos = at::from_blob(const_cast<float*>(X), {P, B, C}, at::TensorOptions().dtype(at::kFloat));
      at::Tensor l = st.custom(pos, target);
      check_custom_result(l, P, B, C);
      l = l.to(at::kCPU, at::kFloat).contiguous();
      const float* lp = l.data_ptr<float>();
      if (element && l.dim() == 3) {  // unscaled: see search()
        std::copy_n(lp, P * Ds, out);
        return;
      }
      if (element)
        throw std::invalid_argument("swarm loss: bests 'element' need a custom loss that returns per-element "
                                    "losses [P, B, C], got " + shape_str(l));
      if (l.dim() == 3) l = l.sum(2).contiguous();
      reduce_rows(l.data_ptr<float>(), P, B, groups, out);
      return;
    }
    const float* t = tp ? tp + b0 * C : nullptr;
    const int64_t* ix = idx ? idx + b0 : nullptr;
    if (element) {
      for (int64_t i = 0; i < P; ++i)
        detail::element_losses(kind, X + i * Ds, t, Ds, static_cast<float>(o.delta()), out + i * Ds);
      return;
    }
    thread_local std::vector<float> rows;
    rows.resize(static_cast<size_t>(P * B));
    for (int64_t i = 0; i < P; ++i)
      detail::row_losses(kind, X + i * Ds, t, ix, B, C, static_cast<float>(o.delta()), rows.data() + i * B);
    reduce_rows(rows.data(), P, B, groups, out);
  }

  /// [P, B] row losses -> per-row (groups = B) or whole-batch (groups = 1) fitness.
  void reduce_rows(const float* lp, int64_t P, int64_t B, int64_t groups, float* out) const {
    for (int64_t i = 0; i < P; ++i) {
      if (groups == B) {
        detail::scale_to_float(lp + i * B, B, red_scale, out + i * B);
      } else {
        double s = 0;
        for (int64_t b = 0; b < B; ++b) s += lp[i * B + b];
        out[i] = static_cast<float>(s * red_scale);
      }
    }
  }

  /// A search's outcome per best group, for the diagnostics.
  struct Watched {
    swarm::RunInfo info;
    int64_t moved = 0, flat = 0;  // groups whose best beat the start / that never varied
    std::exception_ptr error;     // search_sliced: a slice's error, rethrown after the threads
  };

  /// Evaluates sw's start and runs `iterations` steps with eval(X, np, out) as
  /// the fitness, watching the search: did any particle score differently from
  /// the others in a group, and did the group's best improve on the start?
  template <typename Eval>
  Watched run_watched(swarm::Swarm<float>& sw, int64_t iterations, const Eval& eval) const {
    const int64_t G = sw.groups();
    std::vector<char> varied(static_cast<size_t>(G), 0);
    int64_t n_varied = 0;  // once every group has varied, the check costs nothing
    const auto fit = [&](const float* X, int64_t np, int64_t, float* out) {
      eval(X, np, out);
      for (int64_t gi = 0; gi < G && n_varied < G; ++gi) {
        if (varied[static_cast<size_t>(gi)]) continue;
        for (int64_t i = 1; i < np; ++i)
          if (out[i * G + gi] != out[gi]) {
            varied[static_cast<size_t>(gi)] = 1;
            ++n_varied;
            break;
          }
      }
    };
    sw.evaluate(fit);
    // Ties go to the first particle, so with no signal the best is particle 0's
    // start: a group "moved" when its best beats that.
    const std::vector<float> first_start(sw.fitness().begin(), sw.fitness().begin() + G);
    Watched w;
    w.info = sw.run(fit, iterations);
    for (int64_t gi = 0; gi < G; ++gi) {
      w.moved += sw.global_best_fitness()[static_cast<size_t>(gi)] < first_start[static_cast<size_t>(gi)];
      w.flat += !varied[static_cast<size_t>(gi)];
    }
    return w;
  }

  /// The search diagnostics of G groups (best: the swarm bests summed).
  void fill_diagnostics(SwarmLossDiagnostics& diag, int64_t G, int64_t moved, int64_t flat, int64_t iterations,
                        int64_t evaluations, double best) const {
    diag.groups = G;
    diag.moved_share = static_cast<double>(moved) / static_cast<double>(G);
    diag.flat_share = static_cast<double>(flat) / static_cast<double>(G);
    diag.blind = flat == G || moved == 0;
    diag.iterations = iterations;
    diag.evaluations = evaluations;
    // Per-element fitness is left unscaled (each element competes only with
    // itself, so a positive scale changes nothing): scale the reported best.
    diag.best_fitness = element ? best * red_scale : best;
  }

  /// The start's mean half-width (diagnostics).
  double mean_span(const StartPlan& plan) const {
    if (!plan.symmetric) return o.start_noise();
    double m = 0;
    for (float s : plan.span) m += s;
    return m / static_cast<double>(plan.span.size());
  }

  /// How many row slices this batch's search runs in (SwarmLoss::set_threads):
  /// more than 1 only where one swarm per slice gives what one swarm over the
  /// batch gives, bit for bit: per-row or per-element bests (each group sees
  /// only its own rows), one r1, r2 pair per particle (the same draws in every
  /// slice), no rotation, no per-coordinate bounds, no tolerance or stall rule
  /// (those watch the whole batch's best), no warm start, and a loss computed
  /// row by row on plain buffers (a built-in loss, or a CustomKernel whose
  /// target has the batch's rows on its first axis). Bounded by the OpenMP
  /// threads available here (1 inside a worker that holds them at 1).
  int64_t search_slices(const swarm::SwarmOptions& so) const {
    const int64_t want = std::min<int64_t>({st.threads, bt.B, static_cast<int64_t>(omp_get_max_threads())});
    if (want < 2 || o.bests() == Bests::Batch || o.warm_start()) return 1;
    if (o.loss() == LossKind::Custom &&
        !(st.kernel.fn && target_cpu.dim() >= 1 && target_cpu.size(0) == bt.B))
      return 1;
    if (so.random_mode() != swarm::RandomMode::PerParticle || so.variant() == swarm::Variant::REMPSO ||
        so.reference_rotation() || so.lower().size() > 1 || so.upper().size() > 1 ||
        so.tolerance() > -std::numeric_limits<double>::infinity() || so.stall_iterations() > 0)
      return 1;
    return want;
  }

  /// Step 5 in S row slices on S threads: one swarm per contiguous slice of
  /// rows, every one starting from the same generator state, so that all draw
  /// the same r1, r2 per particle and iteration as one swarm over the batch
  /// would; each row's (or element's) bests then take the same steps, and g,
  /// cbar and the diagnostics are the same bit for bit (tested). The start
  /// positions are the whole batch's draws, sliced.
  std::vector<float> search_sliced(double& cbar, SwarmLossDiagnostics& diag, const swarm::SwarmOptions& so,
                                   int64_t S) {
    const int64_t B = bt.B, C = bt.C, P = so.particles();
    const StartPlan plan = plan_start(o, bt, yp);
    diag.start = plan.start;
    const std::vector<float> x0 = start_positions(plan, P);
    diag.span = mean_span(plan);
    const Rng rng = st.rng;  // every slice's draws start here
    st.swarm.reset();        // last_swarm(): none after a sliced search
    st.warm_ready = false;
    st.slices.resize(static_cast<size_t>(S));
    std::vector<int64_t> first(static_cast<size_t>(S + 1));
    for (int64_t s = 0; s <= S; ++s) first[static_cast<size_t>(s)] = B * s / S;
    std::vector<at::Tensor> targets(static_cast<size_t>(S));  // views, made here (not in the threads)
    if (st.kernel.fn)
      for (int64_t s = 0; s < S; ++s)
        targets[static_cast<size_t>(s)] =
            target_cpu.narrow(0, first[static_cast<size_t>(s)], first[static_cast<size_t>(s + 1)] - first[static_cast<size_t>(s)]);
    std::vector<Watched> parts(static_cast<size_t>(S));
#pragma omp parallel for num_threads(static_cast<int>(S)) schedule(static, 1)
    for (int64_t s = 0; s < S; ++s) {
      Watched& part = parts[static_cast<size_t>(s)];
      try {
        const int64_t b0 = first[static_cast<size_t>(s)], nb = first[static_cast<size_t>(s + 1)] - b0, Ds = nb * C;
        swarm::SwarmOptions sso = so;
        sso.rows(element ? Ds : nb);
        auto& slot = st.slices[static_cast<size_t>(s)];
        if (!slot || slot->dim() != Ds || slot->options().rows() != sso.rows() ||
            slot->options().fitness_per_row() != sso.fitness_per_row())
          slot = std::make_unique<swarm::Swarm<float>>(sso, Ds);
        else
          slot->options() = sso;
        swarm::Swarm<float>& sw = *slot;
        std::vector<float> xs(static_cast<size_t>(P * Ds));
        for (int64_t i = 0; i < P; ++i) std::copy_n(x0.data() + i * D + b0 * C, Ds, xs.data() + i * Ds);
        sw.reset(xs.data());
        sw.rng().set_state(rng.state());
        const at::Tensor& target = targets[static_cast<size_t>(s)];
        const int64_t G = sw.groups();
        part = run_watched(sw, sso.iterations(), [&](const float* X, int64_t np, float* out) {
          fitness(X, np, G, out, b0, nb, target);
        });
      } catch (...) {
        part.error = std::current_exception();
      }
    }
    for (const auto& part : parts)
      if (part.error) std::rethrow_exception(part.error);
    // Gather in row order: g, and the best fitness summed over the groups in
    // the order one swarm sums them (Swarm::best_fitness).
    std::vector<float> g(static_cast<size_t>(D));
    double best = 0.0;
    int64_t G = 0, moved = 0, flat = 0;
    for (int64_t s = 0; s < S; ++s) {
      const swarm::Swarm<float>& sw = *st.slices[static_cast<size_t>(s)];
      std::copy(sw.global_best().begin(), sw.global_best().end(), g.begin() + first[static_cast<size_t>(s)] * C);
      for (float f : sw.global_best_fitness()) best += static_cast<double>(f);
      G += sw.groups();
      moved += parts[static_cast<size_t>(s)].moved;
      flat += parts[static_cast<size_t>(s)].flat;
    }
    const swarm::Swarm<float>& sw0 = *st.slices[0];
    st.rng.set_state(sw0.rng().state());
    fill_diagnostics(diag, G, moved, flat, parts[0].info.iterations, sw0.evaluations(), best);
    diag.threads = S;
    cbar = sw0.cbar();
    st.previous_best = g;
    st.previous_B = bt.B;
    st.previous_C = bt.C;
    return g;
  }

  /// Step 5: run the swarm; returns its best g, fills cbar and the search diagnostics.
  std::vector<float> search(double& cbar, SwarmLossDiagnostics& diag) {
    const int64_t B = bt.B;
    swarm::SwarmOptions so = o.swarm();
    const Bests bests = o.bests();
    if (bests == Bests::Element && !(o.loss() == LossKind::Custom || detail::elementwise_kind(o.loss(), idx)))
      throw std::invalid_argument(std::string("swarm loss: bests 'element' need an element-wise loss; '") +
                                  to_string(o.loss()) + "' is per sample here");
    element = bests == Bests::Element;
    so.rows(element ? D : B).fitness_per_row(bests != Bests::Batch);
    const int64_t slices = search_slices(so);
    if (slices > 1) {
      const Rng before = st.rng;
      try {
        return search_sliced(cbar, diag, so, slices);
      } catch (const std::exception&) {
        // Rerun on this thread from the same generator state: the same error,
        // naming the batch's particle and row (a slice knows only its own rows).
        st.rng = before;
      }
    }
    if (!st.swarm || st.swarm->dim() != D || st.swarm->options().rows() != so.rows() ||
        st.swarm->options().fitness_per_row() != so.fitness_per_row()) {
      st.swarm = std::make_unique<swarm::Swarm<float>>(so, D);
      st.warm_ready = false;
    } else {
      st.swarm->options() = so;
    }
    swarm::Swarm<float>& sw = *st.swarm;
    const int64_t P = so.particles();
    const bool warm = o.warm_start() && st.warm_ready;
    const StartPlan plan = plan_start(o, bt, yp);
    diag.start = plan.start;
    if (warm) {
      // Carry positions and velocities over; bests are re-evaluated on this batch.
      const std::vector<float> x = sw.positions(), v = sw.velocities();
      sw.reset(x.data(), v.data());
    } else {
      const std::vector<float> x0 = start_positions(plan, P);
      sw.reset(x0.data());
      diag.span = mean_span(plan);
    }
    sw.rng().set_state(st.rng.state());
    const int64_t G = sw.groups();
    const Watched w = run_watched(sw, so.iterations(), [&](const float* X, int64_t np, float* out) {
      fitness(X, np, G, out);
    });
    st.rng.set_state(sw.rng().state());
    st.warm_ready = true;
    fill_diagnostics(diag, G, w.moved, w.flat, w.info.iterations, sw.evaluations(), sw.best_fitness());
    cbar = sw.cbar();
    std::vector<float> g(sw.global_best().begin(), sw.global_best().end());
    st.previous_best = g;
    st.previous_B = bt.B;
    st.previous_C = bt.C;
    return g;
  }

  /// Step 6: dL/dy from y - g at the chosen scale.
  at::Tensor gradient(const std::vector<float>& g, double cbar) const {
    at::Tensor grad = at::empty({bt.B, bt.C}, at::TensorOptions().dtype(at::kFloat));
    float* gp = grad.data_ptr<float>();
    const double scale = o.reference_scale() ? 1.0 : red_scale;
    switch (o.grad_scale()) {
      case GradScale::Swarm: {
        const float k = static_cast<float>(cbar / o.eta() * scale);
        for (int64_t d = 0; d < D; ++d) gp[d] = k * (yp[d] - g[static_cast<size_t>(d)]);
        break;
      }
      case GradScale::Unit: {
        const float k = static_cast<float>(scale);
        for (int64_t d = 0; d < D; ++d) gp[d] = k * (yp[d] - g[static_cast<size_t>(d)]);
        break;
      }
      case GradScale::RowClip:
        for (int64_t b = 0; b < bt.B; ++b) {
          double n2 = 0;
          for (int64_t c = 0; c < bt.C; ++c) {
            const double d = yp[b * bt.C + c] - g[static_cast<size_t>(b * bt.C + c)];
            n2 += d * d;
          }
          const double n = std::sqrt(n2);
          const float k = static_cast<float>(scale * (n > 1.0 ? 1.0 / n : 1.0));
          for (int64_t c = 0; c < bt.C; ++c) {
            const int64_t d = b * bt.C + c;
            gp[d] = k * (yp[d] - g[static_cast<size_t>(d)]);
          }
        }
        break;
    }
    return grad;
  }

  /// Step 7 (optional): cosine and norm ratio against autograd's dL/dy.
  void compare(const at::Tensor& grad, SwarmLossDiagnostics& diag) const {
    at::Tensor y2 = bt.output.detach().clone().requires_grad_(true);
    at::Tensor l;
    {
      at::AutoGradMode enable(true);
      l = plain_loss(o.loss(), y2, bt.target, o.reduction(), o.delta());
    }
    at::Tensor tg = torch::autograd::grad({l}, {y2})[0].to(at::kCPU, at::kFloat).reshape({-1});
    at::Tensor ag = grad.reshape({-1});
    const double tn = tg.norm().item<double>(), an = ag.norm().item<double>();
    diag.cosine = (tn > 0 && an > 0) ? (tg * ag).sum().item<double>() / (tn * an) : 0.0;
    diag.norm_ratio = tn > 0 ? an / tn : std::numeric_limits<double>::infinity();
  }
};

/// Step 8: the blind-search streak and its one warning.
void SwarmLoss::note_blindness(SwarmLossDiagnostics& diag) {
  State& st = *state_;
  st.blind_streak = diag.blind ? st.blind_streak + 1 : 0;
  diag.blind_streak = st.blind_streak;
  const int64_t after = st.options.warn_blind_after();
  if (after > 0 && st.blind_streak >= after && st.warning.empty()) {
    const bool targets = diag.start == SwarmStart::Targets;
    st.warning = "swarm loss '" + std::string(to_string(st.options.loss())) + "': the loss gave the swarm no signal for " +
                 std::to_string(st.blind_streak) +
                 " consecutive batches (every particle scored the same, or no candidate beat the first start point), so "
                 "the gradient is a pull toward the start, not toward lower loss. " +
                 (targets ? std::string("The swarm starts around the targets, where this loss is already at its "
                                        "best; start around the output (SwarmStart::Output, or Auto for a custom "
                                        "loss) with a span that reaches lower loss.")
                          : std::string("Widen the start span (start_span / span_scale) so that candidates reach "
                                        "lower loss, or check that the loss depends on its input."));
    TORCH_WARN(st.warning);
  }
  diag.warning = st.warning;
}

at::Tensor SwarmLoss::forward(const at::Tensor& output_in, const at::Tensor& target_in) {
  State& st = *state_;
  // One forward at a time per shared state (the generator, the swarms and the
  // diagnostics are one object's): threads that share a loss take turns.
  const std::lock_guard<std::mutex> lock(st.mutex);
  const SwarmLossOptions& o = st.options;
  const LossKind kind = o.loss();
  const bool custom = kind == LossKind::Custom;
  // ---- 1. validate and view as [B, C] -----------------------------------------------
  const Batch bt = view_batch(kind, output_in, target_in);
  if (!at::isfinite(bt.output.detach()).all().item<bool>())
    throw std::invalid_argument("swarm loss: output contains NaN or Inf");
  if (o.ideal_limit() && !bt.shaped_target)
    throw std::invalid_argument("swarm loss: ideal_limit needs a target of the output's shape " +
                                shape_str(output_in) + ", got " + shape_str(target_in));

  // ---- 2. the ordinary loss value -------------------------------------------------
  bool per_sample = !custom && (kind == LossKind::CrossEntropy || (kind == LossKind::Hinge && bt.index_target));
  at::Tensor value;
  {
    at::NoGradGuard no_grad;
    if (st.kernel.fn) {
      const at::Tensor yc = bt.output.detach().to(at::kCPU, at::kFloat).contiguous();
      const at::Tensor tc = bt.target.to(at::kCPU).contiguous();
      per_sample = !st.kernel.per_element;
      std::vector<float> l(static_cast<size_t>(bt.B * (per_sample ? 1 : bt.C)));
      st.kernel.fn(yc.data_ptr<float>(), 1, bt.B, bt.C, tc, l.data());
      double sum = 0;
      for (float v : l) {
        if (!std::isfinite(v)) throw std::domain_error("swarm loss: the custom kernel returned a non-finite loss");
        sum += v;
      }
      if (o.reduction() == Reduction::Mean) sum /= static_cast<double>(l.size());
      value = at::scalar_tensor(sum, at::TensorOptions().dtype(bt.output.scalar_type()).device(bt.output.device()));
    } else if (custom) {
      at::Tensor l = st.custom(bt.output.detach().unsqueeze(0), bt.target);
      check_custom_result(l, 1, bt.B, bt.C);
      per_sample = l.dim() == 2;
      value = o.reduction() == Reduction::Mean ? l.mean() : l.sum();
    } else {
      value = plain_loss(kind, bt.output.detach(), bt.target, o.reduction(), o.delta());
    }
  }
  if (!(at::GradMode::is_enabled() && output_in.requires_grad())) return value;

  // ---- 3-5. the swarm on CPU float buffers ----------------------------------------
  const at::Tensor y = bt.output.detach().to(at::kCPU, at::kFloat).contiguous();
  at::Tensor idx_cpu, t_cpu;
  if (bt.index_target) idx_cpu = bt.target.to(at::kCPU, at::kLong).contiguous();
  if (bt.target_bc.defined()) t_cpu = bt.target_bc.to(at::kCPU, at::kFloat).contiguous();
  // The search runs in float32: a double output or target beyond its range
  // would become inf there (and the gradient with it).
  check_float32(y, "output");
  if (t_cpu.defined()) check_float32(t_cpu, "target");
  Step step{st, o, bt, y.data_ptr<float>(), t_cpu.defined() ? t_cpu.data_ptr<float>() : nullptr,
            bt.index_target ? idx_cpu.data_ptr<int64_t>() : nullptr, at::Tensor(), bt.B * bt.C};
  if (custom) step.target_cpu = bt.target.to(at::kCPU).contiguous();
  // Scale that turns a sum of per-element (or per-sample) losses into the reduced loss.
  step.red_scale =
      o.reduction() == Reduction::Sum ? 1.0 : 1.0 / static_cast<double>(per_sample ? bt.B : bt.B * bt.C);

  std::vector<float> g;
  double cbar;
  SwarmLossDiagnostics diag;
  if (o.ideal_limit()) {
    // The swarm's ideal limit: g = t exactly, cbar at its expectation.
    g.resize(static_cast<size_t>(step.D));
    for (int64_t b = 0; b < bt.B; ++b)
      for (int64_t c = 0; c < bt.C; ++c)
        g[static_cast<size_t>(b * bt.C + c)] = step.idx ? (step.idx[b] == c ? 1.f : 0.f) : step.tp[b * bt.C + c];
    cbar = 0.5 * (o.swarm().c1() + o.swarm().c2());
    diag.start = SwarmStart::Targets;
  } else {
    g = step.search(cbar, diag);
  }
  diag.cbar = cbar;

  // ---- 6. dL/dy ~ (cbar / eta)(y - g), at the true gradient's scale -----------------
  at::Tensor grad = step.gradient(g, cbar);
  diag.grad_norm = grad.norm().item<double>();
  if (o.compare_with_autograd() && !custom) step.compare(grad, diag);
  if (!o.ideal_limit()) note_blindness(diag);
  st.diagnostics = diag;
  grad = grad.to(output_in.device(), output_in.scalar_type()).reshape(output_in.sizes());
  return SwarmLossFunction::apply(output_in, value, grad, !o.reference_scale());
}

}  // namespace adaswarm
