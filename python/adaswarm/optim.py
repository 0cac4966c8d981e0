"""AdaSwarm as a torch.optim.Optimizer backed by adaswarm::optim::AdaSwarm."""
import numbers

import torch

from . import _core
from .loss import SwarmLoss

_HYPER = ("lr", "betas", "eps", "weight_decay", "amsgrad")


def _real(value, name):
    """A hyper-parameter as float: a real number (a 0-dim tensor too), never a bool or a string."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex():
        return float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"AdaSwarm: {name} must be a number, got {value!r}")
    return float(value)


def _group_options(group):
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"AdaSwarm: betas must be a pair of numbers, got {betas!r}")
    if not isinstance(group["amsgrad"], bool):
        raise ValueError(f"AdaSwarm: amsgrad must be True or False, got {group['amsgrad']!r}")
    return _core.GroupOptions(_real(group["lr"], "lr"), _real(betas[0], "betas[0]"), _real(betas[1], "betas[1]"),
                              _real(group["eps"], "eps"), _real(group["weight_decay"], "weight_decay"),
                              group["amsgrad"])


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
        self._registered = [tuple(g["params"]) for g in self.param_groups]
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
            self._registered.append(tuple(group["params"]))

    def loss(self):
        """The swarm loss paired with this optimizer (shares its generator and state)."""
        return self._loss

    def _sync(self):
        # The C++ optimizer holds each group's parameters from when the group was
        # added; a list changed in place since would not be stepped (torch.optim
        # re-reads it), so it is refused rather than ignored.
        if len(self.param_groups) != len(self._registered):
            raise ValueError(f"AdaSwarm: {len(self.param_groups)} param groups, {len(self._registered)} were added; "
                             "add groups with add_param_group")
        for i, (group, reg) in enumerate(zip(self.param_groups, self._registered)):
            params = group["params"]
            if len(params) != len(reg) or any(a is not b for a, b in zip(params, reg)):
                raise ValueError(f"AdaSwarm: the parameters of param group {i} changed after the group was added; "
                                 "put new parameters in a new group with add_param_group")
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
        # All or nothing: if either half fails, both are put back as they were.
        before_py = super().state_dict()
        before_cpp = self._impl.state_bytes()
        try:
            super().load_state_dict(rest)
            self._impl.load_state_bytes(bytes(blob))
            self._sync()
        except Exception:
            super().load_state_dict(before_py)
            self._impl.load_state_bytes(before_cpp)
            self._sync()
            raise

    def __getstate__(self):
        raise TypeError("adaswarm.AdaSwarm cannot be pickled; save state_dict() instead")
