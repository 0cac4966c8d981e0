#!/usr/bin/env python3
"""Markdown tables of an `adaswarm usecases` run, as docs/usecases.md shows them.

    scripts/usecases_markdown.py OUT/usecases.json > tables.md

Prints three tables: the true error per task and arm (mean +- std over the
seeds), the verdicts with paired counts and ratios, and the swarm arms'
moved / blind shares. Standard library only.
"""
import json
import sys

ARMS = ["adam", "surrogate", "adaswarm", "adaswarm-targets", "adaswarm-search", "constant", "spsa", "ideal"]
SWARM_ARMS = ["adaswarm", "adaswarm-targets", "adaswarm-search", "constant"]
OPPONENTS = ["adam", "surrogate", "spsa", "constant"]


def g3(v):
    return f"{v:.3g}"


def cell(text):
    return text.replace("|", "\\|")


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path = argv[1]
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        rows, verdicts, tasks = doc["rows"], doc["verdicts"], doc["tasks"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"usecases_markdown: {path}: not a usecases.json ({e})", file=sys.stderr)
        return 1
    by = {(r["task"], r["arm"]): r for r in rows}
    order = [t["key"] for t in tasks]
    names = {t["key"]: t["error"] for t in tasks}
    s = doc.get("settings", {})
    print(f"<!-- {s.get('fingerprint', '?')}, seeds {s.get('first_seed', '?')}.. x {s.get('seeds', '?')} -->")
    print()
    print("| task (error) | untrained | " + " | ".join(ARMS) + " |")
    print("|---" * (len(ARMS) + 2) + "|")
    for t in order:
        arms = [by.get((t, a)) for a in ARMS]
        first = next(r for r in arms if r)
        cells = [f"`{t}` ({cell(names[t])})", g3(first["untrained"]["mean"])]
        for r in arms:
            cells.append(f"{g3(r['error']['mean'])} ± {g3(r['error']['std'])}" if r else "—")
        print("| " + " | ".join(cells) + " |")
    print()
    print("| task | swarm arm | verdict | " + " | ".join(f"vs {o}" for o in OPPONENTS) + " |")
    print("|---" * (len(OPPONENTS) + 3) + "|")
    for t in order:
        for v in sorted((v for v in verdicts if v["task"] == t), key=lambda v: v["swarm_arm"]):
            vs = {x["opponent"]: x for x in v["versus"]}
            win = v["text"].startswith("win")
            cells = [f"`{t}`", v["swarm_arm"], "**win**" if win else "not shown"]
            for o in OPPONENTS:
                x = vs.get(o)
                cells.append(f"{x['better']}/{x['paired']}, {g3(x['ratio'])}x" if x else "—")
            print("| " + " | ".join(cells) + " |")
    print()
    print("| task | " + " | ".join(f"{a} moved / blind" for a in SWARM_ARMS) + " |")
    print("|---" * (len(SWARM_ARMS) + 1) + "|")
    for t in order:
        cells = [f"`{t}`"]
        for a in SWARM_ARMS:
            r = by.get((t, a))
            if not r or r.get("moved_share") is None:
                cells.append("—")
            else:
                cells.append(f"{100 * r['moved_share']:.0f} % / {100 * r['blind_share']:.0f} %")
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
