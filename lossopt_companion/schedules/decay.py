"""Step, multi-step and exponential decay (``torch.optim.lr_scheduler.StepLR``, ``MultiStepLR``, ``ExponentialLR``)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from .._validation import check_int
from ._base import LRScheduler, check_factor, check_milestones


class StepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    .. math::

        \gamma_e = \gamma_0 \, g^{\lfloor e / s \rfloor}

    for epoch :math:`e`, step size :math:`s`, factor :math:`g` and starting rate :math:`\gamma_0`. Computed as
    ``torch.optim.lr_scheduler.StepLR`` does: the current rate times :math:`g` at each multiple of :math:`s`.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set.
    step_size : int
        The number of epochs between decays, positive.
    gamma : float, optional
        The factor :math:`g`, positive. Default ``0.1``.

    Raises
    ------
    ValueError
        If ``step_size`` is not a positive integer or ``gamma`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.optim import SGD
    >>> from lossopt_companion.schedules import StepLR
    >>> optimizer = SGD([np.zeros(2)], lr=1.0)
    >>> schedule = StepLR(optimizer, step_size=2, gamma=0.5)
    >>> rates = [schedule.get_last_lr()]
    >>> for epoch in range(5):
    ...     schedule.step()
    ...     rates.append(schedule.get_last_lr())
    >>> rates
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_int(step_size, "step_size")
        self.gamma = check_factor(gamma, "gamma")
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        return lr * self.gamma if self.last_epoch % self.step_size == 0 else lr

    def _closed_form_lr(self) -> float:
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


class MultiStepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` at each milestone epoch.

    .. math::

        \gamma_e = \gamma_0 \, g^{\#\{m \in \text{milestones} \,:\, m \le e\}}

    Computed as ``torch.optim.lr_scheduler.MultiStepLR`` does: the current rate times :math:`g` when the epoch is
    a milestone.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set.
    milestones : list of int
        Strictly increasing positive epochs.
    gamma : float, optional
        The factor :math:`g`, positive. Default ``0.1``.

    Raises
    ------
    ValueError
        If ``milestones`` are not strictly increasing positive integers or ``gamma`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.optim import SGD
    >>> from lossopt_companion.schedules import MultiStepLR
    >>> optimizer = SGD([np.zeros(2)], lr=1.0)
    >>> schedule = MultiStepLR(optimizer, milestones=[1, 3], gamma=0.5)
    >>> rates = [schedule.get_last_lr()]
    >>> for epoch in range(4):
    ...     schedule.step()
    ...     rates.append(schedule.get_last_lr())
    >>> rates
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Any, milestones: Sequence[int], gamma: float = 0.1) -> None:
        self.milestones = check_milestones(milestones)
        self.gamma = check_factor(gamma, "gamma")
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        return lr * self.gamma if self.last_epoch in self.milestones else lr

    def _closed_form_lr(self) -> float:
        return self.base_lr * self.gamma ** bisect_right(self.milestones, self.last_epoch)


class ExponentialLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every epoch.

    .. math::

        \gamma_e = \gamma_0 \, g^{e}

    Computed as ``torch.optim.lr_scheduler.ExponentialLR`` does: the current rate times :math:`g` at each step
    (the product and the power differ by a few ulps after many epochs; the product is torch's value).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set.
    gamma : float
        The factor :math:`g`, positive.

    Raises
    ------
    ValueError
        If ``gamma`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.optim import SGD
    >>> from lossopt_companion.schedules import ExponentialLR
    >>> optimizer = SGD([np.zeros(2)], lr=1.0)
    >>> schedule = ExponentialLR(optimizer, gamma=0.5)
    >>> schedule.step(); schedule.step()
    >>> optimizer.lr
    0.25
    """

    def __init__(self, optimizer: Any, gamma: float) -> None:
        self.gamma = check_factor(gamma, "gamma")
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        return lr * self.gamma

    def _closed_form_lr(self) -> float:
        return self.base_lr * self.gamma**self.last_epoch
