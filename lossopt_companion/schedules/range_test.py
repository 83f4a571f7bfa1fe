"""The learning-rate range test (Smith, 2017, "Cyclical learning rates for training neural networks")."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_in_range, check_int, check_positive


@dataclass(frozen=True)
class LRRangeTestResult:
    """The curve of a learning-rate range test and the learning rate it suggests.

    Attributes
    ----------
    lrs : numpy.ndarray
        The learning rates tried, increasing geometrically (as many as steps were taken).
    losses : numpy.ndarray
        The smoothed, bias-corrected loss at each learning rate.
    raw_losses : numpy.ndarray
        The mini-batch loss at each learning rate, before smoothing.
    lr_at_min_loss : float
        The learning rate of the lowest smoothed loss.
    suggested_lr : float
        ``lr_at_min_loss / 10``: one order of magnitude below the minimum, where training is fast but still
        stable (the rule of thumb of Smith 2017 and fastai's ``lr_find``), never below the first rate tried.
    diverged : bool
        Whether the sweep stopped early because the loss blew up.
    """

    lrs: NDArray[np.float64]
    losses: NDArray[np.float64]
    raw_losses: NDArray[np.float64]
    lr_at_min_loss: float
    suggested_lr: float
    diverged: bool


def lr_range_test(
    loss_and_grad: Callable[[int], tuple[float, Sequence[ArrayLike]]],
    optimizer: Any,
    *,
    lr_min: float = 1e-7,
    lr_max: float = 10.0,
    num_steps: int = 100,
    smoothing: float = 0.98,
    divergence_factor: float = 4.0,
) -> LRRangeTestResult:
    r"""Sweep the learning rate geometrically, one optimizer step per rate, and record the loss (Smith, 2017).

    Step :math:`i = 0, \dots, n - 1` sets the rate

    .. math::

        \gamma_i = \gamma_{\min} \left(\frac{\gamma_{\max}}{\gamma_{\min}}\right)^{i / (n - 1)},

    evaluates ``loss, grads = loss_and_grad(i)`` at the current parameters, records the smoothed loss
    :math:`a_i = \beta a_{i-1} + (1 - \beta) \ell_i` with the bias correction :math:`\hat a_i = a_i / (1 -
    \beta^{i+1})` (as Adam's moments, so that the first values are not pulled towards 0), then takes the step. The
    sweep stops early when :math:`\hat a_i > \kappa \min_{j < i} \hat a_j` (:math:`\kappa` = ``divergence_factor``;
    the losses are assumed positive, as every loss of ``lossopt_companion.losses``) or a loss or gradient is not
    finite. Afterwards the parameters and the optimizer (state, step count, learning rate) are restored exactly, so
    the test can be run before the real training.

    Typically the curve is flat at tiny rates (nothing moves), falls where the rate is useful, and blows up past the
    stability limit. The suggested rate is a tenth of the rate at the lowest point. The default smoothing averages
    over about :math:`1 / (1 - \beta) = 50` steps; with few steps or noisy mini-batch losses a lighter one (0.9)
    keeps a short valley visible.

    Parameters
    ----------
    loss_and_grad : callable
        ``loss_and_grad(i) -> (loss, grads)``: the loss of a mini-batch at the optimizer's current parameters and
        its gradients (one array per parameter), for step ``i``.
    optimizer : Optimizer
        An optimizer of ``lossopt_companion.optim`` holding the parameters.
    lr_min, lr_max : float
        The first and last rates, with ``0 < lr_min < lr_max``.
    num_steps : int, optional
        The number of rates (and steps), at least 2. Default ``100``.
    smoothing : float, optional
        The factor :math:`\beta` in [0, 1) of the loss average. Default ``0.98``.
    divergence_factor : float, optional
        Stop once the smoothed loss exceeds this multiple (> 1) of the best so far. Default ``4.0``.

    Returns
    -------
    LRRangeTestResult
        The rates, smoothed and raw losses, and the suggested rate.

    Raises
    ------
    ValueError
        If an argument is out of range, or the very first loss is not finite.

    Examples
    --------
    Least squares :math:`\frac{1}{2}\|w - 3\|^2` with gradient descent: stable for :math:`\gamma < 2`.

    >>> import numpy as np
    >>> from lossopt_companion.optim import GD
    >>> from lossopt_companion.schedules import lr_range_test
    >>> w = np.zeros(4)
    >>> def loss_and_grad(step):
    ...     return 0.5 * np.sum((w - 3) ** 2), [w - 3]
    >>> result = lr_range_test(loss_and_grad, GD([w], lr=0.1),
    ...                        lr_min=1e-3, lr_max=100.0, num_steps=50)
    >>> result.diverged, 0.01 < result.suggested_lr < 2.0, w
    (True, True, array([0., 0., 0., 0.]))
    """
    if not callable(loss_and_grad):
        raise ValueError(f"loss_and_grad must be a callable step -> (loss, grads), got {type(loss_and_grad).__name__}")
    for attribute in ("params", "lr", "step", "state_dict", "load_state_dict"):
        if not hasattr(optimizer, attribute):
            raise ValueError(f"optimizer must be an optimizer of lossopt_companion.optim (it has no {attribute!r})")
    lr_min = check_positive(lr_min, "lr_min")
    lr_max = check_positive(lr_max, "lr_max")
    if lr_max <= lr_min:
        raise ValueError(f"lr_max must be larger than lr_min, got lr_min={lr_min!r} and lr_max={lr_max!r}")
    num_steps = check_int(num_steps, "num_steps")
    if num_steps < 2:
        raise ValueError(f"num_steps must be at least 2, got {num_steps}")
    smoothing = check_in_range(smoothing, "smoothing", 0.0, 1.0)
    divergence_factor = check_positive(divergence_factor, "divergence_factor")
    if divergence_factor <= 1:
        raise ValueError(f"divergence_factor must be larger than 1, got {divergence_factor!r}")

    planned = lr_min * (lr_max / lr_min) ** (np.arange(num_steps) / (num_steps - 1))
    saved_params = [np.copy(p) for p in optimizer.params]
    saved_state = optimizer.state_dict()
    lrs: list[float] = []
    raw_losses: list[float] = []
    smoothed: list[float] = []
    average, best, diverged = 0.0, math.inf, False
    try:
        for i, lr in enumerate(planned):
            optimizer.lr = float(lr)
            loss, grads = loss_and_grad(i)
            loss = float(loss)
            if not math.isfinite(loss):
                if i == 0:
                    raise ValueError(f"the loss at the initial parameters is not finite ({loss})")
                diverged = True
                break
            average = smoothing * average + (1 - smoothing) * loss
            lrs.append(float(lr))
            raw_losses.append(loss)
            smoothed.append(average / (1 - smoothing ** (i + 1)))
            if smoothed[-1] > divergence_factor * best:
                diverged = True
                break
            best = min(best, smoothed[-1])
            with np.errstate(over="ignore", invalid="ignore"):  # an overflowing sum also counts as a blow-up
                if not all(np.isfinite(np.sum(g)) for g in grads):
                    diverged = True
                    break
            optimizer.step(grads)
    finally:
        for param, saved in zip(optimizer.params, saved_params):
            param[...] = saved
        optimizer.load_state_dict(saved_state)

    lr_array, loss_array = np.array(lrs), np.array(smoothed)
    lowest = int(np.argmin(loss_array))
    return LRRangeTestResult(
        lrs=lr_array,
        losses=loss_array,
        raw_losses=np.array(raw_losses),
        lr_at_min_loss=float(lr_array[lowest]),
        suggested_lr=max(float(lr_array[lowest]) / 10, lr_min),
        diverged=diverged,
    )
