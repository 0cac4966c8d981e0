// Zeroth-order estimates of dL/dy (SPSA, antithetic Gaussian smoothing); see
// include/adaswarm/loss/zeroth_order.h.
#include "adaswarm/loss/zeroth_order.h"

#include <ATen/ATen.h>

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "adaswarm/util/random.h"

namespace adaswarm {

const char* to_string(ZerothOrder m) {
  switch (m) {
    case ZerothOrder::SPSA: return "spsa";
    case ZerothOrder::Gaussian: return "gauss";
  }
  return "?";
}

ZerothOrder zeroth_order_from_string(const std::string& s) {
  if (s == "spsa") return ZerothOrder::SPSA;
  if (s == "gauss" || s == "gaussian") return ZerothOrder::Gaussian;
  throw std::invalid_argument("unknown zeroth-order estimator '" + s + "' (spsa, gauss)");
}

namespace {
constexpr int64_t kMaxPairs = 1000000;           // 2 million loss evaluations per estimate
constexpr int64_t kMaxCandidateValues = 1LL << 31;  // 2k x B x C doubles: 16 GiB
}  // namespace

void ZerothOrderOptions::validate() const {
  if (pairs() < 1 || pairs() > kMaxPairs)
    throw std::invalid_argument("zeroth-order option pairs must be in [1, " + std::to_string(kMaxPairs) + "], got " +
                                std::to_string(pairs()));
  if (!std::isfinite(step()) || !(step() > 0)) {
    std::ostringstream os;
    os << step();
    throw std::invalid_argument("zeroth-order option step (c / sigma) must be finite and > 0, got " + os.str());
  }
}

namespace {

std::string shape_str(const at::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

/// k directions of dimension D, row-major, from one seeded stream.
std::vector<double> directions(ZerothOrder method, int64_t k, int64_t D, uint64_t seed, uint64_t stream) {
  Rng rng(seed, stream);
  std::vector<double> u(static_cast<size_t>(k * D));
  if (method == ZerothOrder::SPSA) {
    for (auto& v : u) v = (rng() >> 63) ? 1.0 : -1.0;
  } else {
    // Box-Muller: two uniforms -> two independent standard normals.
    constexpr double kTwoPi = 6.283185307179586476925286766559;
    const size_t n = u.size();
    for (size_t i = 0; i < n; i += 2) {
      const double u1 = 1.0 - rng.uniform();  // (0, 1]: log is finite
      const double u2 = rng.uniform();
      const double r = std::sqrt(-2.0 * std::log(u1));
      u[i] = r * std::cos(kTwoPi * u2);
      if (i + 1 < n) u[i + 1] = r * std::sin(kTwoPi * u2);
    }
  }
  return u;
}

}  // namespace

ZerothOrderEstimate zeroth_order_gradient(ZerothOrder method, const BatchedLossFn& loss, const at::Tensor& y_in,
                                          const ZerothOrderOptions& options) {
  options.validate();
  if (!loss) throw std::invalid_argument("zeroth-order estimate: the loss callable is empty");
  if (!y_in.defined() || y_in.dim() < 1 || y_in.dim() > 2)
    throw std::invalid_argument("zeroth-order estimate: the output must be [batch] or [batch, classes], got " +
                                (y_in.defined() ? shape_str(y_in) : std::string("an undefined tensor")));
  if (!at::isFloatingType(y_in.scalar_type()))
    throw std::invalid_argument("zeroth-order estimate: the output must be a floating-point tensor");
  if (y_in.numel() == 0) throw std::invalid_argument("zeroth-order estimate: empty output " + shape_str(y_in));
  const at::Tensor y2 = y_in.dim() == 1 ? y_in.unsqueeze(1) : y_in;
  const int64_t B = y2.size(0), C = y2.size(1), D = B * C;
  const at::Tensor y = y2.detach().to(at::kCPU, at::kDouble).contiguous().reshape({1, D});
  if (!at::isfinite(y).all().item<bool>()) throw std::invalid_argument("zeroth-order estimate: the output has NaN or Inf");

  const int64_t k = options.pairs();
  const double c = options.step();
  if (method != ZerothOrder::SPSA && method != ZerothOrder::Gaussian)
    throw std::invalid_argument("zeroth-order estimate: the method is not one of its values (got " +
                                std::to_string(static_cast<int>(method)) + ")");
  if (k > kMaxCandidateValues / (2 * D))
    throw std::invalid_argument("zeroth-order estimate: " + std::to_string(k) + " pairs of a " + shape_str(y_in) +
                                " output are too many candidates (2 x pairs x outputs must stay below 2^31)");
  // A step below the output's resolution leaves the largest outputs unperturbed:
  // their slopes would read 0 whatever the loss.
  const double ymax = y.abs().max().item<double>();
  if (ymax + c == ymax)
    throw std::invalid_argument("zeroth-order estimate: the step " + std::to_string(c) +
                                " is below the resolution of the output (|y| up to " + std::to_string(ymax) +
                                "): y + step == y; use a larger step");
  std::vector<double> u = directions(method, k, D, options.seed(), options.stream());
  const at::Tensor dirs = at::from_blob(u.data(), {k, D}, at::TensorOptions().dtype(at::kDouble));
  // [2k, B, C]: the k "+" candidates, then the k "-" ones.
  const at::Tensor candidates = at::cat({y + c * dirs, y - c * dirs}, 0).reshape({2 * k, B, C});
  at::Tensor values;
  {
    at::NoGradGuard no_grad;
    values = loss(candidates);
  }
  const int64_t per = options.per_row() ? B : 1;  // readings per candidate
  if (!values.defined() || values.numel() != 2 * k * per)
    throw std::invalid_argument(
        "zeroth-order estimate: the loss must return " +
        std::string(options.per_row() ? "[2k, B] row shares (" + std::to_string(2 * k) + " x " + std::to_string(B) + ")"
                                      : "one value per candidate (" + std::to_string(2 * k) + ")") +
        ", got " + (values.defined() ? shape_str(values) : std::string("an undefined tensor")));
  values = values.detach().to(at::kCPU, at::kDouble).reshape({2 * k, per});
  if (!at::isfinite(values).all().item<bool>())
    throw std::invalid_argument("zeroth-order estimate: the loss returned NaN or Inf for a perturbed output");
  // slope [k, per]: one reading per pair (and row); each multiplies its own rows of the direction
  const at::Tensor slope = (values.slice(0, 0, k) - values.slice(0, k, 2 * k)) / (2.0 * c);
  const at::Tensor g = options.per_row() ? (slope.unsqueeze(2) * dirs.reshape({k, B, C})).mean(0).reshape({D})
                                         : (slope * dirs).mean(0);  // [D]
  ZerothOrderEstimate out;
  out.grad = g.reshape(y_in.sizes()).to(y_in.device(), y_in.scalar_type());
  out.evaluations = 2 * k;
  return out;
}

BatchedLossFn batched_loss(LossKind kind, const at::Tensor& target, Reduction reduction, double delta, bool per_row) {
  if (kind == LossKind::Custom)
    throw std::invalid_argument("batched_loss: a custom loss has no built-in value; pass your own BatchedLossFn");
  if (!target.defined()) throw std::invalid_argument("batched_loss: the target is undefined");
  if (!std::isfinite(delta) || !(delta > 0))
    throw std::invalid_argument("batched_loss: delta must be finite and > 0");
  const bool index = !at::isFloatingType(target.scalar_type()) && target.scalar_type() != at::kBool;
  at::Tensor t = target.detach().to(at::kCPU);
  t = index ? t.to(at::kLong).contiguous() : t.to(at::kDouble).contiguous();
  return [kind, t, index, reduction, delta, per_row](const at::Tensor& cand) -> at::Tensor {
    if (cand.dim() != 3)
      throw std::invalid_argument("batched_loss: candidates must be [N, B, C], got " + shape_str(cand));
    const int64_t N = cand.size(0), B = cand.size(1), C = cand.size(2);
    const at::Tensor Y = cand.to(at::kDouble);
    const bool per_sample_index = index && (kind == LossKind::CrossEntropy || kind == LossKind::Hinge);
    if (per_sample_index) {
      if (t.dim() != 1 || t.size(0) != B)
        throw std::invalid_argument("batched_loss: class-index target " + shape_str(t) + " does not match " +
                                    std::to_string(B) + " rows");
    } else if (!((t.dim() == 2 && t.size(0) == B && t.size(1) == C) || (C == 1 && t.dim() == 1 && t.size(0) == B))) {
      throw std::invalid_argument("batched_loss: target " + shape_str(t) + " does not match candidates [" +
                                  std::to_string(B) + ", " + std::to_string(C) + "]");
    }
    at::Tensor per;  // [N, B] (per sample) or [N, B, C] (element-wise)
    const auto none = at::Reduction::None;
    if (per_sample_index) {
      const at::Tensor flat = Y.reshape({N * B, C});
      const at::Tensor tt = t.repeat({N});
      per = kind == LossKind::CrossEntropy ? at::cross_entropy_loss(flat, tt, {}, none)
                                           : at::multi_margin_loss(flat, tt, 1, 1.0, {}, none);
      per = per.reshape({N, B});
    } else {
      const at::Tensor T = t.reshape({1, B, C}).to(at::kDouble).expand({N, B, C});
      switch (kind) {
        case LossKind::MSE: per = (Y - T).pow(2); break;
        case LossKind::MAE: per = (Y - T).abs(); break;
        case LossKind::BCE: per = at::binary_cross_entropy(Y, T.contiguous(), {}, none); break;
        case LossKind::BCEWithLogits: per = at::binary_cross_entropy_with_logits(Y, T, {}, {}, none); break;
        case LossKind::Huber: per = at::huber_loss(Y, T, none, delta); break;
        case LossKind::SmoothL1: per = at::smooth_l1_loss(Y, T, none, delta); break;
        case LossKind::CrossEntropy: per = -(T * at::log_softmax(Y, 2)).sum(2); break;
        case LossKind::Hinge: {
          const at::Tensor s = at::where(T > 0, at::ones_like(T), -at::ones_like(T));
          per = at::clamp_min(1 - s * Y, 0);
          break;
        }
        case LossKind::Custom: break;
      }
    }
    // row shares: each row's sum, divided like the reduction divides the whole
    const double scale = reduction == Reduction::Mean ? 1.0 / static_cast<double>(per.numel() / N) : 1.0;
    at::Tensor rows = per.dim() == 3 ? per.sum(2) : per;  // [N, B]
    rows = rows * scale;
    return per_row ? rows : rows.sum(1);
  };
}

}  // namespace adaswarm
