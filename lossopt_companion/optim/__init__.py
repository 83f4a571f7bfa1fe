r"""Optimizers written from scratch in NumPy, each equal to its ``torch.optim`` namesake step for step.

Every optimizer takes a list of NumPy arrays and updates them **in place**::

    optimizer = Adam(model.params, lr=1e-3)
    for X_batch, y_batch in batches:
        loss, grads = model.loss_and_grad(X_batch, y_batch, "mse")
        optimizer.step(grads)

``optimizer.lr`` can be read and set (the schedules of ``lossopt_companion.schedules`` set it once per epoch), and
``state_dict()`` / ``load_state_dict()`` checkpoint a run so that it resumes with identical results. The defaults are
torch's. Each class docstring writes out the exact update and says where Keras computes differently.

An update touches each parameter several times (Adam reads and writes five arrays), so the parameters are processed
in cache-sized blocks, spread over a few threads (``set_num_threads``); no step allocates memory the size of the
parameters, and the result does not depend on the number of threads.
"""

from __future__ import annotations

from ._base import Optimizer
from ._threads import get_num_threads, set_num_threads
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .sgd import GD, SGD

__all__ = ["GD", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Optimizer", "set_num_threads", "get_num_threads"]
