// The swarm loss at the public Python implementation's default search size:
// a [200, 1] output, 20 particles x 40 iterations per step. Measured in one
// run against our own plain MSE forward+backward on the same output (the
// baseline), for a built-in loss (hand-written fitness loops) and a custom
// loss (a LibTorch callable evaluated once per iteration on [20, 200, 1]), with
// per-row and per-element bests; then whole training steps of the 1-32-1
// network (Adam on MSE vs AdaSwarm on a multi-well custom loss).
// `bench/swarm_loss_py_bench.py` times the same search written in PyTorch ops
// (our own port of the algorithm, not the public code) for the cross-language ratio.
// The same losses written with kernel_math (vectorisable cos and rounding)
// show what a CustomKernel costs when its loop vectorises; the two-wavelength
// phase loss of the `unwrap` use case (target [B, 2]: two wrapped phases) is
// timed as a tensor callable and as a kernel. The `codebook` and `simulator`
// use cases' losses are timed in the forms `adaswarm usecases` runs them
// (Task::loss and Task::kernel from the task registry; the simulator's target
// is (desired effect, state) [B, 2]).
// Usage: bench_swarm_loss [repeats] [rows] [tsv] [keys]
//   rows: the output's rows B (default 200; `unwrap` has 1024);
//   tsv: print "key<TAB>microseconds" lines only (read by swarm_loss_py_bench.py);
//   keys: only these arms, comma-separated (e.g. unwrap_clones,mse: for a profiler).
// Arms ending in _t2 run the search in two row slices on two threads
// (SwarmLoss::set_threads; the same gradient bits as one thread).
#include <fmt/core.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "adaswarm/experiments/usecases.h"
#include "adaswarm/loss/kernel_math.h"
#include "adaswarm/optim/adaswarm.h"
#include "adaswarm/util/allocator.h"
#include "bench_timing.h"

using namespace adaswarm;
using adaswarm::bench::median_seconds;

namespace {
// The public implementation's figure quoted in the project's issue (one core,
// Python, 20 x 40 on [200, 1]); not measured here.
constexpr double kPythonReferenceSeconds = 7.8e-3;

void row(const std::string& what, double base, double ours) {
  fmt::print("{:<58} {:>9.1f} us {:>9.1f} us {:>7.2f}x {:>7.1f}x\n", what, base * 1e6, ours * 1e6, ours / base,
             kPythonReferenceSeconds / ours);
}

SwarmLossOptions search_20x40() {
  auto o = SwarmLossOptions::preset(Preset::Search);
  o.swarm().particles(20).iterations(40);
  return o;
}

// The same loss as plain loops (CustomKernel: no LibTorch dispatch per iteration).
CustomKernel multi_well_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t C, const torch::Tensor& t, float* out) {
            const float* tp = t.data_ptr<float>();
            const int64_t D = B * C;
            for (int64_t i = 0; i < P; ++i)
              for (int64_t k = 0; k < D; ++k) {
                const float r = pos[i * D + k] - tp[k];
                out[i * D + k] = 0.1f * r * r + 1.0f - std::cos(3.0f * r);
              }
          },
          true};
}

// A step loss |round(y) - round(t)|, as loops and as a tensor callable.
CustomKernel step_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t C, const torch::Tensor& t, float* out) {
            const float* tp = t.data_ptr<float>();
            const int64_t D = B * C;
            for (int64_t i = 0; i < P; ++i)
              for (int64_t k = 0; k < D; ++k) out[i * D + k] = std::fabs(std::nearbyint(pos[i * D + k]) - std::nearbyint(tp[k]));
          },
          true};
}
CustomLossFn step_loss() {
  return [](const torch::Tensor& pos, const torch::Tensor& t) {
    return (torch::round(pos) - torch::round(t).unsqueeze(0)).abs();
  };
}

// The same two losses with kernel_math: loops the compiler vectorises.
CustomKernel multi_well_fast_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t C, const torch::Tensor& t, float* out) {
            const float* tp = t.data_ptr<float>();
            const int64_t D = B * C;
            for (int64_t i = 0; i < P; ++i) {
              const float* x = pos + i * D;
              float* o = out + i * D;
#pragma omp simd
              for (int64_t k = 0; k < D; ++k) {
                const float r = x[k] - tp[k];
                o[k] = 0.1f * r * r + 1.0f - kernel_math::cos(3.0f * r);
              }
            }
          },
          true};
}
// A CustomKernel that runs `loop(x, target, n, out)` over each particle's
// candidates: element-wise against a target of the output's shape ([B, C], n = B C),
// or per row against the phases [B, 2] (n = B).
using Loop = void (*)(const float*, const float*, int64_t, float*);
CustomKernel elementwise_kernel(Loop loop) {
  return {[loop](const float* pos, int64_t P, int64_t B, int64_t C, const torch::Tensor& t, float* out) {
            const float* tp = t.data_ptr<float>();
            const int64_t D = B * C;
            for (int64_t i = 0; i < P; ++i) loop(pos + i * D, tp, D, out + i * D);
          },
          true};
}
CustomKernel phases_kernel(Loop loop) {
  return {[loop](const float* pos, int64_t P, int64_t B, int64_t, const torch::Tensor& ph, float* out) {
            const float* f = ph.data_ptr<float>();
            for (int64_t i = 0; i < P; ++i) loop(pos + i * B, f, B, out + i * B);
          },
          true};
}
// The kernel_math loops as named functions compiled for AVX-512, AVX2 and the
// baseline (ADASWARM_KERNEL_CLONES), as the use cases' kernels are.
ADASWARM_KERNEL_CLONES void multi_well_loop(const float* x, const float* tp, int64_t n, float* o) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) {
    const float r = x[k] - tp[k];
    o[k] = 0.1f * r * r + 1.0f - kernel_math::cos(3.0f * r);
  }
}
CustomKernel step_fast_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t C, const torch::Tensor& t, float* out) {
            const float* tp = t.data_ptr<float>();
            const int64_t D = B * C;
            for (int64_t i = 0; i < P; ++i) {
              const float* x = pos + i * D;
              float* o = out + i * D;
#pragma omp simd
              for (int64_t k = 0; k < D; ++k) o[k] = std::fabs(kernel_math::round_even(x[k]) - kernel_math::round_even(tp[k]));
            }
          },
          true};
}

// The `unwrap` use case's loss: output d [B, 1], target the two wrapped phases
// [B, 2]; sum_k (1 - cos(4 pi d / lambda_k - phi_k)), lambda = (1.0, 1.2).
constexpr float kFourPi = 12.566370614359172f;
CustomLossFn unwrap_loss() {
  return [](const torch::Tensor& pos, const torch::Tensor& ph) {
    auto p = ph.unsqueeze(0);
    return (1.0 - torch::cos(pos * (kFourPi / 1.0f) - p.narrow(2, 0, 1))) +
           (1.0 - torch::cos(pos * (kFourPi / 1.2f) - p.narrow(2, 1, 1)));
  };
}
ADASWARM_KERNEL_CLONES void unwrap_loop(const float* x, const float* f, int64_t n, float* o) {
#pragma omp simd
  for (int64_t b = 0; b < n; ++b)
    o[b] = (1.0f - kernel_math::cos(x[b] * (kFourPi / 1.0f) - f[2 * b])) +
           (1.0f - kernel_math::cos(x[b] * (kFourPi / 1.2f) - f[2 * b + 1]));
}
// The same two loops with kernel_math::fused (fused multiply-adds; FMA
// instructions on the AVX-512 and x86-64-v3 clones), as the use cases' kernels.
ADASWARM_KERNEL_CLONES void multi_well_fused_loop(const float* x, const float* tp, int64_t n, float* o) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) {
    const float r = x[k] - tp[k];
    o[k] = 0.1f * r * r + 1.0f - kernel_math::fused::cos(3.0f * r);
  }
}
ADASWARM_KERNEL_CLONES void unwrap_fused_loop(const float* x, const float* f, int64_t n, float* o) {
#pragma omp simd
  for (int64_t b = 0; b < n; ++b)
    o[b] = (1.0f - kernel_math::fused::cos(x[b] * (kFourPi / 1.0f) - f[2 * b])) +
           (1.0f - kernel_math::fused::cos(x[b] * (kFourPi / 1.2f) - f[2 * b + 1]));
}
CustomKernel unwrap_fast_kernel() {
  return {[](const float* pos, int64_t P, int64_t B, int64_t, const torch::Tensor& ph, float* out) {
            const float* f = ph.data_ptr<float>();  // [B, 2]
            for (int64_t i = 0; i < P; ++i) {
              const float* x = pos + i * B;
              float* o = out + i * B;
#pragma omp simd
              for (int64_t b = 0; b < B; ++b)
                o[b] = (1.0f - kernel_math::cos(x[b] * (kFourPi / 1.0f) - f[2 * b])) +
                       (1.0f - kernel_math::cos(x[b] * (kFourPi / 1.2f) - f[2 * b + 1]));
            }
          },
          true};
}

CustomLossFn multi_well() {
  return [](const torch::Tensor& pos, const torch::Tensor& t) {
    auto r = pos - t.unsqueeze(0);
    return 0.1 * r * r + 1.0 - torch::cos(3.0 * r);
  };
}
}  // namespace

int main(int argc, char** argv) {
  adaswarm::util::tune_malloc_for_training();
  const int repeats = argc > 1 ? std::max(5, std::atoi(argv[1])) : 200;
  const int64_t B = argc > 2 ? std::max(1, std::atoi(argv[2])) : 200;
  const bool tsv = argc > 3 && std::string(argv[3]) == "tsv";
  const std::string only = argc > 4 ? "," + std::string(argv[4]) + "," : "";
  torch::set_num_threads(1);
  torch::manual_seed(0);
  if (!tsv) {
    fmt::print("swarm loss bench: [{}, 1] output, 20 particles x 40 iterations, 1 thread, repeats {}\n", B, repeats);
    fmt::print("{:<58} {:>12} {:>12} {:>8} {:>8}\n", "what", "baseline", "ours", "ratio", "vs 7.8ms");
  }

  auto y = torch::randn({B, 1}, torch::requires_grad());
  auto t = torch::randn({B, 1}) * 3;
  // Two wrapped phases per row for the unwrap loss.
  auto phases = torch::rand({B, 2}) * (2 * 3.14159265f) - 3.14159265f;
  // (desired effect ~ U(-1.8, 1.8), state ~ U(-1, 1)) per row for the simulator loss.
  auto effect_state = torch::cat({torch::rand({B, 1}) * 3.6f - 1.8f, torch::rand({B, 1}) * 2 - 1}, 1);
  namespace uc = adaswarm::experiments::usecases;
  const auto tasks = uc::all_tasks("");  // the 0-1 tasks read their data only when generating
  auto use_case = [&](const std::string& key) -> const uc::Task& {
    for (const auto& task : tasks)
      if (task.key == key) return task;
    throw std::logic_error("no use case " + key);
  };
  auto plain = [&] { plain_loss(LossKind::MSE, y, t).backward(); };
  const double base = median_seconds(plain, repeats * 5);
  if (tsv) fmt::print("plain\t{:.3f}\n", base * 1e6);

  // Each arm: its key, what it times, the search's options, how its loss is
  // made (built-in, a tensor callable or a kernel) and the target it gets.
  using Make = std::function<SwarmLoss(const SwarmLossOptions&)>;
  const Make builtin = [](const SwarmLossOptions& o) { return SwarmLoss(o); };
  auto with = [](auto loss) -> Make { return [loss](const SwarmLossOptions& o) { return SwarmLoss(o, loss); }; };
  struct Arm {
    std::string key, name;
    SwarmLossOptions options;
    Make make;
    const torch::Tensor* target;
    int threads = 1;  // SwarmLoss::set_threads (row slices; OpenMP held at this count for the arm)
  };
  const auto custom = search_20x40().loss(LossKind::Custom);
  const auto custom_row = search_20x40().loss(LossKind::Custom).bests(Bests::Row);
  std::vector<Arm> arms = {
      {"mse", "swarm loss MSE, per-element bests (search 20x40)", search_20x40().loss(LossKind::MSE), builtin, &t},
      {"mse_row", "swarm loss MSE, per-row bests", search_20x40().loss(LossKind::MSE).bests(Bests::Row), builtin, &t},
      {"mw_kernel", "custom multi-well kernel (std::cos), per-element", custom, with(multi_well_kernel()), &t},
      {"mw_fast", "custom multi-well kernel_math kernel, per-element", custom, with(multi_well_fast_kernel()), &t},
      {"mw_fast_row", "custom multi-well kernel_math kernel, per-row", custom_row, with(multi_well_fast_kernel()), &t},
      {"mw_clones", "custom multi-well kernel_math kernel, ISA clones, per-element", custom,
       with(elementwise_kernel(multi_well_loop)), &t},
      {"mw_clones_row", "custom multi-well kernel_math kernel, ISA clones, per-row", custom_row,
       with(elementwise_kernel(multi_well_loop)), &t},
      {"mw_fused", "custom multi-well kernel_math::fused kernel, ISA clones, per-element", custom,
       with(elementwise_kernel(multi_well_fused_loop)), &t},
      {"mw_tensor", "custom multi-well tensor callable, per-element", custom, with(multi_well()), &t},
      {"mw_tensor_row", "custom multi-well tensor callable, per-row", custom_row, with(multi_well()), &t},
      {"step_kernel", "custom step loss kernel (std::nearbyint), per-element", custom, with(step_kernel()), &t},
      {"step_fast", "custom step loss kernel_math kernel, per-element", custom, with(step_fast_kernel()), &t},
      {"step_tensor", "custom step loss tensor callable, per-element", custom, with(step_loss()), &t},
      {"unwrap_tensor", "unwrap phase loss tensor callable", custom, with(unwrap_loss()), &phases},
      {"unwrap_fast", "unwrap phase loss kernel_math kernel", custom, with(unwrap_fast_kernel()), &phases},
      {"unwrap_clones", "unwrap phase loss kernel_math kernel, ISA clones", custom, with(phases_kernel(unwrap_loop)),
       &phases},
      {"unwrap_fused", "unwrap phase loss kernel_math::fused kernel, ISA clones", custom, with(phases_kernel(unwrap_fused_loop)),
       &phases},
      {"unwrap_task", "unwrap use case's kernel (registry: ISA clones + NaN fix-up)", custom,
       with(use_case("unwrap").kernel), &phases},
      {"codebook_tensor", "codebook use case, tensor callable", custom, with(use_case("codebook").loss), &t},
      {"codebook_kernel", "codebook use case, kernel (ISA clones)", custom, with(use_case("codebook").kernel), &t},
      {"simulator_tensor", "simulator use case, tensor callable", custom, with(use_case("simulator").loss),
       &effect_state},
      {"simulator_kernel", "simulator use case, kernel (ISA clones)", custom, with(use_case("simulator").kernel),
       &effect_state},
      // The same searches in two row slices on two threads (the same bits as on one).
      {"mse_t2", "swarm loss MSE, per-element bests, 2 threads", search_20x40().loss(LossKind::MSE), builtin, &t, 2},
      {"mw_clones_t2", "custom multi-well kernel_math kernel, ISA clones, 2 threads", custom,
       with(elementwise_kernel(multi_well_loop)), &t, 2},
      {"unwrap_task_t2", "unwrap use case's kernel, 2 threads", custom, with(use_case("unwrap").kernel), &phases, 2},
      {"codebook_kernel_t2", "codebook use case, kernel, 2 threads", custom, with(use_case("codebook").kernel), &t, 2},
      {"simulator_kernel_t2", "simulator use case, kernel, 2 threads", custom, with(use_case("simulator").kernel),
       &effect_state, 2},
  };
  if (!only.empty()) {  // every named key must be an arm's
    std::string known = ",";
    for (const auto& arm : arms) known += arm.key + ",";
    for (size_t a = 1, b; (b = only.find(',', a)) != std::string::npos; a = b + 1)
      if (known.find("," + only.substr(a, b - a) + ",") == std::string::npos) {
        fmt::print(stderr, "bench_swarm_loss: unknown arm '{}' (arms: {})\n", only.substr(a, b - a),
                   known.substr(1, known.size() - 2));
        return 2;
      }
  }
  for (auto& arm : arms) {
    if (!only.empty() && only.find("," + arm.key + ",") == std::string::npos) continue;
    SwarmLoss sl = arm.make(arm.options);
    const auto& target = *arm.target;
    sl.set_threads(arm.threads);
    torch::set_num_threads(arm.threads);  // OpenMP's count too: the slices' bound
    auto swarm = [&] { sl(y, target).backward(); };
    const double s = median_seconds(swarm, repeats);
    torch::set_num_threads(1);
    if (sl.diagnostics().threads != arm.threads) {
      fmt::print(stderr, "bench_swarm_loss: {} ran on {} thread(s), not {}\n", arm.key, sl.diagnostics().threads,
                 arm.threads);
      return 1;
    }
    if (tsv)
      fmt::print("{}\t{:.3f}\n", arm.key, s * 1e6);
    else
      row(arm.name + " (fwd+bwd)", base, s);
  }
  if (tsv || !only.empty()) return 0;

  // Whole training steps of the 1-32-1 tanh network, full batch of 200.
  auto x = torch::linspace(-2, 2, B).unsqueeze(1);
  auto make = [] {
    torch::manual_seed(1);
    return torch::nn::Sequential(torch::nn::Linear(1, 32), torch::nn::Tanh(), torch::nn::Linear(32, 1));
  };
  auto net_a = make(), net_b = make();
  torch::optim::Adam adam(net_a->parameters(), torch::optim::AdamOptions(0.05));
  optim::AdaSwarm ours(net_b->parameters(), optim::AdaSwarmOptions(0.05).swarm(search_20x40().loss(LossKind::Custom)),
                       multi_well());
  auto lf = ours.loss();
  auto adam_step = [&] {
    adam.zero_grad();
    plain_loss(LossKind::MSE, net_a->forward(x), t).backward();
    adam.step();
  };
  auto ours_step = [&] {
    ours.zero_grad();
    lf(net_b->forward(x), t).backward();
    ours.step();
  };
  row("training step 1-32-1: Adam on MSE vs AdaSwarm multi-well", median_seconds(adam_step, repeats),
      median_seconds(ours_step, repeats));
  fmt::print("ratio = ours / baseline; 'vs 7.8ms' = the public Python implementation's quoted step time / ours\n");
  return 0;
}
