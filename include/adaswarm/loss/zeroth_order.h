// Zeroth-order estimates of a loss's gradient with respect to a network output,
// the controls of SPEC.md section 9 (c): the same dL/dy the swarm loss
// approximates, from loss values only, at a chosen number of loss evaluations.
//
//   SPSA:                 g = (1/k) sum_i (L(y + c D_i) - L(y - c D_i)) / (2c) * D_i,   D_i in {-1, +1}^{B x C}
//   Gaussian smoothing:   g = (1/k) sum_i (L(y + s u_i) - L(y - s u_i)) / (2s) * u_i,   u_i ~ N(0, I)
//
// k antithetic pairs cost 2k loss evaluations, all made in one batched call on a
// [2k, B, C] tensor of candidate outputs. The perturbations come from an
// adaswarm::Rng (normals by Box-Muller), so one seed gives one estimate,
// bit for bit.
//
//   adaswarm::ZerothOrderOptions zo;  zo.pairs(30).step(0.01).seed(7);
//   auto est = adaswarm::zeroth_order_gradient(adaswarm::ZerothOrder::SPSA,
//                  adaswarm::batched_loss(adaswarm::LossKind::MAE, target), y, zo);
//   est.grad;         // [B, C], y's dtype and device
//   est.evaluations;  // 60
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>

#include <torch/arg.h>

#include "adaswarm/loss/swarm_loss.h"

namespace adaswarm {

enum class ZerothOrder {
  SPSA,      ///< Rademacher (+-1) directions, step c
  Gaussian,  ///< antithetic Gaussian smoothing, directions N(0, I), step sigma
};
const char* to_string(ZerothOrder m);            ///< "spsa", "gauss"
ZerothOrder zeroth_order_from_string(const std::string& s);  ///< spsa, gauss (or gaussian)

/// A loss on a batch of candidate outputs: candidates [N, B, C] (CPU, double)
/// -> N loss values ([N], or anything with N elements), or with
/// ZerothOrderOptions::per_row, [N, B]: each row's share of the loss (the rows
/// summing to it). Need not be differentiable; called once per estimate.
using BatchedLossFn = std::function<at::Tensor(const at::Tensor& candidates)>;

struct ZerothOrderOptions {
  /// k: antithetic pairs (2k loss evaluations); >= 1.
  TORCH_ARG(int64_t, pairs) = 1;
  /// c (SPSA) or sigma (Gaussian): finite, > 0, in output units.
  TORCH_ARG(double, step) = 1e-2;
  TORCH_ARG(uint64_t, seed) = 0;
  /// An independent stream for the same seed (e.g. one per batch).
  TORCH_ARG(uint64_t, stream) = 0;
  /// Row-separable losses (every built-in: row b's share depends on y_b only):
  /// the loss returns [2k, B] row shares and each row's slope multiplies its own
  /// part of the direction. Same evaluations, B scalar readings each: what the
  /// swarm's per-row bests (Bests::Row) see.
  TORCH_ARG(bool, per_row) = false;

 public:
  /// Throws std::invalid_argument naming the option.
  void validate() const;
};

struct ZerothOrderEstimate {
  at::Tensor grad;          ///< the estimate of dL/dy, shaped, typed and placed like y
  int64_t evaluations = 0;  ///< loss evaluations made (2k)
};

/// The estimate of dL/dy at y ([B, C] or [B], floating point, finite).
/// Throws std::invalid_argument on a bad option, an empty or non-finite y, or a
/// loss that does not return 2k finite values.
ZerothOrderEstimate zeroth_order_gradient(ZerothOrder method, const BatchedLossFn& loss, const at::Tensor& y,
                                          const ZerothOrderOptions& options);
inline ZerothOrderEstimate spsa_gradient(const BatchedLossFn& loss, const at::Tensor& y,
                                         const ZerothOrderOptions& options) {
  return zeroth_order_gradient(ZerothOrder::SPSA, loss, y, options);
}
inline ZerothOrderEstimate gaussian_gradient(const BatchedLossFn& loss, const at::Tensor& y,
                                             const ZerothOrderOptions& options) {
  return zeroth_order_gradient(ZerothOrder::Gaussian, loss, y, options);
}

/// A built-in loss as a BatchedLossFn: candidate n's value is
/// plain_loss(kind, candidates[n], target, reduction, delta), computed for all
/// candidates at once; with per_row = true, [N, B] row shares of that value.
/// target: class indices [B] (cross-entropy, hinge) or the output's shape
/// [B, C]. Throws std::invalid_argument for LossKind::Custom.
BatchedLossFn batched_loss(LossKind kind, const at::Tensor& target, Reduction reduction = Reduction::Mean,
                           double delta = 1.0, bool per_row = false);

}  // namespace adaswarm
