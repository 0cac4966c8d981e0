// `adaswarm fidelity`: the swarm's dL/dy and two zeroth-order estimates against
// autograd's, along real training runs. See include/adaswarm/experiments/fidelity.h
// and docs/fidelity.md.
#include "adaswarm/experiments/fidelity.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <torch/torch.h>

#include "adaswarm/data/images.h"
#include "adaswarm/data/uci.h"
#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/loss/zeroth_order.h"
#include "adaswarm/models/cnn.h"
#include "adaswarm/models/mlp.h"
#include "adaswarm/util/random.h"
#include "adaswarm/util/progress.h"

namespace adaswarm::experiments::fidelity {

const char* to_string(Source s) {
  switch (s) {
    case Source::MLP_UCI: return "mlp-uci";
    case Source::CNN_FMNIST: return "cnn-fmnist";
  }
  return "?";
}

Source source_from_string(const std::string& s) {
  if (s == "mlp" || s == "mlp-uci") return Source::MLP_UCI;
  if (s == "cnn" || s == "cnn-fmnist") return Source::CNN_FMNIST;
  throw std::invalid_argument("unknown fidelity source '" + s + "' (mlp, cnn)");
}

FidelityOptions FidelityOptions::quick() {
  FidelityOptions o;
  o.seeds = 1;
  o.presets = {"paper", "search"};
  o.spans = {0.0, 1.0};
  o.particles = {10};
  o.iterations = {5, 40};
  o.mlp_epochs = {0, 20};
  o.cnn_steps = {0, 60};
  return o;
}

namespace {

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

[[noreturn]] void bad(const std::string& m) { throw std::invalid_argument("fidelity: " + m); }

/// Losses whose autograd gradient exists (a.e.) on unbounded network outputs.
bool comparable_loss(LossKind k) { return k != LossKind::Custom && k != LossKind::BCE; }

/// Cross-entropy and multi-class hinge (index targets) are per-sample losses.
bool index_target_loss(LossKind k) { return k == LossKind::CrossEntropy || k == LossKind::Hinge; }

}  // namespace

void FidelityOptions::validate() const {
  if (sources.empty()) bad("--sources: give at least one source (mlp, cnn)");
  if (losses.empty()) bad("--losses: give at least one loss");
  for (const auto& l : losses) {
    LossKind k;
    try {
      k = loss_from_string(l);
    } catch (const std::exception& e) {
      bad(std::string("--losses: ") + e.what());
    }
    if (!comparable_loss(k))
      bad("--losses: '" + l + "' has no autograd gradient to compare with on network outputs (bce needs "
          "probabilities: use bce-logits; custom losses have none)");
  }
  if (seeds < 1 || seeds > 1000) bad("--seeds must be in [1, 1000], got " + std::to_string(seeds));
  if (presets.empty()) bad("presets: give at least one");
  for (const auto& p : presets) {
    try {
      preset_from_string(p);
    } catch (const std::exception& e) {
      bad(std::string("presets: ") + e.what());
    }
  }
  if (starts.empty()) bad("starts: give at least one");
  for (const auto& s : starts) {
    SwarmStart st;
    try {
      st = start_from_string(s);
    } catch (const std::exception& e) {
      bad(std::string("starts: ") + e.what());
    }
    if (st == SwarmStart::Center) bad("starts: 'center' needs a user centre; use targets, output, auto or previous");
  }
  if (spans.empty()) bad("spans: give at least one");
  for (double s : spans)
    if (!std::isfinite(s) || s < 0) bad("spans must be finite and >= 0, got " + num(s));
  if (particles.empty()) bad("particles: give at least one");
  for (auto p : particles)
    if (p < 1 || p > 100000) bad("particles must be in [1, 100000], got " + std::to_string(p));
  if (iterations.empty()) bad("iterations: give at least one");
  for (auto i : iterations)
    if (i < 1 || i > 100000) bad("iterations must be in [1, 100000], got " + std::to_string(i));
  if (grad_scales.empty()) bad("grad_scales: give at least one");
  for (const auto& g : grad_scales) {
    try {
      grad_scale_from_string(g);
    } catch (const std::exception& e) {
      bad(std::string("grad_scales: ") + e.what());
    }
  }
  if (!std::isfinite(zo_step) || !(zo_step > 0)) bad("--zo-step must be finite and > 0, got " + num(zo_step));
  if (mlp_batch < 1) bad("--mlp-batch must be >= 1, got " + std::to_string(mlp_batch));
  if (mlp_train_batch < 1) bad("mlp_train_batch must be >= 1, got " + std::to_string(mlp_train_batch));
  if (mlp_epochs.empty()) bad("--mlp-epochs: give at least one snapshot");
  for (auto e : mlp_epochs)
    if (e < 0 || e > 100000) bad("--mlp-epochs must be in [0, 100000], got " + std::to_string(e));
  if (!std::isfinite(mlp_lr) || !(mlp_lr > 0)) bad("mlp_lr must be finite and > 0, got " + num(mlp_lr));
  if (cnn_batch < 1 || cnn_batch > 100000) bad("--cnn-batch must be in [1, 100000], got " + std::to_string(cnn_batch));
  if (cnn_steps.empty()) bad("--cnn-steps: give at least one snapshot");
  for (auto s : cnn_steps)
    if (s < 0 || s > 1000000) bad("--cnn-steps must be in [0, 1000000], got " + std::to_string(s));
  if (!std::isfinite(cnn_lr) || !(cnn_lr > 0)) bad("cnn_lr must be finite and > 0, got " + num(cnn_lr));
  if (threads < 0) bad("--threads must be >= 0, got " + std::to_string(threads));
  try {
    data::uci_set(uci_set);
  } catch (const std::exception& e) {
    bad(std::string("--uci-set: ") + e.what());
  }
}

namespace {

/// A batch of outputs taken at one snapshot of a training run.
struct Probe {
  int64_t index = 0;      // the snapshot (epoch or step)
  std::string label;      // "epoch 10"
  at::Tensor y;           // float [B, C], detached, CPU
  at::Tensor labels;      // int64 [B]
};

/// The target a loss takes: class indices (CE, hinge) or one-hot [B, C].
at::Tensor target_for(LossKind k, const at::Tensor& labels, int64_t C) {
  if (index_target_loss(k)) return labels;
  return torch::one_hot(labels, C).to(torch::kFloat);
}

struct Sample {
  double cosine = 0, norm_ratio = 0, pull = 0, moved = 0, evaluations = 0;
  bool valid = false;  // false: autograd's gradient is zero (no direction to compare)
  bool failed = false;  // the estimator threw (the message goes to the log once)
};

/// Cosine / norm ratio of `est` against `truth`, and cosine with `pull`.
Sample compare(const at::Tensor& est, const at::Tensor& truth, const at::Tensor& pull) {
  Sample s;
  const at::Tensor a = est.reshape({-1}).to(torch::kDouble), t = truth.reshape({-1}).to(torch::kDouble),
                   p = pull.reshape({-1}).to(torch::kDouble);
  const double an = a.norm().item<double>(), tn = t.norm().item<double>(), pn = p.norm().item<double>();
  s.pull = (an > 0 && pn > 0) ? (a * p).sum().item<double>() / (an * pn) : 0.0;
  if (!(tn > 0)) return s;
  s.valid = true;
  s.cosine = an > 0 ? (a * t).sum().item<double>() / (an * tn) : 0.0;
  s.norm_ratio = an / tn;
  return s;
}

struct Key {
  std::string source, snapshot;
  int64_t snapshot_index;
  std::string loss, estimator, preset, start, grad_scale;
  double span;
  int64_t particles, iterations;
  bool operator<(const Key& o) const {
    return std::tie(source, snapshot_index, snapshot, loss, estimator, preset, start, span, particles, iterations,
                    grad_scale) < std::tie(o.source, o.snapshot_index, o.snapshot, o.loss, o.estimator, o.preset,
                                           o.start, o.span, o.particles, o.iterations, o.grad_scale);
  }
};

struct Accumulator {
  std::vector<Key> order;  // first-seen order
  std::map<Key, std::vector<Sample>> samples;
  void add(const Key& k, const Sample& s) {
    auto it = samples.find(k);
    if (it == samples.end()) {
      order.push_back(k);
      samples[k].push_back(s);
    } else {
      it->second.push_back(s);
    }
  }
};

std::vector<SwarmConfig> grid(const FidelityOptions& o) {
  std::vector<SwarmConfig> g;
  for (const auto& p : o.presets)
    for (const auto& s : o.starts)
      for (double sp : o.spans)
        for (auto P : o.particles)
          for (auto I : o.iterations)
            for (const auto& gs : o.grad_scales) g.push_back({p, s, sp, P, I, gs});
  return g;
}

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL);
  return splitmix64(x);
}
uint64_t hash_str(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

/// Every estimate for one probe batch, one seed, the given losses.
void evaluate_probe(const FidelityOptions& o, const std::string& source, const Probe& probe,
                    const std::vector<std::string>& losses, uint64_t seed, Accumulator& acc,
                    std::map<std::string, int64_t>& failures) {
  const auto configs = grid(o);
  const int64_t C = probe.y.size(1);
  const int64_t nl = static_cast<int64_t>(losses.size()), nc = static_cast<int64_t>(configs.size());
  // autograd's dL/dy and the pull direction y - t* per loss
  std::vector<at::Tensor> truth(losses.size()), targets(losses.size());
  const at::Tensor pull = probe.y - torch::one_hot(probe.labels, C).to(torch::kFloat);
  for (int64_t li = 0; li < nl; ++li) {
    const LossKind k = loss_from_string(losses[li]);
    targets[li] = target_for(k, probe.labels, C);
    at::Tensor yv = probe.y.clone().requires_grad_(true);
    at::AutoGradMode on(true);
    at::Tensor l = plain_loss(k, yv, targets[li]);
    truth[li] = torch::autograd::grad({l}, {yv})[0].detach();
  }
  // swarm runs, in parallel over (loss, config)
  std::vector<Sample> swarm_out(static_cast<size_t>(nl * nc));
  std::vector<std::string> errors(static_cast<size_t>(nl * nc));
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (int64_t task = 0; task < nl * nc; ++task) {
    const int64_t li = task / nc, ci = task % nc;
    const SwarmConfig& cfg = configs[static_cast<size_t>(ci)];
    try {
      const LossKind k = loss_from_string(losses[li]);
      SwarmLossOptions so = SwarmLossOptions::preset(preset_from_string(cfg.preset));
      so.loss(k).start(start_from_string(cfg.start)).grad_scale(grad_scale_from_string(cfg.grad_scale));
      if (cfg.span > 0) so.start_span(cfg.span);
      // Per-element bests (the search preset) need an element-wise loss: per-sample
      // losses keep one best per row instead.
      if (so.bests() == Bests::Element && index_target_loss(k)) so.bests(Bests::Row);
      so.swarm().particles(cfg.particles).iterations(cfg.iterations).seed(mix(seed, task + 1));
      SwarmLoss loss(so);
      at::Tensor yv = probe.y.clone().requires_grad_(true);
      at::Tensor grad;
      {
        at::AutoGradMode on(true);
        at::Tensor l = loss(yv, targets[li]);
        grad = torch::autograd::grad({l}, {yv})[0].detach();
      }
      Sample s = compare(grad, truth[li], pull);
      s.evaluations = static_cast<double>(loss.diagnostics().evaluations);
      s.moved = loss.diagnostics().moved_share;
      swarm_out[task] = s;
    } catch (const std::exception& e) {
      errors[task] = e.what();
    }
  }
  // A configuration that throws is counted as a failure of its row (and its
  // message logged once) rather than ending the whole run.
  for (int64_t task = 0; task < nl * nc; ++task)
    if (!errors[task].empty()) {
      const auto& cfg = configs[static_cast<size_t>(task % nc)];
      swarm_out[task] = Sample();
      swarm_out[task].failed = true;
      swarm_out[task].evaluations = static_cast<double>(cfg.particles * (cfg.iterations + 1));
      ++failures["swarm run failed (" + source + ", " + losses[task / nc] + ", preset " + cfg.preset + ", start " +
                 cfg.start + ", span " + num(cfg.span) + "): " + errors[task]];
    }
  // zeroth-order estimates at each (particles, iterations)'s evaluation count
  for (int64_t li = 0; li < nl; ++li) {
    const LossKind k = loss_from_string(losses[li]);
    const BatchedLossFn fn = batched_loss(k, targets[li]);
    const BatchedLossFn row_fn = batched_loss(k, targets[li], Reduction::Mean, 1.0, /*per_row=*/true);
    std::map<std::pair<int64_t, int64_t>, double> evals;  // (P, I) -> the swarm's evaluation count
    for (int64_t ci = 0; ci < nc; ++ci) {
      const auto& cfg = configs[static_cast<size_t>(ci)];
      if (!swarm_out[li * nc + ci].failed)
        evals.emplace(std::make_pair(cfg.particles, cfg.iterations), swarm_out[li * nc + ci].evaluations);
    }
    for (int64_t ci = 0; ci < nc; ++ci) {  // every configuration failed: P (I + 1)
      const auto& cfg = configs[static_cast<size_t>(ci)];
      evals.emplace(std::make_pair(cfg.particles, cfg.iterations), swarm_out[li * nc + ci].evaluations);
    }
    for (const auto& [pi, ev] : evals) {
      const int64_t pairs = std::max<int64_t>(1, static_cast<int64_t>(std::llround(ev / 2.0)));
      for (int variant = 0; variant < 4; ++variant) {
        const ZerothOrder m = variant % 2 == 0 ? ZerothOrder::SPSA : ZerothOrder::Gaussian;
        const bool per_row = variant >= 2;
        ZerothOrderOptions zo;
        zo.pairs(pairs).step(o.zo_step).seed(seed).per_row(per_row).stream(
            mix(mix(hash_str(source), static_cast<uint64_t>(probe.index)),
                mix(hash_str(losses[li]), static_cast<uint64_t>(pairs) * 4 + static_cast<uint64_t>(variant))));
        const auto est = zeroth_order_gradient(m, per_row ? row_fn : fn, probe.y, zo);
        Sample s = compare(est.grad, truth[li], pull);
        s.evaluations = static_cast<double>(est.evaluations);
        s.moved = std::numeric_limits<double>::quiet_NaN();
        acc.add({source, probe.label, probe.index, losses[li], std::string(to_string(m)) + (per_row ? "-row" : ""), "-",
                 "-", "-", 0.0, pi.first, pi.second},
                s);
      }
    }
    for (int64_t ci = 0; ci < nc; ++ci) {
      const auto& cfg = configs[static_cast<size_t>(ci)];
      acc.add({source, probe.label, probe.index, losses[li], "swarm", cfg.preset, cfg.start, cfg.grad_scale, cfg.span,
               cfg.particles, cfg.iterations},
              swarm_out[li * nc + ci]);
    }
  }
}

std::vector<int64_t> sorted_unique(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

/// A permutation of [0, n) from a seeded stream (Fisher-Yates).
std::vector<int64_t> permutation(int64_t n, Rng& rng) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[static_cast<int64_t>(rng.below(i + 1))]);
  return p;
}

/// MLP in -> 10 (ReLU) -> classes trained with Adam on `loss` (the true loss);
/// probes of a fixed training batch at each snapshot epoch.
std::vector<Probe> mlp_probes(const FidelityOptions& o, const data::Prepared& d, LossKind kind, uint64_t seed) {
  const int64_t C = d.num_classes, N = d.x_train.size(0);
  models::MLP net(models::MLPOptions(d.x_train.size(1), C).hidden({10}));
  net->reset_parameters(seed);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(o.mlp_lr));
  Rng rng(seed, 101);
  const auto probe_rows = permutation(N, rng);
  const int64_t pb = std::min(o.mlp_batch, N);
  const at::Tensor pidx = torch::tensor(std::vector<int64_t>(probe_rows.begin(), probe_rows.begin() + pb));
  const at::Tensor px = d.x_train.index_select(0, pidx), pl = d.y_train.index_select(0, pidx);
  std::vector<Probe> out;
  const auto snaps = sorted_unique(o.mlp_epochs);
  int64_t epoch = 0;
  for (int64_t snap : snaps) {
    for (; epoch < snap; ++epoch) {
      const auto order = permutation(N, rng);
      for (int64_t s = 0; s < N; s += o.mlp_train_batch) {
        const int64_t e = std::min(N, s + o.mlp_train_batch);
        const at::Tensor idx = torch::tensor(std::vector<int64_t>(order.begin() + s, order.begin() + e));
        const at::Tensor x = d.x_train.index_select(0, idx), lab = d.y_train.index_select(0, idx);
        opt.zero_grad();
        plain_loss(kind, net->forward(x), target_for(kind, lab, C)).backward();
        opt.step();
      }
    }
    torch::NoGradGuard ng;
    out.push_back({snap, "epoch " + std::to_string(snap), net->forward(px).detach().contiguous(), pl});
  }
  return out;
}

/// The paper's CNN trained with Adam on cross-entropy; probes of a fixed batch.
std::vector<Probe> cnn_probes(const FidelityOptions& o, const data::ImageSplits& s, uint64_t seed) {
  const auto norm = data::default_normalization(data::ImageSet::FashionMNIST);
  torch::manual_seed(seed);
  models::SimpleCNN net(models::SimpleCNNOptions().in_channels(1).height(28).width(28).classes(10));
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(o.cnn_lr));
  data::BatchLoader train(s.train, 64, true, {}, norm, seed);
  data::BatchLoader probe_loader(s.train, o.cnn_batch, true, {}, norm, mix(seed, 7919));
  const data::Batch probe = probe_loader.batch(0);
  std::vector<Probe> out;
  int64_t step = 0, epoch = 0, b = 0;
  train.set_epoch(0);
  for (int64_t snap : sorted_unique(o.cnn_steps)) {
    net->train();
    for (; step < snap; ++step) {
      if (b >= train.num_batches()) {
        train.set_epoch(++epoch);
        b = 0;
      }
      const data::Batch batch = train.batch(b++);
      opt.zero_grad();
      torch::nn::functional::cross_entropy(net->forward(batch.images), batch.labels).backward();
      opt.step();
    }
    net->eval();
    torch::NoGradGuard ng;
    out.push_back({snap, "step " + std::to_string(snap), net->forward(probe.images).detach().contiguous(), probe.labels});
  }
  return out;
}

double mean_of(const std::vector<double>& v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double std_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

}  // namespace

FidelityResult run_fidelity(const FidelityOptions& o, const std::function<void(const std::string&)>& log) {
  o.validate();
  const auto t0 = std::chrono::steady_clock::now();
  auto note = [&](const std::string& s) {
    if (log) log(s);
  };
  FidelityResult result;
  Accumulator acc;
  std::map<std::string, int64_t> failures;
  const bool has_mlp = std::count(o.sources.begin(), o.sources.end(), Source::MLP_UCI) > 0;
  const bool has_cnn = std::count(o.sources.begin(), o.sources.end(), Source::CNN_FMNIST) > 0;
  const int64_t S = o.seeds, L = static_cast<int64_t>(o.losses.size());
  const int64_t mlp_work = has_mlp ? S * L * static_cast<int64_t>(sorted_unique(o.mlp_epochs).size()) : 0;
  const int64_t cnn_work = has_cnn ? S * L * static_cast<int64_t>(sorted_unique(o.cnn_steps).size()) : 0;
  util::Progress bar(mlp_work + cnn_work, "fidelity", o.progress);

  if (has_mlp) {
    const std::string dir = data::find_data_dir(o.uci_data_dir, {});
    const data::Dataset ds = data::load_uci(o.uci_set, dir);
    result.uci_source = ds.source;
    note(fmt::format("mlp-uci: {} ({} rows, {} classes), MLP {}-10-{}, Adam lr {}, probe batch {}, epochs {}", o.uci_set,
                     ds.rows(), ds.num_classes(), ds.num_features(), ds.num_classes(), o.mlp_lr, o.mlp_batch,
                     fmt::join(sorted_unique(o.mlp_epochs), ",")));
    for (int64_t si = 0; si < S; ++si) {
      const uint64_t seed = o.first_seed + static_cast<uint64_t>(si);
      const data::Prepared d = data::prepare(ds, data::stratified_split(ds.labels, 0.2, seed));
      for (const auto& l : o.losses) {
        const auto probes = mlp_probes(o, d, loss_from_string(l), seed);
        for (const auto& p : probes) {
          evaluate_probe(o, to_string(Source::MLP_UCI), p, {l}, seed, acc, failures);
          bar.advance(1, fmt::format("mlp seed {} {} {}", seed, l, p.label));
        }
      }
    }
  }
  if (has_cnn) {
    data::LoadOptions lo;
    const int64_t max_step = sorted_unique(o.cnn_steps).back();
    lo.train_limit = std::min<int64_t>(60000, std::max<int64_t>({1024, o.cnn_batch, 64 * (max_step + 1)}));
    lo.test_limit = 1;
    lo.holdout = 1;
    const data::ImageSplits s = data::load_image_set(data::ImageSet::FashionMNIST, o.images_dir, lo);
    result.image_source = s.dir;
    note(fmt::format("cnn-fmnist: {} ({} training images used), paper CNN trained with Adam lr {} on "
                     "cross-entropy, batch 64; probe batch {}, steps {}",
                     s.dir, s.train.size(), o.cnn_lr, o.cnn_batch, fmt::join(sorted_unique(o.cnn_steps), ",")));
    for (int64_t si = 0; si < S; ++si) {
      const uint64_t seed = o.first_seed + static_cast<uint64_t>(si);
      const auto probes = cnn_probes(o, s, seed);
      for (const auto& p : probes)
        for (const auto& l : o.losses) {
          evaluate_probe(o, to_string(Source::CNN_FMNIST), p, {l}, seed, acc, failures);
          bar.advance(1, fmt::format("cnn seed {} {} {}", seed, l, p.label));
        }
    }
  }
  bar.finish();
  for (const auto& [msg, count] : failures) {
    note(fmt::format("warning: {} ({} time(s))", msg, count));
    result.failures.push_back(msg);
  }

  // mean and std over seeds, in a stable order
  std::vector<Key> keys = acc.order;
  std::stable_sort(keys.begin(), keys.end());
  for (const Key& k : keys) {
    const auto& v = acc.samples.at(k);
    std::vector<double> cos, ratio, pull, moved, ev;
    int64_t failed = 0;
    for (const auto& s : v) {
      if (s.failed) {
        ++failed;
        continue;
      }
      pull.push_back(s.pull);
      ev.push_back(s.evaluations);
      if (std::isfinite(s.moved)) moved.push_back(s.moved);
      if (!s.valid) continue;
      cos.push_back(s.cosine);
      ratio.push_back(s.norm_ratio);
    }
    FidelityRow r;
    r.source = k.source;
    r.snapshot = k.snapshot;
    r.snapshot_index = k.snapshot_index;
    r.loss = k.loss;
    r.estimator = k.estimator;
    r.preset = k.preset;
    r.start = k.start;
    r.grad_scale = k.grad_scale;
    r.span = k.span;
    r.particles = k.particles;
    r.iterations = k.iterations;
    r.evaluations = mean_of(ev);
    r.zo_step = r.estimator == "swarm" ? 0.0 : o.zo_step;
    r.n = static_cast<int64_t>(cos.size());
    r.failed = failed;
    r.cosine_mean = mean_of(cos);
    r.cosine_std = std_of(cos);
    r.norm_ratio_mean = mean_of(ratio);
    r.norm_ratio_std = std_of(ratio);
    r.pull_cosine_mean = mean_of(pull);
    r.moved_share_mean = mean_of(moved);
    result.rows.push_back(r);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

std::string to_csv(const std::vector<FidelityRow>& rows) {
  std::string out =
      "source,snapshot,snapshot_index,loss,estimator,preset,start,span,particles,iterations,grad_scale,evaluations,"
      "zo_step,n,failed,cosine_mean,cosine_std,norm_ratio_mean,norm_ratio_std,pull_cosine_mean,moved_share_mean\n";
  for (const auto& r : rows)
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}\n", r.source,
                       r.snapshot, r.snapshot_index, r.loss, r.estimator, r.preset, r.start, r.span, r.particles,
                       r.iterations, r.grad_scale, r.evaluations, r.zo_step, r.n, r.failed, r.cosine_mean, r.cosine_std,
                       r.norm_ratio_mean, r.norm_ratio_std, r.pull_cosine_mean, r.moved_share_mean);
  return out;
}

std::string format_summary(const std::vector<FidelityRow>& rows) {
  // each source's last snapshot; the default configuration
  std::map<std::string, int64_t> last;
  for (const auto& r : rows) last[r.source] = std::max(last.count(r.source) ? last[r.source] : r.snapshot_index, r.snapshot_index);
  auto find = [&](const std::string& src, const std::string& loss, const std::string& est, const std::string& start,
                  const std::string& gs) -> const FidelityRow* {
    for (const auto& r : rows)
      if (r.source == src && r.snapshot_index == last[src] && r.loss == loss && r.estimator == est &&
          r.particles == 10 && r.iterations == 5 &&
          (est != "swarm" || (r.preset == "paper" && r.start == start && r.span == 0 && r.grad_scale == gs)))
        return &r;
    return nullptr;
  };
  std::vector<std::string> losses;
  for (const auto& r : rows)
    if (std::find(losses.begin(), losses.end(), r.loss) == losses.end()) losses.push_back(r.loss);
  std::string out = fmt::format("{:<11} {:<9} {:<11} {:<15} {:>5} {:>14} {:>8} {:>17}\n", "source", "snapshot", "loss",
                                "estimator", "evals", "cosine", "pull cos", "norm ratio");
  auto cell = [](double m, double s) { return std::isfinite(m) ? fmt::format("{:.3f}±{:.3f}", m, s) : std::string("n/a"); };
  bool any = false;
  for (const auto& [src, snap] : last)
    for (const auto& loss : losses) {
      struct Line {
        std::string name, est, start;
      };
      for (const Line& ln : {Line{"swarm targets", "swarm", "targets"}, Line{"swarm output", "swarm", "output"},
                             Line{"spsa", "spsa", ""}, Line{"gauss", "gauss", ""}, Line{"spsa-row", "spsa-row", ""},
                             Line{"gauss-row", "gauss-row", ""}}) {
        const FidelityRow* r = find(src, loss, ln.est, ln.start, "swarm");
        if (!r) continue;
        any = true;
        std::string ratio = cell(r->norm_ratio_mean, r->norm_ratio_std);
        if (ln.est == "swarm") {
          const FidelityRow* u = find(src, loss, "swarm", ln.start, "unit");
          const FidelityRow* c = find(src, loss, "swarm", ln.start, "row-clip");
          if (u || c)
            ratio = fmt::format("{:.3g} / {} / {}", r->norm_ratio_mean, u ? fmt::format("{:.3g}", u->norm_ratio_mean) : "-",
                                c ? fmt::format("{:.3g}", c->norm_ratio_mean) : "-");
        }
        out += fmt::format("{:<11} {:<9} {:<11} {:<15} {:>5} {:>14} {:>8.3f} {:>17}\n", src, r->snapshot, loss, ln.name,
                           r->evaluations, cell(r->cosine_mean, r->cosine_std), r->pull_cosine_mean, ratio);
      }
    }
  if (!any) out += "(no row at the default configuration: paper preset, 10 particles, 5 iterations, span 0)\n";
  else
    out += "(paper preset, 10 particles, 5 iterations; norm ratio of the swarm: scale swarm / unit / row-clip)\n";
  return out;
}

}  // namespace adaswarm::experiments::fidelity
