"""Where the optimizers agree with ``keras.optimizers`` (TensorFlow backend) and where they differ, step by step.

Keras runs on float64 variables here, so agreement is checked to 1e-9 like torch's rather than to float32's 2e-5.
Two things of Keras's pass through float32 even then: the learning rate lives in a float32 variable, and a Python
float hyper-parameter is turned into a float32 tensor before it is cast to the variable's dtype
(``keras.ops.cast(0.9, "float64")`` is 0.8999999761581421). So every learning rate, beta, momentum, rho, epsilon,
weight decay and initial accumulator value below is exactly representable in float32 (0.875, 2**-6, ...); with 0.9
the two sides differ by ~1e-8 relative from the first step. The problem: a tanh regression with two parameter
arrays, the gradient computed in NumPy from each side's current parameters on a mini-batch that cycles with the
step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from lossopt_companion import optim  # noqa: E402

STEPS = 60
RTOL = 1e-9


def make_problem(gradient_scale: float = 1.0) -> tuple[list[np.ndarray], Callable[[list[np.ndarray], int], list]]:
    """Parameters ``[A, c]`` and the gradient of ``scale * mean((tanh(X A) + c - Y)^2) / 2`` on batch ``step % 2``."""
    rng = np.random.default_rng(7)
    X_all, Y_all = rng.normal(size=(16, 4)), rng.normal(size=(16, 3))
    params = [rng.normal(scale=0.5, size=(4, 3)), rng.normal(scale=0.1, size=3)]

    def grads(current: list[np.ndarray], step: int) -> list[np.ndarray]:
        A, c = current
        X, Y = X_all[8 * (step % 2) : 8 * (step % 2) + 8], Y_all[8 * (step % 2) : 8 * (step % 2) + 8]
        hidden = np.tanh(X @ A)
        residual = gradient_scale * (hidden + c - Y) / len(X)
        return [X.T @ (residual * (1 - hidden**2)), residual.sum(axis=0)]

    return params, grads


def run_keras(keras_optimizer, steps: int, gradient_scale: float = 1.0, lr_schedule=None) -> list[list[np.ndarray]]:
    """The parameters after each of ``steps`` Keras updates (``lr_schedule(step)`` may set the learning rate)."""
    params, grads = make_problem(gradient_scale)
    variables = [keras.Variable(p, dtype="float64") for p in params]
    keras_optimizer.build(variables)
    # A traced graph takes ~1 ms per update instead of ~15 ms eagerly; it reads the learning-rate variable each call.
    apply = tf.function(lambda gradients: keras_optimizer.apply(gradients, variables))
    history = []
    for step in range(1, steps + 1):
        if lr_schedule is not None:
            keras_optimizer.learning_rate = lr_schedule(step)
        current = [v.numpy() for v in variables]
        apply([tf.constant(g) for g in grads(current, step)])
        history.append([v.numpy().copy() for v in variables])
    return history


def run_ours(
    make_optimizer, steps: int, gradient_scale: float = 1.0, lr_schedule=None, before_step=None
) -> list[list[np.ndarray]]:
    params, grads = make_problem(gradient_scale)
    optimizer = make_optimizer(params)
    history = []
    for step in range(1, steps + 1):
        if lr_schedule is not None:
            optimizer.lr = lr_schedule(step)
        if before_step is not None:
            before_step(optimizer, step)
        optimizer.step(grads(params, step))
        history.append([p.copy() for p in params])
    return history


def run_reference(update, steps: int, gradient_scale: float = 1.0, lr_schedule=None) -> list[list[np.ndarray]]:
    """A NumPy transcription of a Keras update: ``update(params, grads, state, lr, t)`` changes params in place."""
    params, grads = make_problem(gradient_scale)
    state: dict = {}
    history = []
    for step in range(1, steps + 1):
        lr = lr_schedule(step) if lr_schedule is not None else None
        update(params, grads(params, step), state, lr, step)
        history.append([p.copy() for p in params])
    return history


def max_relative_difference(a: list[list[np.ndarray]], b: list[list[np.ndarray]]) -> np.ndarray:
    """For each step, the largest elementwise relative difference over all parameters."""
    return np.array(
        [max(np.max(np.abs(x - y) / np.abs(y)) for x, y in zip(step_a, step_b)) for step_a, step_b in zip(a, b)]
    )


# -- SGD ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.875, False), (0.875, True)])
def test_sgd_matches_keras_at_constant_lr(momentum: float, nesterov: bool) -> None:
    r"""At a constant learning rate the two SGDs give the same parameters.

    torch / ours: :math:`b_t = \mu b_{t-1} + g_t` (:math:`b_1 = g_1`), :math:`\theta_t = \theta_{t-1} - \gamma b_t`
    (Nesterov: :math:`\theta_t = \theta_{t-1} - \gamma (g_t + \mu b_t)`).
    Keras: :math:`v_t = \mu v_{t-1} - \gamma g_t` (:math:`v_0 = 0`), :math:`\theta_t = \theta_{t-1} + v_t`
    (Nesterov: :math:`\theta_t = \theta_{t-1} + \mu v_t - \gamma g_t`). By induction :math:`v_t = -\gamma b_t`.
    """
    lr = 2.0**-4
    keras_run = run_keras(keras.optimizers.SGD(learning_rate=lr, momentum=momentum, nesterov=nesterov), STEPS)
    ours = run_ours(lambda p: optim.SGD(p, lr=lr, momentum=momentum, nesterov=nesterov), STEPS)
    assert max_relative_difference(ours, keras_run).max() < RTOL


def test_sgd_momentum_differs_from_keras_after_an_lr_change() -> None:
    r"""After the learning rate changes, Keras's velocity still carries the old rate; torch's buffer does not.

    torch / ours: :math:`\theta_t = \theta_{t-1} - \gamma_t b_t` with :math:`b_t = \mu b_{t-1} + g_t`: the new rate
    multiplies the whole history at once. Keras: :math:`v_t = \mu v_{t-1} - \gamma_t g_t`,
    :math:`\theta_t = \theta_{t-1} + v_t`: the history keeps the rates it was accumulated with. Equal up to the change
    (step 30, rate quartered); different after; a NumPy transcription of Keras's formula reproduces Keras.
    """
    schedule = lambda step: 2.0**-3 if step < 30 else 2.0**-5  # noqa: E731
    keras_run = run_keras(keras.optimizers.SGD(learning_rate=1.0, momentum=0.875), STEPS, lr_schedule=schedule)
    ours = run_ours(lambda p: optim.SGD(p, lr=1.0, momentum=0.875), STEPS, lr_schedule=schedule)

    def keras_sgd(params, grads, state, lr, t):
        velocities = state.setdefault("v", [np.zeros_like(p) for p in params])
        for p, g, v in zip(params, grads, velocities):
            v[...] = 0.875 * v - lr * g
            p += v

    reference = run_reference(keras_sgd, STEPS, lr_schedule=schedule)
    difference = max_relative_difference(ours, keras_run)
    assert difference[:29].max() < RTOL
    assert difference[29:].min() > 1e-3  # torch's and Keras's trajectories have separated for good
    assert max_relative_difference(reference, keras_run).max() < RTOL


def test_keras_sgd_weight_decay_is_decoupled() -> None:
    r"""Keras's ``weight_decay`` shrinks the parameters before the update, torch's joins the gradient (L2).

    Keras: :math:`\theta \leftarrow \theta - \theta\lambda\gamma`, then the SGD update with :math:`g_t`.
    torch / ours: :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}`, then the SGD update.
    Without momentum both give :math:`\theta_t = \theta_{t-1} - \gamma g_t - \gamma\lambda\theta_{t-1}`; with
    momentum ours puts :math:`\lambda\theta` into the buffer, where it is remembered and amplified by
    :math:`1/(1 - \mu)`, and Keras does not.
    """
    lr, wd = 2.0**-4, 2.0**-4
    plain_keras = run_keras(keras.optimizers.SGD(learning_rate=lr, weight_decay=wd), STEPS)
    plain_ours = run_ours(lambda p: optim.SGD(p, lr=lr, weight_decay=wd), STEPS)
    assert max_relative_difference(plain_ours, plain_keras).max() < RTOL

    momentum_keras = run_keras(keras.optimizers.SGD(learning_rate=lr, momentum=0.875, weight_decay=wd), STEPS)
    momentum_ours = run_ours(lambda p: optim.SGD(p, lr=lr, momentum=0.875, weight_decay=wd), STEPS)

    def keras_decoupled(params, grads, state, _, t):
        velocities = state.setdefault("v", [np.zeros_like(p) for p in params])
        for p, g, v in zip(params, grads, velocities):
            p -= p * wd * lr
            v[...] = 0.875 * v - lr * g
            p += v

    assert max_relative_difference(run_reference(keras_decoupled, STEPS), momentum_keras).max() < RTOL
    assert max_relative_difference(momentum_ours, momentum_keras)[5:].min() > 1e-4


# -- Adam ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_keras_when_epsilon_is_zero(amsgrad: bool) -> None:
    r"""With :math:`\epsilon = \hat\epsilon = 0` the two Adams are the same.

    torch / ours: :math:`\theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \, m_t / \big(\sqrt{v_t} /
    \sqrt{1 - \beta_2^t} + \epsilon\big)`. Keras: :math:`\alpha_t = \gamma\sqrt{1 - \beta_2^t} / (1 - \beta_1^t)`,
    :math:`\theta_t = \theta_{t-1} - \alpha_t m_t / (\sqrt{v_t} + \hat\epsilon)` (AMSGrad: :math:`\max` of
    :math:`v` in both).
    """
    lr, betas = 2.0**-6, (0.875, 1 - 2.0**-10)
    keras_run = run_keras(
        keras.optimizers.Adam(learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=0.0, amsgrad=amsgrad), STEPS
    )
    ours = run_ours(lambda p: optim.Adam(p, lr=lr, betas=betas, eps=0.0, amsgrad=amsgrad), STEPS)
    assert max_relative_difference(ours, keras_run).max() < RTOL


def test_adam_default_betas_differ_from_keras_through_float32() -> None:
    r"""With the default betas (0.9, 0.999) Keras's first step is shorter by a relative 6.7e-6, in float64 too.

    Keras's bias corrections use :math:`\beta` cast through float32, :math:`\beta^{(32)}`, while its averages use
    the exact :math:`1 - \beta`; at step 1 (:math:`m_1 = (1 - \beta_1) g`, :math:`v_1 = (1 - \beta_2) g^2`) its
    step is ours times :math:`\frac{(1 - \beta_1)\sqrt{1 - \beta_2^{(32)}}}{(1 - \beta_1^{(32)})\sqrt{1 - \beta_2}}`.
    """
    lr, betas = 2.0**-6, (0.9, 0.999)
    keras_run = run_keras(keras.optimizers.Adam(learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=0.0), 1)
    ours = run_ours(lambda p: optim.Adam(p, lr=lr, betas=betas, eps=0.0), 1)
    start, _ = make_problem()
    keras_step, our_step = (
        np.concatenate([(p - s).ravel() for p, s in zip(run[0], start)]) for run in (keras_run, ours)
    )
    ratio = keras_step / our_step
    beta_1_32, beta_2_32 = (float(np.float32(b)) for b in betas)
    expected = (1 - betas[0]) * math.sqrt(1 - beta_2_32) / ((1 - beta_1_32) * math.sqrt(1 - betas[1]))
    assert 1 - expected == pytest.approx(6.7e-6, rel=0.02)
    np.testing.assert_allclose(ratio, expected, rtol=1e-12)


def test_adam_matches_keras_epsilon_hat_once_converted_at_every_step() -> None:
    r"""Keras's :math:`\hat\epsilon` equals torch's :math:`\epsilon_t = \hat\epsilon / \sqrt{1 - \beta_2^t}` at step t.

    Multiplying torch's update above and below by :math:`\sqrt{1 - \beta_2^t}` gives
    :math:`\frac{\gamma\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} m_t / \big(\sqrt{v_t} + \epsilon\sqrt{1 - \beta_2^t}\big)`,
    which is Keras's update when :math:`\hat\epsilon = \epsilon \sqrt{1 - \beta_2^t}`. Setting our ``eps`` to
    :math:`\hat\epsilon / \sqrt{1 - \beta_2^t}` before each step reproduces Keras; the gradients are scaled to
    :math:`10^{-6}` so that :math:`\sqrt{v_t}` is comparable to :math:`\hat\epsilon = 2^{-23} \approx 1.2 \times
    10^{-7}` and the
    conversion matters.
    """
    lr, eps_hat, betas = 2.0**-6, 2.0**-23, (0.875, 1 - 2.0**-10)
    keras_run = run_keras(
        keras.optimizers.Adam(learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=eps_hat),
        STEPS,
        gradient_scale=1e-6,
    )

    def convert(optimizer, t):
        optimizer.eps = eps_hat / math.sqrt(1 - betas[1] ** t)

    converted = run_ours(lambda p: optim.Adam(p, lr=lr, betas=betas), STEPS, gradient_scale=1e-6, before_step=convert)
    assert max_relative_difference(converted, keras_run).max() < RTOL
    same_constant = run_ours(lambda p: optim.Adam(p, lr=lr, betas=betas, eps=eps_hat), STEPS, gradient_scale=1e-6)
    assert max_relative_difference(same_constant, keras_run).max() > 1e-3


def test_keras_adam_weight_decay_is_adamw() -> None:
    r"""``keras.optimizers.Adam(weight_decay=λ)`` and ``keras.optimizers.AdamW`` are decoupled: our ``AdamW``.

    Keras: :math:`\theta \leftarrow \theta - \theta\lambda\gamma`, then Adam with :math:`g_t`. Ours ``AdamW``:
    :math:`\theta \leftarrow \theta(1 - \gamma\lambda)`, then Adam with :math:`g_t`. Ours ``Adam``:
    :math:`g_t \leftarrow g_t + \lambda\theta` (L2), then Adam, which is a different trajectory.
    """
    lr, wd, betas = 2.0**-6, 0.25, (0.875, 1 - 2.0**-10)
    for keras_class in (keras.optimizers.Adam, keras.optimizers.AdamW):
        keras_run = run_keras(
            keras_class(learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=0.0, weight_decay=wd), STEPS
        )
        decoupled = run_ours(lambda p: optim.AdamW(p, lr=lr, betas=betas, eps=0.0, weight_decay=wd), STEPS)
        assert max_relative_difference(decoupled, keras_run).max() < RTOL
    l2 = run_ours(lambda p: optim.Adam(p, lr=lr, betas=betas, eps=0.0, weight_decay=wd), STEPS)
    assert max_relative_difference(l2, keras_run).max() > 1e-3


# -- RMSprop and Adagrad ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("momentum", "centered"), [(0.0, False), (0.5, False), (0.0, True), (0.5, True)])
def test_rmsprop_matches_keras_when_epsilon_is_zero(momentum: float, centered: bool) -> None:
    r"""With :math:`\epsilon = 0` and a constant learning rate the two RMSprops are the same.

    torch / ours: :math:`\theta_t = \theta_{t-1} - \gamma b_t`, :math:`b_t = \mu b_{t-1} + g_t / (\sqrt{\tilde v_t} +
    \epsilon)`. Keras: :math:`b_t = \mu b_{t-1} + \gamma g_t / \sqrt{\tilde v_t + \epsilon}`,
    :math:`\theta_t = \theta_{t-1} - b_t`. Both: :math:`v_t = \rho v_{t-1} + (1 - \rho) g_t^2`,
    :math:`\tilde v_t = v_t` or (centered) :math:`v_t - \bar g_t^2`.
    """
    lr, rho = 2.0**-7, 0.875
    keras_run = run_keras(
        keras.optimizers.RMSprop(learning_rate=lr, rho=rho, epsilon=0.0, momentum=momentum, centered=centered), STEPS
    )
    ours = run_ours(
        lambda p: optim.RMSprop(p, lr=lr, alpha=rho, eps=0.0, momentum=momentum, centered=centered), STEPS
    )
    assert max_relative_difference(ours, keras_run).max() < RTOL


def test_rmsprop_epsilon_inside_versus_outside_the_root() -> None:
    r"""Keras adds :math:`\epsilon` under the root, torch after it: :math:`g / \sqrt{v + \epsilon}` versus
    :math:`g / (\sqrt{v} + \epsilon)`.

    With gradients of order :math:`10^{-4}` (:math:`v \approx 10^{-8}`) and :math:`\epsilon = 2^{-23} \approx 1.2
    \times 10^{-7}`, Keras's denominator is dominated by :math:`\epsilon`, while torch's is barely changed. A NumPy
    transcription of Keras's formula reproduces Keras; ours differs.
    """
    lr, rho, eps, scale = 2.0**-7, 0.875, 2.0**-23, 1e-4
    keras_run = run_keras(keras.optimizers.RMSprop(learning_rate=lr, rho=rho, epsilon=eps), STEPS, scale)
    ours = run_ours(lambda p: optim.RMSprop(p, lr=lr, alpha=rho, eps=eps), STEPS, scale)

    def keras_rmsprop(params, grads, state, _, t):
        averages = state.setdefault("v", [np.zeros_like(p) for p in params])
        for p, g, v in zip(params, grads, averages):
            v[...] = rho * v + (1 - rho) * g**2
            p -= lr * g / np.sqrt(v + eps)

    assert max_relative_difference(run_reference(keras_rmsprop, STEPS, scale), keras_run).max() < RTOL
    assert max_relative_difference(ours, keras_run).max() > 1e-2


def test_adagrad_matches_keras_when_epsilon_is_zero() -> None:
    r"""With :math:`\epsilon = 0`, no learning-rate decay and the same initial accumulator (0.125), the two agree.

    torch / ours: :math:`s_t = s_{t-1} + g_t^2`, :math:`\theta_t = \theta_{t-1} - \gamma g_t / (\sqrt{s_t} +
    \epsilon)`. Keras: :math:`\theta_t = \theta_{t-1} - \gamma g_t / \sqrt{s_t + \epsilon}`; both start from
    :math:`s_0 = \tau`.
    """
    lr = 2.0**-4
    keras_run = run_keras(
        keras.optimizers.Adagrad(learning_rate=lr, initial_accumulator_value=0.125, epsilon=0.0), STEPS
    )
    ours = run_ours(lambda p: optim.Adagrad(p, lr=lr, initial_accumulator_value=0.125, eps=0.0), STEPS)
    assert max_relative_difference(ours, keras_run).max() < RTOL


@pytest.mark.parametrize(
    ("keras_factory", "ours_factory"),
    [
        (
            lambda wd: keras.optimizers.RMSprop(learning_rate=2.0**-7, rho=0.875, epsilon=0.0, weight_decay=wd),
            lambda p, wd: optim.RMSprop(p, lr=2.0**-7, alpha=0.875, eps=0.0, weight_decay=wd),
        ),
        (
            lambda wd: keras.optimizers.Adagrad(
                learning_rate=2.0**-4, initial_accumulator_value=0.125, epsilon=0.0, weight_decay=wd
            ),
            lambda p, wd: optim.Adagrad(p, lr=2.0**-4, initial_accumulator_value=0.125, eps=0.0, weight_decay=wd),
        ),
    ],
    ids=["RMSprop", "Adagrad"],
)
def test_keras_weight_decay_is_decoupled_in_every_optimizer(keras_factory, ours_factory) -> None:
    r"""Keras applies ``weight_decay`` in its base optimizer, before any update rule: decoupled everywhere.

    Keras: :math:`g_t = \nabla f(\theta_{t-1})`, :math:`\theta \leftarrow \theta - \theta\lambda\gamma`, then the
    update with :math:`g_t`. Reproduced by ours without weight decay after shrinking the parameters by
    :math:`1 - \gamma\lambda` by hand; ours with ``weight_decay=λ`` (L2, :math:`g_t + \lambda\theta_{t-1}` through
    the adaptive denominator) differs.
    """
    wd = 0.25
    keras_run = run_keras(keras_factory(wd), STEPS)
    params, grads = make_problem()
    optimizer = ours_factory(params, 0.0)
    decoupled = []
    for step in range(1, STEPS + 1):
        gradient = grads(params, step)
        for p in params:
            p -= p * wd * optimizer.lr
        optimizer.step(gradient)
        decoupled.append([p.copy() for p in params])
    assert max_relative_difference(decoupled, keras_run).max() < RTOL
    l2 = run_ours(lambda p: ours_factory(p, wd), STEPS)
    assert max_relative_difference(l2, keras_run).max() > 1e-3
