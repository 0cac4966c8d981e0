import os
import subprocess

import pytest
import torch

# tests/reference.cpp runs LibTorch on one thread; so do the tests (same reduction order).
torch.set_num_threads(1)


def pattern(n, a, m, d, shape):
    """((k * a) mod m - m // 2) / d as float32: the inputs of tests/reference.cpp (exact)."""
    return torch.tensor([((k * a) % m - m // 2) / d for k in range(n)], dtype=torch.float32).reshape(shape)


@pytest.fixture(scope="session")
def reference():
    """Runs adaswarm_py_reference (the same computation through the C++ API) and parses its lines."""
    exe = os.environ.get("ADASWARM_PY_REFERENCE")
    if not exe or not os.path.exists(exe):
        pytest.skip("ADASWARM_PY_REFERENCE not set (run through ctest)")

    def run(*args):
        out = subprocess.run([exe, *map(str, args)], check=True, capture_output=True, text=True).stdout
        rows = []
        for line in out.splitlines():
            name, *vals = line.split()
            rows.append((name, [float.fromhex(v) for v in vals]))
        return rows

    return run


@pytest.fixture(scope="session")
def iris():
    """Iris from the project's data directory, standardised: x [150, 4] float32, y [150] int64."""
    root = os.environ.get("ADASWARM_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "data"))
    path = os.path.join(root, "uci", "iris", "iris.csv")
    if not os.path.exists(path):
        pytest.skip(f"no {path}")
    xs, ys, names = [], [], {}
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) != 5:
                continue
            xs.append([float(v) for v in parts[:4]])
            ys.append(names.setdefault(parts[4], len(names)))
    x = torch.tensor(xs, dtype=torch.float32)
    x = (x - x.mean(0)) / x.std(0)
    return x, torch.tensor(ys, dtype=torch.long)
