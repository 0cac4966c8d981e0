#!/usr/bin/python3
"""PySwarms GlobalBestPSO on Rastrigin-30 and Rosenbrock-30 (docs/pgso.md).

Same settings as bench_pgso section 2 and pagmo_pso_bench: 50 particles, 1000
iterations, w 0.7298, c1 = c2 = 1.49618, velocity clamp half the box, positions
clamped ("nearest"), Rastrigin [-5.12, 5.12], Rosenbrock [-5, 10]. Reports the
best fitness at the budget and evaluations per second on one core.
Run with Debian's interpreter (python3-pyswarms): /usr/bin/python3 bench/pyswarms_bench.py [runs] [iterations]
"""
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import logging  # noqa: E402

import numpy as np  # noqa: E402
import pyswarms as ps  # noqa: E402


def rastrigin(x):
    return 10.0 * x.shape[1] + np.sum(x * x - 10.0 * np.cos(2.0 * np.pi * x), axis=1)


def rosenbrock(x):
    return np.sum(100.0 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (x[:, :-1] - 1.0) ** 2, axis=1)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    iters = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    logging.getLogger("pyswarms").setLevel(logging.ERROR)
    print(f"== PySwarms {ps.__version__} GlobalBestPSO, 50 particles, {iters} iterations, {runs} seeds, one core")
    for name, f, lo, hi in (("rastrigin", rastrigin, -5.12, 5.12), ("rosenbrock", rosenbrock, -5.0, 10.0)):
        best, rate, crate = [], [], []
        for r in range(runs):
            np.random.seed(r + 1)
            d = 30
            opt = ps.single.GlobalBestPSO(
                n_particles=50, dimensions=d, options={"c1": 1.49618, "c2": 1.49618, "w": 0.7298},
                bounds=(np.full(d, lo), np.full(d, hi)), velocity_clamp=(-(hi - lo) / 2, (hi - lo) / 2),
                bh_strategy="nearest")
            t0, c0 = time.perf_counter(), time.thread_time()
            cost, _ = opt.optimize(f, iters=iters, verbose=False)
            t, c = time.perf_counter() - t0, time.thread_time() - c0
            crate.append(50 * iters / c)
            best.append(cost)
            rate.append(50 * iters / t)
        best = np.array(best)
        print(f"  {name:<11} best mean {best.mean():10.4g} sd {best.std(ddof=1) if runs > 1 else 0:9.3g} "
              f"median {np.median(best):10.4g} | {np.median(rate) / 1e6:6.3f} M evals/s wall, "
              f"{np.median(crate) / 1e6:6.3f} M/s CPU (medians)")


if __name__ == "__main__":
    main()
