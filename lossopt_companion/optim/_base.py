"""The machinery every optimizer shares: validation, state, checkpoints and the block loop.

An optimizer here is a small object in the style of ``torch.optim``: it holds a list of NumPy arrays (the
parameters), updates them **in place** in ``step(grads)``, and keeps its running statistics (moments, momentum
buffers) in arrays of the same shapes. Each algorithm only writes ``_update_block``: the update of one contiguous
slice of one parameter, written as the maths of its docstring. This module runs that function over the parameters
in slices of ``_BLOCK_BYTES`` bytes, so that the several elementwise passes of an update reuse data that is still in
the CPU cache, and spreads the slices over a small thread pool (NumPy releases the GIL inside its loops). Every
update is elementwise, so the result does not depend on how the parameters are sliced or on the number of threads:
it is bit-for-bit the same.

No step allocates an array the size of the parameters: the state is allocated at construction, the scratch space
(a few arrays of one block each) on the first step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_array_list, check_int, check_positive
from . import _threads

#: Bytes of one array in one block. Adam's update makes 13 passes over about six arrays of a block (parameter,
#: gradient, two moments, scratch); with 256 KiB per array a block stays in the cache between passes (1.5 MiB: L3, or
#: a large L2), while each NumPy call still has enough elements to amortize its ~1 microsecond of overhead. Measured
#: on a 2-core AMD EPYC (512 KiB L2 per core): 64 KiB blocks are 1.3x slower, 4 MiB blocks 1.2x slower.
_BLOCK_BYTES = 256 * 1024
#: Below this many elements in total, a step runs on the calling thread: handing blocks to a pool costs more than
#: it saves.
_PARALLEL_MIN_ELEMENTS = 1 << 18


def _flat_view(array: NDArray[Any], order: str) -> NDArray[Any]:
    """A one-dimensional view of a contiguous array (``order`` is "C" or "F"); never a copy."""
    flat = array.reshape(-1, order=order)  # type: ignore[call-overload]
    if array.size and not np.shares_memory(flat, array):  # pragma: no cover - guarded by the contiguity check
        raise AssertionError("reshape made a copy of a contiguous array")
    return flat


def _nonfinite_report(grad: NDArray[np.floating], name: str) -> str:
    """Describe the NaN / infinite values of ``grad`` (only called once a non-finite value is known to exist)."""
    bad = ~np.isfinite(grad)
    count = int(np.count_nonzero(bad))
    first = np.unravel_index(int(np.argmax(bad)), grad.shape) if grad.ndim else ()
    kinds = []
    if np.isnan(grad).any():
        kinds.append("NaN")
    if np.isinf(grad).any():
        kinds.append("infinity")
    first_index = tuple(map(int, first))
    return f"{name} holds {count} non-finite value(s) ({' and '.join(kinds)}), the first at index {first_index}"


class Optimizer:
    """Base class of the optimizers: parameters, learning rate, state, checkpoints and the block loop.

    Subclasses set ``_num_scratch`` (how many scratch arrays of one block their update needs), call
    ``_allocate_state`` at the end of ``__init__``, and implement ``_step_coefficients`` (the scalars of step
    ``t``, computed once per step) and ``_update_block`` (the update of one slice of one parameter).

    Parameters
    ----------
    params : list of numpy.ndarray
        The parameters, floating-point arrays that are updated in place. Each must be contiguous (C or Fortran
        order) and writeable, and no array may appear twice.
    lr : float
        The learning rate, positive.
    check_finite : bool, optional
        Check before every step that the gradients hold no NaN or infinity, and raise ``ValueError`` (leaving the
        parameters and the state untouched) if they do. The check is one summation per block (a NaN or an infinity
        makes the sum non-finite); only when a sum is not finite are the values themselves inspected, so it costs
        no memory, but it is one more read of the gradients, done before anything is written (as torch's
        ``GradScaler`` looks for infinities before it lets a step run): on parameters too large for the cache that
        is about a quarter of an Adam step's time. Pass False to skip it. Default ``True``.

    Attributes
    ----------
    params : list of numpy.ndarray
        The parameters, updated in place by ``step``.
    step_count : int
        How many steps have been taken (:math:`t` in the update formulas).
    state : list of dict
        For each parameter, its state arrays by name (for example ``"exp_avg"`` for Adam's first moment).
    initial_lr : float or None
        The learning rate a schedule scales from, set by the first schedule bound to this optimizer (as
        ``param_group["initial_lr"]`` in torch).

    Examples
    --------
    Every optimizer is used the same way; here a checkpoint is taken and resumed in a new optimizer:

    >>> import numpy as np
    >>> from lossopt_companion.optim import SGD
    >>> w = np.array([1.0, 2.0])
    >>> optimizer = SGD([w], lr=0.1, momentum=0.9)
    >>> optimizer.step([np.array([1.0, -1.0])])
    >>> w
    array([0.9, 2.1])
    >>> resumed = SGD([w], lr=0.1, momentum=0.9)
    >>> resumed.load_state_dict(optimizer.state_dict())
    >>> resumed.step_count, resumed.state[0]["momentum_buffer"]
    (1, array([ 1., -1.]))
    """

    _num_scratch: int = 1

    def __init__(self, params: Sequence[NDArray[np.floating]], lr: float, *, check_finite: bool = True) -> None:
        self.params = check_array_list(params, "params")
        for index, param in enumerate(self.params):
            if not (param.flags.c_contiguous or param.flags.f_contiguous):
                raise ValueError(
                    f"params[{index}] must be a contiguous array (it is updated in place through a flat view), got "
                    f"strides {param.strides} for shape {param.shape}; store the parameter as np.ascontiguousarray"
                )
            if not param.flags.writeable:
                raise ValueError(f"params[{index}] must be writeable (it is updated in place)")
            for other in range(index):
                if self.params[other] is param:
                    raise ValueError(f"params[{index}] is the same array as params[{other}]; list each array once")
        self._lr = check_positive(lr, "lr")
        self.check_finite = bool(check_finite)
        self.step_count = 0
        self.initial_lr: float | None = None
        self.state: list[dict[str, NDArray[np.floating]]] = []

    # -- learning rate ------------------------------------------------------------------------------------------------

    @property
    def lr(self) -> float:
        r"""The learning rate :math:`\gamma` of the next step; schedules set it between epochs.

        It may be set to 0 (a cosine schedule anneals to exactly 0) but not below.
        """
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_positive(value, "lr", allow_zero=True)

    # -- what subclasses provide --------------------------------------------------------------------------------------

    def hyperparameters(self) -> dict[str, Any]:
        """Return the hyper-parameters other than the learning rate, as passed to the constructor.

        Returns
        -------
        dict
            Name to value; empty for the base class.
        """
        return {}

    def _step_coefficients(self) -> Any:
        """The scalars of step ``self.step_count`` (bias corrections, decayed rates), computed once per step."""
        return None

    def _update_block(
        self,
        param: NDArray[np.floating],
        grad: NDArray[np.floating],
        state: tuple[NDArray[np.floating], ...],
        scratch: tuple[NDArray[np.floating], ...],
        step: Any,
    ) -> None:
        """Update one slice of one parameter in place (``state`` in the order of ``_allocate_state``)."""
        raise NotImplementedError

    # -- state --------------------------------------------------------------------------------------------------------

    def _allocate_state(self, initial_values: dict[str, float]) -> None:
        """Create the state arrays (name -> initial value), shaped and typed like each parameter, and the blocks."""
        self.state = [
            {name: np.full_like(param, value) for name, value in initial_values.items()} for param in self.params
        ]
        self._orders = ["C" if param.flags.c_contiguous else "F" for param in self.params]
        self._blocks: list[tuple[int, int, int, NDArray[np.floating], tuple[NDArray[np.floating], ...]]] = []
        self._block_length: dict[np.dtype[Any], int] = {}
        for index, (param, order) in enumerate(zip(self.params, self._orders)):
            flat_param = _flat_view(param, order)
            flat_state = [_flat_view(array, order) for array in self.state[index].values()]
            length = max(1, _BLOCK_BYTES // param.itemsize)
            self._block_length[param.dtype] = max(self._block_length.get(param.dtype, 1), min(param.size, length))
            for start in range(0, param.size, length):
                stop = min(start + length, param.size)
                views = tuple(array[start:stop] for array in flat_state)
                self._blocks.append((index, start, stop, flat_param[start:stop], views))
        self._total_size = sum(param.size for param in self.params)
        self._scratch: dict[int, dict[np.dtype[Any], tuple[NDArray[np.floating], ...]]] = {}
        self._chunks: dict[int, list[list[int]]] = {}

    def _worker_scratch(self, worker: int) -> dict[np.dtype[Any], tuple[NDArray[np.floating], ...]]:
        """The scratch arrays of one worker thread, one set per parameter dtype (allocated on first use)."""
        if worker not in self._scratch:
            self._scratch[worker] = {
                dtype: tuple(np.empty(length, dtype=dtype) for _ in range(self._num_scratch))
                for dtype, length in self._block_length.items()
            }
        return self._scratch[worker]

    def _chunked_blocks(self, num_workers: int) -> list[list[int]]:
        """Split the block indices into ``num_workers`` runs holding about the same number of elements."""
        if num_workers not in self._chunks:
            chunks: list[list[int]] = [[] for _ in range(num_workers)]
            done = 0
            for position, (_, start, stop, _, _) in enumerate(self._blocks):
                chunks[min(num_workers - 1, done * num_workers // self._total_size)].append(position)
                done += stop - start
            self._chunks[num_workers] = [chunk for chunk in chunks if chunk]
        return self._chunks[num_workers]

    def _map_chunks(self, work: Callable[[int, list[int]], Any]) -> list[Any]:
        """Run ``work(worker, block_positions)`` over the chunks of blocks, on the pool when the step is large."""
        if not self._blocks:
            return []
        num_workers = _threads.get_num_threads() if self._total_size >= _PARALLEL_MIN_ELEMENTS else 1
        chunks = self._chunked_blocks(min(num_workers, len(self._blocks)))
        if len(chunks) == 1:
            return [work(0, chunks[0])]
        pool = _threads.thread_pool(len(chunks))
        return list(pool.map(work, range(len(chunks)), chunks))

    # -- the step -----------------------------------------------------------------------------------------------------

    def _flat_grads(self, grads: Sequence[ArrayLike]) -> list[NDArray[np.floating]]:
        """Validate ``grads`` against the parameters and return flat views of them in the parameters' order."""
        if isinstance(grads, np.ndarray) or not isinstance(grads, Sequence):
            raise ValueError(f"grads must be a list of arrays, one per parameter, got {type(grads).__name__}")
        if len(grads) != len(self.params):
            raise ValueError(f"grads must hold one array per parameter: expected {len(self.params)}, got {len(grads)}")
        flat = []
        for index, (grad, param, order) in enumerate(zip(grads, self.params, self._orders)):
            grad = np.asarray(grad)
            if grad.shape != param.shape:
                raise ValueError(
                    f"grads[{index}] must have the shape of params[{index}], {param.shape}, got {grad.shape}"
                )
            if grad.dtype != param.dtype:
                raise ValueError(
                    f"grads[{index}] must have the dtype of params[{index}], {param.dtype}, got {grad.dtype}; "
                    "cast the gradient explicitly (no silent up- or down-casting)"
                )
            # A view when the gradient is laid out like the parameter; otherwise a copy in the parameter's order.
            flat.append(grad.reshape(-1, order=order))  # type: ignore[call-overload]
        return flat

    def _raise_if_not_finite(self, grads: Sequence[ArrayLike], flat_grads: list[NDArray[np.floating]]) -> None:
        def blocks_are_finite(worker: int, positions: list[int]) -> bool:
            # errstate is per thread, so it is set here rather than around the pool.
            with np.errstate(over="ignore", invalid="ignore"):
                for position in positions:
                    index, start, stop, _, _ = self._blocks[position]
                    block = flat_grads[index][start:stop]
                    # A NaN or an infinity makes the sum non-finite; a finite sum can also overflow, hence the
                    # exact test of the rare block whose sum is not finite.
                    if not np.isfinite(np.add.reduce(block)) and not np.isfinite(block).all():
                        return False
            return True

        if all(self._map_chunks(blocks_are_finite)):
            return
        for index, grad in enumerate(grads):
            grad = np.asarray(grad)
            if not np.isfinite(grad).all():
                raise ValueError(
                    f"{_nonfinite_report(grad, f'grads[{index}]')}; the parameters were not updated. A NaN or "
                    "infinite gradient usually means the loss diverged (try a smaller lr); pass check_finite=False "
                    "to skip this check"
                )

    def step(self, grads: Sequence[ArrayLike]) -> None:
        """Take one optimization step: update every parameter in place from its gradient.

        Parameters
        ----------
        grads : list of numpy.ndarray
            One gradient per parameter, in the same order, with the same shape and dtype.

        Raises
        ------
        ValueError
            If the number, shapes or dtypes of ``grads`` do not match the parameters, or (when ``check_finite``) a
            gradient holds a NaN or an infinity; in that case nothing is updated.
        """
        flat_grads = self._flat_grads(grads)
        if self.check_finite:
            self._raise_if_not_finite(grads, flat_grads)
        self.step_count += 1
        coefficients = self._step_coefficients()

        def update_blocks(worker: int, positions: list[int]) -> None:
            scratch = self._worker_scratch(worker)
            for position in positions:
                index, start, stop, param, state = self._blocks[position]
                work = scratch[param.dtype]
                if work[0].size != stop - start:
                    work = tuple(array[: stop - start] for array in work)
                self._update_block(param, flat_grads[index][start:stop], state, work, coefficients)

        self._map_chunks(update_blocks)

    # -- checkpoints --------------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Return a checkpoint of the optimizer: a deep copy, unaffected by later steps.

        Returns
        -------
        dict
            ``"optimizer"`` (the class name), ``"step"``, ``"lr"``, ``"initial_lr"``, ``"hyperparameters"`` and
            ``"state"`` (for each parameter, a dict of copies of its state arrays).
        """
        return {
            "optimizer": type(self).__name__,
            "step": self.step_count,
            "lr": self._lr,
            "initial_lr": self.initial_lr,
            "hyperparameters": self.hyperparameters(),
            "state": [{name: array.copy() for name, array in state.items()} for state in self.state],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from a checkpoint made by ``state_dict``: copy the step, learning rate and state into this optimizer.

        The optimizer must be of the same class, built with the same hyper-parameters on parameters of the same
        shapes and dtypes; the values are copied, so the checkpoint can be reused.

        Parameters
        ----------
        state_dict : dict
            A checkpoint returned by ``state_dict``.

        Raises
        ------
        ValueError
            If the checkpoint is of another optimizer or other hyper-parameters, or its state arrays do not match
            the parameters in number, names, shapes or dtypes.
        """
        if not isinstance(state_dict, dict):
            raise ValueError(f"state_dict must be a dict made by state_dict(), got {type(state_dict).__name__}")
        missing = {"optimizer", "step", "lr", "initial_lr", "hyperparameters", "state"} - set(state_dict)
        if missing:
            raise ValueError(f"state_dict is missing the key(s) {sorted(missing)}")
        name = type(self).__name__
        if state_dict["optimizer"] != name:
            raise ValueError(f"state_dict['optimizer'] is {state_dict['optimizer']!r}, cannot load it into {name}")
        differences = {
            key: (value, state_dict["hyperparameters"].get(key))
            for key, value in self.hyperparameters().items()
            if state_dict["hyperparameters"].get(key) != value
        }
        if differences:
            detail = ", ".join(f"{key}={saved!r} saved vs {own!r} here" for key, (own, saved) in differences.items())
            raise ValueError(f"state_dict['hyperparameters'] do not match this {name}: {detail}")
        step = state_dict["step"]
        check_int(step, "state_dict['step']", minimum=0)
        saved_state = state_dict["state"]
        if not isinstance(saved_state, Sequence) or len(saved_state) != len(self.state):
            count = len(saved_state) if isinstance(saved_state, Sequence) else type(saved_state).__name__
            raise ValueError(f"state_dict['state'] must hold one entry per parameter ({len(self.state)}), got {count}")
        for index, (saved, own) in enumerate(zip(saved_state, self.state)):
            if not isinstance(saved, dict) or set(saved) != set(own):
                keys = sorted(saved) if isinstance(saved, dict) else type(saved).__name__
                raise ValueError(f"state_dict['state'][{index}] must have the keys {sorted(own)}, got {keys}")
            for key, array in own.items():
                value = np.asarray(saved[key])
                if value.shape != array.shape or value.dtype != array.dtype:
                    raise ValueError(
                        f"state_dict['state'][{index}][{key!r}] must have shape {array.shape} and dtype {array.dtype} "
                        f"like params[{index}], got shape {value.shape} and dtype {value.dtype}"
                    )
        lr = check_positive(state_dict["lr"], "state_dict['lr']", allow_zero=True)
        initial_lr = state_dict["initial_lr"]
        if initial_lr is not None:
            initial_lr = check_positive(initial_lr, "state_dict['initial_lr']", allow_zero=True)
        # Everything is validated before anything is written, so a bad checkpoint leaves the optimizer as it was.
        for saved, own in zip(saved_state, self.state):
            for key, array in own.items():
                np.copyto(array, saved[key])
        self.step_count = int(step)
        self._lr = lr
        self.initial_lr = initial_lr

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={value!r}" for key, value in {"lr": self._lr, **self.hyperparameters()}.items())
        return f"{type(self).__name__}({settings})"
