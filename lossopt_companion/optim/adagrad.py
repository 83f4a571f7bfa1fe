"""Adagrad (``torch.optim.Adagrad``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_positive
from ._base import Optimizer


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan and Singer, 2011): divide by the root of the sum of all squared gradients so far.

    With learning rate :math:`\gamma`, learning-rate decay :math:`\eta`, weight decay :math:`\lambda`, initial
    accumulator value :math:`\tau` and epsilon :math:`\epsilon`, starting from :math:`s_0 = \tau`, step
    :math:`t = 1, 2, \ldots` does

    .. math::

        \begin{aligned}
        & g_t \leftarrow \nabla_\theta f(\theta_{t-1}) \\
        & \tilde\gamma_t \leftarrow \gamma / \big(1 + (t - 1) \eta\big) \\
        & \textbf{if } \lambda \neq 0: \quad g_t \leftarrow g_t + \lambda \theta_{t-1} \\
        & s_t \leftarrow s_{t-1} + g_t^2 \\
        & \theta_t \leftarrow \theta_{t-1} - \tilde\gamma_t \, g_t / \big(\sqrt{s_t} + \epsilon\big)
        \end{aligned}

    This is ``torch.optim.Adagrad`` line for line (``clr = lr / (1 + (step - 1) * lr_decay)``, :math:`\epsilon`
    added after the root). ``keras.optimizers.Adagrad`` puts :math:`\epsilon` inside the root,
    :math:`\theta_t = \theta_{t-1} - \gamma g_t / \sqrt{s_t + \epsilon}`, has no learning-rate decay, and defaults to
    :math:`\tau = 0.1`, :math:`\epsilon = 10^{-7}`, :math:`\gamma = 10^{-3}`; with :math:`\epsilon = 0`,
    :math:`\eta = 0` and the same :math:`\tau` the two agree. Keras's ``weight_decay`` is decoupled,
    :math:`\theta \leftarrow \theta - \gamma\lambda\theta` before the update, not the L2 term above.

    Parameters
    ----------
    params : list of numpy.ndarray
        The parameters, updated in place.
    lr : float, optional
        The learning rate :math:`\gamma`, positive. Default ``1e-2``.
    lr_decay : float, optional
        The learning-rate decay :math:`\eta`, non-negative. Default ``0.0``.
    weight_decay : float, optional
        The L2 coefficient :math:`\lambda`, non-negative. Default ``0.0``.
    initial_accumulator_value : float, optional
        The starting value :math:`\tau` of the sum of squares, non-negative. Default ``0.0``.
    eps : float, optional
        The :math:`\epsilon` added to the root, non-negative. Default ``1e-10``.
    check_finite : bool, optional
        Raise ``ValueError`` on a NaN or infinite gradient (see ``Optimizer``). Default ``True``.

    Raises
    ------
    ValueError
        If ``lr <= 0``, another hyper-parameter is negative, or the parameters are not a list of contiguous float
        arrays.

    Examples
    --------
    The first step (from :math:`\tau = 0`) moves every coordinate by :math:`\gamma` against the gradient's sign:

    >>> import numpy as np
    >>> from lossopt_companion.optim import Adagrad
    >>> w = np.array([1.0, -2.0])
    >>> optimizer = Adagrad([w], lr=0.5)
    >>> optimizer.step([np.array([4.0, -0.01])])
    >>> w.round(6)
    array([ 0.5, -1.5])
    """

    _num_scratch = 2

    def __init__(
        self,
        params: Sequence[NDArray[np.floating]],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        check_finite: bool = True,
    ) -> None:
        super().__init__(params, lr, check_finite=check_finite)
        self.lr_decay = check_positive(lr_decay, "lr_decay", allow_zero=True)
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.initial_accumulator_value = check_positive(
            initial_accumulator_value, "initial_accumulator_value", allow_zero=True
        )
        self.eps = check_positive(eps, "eps", allow_zero=True)
        self._allocate_state({"sum": self.initial_accumulator_value})

    def hyperparameters(self) -> dict[str, Any]:
        """Return ``lr_decay``, ``weight_decay``, ``initial_accumulator_value`` and ``eps``.

        Returns
        -------
        dict
            Name to value.
        """
        return {
            "lr_decay": self.lr_decay,
            "weight_decay": self.weight_decay,
            "initial_accumulator_value": self.initial_accumulator_value,
            "eps": self.eps,
        }

    def _step_coefficients(self) -> float:
        return self._lr / (1 + (self.step_count - 1) * self.lr_decay)  # the decayed rate gamma~_t

    def _update_block(
        self,
        param: NDArray[np.floating],
        grad: NDArray[np.floating],
        state: tuple[NDArray[np.floating], ...],
        scratch: tuple[NDArray[np.floating], ...],
        decayed_lr: float,
    ) -> None:
        (square_sum,) = state
        work, decayed_grad = scratch
        if self.weight_decay != 0:  # g <- g + lambda theta
            np.multiply(param, self.weight_decay, out=decayed_grad)
            grad = np.add(decayed_grad, grad, out=decayed_grad)
        square_sum += np.multiply(grad, grad, out=work)  # s <- s + g^2
        denominator = np.sqrt(square_sum, out=work)  # sqrt(s) + eps
        denominator += self.eps
        # theta <- theta - gamma~ g / denominator
        param -= np.multiply(np.divide(grad, denominator, out=work), decayed_lr, out=work)
