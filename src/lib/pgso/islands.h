// PGSO islands over ranks (internal to src/lib/pgso): subswarm k runs on rank
// k mod N; sync() all-gathers every subswarm's best, evaluations and history so
// that every rank holds the same table and runs stage 2 identically.
#pragma once
#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "adaswarm/dist/dist.h"
#include "adaswarm/pgso/gso.h"
#include "adaswarm/swarm/swarm.h"

namespace adaswarm::pgso::detail {

using swarm::Swarm;

/// Where the subswarms live and what every rank knows of them. Subswarm k runs on
/// rank k mod N; after sync() every rank holds every subswarm's best (fitness and
/// position), evaluations and best-so-far history, gathered from its owner.
struct Islands {
  dist::ProcessGroup* group = nullptr;  // null: one process
  int rank = 0, size = 1;
  int64_t M = 0, D = 0, H = 0;          // subswarms, dimension, history length
  std::vector<int64_t> mine;            // the subswarms this rank runs
  std::vector<double> best;             // [M]
  std::vector<std::vector<double>> pos; // [M][D]
  std::vector<int64_t> evals;           // [M]

  /// `settings`: what every rank must share besides M, D and H (the seed, the
  /// swarm's sizes); ranks that differ throw std::invalid_argument naming it,
  /// before any exchange (whose sizes would not match).
  Islands(dist::ProcessGroup* g, int64_t m, int64_t d, int64_t h, dist::Settings settings = {})
      : group(g), M(m), D(d), H(h) {
    if (group && group->distributed()) {
      rank = group->rank();
      size = group->size();
      settings.insert(settings.begin(), {{"subswarms", std::to_string(M)},
                                         {"dimension", std::to_string(D)},
                                         {"iterations (history length)", std::to_string(H)}});
      dist::require_same_settings(*group, settings);
    } else {
      group = nullptr;
    }
    for (int64_t k = rank; k < M; k += size) mine.push_back(k);
    best.assign(static_cast<size_t>(M), std::numeric_limits<double>::infinity());
    pos.assign(static_cast<size_t>(M), std::vector<double>(static_cast<size_t>(D)));
    evals.assign(static_cast<size_t>(M), 0);
  }

  /// Publishes this rank's subswarms and gathers the others': bests, evaluations
  /// (plus extra[k] when given) and, when H > 0, the history rows hist[k].
  void sync(const std::vector<Swarm<double>>& subs, std::vector<std::vector<double>>& hist,
            const std::vector<int64_t>* extra = nullptr) {
    for (int64_t k : mine) {
      best[k] = subs[k].best_fitness();
      pos[k] = subs[k].global_best();
      evals[k] = subs[k].evaluations() + (extra ? (*extra)[k] : 0);
    }
    if (!group) return;
    // Slot j of rank q is subswarm q + j * N: [best, evaluations, position (D), history (H)].
    const int64_t slots = (M + size - 1) / size, S = 2 + D + H;
    auto buf = at::zeros({std::max<int64_t>(slots * S, 1)}, at::kDouble);
    double* b = buf.data_ptr<double>();
    for (size_t j = 0; j < mine.size(); ++j) {
      const int64_t k = mine[j];
      double* o = b + static_cast<int64_t>(j) * S;
      o[0] = best[k];
      o[1] = static_cast<double>(evals[k]);
      std::copy(pos[k].begin(), pos[k].end(), o + 2);
      if (H > 0) std::copy(hist[k].begin(), hist[k].end(), o + 2 + D);
    }
    const auto all = group->all_gather(buf);
    for (int q = 0; q < size; ++q) {
      if (q == rank) continue;
      const double* src = all[static_cast<size_t>(q)].data_ptr<double>();
      for (int64_t j = 0, k = q; k < M; ++j, k += size) {
        const double* o = src + j * S;
        best[k] = o[0];
        evals[k] = static_cast<int64_t>(o[1]);
        pos[k].assign(o + 2, o + 2 + D);
        if (H > 0) hist[k].assign(o + 2 + D, o + 2 + D + H);
      }
    }
  }

  /// The galactic exchange (see galactic_exchange) over every rank's subswarms,
  /// after sync(): the shared best is the lowest gathered best (lowest index on
  /// ties) and every subswarm whose best is worse adopts it (this rank's swarms
  /// and the gathered table alike).
  ExchangeInfo exchange(std::vector<Swarm<double>>& subs) {
    ExchangeInfo info;
    for (int64_t k = 0; k < M; ++k)
      if (best[k] < info.best) {
        info.best = best[k];
        info.source = k;
      }
    if (info.source < 0) return info;
    const std::vector<double> g = pos[static_cast<size_t>(info.source)];
    const double gf = info.best;
    for (int64_t k = 0; k < M; ++k)
      if (gf < best[k]) {
        best[k] = gf;
        pos[k] = g;
        ++info.adopted;
      }
    for (int64_t k : mine)
      if (gf < subs[k].best_fitness()) subs[k].set_global_best(g.data(), &gf);
    return info;
  }
};


}  // namespace adaswarm::pgso::detail
