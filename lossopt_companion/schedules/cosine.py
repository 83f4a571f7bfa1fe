"""Cosine annealing (``torch.optim.lr_scheduler.CosineAnnealingLR``)."""

from __future__ import annotations

import math
from typing import Any

from .._validation import check_int, check_positive
from ._base import LRScheduler


class CosineAnnealingLR(LRScheduler):
    r"""Anneal the learning rate from its starting value to ``eta_min`` along half a cosine over ``T_max`` epochs.

    The closed form (Loshchilov and Hutter, 2017, "SGDR", without restarts) is

    .. math::

        \gamma_e = \eta_{\min} + \tfrac{1}{2} (\gamma_0 - \eta_{\min})
            \left(1 + \cos\frac{\pi e}{T_{\max}}\right),

    which reaches :math:`\eta_{\min}` at :math:`e = T_{\max}` and, if training continues, climbs back to
    :math:`\gamma_0` at :math:`2 T_{\max}` (a cosine of period :math:`2 T_{\max}`).

    ``torch.optim.lr_scheduler.CosineAnnealingLR`` computes it recursively from the current rate, and so does this
    class, to reproduce torch's numbers exactly:

    .. math::

        \gamma_e = \eta_{\min} + (\gamma_{e-1} - \eta_{\min})
            \frac{1 + \cos(\pi e / T_{\max})}{1 + \cos(\pi (e - 1) / T_{\max})},

    except at :math:`e - 1 - T_{\max} \equiv 0 \pmod{2 T_{\max}}` (the epoch after a minimum, where the
    denominator :math:`1 + \cos(\pi (e - 1) / T_{\max})` is 0), where

    .. math::

        \gamma_e = \gamma_{e-1} + \tfrac{1}{2} (\gamma_0 - \eta_{\min})
            \left(1 - \cos\frac{\pi}{T_{\max}}\right).

    The recursion tracks the closed form to round-off; it also means that a rate changed by hand between
    epochs is annealed from its new value, as in torch.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set.
    T_max : int
        The number of epochs of the descent to ``eta_min``, positive.
    eta_min : float, optional
        The smallest learning rate, non-negative. Default ``0.0``.

    Raises
    ------
    ValueError
        If ``T_max`` is not a positive integer or ``eta_min`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.optim import SGD
    >>> from lossopt_companion.schedules import CosineAnnealingLR
    >>> optimizer = SGD([np.zeros(2)], lr=1.0)
    >>> schedule = CosineAnnealingLR(optimizer, T_max=4)
    >>> rates = [schedule.get_last_lr()]
    >>> for epoch in range(4):
    ...     schedule.step()
    ...     rates.append(round(schedule.get_last_lr(), 6))
    >>> rates
    [1.0, 0.853553, 0.5, 0.146447, 0.0]
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803 (torch's name)
        self.T_max = check_int(T_max, "T_max")
        self.eta_min = check_positive(eta_min, "eta_min", allow_zero=True)
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        epoch, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if (epoch - 1 - period) % (2 * period) == 0:
            return lr + (self.base_lr - eta_min) * (1 - math.cos(math.pi / period)) / 2
        return (1 + math.cos(math.pi * epoch / period)) / (1 + math.cos(math.pi * (epoch - 1) / period)) * (
            lr - eta_min
        ) + eta_min

    def _closed_form_lr(self) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
