"""adaswarm: swarm optimisers for PyTorch, on the C++ kernels of the adaswarm library.

- ``SwarmLoss``: a loss whose backward is the EMPSO swarm's approximation of dL/dy.
- ``AdaSwarm``: a ``torch.optim.Optimizer`` (Adam's rule on the swarm gradients),
  stepping through the C++ optimizer on the very same tensors.
- ``adaswarm.pgso.minimize``: PSO / GSO / PGSO on benchmark functions or any
  batched Python function.

See docs/python.md of the project for what is shared with the C++ library.
"""
import torch  # noqa: F401  (loads LibTorch and its Python part before the bindings)

from . import _core
from .loss import SwarmLoss
from .optim import AdaSwarm
from . import pgso

__all__ = ["SwarmLoss", "AdaSwarm", "pgso"]
__version__ = "0.1.0"
