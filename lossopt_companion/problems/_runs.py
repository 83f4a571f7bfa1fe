r"""Run a first-order optimizer on a test problem and measure how fast it gets to the minimum."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_float_array, check_finite, check_int, check_positive
from ._base import Problem

__all__ = ["optimizer_path", "steps_to_tolerance"]


def optimizer_path(
    problem: Problem,
    optimizer_class: Callable[..., Any],
    x0: ArrayLike | None = None,
    steps: int = 1000,
    *,
    bound: float = 1e3,
    **hyperparameters: Any,
) -> NDArray[np.float64]:
    r"""The iterates :math:`x_0, x_1, \ldots, x_K` of an optimizer of ``lossopt_companion.optim`` on ``problem``.

    The optimizer is built as ``optimizer_class([x], **hyperparameters)`` on a float64 copy :math:`x` of the start
    and stepped with ``problem.gradient(x)``, :math:`K =` ``steps`` times. A run that diverges stops early: as soon
    as an iterate leaves the box :math:`\|x\|_\infty \le` ``bound`` (or becomes NaN) it is dropped and the path
    ends, so ``len(path) < steps + 1`` tells that the run diverged. The box catches divergence before a gradient can
    overflow, so the optimizer's own check for non-finite gradients is switched off (``check_finite=False``).

    With ``optim.SGD(momentum=m, nesterov=False)`` the path is that of ``torch.optim.SGD`` stepped on the same
    function: the optimizers equal torch's step for step.

    Parameters
    ----------
    problem : Problem
        The function to minimize (``problem.gradient`` is called with one point of shape ``(n,)``).
    optimizer_class : callable
        An optimizer class such as ``optim.SGD`` or ``optim.Adam``, or any callable with that signature.
    x0 : array_like, optional
        The start, shape ``(n,)``; ``problem.x0`` by default.
    steps : int
        The number of steps :math:`K`.
    bound : float
        The half-width of the box outside which the run counts as diverged.
    **hyperparameters
        Passed to the optimizer (``lr``, ``momentum``, ``betas``, ...).

    Returns
    -------
    numpy.ndarray
        The iterates, shape ``(K + 1, n)`` (fewer rows if the run diverged); row 0 is the start.

    Raises
    ------
    ValueError
        If ``x0`` does not have shape ``(n,)`` or is not finite, ``steps`` is not a positive integer, or ``bound``
        is not positive.

    Examples
    --------
    >>> from lossopt_companion import optim, problems
    >>> quadratic = problems.IllConditionedQuadratic(10.0)
    >>> path = problems.optimizer_path(quadratic, optim.GD, steps=200, lr=0.1)
    >>> path.shape
    (201, 2)
    >>> bool(np.allclose(path[-1], quadratic.minimizers[0]))
    True
    >>> # lr > 2 / 10: it diverges, and the path ends when it leaves the box
    >>> len(problems.optimizer_path(quadratic, optim.GD, steps=200, lr=0.5))
    6
    """
    start = problem.x0 if x0 is None else as_float_array(x0, "x0")
    if start.shape != (problem.dim,):
        raise ValueError(f"x0 must have shape ({problem.dim},), one point of the problem, got {start.shape}")
    check_finite(start, "x0")
    steps = check_int(steps, "steps")
    bound = check_positive(bound, "bound")
    x = np.array(start, dtype=np.float64)
    optimizer = optimizer_class([x], check_finite=False, **hyperparameters)
    path = np.empty((steps + 1, problem.dim))
    path[0] = x
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is detected below, not warned about
        for step in range(1, steps + 1):
            optimizer.step([problem.gradient(x)])
            if not np.abs(x).max() <= bound:  # a NaN fails this test too
                return path[:step].copy()
            path[step] = x
    return path


def steps_to_tolerance(path: ArrayLike, minimizer: ArrayLike, tol: float = 1e-4) -> int | None:
    r"""The first step :math:`k` with :math:`\|x_k - x^*\| <` ``tol``, or ``None`` if the path never gets there.

    Parameters
    ----------
    path : array_like
        Iterates, shape ``(K + 1, n)``, as returned by :func:`optimizer_path`.
    minimizer : array_like
        The minimizer :math:`x^*`, shape ``(n,)``.
    tol : float
        The distance that counts as arrived.

    Returns
    -------
    int or None
        The index of the first iterate within ``tol`` of ``minimizer``.

    Raises
    ------
    ValueError
        If ``path`` is not 2-D, ``minimizer`` does not have shape ``(n,)``, or ``tol`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> path = np.array([[4.0, 0.0], [2.0, 0.0], [1e-5, 0.0], [1.0, 0.0]])
    >>> steps_to_tolerance(path, [0.0, 0.0])
    2
    >>> steps_to_tolerance(np.array([[4.0, 0.0]]), [0.0, 0.0]) is None
    True
    """
    points = as_float_array(path, "path")
    target = as_float_array(minimizer, "minimizer")
    if points.ndim != 2:
        raise ValueError(f"path must have shape (K + 1, n), one row per iterate, got shape {points.shape}")
    if target.shape != points.shape[1:]:
        raise ValueError(f"minimizer must have shape ({points.shape[1]},), like a row of path, got {target.shape}")
    tol = check_positive(tol, "tol")
    inside = np.linalg.norm(points - target, axis=1) < tol
    return int(np.argmax(inside)) if inside.any() else None
