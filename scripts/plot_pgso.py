#!/usr/bin/python3
"""Convergence plots from `adaswarm pgso bench --out DIR` (DIR/convergence.csv).

One figure per (function, dimension): mean best error (log scale) against fitness
evaluations for each algorithm. Usage:
  /usr/bin/python3 scripts/plot_pgso.py DIR [--out FIGDIR] [--functions rastrigin,ackley] [--dims 30]
"""
import argparse
import csv
import math
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="output folder of `adaswarm pgso bench`")
    ap.add_argument("--out", help="figure folder (default DIR/plots)")
    ap.add_argument("--functions", help="comma list (default: all in the file)")
    ap.add_argument("--dims", help="comma list (default: all in the file)")
    a = ap.parse_args()
    path = os.path.join(a.dir, "convergence.csv")
    if not os.path.exists(path):
        sys.exit(f"plot_pgso: error: {path} not found (run `adaswarm pgso bench --out {a.dir}` first)")
    want_f = set(a.functions.split(",")) if a.functions else None
    want_d = set(a.dims.split(",")) if a.dims else None
    series = defaultdict(lambda: defaultdict(list))
    with open(path, newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            try:
                if want_f and row["function"] not in want_f:
                    continue
                if want_d and row["dim"] not in want_d:
                    continue
                key = (row["function"], int(row["dim"]))
                series[key][row["algorithm"]].append((int(row["evaluations"]), float(row["mean_best_error"])))
            except (KeyError, ValueError) as e:
                sys.exit(f"plot_pgso: error: {path}:{line}: bad row ({e})")
    if not series:
        sys.exit("plot_pgso: error: nothing to plot (check --functions / --dims)")
    out = a.out or os.path.join(a.dir, "plots")
    os.makedirs(out, exist_ok=True)
    floor = 1e-300
    for (fn, d), algos in sorted(series.items()):
        fig, ax = plt.subplots(figsize=(6, 4))
        for algo, pts in sorted(algos.items()):
            xs = [p[0] for p in pts]
            ys = [max(p[1], floor) if math.isfinite(p[1]) else float("nan") for p in pts]
            ax.plot(xs, ys, label=algo.upper())
        ax.set_yscale("log")
        ax.set_xlabel("fitness evaluations")
        ax.set_ylabel("mean best error")
        ax.set_title(f"{fn}, D = {d}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        name = os.path.join(out, f"{fn}_D{d}.png")
        tmp = name + ".tmp.png"
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, name)
        plt.close(fig)
    print(f"wrote {len(series)} figures to {out}")


if __name__ == "__main__":
    main()
