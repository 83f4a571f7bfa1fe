"""The base class of the learning-rate schedules and their validators."""

from __future__ import annotations

from typing import Any

from .._validation import check_int, check_positive


def check_milestones(milestones: Any, name: str = "milestones") -> list[int]:
    """Return ``milestones`` as a list of strictly increasing positive integers; raise ``ValueError`` otherwise."""
    if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
        raise ValueError(f"{name} must be a list of increasing positive integers, got {milestones!r}")
    values = [check_int(m, f"{name}[{i}]") for i, m in enumerate(milestones)]
    if any(later <= earlier for earlier, later in zip(values, values[1:])):
        raise ValueError(f"{name} must be strictly increasing, got {values}")
    return values


class LRScheduler:
    """Base class of the schedules: bound to an optimizer, ``step()`` once per epoch sets ``optimizer.lr``.

    As in ``torch.optim.lr_scheduler``, creating a schedule already applies its value for epoch 0, and each
    ``step()`` (called after the epoch's optimizer steps) moves to the next epoch. The value is computed from the
    optimizer's *current* learning rate, with torch's update rules (a multiplicative factor per epoch), so that the
    numbers are torch's to the last bit; each class also states its closed form.

    The schedule's starting rate ``base_lr`` is ``optimizer.initial_lr``, which the first schedule bound to an
    optimizer sets to the optimizer's learning rate at that moment (torch's ``param_group["initial_lr"]``): every
    schedule of a ``SequentialLR`` therefore scales the same starting rate.

    Parameters
    ----------
    optimizer : Optimizer
        Any object with a readable and settable ``lr`` (the optimizers of ``lossopt_companion.optim``).

    Attributes
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` is set.
    base_lr : float
        The learning rate the schedule scales.
    last_epoch : int
        The epoch whose learning rate is in force (0 after construction).

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.optim import SGD
    >>> from lossopt_companion.schedules import ExponentialLR
    >>> optimizer = SGD([np.zeros(1)], lr=0.5)
    >>> schedule = ExponentialLR(optimizer, gamma=0.5)   # epoch 0 keeps the rate
    >>> schedule.step()                                   # after epoch 0's optimizer steps
    >>> optimizer.lr, schedule.get_last_lr(), schedule.last_epoch
    (0.25, 0.25, 1)
    """

    def __init__(self, optimizer: Any) -> None:
        if not hasattr(optimizer, "lr"):
            raise ValueError(
                f"optimizer must be an optimizer with an lr attribute, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        if getattr(optimizer, "initial_lr", None) is None:
            optimizer.initial_lr = float(optimizer.lr)
        self.base_lr = float(optimizer.initial_lr)
        self.last_epoch = -1
        self._last_lr = float(optimizer.lr)
        self._initial_step()

    # Each schedule writes torch's three rules for its rate:
    def _initial_lr(self, lr: float) -> float:
        """The rate of epoch 0 given the optimizer's current rate (torch's ``get_lr`` on construction)."""
        return lr

    def _next_lr(self, lr: float) -> float:
        """The rate of epoch ``last_epoch`` (>= 1) given the rate of the epoch before (torch's ``get_lr``)."""
        raise NotImplementedError

    def _closed_form_lr(self) -> float:
        """The rate of epoch ``last_epoch`` from ``base_lr`` alone (torch's ``_get_closed_form_lr``)."""
        raise NotImplementedError

    def _set_lr(self, lr: float) -> None:
        self.optimizer.lr = lr
        self._last_lr = float(self.optimizer.lr)

    def _initial_step(self) -> None:
        self.last_epoch = 0
        self._set_lr(self._initial_lr(self.optimizer.lr))

    def _restart_at_zero(self) -> None:
        """Jump to epoch 0 with the closed form, as torch's ``SequentialLR`` does when a milestone hands over."""
        self.last_epoch = 0
        self._set_lr(self._closed_form_lr())

    def step(self) -> None:
        """Move to the next epoch and set ``optimizer.lr`` to its learning rate (call once per epoch, after training).

        Raises
        ------
        ValueError
            If the optimizer rejects the new rate (a negative one cannot arise from a valid schedule).
        """
        self.last_epoch += 1
        self._set_lr(self._next_lr(self.optimizer.lr))

    def get_last_lr(self) -> float:
        """Return the learning rate this schedule set last (the rate of epoch ``last_epoch``).

        Returns
        -------
        float
            The learning rate.
        """
        return self._last_lr

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr!r})"


def check_factor(value: Any, name: str) -> float:
    """Return ``value`` as a float if it is positive and finite (a multiplicative decay factor)."""
    return check_positive(value, name)
