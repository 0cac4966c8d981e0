#!/usr/bin/env python3
"""Plot the AdaSwarm paper's Fig. 1 (true vs approximate gradient) from the CSV
written by `adaswarm functions --fig1 FILE.csv`.

Usage: python3 scripts/plot_fig1.py FILE.csv [--out fig1.png] [--dpi 80]
Needs matplotlib (Debian: apt-get install python3-matplotlib).
Writes one PNG with two rows of four panels: (a) the four smooth functions of
Tables I-II, (b) the four non-differentiable functions of Table III.
"""
import argparse
import csv
import math
import os
import sys
import tempfile

SMOOTH = ["poly10", "cubic", "expcos", "poly15"]
NONSMOOTH = ["sqrt", "abs", "cbrt-sin", "piecewise"]
TITLES = {
    "poly10": r"$-(3x^5 - x^{10})$",
    "cubic": r"$x^3 - 3x^2 + 7$",
    "expcos": r"$-e^{\cos x^2} + x^2$",
    "poly15": r"$x^{15} - \sin x + e^{x^6}$",
    "sqrt": r"$\sqrt{x}$",
    "abs": r"$|x|$",
    "cbrt-sin": r"$x^{1/3} + \sin x$ ($x>0$), 0",
    "piecewise": r"$x$ ($x>0$), $x^2$ ($x<0$)",
}


def read(path):
    data = {}
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"function", "x", "true_gradient", "approx_gradient"}
        if not need.issubset(reader.fieldnames or []):
            sys.exit(f"{path}: expected columns {sorted(need)}, got {reader.fieldnames}")
        for row in reader:
            d = data.setdefault(row["function"], ([], [], []))
            d[0].append(float(row["x"]))
            d[1].append(float(row["true_gradient"]))  # 'nan' where no gradient exists
            d[2].append(float(row["approx_gradient"]))
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--out", default="fig1.png")
    ap.add_argument("--dpi", type=int, default=80)
    ap.add_argument("--clip", type=float, default=30.0,
                    help="clip the y axis to +-CLIP (true gradients explode at the interval ends)")
    args = ap.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        # Debian's python3-matplotlib lives in /usr/bin/python3; another python3
        # (pyenv, venv) first on PATH does not see it: re-run under Debian's.
        debian = "/usr/bin/python3"
        if os.path.exists(debian) and os.path.realpath(sys.executable) != os.path.realpath(debian) \
                and not os.environ.get("PLOT_FIG1_REEXEC"):
            os.environ["PLOT_FIG1_REEXEC"] = "1"
            os.execv(debian, [debian] + sys.argv)
        sys.exit("matplotlib is missing: apt-get install -y python3-matplotlib")

    data = read(args.csv)
    fig, axes = plt.subplots(2, 4, figsize=(14, 6.5))
    for r, (keys, label) in enumerate([(SMOOTH, "(a) differentiable"), (NONSMOOTH, "(b) non-differentiable")]):
        for c, key in enumerate(keys):
            ax = axes[r][c]
            if key not in data:
                ax.set_visible(False)
                continue
            x, tg, ag = data[key]
            ax.plot(x, tg, "-", color="tab:blue", lw=1.6, label="true gradient")
            ax.plot(x, ag, ".", color="tab:red", ms=3.5, label="approximate (cbar/eta)(x-g)")
            ax.axhline(0, color="0.6", lw=0.6)
            finite = [abs(v) for v in tg + ag if not math.isnan(v)]
            lim = min(args.clip, 1.1 * max(finite)) if finite else args.clip
            ax.set_ylim(-lim, lim)
            ax.set_title(TITLES.get(key, key), fontsize=10)
            ax.set_xlabel("x")
            if c == 0:
                ax.set_ylabel(label + "\ngradient")
    axes[0][0].legend(fontsize=8, loc="best")
    fig.suptitle("Fig. 1 (AdaSwarm paper): true vs EMPSO-approximate gradient (eta 0.1, c1 0.8, c2 0.9, beta 0.9)")
    fig.tight_layout()
    # Atomic write: temp file in the target folder, then rename.
    out_dir = os.path.dirname(os.path.abspath(args.out))
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=out_dir)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=args.dpi)
        os.chmod(tmp, 0o644)
        os.replace(tmp, args.out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
