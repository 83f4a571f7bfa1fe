r"""Learning-rate schedules bound to an optimizer, equal to ``torch.optim.lr_scheduler``, and the range test.

A schedule is created on an optimizer (which sets the rate of epoch 0) and ``step()`` is called once per epoch,
after that epoch's optimizer steps, as in torch::

    optimizer = SGD(model.params, lr=0.1, momentum=0.9)
    warmup = LinearLR(optimizer, 0.1, total_iters=5)
    cosine = CosineAnnealingLR(optimizer, T_max=95)
    schedule = SequentialLR(optimizer, [warmup, cosine], milestones=[5])
    for epoch in range(100):
        ...                      # optimizer.step(grads) for each mini-batch
        schedule.step()

Each schedule computes its rate with torch's own update rule, so the values are torch's to the last bit; each
docstring gives the closed form. ``lr_range_test`` sweeps the rate to find a good starting value (Smith, 2017).
"""

from __future__ import annotations

from ._base import LRScheduler
from .cosine import CosineAnnealingLR
from .decay import ExponentialLR, MultiStepLR, StepLR
from .range_test import LRRangeTestResult, lr_range_test
from .warmup import LinearLR, SequentialLR

__all__ = [
    "LRScheduler",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "SequentialLR",
    "lr_range_test",
    "LRRangeTestResult",
]
