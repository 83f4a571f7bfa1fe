r"""The training loop: mini-batches, ``fit``, its history, metrics and callbacks.

``fit`` runs mini-batch gradient descent the way a hand-written PyTorch loop does::

    for epoch in range(epochs):
        # a fresh shuffle every epoch
        for X_batch, y_batch in minibatches(X, y, batch_size, rng=rng):
            loss, grads = model.loss_and_grad(X_batch, y_batch, loss)
            optimizer.step(grads)  # updates model.params in place
        schedule.step()  # once per epoch, after the updates

**The callback protocol.** A callback is any object with three methods (see :class:`Callback`):

- ``on_train_begin(model) -> None``, called once before the first epoch;
- ``on_epoch_end(epoch, logs, model) -> bool``, called after every epoch (``epoch`` counts from 0) with that epoch's
  ``logs`` (``"loss"``, ``"lr"``, the requested metrics such as ``"accuracy"``, and ``"val_loss"``,
  ``"val_accuracy"``, ... when there is validation data); returning True stops training after this epoch;
- ``on_train_end(model) -> None``, called once at the end, also after an early stop.

A callback may change ``model.params`` in place (``p[...] = best``), which is how
``lossopt_companion.regularization.EarlyStopping`` restores the best weights.
"""

from __future__ import annotations

from .batches import minibatches
from .history import History
from .loop import Callback, fit
from .metrics import METRICS

__all__ = ["Callback", "History", "METRICS", "fit", "minibatches"]
