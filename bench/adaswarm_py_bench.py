#!/usr/bin/env python3
"""A training step from Python, timed: adaswarm.AdaSwarm + its SwarmLoss against
torch.optim.Adam + the plain loss, and against the same swarm written as
vectorised PyTorch ops in this script, in one run on one machine.

Iris-sized: an MLP 4-10-3, the whole Iris set (150 rows) per step, cross-entropy,
the paper preset (10 particles x 5 iterations, per-sample bests). The reference
Python package's figure for this kind of step is 56 ms (quoted, not measured here).

Usage (after building the module into build/):
  PYTHONPATH=build/python /usr/bin/python3 bench/adaswarm_py_bench.py [repeats] [threads]
"""
import os
import sys
import time

import torch
import torch.nn.functional as F

import adaswarm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_swarm import empso  # noqa: E402


def load_iris():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "data", "uci", "iris", "iris.csv")
    xs, ys, names = [], [], {}
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) == 5:
                xs.append([float(v) for v in parts[:4]])
                ys.append(names.setdefault(parts[4], len(names)))
    x = torch.tensor(xs)
    return (x - x.mean(0)) / x.std(0), torch.tensor(ys)


def torch_swarm_ce_grad(y, t, gen, P=10, iters=5, eta=0.1):
    """The paper preset's search in PyTorch ops (bench/torch_swarm.py): EMPSO over
    [P, B, C] candidate outputs started at the targets (-4, 1 at the true class,
    + U(0, 1)), one best per sample (cross-entropy of each row),
    dL/dy = (cbar / eta)(y - g) / B."""
    B, C = y.shape
    centre = torch.full((B, C), -4.0)
    centre[torch.arange(B), t] = 1.0
    x = centre.unsqueeze(0) + torch.rand((P, B, C), generator=gen)
    rows = torch.arange(B)
    g, cbar = empso(x, lambda x: -torch.log_softmax(x, dim=2)[:, rows, t], iters, gen)
    return (cbar / eta) * (y - g) / B


def interleaved_medians(fns, repeats, rounds=20, warmup=20):
    """Median seconds per call of each fn, measured in alternating rounds so that a
    load that comes and goes hits every variant alike."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    per_round = max(1, repeats // rounds)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            for _ in range(per_round):
                a = time.perf_counter()
                fn()
                times[i].append(time.perf_counter() - a)
    return [sorted(ts)[len(ts) // 2] for ts in times]


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    torch.set_num_threads(threads)
    x, y = load_iris()

    def mlp():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(4, 10), torch.nn.ReLU(), torch.nn.Linear(10, 3))

    m_adam = mlp()
    adam = torch.optim.Adam(m_adam.parameters(), lr=0.01)

    def adam_step():
        adam.zero_grad()
        F.cross_entropy(m_adam(x), y).backward()
        adam.step()

    m_as = mlp()
    ada = adaswarm.AdaSwarm(m_as.parameters(), lr=0.01, swarm={"loss": "ce", "preset": "paper", "seed": 0})
    swarm_loss = ada.loss()

    def adaswarm_step():
        ada.zero_grad()
        swarm_loss(m_as(x), y).backward()
        ada.step()

    m_pt = mlp()
    adam_pt = torch.optim.Adam(m_pt.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(0)

    def torch_swarm_step():
        adam_pt.zero_grad()
        out = m_pt(x)
        with torch.no_grad():
            g = torch_swarm_ce_grad(out.detach(), y, gen)
        out.backward(g)
        adam_pt.step()

    # The loss alone (forward + backward on a leaf [150, 3] output).
    out0 = m_as(x).detach().requires_grad_(True)
    plain_only = lambda: (setattr(out0, "grad", None), F.cross_entropy(out0, y).backward())
    ours = adaswarm.SwarmLoss("ce", preset="paper", seed=0)
    swarm_only = lambda: (setattr(out0, "grad", None), ours(out0, y).backward())
    torch_only = lambda: torch_swarm_ce_grad(out0.detach(), y, gen)

    names = ["torch.optim.Adam + F.cross_entropy (autograd)", "adaswarm.AdaSwarm + SwarmLoss('ce', paper)",
             "torch.optim.Adam + the swarm in PyTorch ops"]
    rows = list(zip(names, interleaved_medians([adam_step, adaswarm_step, torch_swarm_step], repeats)))
    names = ["F.cross_entropy fwd+bwd", "adaswarm.SwarmLoss fwd+bwd", "the swarm in PyTorch ops (gradient only)"]
    loss_rows = list(zip(names, interleaved_medians([plain_only, swarm_only, torch_only], repeats)))
    print(f"PyTorch {torch.__version__}, {threads} thread(s), MLP 4-10-3, Iris 150 x 4 per step, "
          f"paper preset 10 particles x 5 iterations, median of {repeats} calls each in 20 alternating rounds")
    base = rows[0][1]
    print(f"{'training step':<50} {'time':>10} {'vs Adam':>9} {'vs 56 ms':>9}")
    for name, s in rows:
        print(f"{name:<50} {s * 1e6:>7.1f} us {s / base:>8.2f}x {0.056 / s:>8.0f}x")
    base = loss_rows[0][1]
    print(f"{'loss only, [150, 3] output':<50} {'time':>10} {'vs plain':>9}")
    for name, s in loss_rows:
        print(f"{name:<50} {s * 1e6:>7.1f} us {s / base:>8.2f}x")
    acc = (m_as(x).argmax(1) == y).float().mean().item()
    print(f"(after the timed steps the AdaSwarm model's training accuracy is {acc:.3f})")


if __name__ == "__main__":
    main()
