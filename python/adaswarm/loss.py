"""The swarm loss as a torch.nn.Module."""
import torch

from . import _core


class SwarmLoss(torch.nn.Module):
    """A loss whose value is the ordinary loss and whose backward is the swarm's dL/dy.

    ``loss``: ``"mse"``, ``"mae"``, ``"bce"``, ``"bce-logits"``, ``"ce"``, ``"huber"``,
    ``"smooth-l1"``, ``"hinge"``, or a callable ``(positions [P, B, C], target) ->
    [P, B, C] or [P, B]`` losses (need not be differentiable; called under the GIL
    with a copy of the candidates, once per swarm iteration).

    ``preset``: ``"paper"`` (default), ``"reference"`` or ``"search"``.

    Keyword options use the C++ names (``SwarmLossOptions`` and ``SwarmOptions``):
    ``reduction`` (``"mean"``/``"sum"``), ``particles``, ``iterations``, ``c1``, ``c2``,
    ``beta``, ``eta``, ``seed``, ``start`` (``"auto"``, ``"targets"``, ``"output"``,
    ``"center"``, ``"previous"``), ``start_span``, ``span_scale``, ``bests``
    (``"batch"``, ``"row"``, ``"element"``), ``grad_scale`` (``"swarm"``, ``"unit"``,
    ``"row-clip"``), ``warm_start``, ``delta``, ``ideal_limit``,
    ``compare_with_autograd``, ``variant``, ``inertia``, ``momentum_lambda``,
    ``random_mode``, ``random_low``, ``store_momentum``, ``velocity_clamp``,
    ``start_noise``, ``reference_scale``, ``warn_blind_after``, ``tolerance``,
    ``stall_iterations``, ``stall_delta``, ``fitness_per_sample``,
    ``rotation_angle``, ``reference_rotation``. Unknown names raise ValueError.
    """

    def __init__(self, loss="mse", preset="paper", **options):
        super().__init__()
        self._impl = _core.SwarmLoss(loss, preset, options)

    @classmethod
    def _wrap(cls, impl):
        self = cls.__new__(cls)
        torch.nn.Module.__init__(self)
        self._impl = impl
        return self

    def forward(self, output, target):
        """Loss value (a 0-dim tensor); its backward gives ``output`` the swarm gradient."""
        return self._impl.forward(output, target)

    def set_center(self, center):
        """The centre of ``start="center"`` (a tensor of the output's shape; None clears it)."""
        self._impl.set_center(center)

    @property
    def options(self):
        """The resolved options (preset and keywords applied), as a dict with every
        keyword option's name (the loss kind under ``"loss"``; ``fitness_per_sample``,
        an older spelling of ``bests``, is not repeated)."""
        return self._impl.options

    @property
    def threads(self):
        """Threads the search may use (default 1): the batch's rows in slices, one
        swarm each, the same gradient bit for bit (C++ ``SwarmLoss::set_threads``;
        a Python callable loss always runs on one). ``diagnostics["threads"]`` says
        how many the last batch used. Setting a value below 1 raises ValueError."""
        return self._impl.threads

    @threads.setter
    def threads(self, n):
        self._impl.threads = n

    @property
    def diagnostics(self):
        """The last batch's search diagnostics (best fitness, cbar, blindness...), as a dict."""
        return self._impl.diagnostics

    def extra_repr(self):
        o = self.options
        return f"loss={o['loss']!r}, particles={o['particles']}, iterations={o['iterations']}, seed={o['seed']}"
