"""`cmake --install` puts an importable package under <prefix>/lib/python3/dist-packages
(the `python` component alone here: the rest of the project need not be built)."""
import os
import subprocess
import sys

import pytest


def test_installed_package_imports_and_runs(tmp_path):
    build, cmake = os.environ.get("ADASWARM_BUILD_DIR"), os.environ.get("ADASWARM_CMAKE")
    if not build or not cmake:
        pytest.skip("ADASWARM_BUILD_DIR / ADASWARM_CMAKE not set (run through ctest)")
    prefix = tmp_path / "prefix"
    subprocess.run([cmake, "--install", build, "--component", "python", "--prefix", str(prefix)], check=True, capture_output=True)
    site = prefix / "lib" / "python3" / "dist-packages"
    assert (site / "adaswarm" / "__init__.py").exists()
    code = ("import adaswarm, torch; "
            "assert adaswarm.__file__.startswith(%r), adaswarm.__file__; "
            "r = adaswarm.pgso.minimize('sphere', dim=3, seed=0, iterations=100); assert r.fun < 1e-6; "
            "y = torch.randn(4, 3, requires_grad=True); adaswarm.SwarmLoss('mae')(y, torch.zeros(4, 3)).backward(); "
            "assert y.grad.abs().sum() > 0; print('ok')" % str(site))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
