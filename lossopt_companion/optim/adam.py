"""Adam and AdamW (``torch.optim.Adam``, ``torch.optim.AdamW``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .._validation import check_in_range, check_positive
from ._base import Optimizer


def _check_betas(betas: Any) -> tuple[float, float]:
    """Return ``betas`` as a pair of floats in [0, 1); raise ``ValueError`` naming ``betas[i]`` otherwise."""
    if isinstance(betas, (str, bytes)) or not isinstance(betas, Sequence) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2) of numbers in [0, 1), got {betas!r}")
    return (check_in_range(betas[0], "betas[0]", 0.0, 1.0), check_in_range(betas[1], "betas[1]", 0.0, 1.0))


class _AdamStep(NamedTuple):
    """The scalars of step t."""

    step_size: float  # gamma / (1 - beta1^t)
    bias_correction2_sqrt: float  # sqrt(1 - beta2^t)
    decay_factor: float  # 1 - gamma lambda (decoupled weight decay)


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015), optionally AMSGrad (Reddi et al., 2018) and L2 weight decay.

    With learning rate :math:`\gamma`, betas :math:`(\beta_1, \beta_2)`, epsilon :math:`\epsilon` and weight decay
    :math:`\lambda`, starting from :math:`m_0 = v_0 = v^{\max}_0 = 0`, step :math:`t = 1, 2, \ldots` does

    .. math::

        \begin{aligned}
        & g_t \leftarrow \nabla_\theta f(\theta_{t-1}) \\
        & \textbf{if } \lambda \neq 0: \quad g_t \leftarrow g_t + \lambda \theta_{t-1} \\
        & m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        & v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        & \textbf{if amsgrad}: \quad v^{\max}_t \leftarrow \max(v^{\max}_{t-1}, v_t), \quad
              \hat v_t \leftarrow v^{\max}_t / (1 - \beta_2^t) \\
        & \textbf{else}: \quad \hat v_t \leftarrow v_t / (1 - \beta_2^t) \\
        & \hat m_t \leftarrow m_t / (1 - \beta_1^t) \\
        & \theta_t \leftarrow \theta_{t-1} - \gamma \, \hat m_t / \big(\sqrt{\hat v_t} + \epsilon\big)
        \end{aligned}

    This is ``torch.optim.Adam`` line for line, including where :math:`\epsilon` goes: it is added to the
    bias-corrected root, computed as :math:`\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon`. The weight decay is the
    L2 kind: :math:`\lambda\theta` joins the gradient and is then rescaled by the adaptive denominator, so large
    weights are decayed *less* where gradients are large; ``AdamW`` decouples it.

    ``keras.optimizers.Adam`` uses the "epsilon hat" of the paper: :math:`\alpha_t = \gamma
    \sqrt{1 - \beta_2^t} / (1 - \beta_1^t)` and :math:`\theta_t = \theta_{t-1} - \alpha_t m_t / (\sqrt{v_t} +
    \hat\epsilon)`. Multiplying the torch update above and below by :math:`\sqrt{1 - \beta_2^t}` shows the two are
    equal at step :math:`t` exactly when :math:`\hat\epsilon = \epsilon \sqrt{1 - \beta_2^t}`: no constant pair
    :math:`(\epsilon, \hat\epsilon)` makes them agree at every step (they agree for :math:`\epsilon = \hat\epsilon =
    0`, and Keras's ``epsilon=1e-7`` acts like a torch epsilon of :math:`10^{-7} / \sqrt{1 - \beta_2^t}`, about
    :math:`3.2 \times 10^{-6}` at :math:`t = 1`, tending to :math:`10^{-7}`). Keras's ``weight_decay`` argument is
    decoupled, as in ``AdamW``, never the L2 kind. One more difference, even in float64: Keras computes
    :math:`\beta_1^t` and :math:`\beta_2^t` from the betas cast through float32 (``ops.cast`` of a Python float),
    while its moving averages use the exact :math:`1 - \beta`. With the default betas, which float32 does not
    represent, its first step is about :math:`6.7 \times 10^{-6}` (relative) shorter than the formula above; with
    betas that float32 holds exactly (such as 0.875 or 0.9990234375) the two agree to round-off.

    Parameters
    ----------
    params : list of numpy.ndarray
        The parameters, updated in place.
    lr : float, optional
        The learning rate :math:`\gamma`, positive. Default ``1e-3``.
    betas : tuple of float, optional
        The decay rates :math:`(\beta_1, \beta_2)` of the two moment estimates, each in [0, 1).
        Default ``(0.9, 0.999)``.
    eps : float, optional
        The :math:`\epsilon` added to the denominator, non-negative. Default ``1e-8``.
    weight_decay : float, optional
        The L2 coefficient :math:`\lambda`, non-negative. Default ``0.0``.
    amsgrad : bool, optional
        Normalize by the running maximum of :math:`v_t` (AMSGrad). Default ``False``.
    check_finite : bool, optional
        Raise ``ValueError`` on a NaN or infinite gradient (see ``Optimizer``). Default ``True``.

    Raises
    ------
    ValueError
        If ``lr <= 0``, a beta is outside [0, 1), ``eps`` or ``weight_decay`` is negative, or the parameters are not
        a list of contiguous float arrays.

    Examples
    --------
    The first Adam step moves every coordinate by about :math:`\gamma`, whatever the gradient's scale:

    >>> import numpy as np
    >>> from lossopt_companion.optim import Adam
    >>> w = np.array([1.0, -2.0])
    >>> optimizer = Adam([w], lr=0.1)
    >>> optimizer.step([np.array([1e-3, 5e2])])
    >>> w.round(6)
    array([ 0.900001, -2.1     ])
    """

    _num_scratch = 2
    _decoupled_weight_decay = False

    def __init__(
        self,
        params: Sequence[NDArray[np.floating]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        check_finite: bool = True,
    ) -> None:
        super().__init__(params, lr, check_finite=check_finite)
        self.betas = _check_betas(betas)
        self.eps = check_positive(eps, "eps", allow_zero=True)
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.amsgrad = bool(amsgrad)
        moments = {"exp_avg": 0.0, "exp_avg_sq": 0.0}
        self._allocate_state({**moments, "max_exp_avg_sq": 0.0} if self.amsgrad else moments)

    def hyperparameters(self) -> dict[str, Any]:
        """Return ``betas``, ``eps``, ``weight_decay`` and ``amsgrad``.

        Returns
        -------
        dict
            Name to value.
        """
        return {"betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay, "amsgrad": self.amsgrad}

    def _step_coefficients(self) -> _AdamStep:
        beta1, beta2 = self.betas
        t = self.step_count
        return _AdamStep(
            step_size=self._lr / (1 - beta1**t),
            bias_correction2_sqrt=math.sqrt(1 - beta2**t),
            decay_factor=1 - self._lr * self.weight_decay,
        )

    def _update_block(
        self,
        param: NDArray[np.floating],
        grad: NDArray[np.floating],
        state: tuple[NDArray[np.floating], ...],
        scratch: tuple[NDArray[np.floating], ...],
        step: _AdamStep,
    ) -> None:
        exp_avg, exp_avg_sq = state[0], state[1]
        max_exp_avg_sq = state[2] if self.amsgrad else None
        work, decayed_grad = scratch
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            if self._decoupled_weight_decay:  # theta <- theta (1 - gamma lambda)
                param *= step.decay_factor
            else:  # g <- g + lambda theta
                np.multiply(param, self.weight_decay, out=decayed_grad)
                grad = np.add(decayed_grad, grad, out=decayed_grad)
        # m <- beta1 m + (1 - beta1) g, written as torch's lerp: m + (1 - beta1)(g - m)
        exp_avg += np.multiply(np.subtract(grad, exp_avg, out=work), 1 - beta1, out=work)
        # v <- beta2 v + (1 - beta2) g^2
        exp_avg_sq *= beta2
        exp_avg_sq += np.multiply(np.multiply(grad, grad, out=work), 1 - beta2, out=work)
        if max_exp_avg_sq is not None:  # amsgrad: v_max <- max(v_max, v), used in place of v
            exp_avg_sq = np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        # denominator sqrt(v) / sqrt(1 - beta2^t) + eps
        denominator = np.sqrt(exp_avg_sq, out=work)
        denominator /= step.bias_correction2_sqrt
        denominator += self.eps
        # theta <- theta - gamma / (1 - beta1^t) * m / denominator
        param -= np.multiply(np.divide(exp_avg, denominator, out=work), step.step_size, out=work)


class AdamW(Adam):
    r"""AdamW (Loshchilov and Hutter, 2019): Adam with decoupled weight decay.

    Identical to ``Adam`` except that the weight decay shrinks the parameters directly instead of joining the
    gradient; step :math:`t` does

    .. math::

        \begin{aligned}
        & g_t \leftarrow \nabla_\theta f(\theta_{t-1}) \\
        & \theta_{t-1} \leftarrow \theta_{t-1} - \gamma \lambda \theta_{t-1} \\
        & m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
          v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        & \hat m_t \leftarrow m_t / (1 - \beta_1^t), \quad \hat v_t \leftarrow v_t / (1 - \beta_2^t)
          \quad (v^{\max}_t \text{ in place of } v_t \text{ with amsgrad}) \\
        & \theta_t \leftarrow \theta_{t-1} - \gamma \, \hat m_t / \big(\sqrt{\hat v_t} + \epsilon\big)
        \end{aligned}

    This is ``torch.optim.AdamW`` (default ``weight_decay=1e-2``). Every parameter decays by the same factor
    :math:`1 - \gamma\lambda` per step, whatever its gradient history; with the L2 term of ``Adam`` the decay would
    be divided by :math:`\sqrt{\hat v_t}`. ``keras.optimizers.AdamW`` decays the same way, :math:`\theta \leftarrow
    \theta - \theta \lambda \gamma` before the Adam update, with Keras's epsilon hat (see ``Adam``) and a default
    ``weight_decay`` of 0.004.

    Parameters
    ----------
    params : list of numpy.ndarray
        The parameters, updated in place.
    lr : float, optional
        The learning rate :math:`\gamma`, positive. Default ``1e-3``.
    betas : tuple of float, optional
        The decay rates :math:`(\beta_1, \beta_2)`, each in [0, 1). Default ``(0.9, 0.999)``.
    eps : float, optional
        The :math:`\epsilon` added to the denominator, non-negative. Default ``1e-8``.
    weight_decay : float, optional
        The decoupled decay coefficient :math:`\lambda`, non-negative. Default ``1e-2``.
    amsgrad : bool, optional
        Normalize by the running maximum of :math:`v_t` (AMSGrad). Default ``False``.
    check_finite : bool, optional
        Raise ``ValueError`` on a NaN or infinite gradient (see ``Optimizer``). Default ``True``.

    Raises
    ------
    ValueError
        As ``Adam``.

    Examples
    --------
    With a zero gradient, only the decay acts: :math:`\theta \leftarrow (1 - \gamma\lambda)\theta`.

    >>> import numpy as np
    >>> from lossopt_companion.optim import AdamW
    >>> w = np.array([1.0, -2.0])
    >>> optimizer = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> optimizer.step([np.zeros(2)])
    >>> w
    array([ 0.95, -1.9 ])
    """

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Sequence[NDArray[np.floating]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        check_finite: bool = True,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, check_finite=check_finite)
