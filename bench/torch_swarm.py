"""The swarm loss's search (SPEC.md sections 1 and 3) written in PyTorch ops:
our own port, shared by bench/adaswarm_py_bench.py and
bench/swarm_loss_py_bench.py as their in-machine Python baseline.

EMPSO over candidate outputs x of shape [P, B, C] (P particles): momentum
m = beta m + (1 - beta) v, velocity v = m + c1 r1 (pbest - x) + c2 r2 (g - x),
one r1, r2 per particle and iteration; bests are kept per entry of the fitness,
so fit(x) of shape [P, B] keeps one best per row, [P, B, C] one per element.
"""
import torch


def empso(x, fit, iters, gen, c1=0.8, c2=0.9, beta=0.9):
    """Runs `iters` EMPSO iterations from the candidates x; returns (g, cbar):
    the best candidate per row or element, shape [B, C], and the mean of
    c1 r1 + c2 r2 over the particles in the last iteration."""
    P = x.shape[0]

    def widen(t):  # a [P, B] mask or index broadcast to x's [P, B, C]
        while t.dim() < x.dim():
            t = t.unsqueeze(-1)
        return t

    def swarm_best(pbest, pf):
        idx = widen(pf.argmin(0, keepdim=True)).expand(1, *x.shape[1:])
        return pbest.gather(0, idx)[0]

    v = torch.zeros_like(x)
    m = torch.zeros_like(x)
    pf = fit(x)
    pbest = x.clone()
    g = swarm_best(pbest, pf)
    cbar = 0.0
    for _ in range(iters):
        r1 = torch.rand((P, 1, 1), generator=gen)
        r2 = torch.rand((P, 1, 1), generator=gen)
        m = beta * m + (1 - beta) * v
        v = m + c1 * r1 * (pbest - x) + c2 * r2 * (g.unsqueeze(0) - x)
        x = x + v
        f = fit(x)
        better = f < pf
        pf = torch.where(better, f, pf)
        pbest = torch.where(widen(better), x, pbest)
        g = swarm_best(pbest, pf)
        cbar = float((c1 * r1 + c2 * r2).mean())
    return g, cbar
