// The use-case tasks (docs/usecases.md): data generators, losses, surrogates,
// true errors. Every constant is written here once and repeated in the docs.
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "adaswarm/data/tabular.h"
#include "adaswarm/data/uci.h"
#include "adaswarm/experiments/usecases.h"
#include "adaswarm/loss/kernel_math.h"
#include "adaswarm/util/random.h"

namespace adaswarm::experiments::usecases {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kLight = 299792458.0;  // m/s

uint64_t hash_string(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

/// Every generator draws from its own stream: (seed, hash of the task family).
Rng rng_for(uint64_t seed, const char* family) { return Rng(seed, hash_string(family)); }

double normal(Rng& r) {  // Box-Muller
  const double u1 = 1.0 - r.uniform(), u2 = r.uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * kPi * u2);
}

at::Tensor from_vector(const std::vector<float>& v, int64_t rows, int64_t cols) {
  return torch::from_blob(const_cast<float*>(v.data()), {rows, cols}, at::kFloat).clone();
}

at::Tensor uniform_column(Rng& r, int64_t n, double lo, double hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<float>(r.uniform(lo, hi));
  return from_vector(v, n, 1);
}

// quantum k for k uniform on the integers -m..m, in float (as actuator() forms its
// levels, quantum * round(...)), so each value is one of them bit for bit.
at::Tensor level_column(Rng& r, int64_t n, int64_t m, double quantum) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) {
    const int64_t k = static_cast<int64_t>(r.below(static_cast<uint64_t>(2 * m + 1))) - m;
    x = static_cast<float>(quantum) * static_cast<float>(k);
  }
  return from_vector(v, n, 1);
}

double rmse(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).pow(2).mean().sqrt().item<double>();
}

// ---- 1-D targets: t(x) = A sin(w x + p) + b x ------------------------------------
struct Curve {
  double A, w, p, b;
  at::Tensor operator()(const at::Tensor& x) const { return A * torch::sin(w * x + p) + b * x; }
};
Curve random_curve(Rng& r) {
  Curve c;
  c.A = r.uniform(2.5, 3.5);
  c.w = r.uniform(1.5, 2.5);
  c.p = r.uniform(0, 2 * kPi);
  c.b = r.uniform(-1.5, 1.5);
  return c;
}
constexpr int64_t kCurveTrain = 256, kCurveTest = 256;

/// x_train ~ U(-2, 2) (256), x_test = 256 evenly spaced points on [-2, 2];
/// target = t(x) of a random curve; `truth` maps the target to the minimiser.
TaskData curve_data(uint64_t seed, const char* family, const std::function<at::Tensor(const at::Tensor&)>& truth) {
  Rng r = rng_for(seed, family);
  const Curve c = random_curve(r);
  TaskData d;
  d.x_train = uniform_column(r, kCurveTrain, -2, 2);
  d.x_test = torch::linspace(-2, 2, kCurveTest, at::kFloat).unsqueeze(1);
  d.target_train = c(d.x_train);
  d.target_test = c(d.x_test);
  d.truth_train = truth(d.target_train);
  d.truth_test = truth(d.target_test);
  return d;
}

// ---- smooth 2-D fields -------------------------------------------------------------
constexpr int64_t kGrid = 32;

/// A smooth random field on a kGrid x kGrid grid over [-1, 1]^2: a tilt plus four
/// Gaussian bumps (amplitude U(-1, 1), centre U(-0.8, 0.8)^2, width U(0.25, 0.5)),
/// rescaled to span exactly [lo, hi]. Returns coordinates [N, 2] and field [N, 1].
std::pair<at::Tensor, at::Tensor> smooth_field(Rng& r, double lo, double hi) {
  const double gu = r.uniform(-0.5, 0.5), gv = r.uniform(-0.5, 0.5);
  double a[4], cu[4], cv[4], s[4];
  for (int j = 0; j < 4; ++j) {
    a[j] = r.uniform(-1, 1);
    cu[j] = r.uniform(-0.8, 0.8);
    cv[j] = r.uniform(-0.8, 0.8);
    s[j] = r.uniform(0.25, 0.5);
  }
  const int64_t n = kGrid * kGrid;
  std::vector<float> xy(static_cast<size_t>(2 * n));
  std::vector<double> f(static_cast<size_t>(n));
  double fmin = 1e300, fmax = -1e300;
  for (int64_t i = 0; i < kGrid; ++i)
    for (int64_t j = 0; j < kGrid; ++j) {
      const double u = -1 + 2.0 * static_cast<double>(j) / (kGrid - 1);
      const double v = -1 + 2.0 * static_cast<double>(i) / (kGrid - 1);
      double val = gu * u + gv * v;
      for (int k = 0; k < 4; ++k)
        val += a[k] * std::exp(-((u - cu[k]) * (u - cu[k]) + (v - cv[k]) * (v - cv[k])) / (2 * s[k] * s[k]));
      const auto idx = static_cast<size_t>(i * kGrid + j);
      xy[2 * idx] = static_cast<float>(u);
      xy[2 * idx + 1] = static_cast<float>(v);
      f[idx] = val;
      fmin = std::min(fmin, val);
      fmax = std::max(fmax, val);
    }
  std::vector<float> out(static_cast<size_t>(n));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(lo + (hi - lo) * (f[i] - fmin) / (fmax - fmin));
  return {from_vector(xy, n, 2), from_vector(out, n, 1)};
}

/// Wrapped phases wrap(4 pi d / lambda_k + N(0, noise^2)), [N, K].
at::Tensor measure_phases(Rng& r, const at::Tensor& d, const std::vector<double>& lambdas, double noise) {
  const int64_t n = d.size(0), K = static_cast<int64_t>(lambdas.size());
  const auto dd = d.to(at::kDouble).contiguous();
  const double* p = dd.data_ptr<double>();
  std::vector<float> ph(static_cast<size_t>(n * K));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < K; ++k) {
      const double v = 4 * kPi * p[i] / lambdas[static_cast<size_t>(k)] + noise * normal(r);
      ph[static_cast<size_t>(i * K + k)] = static_cast<float>(std::remainder(v, 2 * kPi));
    }
  return wrap_phase(from_vector(ph, n, K));
}

/// The phase tasks: train and test rows are the same grid pixels (an inversion:
/// fit the field to its measurements); truth = the noise-free field.
TaskData phase_data(uint64_t seed, const char* family, double lo, double hi, const std::vector<double>& lambdas,
                    double noise) {
  Rng r = rng_for(seed, family);
  auto [xy, field] = smooth_field(r, lo, hi);
  TaskData d;
  d.x_train = d.x_test = xy;
  d.target_train = d.target_test = measure_phases(r, field, lambdas, noise);
  d.truth_train = d.truth_test = d.field_test = field;
  d.grid_h = d.grid_w = kGrid;
  return d;
}

// ---- constants ---------------------------------------------------------------------
const std::vector<double> kUnwrapLambdas = {1.0, 1.2};
constexpr double kUnwrapLo = 0.2, kUnwrapHi = 2.8, kUnwrapNoise = 0.2;
const std::vector<double> kTofFreqs = {20e6, 25e6};
constexpr double kTofLo = 2.0, kTofHi = 18.0, kTofNoise = 0.1;
std::vector<double> tof_lambdas() { return {kLight / kTofFreqs[0], kLight / kTofFreqs[1]}; }
// simulator
constexpr double kDeadZone = 0.3, kSaturation = 2.0, kQuantum = 0.1, kGainSlope = 0.5;
constexpr double kDesiredMax = 1.8;
constexpr int64_t kSimTrain = 512, kSimTest = 512, kSurrogateSamples = 2048, kSurrogateSteps = 1000;
constexpr double kSurrogateU = 4.5;

// ---- kernel forms (Task::kernel, `usecases --kernels`) ---------------------------
// The element-wise losses as loops over [P, B, C] floats with kernel_math (the
// compiler vectorises them; the cosines are kernel_math::fused's, one FMA per
// multiply-add on the AVX-512 and x86-64-v3 clones). Its cos is NaN beyond |x| = 8192 (a wildly
// wrong candidate can get there): the loops report whether they produced a NaN
// (a sum of v - v in the same pass: 0 unless some v is NaN or infinite; cheaper
// than OR-ing compares), and only then are such elements recomputed
// with std::cos, so the kernel is NaN only where the tensor loss is.
// The fast loops are compiled for AVX-512, x86-64-v3 and the baseline
// (ADASWARM_KERNEL_CLONES: the same bits on every path).
// The target's floats for a kernel: the tensor's own data when it is float
// and contiguous (every call of the search, 41 a step at 20 x 40: no LibTorch
// dispatch then), else a converted copy kept in `holder`.
const float* float_data(const at::Tensor& t, at::Tensor& holder) {
  if (t.scalar_type() == at::kFloat && t.is_contiguous()) return t.data_ptr<float>();
  holder = t.to(at::kFloat).contiguous();
  return holder.data_ptr<float>();
}

template <typename Exact>
void fix_nan(int64_t n, float* out, Exact exact) {
  for (int64_t k = 0; k < n; ++k)
    if (std::isnan(out[k])) out[k] = exact(k);
}

ADASWARM_KERNEL_CLONES bool multiwell_fast(const float* x, const float* tp, int64_t n, float a, float kk,
                                           float* out) {
  float acc = 0.0f;  // as in two_wavelength_fast
#pragma omp simd reduction(+ : acc)
  for (int64_t j = 0; j < n; ++j) {
    const float r = x[j] - tp[j];
    const float v = a * r * r + 1.0f - kernel_math::fused::cos(kk * r);
    out[j] = v;
    acc += v - v;
  }
  return !(acc == 0.0f);
}

ADASWARM_KERNEL_CLONES void step_fast(const float* x, const float* tp, int64_t n, float* out) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) out[j] = std::fabs(kernel_math::round_even(x[j]) - kernel_math::round_even(tp[j]));
}

ADASWARM_KERNEL_CLONES bool two_wavelength_fast(const float* x, const float* f, int64_t n, float s0, float s1,
                                                float* out) {
  float acc = 0.0f;  // stays 0 unless some v is NaN (v - v: 0 for finite v, NaN for NaN and inf)
#pragma omp simd reduction(+ : acc)
  for (int64_t b = 0; b < n; ++b) {
    const float v =
        (1.0f - kernel_math::fused::cos(x[b] * s0 - f[2 * b])) + (1.0f - kernel_math::fused::cos(x[b] * s1 - f[2 * b + 1]));
    out[b] = v;
    acc += v - v;
  }
  return !(acc == 0.0f);
}

CustomKernel multiwell_kernel(double a_in, double k_in) {
  const float a = static_cast<float>(a_in), kk = static_cast<float>(k_in);
  return {[a, kk](const float* pos, int64_t P, int64_t B, int64_t C, const at::Tensor& target, float* out) {
            at::Tensor t;
            const float* tp = float_data(target, t);
            const int64_t D = B * C;
            for (int64_t i = 0; i < P; ++i) {
              const float* x = pos + i * D;
              if (!multiwell_fast(x, tp, D, a, kk, out + i * D)) continue;
              fix_nan(D, out + i * D, [&](int64_t j) {
                const float r = x[j] - tp[j];
                return a * r * r + 1.0f - std::cos(kk * r);
              });
            }
          },
          true};
}

CustomKernel step_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t C, const at::Tensor& target, float* out) {
            at::Tensor t;
            const float* tp = float_data(target, t);
            const int64_t D = B * C;
            for (int64_t i = 0; i < P; ++i) step_fast(pos + i * D, tp, D, out + i * D);
          },
          true};
}

// sum_k (1 - cos(4 pi d / lambda_k - phi_k)) for d [P, B, 1], phases [B, 2]
// (both phase tasks have two wavelengths; written out so that the loop vectorises).
CustomKernel two_wavelength_kernel(const std::vector<double>& lambdas) {
  if (lambdas.size() != 2) throw std::logic_error("two_wavelength_kernel: two wavelengths expected");
  const float s0 = static_cast<float>(4 * kPi / lambdas[0]), s1 = static_cast<float>(4 * kPi / lambdas[1]);
  return {[s0, s1](const float* pos, int64_t P, int64_t B, int64_t, const at::Tensor& phases, float* out) {
            at::Tensor ph;
            const float* f = float_data(phases, ph);
            for (int64_t i = 0; i < P; ++i) {
              const float* x = pos + i * B;
              if (!two_wavelength_fast(x, f, B, s0, s1, out + i * B)) continue;
              fix_nan(B, out + i * B, [&](int64_t b) {
                return (1.0f - std::cos(x[b] * s0 - f[2 * b])) + (1.0f - std::cos(x[b] * s1 - f[2 * b + 1]));
              });
            }
          },
          true};
}

constexpr int kCodebookSize = 6;
constexpr float kCodebookLevels[kCodebookSize] = {-3.0f, -1.5f, -0.5f, 0.5f, 1.5f, 3.0f};
const std::vector<float> kCodebook(kCodebookLevels, kCodebookLevels + kCodebookSize);

// The nearest codebook level, the first on a tie (torch's argmin): selects
// (kernel_math::select) only, so that the loop vectorises; NaN gives the first level, as argmin does.
inline float codebook_level(float v) {
  float best = kCodebookLevels[0], bd = std::fabs(v - kCodebookLevels[0]);
  for (int k = 1; k < kCodebookSize; ++k) {
    const float d = std::fabs(v - kCodebookLevels[k]);
    best = kernel_math::select(d < bd, kCodebookLevels[k], best);
    bd = kernel_math::select(d < bd, d, bd);
  }
  return best;
}

ADASWARM_KERNEL_CLONES void codebook_fast(const float* x, const float* qt, int64_t n, float* out) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) out[j] = std::fabs(codebook_level(x[j]) - qt[j]);
}

CustomKernel codebook_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t C, const at::Tensor& target, float* out) {
            at::Tensor t;
            const float* tp = float_data(target, t);
            const int64_t D = B * C;
            std::vector<float> qt(static_cast<size_t>(D));  // q(t): the same for every particle
            for (int64_t j = 0; j < D; ++j) qt[static_cast<size_t>(j)] = codebook_level(tp[j]);
            for (int64_t i = 0; i < P; ++i) codebook_fast(pos + i * D, qt.data(), D, out + i * D);
          },
          true};
}

// |sim(u, s) - e| for u [P, B, 1], target (e, s) [B, 2], in the order of
// operations of actuator() (float, unfused, a true division), so that it gives
// the same bits; relu and clamp keep NaN, as torch's do. Selects, not `?:`
// (kernel_math::select: with ternaries GCC threaded the clamp into branches
// around the division and left the loop scalar, slower than the tensor form).
ADASWARM_KERNEL_CLONES void simulator_fast(const float* u, const float* es, int64_t n, float* out) {
  const float dead = static_cast<float>(kDeadZone), slope = static_cast<float>(kGainSlope);
  const float sat = static_cast<float>(kSaturation), quantum = static_cast<float>(kQuantum);
#pragma omp simd
  for (int64_t b = 0; b < n; ++b) {
    const float x = u[b];
    const float sign = static_cast<float>(x > 0.0f) - static_cast<float>(x < 0.0f);
    const float over = std::fabs(x) - dead;
    const float dz = sign * kernel_math::select(over < 0.0f, 0.0f, over);
    float v = (slope * es[2 * b + 1] + 1.0f) * dz;
    v = kernel_math::select(v < -sat, -sat, v);
    v = kernel_math::select(v > sat, sat, v);
    out[b] = std::fabs(quantum * kernel_math::round_even(v / quantum) - es[2 * b]);
  }
}

CustomKernel simulator_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t, const at::Tensor& target, float* out) {
            at::Tensor t;
            const float* es = float_data(target, t);
            for (int64_t i = 0; i < P; ++i) simulator_fast(pos + i * B, es, B, out + i * B);
          },
          true};
}

// The 0-1 loss of argmax over the C outputs per candidate row ([P, B] out):
// the first maximum, a NaN counting as the maximum (torch's argmax).
CustomKernel zero_one_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t C, const at::Tensor& target, float* out) {
            at::Tensor t = target;
            if (t.scalar_type() != at::kLong || !t.is_contiguous()) t = target.to(at::kLong).contiguous();
            const int64_t* label = t.data_ptr<int64_t>();
            for (int64_t i = 0; i < P; ++i)
              for (int64_t b = 0; b < B; ++b) {
                const float* y = pos + (i * B + b) * C;
                int64_t best = 0;
                for (int64_t c = 1; c < C; ++c)
                  if (y[c] > y[best] || (std::isnan(y[c]) && !std::isnan(y[best]))) best = c;
                out[i * B + b] = best != label[b] ? 1.0f : 0.0f;
              }
          },
          false};
}

Task base(const std::string& key, const std::string& title) {
  Task t;
  t.key = key;
  t.title = title;
  return t;
}

Task multiwell(const std::string& key, double a, double k) {
  Task t = base(key, fmt::format("multi-well regression, L = {} r^2 + 1 - cos({} r)", a, k));
  t.definition = fmt::format(
      "1-D regression, target t(x) = A sin(w x + p) + b x with A ~ U(2.5, 3.5), w ~ U(1.5, 2.5), p ~ U(0, 2 pi), "
      "b ~ U(-1.5, 1.5) per seed; 256 training x ~ U(-2, 2), 256 test x evenly on [-2, 2]. Loss of the residual "
      "r = y - t: {} r^2 + 1 - cos({} r) (wells {:.3f} apart, global minimum r = 0). Network 1-32-1 tanh, "
      "full batch, 300 steps, lr 0.02. Error: RMSE(y - t) on the test points. No surrogate (the loss is "
      "smooth; its convex part is the ideal limit).",
      a, k, 2 * kPi / k);
  t.epochs = 300;
  t.lr = 0.02;
  t.spsa_step = 0.5;
  t.generate = [](uint64_t seed) { return curve_data(seed, "curve", [](const at::Tensor& x) { return x; }); };
  t.loss = [a, k](const at::Tensor& pos, const at::Tensor& tg) {
    auto r = pos - tg.unsqueeze(0);
    return a * r * r + 1.0 - torch::cos(k * r);
  };
  t.kernel = multiwell_kernel(a, k);
  t.error = [](const at::Tensor& y, const TaskData& d) { return rmse(y, d.target_test); };
  t.error_name = "RMSE(y - t)";
  return t;
}

Task step_task() {
  Task t = base("step", "quantised output, L = |round(y) - round(t)|");
  t.definition =
      "The multi-well task's data (same curves per seed); loss |round(y) - round(t)| (0 gradient almost "
      "everywhere). Network 1-32-1 tanh, full batch, 300 steps, lr 0.02. Error: the loss's mean on the test "
      "points. Surrogate: |y - t| (MAE). Known minimiser: round(t).";
  t.epochs = 300;
  t.lr = 0.02;
  t.spsa_step = 0.5;
  t.generate = [](uint64_t seed) { return curve_data(seed, "curve", [](const at::Tensor& v) { return torch::round(v); }); };
  t.loss = [](const at::Tensor& pos, const at::Tensor& tg) {
    return (torch::round(pos) - torch::round(tg).unsqueeze(0)).abs();
  };
  t.kernel = step_kernel();
  t.make_surrogate = [](const TaskData&, uint64_t) -> SurrogateFn {
    return [](const at::Tensor& y, const at::Tensor& tg) { return (y - tg).abs().mean(); };
  };
  t.surrogate_name = "MAE |y - t|";
  t.error = [](const at::Tensor& y, const TaskData& d) {
    return (torch::round(y) - torch::round(d.target_test)).abs().mean().item<double>();
  };
  t.error_name = "mean |round(y) - round(t)|";
  return t;
}

Task codebook_task() {
  Task t = base("codebook", "few-level codebook, L = |q(y) - q(t)|");
  t.definition =
      "The multi-well task's data; q = nearest level of the codebook {-3, -1.5, -0.5, 0.5, 1.5, 3}; loss "
      "|q(y) - q(t)|. Network 1-32-1 tanh, full batch, 300 steps, lr 0.02. Error: the loss's mean on the test "
      "points. Surrogate: |y - q(t)|. Known minimiser: q(t). No gradient by autograd (a table lookup).";
  t.epochs = 300;
  t.lr = 0.02;
  t.spsa_step = 0.5;
  t.autograd = false;  // the nearest-level lookup has no gradient in torch
  t.generate = [](uint64_t seed) { return curve_data(seed, "curve", codebook_quantize); };
  t.loss = [](const at::Tensor& pos, const at::Tensor& tg) {
    return (codebook_quantize(pos) - codebook_quantize(tg).unsqueeze(0)).abs();
  };
  t.kernel = codebook_kernel();
  t.make_surrogate = [](const TaskData&, uint64_t) -> SurrogateFn {
    return [](const at::Tensor& y, const at::Tensor& tg) { return (y - codebook_quantize(tg)).abs().mean(); };
  };
  t.surrogate_name = "|y - q(t)|";
  t.error = [](const at::Tensor& y, const TaskData& d) {
    return (codebook_quantize(y) - codebook_quantize(d.target_test)).abs().mean().item<double>();
  };
  t.error_name = "mean |q(y) - q(t)|";
  return t;
}

Task phase_task(const std::string& key, const std::string& title, const std::string& definition,
                std::vector<double> lambdas, double lo, double hi, double noise, double spsa_step) {
  Task t = base(key, title);
  t.definition = definition;
  t.hidden = {64, 64};
  t.out_offset = (lo + hi) / 2;
  t.out_scale = (hi - lo) / 2;
  t.epochs = 400;
  t.lr = 0.01;
  t.spsa_step = spsa_step;
  t.target_shaped = false;
  const std::string family = key;
  t.generate = [=](uint64_t seed) { return phase_data(seed, family.c_str(), lo, hi, lambdas, noise); };
  t.loss = [lambdas](const at::Tensor& pos, const at::Tensor& phases) {
    return two_wavelength_loss(pos, phases, lambdas);
  };
  t.kernel = two_wavelength_kernel(lambdas);
  t.error = [](const at::Tensor& y, const TaskData& d) { return rmse(y, d.truth_test); };
  return t;
}

Task unwrap_task() {
  Task t = phase_task(
      "unwrap", "two-wavelength phase unwrapping (InSAR-like)",
      "Deformation d over a 32 x 32 grid on [-1, 1]^2: a random tilt plus four Gaussian bumps, rescaled to "
      "[0.2, 2.8] (2.8 wavelengths of lambda_1 deep, 5.6 fringes). Wavelengths lambda = (1.0, 1.2); measured "
      "phases phi_k = wrap(4 pi d / lambda_k + N(0, 0.2^2)), the target [N, 2]. Loss sum_k (1 - cos(4 pi d / "
      "lambda_k - phi_k)); unambiguous range lambda_1 lambda_2 / (2 |lambda_2 - lambda_1|) = 3.0. Coordinate "
      "MLP 2-64-64-1 tanh with a fixed head d = 1.5 + 1.5 net(x) (the measurement range), full batch (1024 "
      "pixels), 400 steps, lr 0.01. Error: RMSE of d against the noise-free field. No surrogate.",
      kUnwrapLambdas, kUnwrapLo, kUnwrapHi, kUnwrapNoise, 0.1);
  t.error_name = "RMSE(d)";
  return t;
}

Task tof_task() {
  Task t = phase_task(
      "tof", "multi-frequency time-of-flight depth",
      "Depth z over a 32 x 32 grid (the unwrapping field generator, its own stream) rescaled to [2, 18] m. "
      "Modulation frequencies 20 and 25 MHz (ambiguity distances c/(2f) = 7.49 m and 6.00 m; together 29.98 m); "
      "phases phi_k = wrap(4 pi f_k z / c + N(0, 0.1^2)), the target [N, 2]. Loss sum_k (1 - cos(4 pi f_k z / c - "
      "phi_k)). Coordinate MLP 2-64-64-1 tanh with a fixed head z = 10 + 8 net(x) (the sensor's range), full "
      "batch, 400 steps, lr 0.01. Error: RMSE of z in metres. No surrogate.",
      tof_lambdas(), kTofLo, kTofHi, kTofNoise, 0.5);
  t.error_name = "RMSE(z) m";
  return t;
}

// levels = false: desired effects e ~ U(-1.8, 1.8), so that a row's error is at
// least the distance from e to the nearest quantiser level (the floor, about
// 0.025 on average). levels = true (`simulator-levels`): e is one of the 37
// reachable levels in [-1.8, 1.8], drawn uniformly (the floor is 0); everything
// else (network, budget, surrogate, SPSA step) is the same task.
Task simulator_task(bool levels) {
  Task t = levels ? base("simulator-levels", "simulator in the loop, reachable desired effects")
                  : base("simulator", "simulator in the loop (dead zone, saturation, quantisation)");
  const int64_t n_levels = static_cast<int64_t>(std::lround(kDesiredMax / kQuantum));  // 18 each side of 0
  const std::string desired =
      levels ? fmt::format("desired effect e = {} k, k uniform on the integers -{}..{}", kQuantum, n_levels, n_levels)
             : fmt::format("desired effect e ~ U(-{0}, {0})", kDesiredMax);
  const std::string floor =
      levels ? std::string("best possible 0: every e is reachable")
             : fmt::format("best possible <= {} per row: the distance from e to the nearest level", kQuantum / 2);
  t.definition = fmt::format(
      "Actuator effect = q(clamp(g(s) dz(u), -{1}, {1})) with dz(u) = sign(u) max(|u| - {0}, 0), gain g(s) = 1 + "
      "{3} s, q(v) = {2} round(v / {2}). The network maps ({4}, state s ~ U(-1, 1)) to "
      "the command u; 512 training and 512 test rows; target [N, 2] = (e, s). Loss |sim(u, s) - e|. Network "
      "2-32-1 tanh, full batch, 300 steps, lr 0.02. Error: mean |sim(u, s) - e| on the test rows ({5}). "
      "Surrogate: an MLP 2-32-1 tanh fitted by MSE to {6} samples of sim (u ~ U(-{7}, {7}), "
      "s ~ U(-1, 1); Adam lr 0.01, {8} full-batch steps), then Adam on |surrogate(u, s) - e|. Known "
      "minimiser: u* = sign(e) (|e| / g(s) + {0}).",
      kDeadZone, kSaturation, kQuantum, kGainSlope, desired, floor, kSurrogateSamples, kSurrogateU,
      kSurrogateSteps);
  t.epochs = 300;
  t.lr = 0.02;
  t.spsa_step = 0.2;
  t.target_shaped = false;
  t.generate = [levels, n_levels](uint64_t seed) {
    Rng r = rng_for(seed, levels ? "simulator-levels" : "simulator");
    TaskData d;
    auto make = [&](int64_t n, at::Tensor& x, at::Tensor& target, at::Tensor& truth) {
      auto e = levels ? level_column(r, n, n_levels, kQuantum) : uniform_column(r, n, -kDesiredMax, kDesiredMax);
      auto s = uniform_column(r, n, -1, 1);
      x = torch::cat({e, s}, 1);
      target = x.clone();
      truth = torch::sign(e) * (e.abs() / (1 + kGainSlope * s) + kDeadZone);
    };
    make(kSimTrain, d.x_train, d.target_train, d.truth_train);
    make(kSimTest, d.x_test, d.target_test, d.truth_test);
    return d;
  };
  t.loss = [](const at::Tensor& pos, const at::Tensor& tg) {
    const auto e = tg.select(1, 0).view({1, -1, 1}), s = tg.select(1, 1).view({1, -1, 1});
    return (actuator(pos, s) - e).abs();
  };
  t.kernel = simulator_kernel();
  t.make_surrogate = [](const TaskData&, uint64_t seed) -> SurrogateFn {
    Rng r = rng_for(seed, "simulator-surrogate");
    auto u = uniform_column(r, kSurrogateSamples, -kSurrogateU, kSurrogateU);
    auto s = uniform_column(r, kSurrogateSamples, -1, 1);
    const auto x = torch::cat({u, s}, 1);
    const auto effect = actuator(u, s);
    models::MLP net(models::MLPOptions(2, 1).hidden({32}).activation(models::Activation::Tanh));
    net->reset_parameters(seed ^ 0x5u);
    torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(0.01));
    for (int64_t i = 0; i < kSurrogateSteps; ++i) {
      adam.zero_grad();
      torch::mse_loss(net->forward(x), effect).backward();
      adam.step();
    }
    for (auto& p : net->parameters()) p.requires_grad_(false);
    return [net](const at::Tensor& y, const at::Tensor& tg) mutable {
      const auto in = torch::cat({y, tg.select(1, 1).unsqueeze(1)}, 1);
      return (net->forward(in) - tg.select(1, 0).unsqueeze(1)).abs().mean();
    };
  };
  t.surrogate_name = "fitted MLP model of sim";
  t.error = [](const at::Tensor& y, const TaskData& d) {
    const auto e = d.target_test.select(1, 0).unsqueeze(1), s = d.target_test.select(1, 1).unsqueeze(1);
    return (actuator(y, s) - e).abs().mean().item<double>();
  };
  t.error_name = "mean |sim(u) - e|";
  return t;
}

Task zero_one_task(const std::string& set, const std::string& data_dir) {
  Task t = base("zero-one-" + set, "0-1 loss classification, UCI " + set);
  t.definition =
      "UCI set `" + set +
      "` (shipped), stratified 80/20 split per seed, features standardised on the training split. Loss: the 0-1 "
      "loss of argmax(y) per sample ([P, B]). MLP in-16-classes ReLU, mini-batches of 64 (order per seed), 20 "
      "epochs, lr 0.01. Error: test error rate in %. Surrogate: cross-entropy (Adam on it is the usual "
      "baseline). No gradient by autograd, no known minimiser in output space, not element-wise.";
  const auto& reg = data::uci_set(set);
  t.outputs = reg.classes;
  t.hidden = {16};
  t.activation = models::Activation::ReLU;
  t.epochs = 20;
  t.batch_size = 64;
  t.lr = 0.01;
  t.spsa_step = 0.5;
  t.element_wise = false;
  t.autograd = false;
  t.target_shaped = false;
  t.known_minimiser = false;
  t.generate = [set, data_dir](uint64_t seed) {
    const auto ds = data::load_uci(set, data_dir);
    const auto p = data::prepare(ds, data::stratified_split(ds.labels, 0.2, seed));
    TaskData d;
    d.x_train = p.x_train;
    d.target_train = p.y_train;
    d.x_test = p.x_test;
    d.target_test = p.y_test;
    return d;
  };
  t.loss = [](const at::Tensor& pos, const at::Tensor& tg) {
    return (pos.argmax(-1) != tg.unsqueeze(0)).to(at::kFloat);
  };
  t.kernel = zero_one_kernel();
  t.make_surrogate = [](const TaskData&, uint64_t) -> SurrogateFn {
    return [](const at::Tensor& y, const at::Tensor& tg) { return torch::cross_entropy_loss(y, tg); };
  };
  t.surrogate_name = "cross-entropy";
  t.error = [](const at::Tensor& y, const TaskData& d) {
    return 100.0 * (y.argmax(1) != d.target_test).to(at::kDouble).mean().item<double>();
  };
  t.error_name = "test error %";
  return t;
}

}  // namespace

at::Tensor wrap_phase(const at::Tensor& phase) {
  // (-pi, pi]: pi - remainder(pi - v, 2 pi)
  return kPi - torch::remainder(kPi - phase, 2 * kPi);
}

at::Tensor two_wavelength_loss(const at::Tensor& d, const at::Tensor& phases, const std::vector<double>& lambdas) {
  auto total = torch::zeros_like(d);
  const int64_t B = phases.size(0);
  for (size_t k = 0; k < lambdas.size(); ++k) {
    const auto phi = phases.select(1, static_cast<int64_t>(k)).to(d.scalar_type()).view({1, B, 1});
    total = total + (1 - torch::cos(4 * kPi * d / lambdas[k] - phi));
  }
  return total;
}

at::Tensor actuator(const at::Tensor& u, const at::Tensor& s) {
  const auto dz = torch::sign(u) * torch::relu(u.abs() - kDeadZone);
  const auto v = torch::clamp((1 + kGainSlope * s) * dz, -kSaturation, kSaturation);
  return kQuantum * torch::round(v / kQuantum);
}

at::Tensor codebook_quantize(const at::Tensor& v) {
  const auto levels = torch::tensor(kCodebook, at::TensorOptions().dtype(v.scalar_type()));
  const auto idx = (v.unsqueeze(-1) - levels).abs().argmin(-1);
  return levels.index_select(0, idx.flatten()).view(idx.sizes());
}

std::vector<Task> all_tasks(const std::string& data_dir) {
  std::vector<Task> v = {multiwell("multiwell", 0.1, 3.0), multiwell("multiwell-hard", 0.05, 5.0),
                         step_task(), codebook_task(), unwrap_task(), tof_task(), simulator_task(false),
                         simulator_task(true)};
  for (const char* set : {"iris", "breast-cancer", "wine"}) v.push_back(zero_one_task(set, data_dir));
  return v;
}

std::vector<Task> select_tasks(const std::string& data_dir, const std::vector<std::string>& keys) {
  auto all = all_tasks(data_dir);
  if (keys.empty()) return all;
  std::vector<Task> out;
  for (const auto& k : keys) {
    bool found = false;
    for (const auto& t : all)
      if (t.key == k) {
        out.push_back(t);
        found = true;
      }
    if (!found) {
      std::string known;
      for (const auto& t : all) known += (known.empty() ? "" : ", ") + t.key;
      throw std::invalid_argument("--tasks: unknown task '" + k + "' (known: " + known + ")");
    }
  }
  return out;
}

bool Task::applies(Arm a) const {
  switch (a) {
    case Arm::Adam: return autograd;
    case Arm::Surrogate: return static_cast<bool>(make_surrogate);
    case Arm::AdaSwarmTargets: return target_shaped;
    case Arm::AdaSwarmSearch: return element_wise;
    case Arm::Ideal: return known_minimiser;
    case Arm::AdaSwarm:
    case Arm::Constant:
    case Arm::SPSA: return true;
  }
  return false;
}

}  // namespace adaswarm::experiments::usecases
