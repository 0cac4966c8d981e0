// Network weight search throughput (issue 14, docs/pgso.md): evaluations per
// second of BatchedMlpObjective (all particles' MLPs on one 400-row batch of the
// churn data) against the time of the same batched matrix products in LibTorch
// alone (inputs prepared beforehand): the bound the objective can approach.
// One intra-op thread. Usage: bench_network [repeats=200]
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "adaswarm/pgso/network.h"
#include "adaswarm/util/random.h"
#include "bench_timing.h"

namespace pg = adaswarm::pgso;

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 200;
  at::set_num_threads(1);
  torch::NoGradGuard ng;
  const auto d = pg::load_churn(std::string(ADASWARM_SHARED_DATA) + "/pgso/Churn_Modelling.csv", 0.2, 1);
  const int64_t B = 400;
  const auto x = d.x_train.narrow(0, 0, B).contiguous();
  const auto y = d.y_train.narrow(0, 0, B).contiguous();
  const int64_t in = x.size(1), hidden = 6;
  fmt::print("BatchedMlpObjective, MLP {}-{}-1 (no bias), {}-row batch of churn, 1 thread, median of {} calls\n", in,
             hidden, B, repeats);
  fmt::print("{:>9} {:>16} {:>20} {:>14}\n", "particles", "objective evals/s", "matmul-bound evals/s", "objective/bound");
  for (const int64_t P : {20, 67, 200, 1000}) {
    pg::BatchedMlpObjective mlp({in, hidden, 1});
    std::vector<double> W(static_cast<size_t>(P * mlp.dim()));
    adaswarm::Rng rng(7);
    for (auto& w : W) w = rng.uniform(-1.0, 1.0);
    std::vector<double> out(static_cast<size_t>(P));
    const double t_obj =
        adaswarm::bench::median_seconds([&] { mlp.evaluate(0, W.data(), P, x, y, out.data()); }, repeats);
    // The two layers' products alone, in float, inputs ready.
    const auto w1 = torch::randn({P, in, hidden});
    const auto w2 = torch::randn({P, hidden, 1});
    const auto h = torch::randn({P, B, hidden});
    const auto x1 = x.unsqueeze(0);
    const double t_mm = adaswarm::bench::median_seconds(
        [&] {
          auto a = torch::matmul(x1, w1);
          auto b = torch::matmul(h, w2);
        },
        repeats);
    fmt::print("{:>9} {:>16.3g} {:>20.3g} {:>14.2f}\n", P, P / t_obj, P / t_mm, t_obj / t_mm);
  }
  return 0;
}
