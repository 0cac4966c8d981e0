"""adaswarm.SwarmLoss from Python: values, the swarm backward, custom losses, errors."""
import pytest
import torch
import torch.nn.functional as F

import adaswarm


def test_value_is_the_plain_loss_and_backward_is_the_swarms():
    torch.manual_seed(0)
    y = torch.randn(16, 3, requires_grad=True)
    t = torch.randn(16, 3)
    fn = adaswarm.SwarmLoss("mse", seed=1)
    v = fn(y, t)
    assert torch.allclose(v, F.mse_loss(y.detach(), t))
    assert v.grad_fn is not None and "SwarmLoss" in type(v.grad_fn).__name__ or v.grad_fn is not None
    v.backward()
    g = y.grad.clone()
    y.grad = None
    F.mse_loss(y, t).backward()
    cos = F.cosine_similarity(g.reshape(-1), y.grad.reshape(-1), dim=0)
    assert cos > 0.5           # points the right way (the paper's preset starts at the targets)
    assert not torch.equal(g, y.grad)
    d = fn.diagnostics
    assert d["iterations"] > 0 and d["evaluations"] > 0 and d["cbar"] > 0
    assert fn.options["loss"] == "mse" and fn.options["seed"] == 1


def test_backward_scales_with_grad_output_and_flows_into_a_model():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    x, t = torch.randn(8, 4), torch.randn(8, 2)
    a = adaswarm.SwarmLoss("mae", seed=3)
    b = adaswarm.SwarmLoss("mae", seed=3)
    (2.0 * a(model(x), t)).backward()
    g2 = model.weight.grad.clone()
    model.zero_grad()
    b(model(x), t).backward()
    assert torch.allclose(g2, 2.0 * model.weight.grad)


def test_no_grad_gives_the_value_only():
    y = torch.randn(5, 3, requires_grad=True)
    t = torch.randint(0, 3, (5,))
    fn = adaswarm.SwarmLoss("ce")
    with torch.no_grad():
        v = fn(y, t)
    assert v.grad_fn is None
    assert torch.allclose(v, F.cross_entropy(y.detach(), t))


def test_python_custom_loss_gets_candidates_and_trains():
    seen = {}

    def zero_one(pos, target):  # [P, B, C], target as given
        seen["shape"] = tuple(pos.shape)
        seen["kept"] = pos  # a copy: may be kept after the call
        return (pos.argmax(-1) != target.unsqueeze(0)).float()  # [P, B]

    torch.manual_seed(0)
    x = torch.randn(64, 2)
    t = (x[:, 0] + x[:, 1] > 0).long()
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    fn = adaswarm.SwarmLoss(zero_one, seed=0)
    first = None
    for _ in range(60):
        opt.zero_grad()
        v = fn(model(x), t)
        v.backward()
        opt.step()
        first = v.item() if first is None else first
    assert seen["shape"][1:] == (64, 2) and seen["shape"][0] >= 2
    assert torch.isfinite(seen["kept"]).all()
    acc = (model(x).argmax(1) == t).float().mean().item()
    assert acc > 0.85, (first, acc)
    assert fn.options["loss"] == "custom"


def test_custom_loss_errors_reach_python():
    y = torch.randn(4, 2, requires_grad=True)
    t = torch.randn(4, 2)

    def boom(pos, target):
        raise ZeroDivisionError("from the user's loss")

    with pytest.raises(ZeroDivisionError, match="from the user's loss"):
        adaswarm.SwarmLoss(boom)(y, t)
    with pytest.raises(ValueError, match=r"must return \[P, B, C\] or \[P, B\]"):
        adaswarm.SwarmLoss(lambda p, t: p.sum())(y, t)
    with pytest.raises(ValueError, match="must return a torch.Tensor"):
        adaswarm.SwarmLoss(lambda p, t: 1.0)(y, t)


def test_bad_arguments_raise_with_the_cpp_message():
    with pytest.raises(ValueError, match="unknown option 'particle'"):
        adaswarm.SwarmLoss("mse", particle=3)
    with pytest.raises(ValueError):
        adaswarm.SwarmLoss("not-a-loss")
    with pytest.raises(ValueError):
        adaswarm.SwarmLoss("mse", preset="nope")
    with pytest.raises(ValueError, match="particles"):
        adaswarm.SwarmLoss("mse", particles=0)
    with pytest.raises(ValueError, match="'particles' must be an integer"):
        adaswarm.SwarmLoss("mse", particles="ten")
    with pytest.raises(ValueError, match="needs a callable"):
        adaswarm.SwarmLoss("custom")
    with pytest.raises(ValueError):
        adaswarm.SwarmLoss(42)
    fn = adaswarm.SwarmLoss("mse")
    with pytest.raises(ValueError, match=r"\[4, 3\]"):
        fn(torch.randn(4, 3, requires_grad=True), torch.randn(5, 3))
    with pytest.raises(ValueError, match="NaN"):
        fn(torch.full((4, 3), float("nan"), requires_grad=True), torch.randn(4, 3))
    with pytest.raises((ValueError, RuntimeError)):
        adaswarm.SwarmLoss("ce")(torch.randn(4, 3, requires_grad=True), torch.tensor([0, 1, 2, 7]))


def test_same_seed_same_gradient_and_options_spelled_like_cpp():
    y = torch.randn(10, 3)
    t = torch.randn(10, 3)
    grads = []
    for _ in range(2):
        yy = y.clone().requires_grad_(True)
        adaswarm.SwarmLoss("huber", preset="search", seed=9, bests="element", grad_scale="unit",
                           start="output", start_span=2.0, particles=8, iterations=6)(yy, t).backward()
        grads.append(yy.grad)
    assert torch.equal(grads[0], grads[1])
    o = adaswarm.SwarmLoss("smooth-l1", preset="reference", reduction="sum", delta=0.5).options
    assert o["reduction"] == "sum" and o["delta"] == 0.5 and o["loss"] == "smooth-l1"


def test_threads_give_the_same_gradient_and_bad_counts_raise():
    torch.manual_seed(0)
    y0 = torch.randn(40, 3)
    t = torch.randn(40, 3)
    grads = []
    for threads in (1, 2):
        fn = adaswarm.SwarmLoss("mse", seed=3)
        fn.threads = threads
        assert fn.threads == threads
        grads_of_run = []
        for _ in range(2):  # the generator carries over between batches
            y = y0.clone().requires_grad_(True)
            fn(y, t).backward()
            grads_of_run.append(y.grad.clone())
        grads.append(grads_of_run)
        used = fn.diagnostics["threads"]
        assert used == (1 if threads == 1 else min(2, torch.get_num_threads()))
    for a, b in zip(*grads):
        assert torch.equal(a, b)
    fn = adaswarm.SwarmLoss("mse")
    with pytest.raises(ValueError, match="threads must be >= 1, got 0"):
        fn.threads = 0
    assert fn.threads == 1


def test_types_are_python_s_own_and_no_value_is_coerced():
    # pybind11 alone would read True as 1, 2 as True and 1.5 as 1.
    with pytest.raises(ValueError, match="'particles' must be an integer, got True"):
        adaswarm.SwarmLoss("mse", particles=True)
    with pytest.raises(ValueError, match="'iterations' must be an integer, got 2.5"):
        adaswarm.SwarmLoss("mse", iterations=2.5)
    with pytest.raises(ValueError, match="'warm_start' must be True or False, got 2"):
        adaswarm.SwarmLoss("mse", warm_start=2)
    with pytest.raises(ValueError, match="'eta' must be a number"):
        adaswarm.SwarmLoss("mse", eta="0.1")
    with pytest.raises(ValueError, match="'eta' must be a number"):
        adaswarm.SwarmLoss("mse", eta=True)
    assert adaswarm.SwarmLoss("mse", eta=1).options["eta"] == 1.0  # an int is a number
    with pytest.raises(ValueError, match="tolerance must be a number or -inf"):
        adaswarm.SwarmLoss("mse", tolerance=float("nan"))
    with pytest.raises(ValueError, match="stall_delta must be finite"):
        adaswarm.SwarmLoss("mse", stall_delta=float("nan"))
    with pytest.raises(ValueError, match="threads must be an integer"):
        adaswarm.SwarmLoss("mse").threads = 1.5
    with pytest.raises(ValueError, match="center must be a torch.Tensor or None, got list"):
        adaswarm.SwarmLoss("mse").set_center([[0.0]])


def test_ideal_limit_with_a_python_loss_is_refused():
    # Its minimiser is the target only for a built-in loss; with a callable it
    # pulled the output toward the target, the wrong way for this loss.
    with pytest.raises(ValueError, match="ideal_limit needs a built-in loss"):
        adaswarm.SwarmLoss(lambda p, t: (p + 5).pow(2), ideal_limit=True)


def test_inputs_outside_float32_and_shapes_that_do_not_match_are_refused():
    b = torch.randn(4, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="output has a value .* beyond float32's range"):
        adaswarm.SwarmLoss()((b * 1e300).requires_grad_(), b)
    with pytest.raises(ValueError, match="target has a value .* beyond float32's range"):
        adaswarm.SwarmLoss()(b.clone().requires_grad_(), b * 1e300)
    with pytest.raises(ValueError, match=r"target \[12\] does not match output \[4, 3\]"):
        adaswarm.SwarmLoss()(torch.randn(4, 3, requires_grad=True), torch.randn(12))
    with pytest.raises(ValueError, match=r"target \[2, 3\] does not match output \[6\]"):
        adaswarm.SwarmLoss()(torch.randn(6, requires_grad=True), torch.randn(2, 3))
    # One output per row: [B] and [B, 1] are the same thing, either way round.
    y = torch.randn(6, requires_grad=True)
    t = torch.randn(6)
    assert torch.equal(adaswarm.SwarmLoss(seed=3)(y, t.view(6, 1)), adaswarm.SwarmLoss(seed=3)(y, t))
    with pytest.raises(ValueError, match="cross-entropy needs at least 2 classes"):
        adaswarm.SwarmLoss("ce")(torch.randn(4, 1, requires_grad=True), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="must return a floating-point tensor, got Long"):
        adaswarm.SwarmLoss(lambda p, t: (p > t).long())(torch.randn(4, 3, requires_grad=True), torch.randn(4, 3))


def test_threads_sharing_one_loss_take_turns():
    # forward releases the GIL; before the loss's lock, two threads on one loss
    # corrupted its swarm (segfaults, bad_alloc). Each thread's gradients are
    # finite and every call returned.
    import threading
    for loss in (adaswarm.SwarmLoss(), adaswarm.SwarmLoss(lambda p, t: (p - t).pow(2))):
        errors = []

        def work(batch):
            try:
                for _ in range(40):
                    o = torch.randn(batch, 3, requires_grad=True)
                    loss(o, torch.randn(batch, 3)).backward()
                    assert torch.isfinite(o.grad).all()
                    loss.set_center(None)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(b,)) for b in (7, 64, 5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []


def test_options_name_every_keyword_and_rebuild_the_same_loss():
    loss = adaswarm.SwarmLoss("mae", preset="search", particles=7, tolerance=0.5, stall_iterations=3,
                              rotation_angle=0.25)
    opts = dict(loss.options)
    kind = opts.pop("loss")
    again = adaswarm.SwarmLoss(kind, **opts)  # every key is an accepted keyword
    assert again.options == loss.options
    assert opts["tolerance"] == 0.5 and opts["stall_iterations"] == 3 and opts["rotation_angle"] == 0.25
