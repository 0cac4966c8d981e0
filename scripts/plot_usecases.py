#!/usr/bin/python3
"""Plots an `adaswarm usecases` run (docs/usecases.md).

    scripts/plot_usecases.py [OUT_DIR] [--to DIR]

OUT_DIR (default ./usecases) holds runs.jsonl and fields/ from the run. Writes
  errors_TASK.png   every arm's true error per seed (dots) and mean (bar), log scale
  fields_TASK.png   tasks with a grid (unwrap, tof): the true field, each arm's
                    prediction on the first seed and its error map
into --to (default OUT_DIR/plots). Needs Debian's python3-matplotlib.
"""
import argparse
import csv
import glob
import json
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ARM_ORDER = ["adam", "surrogate", "adaswarm", "adaswarm-targets", "adaswarm-search", "constant", "spsa", "ideal"]


def read_runs(path):
    runs = defaultdict(lambda: defaultdict(dict))  # task -> arm -> seed -> error
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line
            runs[r["task"]][r["arm"]][r["seed"]] = r["error"]
    return runs


def plot_errors(task, arms, out):
    names = [a for a in ARM_ORDER if a in arms]
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2, 3.6))
    for i, a in enumerate(names):
        vals = [arms[a][s] for s in sorted(arms[a])]
        mean = sum(vals) / len(vals)
        colour = "tab:red" if a.startswith("adaswarm") else ("tab:grey" if a in ("constant", "ideal") else "tab:blue")
        ax.bar(i, mean, color=colour, alpha=0.35)
        ax.plot([i] * len(vals), vals, "o", color=colour, ms=4)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("true error (test)")
    ax.set_title(f"{task}: error per arm (dots: seeds, bar: mean)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def read_field(path):
    rows = list(csv.DictReader(open(path)))
    h = max(int(r["row"]) for r in rows) + 1
    w = max(int(r["col"]) for r in rows) + 1
    truth = [[0.0] * w for _ in range(h)]
    pred = [[0.0] * w for _ in range(h)]
    for r in rows:
        i, j = int(r["row"]), int(r["col"])
        truth[i][j] = float(r["truth"])
        pred[i][j] = float(r["pred"])
    return truth, pred


def plot_fields(task, files, out):
    arms = [a for a in ARM_ORDER if a in files]
    if not arms:
        return
    truth, _ = read_field(files[arms[0]])
    lo = min(min(r) for r in truth)
    hi = max(max(r) for r in truth)
    fig, axes = plt.subplots(2, len(arms) + 1, figsize=(2.6 * (len(arms) + 1), 5.4), squeeze=False)
    im = axes[0][0].imshow(truth, vmin=lo, vmax=hi, cmap="viridis")
    axes[0][0].set_title("true field")
    fig.colorbar(im, ax=axes[0][0], fraction=0.046)
    axes[1][0].axis("off")
    span = hi - lo
    for k, a in enumerate(arms, start=1):
        _, pred = read_field(files[a])
        err = [[p - t for p, t in zip(pr, tr)] for pr, tr in zip(pred, truth)]
        rmse = (sum(e * e for row in err for e in row) / sum(len(row) for row in err)) ** 0.5
        axes[0][k].imshow(pred, vmin=lo, vmax=hi, cmap="viridis")
        axes[0][k].set_title(f"{a}")
        im2 = axes[1][k].imshow(err, vmin=-span / 2, vmax=span / 2, cmap="RdBu_r")
        axes[1][k].set_title(f"error, RMSE {rmse:.3g}")
        fig.colorbar(im2, ax=axes[1][k], fraction=0.046)
    for row in axes:
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"{task}: prediction (top) and error map (bottom), first seed")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out_dir", nargs="?", default="usecases")
    p.add_argument("--to", default=None, help="folder for the PNGs (default OUT_DIR/plots)")
    a = p.parse_args()
    runs_path = os.path.join(a.out_dir, "runs.jsonl")
    if not os.path.exists(runs_path):
        sys.exit(f"plot_usecases.py: no {runs_path}; run `adaswarm usecases --out {a.out_dir}` first")
    to = a.to or os.path.join(a.out_dir, "plots")
    os.makedirs(to, exist_ok=True)
    written = []
    for task, arms in sorted(read_runs(runs_path).items()):
        path = os.path.join(to, f"errors_{task}.png")
        plot_errors(task, arms, path)
        written.append(path)
    fields = defaultdict(dict)
    for f in glob.glob(os.path.join(a.out_dir, "fields", "*.csv")):
        base = os.path.basename(f)[:-4]
        for arm in sorted(ARM_ORDER, key=len, reverse=True):
            if base.endswith("_" + arm):
                fields[base[: -len(arm) - 1]][arm] = f
                break
    for task, files in sorted(fields.items()):
        path = os.path.join(to, f"fields_{task}.png")
        plot_fields(task, files, path)
        written.append(path)
    print("\n".join(written))


if __name__ == "__main__":
    main()
