#!/usr/bin/env python3
"""Digest of an `adaswarm tables` run (docs/uci-tables.md): per table, the mean over the data
sets of each optimizer's test accuracy, training running average and the paper's accuracy; how
many sets are within 3 points of the paper; pairwise comparisons of columns per data set.

Usage: scripts/uci_digest.py OUT_DIR/tables.json

"Within 2 standard errors": |mean_a - mean_b| < max(2 * max(std_a, std_b) / sqrt(n), 0.1).
Standard library only.
"""
import json
import math
import sys
from collections import defaultdict

PAIRS = [("adaswarm", "adam"), ("adaswarm", "adam-ideal"), ("adam-ideal", "adam"), ("sgd-swarm", "sgd")]
ORDER = ["sgd", "sgd-swarm", "adagrad", "adadelta", "rmsprop", "amsgrad", "adam", "adaswarm", "adam-ideal"]


def main(path):
    doc = json.load(open(path))
    rows = defaultdict(dict)  # loss -> (optimizer, dataset) -> row
    for r in doc["rows"]:
        rows[r["loss"]][(r["optimizer"], r["dataset"])] = r
    s = doc["settings"]
    print(f"settings: {s['seeds']} seeds, {s['epochs']} epochs, batch {s['batch_size']}, "
          f"standardize {s['standardize']}, lr {s['lr']}")
    for loss in ("mse", "mae", "bce"):
        if loss not in rows:
            continue
        table = rows[loss]
        opts = [o for o in ORDER if any(k[0] == o for k in table)]
        sets = sorted({k[1] for k in table})
        print(f"\n### {loss.upper()}")
        print("| optimizer | mean test acc % | mean train acc % (run. avg) | mean paper acc % "
              "| sets within 3 points of the paper (test / train) |")
        print("|---|---|---|---|---|")
        for o in opts:
            rs = [table[(o, d)] for d in sets if (o, d) in table]
            test = sum(r["test_acc"]["mean"] for r in rs) / len(rs)
            train = sum(r["train_acc_running_avg"]["mean"] for r in rs) / len(rs)
            paper = [r["paper"]["acc"] for r in rs if r.get("paper") and r["paper"].get("acc") is not None]
            if paper:
                near_test = sum(1 for r in rs if r.get("paper") and r["paper"].get("acc") is not None
                                and abs(r["test_acc"]["mean"] - r["paper"]["acc"]) <= 3)
                near_train = sum(1 for r in rs if r.get("paper") and r["paper"].get("acc") is not None
                                 and abs(r["train_acc_running_avg"]["mean"] - r["paper"]["acc"]) <= 3)
                print(f"| {o} | {test:.2f} | {train:.2f} | {sum(paper) / len(paper):.2f} "
                      f"| {near_test} / {near_train} of {len(rs)} |")
            else:
                print(f"| {o} | {test:.2f} | {train:.2f} | - | - / - of {len(rs)} |")
        for a, b in PAIRS:
            if not any(k[0] == a for k in table) or not any(k[0] == b for k in table):
                continue
            better = tie = worse = 0
            for d in sets:
                ra, rb = table[(a, d)]["test_acc"], table[(b, d)]["test_acc"]
                tol = max(2 * max(ra["std"], rb["std"]) / math.sqrt(max(ra["n"], 1)), 0.1)
                gap = ra["mean"] - rb["mean"]
                if abs(gap) < tol:
                    tie += 1
                elif gap > 0:
                    better += 1
                else:
                    worse += 1
            print(f"- {a} vs {b} (test acc, per data set): better on {better}, within 2 standard errors "
                  f"on {tie}, worse on {worse}")
        pa = [(table[("adaswarm", d)].get("paper") or {}, table[("adam", d)].get("paper") or {})
              for d in sets if ("adaswarm", d) in table and ("adam", d) in table]
        pa = [(x["acc"], y["acc"]) for x, y in pa if x.get("acc") is not None and y.get("acc") is not None]
        if pa:
            print(f"- the paper: AdaSwarm >= Adam on {sum(1 for x, y in pa if x >= y)} of {len(pa)} sets")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: scripts/uci_digest.py OUT_DIR/tables.json")
    main(sys.argv[1])
