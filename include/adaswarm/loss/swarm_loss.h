// The swarm loss: an autograd Function whose forward returns the ordinary loss
// value and whose backward returns the EMPSO approximation of dL/dy
// (SPEC.md sections 3 and 5). Works for differentiable and non-differentiable
// losses alike; targets get no gradient.
//
//   adaswarm::SwarmLoss loss_fn(adaswarm::SwarmLossOptions::preset(adaswarm::Preset::Paper)
//                                   .loss(adaswarm::LossKind::MAE));
//   auto loss = loss_fn(model->forward(x), y);   // ordinary MAE value
//   loss.backward();                              // dL/dy from the swarm
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "adaswarm/swarm/swarm.h"

namespace torch::serialize {
class OutputArchive;
class InputArchive;
}  // namespace torch::serialize

namespace adaswarm {

/// Built-in losses. Targets: class indices [B] (int64) or a [B, C] tensor of
/// the output's shape (one-hot, probabilities or regression values).
enum class LossKind {
  MSE,            ///< (y - t)^2, element-wise
  MAE,            ///< |y - t|, element-wise (L1)
  BCE,            ///< binary cross-entropy on probabilities, element-wise
  BCEWithLogits,  ///< binary cross-entropy on logits, element-wise
  CrossEntropy,   ///< softmax cross-entropy on logits, per sample
  Huber,          ///< Huber with delta, element-wise
  SmoothL1,       ///< smooth L1 with beta = delta, element-wise
  Hinge,          ///< index targets: multi-class margin (per sample); else max(0, 1 - s y), s = +-1
  Custom,         ///< a user callable (see SwarmLoss)
};
enum class Reduction { Mean, Sum };
/// Where the swarm starts: around the targets (reference) or around the output.
enum class SwarmStart { Targets, Output };
enum class Preset { Paper, Reference };

const char* to_string(LossKind k);
LossKind loss_from_string(const std::string& s);  ///< mse, mae, bce, bce-logits, ce, huber, smooth-l1, hinge
const char* to_string(Preset p);
Preset preset_from_string(const std::string& s);  ///< paper, reference

/// A user loss: positions [P, B, C] (P candidate outputs) and the target ->
/// per-element [P, B, C] or per-sample [P, B] losses. Need not be differentiable.
using CustomLossFn = std::function<at::Tensor(const at::Tensor& positions, const at::Tensor& target)>;

struct SwarmLossOptions {
  SwarmLossOptions();
  /// The `paper` (default) or `reference` preset of SPEC.md section 5.
  static SwarmLossOptions preset(Preset p);

  TORCH_ARG(LossKind, loss) = LossKind::MSE;
  TORCH_ARG(Reduction, reduction) = Reduction::Mean;
  /// Swarm settings (particles, iterations per batch, c1, c2, beta, variant, seed...).
  TORCH_ARG(swarm::SwarmOptions, swarm);
  /// eta in dL/dy ~ (cbar / eta)(y - g).
  TORCH_ARG(double, eta) = 0.1;
  /// true: the reference code's scale (no division by B or B*C, no grad_output).
  TORCH_ARG(bool, reference_scale) = false;
  TORCH_ARG(SwarmStart, start) = SwarmStart::Targets;
  /// Noise of the start: targets + start_noise * U(0,1) (regression / one-hot),
  /// output + start_noise * U(-1,1) (SwarmStart::Output).
  TORCH_ARG(double, start_noise) = 0.31622776601683794;  // sqrt(0.1)
  /// Each sample (row) keeps its own best (true) or the whole batch is one fitness.
  TORCH_ARG(bool, fitness_per_sample) = true;
  /// Keep the swarm from the previous batch when the shape allows.
  TORCH_ARG(bool, warm_start) = false;
  /// Huber delta / smooth-L1 beta.
  TORCH_ARG(double, delta) = 1.0;
  /// Skip the swarm and use its ideal limit g = t (backward = y - t, scaled):
  /// an ablation that shows what the search itself adds.
  TORCH_ARG(bool, ideal_limit) = false;
  /// After each backward, also compute the true autograd gradient (differentiable
  /// losses) and report cosine similarity and norm ratio.
  TORCH_ARG(bool, compare_with_autograd) = false;

 public:
  /// Throws std::invalid_argument naming the option when something is impossible.
  void validate() const;
};

/// Filled by each backward (and forward) of a SwarmLoss.
struct SwarmLossDiagnostics {
  double best_fitness = std::numeric_limits<double>::quiet_NaN();  ///< swarm best (loss units, summed rows)
  double cbar = std::numeric_limits<double>::quiet_NaN();
  int64_t iterations = 0;
  int64_t evaluations = 0;
  double cosine = std::numeric_limits<double>::quiet_NaN();      ///< vs autograd (when asked)
  double norm_ratio = std::numeric_limits<double>::quiet_NaN();  ///< |approx| / |true|
};

/// The ordinary value of a built-in loss (no swarm): for evaluation and tests.
at::Tensor plain_loss(LossKind kind, const at::Tensor& output, const at::Tensor& target,
                      Reduction reduction = Reduction::Mean, double delta = 1.0);

/// A handle to a swarm loss; copies share state (RNG, warm swarm, diagnostics).
class SwarmLoss {
 public:
  explicit SwarmLoss(SwarmLossOptions options = SwarmLossOptions());
  SwarmLoss(SwarmLossOptions options, CustomLossFn custom);

  /// Loss value with the swarm backward attached. output [B, C] (or [B], seen
  /// as [B, 1]); target as described for LossKind. Throws std::invalid_argument
  /// on shape mismatch, empty batch or non-finite outputs.
  at::Tensor forward(const at::Tensor& output, const at::Tensor& target);
  at::Tensor operator()(const at::Tensor& output, const at::Tensor& target) { return forward(output, target); }

  const SwarmLossOptions& options() const;
  const SwarmLossDiagnostics& diagnostics() const;
  /// The swarm of the last forward (null before the first).
  const swarm::Swarm<float>* last_swarm() const;

  /// RNG and warm-start state, for exact resume.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace adaswarm
