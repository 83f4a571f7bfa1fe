"""The per-epoch record that ``fit`` returns."""

from __future__ import annotations

import numpy as np

__all__ = ["History"]


class History:
    """What ``fit`` returns: one list per logged quantity, one entry per epoch (like Keras's ``History``).

    Attributes
    ----------
    history : dict of str to list of float
        ``"loss"`` (the mean training loss over the epoch's mini-batches), ``"lr"``, the metrics, and their
        ``"val_"`` versions when there was validation data.

    Examples
    --------
    >>> from lossopt_companion.training import History
    >>> history = History()
    >>> for loss, accuracy in [(0.9, 0.6), (0.5, 0.8), (0.6, 0.7)]:
    ...     history.append({"loss": loss, "accuracy": accuracy})
    >>> history.epochs, history["loss"]
    (3, [0.9, 0.5, 0.6])
    >>> history.best("loss"), history.best("accuracy")
    ((1, 0.5), (1, 0.8))
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}

    def append(self, logs: dict[str, float]) -> None:
        """Record one epoch's logs.

        Parameters
        ----------
        logs : dict of str to float
            The epoch's values.
        """
        for name, value in logs.items():
            self.history.setdefault(name, []).append(float(value))

    @property
    def epochs(self) -> int:
        """The number of epochs recorded."""
        return max((len(values) for values in self.history.values()), default=0)

    def __getitem__(self, name: str) -> list[float]:
        if name not in self.history:
            raise KeyError(f"{name!r} was not recorded; the history holds {sorted(self.history)}")
        return self.history[name]

    def __contains__(self, name: object) -> bool:
        return name in self.history

    def __repr__(self) -> str:
        return f"History(epochs={self.epochs}, keys={sorted(self.history)})"

    def best(self, metric: str, mode: str | None = None) -> tuple[int, float]:
        """Return ``(epoch, value)`` of the best epoch for ``metric`` (the first one on ties).

        Parameters
        ----------
        metric : str
            A recorded name, e.g. ``"val_loss"``.
        mode : {"min", "max"}, optional
            Whether lower or higher is better; by default ``"max"`` for accuracies and ``"min"`` otherwise.

        Returns
        -------
        tuple of (int, float)
            The epoch (from 0) and its value.

        Raises
        ------
        KeyError
            If ``metric`` was not recorded.
        ValueError
            If ``mode`` is not ``"min"`` or ``"max"``.
        """
        values = self[metric]
        if mode is None:
            mode = "max" if metric.endswith("accuracy") else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        epoch = int(np.argmin(values) if mode == "min" else np.argmax(values))
        return epoch, values[epoch]
