#!/usr/bin/env python3
"""The swarm loss's search written in PyTorch ops, timed on the shape of
bench_swarm_loss: a [200, 1] output, 20 particles x 40 iterations per step.

This is our own port of the algorithm (SPEC.md sections 1 and 3: EMPSO over
candidate outputs, per-element or per-row bests, backward (cbar/eta)(y - g)),
not the public implementation, whose code is not available offline. It shows
what the same search costs when every iteration is a handful of tensor ops in
Python, on the same machine, so that bench_swarm_loss's figures have an
in-machine Python baseline beside the quoted 7.8 ms.

Usage: /usr/bin/python3 bench/swarm_loss_py_bench.py [repeats] [rows] [CPP_BENCH] [runs]
  (Debian's python3-torch). rows: the output's rows B (default 200; the
  `unwrap` use case has 1024). CPP_BENCH: the path of build/bench/bench_swarm_loss;
  when given, the script runs it on the same shape and prints ours / Python
  per loss (the in-script ratio of the use-case issue's per-step goal).
  runs (default 1): measure Python and ours this many times, one after the
  other, then print per arm the median of our times and of the ratios with
  their range (on a noisy virtual machine one run is not a figure).
"""
import os
import statistics
import subprocess
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


def unwrap(pos, phases):
    """The `unwrap` use case's loss: d [P, B, 1] against two wrapped phases [B, 2]."""
    p = phases.unsqueeze(0)
    four_pi = 12.566370614359172
    return (1.0 - torch.cos(pos * (four_pi / 1.0) - p[..., 0:1])) + (1.0 - torch.cos(pos * (four_pi / 1.2) - p[..., 1:2]))


CODEBOOK = torch.tensor([-3.0, -1.5, -0.5, 0.5, 1.5, 3.0])


def codebook_q(v):
    return CODEBOOK[(v.unsqueeze(-1) - CODEBOOK).abs().argmin(-1)]


def codebook(pos, t):
    """The `codebook` use case's loss |q(y) - q(t)| (nearest of six levels)."""
    return (codebook_q(pos) - codebook_q(t).unsqueeze(0)).abs()


def simulator(pos, es):
    """The `simulator` use case's loss |sim(u, s) - e|: dead zone 0.3, gain
    1 + 0.5 s, saturation 2, quantum 0.1; target (e, s) [B, 2]."""
    e, s = es[:, 0].view(1, -1, 1), es[:, 1].view(1, -1, 1)
    dz = torch.sign(pos) * torch.relu(pos.abs() - 0.3)
    v = torch.clamp((1 + 0.5 * s) * dz, -2.0, 2.0)
    return (0.1 * torch.round(v / 0.1) - e).abs()


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


def positive(i, name, default):
    if len(sys.argv) <= i:
        return default
    try:
        v = int(sys.argv[i])
    except ValueError:
        v = 0
    if v < 1:
        sys.exit(f"swarm_loss_py_bench.py: {name} must be a positive integer, got '{sys.argv[i]}'")
    return v


def main():
    repeats = positive(1, "repeats", 100)
    rows = positive(2, "rows", 200)
    cpp = sys.argv[3] if len(sys.argv) > 3 else None
    runs = positive(4, "runs", 1)
    if runs > 1 and not cpp:
        sys.exit("swarm_loss_py_bench.py: runs > 1 needs CPP_BENCH")
    results = [measure(repeats, rows, cpp) for _ in range(runs)]
    if runs == 1:
        return
    print(f"\n{runs} runs: median of ours, median Python / ours (range)")
    for key in results[0]:
        ours = [r[key][0] for r in results]
        ratio = [r[key][1] for r in results]
        print(f"{key:<60} {statistics.median(ours) * 1e6:>9.1f} us {statistics.median(ratio):>7.1f}x "
              f"({min(ratio):.1f}-{max(ratio):.1f})")


def measure(repeats, rows, cpp):
    """One run: the Python cases, then ours; returns {case -> key: (ours s, ratio)}."""
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    y = torch.randn(rows, 1)
    t = torch.randn(rows, 1) * 3
    phases = torch.rand(rows, 2) * (2 * 3.14159265) - 3.14159265
    effect_state = torch.cat([torch.rand(rows, 1) * 3.6 - 1.8, torch.rand(rows, 1) * 2 - 1], 1)
    yg = y.clone().requires_grad_(True)

    def plain():
        yg.grad = None
        torch.nn.functional.mse_loss(yg, t).backward()

    base = median_seconds(plain, repeats * 5)
    print(f"PyTorch {torch.__version__}, 1 thread, [{rows}, 1] output, 20 particles x 40 iterations, repeats {repeats}")
    print(f"{'what':<52} {'time':>10} {'vs plain MSE':>13}")
    print(f"{'plain MSE fwd+bwd (autograd)':<52} {base * 1e6:>8.1f} us {1.0:>12.2f}x")
    # Each Python case and the C++ bench's keys (bench_swarm_loss ... tsv) of the same loss.
    # Keys ending in _t2: ours on two threads (row slices, the same bits), compared with
    # the same Python case given two threads too (torch.set_num_threads(2); at these
    # sizes its element-wise ops stay on one thread: the time hardly changes).
    cases = (("swarm MSE, per-element bests", mse, t, True, ("mse", "mse_t2")),
             ("swarm MSE, per-row bests", mse, t, False, ("mse_row",)),
             ("swarm multi-well, per-element bests", multi_well, t, True,
              ("mw_tensor", "mw_kernel", "mw_fast", "mw_clones", "mw_fused", "mw_clones_t2")),
             ("swarm multi-well, per-row bests", multi_well, t, False, ("mw_tensor_row", "mw_fast_row", "mw_clones_row")),
             ("swarm unwrap phase loss", unwrap, phases, True,
              ("unwrap_tensor", "unwrap_fast", "unwrap_clones", "unwrap_fused", "unwrap_task", "unwrap_task_t2")),
             ("swarm codebook loss", codebook, t, True, ("codebook_tensor", "codebook_kernel", "codebook_kernel_t2")),
             ("swarm simulator loss", simulator, effect_state, True,
              ("simulator_tensor", "simulator_kernel", "simulator_kernel_t2")))
    py = {}
    for name, loss, target, pe, keys in cases:
        s = median_seconds(lambda: swarm_grad(y, target, loss, per_element=pe, gen=gen), repeats)
        py[name] = s
        print(f"{name:<52} {s * 1e6:>8.1f} us {s / base:>12.2f}x")
    torch.set_num_threads(2)
    for name, loss, target, pe, keys in cases:
        if any(k.endswith("_t2") for k in keys):
            s = median_seconds(lambda: swarm_grad(y, target, loss, per_element=pe, gen=gen), repeats)
            py[name + " [2 threads]"] = s
            print(f"{name + ' [2 threads]':<52} {s * 1e6:>8.1f} us {s / base:>12.2f}x")
    torch.set_num_threads(1)
    if not cpp:
        return {}
    out = subprocess.run([cpp, str(max(5, repeats)), str(rows), "tsv"], check=True, capture_output=True,
                         text=True).stdout
    ours = {k: float(v) * 1e-6 for k, v in (line.split("\t") for line in out.splitlines() if line)}
    print(f"\nours (C++, {cpp}) on the same shape; Python / ours (the goal: >= 20x)")
    res = {}
    for name, _, _, _, keys in cases:
        for k in keys:
            p = py[name + " [2 threads]"] if k.endswith("_t2") else py[name]
            res[name + " -> " + k] = (ours[k], p / ours[k])
            print(f"{name + ' -> ' + k:<60} {ours[k] * 1e6:>9.1f} us {p / ours[k]:>7.1f}x")
    return res


if __name__ == "__main__":
    main()
