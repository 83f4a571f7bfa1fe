"""lossopt_companion: the companion package of the book *Optimizing Loss Functions*.

Losses with their gradients, optimizers, learning-rate schedules, regularization, second-order methods, models,
datasets and plots, written from scratch in NumPy so that every line can be read, and tested to agree with
PyTorch and TensorFlow.

Importing the package loads NumPy and nothing else. Submodules are imported on first use::

    >>> import lossopt_companion as lc
    >>> float(lc.losses.mse([1.0, 2.0], [1.0, 4.0]))
    2.0

The modules that need more than NumPy (``viz`` needs matplotlib; the framework bridges import torch or TensorFlow
inside their functions) are never imported by ``import lossopt_companion``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"

#: Submodules available as attributes, imported lazily on first access.
_SUBMODULES = (
    "losses",
    "gradcheck",
    "optim",
    "schedules",
    "regularization",
    "second_order",
    "problems",
    "models",
    "training",
    "datasets",
    "metrics",
    "tables",
    "viz",
    "frameworks",
)

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
