// bench_dist: what data-parallel training costs in communication, measured.
//   1. all-reduce time and bandwidth on this group (loopback under
//      scripts/launch-local.sh) for 4 KiB .. 64 MiB of float32;
//   2. per model (the paper's CNN on 28x28, ResNet-18 on 32x32x3): gradient bytes,
//      all-reduces per step (25 MiB buckets), the compute time of one training
//      step (forward + backward, `--batch` images per rank) and the time of the
//      gradient averaging;
//   3. on paper, the step time and speed-up at 8 and 64 machines from those
//      figures and a link bandwidth (`--link-gbps`, default 10 and 25 Gb/s).
//
//   scripts/launch-local.sh 2 -- build/bench/bench_dist [--batch 64] [--repeats 10] [--no-resnet]
//   build/bench/bench_dist            (one process: compute figures only)
#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "adaswarm/dist/dist.h"
#include "adaswarm/experiments/trainer.h"
#include "adaswarm/util/allocator.h"
#include "bench_timing.h"

namespace dist = adaswarm::dist;
namespace ex = adaswarm::experiments;

int main(int argc, char** argv) {
  adaswarm::util::tune_malloc_for_training();
  int64_t batch = 64;
  int repeats = 10;
  bool resnet = true;
  std::vector<double> link_gbps{10, 25};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--batch" && i + 1 < argc) batch = std::atoll(argv[++i]);
    else if (a == "--repeats" && i + 1 < argc) repeats = std::atoi(argv[++i]);
    else if (a == "--no-resnet") resnet = false;
    else if (a == "--link-gbps" && i + 1 < argc) link_gbps = {std::atof(argv[++i])};
    else {
      fmt::print(stderr, "usage: bench_dist [--batch B] [--repeats R] [--no-resnet] [--link-gbps G]\n");
      return 2;
    }
  }
  try {
    auto group = dist::ProcessGroup::from_environment(120);
    const int N = group->size();
    const bool lead = group->rank() == 0;
    auto say = [&](const std::string& s) {
      if (lead) fmt::print("{}", s);
      std::fflush(stdout);
    };
    say(fmt::format("bench_dist: {} rank(s), {} intra-op thread(s) each, {} repeats (median)\n", N,
                    at::get_num_threads(), repeats));

    // 1. all-reduce bandwidth
    if (N > 1) {
      say("\nall-reduce (sum, float32) on this group\n");
      say(fmt::format("{:>10} {:>12} {:>14} {:>14}\n", "bytes", "seconds", "alg GB/s", "bus GB/s"));
      for (int64_t bytes : {int64_t{4} << 10, int64_t{64} << 10, int64_t{1} << 20, int64_t{8} << 20,
                            int64_t{25} << 20, int64_t{64} << 20}) {
        std::vector<at::Tensor> t{torch::ones({bytes / 4})};
        const double s = adaswarm::bench::median_seconds([&] { group->all_reduce(t); }, repeats, 2);
        // Ring all-reduce moves 2 (N-1)/N of the buffer through every link.
        say(fmt::format("{:>10} {:>12.6f} {:>14.3f} {:>14.3f}\n", bytes, s, bytes / s / 1e9,
                        2.0 * (N - 1) / N * bytes / s / 1e9));
      }
    }

    // 2. models: gradient bytes, compute time of a step, averaging time
    struct Row {
      std::string name;
      int64_t bytes = 0, buckets = 0;
      double compute = 0, average = 0;
    };
    std::vector<Row> rows;
    for (const std::string name : {"cnn", "resnet18"}) {
      if (name == "resnet18" && !resnet) continue;
      torch::manual_seed(0);
      const bool cifar = name == "resnet18";
      auto model = ex::make_model(name, cifar ? 3 : 1, cifar ? 32 : 28, cifar ? 32 : 28, 10);
      model->train();
      auto x = torch::randn({batch, cifar ? 3 : 1, cifar ? 32 : 28, cifar ? 32 : 28});
      auto y = torch::randint(0, 10, {batch}, torch::kLong);
      dist::GradientAverager avg(group, model->parameters());
      Row r;
      r.name = name;
      r.bytes = avg.bytes();
      r.buckets = avg.buckets();
      r.compute = adaswarm::bench::median_seconds(
          [&] {
            for (auto& p : model->parameters()) p.mutable_grad() = at::Tensor();
            torch::nn::functional::cross_entropy(ex::model_forward(*model, x), y).backward();
          },
          repeats, 2);
      r.average = adaswarm::bench::median_seconds([&] { avg.average(); }, repeats, 2);
      rows.push_back(r);
    }
    say(fmt::format("\nper training step, {} images per rank\n", batch));
    say(fmt::format("{:>9} {:>12} {:>8} {:>14} {:>14} {:>12}\n", "model", "grad bytes", "buckets", "compute s",
                    "averaging s", "comm share"));
    for (const auto& r : rows)
      say(fmt::format("{:>9} {:>12} {:>8} {:>14.5f} {:>14.6f} {:>11.1f}%\n", r.name, r.bytes, r.buckets, r.compute,
                      r.average, 100 * r.average / (r.compute + r.average)));

    // 3. on paper: weak scaling (batch per machine fixed), ring all-reduce over a link of G Gb/s
    // with 50 us per message; step = compute + 2 (N-1)/N * bytes / link + 2 (N-1) * latency * buckets.
    say("\non paper (same images per machine, ring all-reduce, 50 us latency per message, no overlap)\n");
    say(fmt::format("{:>9} {:>8} {:>9} {:>12} {:>12} {:>14}\n", "model", "Gb/s", "machines", "step s",
                    "efficiency", "speed-up vs 1"));
    for (const auto& r : rows)
      for (double g : link_gbps)
        for (int m : {8, 64}) {
          const double link = g * 1e9 / 8;
          const double comm = 2.0 * (m - 1) / m * r.bytes / link + 2.0 * (m - 1) * 50e-6 * r.buckets;
          const double step = r.compute + comm;
          say(fmt::format("{:>9} {:>8g} {:>9} {:>12.5f} {:>11.1f}% {:>14.1f}\n", r.name, g, m, step,
                          100 * r.compute / step, m * r.compute / step));
        }
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_dist: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
