"""Gradient descent and stochastic gradient descent with momentum (``torch.optim.SGD``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_in_range, check_positive
from ._base import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum, Nesterov momentum and L2 weight decay.

    With learning rate :math:`\gamma`, momentum :math:`\mu`, dampening :math:`\tau` and weight decay
    :math:`\lambda`, step :math:`t = 1, 2, \ldots` does

    .. math::

        \begin{aligned}
        & g_t \leftarrow \nabla_\theta f(\theta_{t-1}) \\
        & \textbf{if } \lambda \neq 0: \quad g_t \leftarrow g_t + \lambda \theta_{t-1} \\
        & \textbf{if } \mu \neq 0: \\
        & \qquad b_t \leftarrow g_t \ \text{ if } t = 1, \quad
              \text{else } b_t \leftarrow \mu b_{t-1} + (1 - \tau) g_t \\
        & \qquad g_t \leftarrow g_t + \mu b_t \ \text{ if nesterov}, \quad
              \text{else } g_t \leftarrow b_t \\
        & \theta_t \leftarrow \theta_{t-1} - \gamma g_t
        \end{aligned}

    This is ``torch.optim.SGD`` line for line: the momentum buffer starts as the first gradient itself (no
    dampening on the first step), and the learning rate multiplies the whole buffer, so a learning rate changed by a
    schedule applies at once to the past gradients too.

    ``keras.optimizers.SGD`` keeps the learning rate inside its velocity, :math:`v_t = \mu v_{t-1} - \gamma_t g_t`,
    :math:`\theta_t = \theta_{t-1} + v_t` (Nesterov: :math:`\theta_t = \theta_{t-1} + \mu v_t - \gamma_t g_t`).
    With a constant :math:`\gamma` this is the same sequence of parameters (:math:`v_t = -\gamma b_t`); after a
    change of learning rate the two differ, because Keras's velocity still carries the old rate. Keras's
    ``weight_decay`` is decoupled, :math:`\theta \leftarrow \theta - \gamma \lambda \theta` before the update; without
    momentum that is the same as the L2 term here, with momentum it is not (here :math:`\lambda\theta` enters the
    buffer).

    Parameters
    ----------
    params : list of numpy.ndarray
        The parameters, updated in place.
    lr : float, optional
        The learning rate :math:`\gamma`, positive. Default ``1e-3``.
    momentum : float, optional
        The momentum factor :math:`\mu`, non-negative. Default ``0.0``.
    dampening : float, optional
        The dampening :math:`\tau` in [0, 1] of the gradient added to the buffer (not applied on the first step).
        Default ``0.0``.
    nesterov : bool, optional
        Use Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``. Default ``False``.
    weight_decay : float, optional
        The L2 coefficient :math:`\lambda`, non-negative (the gradient of :math:`\frac{\lambda}{2}\|\theta\|^2`).
        Default ``0.0``.
    check_finite : bool, optional
        Raise ``ValueError`` on a NaN or infinite gradient (see ``Optimizer``). Default ``True``.

    Raises
    ------
    ValueError
        If ``lr <= 0``, ``momentum`` or ``weight_decay`` is negative, ``dampening`` is outside [0, 1], Nesterov is
        asked for without momentum or with dampening, or the parameters are not a list of contiguous float arrays.

    Examples
    --------
    Minimize :math:`w_1^2 + w_2^2`, whose gradient is :math:`2w`:

    >>> import numpy as np
    >>> from lossopt_companion.optim import SGD
    >>> w = np.array([1.0, -2.0])
    >>> optimizer = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(3):
    ...     optimizer.step([2 * w])
    >>> w.round(6)
    array([ 0.062, -0.124])
    """

    _num_scratch = 2

    def __init__(
        self,
        params: Sequence[NDArray[np.floating]],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        check_finite: bool = True,
    ) -> None:
        super().__init__(params, lr, check_finite=check_finite)
        self.momentum = check_positive(momentum, "momentum", allow_zero=True)
        self.dampening = check_in_range(dampening, "dampening", 0.0, 1.0, high_inclusive=True)
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum <= 0:
            raise ValueError(f"nesterov=True needs momentum > 0, got momentum={momentum!r}")
        if self.nesterov and self.dampening != 0:
            raise ValueError(f"nesterov=True needs dampening=0, got dampening={dampening!r}")
        self._allocate_state({"momentum_buffer": 0.0} if self.momentum != 0 else {})

    def hyperparameters(self) -> dict[str, Any]:
        """Return ``momentum``, ``dampening``, ``nesterov`` and ``weight_decay``.

        Returns
        -------
        dict
            Name to value.
        """
        return {
            "momentum": self.momentum,
            "dampening": self.dampening,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }

    def _step_coefficients(self) -> bool:
        return self.step_count == 1

    def _update_block(
        self,
        param: NDArray[np.floating],
        grad: NDArray[np.floating],
        state: tuple[NDArray[np.floating], ...],
        scratch: tuple[NDArray[np.floating], ...],
        first_step: bool,
    ) -> None:
        decayed_grad, work = scratch
        if self.weight_decay != 0:  # g <- g + lambda theta
            np.multiply(param, self.weight_decay, out=decayed_grad)
            grad = np.add(decayed_grad, grad, out=decayed_grad)
        if self.momentum != 0:
            (buffer,) = state
            if first_step:  # b_1 <- g_1
                np.copyto(buffer, grad)
            else:  # b <- mu b + (1 - tau) g
                buffer *= self.momentum
                if self.dampening == 0:
                    buffer += grad
                else:
                    buffer += np.multiply(grad, 1 - self.dampening, out=work)
            if self.nesterov:  # g <- g + mu b
                grad = np.add(grad, np.multiply(buffer, self.momentum, out=work), out=work)
            else:  # g <- b
                grad = buffer
        param -= np.multiply(grad, self._lr, out=work)  # theta <- theta - gamma g


class GD(SGD):
    r"""Plain gradient descent: :math:`\theta_t \leftarrow \theta_{t-1} - \gamma \nabla_\theta f(\theta_{t-1})`.

    The same update as ``SGD`` without momentum or weight decay (and as ``torch.optim.SGD(params, lr)``); the name
    says that the gradient may be the full-batch one. Whether descent is "stochastic" depends on the gradients
    passed to ``step``, not on the optimizer.

    Parameters
    ----------
    params : list of numpy.ndarray
        The parameters, updated in place.
    lr : float
        The learning rate :math:`\gamma`, positive.
    check_finite : bool, optional
        Raise ``ValueError`` on a NaN or infinite gradient (see ``Optimizer``). Default ``True``.

    Raises
    ------
    ValueError
        If ``lr <= 0`` or the parameters are not a list of contiguous float arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.optim import GD
    >>> w = np.array([1.0, -2.0])
    >>> optimizer = GD([w], lr=0.25)
    >>> optimizer.step([2 * w])       # gradient of w_1**2 + w_2**2
    >>> w
    array([ 0.5, -1. ])
    """

    def __init__(self, params: Sequence[NDArray[np.floating]], lr: float, *, check_finite: bool = True) -> None:
        super().__init__(params, lr, check_finite=check_finite)

    def hyperparameters(self) -> dict[str, Any]:
        """Return an empty dict: plain gradient descent has no hyper-parameter but the learning rate.

        Returns
        -------
        dict
            Empty.
        """
        return {}
