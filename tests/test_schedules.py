"""The schedules against ``torch.optim.lr_scheduler`` over 200 epochs, their closed forms, and the range test.

Each schedule computes its rate with torch's own recursion in Python floats, so the values agree to the last bit;
the tests allow a relative error of 1e-12.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lossopt_companion import optim, schedules  # noqa: E402

EPOCHS = 200
BASE_LR = 0.4


def _torch_pair(build: Callable, base_lr: float = BASE_LR):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    return optimizer, build(torch.optim.lr_scheduler, optimizer)


def _ours_pair(build: Callable, base_lr: float = BASE_LR):
    optimizer = optim.SGD([np.zeros(1)], lr=base_lr)
    return optimizer, build(schedules, optimizer)


def _sequential(module, optimizer, parts, milestones):
    return module.SequentialLR(optimizer, [make(module, optimizer) for make in parts], milestones=milestones)


CASES = {
    "StepLR-7-0.5": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-30-default": lambda m, o: m.StepLR(o, step_size=30),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[10, 50, 120], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR-200": lambda m, o: m.CosineAnnealingLR(o, T_max=200),
    "CosineAnnealingLR-50-cycles": lambda m, o: m.CosineAnnealingLR(o, T_max=50, eta_min=0.001),
    "CosineAnnealingLR-37-zero": lambda m, o: m.CosineAnnealingLR(o, T_max=37),
    "LinearLR-warmup": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=20),
    "LinearLR-defaults": lambda m, o: m.LinearLR(o),
    "LinearLR-decay-to-zero": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=150),
    "Sequential-warmup-cosine": lambda m, o: _sequential(
        m, o, [lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=10), lambda m, o: m.CosineAnnealingLR(o, 190)],
        [10],
    ),
    "Sequential-warmup-exponential": lambda m, o: _sequential(
        m, o, [lambda m, o: m.LinearLR(o, start_factor=0.5, total_iters=8), lambda m, o: m.ExponentialLR(o, 0.98)],
        [5],
    ),
    "Sequential-three": lambda m, o: _sequential(
        m,
        o,
        [
            lambda m, o: m.StepLR(o, step_size=10, gamma=0.5),
            lambda m, o: m.MultiStepLR(o, milestones=[20, 40], gamma=0.5),
            lambda m, o: m.CosineAnnealingLR(o, T_max=60, eta_min=0.01),
        ],
        [30, 80],
    ),
}


@pytest.mark.parametrize("change_by_hand", [False, True], ids=["schedule-only", "lr-halved-by-hand-at-100"])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_for_200_epochs(name: str, change_by_hand: bool) -> None:
    """Epoch 0 (set on construction) and each of 200 ``step()`` calls give torch's rate; halving the rate by hand at
    epoch 100 is followed the same way (each schedule scales the current rate, as torch's do)."""
    build = CASES[name]
    torch_optimizer, torch_schedule = _torch_pair(build)
    ours_optimizer, ours_schedule = _ours_pair(build)
    ours_rates, torch_rates = [ours_schedule.get_last_lr()], [torch_schedule.get_last_lr()[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the torch side is driven correctly: no "step order" warning
        for epoch in range(1, EPOCHS + 1):
            torch_optimizer.step()
            if change_by_hand and epoch == 100:
                torch_optimizer.param_groups[0]["lr"] *= 0.5
                ours_optimizer.lr *= 0.5
            torch_schedule.step()
            ours_schedule.step()
            ours_rates.append(ours_schedule.get_last_lr())
            torch_rates.append(torch_schedule.get_last_lr()[0])
            assert ours_optimizer.lr == ours_rates[-1]
    np.testing.assert_allclose(ours_rates, torch_rates, rtol=1e-12, atol=0)
    assert len(set(ours_rates)) > 2  # the schedule did change the rate


def closed_forms() -> dict[str, Callable[[int], float]]:
    """The docstrings' closed forms, epoch -> rate."""
    g0 = BASE_LR

    def cosine(e: int, T: int, eta_min: float = 0.0, start: float = g0) -> float:
        return eta_min + (start - eta_min) * (1 + math.cos(math.pi * e / T)) / 2

    def linear(e: int, fs: float, fe: float, T: int) -> float:
        return g0 * (fs + (fe - fs) * min(e, T) / T)

    return {
        "StepLR-7-0.5": lambda e: g0 * 0.5 ** (e // 7),
        "MultiStepLR": lambda e: g0 * 0.3 ** sum(m <= e for m in (10, 50, 120)),
        "ExponentialLR": lambda e: g0 * 0.97**e,
        "CosineAnnealingLR-200": lambda e: cosine(e, 200),
        "CosineAnnealingLR-50-cycles": lambda e: cosine(e, 50, 0.001),
        "LinearLR-warmup": lambda e: linear(e, 0.1, 1.0, 20),
        "LinearLR-decay-to-zero": lambda e: linear(e, 1.0, 0.0, 150),
        "Sequential-warmup-cosine": lambda e: linear(e, 0.1, 1.0, 10) if e < 10 else cosine(e - 10, 190),
        "Sequential-warmup-exponential": lambda e: linear(e, 0.5, 1.0, 8) if e < 5 else g0 * 0.98 ** (e - 5),
    }


@pytest.mark.parametrize("name", list(closed_forms()))
def test_follows_the_closed_form_of_its_docstring(name: str) -> None:
    """The recursion tracks the closed form to round-off (absolute 1e-13 of the base rate: near a zero of the
    cosine the relative error of a recursion is not meaningful)."""
    formula = closed_forms()[name]
    optimizer, schedule = _ours_pair(CASES[name])
    rates = [schedule.get_last_lr()]
    for _ in range(EPOCHS):
        schedule.step()
        rates.append(schedule.get_last_lr())
    np.testing.assert_allclose(rates, [formula(e) for e in range(EPOCHS + 1)], rtol=1e-11, atol=1e-13 * BASE_LR)


def test_first_schedule_sets_initial_lr_and_later_ones_share_it() -> None:
    optimizer = optim.SGD([np.zeros(1)], lr=2.0)
    assert optimizer.initial_lr is None
    warmup = schedules.LinearLR(optimizer, start_factor=0.25, total_iters=4)
    assert optimizer.initial_lr == 2.0 and optimizer.lr == 0.5
    cosine = schedules.CosineAnnealingLR(optimizer, T_max=10)
    assert cosine.base_lr == 2.0  # not the 0.5 that the warm-up had set
    assert "LinearLR(last_epoch=0" in repr(warmup)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda o: schedules.StepLR(o, step_size=0), "step_size"),
        (lambda o: schedules.StepLR(o, step_size=2.5), "step_size"),
        (lambda o: schedules.StepLR(o, step_size=3, gamma=0.0), "gamma"),
        (lambda o: schedules.MultiStepLR(o, milestones=[5, 3]), "milestones must be strictly increasing"),
        (lambda o: schedules.MultiStepLR(o, milestones=[0, 3]), r"milestones\[0\]"),
        (lambda o: schedules.MultiStepLR(o, milestones=5), "milestones"),
        (lambda o: schedules.ExponentialLR(o, gamma=-0.5), "gamma"),
        (lambda o: schedules.CosineAnnealingLR(o, T_max=0), "T_max"),
        (lambda o: schedules.CosineAnnealingLR(o, T_max=10, eta_min=-1.0), "eta_min"),
        (lambda o: schedules.LinearLR(o, start_factor=0.0), "start_factor"),
        (lambda o: schedules.LinearLR(o, start_factor=1.5), "start_factor"),
        (lambda o: schedules.LinearLR(o, end_factor=1.5), "end_factor"),
        (lambda o: schedules.LinearLR(o, total_iters=0), "total_iters"),
        (lambda o: schedules.StepLR(object(), step_size=3), "optimizer"),
    ],
)
def test_bad_arguments_raise(build: Callable, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build(optim.SGD([np.zeros(1)], lr=0.1))


def test_sequential_validates() -> None:
    optimizer = optim.SGD([np.zeros(1)], lr=0.1)
    other = optim.SGD([np.zeros(1)], lr=0.1)
    a, b = schedules.LinearLR(optimizer), schedules.ExponentialLR(optimizer, 0.9)
    with pytest.raises(ValueError, match="milestones must hold one epoch fewer than schedulers"):
        schedules.SequentialLR(optimizer, [a, b], milestones=[3, 6])
    with pytest.raises(ValueError, match="schedulers must be a non-empty list"):
        schedules.SequentialLR(optimizer, [], milestones=[])
    with pytest.raises(ValueError, match=r"schedulers\[1\] is bound to another optimizer"):
        schedules.SequentialLR(optimizer, [a, schedules.ExponentialLR(other, 0.9)], milestones=[3])
    inner = schedules.SequentialLR(optimizer, [a, b], milestones=[3])
    with pytest.raises(ValueError, match=r"schedulers\[0\] must be a schedule .* other than SequentialLR"):
        schedules.SequentialLR(optimizer, [inner, b], milestones=[3])


# -- the learning-rate range test ---------------------------------------------------------------------------------


def least_squares(seed: int = 0):
    """Mini-batch least squares ``mean((X w + b - y)^2) / 2`` with its largest curvature ``L``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(256, 5)) * np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=256)
    params = [np.zeros(5), np.zeros(1)]

    def loss_and_grad(i: int):
        rows = slice(32 * (i % 8), 32 * (i % 8) + 32)
        residual = X[rows] @ params[0] + params[1][0] - y[rows]
        return 0.5 * np.mean(residual**2), [X[rows].T @ residual / 32, np.array([residual.mean()])]

    design = np.column_stack([X, np.ones(len(X))])
    curvature = float(np.linalg.eigvalsh(design.T @ design / len(X)).max())
    return params, loss_and_grad, curvature


def test_range_test_curve_falls_then_blows_up_and_everything_is_restored() -> None:
    params, loss_and_grad, curvature = least_squares()
    optimizer = optim.SGD(params, lr=0.05, momentum=0.9)
    optimizer.step(loss_and_grad(0)[1])  # a non-trivial state to restore
    before_params = [p.copy() for p in params]
    before_state = optimizer.state_dict()
    # Mini-batch losses are noisy (they range over 1 to 3 at the start), hence more steps and lighter smoothing
    # than the defaults, whose 50-step memory would blur the short valley of this small problem.
    result = schedules.lr_range_test(
        loss_and_grad, optimizer, lr_min=1e-5, lr_max=10.0, num_steps=300, smoothing=0.9
    )

    for p, b in zip(params, before_params):
        np.testing.assert_array_equal(p, b)
    after_state = optimizer.state_dict()
    assert after_state["step"] == before_state["step"] and after_state["lr"] == 0.05
    for key in ("momentum_buffer",):
        np.testing.assert_array_equal(after_state["state"][0][key], before_state["state"][0][key])

    assert result.diverged and len(result.lrs) < 300  # stopped early
    np.testing.assert_allclose(result.lrs, 1e-5 * (1e6) ** (np.arange(len(result.lrs)) / 299), rtol=1e-12)
    lowest = int(np.argmin(result.losses))
    assert result.losses[lowest] < 0.05 * result.losses[0]  # it fell ...
    assert result.losses[-1] > 4 * result.losses[lowest]  # ... then blew up
    assert result.lr_at_min_loss == result.lrs[lowest] and result.suggested_lr == result.lr_at_min_loss / 10
    # With momentum 0.9 the stability limit of the heavy ball is 2 (1 + mu) / L; the suggestion lies below it.
    assert 1e-4 < result.suggested_lr < 2 * 1.9 / curvature
    # The smoothed curve is the bias-corrected moving average of the raw losses.
    average = 0.0
    for i, raw in enumerate(result.raw_losses):
        average = 0.9 * average + 0.1 * raw
        assert result.losses[i] == pytest.approx(average / (1 - 0.9 ** (i + 1)), rel=1e-12)


def test_range_test_suggestion_trains_well() -> None:
    params, loss_and_grad, curvature = least_squares(1)
    optimizer = optim.GD(params, lr=1.0)
    result = schedules.lr_range_test(
        loss_and_grad, optimizer, lr_min=1e-4, lr_max=100.0, num_steps=300, smoothing=0.9
    )
    assert result.suggested_lr < 2 / curvature  # gradient descent is stable below 2 / L
    optimizer.lr = result.suggested_lr
    start = loss_and_grad(0)[0]
    for i in range(200):
        optimizer.step(loss_and_grad(i)[1])
    assert loss_and_grad(0)[0] < 0.1 * start


def test_range_test_validates() -> None:
    params, loss_and_grad, _ = least_squares()
    optimizer = optim.GD(params, lr=0.1)
    bad = [
        ({"lr_min": 0.0}, "lr_min"),
        ({"lr_min": 1.0, "lr_max": 0.5}, "lr_max must be larger than lr_min"),
        ({"num_steps": 1}, "num_steps"),
        ({"smoothing": 1.0}, "smoothing"),
        ({"divergence_factor": 1.0}, "divergence_factor"),
    ]
    for kwargs, match in bad:
        with pytest.raises(ValueError, match=match):
            schedules.lr_range_test(loss_and_grad, optimizer, **kwargs)
    with pytest.raises(ValueError, match="loss_and_grad"):
        schedules.lr_range_test(None, optimizer)
    with pytest.raises(ValueError, match="optimizer"):
        schedules.lr_range_test(loss_and_grad, params)
    with pytest.raises(ValueError, match="loss at the initial parameters is not finite"):
        schedules.lr_range_test(lambda i: (float("nan"), [np.zeros(5), np.zeros(1)]), optimizer)
    np.testing.assert_array_equal(params[0], np.zeros(5))
