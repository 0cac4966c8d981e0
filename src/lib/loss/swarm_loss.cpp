// The swarm loss (SPEC.md section 3): forward = the ordinary loss value; backward
// = (cbar / eta)(y - g) from an EMPSO swarm whose particles are candidate outputs
// of shape batch x classes. The swarm runs on contiguous CPU float buffers (the
// per-batch swarm is tiny, so op-dispatch overhead would dominate a tensor
// version); outputs on another device are copied over and the gradient is
// returned on the output's device and dtype.
#include "adaswarm/loss/swarm_loss.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <vector>

namespace adaswarm {

// ---------------------------------------------------------------------------
// Names and options
// ---------------------------------------------------------------------------
const char* to_string(LossKind k) {
  switch (k) {
    case LossKind::MSE: return "mse";
    case LossKind::MAE: return "mae";
    case LossKind::BCE: return "bce";
    case LossKind::BCEWithLogits: return "bce-logits";
    case LossKind::CrossEntropy: return "ce";
    case LossKind::Huber: return "huber";
    case LossKind::SmoothL1: return "smooth-l1";
    case LossKind::Hinge: return "hinge";
    case LossKind::Custom: return "custom";
  }
  return "?";
}

LossKind loss_from_string(const std::string& s) {
  if (s == "mse") return LossKind::MSE;
  if (s == "mae" || s == "l1") return LossKind::MAE;
  if (s == "bce") return LossKind::BCE;
  if (s == "bce-logits" || s == "bce_logits") return LossKind::BCEWithLogits;
  if (s == "ce" || s == "cross-entropy" || s == "cross_entropy") return LossKind::CrossEntropy;
  if (s == "huber") return LossKind::Huber;
  if (s == "smooth-l1" || s == "smooth_l1") return LossKind::SmoothL1;
  if (s == "hinge") return LossKind::Hinge;
  throw std::invalid_argument("unknown loss '" + s +
                              "' (expected mse, mae, bce, bce-logits, ce, huber, smooth-l1 or hinge)");
}

const char* to_string(Preset p) {
  switch (p) {
    case Preset::Paper: return "paper";
    case Preset::Reference: return "reference";
    case Preset::Search: return "search";
  }
  return "?";
}

Preset preset_from_string(const std::string& s) {
  if (s == "paper") return Preset::Paper;
  if (s == "reference") return Preset::Reference;
  if (s == "search") return Preset::Search;
  throw std::invalid_argument("unknown preset '" + s + "' (expected paper, reference or search)");
}

const char* to_string(SwarmStart s) {
  switch (s) {
    case SwarmStart::Auto: return "auto";
    case SwarmStart::Targets: return "targets";
    case SwarmStart::Output: return "output";
    case SwarmStart::Center: return "center";
    case SwarmStart::Previous: return "previous";
  }
  return "?";
}

SwarmStart start_from_string(const std::string& s) {
  if (s == "auto") return SwarmStart::Auto;
  if (s == "targets" || s == "target") return SwarmStart::Targets;
  if (s == "output") return SwarmStart::Output;
  if (s == "center" || s == "centre") return SwarmStart::Center;
  if (s == "previous") return SwarmStart::Previous;
  throw std::invalid_argument("unknown swarm start '" + s + "' (expected auto, targets, output, center or previous)");
}

const char* to_string(Bests b) {
  switch (b) {
    case Bests::Batch: return "batch";
    case Bests::Row: return "row";
    case Bests::Element: return "element";
  }
  return "?";
}

Bests bests_from_string(const std::string& s) {
  if (s == "batch") return Bests::Batch;
  if (s == "row" || s == "sample") return Bests::Row;
  if (s == "element") return Bests::Element;
  throw std::invalid_argument("unknown bests '" + s + "' (expected batch, row or element)");
}

const char* to_string(GradScale g) {
  switch (g) {
    case GradScale::Swarm: return "swarm";
    case GradScale::Unit: return "unit";
    case GradScale::RowClip: return "row-clip";
  }
  return "?";
}

GradScale grad_scale_from_string(const std::string& s) {
  if (s == "swarm") return GradScale::Swarm;
  if (s == "unit") return GradScale::Unit;
  if (s == "row-clip" || s == "row_clip") return GradScale::RowClip;
  throw std::invalid_argument("unknown gradient scale '" + s + "' (expected swarm, unit or row-clip)");
}

SwarmLossOptions::SwarmLossOptions() {
  swarm_.particles(10).iterations(5).c1(0.8).c2(0.9).beta(0.9).variant(swarm::Variant::EMPSO);
}

SwarmLossOptions SwarmLossOptions::preset(Preset p) {
  SwarmLossOptions o;
  if (p == Preset::Paper) {
    // The paper's UCI settings: eta = 1 - beta, true-gradient scale, momentum stored.
    o.swarm().particles(10).iterations(5).c1(0.8).c2(0.9).beta(0.9).store_momentum(true);
    o.eta(0.1).reference_scale(false).fitness_per_sample(true);
  } else if (p == Preset::Reference) {
    // The reference vision code: c1 = c2 = 2, beta 0.1, eta 0.4, the code's scale,
    // momentum never stored, element-wise "rotation" quirk, whole-batch fitness.
    o.swarm().particles(10).iterations(5).c1(2.0).c2(2.0).beta(0.1).store_momentum(false).reference_rotation(
        true);
    o.eta(0.4).reference_scale(true).fitness_per_sample(false);
  } else {
    // A global search per element (docs/fidelity.md): the paper's constants with
    // more particles and iterations, started around the output with a span that
    // reaches neighbouring basins, each element keeping its own best.
    o.swarm().particles(20).iterations(40).c1(0.8).c2(0.9).beta(0.9).store_momentum(true);
    o.eta(0.1).reference_scale(false).bests(Bests::Element).start(SwarmStart::Output).start_span(4.0).span_scale(1.0);
  }
  return o;
}

void SwarmLossOptions::validate() const {
  auto bad = [](const std::string& m) { throw std::invalid_argument("invalid swarm loss option: " + m); };
  if (!(eta() > 0) || !std::isfinite(eta())) bad("eta must be > 0, got " + std::to_string(eta()));
  auto num = [](double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  };
  if (!(start_noise() >= 0) || !std::isfinite(start_noise()))
    bad("start_noise must be finite and >= 0, got " + num(start_noise()));
  if (!(start_span() >= 0) || !std::isfinite(start_span()))
    bad("start_span must be finite and >= 0, got " + num(start_span()));
  if (!(span_scale() >= 0) || !std::isfinite(span_scale()))
    bad("span_scale must be finite and >= 0, got " + num(span_scale()));
  if (!(delta() > 0) || !std::isfinite(delta())) bad("delta must be finite and > 0, got " + num(delta()));
  if (warn_blind_after() < 0) bad("warn_blind_after must be >= 0, got " + std::to_string(warn_blind_after()));
  if (bests() == Bests::Element && (loss() == LossKind::CrossEntropy))
    bad("bests 'element' needs an element-wise loss; cross-entropy is per sample");
  if (ideal_limit() && loss() == LossKind::Custom)
    bad("ideal_limit needs a built-in loss (its minimiser is the target)");
  if (swarm().particles() < 1) bad("particles must be >= 1, got " + std::to_string(swarm().particles()));
  if (swarm().iterations() < 0) bad("iterations must be >= 0, got " + std::to_string(swarm().iterations()));
  swarm().validate(swarm().rows());  // the remaining swarm settings (shape-free checks)
}

// ---------------------------------------------------------------------------
// Plain losses (torch ops; any device)
// ---------------------------------------------------------------------------
namespace {

bool is_index_target(const at::Tensor& t) {
  return !at::isFloatingType(t.scalar_type()) && t.scalar_type() != at::kBool;
}

/// Per-sample losses reduce over samples; element-wise over all elements.
bool per_sample_kind(LossKind kind, const at::Tensor& target) {
  return kind == LossKind::CrossEntropy || (kind == LossKind::Hinge && is_index_target(target));
}

at::Tensor reduce(const at::Tensor& v, Reduction r) { return r == Reduction::Mean ? v.mean() : v.sum(); }

at::Tensor hinge_sign(const at::Tensor& t) { return at::where(t > 0, at::ones_like(t), -at::ones_like(t)); }

}  // namespace

at::Tensor plain_loss(LossKind kind, const at::Tensor& y, const at::Tensor& t, Reduction reduction, double delta) {
  namespace F = torch::nn::functional;
  using torch::Reduction::Mean;
  using torch::Reduction::Sum;
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

// ---------------------------------------------------------------------------
// Fitness kernels on CPU float buffers: per particle, per row (sample).
// ---------------------------------------------------------------------------
namespace {

inline float log_clamped(float v) { return std::max(std::log(v), -100.0f); }

/// out[k] = exp(x[k]) for x[k] in [-87, 0] (the caller clamps: branches would
/// stop GCC from vectorising), written so that GCC vectorises it at -O2 with
/// SSE2 (given `omp simd`): Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a
/// degree-6 polynomial for e^r (Cephes' expf coefficients, about 1 ulp), and 2^n
/// built from its exponent bits.
void exp_nonpositive(const float* __restrict x, float* __restrict out, int64_t n) {
  constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
  // GCC's -O2 cost model will not vectorise a loop that needs a remainder loop;
  // the OpenMP simd directive (the library is built with -fopenmp) asks it to.
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) {
    const float v = x[k];
    const float fn = (v * kLog2e + kRound) - kRound;
    const float r = (v - fn * kLn2Hi) - fn * kLn2Lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float er = p * r * r + r + 1.0f;
    const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(fn) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    out[k] = er * scale;
  }
}

/// Cross-entropy of each of the B rows (C logits each): log-sum-exp minus the
/// target logit (class indices) or the target-weighted sum (soft targets).
void cross_entropy_rows(const float* pos, const float* tgt, const int64_t* idx, int64_t B, int64_t C,
                        float* rows_out) {
  // Scratch reused across calls (this runs for every particle of every evaluation).
  thread_local std::vector<float> shifted, ex, mx;
  const auto n = static_cast<size_t>(B * C);
  if (shifted.size() < n) {
    shifted.resize(n);
    ex.resize(n);
  }
  if (mx.size() < static_cast<size_t>(B)) mx.resize(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const float* y = pos + b * C;
    float m = y[0];
    for (int64_t c = 1; c < C; ++c) m = std::max(m, y[c]);
    mx[b] = m;
    // exp(-87) ~ 1.6e-38 instead of smaller values or 0: harmless in a softmax
    // denominator that holds a 1.
    for (int64_t c = 0; c < C; ++c) shifted[b * C + c] = std::max(y[c] - m, -87.0f);
  }
  exp_nonpositive(shifted.data(), ex.data(), B * C);
  for (int64_t b = 0; b < B; ++b) {
    const float* y = pos + b * C;
    float se = 0.f;
    for (int64_t c = 0; c < C; ++c) se += ex[b * C + c];
    const float lse = mx[b] + std::log(se);
    float s = 0.f;
    if (idx) {
      s = lse - y[idx[b]];
    } else {
      const float* t = tgt + b * C;
      for (int64_t c = 0; c < C; ++c) s += t[c] * (lse - y[c]);
    }
    rows_out[b] = s;
  }
}

/// rows_out[r] = loss of row r of `pos` (C values) against the target row.
void row_losses(LossKind kind, const float* pos, const float* tgt, const int64_t* idx, int64_t B, int64_t C,
                float delta, float* rows_out) {
  if (kind == LossKind::CrossEntropy) return cross_entropy_rows(pos, tgt, idx, B, C, rows_out);
  for (int64_t b = 0; b < B; ++b) {
    const float* y = pos + b * C;
    const float* t = tgt ? tgt + b * C : nullptr;
    float s = 0.f;
    switch (kind) {
      case LossKind::MSE:
        for (int64_t c = 0; c < C; ++c) s += (y[c] - t[c]) * (y[c] - t[c]);
        break;
      case LossKind::MAE:
        for (int64_t c = 0; c < C; ++c) s += std::fabs(y[c] - t[c]);
        break;
      case LossKind::BCE:
        for (int64_t c = 0; c < C; ++c) {
          const float p = std::min(std::max(y[c], 0.0f), 1.0f);
          s -= t[c] * log_clamped(p) + (1 - t[c]) * log_clamped(1 - p);
        }
        break;
      case LossKind::BCEWithLogits:
        for (int64_t c = 0; c < C; ++c)
          s += std::max(y[c], 0.0f) - y[c] * t[c] + std::log1p(std::exp(-std::fabs(y[c])));
        break;
      case LossKind::Huber:
        for (int64_t c = 0; c < C; ++c) {
          const float d = std::fabs(y[c] - t[c]);
          s += d <= delta ? 0.5f * d * d : delta * (d - 0.5f * delta);
        }
        break;
      case LossKind::SmoothL1:
        for (int64_t c = 0; c < C; ++c) {
          const float d = std::fabs(y[c] - t[c]);
          s += d < delta ? 0.5f * d * d / delta : d - 0.5f * delta;
        }
        break;
      case LossKind::CrossEntropy: break;  // cross_entropy_rows
      case LossKind::Hinge:
        if (idx) {
          const float yy = y[idx[b]];
          for (int64_t c = 0; c < C; ++c)
            if (c != idx[b]) s += std::max(0.0f, 1.0f - yy + y[c]);
          s /= static_cast<float>(C);
        } else {
          for (int64_t c = 0; c < C; ++c) s += std::max(0.0f, 1.0f - (t[c] > 0 ? 1.0f : -1.0f) * y[c]);
        }
        break;
      case LossKind::Custom: break;
    }
    rows_out[b] = s;
  }
}

std::string shape_str(const at::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

}  // namespace

// ---------------------------------------------------------------------------
// State shared by copies of a SwarmLoss
// ---------------------------------------------------------------------------
struct SwarmLoss::State {
  SwarmLossOptions options;
  CustomLossFn custom;
  Rng rng;
  std::unique_ptr<swarm::Swarm<float>> swarm;
  SwarmLossDiagnostics diagnostics;
  at::Tensor center;                 // SwarmStart::Center (CPU float, as given)
  std::vector<float> previous_best;  // SwarmStart::Previous: the last batch's g
  int64_t previous_B = 0, previous_C = 0;
  int64_t blind_streak = 0;
  std::string warning;
};

SwarmLoss::SwarmLoss(SwarmLossOptions options) : SwarmLoss(std::move(options), nullptr) {}

SwarmLoss::SwarmLoss(SwarmLossOptions options, CustomLossFn custom) : state_(std::make_shared<State>()) {
  options.validate();
  if (options.loss() == LossKind::Custom && !custom)
    throw std::invalid_argument("invalid swarm loss option: loss 'custom' needs a callable");
  if (custom) options.loss(LossKind::Custom);
  state_->options = std::move(options);
  state_->custom = std::move(custom);
  state_->rng.reseed(state_->options.swarm().seed(), 0x5ULL);
}

void SwarmLoss::set_center(const at::Tensor& center) {
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

}  // namespace

at::Tensor SwarmLoss::forward(const at::Tensor& output_in, const at::Tensor& target_in) {
  State& st = *state_;
  const SwarmLossOptions& o = st.options;
  const LossKind kind = o.loss();
  // ---- validate and view as [B, C] ------------------------------------------------
  if (!output_in.defined() || !target_in.defined())
    throw std::invalid_argument("swarm loss: output and target must be defined tensors");
  if (output_in.dim() < 1 || output_in.dim() > 2)
    throw std::invalid_argument("swarm loss: output must be [batch] or [batch, classes], got " +
                                shape_str(output_in));
  if (!at::isFloatingType(output_in.scalar_type()))
    throw std::invalid_argument("swarm loss: output must be a floating-point tensor");
  const at::Tensor output = output_in.dim() == 1 ? output_in.unsqueeze(1) : output_in;
  const int64_t B = output.size(0), C = output.size(1);
  if (B == 0 || C == 0) throw std::invalid_argument("swarm loss: empty batch (output " + shape_str(output_in) + ")");
  const bool index_target = is_index_target(target_in) && target_in.dim() == 1 &&
                            (kind == LossKind::CrossEntropy || kind == LossKind::Hinge || kind == LossKind::Custom);
  at::Tensor target;
  if (index_target) {
    if (target_in.size(0) != B)
      throw std::invalid_argument("swarm loss: target " + shape_str(target_in) + " does not match output " +
                                  shape_str(output_in) + " (expected " + std::to_string(B) + " class indices)");
    target = target_in.to(at::kLong);
    const auto mn = target.min().item<int64_t>(), mx = target.max().item<int64_t>();
    if (mn < 0 || mx >= C)
      throw std::invalid_argument("swarm loss: class index out of range [0, " + std::to_string(C) +
                                  "): found " + std::to_string(mn < 0 ? mn : mx));
  } else {
    if (target_in.numel() != output.numel() ||
        (target_in.dim() == output_in.dim() ? target_in.sizes() != output_in.sizes() : target_in.dim() > 2))
      throw std::invalid_argument("swarm loss: target " + shape_str(target_in) + " does not match output " +
                                  shape_str(output_in));
    target = target_in.reshape({B, C}).to(output.dtype());
  }
  if (!at::isfinite(output.detach()).all().item<bool>())
    throw std::invalid_argument("swarm loss: output contains NaN or Inf");

  // ---- the ordinary loss value --------------------------------------------------
  const bool custom = kind == LossKind::Custom;
  bool per_sample = per_sample_kind(kind, target);
  at::Tensor value;
  {
    at::NoGradGuard no_grad;
    if (custom) {
      at::Tensor l = st.custom(output.detach().unsqueeze(0), index_target ? target : target);
      if (l.dim() == 2) per_sample = true;
      else if (l.dim() != 3)
        throw std::invalid_argument("swarm loss: a custom loss must return [P, B, C] or [P, B], got " +
                                    shape_str(l));
      value = o.reduction() == Reduction::Mean ? l.mean() : l.sum();
    } else {
      value = plain_loss(kind, output.detach(), target, o.reduction(), o.delta());
    }
  }
  if (!(at::GradMode::is_enabled() && output_in.requires_grad())) return value;

  // ---- the swarm on CPU float buffers ---------------------------------------------
  const at::Tensor y = output.detach().to(at::kCPU, at::kFloat).contiguous();
  const at::Tensor tcpu = index_target ? target.to(at::kCPU).contiguous()
                                       : target.to(at::kCPU, at::kFloat).contiguous();
  const float* yp = y.data_ptr<float>();
  const int64_t* idx = index_target ? tcpu.data_ptr<int64_t>() : nullptr;
  const float* tp = index_target ? nullptr : tcpu.data_ptr<float>();
  const int64_t D = B * C;
  // Scale that turns a sum of per-element (or per-sample) losses into the reduced loss.
  const double red_scale =
      o.reduction() == Reduction::Sum ? 1.0 : 1.0 / static_cast<double>(per_sample ? B : B * C);

  std::vector<float> g(static_cast<size_t>(D));
  double cbar;
  SwarmLossDiagnostics diag;
  if (o.ideal_limit()) {
    // The swarm's ideal limit: g = t exactly, cbar at its expectation.
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c)
        g[b * C + c] = idx ? (idx[b] == c ? 1.f : 0.f) : tp[b * C + c];
    cbar = 0.5 * (o.swarm().c1() + o.swarm().c2());
    diag.iterations = 0;
  } else {
    swarm::SwarmOptions so = o.swarm();
    so.rows(B).fitness_per_row(o.fitness_per_sample());
    if (!st.swarm || st.swarm->dim() != D || st.swarm->options().rows() != B) {
      st.swarm = std::make_unique<swarm::Swarm<float>>(so, D);
    } else {
      st.swarm->options() = so;
    }
    swarm::Swarm<float>& sw = *st.swarm;
    const bool warm = o.warm_start() && sw.evaluated();
    if (warm) {
      // Carry positions and velocities over; bests are re-evaluated on this batch.
      const std::vector<float> x = sw.positions(), v = sw.velocities();
      sw.reset(x.data(), v.data());
    } else {
      // Start positions: around the targets (reference) or around the output.
      std::vector<float> x0(static_cast<size_t>(so.particles() * D));
      const float noise = static_cast<float>(o.start_noise());
      for (int64_t i = 0; i < so.particles(); ++i) {
        float* x = x0.data() + i * D;
        for (int64_t b = 0; b < B; ++b)
          for (int64_t c = 0; c < C; ++c) {
            const int64_t k = b * C + c;
            float base;
            if (o.start() == SwarmStart::Output) {
              base = yp[k] + noise * static_cast<float>(st.rng.uniform(-1.0, 1.0));
            } else if (kind == LossKind::CrossEntropy) {
              // Reference: -4 everywhere, 1 at the true class, plus U(0,1).
              const float tv = idx ? (idx[b] == c ? 1.f : 0.f) : tp[k];
              base = -4.f + 5.f * tv + static_cast<float>(st.rng.uniform());
            } else if (idx) {
              base = (idx[b] == c ? 1.f : 0.f) + noise * static_cast<float>(st.rng.uniform());
            } else {
              base = tp[k] + noise * static_cast<float>(st.rng.uniform());
            }
            x[k] = base;
          }
      }
      sw.reset(x0.data());
    }
    sw.rng().set_state(st.rng.state());
    const int64_t rows_out = so.fitness_per_row() ? B : 1;
    std::vector<float> rowbuf(static_cast<size_t>(B));
    const auto fitness = [&](const float* X, int64_t P, int64_t dim, float* out) {
      if (custom) {
        at::Tensor pos = at::from_blob(const_cast<float*>(X), {P, B, C}, at::TensorOptions().dtype(at::kFloat));
        at::Tensor l = st.custom(pos, tcpu).to(at::kCPU, at::kFloat);
        if (l.dim() == 3) l = l.sum(2);
        if (l.dim() != 2 || l.size(0) != P || l.size(1) != B)
          throw std::invalid_argument("swarm loss: a custom loss must return [P, B, C] or [P, B], got " +
                                      shape_str(l));
        l = l.contiguous();
        const float* lp = l.data_ptr<float>();
        for (int64_t i = 0; i < P; ++i) {
          if (rows_out == B) {
            for (int64_t b = 0; b < B; ++b) out[i * B + b] = static_cast<float>(lp[i * B + b] * red_scale);
          } else {
            double s = 0;
            for (int64_t b = 0; b < B; ++b) s += lp[i * B + b];
            out[i] = static_cast<float>(s * red_scale);
          }
        }
        return;
      }
      for (int64_t i = 0; i < P; ++i) {
        row_losses(kind, X + i * dim, tp, idx, B, C, static_cast<float>(o.delta()), rowbuf.data());
        if (rows_out == B) {
          for (int64_t b = 0; b < B; ++b) out[i * B + b] = static_cast<float>(rowbuf[b] * red_scale);
        } else {
          double s = 0;
          for (int64_t b = 0; b < B; ++b) s += rowbuf[b];
          out[i] = static_cast<float>(s * red_scale);
        }
      }
    };
    const auto info = sw.run(fitness, so.iterations());
    st.rng.set_state(sw.rng().state());
    std::copy(sw.global_best().begin(), sw.global_best().end(), g.begin());
    cbar = sw.cbar();
    diag.iterations = info.iterations;
    diag.evaluations = info.evaluations;
    diag.best_fitness = sw.best_fitness();
  }
  diag.cbar = cbar;

  // ---- dL/dy ~ (cbar / eta)(y - g), at the true gradient's scale -----------------
  at::Tensor grad = at::empty({B, C}, at::TensorOptions().dtype(at::kFloat));
  {
    float* gp = grad.data_ptr<float>();
    const float k = static_cast<float>(cbar / o.eta() * (o.reference_scale() ? 1.0 : red_scale));
    for (int64_t d = 0; d < D; ++d) gp[d] = k * (yp[d] - g[static_cast<size_t>(d)]);
  }
  if (o.compare_with_autograd() && !custom) {
    at::Tensor y2 = output.detach().clone().requires_grad_(true);
    at::Tensor l;
    {
      at::AutoGradMode enable(true);
      l = plain_loss(kind, y2, target, o.reduction(), o.delta());
    }
    at::Tensor tg = torch::autograd::grad({l}, {y2})[0].to(at::kCPU, at::kFloat).reshape({-1});
    at::Tensor ag = grad.reshape({-1});
    const double tn = tg.norm().item<double>(), an = ag.norm().item<double>();
    diag.cosine = (tn > 0 && an > 0) ? (tg * ag).sum().item<double>() / (tn * an) : 0.0;
    diag.norm_ratio = tn > 0 ? an / tn : std::numeric_limits<double>::infinity();
  }
  st.diagnostics = diag;
  grad = grad.to(output_in.device(), output_in.scalar_type()).reshape(output_in.sizes());
  return SwarmLossFunction::apply(output_in, value, grad, !o.reference_scale());
}

// ---------------------------------------------------------------------------
// Save / load: the RNG (and the shape of the warm swarm is rebuilt lazily).
// ---------------------------------------------------------------------------
void SwarmLoss::save(torch::serialize::OutputArchive& archive) const {
  const auto& s = state_->rng.state();
  std::vector<int64_t> words(s.begin(), s.end());
  archive.write("swarm_loss/rng", torch::tensor(words, torch::kLong));
}

void SwarmLoss::load(torch::serialize::InputArchive& archive) {
  at::Tensor t;
  if (!archive.try_read("swarm_loss/rng", t))
    throw std::runtime_error("checkpoint has no swarm loss state (swarm_loss/rng)");
  if (t.numel() != 4) throw std::runtime_error("checkpoint's swarm loss RNG state is malformed");
  std::array<uint64_t, 4> s{};
  auto acc = t.accessor<int64_t, 1>();
  for (int i = 0; i < 4; ++i) s[i] = static_cast<uint64_t>(acc[i]);
  state_->rng.set_state(s);
  state_->swarm.reset();
}

}  // namespace adaswarm
