"""Loss functions and their gradients, in NumPy, equal to their PyTorch and Keras counterparts.

Every loss is a pair of functions with the same arguments::

    name(y_true, y_pred, *, reduction="mean", **params)       # the loss
    name_grad(y_true, y_pred, *, reduction="mean", **params)  # d(loss) / d(y_pred)

The gradient has the shape of ``y_pred``. ``y_true`` comes first, as in Keras (torch's
``torch.nn.functional`` takes the prediction first). Inputs may be lists or arrays; float32 inputs give
float32 results, anything else float64. ``reduction`` is

- ``"none"``: the elementwise losses (:func:`mse`, :func:`mae`, :func:`huber`, the binary cross-entropies,
  :func:`hinge`) or the per-sample losses, summed over classes (:func:`cross_entropy`,
  :func:`multiclass_hinge`, :func:`kl_divergence`, :func:`kl_divergence_with_logits`, :func:`distillation`);
  the gradient is then that of their sum;
- ``"sum"``: their sum;
- ``"mean"``: their mean (the default).

Shapes must match exactly (no broadcasting) except for integer labels, and bad input (a shape mismatch, an
unknown reduction, labels out of range, probabilities outside [0, 1], a NaN, a non-positive ``delta`` or
``temperature``) raises ``ValueError`` naming the argument.

========================================  =============  =================================================
function                                  ``y_pred`` is  agrees with
========================================  =============  =================================================
:func:`mse`                               predictions    ``F.mse_loss``, ``keras.losses.MeanSquaredError``
:func:`mae`                               predictions    ``F.l1_loss``, ``keras.losses.MeanAbsoluteError``
:func:`huber`                             predictions    ``F.huber_loss``, ``keras.losses.Huber``
:func:`binary_cross_entropy`              probabilities  ``F.binary_cross_entropy`` (Keras clips p)
:func:`binary_cross_entropy_with_logits`  logits         ``F.binary_cross_entropy_with_logits``
:func:`cross_entropy`                     logits (N, C)  ``F.cross_entropy``
:func:`hinge`                             scores         ``keras.losses.Hinge``
:func:`multiclass_hinge`                  scores (N, C)  ``F.multi_margin_loss`` (not Keras's)
:func:`kl_divergence`                     probabilities  ``F.kl_div(q.log(), p, reduction="batchmean")``
:func:`kl_divergence_with_logits`         logits (N, C)  ``F.kl_div(F.log_softmax(z, 1), p,
                                                         reduction="batchmean")``
:func:`distillation`                      logits (N, C)  ``F.kl_div(F.log_softmax(s / T, 1),
                                                         F.softmax(t / T, 1), reduction="batchmean") * T**2``
                                                         (t: the teacher's logits, s: the student's)
========================================  =============  =================================================

(``F`` is ``torch.nn.functional``.)

Examples
--------
>>> from lossopt_companion import losses
>>> print(losses.mse([1.0, 2.0], [1.0, 4.0]))
2.0
>>> print(losses.mse_grad([1.0, 2.0], [1.0, 4.0]))
[0. 2.]
"""

from .binary import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
)
from .cross_entropy import cross_entropy, cross_entropy_grad
from .distillation import (
    distillation,
    distillation_grad,
    kl_divergence_with_logits,
    kl_divergence_with_logits_grad,
)
from .divergence import kl_divergence, kl_divergence_grad
from .margin import hinge, hinge_grad, multiclass_hinge, multiclass_hinge_grad
from .regression import huber, huber_grad, mae, mae_grad, mse, mse_grad

__all__ = [
    "mse",
    "mse_grad",
    "mae",
    "mae_grad",
    "huber",
    "huber_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "hinge",
    "hinge_grad",
    "multiclass_hinge",
    "multiclass_hinge_grad",
    "kl_divergence",
    "kl_divergence_grad",
    "kl_divergence_with_logits",
    "kl_divergence_with_logits_grad",
    "distillation",
    "distillation_grad",
]
