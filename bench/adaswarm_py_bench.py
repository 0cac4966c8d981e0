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


def torch_swarm_ce_grad(y, t, gen, P=10, iters=5, c1=0.8, c2=0.9, beta=0.9, eta=0.1):
    """The paper preset's search in PyTorch ops: EMPSO over [P, B, C] candidate
    outputs started at the targets (-4, 1 at the true class, + U(0, 1)), one best
    per sample (cross-entropy of each row), dL/dy = (cbar / eta)(y - g) / B."""
    B, C = y.shape
    centre = torch.full((B, C), -4.0)
    centre[torch.arange(B), t] = 1.0
    x = centre.unsqueeze(0) + torch.rand((P, B, C), generator=gen)
    v = torch.zeros_like(x)
    m = torch.zeros_like(x)
    rows = torch.arange(B)

    def fit(x):  # [P, B] per-sample cross-entropy
        return -torch.log_softmax(x, dim=2)[:, rows, t]

    pf = fit(x)
    pbest = x.clone()
    g = pbest[pf.argmin(0), rows]  # [B, C]
    cbar = 0.0
    for _ in range(iters):
        r1 = torch.rand((P, 1, 1), generator=gen)
        r2 = torch.rand((P, 1, 1), generator=gen)
        m = beta * m + (1 - beta) * v
        v = m + c1 * r1 * (pbest - x) + c2 * r2 * (g.unsqueeze(0) - x)
        x = x + v
        f = fit(x)
        better = f < pf
        pf = torch.where(better, f, pf)
        pbest = torch.where(better.unsqueeze(2), x, pbest)
        g = pbest[pf.argmin(0), rows]
        cbar = float((c1 * r1 + c2 * r2).mean())
    return (cbar / eta) * (y - g) / B


def median_seconds(fn, repeats, warmup=20):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        a = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - a)
    ts.sort()
    return ts[len(ts) // 2]


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

    rows = [
        ("torch.optim.Adam + F.cross_entropy (autograd)", median_seconds(adam_step, repeats)),
        ("adaswarm.AdaSwarm + SwarmLoss('ce', paper)", median_seconds(adaswarm_step, repeats)),
        ("torch.optim.Adam + the swarm in PyTorch ops", median_seconds(torch_swarm_step, repeats // 2)),
    ]
    loss_rows = [
        ("F.cross_entropy fwd+bwd", median_seconds(plain_only, repeats)),
        ("adaswarm.SwarmLoss fwd+bwd", median_seconds(swarm_only, repeats)),
        ("the swarm in PyTorch ops (gradient only)", median_seconds(torch_only, repeats // 2)),
    ]
    print(f"PyTorch {torch.__version__}, {threads} thread(s), MLP 4-10-3, Iris 150 x 4 per step, "
          f"paper preset 10 particles x 5 iterations, median of {repeats}")
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
