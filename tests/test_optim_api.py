"""The optimizers' contract besides the maths: validation, non-finite gradients, checkpoints, threads and memory."""

from __future__ import annotations

import os
import signal
import tracemalloc
from typing import Any

import numpy as np
import pytest

from lossopt_companion import optim
from lossopt_companion.optim import _base

ALL = [
    (optim.GD, {"lr": 0.1}),
    (optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.2}),
    (optim.Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    (optim.AdamW, {"lr": 0.01}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(ALL)]


def quadratic_params(rng: np.random.Generator, dtype: Any = np.float64) -> list[np.ndarray]:
    return [rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=7).astype(dtype)]


def quadratic_grads(params: list[np.ndarray], step: int) -> list[np.ndarray]:
    """Gradient of sum((p - c)^2 * weights) with a target that moves with the step (never a zero gradient)."""
    return [
        (2 * (p - np.sin(step + np.arange(p.size).reshape(p.shape))) * (1 + 0.1 * p * p)).astype(p.dtype)
        for p in params
    ]


# -- hyper-parameters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (optim.GD, {"lr": 0.0}, "lr"),
        (optim.SGD, {"lr": -0.1}, "lr"),
        (optim.Adam, {"lr": float("nan")}, "lr"),
        (optim.Adam, {"betas": (1.0, 0.999)}, r"betas\[0\]"),
        (optim.Adam, {"betas": (-0.1, 0.999)}, r"betas\[0\]"),
        (optim.AdamW, {"betas": (0.9, 1.0)}, r"betas\[1\]"),
        (optim.Adam, {"betas": 0.9}, "betas"),
        (optim.Adam, {"betas": (0.9, 0.99, 0.999)}, "betas"),
        (optim.Adam, {"eps": -1e-8}, "eps"),
        (optim.Adam, {"weight_decay": -0.1}, "weight_decay"),
        (optim.AdamW, {"weight_decay": -0.1}, "weight_decay"),
        (optim.SGD, {"momentum": -0.9}, "momentum"),
        (optim.SGD, {"weight_decay": -1.0}, "weight_decay"),
        (optim.SGD, {"dampening": 1.5}, "dampening"),
        (optim.SGD, {"nesterov": True}, "nesterov.*momentum"),
        (optim.SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "nesterov.*dampening"),
        (optim.RMSprop, {"alpha": 1.0}, "alpha"),
        (optim.RMSprop, {"momentum": -0.5}, "momentum"),
        (optim.RMSprop, {"eps": -1.0}, "eps"),
        (optim.Adagrad, {"lr_decay": -0.1}, "lr_decay"),
        (optim.Adagrad, {"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
        (optim.Adagrad, {"eps": -1.0}, "eps"),
        (optim.Adagrad, {"lr": "fast"}, "lr"),
    ],
)
def test_bad_hyperparameters_raise(cls: type, kwargs: dict, match: str) -> None:
    kwargs = {"lr": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        cls([np.zeros(3)], **kwargs)


def test_lr_setter_validates_and_accepts_zero() -> None:
    optimizer = optim.Adam([np.zeros(3)])
    optimizer.lr = 0.0  # a cosine schedule anneals to exactly 0
    assert optimizer.lr == 0.0
    with pytest.raises(ValueError, match="lr"):
        optimizer.lr = -1e-3
    with pytest.raises(ValueError, match="lr"):
        optimizer.lr = float("inf")


# -- parameters and gradients -------------------------------------------------------------------------------------


def test_bad_params_raise() -> None:
    with pytest.raises(ValueError, match="params must be a non-empty list"):
        optim.SGD(np.zeros(3), lr=0.1)
    with pytest.raises(ValueError, match="params must be a non-empty list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match=r"params\[0\] must be a NumPy array"):
        optim.SGD([[1.0, 2.0]], lr=0.1)
    with pytest.raises(ValueError, match=r"params\[1\] must be a floating-point array"):
        optim.Adam([np.zeros(3), np.arange(3)])
    with pytest.raises(ValueError, match=r"params\[0\] must be a contiguous array"):
        optim.Adam([np.zeros((4, 6))[:, ::2]])
    read_only = np.zeros(3)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\[0\] must be writeable"):
        optim.Adam([read_only])
    shared = np.zeros(3)
    with pytest.raises(ValueError, match=r"params\[1\] is the same array as params\[0\]"):
        optim.Adam([shared, shared])


def test_bad_grads_raise_and_leave_everything_untouched(rng: np.random.Generator) -> None:
    params = quadratic_params(rng)
    optimizer = optim.Adam(params, lr=0.1)
    before = [p.copy() for p in params]
    cases = [
        (np.zeros((4, 3)), "grads must be a list"),
        ([np.zeros((4, 3))], "one array per parameter: expected 2, got 1"),
        ([np.zeros((4, 3)), np.zeros(7), np.zeros(1)], "one array per parameter: expected 2, got 3"),
        ([np.zeros((3, 4)), np.zeros(7)], r"grads\[0\] must have the shape of params\[0\], \(4, 3\), got \(3, 4\)"),
        ([np.zeros((4, 3)), np.zeros((7, 1))], r"grads\[1\] must have the shape"),
        ([np.zeros((4, 3), np.float32), np.zeros(7)], r"grads\[0\] must have the dtype of params\[0\], float64"),
        ([np.zeros((4, 3)), np.zeros(7, dtype=int)], r"grads\[1\] must have the dtype"),
    ]
    for grads, match in cases:
        with pytest.raises(ValueError, match=match):
            optimizer.step(grads)
    assert optimizer.step_count == 0
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p, b)


@pytest.mark.parametrize(("cls", "kwargs"), ALL, ids=IDS)
def test_step_does_not_modify_the_gradients(cls: type, kwargs: dict, rng: np.random.Generator) -> None:
    params = quadratic_params(rng)
    optimizer = cls(params, **kwargs)
    for step in range(3):
        grads = quadratic_grads(params, step)
        copies = [g.copy() for g in grads]
        optimizer.step(grads)
        for g, c in zip(grads, copies):
            np.testing.assert_array_equal(g, c)


def test_gradient_memory_layout_does_not_matter(rng: np.random.Generator) -> None:
    """A Fortran-ordered gradient for a C-ordered parameter (and the reverse) is matched element by element."""
    c_params = [rng.normal(size=(4, 3))]
    f_params = [np.asfortranarray(c_params[0])]
    reference = [c_params[0].copy()]
    optimizers = [optim.Adam(p, lr=0.1) for p in (c_params, f_params, reference)]
    for step in range(5):
        grad = quadratic_grads(reference, step)[0]
        optimizers[0].step([np.asfortranarray(grad)])
        optimizers[1].step([np.ascontiguousarray(grad)])
        optimizers[2].step([grad])
    np.testing.assert_array_equal(c_params[0], reference[0])
    np.testing.assert_array_equal(f_params[0], reference[0])
    assert f_params[0].flags.f_contiguous


def test_gd_is_sgd_without_momentum(rng: np.random.Generator) -> None:
    a, b = quadratic_params(rng), None
    b = [p.copy() for p in a]
    gd, sgd = optim.GD(a, lr=0.05), optim.SGD(b, lr=0.05)
    for step in range(10):
        gd.step(quadratic_grads(a, step))
        sgd.step(quadratic_grads(b, step))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


# -- non-finite gradients -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize(("cls", "kwargs"), ALL, ids=IDS)
def test_nonfinite_gradient_raises_before_anything_changes(
    cls: type, kwargs: dict, bad_value: float, rng: np.random.Generator
) -> None:
    params = quadratic_params(rng)
    optimizer = cls(params, **kwargs)
    optimizer.step(quadratic_grads(params, 0))
    saved = optimizer.state_dict()
    before = [p.copy() for p in params]
    grads = quadratic_grads(params, 1)
    grads[1][5] = bad_value
    kind = "NaN" if np.isnan(bad_value) else "infinity"
    message = rf"grads\[1\] holds 1 non-finite value\(s\) \({kind}\), the first at index \(5,\)"
    with pytest.raises(ValueError, match=message):
        optimizer.step(grads)
    assert optimizer.step_count == 1
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p, b)
    for now, then in zip(optimizer.state, saved["state"]):
        for key in now:
            np.testing.assert_array_equal(now[key], then[key])


def test_huge_finite_gradients_whose_sum_overflows_are_accepted() -> None:
    """The cheap check sums each block; a sum that overflows is re-checked exactly instead of being rejected."""
    params = [np.zeros(4)]
    optimizer = optim.SGD(params, lr=1e-10)
    optimizer.step([np.full(4, 1e308)])
    np.testing.assert_allclose(params[0], np.full(4, -1e-10 * 1e308), rtol=1e-15)


def test_check_finite_false_skips_the_check() -> None:
    params = [np.zeros(3)]
    optimizer = optim.SGD(params, lr=0.1, check_finite=False)
    optimizer.step([np.array([1.0, np.nan, 2.0])])
    assert np.isnan(params[0][1]) and np.isfinite(params[0][[0, 2]]).all()


# -- checkpoints --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "kwargs"), ALL, ids=IDS)
def test_resume_from_checkpoint_is_bit_identical(cls: type, kwargs: dict, rng: np.random.Generator) -> None:
    straight = quadratic_params(rng)
    resumed = [p.copy() for p in straight]
    optimizer = cls(straight, **kwargs)
    for step in range(20):
        optimizer.step(quadratic_grads(straight, step))
    first_half = cls(resumed, **kwargs)
    for step in range(10):
        first_half.step(quadratic_grads(resumed, step))
    checkpoint = first_half.state_dict()
    second_half = cls(resumed, **kwargs)
    second_half.load_state_dict(checkpoint)
    for step in range(10, 20):
        second_half.step(quadratic_grads(resumed, step))
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a, b)
    assert second_half.step_count == 20


def test_state_dict_is_a_deep_copy(rng: np.random.Generator) -> None:
    params = quadratic_params(rng)
    optimizer = optim.Adam(params, lr=0.1, amsgrad=True)
    optimizer.step(quadratic_grads(params, 0))
    checkpoint = optimizer.state_dict()
    frozen = [{k: v.copy() for k, v in s.items()} for s in checkpoint["state"]]
    optimizer.step(quadratic_grads(params, 1))
    optimizer.lr = 0.5
    assert checkpoint["step"] == 1 and checkpoint["lr"] == 0.1
    for saved, copy in zip(checkpoint["state"], frozen):
        for key in copy:
            np.testing.assert_array_equal(saved[key], copy[key])
    # Loading copies too: changing the checkpoint afterwards leaves the optimizer alone.
    other = optim.Adam(params, lr=0.1, amsgrad=True)
    other.load_state_dict(checkpoint)
    checkpoint["state"][0]["exp_avg"][...] = 123.0
    assert not np.any(other.state[0]["exp_avg"] == 123.0)
    assert checkpoint["hyperparameters"] == {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": True}


def test_load_state_dict_validates(rng: np.random.Generator) -> None:
    params = quadratic_params(rng)
    adam = optim.Adam(params, lr=0.1)
    adam.step(quadratic_grads(params, 0))
    good = adam.state_dict()
    fresh = optim.Adam(params, lr=0.1)
    with pytest.raises(ValueError, match="state_dict must be a dict"):
        fresh.load_state_dict([good])
    with pytest.raises(ValueError, match=r"cannot load it into AdamW"):
        optim.AdamW(params).load_state_dict(good)
    with pytest.raises(ValueError, match=r"hyperparameters.*betas"):
        optim.Adam(params, betas=(0.8, 0.999)).load_state_dict(good)
    with pytest.raises(ValueError, match="missing the key"):
        fresh.load_state_dict({k: v for k, v in good.items() if k != "state"})
    with pytest.raises(ValueError, match=r"one entry per parameter \(2\), got 1"):
        fresh.load_state_dict({**good, "state": good["state"][:1]})
    bad_shape = [dict(s) for s in good["state"]]
    bad_shape[1]["exp_avg"] = np.zeros(6)
    with pytest.raises(ValueError, match=r"state_dict\['state'\]\[1\]\['exp_avg'\] must have shape \(7,\)"):
        fresh.load_state_dict({**good, "state": bad_shape})
    bad_dtype = [dict(s) for s in good["state"]]
    bad_dtype[0]["exp_avg_sq"] = bad_dtype[0]["exp_avg_sq"].astype(np.float32)
    with pytest.raises(ValueError, match=r"\['exp_avg_sq'\] must have shape \(4, 3\) and dtype float64"):
        fresh.load_state_dict({**good, "state": bad_dtype})
    with pytest.raises(ValueError, match=r"\[0\] must have the keys"):
        optim.Adam(params, amsgrad=False).load_state_dict({**good, "state": [{"exp_avg": 1}, good["state"][1]]})
    with pytest.raises(ValueError, match="step"):
        fresh.load_state_dict({**good, "step": -1})
    # None of the failed loads changed the fresh optimizer.
    assert fresh.step_count == 0 and not np.any(fresh.state[0]["exp_avg"])


def test_repr_and_hyperparameters() -> None:
    optimizer = optim.SGD([np.zeros(2)], lr=0.5, momentum=0.9)
    assert repr(optimizer) == "SGD(lr=0.5, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0)"
    assert repr(optim.GD([np.zeros(2)], lr=0.5)) == "GD(lr=0.5)"
    assert set(optim.Adagrad([np.zeros(2)]).state[0]) == {"sum"}


# -- blocks, threads and memory -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "kwargs"), ALL, ids=IDS)
def test_result_is_bit_identical_whatever_the_blocks_and_threads(
    cls: type, kwargs: dict, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One block per array on one thread, 37-element blocks on one thread, and on three threads: same bits."""
    initial = [rng.normal(size=(30, 17)), rng.normal(size=101).astype(np.float32), rng.normal(size=5)]
    results = []
    previous = optim.get_num_threads()
    try:
        for block_bytes, threads in [(1 << 30, 1), (37 * 8, 1), (37 * 8, 3)]:
            monkeypatch.setattr(_base, "_BLOCK_BYTES", block_bytes)
            monkeypatch.setattr(_base, "_PARALLEL_MIN_ELEMENTS", 0)
            optim.set_num_threads(threads)
            params = [p.copy() for p in initial]
            optimizer = cls(params, **kwargs)
            # 37 float64 or 74 float32 elements per small block
            assert len(optimizer._blocks) == (3 if block_bytes > 1e6 else 14 + 2 + 1)
            for step in range(6):
                optimizer.step(quadratic_grads(params, step))
            results.append(params)
    finally:
        optim.set_num_threads(previous)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_set_num_threads_validates() -> None:
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="num_threads"):
            optim.set_num_threads(bad)


@pytest.mark.parametrize(("cls", "kwargs"), ALL, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_step_allocates_no_parameter_sized_memory(cls: type, kwargs: dict, dtype: type) -> None:
    """After the first step (which allocates one block of scratch per thread), a step on 8 MiB of float64
    parameters (4 MiB in float32) allocates less than 64 KiB: only the small objects of the block loop."""
    rng = np.random.default_rng(0)
    params = [rng.normal(size=1 << 20).astype(dtype), rng.normal(size=(10, 3)).astype(dtype)]
    grads = [rng.normal(size=p.shape).astype(dtype) * 1e-3 for p in params]
    optimizer = cls(params, **kwargs)
    optimizer.step(grads)
    optimizer.step(grads)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        optimizer.step(grads)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, f"a step allocated {peak} bytes"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_can_still_take_threaded_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child process inherits the cached thread pool but not its threads; the pool is dropped at fork, so the
    child's threaded step runs instead of waiting forever (an alarm kills the child if it hangs)."""
    monkeypatch.setattr(_base, "_PARALLEL_MIN_ELEMENTS", 0)
    previous = optim.get_num_threads()
    optim.set_num_threads(2)
    try:
        monkeypatch.setattr(_base, "_BLOCK_BYTES", 800)
        params = [np.ones(1000)]
        optimizer = optim.Adam(params, lr=0.1)  # 10 blocks: the step really uses two threads
        optimizer.step([np.ones(1000)])  # creates the pool in the parent
        assert optim._threads.thread_pool.cache_info().currsize >= 1
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            signal.alarm(20)
            try:
                optimizer.step([np.ones(1000)])
                os._exit(0 if np.all(params[0] < 0.85) else 2)
            except BaseException:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"child ended with status {status}"
    finally:
        optim.set_num_threads(previous)
