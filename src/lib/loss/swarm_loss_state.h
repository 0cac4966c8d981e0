// The state that copies of a SwarmLoss share (internal to src/lib/loss).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adaswarm/loss/swarm_loss.h"
#include "adaswarm/util/random.h"
#include "adaswarm/swarm/swarm.h"

namespace adaswarm {

struct SwarmLoss::State {
  /// Held by forward, set_center, set_threads, save and load: threads that
  /// share this state take turns.
  mutable std::mutex mutex;
  SwarmLossOptions options;
  CustomLossFn custom;
  CustomKernel kernel;  // the fast form (kernel.fn set) instead of `custom`
  Rng rng;
  std::unique_ptr<swarm::Swarm<float>> swarm;
  /// SwarmLoss::set_threads, and the swarms of a sliced search (one per slice
  /// of rows, kept for the next batch of the same shape).
  int64_t threads = 1;
  std::vector<std::unique_ptr<swarm::Swarm<float>>> slices;
  /// The swarm's positions and velocities carry over to the next batch
  /// (warm_start): set after a search, or by load() from a checkpoint.
  bool warm_ready = false;
  SwarmLossDiagnostics diagnostics;
  at::Tensor center;                 // SwarmStart::Center (CPU float, as given)
  std::vector<float> previous_best;  // SwarmStart::Previous: the last batch's g
  int64_t previous_B = 0, previous_C = 0;
  int64_t blind_streak = 0;
  std::string warning;
};

}  // namespace adaswarm
