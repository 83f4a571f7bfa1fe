"""RMSprop (``torch.optim.RMSprop``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_in_range, check_positive
from ._base import Optimizer


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012), optionally centered (Graves, 2013), with momentum and L2 weight decay.

    With learning rate :math:`\gamma`, smoothing constant :math:`\alpha`, epsilon :math:`\epsilon`, momentum
    :math:`\mu` and weight decay :math:`\lambda`, starting from :math:`v_0 = \bar g_0 = b_0 = 0`, step :math:`t`
    does

    .. math::

        \begin{aligned}
        & g_t \leftarrow \nabla_\theta f(\theta_{t-1}) \\
        & \textbf{if } \lambda \neq 0: \quad g_t \leftarrow g_t + \lambda \theta_{t-1} \\
        & v_t \leftarrow \alpha v_{t-1} + (1 - \alpha) g_t^2, \quad \tilde v_t \leftarrow v_t \\
        & \textbf{if centered}: \quad \bar g_t \leftarrow \alpha \bar g_{t-1} + (1 - \alpha) g_t, \quad
              \tilde v_t \leftarrow v_t - \bar g_t^2 \\
        & \textbf{if } \mu > 0: \quad b_t \leftarrow \mu b_{t-1}
              + g_t / \big(\sqrt{\tilde v_t} + \epsilon\big),
              \quad \theta_t \leftarrow \theta_{t-1} - \gamma b_t \\
        & \textbf{else}: \quad \theta_t \leftarrow \theta_{t-1} - \gamma g_t / \big(\sqrt{\tilde v_t} +
              \epsilon\big)
        \end{aligned}

    This is ``torch.optim.RMSprop`` line for line: :math:`\epsilon` is added *after* the square root. (In the
    centered variant :math:`v_t - \bar g_t^2` is a variance and cannot be negative, but round-off can make it
    :math:`-10^{-20}` when the gradient is constant; it is clipped at 0 where torch would take the root of a
    negative number and return NaN. No other value changes.)

    ``keras.optimizers.RMSprop`` puts :math:`\epsilon` *inside* the root, :math:`\theta_t = \theta_{t-1} - \gamma
    g_t / \sqrt{v_t + \epsilon}` (centered: :math:`\sqrt{v_t - \bar g_t^2 + \epsilon}`), keeps the learning rate
    inside its momentum, :math:`b_t = \mu b_{t-1} + \gamma g_t / \sqrt{\cdot}`, and defaults to :math:`\alpha`
    (``rho``) :math:`= 0.9` and :math:`\epsilon = 10^{-7}`. With :math:`\epsilon = 0` and a constant learning rate
    the two give the same parameters; otherwise Keras's :math:`\epsilon` matters where :math:`v_t` is of order
    :math:`\epsilon` (torch's where :math:`\sqrt{v_t}` is). Keras's ``weight_decay`` is decoupled,
    :math:`\theta \leftarrow \theta - \gamma\lambda\theta` before the update, not the L2 term above.

    Parameters
    ----------
    params : list of numpy.ndarray
        The parameters, updated in place.
    lr : float, optional
        The learning rate :math:`\gamma`, positive. Default ``1e-2``.
    alpha : float, optional
        The smoothing constant :math:`\alpha` of the squared-gradient average, in [0, 1). Default ``0.99``.
    eps : float, optional
        The :math:`\epsilon` added to the root, non-negative. Default ``1e-8``.
    weight_decay : float, optional
        The L2 coefficient :math:`\lambda`, non-negative. Default ``0.0``.
    momentum : float, optional
        The momentum factor :math:`\mu`, non-negative. Default ``0.0``.
    centered : bool, optional
        Divide by an estimate of the standard deviation of the gradient instead of its root mean square.
        Default ``False``.
    check_finite : bool, optional
        Raise ``ValueError`` on a NaN or infinite gradient (see ``Optimizer``). Default ``True``.

    Raises
    ------
    ValueError
        If ``lr <= 0``, ``alpha`` is outside [0, 1), ``eps``, ``weight_decay`` or ``momentum`` is negative, or the
        parameters are not a list of contiguous float arrays.

    Examples
    --------
    The first step divides the gradient by :math:`\sqrt{1 - \alpha}\,|g|`:

    >>> import numpy as np
    >>> from lossopt_companion.optim import RMSprop
    >>> w = np.array([1.0, -2.0])
    >>> optimizer = RMSprop([w], lr=0.01)
    >>> optimizer.step([np.array([3.0, -0.5])])
    >>> w.round(6)
    array([ 0.9, -1.9])
    """

    _num_scratch = 2

    def __init__(
        self,
        params: Sequence[NDArray[np.floating]],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        check_finite: bool = True,
    ) -> None:
        super().__init__(params, lr, check_finite=check_finite)
        self.alpha = check_in_range(alpha, "alpha", 0.0, 1.0)
        self.eps = check_positive(eps, "eps", allow_zero=True)
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.momentum = check_positive(momentum, "momentum", allow_zero=True)
        self.centered = bool(centered)
        state = {"square_avg": 0.0}
        if self.momentum > 0:
            state["momentum_buffer"] = 0.0
        if self.centered:
            state["grad_avg"] = 0.0
        self._allocate_state(state)

    def hyperparameters(self) -> dict[str, Any]:
        """Return ``alpha``, ``eps``, ``weight_decay``, ``momentum`` and ``centered``.

        Returns
        -------
        dict
            Name to value.
        """
        return {
            "alpha": self.alpha,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "momentum": self.momentum,
            "centered": self.centered,
        }

    def _update_block(
        self,
        param: NDArray[np.floating],
        grad: NDArray[np.floating],
        state: tuple[NDArray[np.floating], ...],
        scratch: tuple[NDArray[np.floating], ...],
        step: None,
    ) -> None:
        square_avg = state[0]  # the state is (square_avg, [momentum_buffer], [grad_avg])
        buffer = state[1] if self.momentum > 0 else None
        grad_avg = state[-1] if self.centered else None
        work, decayed_grad = scratch
        if self.weight_decay != 0:  # g <- g + lambda theta
            np.multiply(param, self.weight_decay, out=decayed_grad)
            grad = np.add(decayed_grad, grad, out=decayed_grad)
        # v <- alpha v + (1 - alpha) g^2
        square_avg *= self.alpha
        square_avg += np.multiply(np.multiply(grad, grad, out=work), 1 - self.alpha, out=work)
        if grad_avg is not None:
            # g_avg <- alpha g_avg + (1 - alpha) g, written as torch's lerp: g_avg + (1 - alpha)(g - g_avg)
            grad_avg += np.multiply(np.subtract(grad, grad_avg, out=work), 1 - self.alpha, out=work)
            # sqrt(max(v - g_avg^2, 0)) + eps
            variance = np.subtract(square_avg, np.multiply(grad_avg, grad_avg, out=work), out=work)
            denominator = np.sqrt(np.maximum(variance, 0.0, out=work), out=work)
        else:  # sqrt(v) + eps
            denominator = np.sqrt(square_avg, out=work)
        denominator += self.eps
        if buffer is not None:  # b <- mu b + g / denominator;  theta <- theta - gamma b
            buffer *= self.momentum
            buffer += np.divide(grad, denominator, out=work)
            param -= np.multiply(buffer, self._lr, out=work)
        else:  # theta <- theta - gamma g / denominator
            param -= np.multiply(np.divide(grad, denominator, out=work), self._lr, out=work)
