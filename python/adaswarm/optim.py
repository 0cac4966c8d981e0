"""AdaSwarm as a torch.optim.Optimizer backed by adaswarm::optim::AdaSwarm."""
import torch

from . import _core
from .loss import SwarmLoss

_HYPER = ("lr", "betas", "eps", "weight_decay", "amsgrad")


def _group_options(group):
    b1, b2 = group["betas"]
    return _core.GroupOptions(float(group["lr"]), float(b1), float(b2), float(group["eps"]),
                              float(group["weight_decay"]), bool(group["amsgrad"]))


def _swarm_spec(swarm):
    """(loss, preset, options) from ``swarm=``: None, a loss name, a callable or a dict."""
    if swarm is None:
        return "mse", "paper", {}
    if isinstance(swarm, str) or callable(swarm):
        return swarm, "paper", {}
    if isinstance(swarm, dict):
        opts = dict(swarm)
        return opts.pop("loss", "mse"), opts.pop("preset", "paper"), opts
    raise TypeError("AdaSwarm: swarm must be None, a loss name, a callable or a dict of SwarmLoss arguments, "
                    f"got {type(swarm).__name__}")


class AdaSwarm(torch.optim.Optimizer):
    """Adam's update rule on the gradients of the paired swarm loss (``loss()``).

    The step runs in C++ (``adaswarm::optim::AdaSwarm``) on the parameters
    themselves; param groups, lr schedulers (``param_groups[i]["lr"]`` is read
    before every step), ``zero_grad``, ``step(closure)`` and ``state_dict`` /
    ``load_state_dict`` behave as for ``torch.optim.Adam``.

    ``swarm``: the paired loss, as ``SwarmLoss``'s arguments: a loss name, a
    callable, or a dict such as ``{"loss": "mae", "preset": "paper", "particles": 10}``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, swarm=None):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        self._impl = None
        super().__init__(params, defaults)
        loss, preset, options = _swarm_spec(swarm)
        first = self.param_groups[0]
        self._impl = _core.AdaSwarm(list(first["params"]), _group_options(first), loss, preset, options)
        for group in self.param_groups[1:]:
            self._impl.add_param_group(list(group["params"]), _group_options(group))
        self._loss = SwarmLoss._wrap(self._impl.loss())

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        if self._impl is not None:
            group = self.param_groups[-1]
            try:
                self._impl.add_param_group(list(group["params"]), _group_options(group))
            except Exception:
                self.param_groups.pop()
                raise

    def loss(self):
        """The swarm loss paired with this optimizer (shares its generator and state)."""
        return self._loss

    def _sync(self):
        self._impl.sync([_group_options(g) for g in self.param_groups])

    def step(self, closure=None):
        """One Adam step on the gradients in ``.grad`` (closure: re-evaluates and returns the loss)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._sync()
        self._impl.step()
        return loss

    def param_state(self, param):
        """Adam's state of ``param`` in C++ (``step``, ``exp_avg``, ``exp_avg_sq``: the tensors
        themselves), or None before its first step."""
        return self._impl.param_state(param)

    def state_dict(self):
        """Param groups (as torch.optim) plus ``"adaswarm"``: the C++ state (Adam moments,
        steps, the swarm's generator) as the bytes of a torch::serialize archive."""
        sd = super().state_dict()
        sd["adaswarm"] = self._impl.state_bytes()
        return sd

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict) or "adaswarm" not in state_dict:
            raise ValueError("AdaSwarm.load_state_dict: not an adaswarm.AdaSwarm state dict (no 'adaswarm' entry)")
        blob = state_dict["adaswarm"]
        rest = {k: v for k, v in state_dict.items() if k != "adaswarm"}
        super().load_state_dict(rest)
        self._impl.load_state_bytes(bytes(blob))
        self._sync()

    def __getstate__(self):
        raise TypeError("adaswarm.AdaSwarm cannot be pickled; save state_dict() instead")
