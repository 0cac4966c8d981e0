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
/// Where the swarm starts (SPEC.md section 9; docs/fidelity.md says which to use).
enum class SwarmStart {
  /// The default: `Targets` for built-in losses (the paper preset, so the paper
  /// tables reproduce) and a loss-driven `Output` start for custom losses, with
  /// span max(start_span or 1, (span_scale or 1) x the output's spread).
  Auto,
  /// Around the targets (the reference): needs a target of the output's shape
  /// (or class indices); others are refused naming both shapes.
  Targets,
  /// Around the current output y: the loss alone decides where the best goes.
  Output,
  /// Around a tensor of the output's shape given with SwarmLoss::set_center
  /// (a coarse solution, a previous prediction).
  Center,
  /// Around the last batch's swarm best when it has this batch's shape
  /// (full-batch training carries its search over); else like `Output`.
  Previous,
};
/// Which groups keep their own personal and swarm bests.
enum class Bests {
  Batch,    ///< the whole batch is one fitness (the reference code)
  Row,      ///< each sample (row) keeps its own best (paper preset)
  Element,  ///< each output element keeps its own best (element-wise losses only)
};
/// The scale of the backward.
enum class GradScale {
  Swarm,   ///< (cbar / eta)(y - g) at the reduction's scale (SPEC.md section 3)
  Unit,    ///< (y - g) at the reduction's scale: the gradient of 1/2 |y - g|^2
  RowClip, ///< Unit with each row's (y - g) clipped to norm <= 1: for plain SGD
};
enum class Preset {
  Paper,      ///< the paper's UCI settings (SPEC.md section 5)
  Reference,  ///< the reference vision code's constants and quirks
  Search,     ///< a global search for multi-modal element-wise losses
};

const char* to_string(LossKind k);
LossKind loss_from_string(const std::string& s);  ///< mse, mae, bce, bce-logits, ce, huber, smooth-l1, hinge
const char* to_string(Preset p);
Preset preset_from_string(const std::string& s);  ///< paper, reference, search
const char* to_string(SwarmStart s);
SwarmStart start_from_string(const std::string& s);  ///< auto, targets, output, center, previous
const char* to_string(Bests b);
Bests bests_from_string(const std::string& s);  ///< batch, row, element
const char* to_string(GradScale g);
GradScale grad_scale_from_string(const std::string& s);  ///< swarm, unit, row-clip

/// A user loss: positions [P, B, C] (P candidate outputs, CPU float) and the
/// target exactly as given to forward (any shape and dtype; on the CPU during
/// the search, on its own device for the loss value) -> per-element [P, B, C]
/// or per-sample [P, B] losses. Need not be differentiable.
using CustomLossFn = std::function<at::Tensor(const at::Tensor& positions, const at::Tensor& target)>;

/// The fast form of a custom loss: plain loops over CPU float buffers, called
/// without LibTorch dispatch (a tensor callable pays a few microseconds per op
/// per swarm iteration, which dominates small outputs). `positions` is
/// [P, B, C] row-major; `target` is the target as given to forward, on the CPU
/// and contiguous; the kernel writes P*B*C per-element losses (per_element) or
/// P*B per-sample losses to `out`. Need not be differentiable.
struct CustomKernel {
  std::function<void(const float* positions, int64_t P, int64_t B, int64_t C, const at::Tensor& target,
                     float* out)>
      fn;
  bool per_element = true;
};

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
  TORCH_ARG(SwarmStart, start) = SwarmStart::Auto;
  /// Spread of the start when start_span and span_scale are 0: targets +
  /// start_noise * U(0,1) (the reference), centre + start_noise * U(-1,1) (others).
  TORCH_ARG(double, start_noise) = 0.31622776601683794;  // sqrt(0.1)
  /// Symmetric start: centre + U(-s, s) per element with s = start_span
  /// (0: use start_noise as above)...
  TORCH_ARG(double, start_span) = 0.0;
  /// ... or s_c = max(start_span, span_scale * std of output column c over the
  /// batch) when span_scale > 0 (a span that follows the output's spread).
  TORCH_ARG(double, span_scale) = 0.0;
  /// Which groups keep their own bests (fitness_per_sample(b) sets Row / Batch).
  TORCH_ARG(Bests, bests) = Bests::Row;
  /// Keep the swarm from the previous batch when the shape allows.
  TORCH_ARG(bool, warm_start) = false;
  /// The backward's scale (GradScale::Swarm is the paper's).
  TORCH_ARG(GradScale, grad_scale) = GradScale::Swarm;
  /// Warn (once, diagnostics().warning and c10's warning handler) after this many
  /// consecutive blind batches (0: never).
  TORCH_ARG(int64_t, warn_blind_after) = 20;
  /// Huber delta / smooth-L1 beta.
  TORCH_ARG(double, delta) = 1.0;
  /// Skip the swarm and use its ideal limit g = t (backward = y - t, scaled):
  /// an ablation that shows what the search itself adds.
  TORCH_ARG(bool, ideal_limit) = false;
  /// After each backward, also compute the true autograd gradient (differentiable
  /// losses) and report cosine similarity and norm ratio.
  TORCH_ARG(bool, compare_with_autograd) = false;

 public:
  /// Row (true) or Batch (false) bests: the paper's option name.
  SwarmLossOptions& fitness_per_sample(bool per_sample) {
    bests_ = per_sample ? Bests::Row : Bests::Batch;
    return *this;
  }
  bool fitness_per_sample() const { return bests_ != Bests::Batch; }
  /// Throws std::invalid_argument naming the option when something is impossible.
  void validate() const;
};

/// Every setting as a JSON object text (non-finite numbers as "inf", "-inf",
/// "nan"): for checkpoints and logs.
std::string options_to_json(const SwarmLossOptions& options);
/// Back from that text: missing settings keep their defaults; unknown or
/// malformed ones and impossible values throw std::invalid_argument naming them.
SwarmLossOptions options_from_json(const std::string& text);

/// Filled by each backward (and forward) of a SwarmLoss.
struct SwarmLossDiagnostics {
  double best_fitness = std::numeric_limits<double>::quiet_NaN();  ///< swarm best (loss units, summed rows)
  double cbar = std::numeric_limits<double>::quiet_NaN();
  int64_t iterations = 0;
  int64_t evaluations = 0;
  double cosine = std::numeric_limits<double>::quiet_NaN();      ///< vs autograd (when asked)
  double norm_ratio = std::numeric_limits<double>::quiet_NaN();  ///< |approx| / |true|
  /// The start the batch used (Auto resolved) and its mean half-width.
  SwarmStart start = SwarmStart::Auto;
  double span = std::numeric_limits<double>::quiet_NaN();
  int64_t groups = 0;  ///< best groups: 1, B or B*C
  /// Share of groups whose swarm best beats the first particle's start (where
  /// the best stays when every particle ties: the search found something).
  double moved_share = std::numeric_limits<double>::quiet_NaN();
  /// Share of groups in which every particle scored the same at every evaluation.
  double flat_share = std::numeric_limits<double>::quiet_NaN();
  /// The loss gave the swarm no signal in this batch: every group flat, or none moved.
  bool blind = false;
  int64_t blind_streak = 0;  ///< consecutive blind batches (this one included)
  /// Non-empty once blind_streak has reached warn_blind_after (stays set).
  std::string warning;
  double grad_norm = std::numeric_limits<double>::quiet_NaN();  ///< |dL/dy| returned
  /// Threads the search ran on (row slices: SwarmLoss::set_threads); 1 on one.
  int64_t threads = 1;
};

/// The ordinary value of a built-in loss (no swarm): for evaluation and tests.
at::Tensor plain_loss(LossKind kind, const at::Tensor& output, const at::Tensor& target,
                      Reduction reduction = Reduction::Mean, double delta = 1.0);

/// A handle to a swarm loss; copies share state (RNG, warm swarm, diagnostics).
/// Threads that share it (copies included) take turns: forward, set_center,
/// set_threads, save and load hold one lock; read diagnostics() on the thread
/// that made the call.
class SwarmLoss {
 public:
  /// Each constructor validates the options (std::invalid_argument naming the
  /// option). With a callable or a kernel the loss kind becomes Custom whatever
  /// options.loss() says (the callable or kernel is the loss).
  explicit SwarmLoss(SwarmLossOptions options = SwarmLossOptions());
  SwarmLoss(SwarmLossOptions options, CustomLossFn custom);
  SwarmLoss(SwarmLossOptions options, CustomKernel kernel);

  /// Loss value with the swarm backward attached. output [B, C] (or [B], seen
  /// as [B, 1]); target as described for LossKind. Throws std::invalid_argument
  /// on shape mismatch, empty batch or non-finite outputs.
  at::Tensor forward(const at::Tensor& output, const at::Tensor& target);
  at::Tensor operator()(const at::Tensor& output, const at::Tensor& target) { return forward(output, target); }

  /// The centre of SwarmStart::Center: a tensor of the output's shape (any
  /// device); an undefined tensor clears it. Checked against each batch.
  void set_center(const at::Tensor& center);

  const SwarmLossOptions& options() const;
  const SwarmLossDiagnostics& diagnostics() const;
  /// The swarm of the last forward (null before the first, and after a search
  /// that ran in row slices: set_threads).
  const swarm::Swarm<float>* last_swarm() const;

  /// Search on up to n threads (default 1): the batch's rows are cut into n
  /// contiguous slices, each searched by its own swarm on its own OpenMP
  /// thread, all drawing the same random numbers, so the gradient, cbar and the
  /// diagnostics are the same bit for bit as on one thread (per-row and
  /// per-element bests never look at other rows). Not a setting of the
  /// algorithm, so not saved. Applies where that holds: Row or Element bests,
  /// one r1, r2 per particle, no REMPSO / reference rotation, bounds of one
  /// value, no tolerance or stall rule, no warm start, and a built-in loss or a
  /// CustomKernel whose target has the batch's rows on its first axis (the
  /// kernel is then called concurrently, on rows b0 .. b1 of the positions
  /// and of the target: it must compute each row from that row alone). Elsewhere,
  /// and with fewer rows or OpenMP threads than n (1 inside a worker that holds
  /// them at 1), fewer slices or one; diagnostics().threads says how many ran.
  /// Throws std::invalid_argument unless n >= 1.
  void set_threads(int64_t n);
  int64_t threads() const;

  /// Everything a loaded loss needs to continue exactly: the generator, the
  /// settings, the warm swarm (warm_start: positions and velocities) and the
  /// last best (SwarmStart::Previous). A custom callable cannot be saved: load
  /// into a loss built with the same one. load() adopts the saved settings, and
  /// throws std::runtime_error (leaving this loss unchanged) on a malformed
  /// state or a built-in / custom mismatch.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

  struct State;

 private:
  struct Step;
  void note_blindness(SwarmLossDiagnostics& diag);
  std::shared_ptr<State> state_;
};

}  // namespace adaswarm
