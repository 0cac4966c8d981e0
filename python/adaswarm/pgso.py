"""PSO, GSO and PGSO (adaswarm/pgso/gso.h) on benchmark functions or Python functions."""
import numbers
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import torch

from . import _core


@dataclass
class MinimizeResult:
    x: torch.Tensor          #: best point found, float64 [dim]
    fun: float               #: its value
    evaluations: int         #: fitness evaluations (one per particle per iteration)
    seconds: float           #: wall time of the C++ run
    algorithm: str
    log: List[Tuple[int, int, float, int]] = field(default_factory=list)  #: (iteration, evaluations, best, stage)
    exchanges: Optional[int] = None            #: PGSO: galactic exchanges made
    exchange_iteration: Optional[int] = None
    exchange_source: Optional[int] = None
    stage1_best: Optional[float] = None
    stage2_evaluations: Optional[int] = None


def minimize(fn, dim, bounds=None, algorithm="pgso", seed=0, threads=0, **options):
    """Minimise ``fn`` over a box.

    ``fn``: a benchmark name (``function_names()``, or ``"rotated_<name>"`` /
    ``"shifted_rotated_<name>"``), whose paper bounds are used unless ``bounds``
    is given; or a callable taking all particles at once, a float64 tensor
    [P, dim], and returning P values (called under the GIL, so a PGSO's
    subswarms take turns in it).

    ``bounds``: ``(lower, upper)``, each a number or ``dim`` numbers.
    ``algorithm``: ``"pgso"`` (default), ``"gso"`` or ``"pso"``. ``threads``: PGSO's
    OpenMP threads (0: all cores); results are bit-identical for any count.
    ``options``: the C++ option names of the algorithm (pgso: ``subswarms``,
    ``particles``, ``iterations``, ``stage2_iterations``, ``inertia``, ``c1``, ``c2``,
    ``exchange_iteration``, ``exchange``; gso: ``epochs``, ``level1_iterations``,
    ``level2_iterations``, ``particles``, ``subswarms``, ``random_low``; pso:
    ``particles``, ``iterations``, ``inertia``, ``c1``, ``c2``; all: ``log_every``).
    """
    if isinstance(bounds, tuple) and len(bounds) == 2:
        bounds = tuple(b.tolist() if isinstance(b, torch.Tensor) else b for b in bounds)
    for name, value in (("seed", seed), ("threads", threads)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"minimize: {name} must be an integer, got {value!r}")
    r = _core.minimize(fn, dim, bounds, algorithm, int(seed), int(threads), options)
    return MinimizeResult(**r)


def function_names():
    """The 12 base benchmark functions."""
    return list(_core.function_names())


def function_info(name, dim):
    """Bounds, known minimum and a minimiser of a benchmark function at ``dim``."""
    return _core.function_info(name, dim)


def evaluate(name, x):
    """A benchmark function on a [P, D] batch (float64 result [P])."""
    return _core.evaluate_function(name, x)
