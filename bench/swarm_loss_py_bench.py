#!/usr/bin/env python3
"""The swarm loss's search written in PyTorch ops, timed on the shape of
bench_swarm_loss: a [200, 1] output, 20 particles x 40 iterations per step.

This is our own port of the algorithm (SPEC.md sections 1 and 3: EMPSO over
candidate outputs, per-element or per-row bests, backward (cbar/eta)(y - g)),
not the public implementation, whose code is not available offline. It shows
what the same search costs when every iteration is a handful of tensor ops in
Python, on the same machine, so that bench_swarm_loss's figures have an
in-machine Python baseline beside the quoted 7.8 ms.

Usage: /usr/bin/python3 bench/swarm_loss_py_bench.py [repeats]   (Debian's python3-torch)
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_swarm import empso  # noqa: E402


def multi_well(pos, t):
    r = pos - t.unsqueeze(0)
    return 0.1 * r * r + 1.0 - torch.cos(3.0 * r)


def mse(pos, t):
    r = pos - t.unsqueeze(0)
    return r * r


def swarm_grad(y, t, loss, P=20, iters=40, eta=0.1, span=4.0, per_element=True, gen=None):
    """One step's swarm search (bench/torch_swarm.py) and the gradient
    (cbar / eta)(y - g) / (B * C)."""
    B, C = y.shape
    x = y.unsqueeze(0) + (torch.rand((P, B, C), generator=gen) * 2 - 1) * span
    fit = (lambda x: loss(x, t)) if per_element else (lambda x: loss(x, t).sum(2))
    g, cbar = empso(x, fit, iters, gen)
    return (cbar / eta) * (y - g) / (B * C)


def median_seconds(fn, repeats, warmup=5):
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
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    y = torch.randn(200, 1)
    t = torch.randn(200, 1) * 3
    yg = y.clone().requires_grad_(True)

    def plain():
        yg.grad = None
        torch.nn.functional.mse_loss(yg, t).backward()

    base = median_seconds(plain, repeats * 5)
    print(f"PyTorch {torch.__version__}, 1 thread, [200, 1] output, 20 particles x 40 iterations, repeats {repeats}")
    print(f"{'what':<52} {'time':>10} {'vs plain MSE':>13}")
    print(f"{'plain MSE fwd+bwd (autograd)':<52} {base * 1e6:>8.1f} us {1.0:>12.2f}x")
    for name, loss, pe in (("swarm MSE, per-element bests", mse, True), ("swarm MSE, per-row bests", mse, False),
                           ("swarm multi-well, per-element bests", multi_well, True),
                           ("swarm multi-well, per-row bests", multi_well, False)):
        s = median_seconds(lambda: swarm_grad(y, t, loss, per_element=pe, gen=gen), repeats)
        print(f"{name:<52} {s * 1e6:>8.1f} us {s / base:>12.2f}x")


if __name__ == "__main__":
    main()
