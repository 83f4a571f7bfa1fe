"""The optimizers against ``torch.optim``: every option, 200 steps, compared after every step.

The problem is a small two-layer network with a softmax cross-entropy loss plus a small L2 term (non-quadratic,
four parameter arrays of different shapes, one stored in Fortran order), its gradient computed in NumPy on a
mini-batch that cycles with the step number. The mini-batches and the L2 term keep the gradients away from zero: on
a separable full batch they would decay towards round-off level, where Adam's normalized update ``m / sqrt(v)``
would amplify round-off differences (a property of the problem, not of either implementation). Each optimizer and
its torch namesake start from the same float64 parameters and each receives the gradient at its own current
parameters. In the middle of the run the learning rate is changed (``opt.lr`` and torch's ``param_group["lr"]``),
and later the run is checkpointed and resumed in a fresh optimizer; the old optimizer is stepped further after the
checkpoint, so a shallow checkpoint would corrupt the resumed run.

Agreement is elementwise: ``|ours - torch| <= 1e-9 |torch| + 1e-14``. The absolute floor is for coordinates that
pass near zero; it is five orders of magnitude below the parameters' scale (0.1 to 1).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lossopt_companion import optim  # noqa: E402

STEPS = 200
LR_CHANGE_AT = 90
CHECKPOINT_AT = 140
RTOL, ATOL = 1e-9, 1e-14


def make_problem(
    seed: int = 0, dtype: type = np.float64
) -> tuple[list[np.ndarray], Callable[[list[np.ndarray], int], list]]:
    """Initial parameters ``[W1, b1, W2, b2]`` and ``grads(params, step)``: the gradient of the mean cross-entropy of
    a tanh network on mini-batch ``step % 3`` plus ``(0.01 / 2) * sum of squared parameters``."""
    rng = np.random.default_rng(seed)
    X_all = rng.normal(size=(24, 3))
    one_hot_all = np.eye(3)[rng.integers(0, 3, size=24)]
    params = [
        np.asfortranarray(rng.normal(scale=0.8, size=(5, 3))),  # Fortran order: exercises the other flat view
        rng.normal(scale=0.3, size=5),
        rng.normal(scale=0.8, size=(3, 5)),
        rng.normal(scale=0.3, size=3),
    ]

    def grads(current: list[np.ndarray], step: int) -> list[np.ndarray]:
        W1, b1, W2, b2 = (np.asarray(p, dtype=np.float64) for p in current)
        batch = slice(8 * (step % 3), 8 * (step % 3) + 8)
        X, one_hot = X_all[batch], one_hot_all[batch]
        hidden = np.tanh(X @ W1.T + b1)
        logits = hidden @ W2.T + b2
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        d_logits = (probabilities - one_hot) / len(X)
        d_pre = (d_logits @ W2) * (1 - hidden**2)
        result = [d_pre.T @ X, d_pre.sum(axis=0), d_logits.T @ hidden, d_logits.sum(axis=0)]
        return [(g + 0.01 * p).astype(dtype) for g, p in zip(result, (W1, b1, W2, b2))]

    return [p.astype(dtype, order="K") for p in params], grads


def _grid(**options: list[Any]) -> list[dict[str, Any]]:
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


SGD_GRID = [
    kw
    for kw in _grid(momentum=[0.0, 0.9], dampening=[0.0, 0.3], nesterov=[False, True], weight_decay=[0.0, 0.01])
    if not (kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0))
    and not (kw["momentum"] == 0 and kw["dampening"])
]
# Full grids over the switches; the continuous settings (eps, alpha, a second beta pair) vary across them.
ADAM_GRID = _grid(betas=[(0.9, 0.999), (0.5, 0.9)], weight_decay=[0.0, 0.05], amsgrad=[False, True]) + [
    {"eps": 1e-3, "amsgrad": amsgrad, "weight_decay": 0.05} for amsgrad in (False, True)
]
ADAMW_GRID = _grid(weight_decay=[1e-2, 0.1], amsgrad=[False, True])
RMSPROP_GRID = _grid(weight_decay=[0.0, 0.05], momentum=[0.0, 0.8], centered=[False, True]) + [
    {"alpha": 0.9, "centered": centered, "momentum": 0.5} for centered in (False, True)
]
ADAGRAD_GRID = _grid(lr_decay=[0.0, 0.05], weight_decay=[0.0, 0.05], initial_accumulator_value=[0.0, 0.5]) + [
    {"eps": 1e-3, "lr_decay": 0.05}
]

CASES = (
    [("GD", optim.GD, torch.optim.SGD, 0.1, {})]
    + [("SGD", optim.SGD, torch.optim.SGD, 0.05, kw) for kw in SGD_GRID]
    + [("Adam", optim.Adam, torch.optim.Adam, 0.01, kw) for kw in ADAM_GRID]
    + [("AdamW", optim.AdamW, torch.optim.AdamW, 0.01, kw) for kw in ADAMW_GRID]
    + [("RMSprop", optim.RMSprop, torch.optim.RMSprop, 0.005, kw) for kw in RMSPROP_GRID]
    + [("Adagrad", optim.Adagrad, torch.optim.Adagrad, 0.1, kw) for kw in ADAGRAD_GRID]
)


def _case_id(case: tuple) -> str:
    name, _, _, _, kwargs = case
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items())


def _assert_close_to_torch(ours: list[np.ndarray], theirs: list, step: int) -> None:
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        reference = reference.detach().numpy()
        error = np.abs(mine - reference)
        bad = error > RTOL * np.abs(reference) + ATOL
        assert not bad.any(), (
            f"step {step}, params[{index}]: max relative error "
            f"{np.max(error / np.maximum(np.abs(reference), 1e-300)):.3g}"
        )


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_torch_every_step_with_lr_change_and_resume(case: tuple) -> None:
    name, ours_class, torch_class, lr, kwargs = case
    params, grads = make_problem()
    torch_params = [torch.tensor(np.ascontiguousarray(p)) for p in params]
    theirs = torch_class(torch_params, lr=lr, foreach=False, **kwargs)
    ours = ours_class(params, lr=lr, **kwargs)
    for step in range(1, STEPS + 1):
        if step == LR_CHANGE_AT:
            ours.lr = lr * 0.3
            theirs.param_groups[0]["lr"] = lr * 0.3
        if step == CHECKPOINT_AT:
            checkpoint = ours.state_dict()
            saved_params = [p.copy() for p in params]
            for extra in range(3):  # moves the old optimizer's state on; the checkpoint must not follow
                ours.step(grads(params, step + extra))
            for p, saved in zip(params, saved_params):
                p[...] = saved
            ours = ours_class(params, lr=lr, **kwargs)
            ours.load_state_dict(checkpoint)
            assert ours.lr == pytest.approx(lr * 0.3, rel=0, abs=0)
        for p, g in zip(torch_params, grads([p.numpy() for p in torch_params], step)):
            p.grad = torch.from_numpy(g)
        theirs.step()
        ours.step(grads(params, step))
        _assert_close_to_torch(params, torch_params, step)
    assert ours.step_count == STEPS


@pytest.mark.parametrize(
    ("ours_class", "torch_class", "kwargs"),
    [
        (optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        (optim.Adam, torch.optim.Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}),
        (optim.AdamW, torch.optim.AdamW, {"lr": 0.01}),
        (optim.RMSprop, torch.optim.RMSprop, {"lr": 0.005, "centered": True, "momentum": 0.5}),
        (optim.Adagrad, torch.optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01}),
    ],
)
def test_float32_stays_float32_and_follows_torch_float32(ours_class: type, torch_class: type, kwargs: dict) -> None:
    """In float32 the state and the parameters stay float32; 50 steps agree with torch's float32 run to 1e-4
    (different rounding orders, e.g. torch's fused multiply-adds, accumulate a few float32 ulps per step)."""
    params, grads = make_problem(dtype=np.float32)
    torch_params = [torch.tensor(np.ascontiguousarray(p)) for p in params]
    theirs = torch_class(torch_params, foreach=False, **kwargs)
    ours = ours_class(params, **kwargs)
    for step in range(50):
        for p, g in zip(torch_params, grads([p.numpy() for p in torch_params], step)):
            p.grad = torch.from_numpy(g)
        theirs.step()
        ours.step(grads(params, step))
    assert all(p.dtype == np.float32 for p in params)
    assert all(a.dtype == np.float32 for state in ours.state for a in state.values())
    for mine, reference in zip(params, torch_params):
        np.testing.assert_allclose(mine, reference.numpy(), rtol=1e-4, atol=1e-6)


def test_torch_defaults_are_ours() -> None:
    """The constructor defaults equal torch's (read from the installed torch's signatures)."""
    import inspect

    pairs = [
        (optim.SGD, torch.optim.SGD),
        (optim.Adam, torch.optim.Adam),
        (optim.AdamW, torch.optim.AdamW),
        (optim.RMSprop, torch.optim.RMSprop),
        (optim.Adagrad, torch.optim.Adagrad),
    ]
    for ours_class, torch_class in pairs:
        ours = inspect.signature(ours_class).parameters
        theirs = inspect.signature(torch_class).parameters
        for name, parameter in ours.items():
            if name in ("params", "check_finite"):
                continue
            assert theirs[name].default == parameter.default, (ours_class.__name__, name)
