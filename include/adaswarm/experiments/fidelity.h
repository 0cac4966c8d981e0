// How good a gradient is the swarm's? (`adaswarm fidelity`, docs/fidelity.md)
//
// Along real training runs (an MLP on a shipped UCI set, the paper's CNN on a
// Fashion-MNIST batch, both trained with plain Adam on the true loss), at a few
// snapshots, take a batch's outputs y and targets t and compare with autograd's
// dL/dy:
//   - the swarm loss's backward, over a grid of presets, starts, spans,
//     particles, iterations and gradient scales;
//   - SPSA and antithetic Gaussian smoothing at the same number of loss
//     evaluations as the swarm run (loss/zeroth_order.h), reading the batch's
//     loss (spsa, gauss) or each row's share of it (spsa-row, gauss-row: the
//     information the swarm's per-row bests use).
// Each row is the mean and std over seeds of the cosine and norm ratio.
//
//   adaswarm::experiments::fidelity::FidelityOptions o;  o.quick = true;
//   auto result = adaswarm::experiments::fidelity::run_fidelity(o);
//   std::cout << format_summary(result.rows);
//   adaswarm::util::write_file_atomic("fidelity.csv", to_csv(result.rows));
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace adaswarm::experiments::fidelity {

enum class Source { MLP_UCI, CNN_FMNIST };
const char* to_string(Source s);         ///< "mlp-uci", "cnn-fmnist"
Source source_from_string(const std::string& s);  ///< mlp (mlp-uci), cnn (cnn-fmnist)

/// One swarm configuration of the grid.
struct SwarmConfig {
  std::string preset = "paper";      ///< paper, reference, search
  std::string start = "targets";     ///< targets, output (any SwarmStart name)
  double span = 0;                   ///< start_span (0: the preset's default)
  int64_t particles = 10;
  int64_t iterations = 5;
  std::string grad_scale = "swarm";  ///< swarm, unit, row-clip
};

struct FidelityOptions {
  std::vector<Source> sources = {Source::MLP_UCI, Source::CNN_FMNIST};
  /// Loss names (swarm_loss.h loss_from_string): the differentiable built-ins.
  std::vector<std::string> losses = {"mse", "mae", "huber", "smooth-l1", "bce-logits", "ce", "hinge"};
  int64_t seeds = 5;
  uint64_t first_seed = 1;
  /// The grid (full factorial).
  std::vector<std::string> presets = {"paper", "reference", "search"};
  std::vector<std::string> starts = {"targets", "output"};
  std::vector<double> spans = {0.0, 0.1, 1.0};
  std::vector<int64_t> particles = {10, 40};
  std::vector<int64_t> iterations = {5, 40};
  std::vector<std::string> grad_scales = {"swarm", "unit", "row-clip"};
  /// Zeroth-order steps (c for SPSA, sigma for Gaussian smoothing).
  double zo_step = 1e-2;
  /// MLP: data set (registry key), batch, snapshots (epochs of Adam before the
  /// snapshot), Adam learning rate, training batch size.
  std::string uci_set = "iris";
  std::string uci_data_dir;  ///< folder holding uci/ (empty: find the shipped data)
  int64_t mlp_batch = 32;
  std::vector<int64_t> mlp_epochs = {0, 10, 50};
  double mlp_lr = 1e-2;
  int64_t mlp_train_batch = 16;
  /// CNN: Fashion-MNIST folder (empty: Debian's), probe batch, snapshots (Adam steps).
  std::string images_dir;
  int64_t cnn_batch = 64;
  std::vector<int64_t> cnn_steps = {0, 300};
  double cnn_lr = 1e-3;
  /// Worker threads over the grid (0: all cores).
  int threads = 0;
  bool progress = true;

  /// The --quick settings: 1 seed, a smaller grid, MLP epochs {0, 20}, CNN steps {0, 60}.
  static FidelityOptions quick();
  /// Throws std::invalid_argument naming the option.
  void validate() const;
};

struct FidelityRow {
  std::string source;  ///< mlp-uci, cnn-fmnist
  std::string snapshot;  ///< "epoch 10", "step 300"
  int64_t snapshot_index = 0;
  std::string loss;       ///< loss_from_string name
  std::string estimator;  ///< swarm, spsa, gauss, spsa-row, gauss-row
  /// Swarm configuration ("-" / 0 for the zeroth-order estimators, whose only
  /// setting is the evaluation count; their particles/iterations are those of
  /// the swarm run they are matched with).
  std::string preset, start, grad_scale;
  double span = 0;
  int64_t particles = 0, iterations = 0;
  double evaluations = 0;  ///< mean loss evaluations per estimate
  double zo_step = 0;      ///< c / sigma (zeroth-order rows)
  int64_t n = 0;           ///< estimates averaged (seeds with a non-zero autograd gradient)
  int64_t failed = 0;      ///< estimates that threw (see FidelityResult::failures)
  double cosine_mean = 0, cosine_std = 0;          ///< vs autograd's dL/dy
  double norm_ratio_mean = 0, norm_ratio_std = 0;  ///< |estimate| / |autograd|
  /// Cosine with y - t* (t*: the target, one-hot for class indices): 1 means a
  /// pure pull toward the target, whatever the loss.
  double pull_cosine_mean = 0;
  /// Swarm diagnostics (NaN when unavailable): share of groups whose best moved.
  double moved_share_mean = 0;
};

struct FidelityResult {
  std::vector<FidelityRow> rows;
  double seconds = 0;
  std::string uci_source, image_source;  ///< files read
  /// One message per distinct failing configuration (the swarm loss threw).
  std::vector<std::string> failures;
};

/// Runs everything; `log` (may be empty) receives one-line notes (training, data).
FidelityResult run_fidelity(const FidelityOptions& options,
                            const std::function<void(const std::string&)>& log = {});

/// CSV with a header line; numbers with enough digits to reread.
std::string to_csv(const std::vector<FidelityRow>& rows);
/// One line per source x loss x estimator at the default configuration
/// (paper preset, 10 particles, 5 iterations, swarm scale, span 0; both starts),
/// at each source's last snapshot.
std::string format_summary(const std::vector<FidelityRow>& rows);

}  // namespace adaswarm::experiments::fidelity
