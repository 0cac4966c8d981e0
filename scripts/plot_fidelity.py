#!/usr/bin/python3
"""Plots from `adaswarm fidelity --out FILE.csv` (docs/fidelity.md).

For each source (mlp-uci, cnn-fmnist) at its last snapshot:
  FIG/fidelity-cosine-SOURCE.png   cosine with autograd's dL/dy per loss: the swarm
                                   (paper preset, targets / output start) and SPSA /
                                   Gaussian smoothing (whole batch, per row), at the
                                   fewest and at the most evaluations
  FIG/fidelity-evals-SOURCE.png    cosine against loss evaluations, one panel per loss
  FIG/fidelity-norm-SOURCE.png     norm ratio |estimate| / |autograd| of the swarm's
                                   gradient scales (swarm, unit, row-clip), log scale
Usage:
  /usr/bin/python3 scripts/plot_fidelity.py FILE.csv [--out FIGDIR]
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
import matplotlib.ticker  # noqa: E402

NUMERIC = ("snapshot_index", "span", "particles", "iterations", "evaluations", "zo_step", "n", "cosine_mean",
           "cosine_std", "norm_ratio_mean", "norm_ratio_std", "pull_cosine_mean", "moved_share_mean")


def read(path):
    rows = []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"source", "loss", "estimator", "cosine_mean"} - set(reader.fieldnames or [])
        if missing:
            sys.exit(f"plot_fidelity: error: {path} is not a fidelity CSV (missing {', '.join(sorted(missing))})")
        for line, row in enumerate(reader, start=2):
            try:
                for k in NUMERIC:
                    row[k] = float(row[k])
            except (KeyError, ValueError) as e:
                sys.exit(f"plot_fidelity: error: {path}:{line}: {e}")
            rows.append(row)
    if not rows:
        sys.exit(f"plot_fidelity: error: {path} has no rows")
    return rows


def swarm_default(r, start, gs="swarm"):
    return (r["estimator"] == "swarm" and r["preset"] == "paper" and r["start"] == start and r["span"] == 0
            and r["grad_scale"] == gs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", help="the CSV written by `adaswarm fidelity --out`")
    ap.add_argument("--out", help="figure folder (default: beside the CSV, in fidelity-plots/)")
    a = ap.parse_args()
    if not os.path.exists(a.csv):
        sys.exit(f"plot_fidelity: error: {a.csv} not found (run `adaswarm fidelity --out {a.csv}` first)")
    rows = read(a.csv)
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(a.csv)), "fidelity-plots")
    os.makedirs(out, exist_ok=True)
    written = []
    for source in sorted({r["source"] for r in rows}):
        src = [r for r in rows if r["source"] == source]
        last = max(r["snapshot_index"] for r in src)
        src = [r for r in src if r["snapshot_index"] == last]
        snap = src[0]["snapshot"]
        losses = list(dict.fromkeys(r["loss"] for r in src))
        pis = sorted({(r["particles"], r["iterations"]) for r in src}, key=lambda p: p[0] * (p[1] + 1))
        budgets = [pis[0]] if len(pis) == 1 else [pis[0], pis[-1]]

        # 1. cosine per loss and estimator
        series = [("swarm targets", lambda r: swarm_default(r, "targets")),
                  ("swarm output", lambda r: swarm_default(r, "output")),
                  ("spsa", lambda r: r["estimator"] == "spsa"), ("gauss", lambda r: r["estimator"] == "gauss"),
                  ("spsa-row", lambda r: r["estimator"] == "spsa-row"),
                  ("gauss-row", lambda r: r["estimator"] == "gauss-row")]
        fig, axes = plt.subplots(1, len(budgets), figsize=(6.5 * len(budgets), 4.2), squeeze=False)
        for ax, (P, I) in zip(axes[0], budgets):
            width = 0.8 / len(series)
            for si, (name, pick) in enumerate(series):
                xs, ys, es = [], [], []
                if not any(pick(r) for r in src):
                    continue
                for li, loss in enumerate(losses):
                    m = [r for r in src if r["loss"] == loss and r["particles"] == P and r["iterations"] == I and pick(r)]
                    if m and math.isfinite(m[0]["cosine_mean"]):
                        xs.append(li + (si - (len(series) - 1) / 2) * width)
                        ys.append(m[0]["cosine_mean"])
                        es.append(m[0]["cosine_std"])
                ax.bar(xs, ys, width, yerr=es, label=name, capsize=2)
            ax.axhline(0, color="black", lw=0.6)
            ax.set_xticks(range(len(losses)))
            ax.set_xticklabels(losses, rotation=30)
            ax.set_ylim(-1, 1)
            ax.set_ylabel("cosine with autograd's dL/dy")
            ax.set_title(f"{source}, {snap}: {int(P)} particles x {int(I)} iterations ({int(P * (I + 1))} evaluations)",
                         fontsize=9)
            ax.legend(fontsize=7)
        fig.tight_layout()
        p = os.path.join(out, f"fidelity-cosine-{source}.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        written.append(p)

        # 2. cosine against evaluations
        cols = min(4, len(losses))
        nrow = (len(losses) + cols - 1) // cols
        fig, axes = plt.subplots(nrow, cols, figsize=(3.6 * cols, 3.0 * nrow), squeeze=False)
        for li, loss in enumerate(losses):
            ax = axes[li // cols][li % cols]
            for name, pick in series:
                pts = sorted((r["evaluations"], r["cosine_mean"]) for r in src
                             if r["loss"] == loss and pick(r) and math.isfinite(r["cosine_mean"]))
                if pts:
                    ax.plot([x for x, _ in pts], [y for _, y in pts], "o-", ms=3, label=name)
            ax.set_xscale("log")
            ticks = sorted({r["evaluations"] for r in src if r["loss"] == loss and math.isfinite(r["evaluations"])})
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{t:.0f}" for t in ticks], fontsize=7)
            ax.set_ylim(-1, 1)
            ax.set_title(loss, fontsize=9)
            ax.set_xlabel("loss evaluations", fontsize=8)
            if li == 0:
                ax.legend(fontsize=6)
        for k in range(len(losses), nrow * cols):
            axes[k // cols][k % cols].axis("off")
        fig.suptitle(f"{source}, {snap}: cosine with autograd (paper preset for the swarm)", fontsize=10)
        fig.tight_layout()
        p = os.path.join(out, f"fidelity-evals-{source}.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        written.append(p)

        # 3. norm ratios of the gradient scales
        fig, ax = plt.subplots(figsize=(7, 4))
        scales = [g for g in ("swarm", "unit", "row-clip") if any(r["grad_scale"] == g for r in src)]
        P, I = pis[0]
        width = 0.8 / max(1, 2 * len(scales))
        k = 0
        for start in ("targets", "output"):
            for gs in scales:
                xs, ys = [], []
                for li, loss in enumerate(losses):
                    m = [r for r in src if r["loss"] == loss and r["particles"] == P and r["iterations"] == I
                         and swarm_default(r, start, gs)]
                    if m and math.isfinite(m[0]["norm_ratio_mean"]) and m[0]["norm_ratio_mean"] > 0:
                        xs.append(li + (k - (2 * len(scales) - 1) / 2) * width)
                        ys.append(m[0]["norm_ratio_mean"])
                ax.bar(xs, ys, width, label=f"{start} / {gs}")
                k += 1
        ax.axhline(1, color="black", lw=0.6)
        ax.set_yscale("log")
        ax.set_xticks(range(len(losses)))
        ax.set_xticklabels(losses, rotation=30)
        ax.set_ylabel("|swarm dL/dy| / |autograd dL/dy|")
        ax.set_title(f"{source}, {snap}: norm ratio by gradient scale (paper preset, {int(P)} x {int(I)})", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        p = os.path.join(out, f"fidelity-norm-{source}.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        written.append(p)
    for p in written:
        print(p)


if __name__ == "__main__":
    main()
