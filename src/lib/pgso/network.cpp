// Whole-network weight search (see include/adaswarm/pgso/network.h).
#include "adaswarm/pgso/network.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "adaswarm/data/csv.h"
#include "adaswarm/pgso/gso.h"
#include "islands.h"
#include "adaswarm/util/random.h"
#include "adaswarm/swarm/swarm.h"

namespace adaswarm::pgso {

// ---------------------------------------------------------------- data

namespace {

// The shared CSV reader (data/csv.h): quotes, CRLF, blank lines, and every
// error naming the file and line; a header names the columns.
data::CsvTable read_table(const std::string& path) {
  data::CsvOptions o;
  o.header = true;
  auto csv = data::read_csv(path, o);
  if (csv.rows.empty()) throw data::DataError(path, 0, "has no data rows");
  return csv;
}

// NaN for an empty field; throws naming file, line and column otherwise.
double parse_number(const std::string& s, const data::CsvTable& csv, size_t row, const std::string& col) {
  if (s.empty() || s == "?" || s == "NA") return std::numeric_limits<double>::quiet_NaN();
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw data::DataError(csv.source, csv.lines[row], "column '" + col + "': '" + s + "' is not a number");
  }
}

int64_t column(const data::CsvTable& csv, const std::string& name) {
  for (size_t i = 0; i < csv.header.size(); ++i)
    if (csv.header[i] == name) return static_cast<int64_t>(i);
  throw data::DataError(csv.source, 0, "has no column '" + name + "'");
}

// rows x features (NaN = missing) and 0/1 labels -> shuffled split, NaN -> train
// mean, standardised with train statistics.
Dataset make_dataset(std::string name, std::vector<std::string> features, const std::vector<double>& x,
                     const std::vector<double>& y, double test_fraction, uint64_t seed) {
  if (!(test_fraction > 0 && test_fraction < 1))
    throw std::invalid_argument("test fraction must be in (0, 1), got " + std::to_string(test_fraction));
  const auto n = static_cast<int64_t>(y.size());
  const auto F = static_cast<int64_t>(features.size());
  const int64_t n_test = std::max<int64_t>(1, static_cast<int64_t>(std::llround(test_fraction * n)));
  if (n - n_test < 1) throw std::invalid_argument("data set '" + name + "' is too small to split");
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  Rng rng(seed, 0x5EED);
  for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(static_cast<uint64_t>(i + 1))]);
  const int64_t n_train = n - n_test;
  std::vector<double> mean(static_cast<size_t>(F), 0.0), sd(static_cast<size_t>(F), 0.0);
  for (int64_t f = 0; f < F; ++f) {
    double s = 0;
    int64_t c = 0;
    for (int64_t i = 0; i < n_train; ++i) {
      const double v = x[perm[i] * F + f];
      if (!std::isnan(v)) s += v, ++c;
    }
    mean[f] = c ? s / static_cast<double>(c) : 0.0;
    double q = 0;
    for (int64_t i = 0; i < n_train; ++i) {
      double v = x[perm[i] * F + f];
      if (std::isnan(v)) v = mean[f];
      q += (v - mean[f]) * (v - mean[f]);
    }
    sd[f] = std::sqrt(q / static_cast<double>(n_train));
    if (!(sd[f] > 0)) sd[f] = 1.0;
  }
  auto build = [&](int64_t from, int64_t to, at::Tensor& X, at::Tensor& Y) {
    X = torch::empty({to - from, F}, torch::kFloat);
    Y = torch::empty({to - from, 1}, torch::kFloat);
    auto xa = X.accessor<float, 2>();
    auto ya = Y.accessor<float, 2>();
    for (int64_t i = from; i < to; ++i) {
      for (int64_t f = 0; f < F; ++f) {
        double v = x[perm[i] * F + f];
        if (std::isnan(v)) v = mean[f];
        xa[i - from][f] = static_cast<float>((v - mean[f]) / sd[f]);
      }
      ya[i - from][0] = static_cast<float>(y[perm[i]]);
    }
  };
  Dataset d;
  d.name = std::move(name);
  d.features = std::move(features);
  build(0, n_train, d.x_train, d.y_train);
  build(n_train, n, d.x_test, d.y_test);
  return d;
}

double label_value(const std::string& s, const data::CsvTable& csv, size_t row, const std::string& col) {
  const double v = parse_number(s, csv, row, col);
  if (!(v == 0.0 || v == 1.0))
    throw data::DataError(csv.source, csv.lines[row], "label column '" + col + "' must be 0 or 1, got '" + s + "'");
  return v;
}

}  // namespace

Dataset load_churn(const std::string& path, double test_fraction, uint64_t seed) {
  const auto csv = read_table(path);
  const std::vector<std::string> numeric = {"CreditScore", "Age",           "Tenure",         "Balance",
                                            "NumOfProducts", "HasCrCard",   "IsActiveMember", "EstimatedSalary"};
  std::vector<int64_t> num_cols;
  for (const auto& c : numeric) num_cols.push_back(column(csv, c));
  const int64_t geo = column(csv, "Geography"), gender = column(csv, "Gender");
  const int64_t label = column(csv, "Exited");
  std::vector<std::string> features = {"CreditScore", "Geography=Germany", "Geography=Spain", "Gender=Male"};
  features.insert(features.end(), numeric.begin() + 1, numeric.end());
  std::vector<double> x, y;
  for (size_t r = 0; r < csv.rows.size(); ++r) {
    const auto& row = csv.rows[r];
    const std::string& g = row[geo];
    if (g != "France" && g != "Germany" && g != "Spain")
      throw data::DataError(path, csv.lines[r], "unknown Geography '" + g + "'");
    if (row[gender] != "Male" && row[gender] != "Female")
      throw data::DataError(path, csv.lines[r], "unknown Gender '" + row[gender] + "'");
    x.push_back(parse_number(row[num_cols[0]], csv, r, numeric[0]));
    x.push_back(g == "Germany" ? 1.0 : 0.0);
    x.push_back(g == "Spain" ? 1.0 : 0.0);
    x.push_back(row[gender] == "Male" ? 1.0 : 0.0);
    for (size_t c = 1; c < num_cols.size(); ++c) x.push_back(parse_number(row[num_cols[c]], csv, r, numeric[c]));
    y.push_back(label_value(row[label], csv, r, "Exited"));
  }
  return make_dataset("churn", features, x, y, test_fraction, seed);
}

Dataset load_nba(const std::string& path, double test_fraction, uint64_t seed) {
  Dataset d = load_csv(path, "target_5yrs", {"name"}, test_fraction, seed);
  d.name = "nba";
  return d;
}

Dataset load_csv(const std::string& path, const std::string& label, const std::vector<std::string>& drop,
                 double test_fraction, uint64_t seed) {
  const auto csv = read_table(path);
  const int64_t lab = label.empty() ? static_cast<int64_t>(csv.header.size()) - 1 : column(csv, label);
  for (const auto& d : drop) column(csv, d);  // must exist
  std::vector<int64_t> cols;
  std::vector<std::string> features;
  for (size_t c = 0; c < csv.header.size(); ++c) {
    if (static_cast<int64_t>(c) == lab) continue;
    if (std::find(drop.begin(), drop.end(), csv.header[c]) != drop.end()) continue;
    cols.push_back(static_cast<int64_t>(c));
    features.push_back(csv.header[c]);
  }
  if (cols.empty()) throw data::DataError(path, 0, "has no feature columns");
  std::vector<double> x, y;
  for (size_t r = 0; r < csv.rows.size(); ++r) {
    for (int64_t c : cols) x.push_back(parse_number(csv.rows[r][c], csv, r, csv.header[c]));
    y.push_back(label_value(csv.rows[r][lab], csv, r, csv.header[lab]));
  }
  std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  return make_dataset(name, features, x, y, test_fraction, seed);
}

// ---------------------------------------------------------------- evaluators

std::pair<double, double> bce_and_accuracy(const at::Tensor& logits, const at::Tensor& y) {
  torch::NoGradGuard ng;
  const auto z = logits.reshape({-1}).to(torch::kFloat);
  const auto t = y.reshape({-1}).to(torch::kFloat);
  const double loss = torch::binary_cross_entropy_with_logits(z, t).item<double>();
  const double acc = ((z > 0).to(torch::kFloat) == t).to(torch::kFloat).mean().item<double>();
  return {loss, acc};
}

BatchedMlpObjective::BatchedMlpObjective(std::vector<int64_t> layers, bool bias) : layers_(std::move(layers)), bias_(bias) {
  if (layers_.size() < 2) throw std::invalid_argument("MLP needs at least an input and an output size");
  for (auto s : layers_)
    if (s < 1) throw std::invalid_argument("MLP layer sizes must be >= 1");
  if (layers_.back() != 1) throw std::invalid_argument("MLP output size must be 1 (one logit)");
  dim_ = 0;
  for (size_t l = 0; l + 1 < layers_.size(); ++l) dim_ += layers_[l + 1] * layers_[l] + (bias_ ? layers_[l + 1] : 0);
  // Default start: the same distribution as torch::nn::Linear (U(+-1/sqrt(in))), fixed seed.
  params_.resize(static_cast<size_t>(dim_));
  Rng rng(12345, 0);
  int64_t off = 0;
  for (size_t l = 0; l + 1 < layers_.size(); ++l) {
    const double a = 1.0 / std::sqrt(static_cast<double>(layers_[l]));
    const int64_t n = layers_[l + 1] * layers_[l] + (bias_ ? layers_[l + 1] : 0);
    for (int64_t i = 0; i < n; ++i) params_[off + i] = rng.uniform(-a, a);
    off += n;
  }
}

namespace {
// logits [P, B] of P stacked MLPs on x [B, in]; W [P, D] float.
at::Tensor mlp_logits(const at::Tensor& W, const std::vector<int64_t>& layers, bool bias, const at::Tensor& x) {
  const int64_t P = W.size(0);
  at::Tensor h = x.unsqueeze(0);  // [1, B, in]
  int64_t off = 0;
  for (size_t l = 0; l + 1 < layers.size(); ++l) {
    const int64_t in = layers[l], out = layers[l + 1];
    const auto w = W.narrow(1, off, out * in).reshape({P, out, in});
    off += out * in;
    h = torch::matmul(h, w.transpose(1, 2));  // [P, B, out]
    if (bias) {
      h = h + W.narrow(1, off, out).unsqueeze(1);
      off += out;
    }
    if (l + 2 < layers.size()) h.relu_();  // h is a fresh product: in place
  }
  return h.squeeze(-1);
}
}  // namespace

void BatchedMlpObjective::evaluate(int64_t, const double* W, int64_t P, const at::Tensor& x, const at::Tensor& y,
                                   double* out) const {
  torch::NoGradGuard ng;
  if (x.size(1) != layers_.front())
    throw std::invalid_argument("MLP input size " + std::to_string(layers_.front()) + " does not match the data's " +
                                std::to_string(x.size(1)) + " features");
  const auto Wt = torch::from_blob(const_cast<double*>(W), {P, dim_}, torch::kDouble).to(torch::kFloat);
  const auto z = mlp_logits(Wt, layers_, bias_, x);  // [P, B]
  const auto t = y.reshape({1, -1}).expand_as(z);
  const auto loss = torch::binary_cross_entropy_with_logits(z, t, {}, {}, at::Reduction::None).mean(1).to(torch::kDouble);
  std::copy(loss.data_ptr<double>(), loss.data_ptr<double>() + P, out);
}

at::Tensor BatchedMlpObjective::forward(const at::Tensor& x) const {
  torch::NoGradGuard ng;
  const auto Wt = torch::tensor(params_, torch::kDouble).to(torch::kFloat).reshape({1, dim_});
  return mlp_logits(Wt, layers_, bias_, x).reshape({-1, 1});
}

std::shared_ptr<torch::nn::Module> BatchedMlpObjective::to_module() const {
  auto seq = torch::nn::Sequential();
  for (size_t l = 0; l + 1 < layers_.size(); ++l) {
    seq->push_back(torch::nn::Linear(torch::nn::LinearOptions(layers_[l], layers_[l + 1]).bias(bias_)));
    if (l + 2 < layers_.size()) seq->push_back(torch::nn::ReLU());
  }
  write_parameters(*seq, params_.data());
  return seq.ptr();
}

std::vector<double> flatten_parameters(const torch::nn::Module& m) {
  std::vector<double> w;
  for (const auto& p : m.parameters()) {
    const auto d = p.detach().to(torch::kDouble).contiguous().reshape({-1});
    w.insert(w.end(), d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  }
  return w;
}

void write_parameters(torch::nn::Module& m, const double* w) {
  torch::NoGradGuard ng;
  int64_t off = 0;
  for (auto& p : m.parameters()) {
    const auto src = torch::from_blob(const_cast<double*>(w + off), p.sizes(), torch::kDouble);
    p.copy_(src);
    off += p.numel();
  }
}

ClonedModuleObjective::ClonedModuleObjective(std::shared_ptr<torch::nn::Module> module, Forward forward, int64_t workers)
    : module_(std::move(module)), forward_(std::move(forward)) {
  if (!module_) throw std::invalid_argument("ClonedModuleObjective: null module");
  if (workers < 1) throw std::invalid_argument("ClonedModuleObjective: workers must be >= 1");
  dim_ = 0;
  for (const auto& p : module_->parameters()) dim_ += p.numel();
  for (int64_t k = 0; k < workers; ++k) clones_.push_back(module_->clone());  // throws if not Cloneable
}

void ClonedModuleObjective::evaluate(int64_t worker, const double* W, int64_t P, const at::Tensor& x,
                                     const at::Tensor& y, double* out) const {
  if (worker < 0 || worker >= static_cast<int64_t>(clones_.size()))
    throw std::invalid_argument("ClonedModuleObjective: worker " + std::to_string(worker) + " but only " +
                                std::to_string(clones_.size()) + " clones");
  torch::NoGradGuard ng;
  auto& m = *clones_[static_cast<size_t>(worker)];
  for (int64_t i = 0; i < P; ++i) {
    write_parameters(m, W + i * dim_);
    const auto z = forward_(m, x).reshape({-1}).to(torch::kFloat);
    out[i] = torch::binary_cross_entropy_with_logits(z, y.reshape({-1})).item<double>();
  }
}

std::vector<double> ClonedModuleObjective::parameters() const { return flatten_parameters(*module_); }
void ClonedModuleObjective::write(const double* w) { write_parameters(*module_, w); }
at::Tensor ClonedModuleObjective::forward(const at::Tensor& x) const {
  torch::NoGradGuard ng;
  return forward_(*module_, x).reshape({-1, 1});
}

// ---------------------------------------------------------------- search

// The result's figures are those of its last epoch.
static WeightSearchResult finish_from_last_epoch(WeightSearchResult res) {
  const auto& last = res.log.back();
  res.train_loss = last.train_loss;
  res.train_accuracy = last.train_accuracy;
  res.test_loss = last.test_loss;
  res.test_accuracy = last.test_accuracy;
  res.evaluations = last.evaluations;
  res.seconds = last.seconds;
  return res;
}

WeightSearchResult search_weights(NetworkObjective& obj, const Dataset& data, const WeightSearchOptions& o) {
  auto bad = [](const std::string& w) { throw std::invalid_argument("invalid weight-search option: " + w); };
  const bool use_pgso = o.algorithm() == "pgso";
  if (!use_pgso && o.algorithm() != "pso") bad("algorithm must be 'pgso' or 'pso', got '" + o.algorithm() + "'");
  if (o.subswarms() < 1) bad("subswarms must be >= 1");
  if (o.particles() < 1) bad("particles must be >= 1");
  if (o.iterations() < 1) bad("iterations must be >= 1");
  if (o.batch_rows() < 1) bad("batch_rows must be >= 1");
  if (o.epochs() < 1) bad("epochs must be >= 1");
  if (!(o.bound() > 0)) bad("bound must be > 0");
  if (!(o.init_scale() > 0 && o.init_scale() <= o.bound())) bad("init_scale must be in (0, bound]");
  if (!data.x_train.defined() || data.x_train.size(0) < 1) bad("empty training set");
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t D = obj.dim();
  const int64_t M = use_pgso ? o.subswarms() : 1, N = o.particles(), T = o.iterations();
  const int64_t n_train = data.x_train.size(0);
  const int64_t B = std::min(o.batch_rows(), n_train);
  const std::vector<double> lo{-o.bound()}, hi{o.bound()};

  detail::Islands isl(o.group().get(), M, D, 0,
                      {{"algorithm", o.algorithm()},
                       {"particles", std::to_string(N)},
                       {"iterations", std::to_string(T)},
                       {"batch rows", std::to_string(B)},
                       {"epochs", std::to_string(o.epochs())},
                       {"training rows", std::to_string(n_train)},
                       {"seed", std::to_string(o.seed())}});
  const int64_t local = static_cast<int64_t>(isl.mine.size());
  std::vector<std::vector<double>> no_hist;
  std::vector<swarm::Swarm<double>> subs;
  std::vector<Rng> batch_rng;
  for (int64_t k = 0; k < M; ++k) {
    subs.emplace_back(pso_swarm_options(N, o.inertia(), o.c1(), o.c2(), lo, hi, o.seed()), D);
    subs.back().rng().reseed(o.seed(), static_cast<uint64_t>(k + 1));
    Rng init(o.seed(), static_cast<uint64_t>(1000 + k));
    std::vector<double> x(static_cast<size_t>(N * D));
    for (auto& v : x) v = init.uniform(-o.init_scale(), o.init_scale());
    subs.back().reset(x.data());
    batch_rng.emplace_back(o.seed(), static_cast<uint64_t>(2000 + k));
  }
  std::vector<at::Tensor> xb(static_cast<size_t>(M)), yb(static_cast<size_t>(M));
  std::vector<double> best_w;
  double best_loss = std::numeric_limits<double>::infinity();
  std::vector<int64_t> extra_evals(static_cast<size_t>(M), 0);
  int64_t evaluations = 0;
  WeightSearchResult res;
  auto train_loss_of = [&](const std::vector<double>& w) {
    double l = 0;
    obj.evaluate(M, w.data(), 1, data.x_train, data.y_train, &l);
    ++evaluations;
    return l;
  };

  // LibTorch's intra-op pool held at 1 while subswarms run in parallel (set once:
  // resizing the pool rebuilds threads).
  std::unique_ptr<TorchThreadsGuard> guard;
  if (M > 1 && o.threads() != 1) guard = std::make_unique<TorchThreadsGuard>(1);
  for (int64_t epoch = 1; epoch <= o.epochs(); ++epoch) {
    auto fit_for = [&](int64_t k) -> swarm::Swarm<double>::Fitness {
      return [&, k](const double* X, int64_t P, int64_t, double* out) { obj.evaluate(k, X, P, xb[k], yb[k], out); };
    };
    parallel_for_subswarms(local, o.threads(), [&](int64_t j) {
      const int64_t k = isl.mine[static_cast<size_t>(j)];
      // A new batch: bests measured on the old one are stale, so restart the
      // bests from the current positions and velocities.
      std::vector<int64_t> idx(static_cast<size_t>(n_train));
      for (int64_t i = 0; i < n_train; ++i) idx[i] = i;
      auto& r = batch_rng[k];
      for (int64_t i = 0; i < B; ++i) std::swap(idx[i], idx[i + static_cast<int64_t>(r.below(static_cast<uint64_t>(n_train - i)))]);
      const auto sel = torch::tensor(std::vector<int64_t>(idx.begin(), idx.begin() + B), torch::kLong);
      xb[k] = data.x_train.index_select(0, sel);
      yb[k] = data.y_train.index_select(0, sel);
      auto& s = subs[k];
      const std::vector<double> x = s.positions(), v = s.velocities();
      extra_evals[k] += s.evaluations();
      s.reset(x.data(), v.data());
      const auto fit = fit_for(k);
      s.evaluate(fit);
      if (!best_w.empty()) {
        double bl = 0;
        fit(best_w.data(), 1, D, &bl);
        ++extra_evals[k];
        if (bl < s.best_fitness()) s.set_global_best(best_w.data(), &bl);
      }
      for (int64_t it = 0; it < T / 2; ++it) s.step(fit);
    }, false);
    if (use_pgso) {
      isl.sync(subs, no_hist);
      isl.exchange(subs);
    }
    parallel_for_subswarms(local, o.threads(), [&](int64_t j) {
      const int64_t k = isl.mine[static_cast<size_t>(j)];
      const auto fit = fit_for(k);
      for (int64_t it = T / 2; it < T; ++it) subs[k].step(fit);
    }, false);
    isl.sync(subs, no_hist, &extra_evals);
    std::vector<double> cand;
    double cand_loss;
    if (use_pgso) {
      std::vector<double> pos(static_cast<size_t>(M * D));
      for (int64_t k = 0; k < M; ++k) std::copy(isl.pos[k].begin(), isl.pos[k].end(), pos.begin() + k * D);
      swarm::Swarm<double> super(pso_swarm_options(M, o.inertia(), o.c1(), o.c2(), lo, hi, o.seed()), D);
      super.rng().reseed(o.seed(), static_cast<uint64_t>(100000 + epoch));
      super.reset(pos.data());
      const swarm::Swarm<double>::Fitness full = [&](const double* X, int64_t P, int64_t, double* out) {
        obj.evaluate(M, X, P, data.x_train, data.y_train, out);
      };
      super.run(full, T);
      evaluations += super.evaluations();
      cand = super.global_best();
      cand_loss = super.best_fitness();
    } else {
      cand = isl.pos[0];
      cand_loss = train_loss_of(cand);
    }
    if (cand_loss < best_loss) {
      best_loss = cand_loss;
      best_w = cand;
    }
    EpochLog e;
    e.epoch = epoch;
    e.evaluations = evaluations;
    for (int64_t k = 0; k < M; ++k) e.evaluations += isl.evals[k];
    obj.write(best_w.data());
    std::tie(e.train_loss, e.train_accuracy) = bce_and_accuracy(obj.forward(data.x_train), data.y_train);
    std::tie(e.test_loss, e.test_accuracy) = bce_and_accuracy(obj.forward(data.x_test), data.y_test);
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.log.push_back(e);
  }
  res.weights = best_w;
  return finish_from_last_epoch(std::move(res));
}

WeightSearchResult train_adam(const std::vector<int64_t>& layers, bool bias, const Dataset& data, const AdamOptions& o) {
  if (!(o.lr() > 0)) throw std::invalid_argument("invalid Adam option: lr must be > 0");
  if (o.batch_size() < 1 || o.epochs() < 1) throw std::invalid_argument("invalid Adam option: batch_size and epochs must be >= 1");
  const auto t0 = std::chrono::steady_clock::now();
  torch::manual_seed(o.seed());
  BatchedMlpObjective shape(layers, bias);
  auto model = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(shape.to_module());
  for (auto& p : model->parameters()) {  // torch::nn::Linear's default init, from the torch seed
    torch::NoGradGuard ng;
    const double a = 1.0 / std::sqrt(static_cast<double>(p.dim() == 2 ? p.size(1) : p.size(0)));
    p.uniform_(-a, a);
  }
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(o.lr()));
  const int64_t n = data.x_train.size(0);
  Rng rng(o.seed(), 0xADA);
  std::vector<int64_t> perm(static_cast<size_t>(n));
  WeightSearchResult res;
  for (int64_t epoch = 1; epoch <= o.epochs(); ++epoch) {
    for (int64_t i = 0; i < n; ++i) perm[i] = i;
    for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(static_cast<uint64_t>(i + 1))]);
    const auto pt = torch::tensor(perm, torch::kLong);
    for (int64_t s = 0; s < n; s += o.batch_size()) {
      const auto idx = pt.narrow(0, s, std::min(o.batch_size(), n - s));
      const auto z = model->forward(data.x_train.index_select(0, idx));
      const auto loss = torch::binary_cross_entropy_with_logits(z, data.y_train.index_select(0, idx));
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    EpochLog e;
    e.epoch = epoch;
    {
      torch::NoGradGuard ng;
      std::tie(e.train_loss, e.train_accuracy) = bce_and_accuracy(model->forward(data.x_train), data.y_train);
      std::tie(e.test_loss, e.test_accuracy) = bce_and_accuracy(model->forward(data.x_test), data.y_test);
    }
    e.evaluations = epoch * n;  // rows seen
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.log.push_back(e);
  }
  res.weights = flatten_parameters(*model);
  return finish_from_last_epoch(std::move(res));
}

}  // namespace adaswarm::pgso
