"""adaswarm: swarm optimisers for PyTorch, on the C++ kernels of the adaswarm library.

- ``SwarmLoss``: a loss whose backward is the EMPSO swarm's approximation of dL/dy.
- ``AdaSwarm``: a ``torch.optim.Optimizer`` (Adam's rule on the swarm gradients),
  stepping through the C++ optimizer on the very same tensors.
- ``adaswarm.pgso.minimize``: PSO / GSO / PGSO on benchmark functions or any
  batched Python function.

See docs/python.md of the project for what is shared with the C++ library.
"""
import torch  # loads LibTorch and its Python part before the bindings

from ._build_info import TORCH_VERSION as _BUILT_WITH


def _major_minor(v):
    return tuple(v.split("+")[0].split(".")[:2])


if _major_minor(torch.__version__) != _major_minor(_BUILT_WITH):
    raise ImportError(f"adaswarm was built against LibTorch {_BUILT_WITH}, but this python imports torch "
                      f"{torch.__version__} from {torch.__file__}: use the python whose torch is that LibTorch "
                      "(Debian: /usr/bin/python3 with python3-torch), or rebuild adaswarm against this torch")

from . import _core  # noqa: E402
from .loss import SwarmLoss
from .optim import AdaSwarm
from . import pgso

__all__ = ["SwarmLoss", "AdaSwarm", "pgso"]
__version__ = "0.1.0"
