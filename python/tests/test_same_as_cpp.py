"""The Python bindings compute exactly what the C++ API computes (bit for bit)."""
import pytest
import torch
import torch.nn.functional as F

import adaswarm
from conftest import pattern


def bits(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


@pytest.mark.parametrize("loss,seed", [("mse", 0), ("mae", 5), ("ce", 11), ("custom", 2)])
def test_swarm_gradient_is_the_cpp_one(reference, loss, seed):
    ref = reference("grad", loss, seed)
    if loss == "custom":
        fn = adaswarm.SwarmLoss(lambda pos, t: (pos - t.unsqueeze(0)).abs(), preset="paper", seed=seed)
    else:
        fn = adaswarm.SwarmLoss(loss, preset="paper", seed=seed)
    target = torch.arange(12) % 3 if loss == "ce" else pattern(36, 3, 11, 4.0, (12, 3))
    got = []
    for call in range(2):  # the second call checks that the generator advanced the same way
        y = pattern(36, 5 + call, 17, 8.0, (12, 3)).requires_grad_(True)
        value = fn(y, target)
        value.backward()
        got += [("value", bits(value)), ("grad", bits(y.grad))]
    assert got == ref
    # and the gradient is not the autograd one (the swarm's, not a fallback)
    if loss == "mse":
        y = pattern(36, 6, 17, 8.0, (12, 3)).requires_grad_(True)
        F.mse_loss(y, target).backward()
        assert bits(y.grad) != ref[3][1]


def test_training_is_the_cpp_one(reference):
    steps = 25
    ref = dict(reference("train", steps))
    w1 = pattern(40, 7, 13, 16.0, (10, 4)).requires_grad_(True)
    b1 = pattern(10, 5, 7, 32.0, (10,)).requires_grad_(True)
    w2 = pattern(30, 11, 17, 16.0, (3, 10)).requires_grad_(True)
    b2 = pattern(3, 3, 5, 32.0, (3,)).requires_grad_(True)
    x = pattern(120, 13, 23, 8.0, (30, 4))
    y = torch.arange(30) % 3
    opt = adaswarm.AdaSwarm([{"params": [w1, b1]}, {"params": [w2, b2], "lr": 0.02}], lr=0.01,
                            swarm={"loss": "ce", "preset": "paper", "seed": 3})
    loss_fn = opt.loss()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(F.linear(F.linear(x, w1, b1).relu(), w2, b2), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses == ref["loss"]
    for name, t in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)):
        assert bits(t) == ref[name], name
    assert losses[-1] < losses[0]
