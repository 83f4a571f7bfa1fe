"""Linear warm-up and chaining schedules (``torch.optim.lr_scheduler.LinearLR``, ``SequentialLR``)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from .._validation import check_in_range, check_int
from ._base import LRScheduler, check_milestones


class LinearLR(LRScheduler):
    r"""Scale the learning rate linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` epochs.

    .. math::

        \gamma_e = \gamma_0 \left(f_s + (f_e - f_s) \frac{\min(e, T)}{T}\right)

    for start and end factors :math:`f_s, f_e` and :math:`T` = ``total_iters``; with :math:`f_s < 1 = f_e` this is a
    warm-up, usually chained into another schedule with ``SequentialLR``. Computed as
    ``torch.optim.lr_scheduler.LinearLR`` does, as a ratio of consecutive values applied to the current rate:
    :math:`\gamma_e = \gamma_{e-1} \big(1 + (f_e - f_s) / (T f_s + (e - 1)(f_e - f_s))\big)` for
    :math:`1 \le e \le T`, unchanged after.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set.
    start_factor : float, optional
        The factor :math:`f_s` of epoch 0, in (0, 1]. Default ``1/3``.
    end_factor : float, optional
        The factor :math:`f_e` from epoch :math:`T` on, in [0, 1]. Default ``1.0``.
    total_iters : int, optional
        The number of epochs :math:`T` of the ramp, positive. Default ``5``.

    Raises
    ------
    ValueError
        If a factor is out of its range or ``total_iters`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.optim import SGD
    >>> from lossopt_companion.schedules import LinearLR
    >>> optimizer = SGD([np.zeros(2)], lr=1.0)
    >>> schedule = LinearLR(optimizer, start_factor=0.25, end_factor=1.0, total_iters=3)
    >>> rates = [schedule.get_last_lr()]
    >>> for epoch in range(4):
    ...     schedule.step()
    ...     rates.append(schedule.get_last_lr())
    >>> rates
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
    ) -> None:
        self.start_factor = check_in_range(
            start_factor, "start_factor", 0.0, 1.0, low_inclusive=False, high_inclusive=True
        )
        self.end_factor = check_in_range(end_factor, "end_factor", 0.0, 1.0, high_inclusive=True)
        self.total_iters = check_int(total_iters, "total_iters")
        super().__init__(optimizer)

    def _initial_lr(self, lr: float) -> float:
        return lr * self.start_factor

    def _next_lr(self, lr: float) -> float:
        if self.last_epoch > self.total_iters:
            return lr
        change = self.end_factor - self.start_factor
        return lr * (1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change))

    def _closed_form_lr(self) -> float:
        change = self.end_factor - self.start_factor
        return self.base_lr * (self.start_factor + change * min(self.total_iters, self.last_epoch) / self.total_iters)


class SequentialLR(LRScheduler):
    r"""Run schedules one after the other, handing over at the milestone epochs (e.g. warm-up, then cosine).

    With milestones :math:`m_1 < m_2 < \dots`, schedule :math:`k` is in charge from epoch :math:`m_k` to
    :math:`m_{k+1} - 1` (schedule 0 from epoch 0). This reproduces ``torch.optim.lr_scheduler.SequentialLR``,
    including its behaviour at a hand-over, which is worth knowing:

    - Building the schedules already changed the learning rate (each applies its epoch-0 value when created);
      ``SequentialLR`` resets it to the optimizer's ``initial_lr`` and starts schedule 0 again at its epoch 0.
    - At milestone :math:`m_k`, schedule :math:`k` restarts at *its* epoch 0, with its closed form computed from
      ``base_lr`` (the optimizer's starting rate), not from the rate where schedule :math:`k - 1` stopped:
      a ``CosineAnnealingLR`` after a warm-up starts at the full rate :math:`\gamma_0`, an ``ExponentialLR`` too.
      Its epoch :math:`j` is then global epoch :math:`m_k + j`.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer of every schedule.
    schedulers : list of LRScheduler
        The schedules, all bound to ``optimizer``; no ``SequentialLR`` among them.
    milestones : list of int
        Strictly increasing positive epochs, one fewer than the schedules.

    Raises
    ------
    ValueError
        If the counts do not match, the milestones are not increasing positive integers, or a schedule is bound to
        another optimizer.

    Examples
    --------
    Three epochs of linear warm-up into a cosine over six epochs:

    >>> import numpy as np
    >>> from lossopt_companion.optim import SGD
    >>> from lossopt_companion.schedules import CosineAnnealingLR, LinearLR, SequentialLR
    >>> optimizer = SGD([np.zeros(2)], lr=1.0)
    >>> warmup = LinearLR(optimizer, start_factor=0.25, total_iters=3)
    >>> cosine = CosineAnnealingLR(optimizer, T_max=6)
    >>> schedule = SequentialLR(optimizer, [warmup, cosine], milestones=[3])
    >>> rates = [schedule.get_last_lr()]
    >>> for epoch in range(9):
    ...     schedule.step()
    ...     rates.append(round(schedule.get_last_lr(), 4))
    >>> rates
    [0.25, 0.5, 0.75, 1.0, 0.933, 0.75, 0.5, 0.25, 0.067, 0.0]
    """

    def __init__(self, optimizer: Any, schedulers: Sequence[LRScheduler], milestones: Sequence[int]) -> None:
        if isinstance(schedulers, LRScheduler) or not isinstance(schedulers, Sequence) or len(schedulers) == 0:
            raise ValueError(f"schedulers must be a non-empty list of schedules, got {schedulers!r}")
        for index, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler) or isinstance(scheduler, SequentialLR):
                raise ValueError(
                    f"schedulers[{index}] must be a schedule of lossopt_companion.schedules other than "
                    f"SequentialLR, got {type(scheduler).__name__}"
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"schedulers[{index}] is bound to another optimizer than the one given")
        self.milestones = check_milestones(milestones)
        if len(self.milestones) != len(schedulers) - 1:
            raise ValueError(
                f"milestones must hold one epoch fewer than schedulers ({len(schedulers) - 1}), got "
                f"{len(self.milestones)}"
            )
        self.schedulers = list(schedulers)
        self.optimizer = optimizer
        self.base_lr = float(optimizer.initial_lr)
        self.last_epoch = 0
        self.optimizer.lr = self.base_lr
        self.schedulers[0]._initial_step()
        self._last_lr = self.schedulers[0].get_last_lr()

    def step(self) -> None:
        """Move to the next epoch: the schedule in charge steps, or the next one starts at a milestone."""
        self.last_epoch += 1
        index = bisect_right(self.milestones, self.last_epoch)
        scheduler = self.schedulers[index]
        if index > 0 and self.milestones[index - 1] == self.last_epoch:
            scheduler._restart_at_zero()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()
