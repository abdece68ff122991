"""Activation functions and their derivatives, elementwise (003 §7.3).

Every function takes array_like and returns an array of the same shape (0-d in, 0-d out), in
float64, or complex128 for complex input so that complex-step differentiation applies. Branches
("x ≥ 0") are taken on the real part; each branch is the analytic formula of its piece.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array, real_scalar

__all__ = [
    "sigmoid", "sigmoid_grad", "tanh", "tanh_grad",
    "relu", "relu_grad", "leaky_relu", "leaky_relu_grad",
]

Array = NDArray[Any]


def _exp_neg_abs(x: Array) -> Array:
    """e^{−|x|}, with |x| continued analytically as x or −x chosen by the sign of Re x.

    The exponent is never positive in its real part, so it cannot overflow; it underflows to 0
    silently for Re |x| > 745, which is the correct limit.
    """
    return np.exp(np.where(x.real >= 0, -x, x))


def sigmoid(x: ArrayLike) -> Array:
    """Logistic sigmoid σ(x) = 1 / (1 + e^{−x}), computed without overflow.

    Implements 003 §7.3.1 (and 000's output nonlinearity). With e = e^{−|x|}, σ(x) = 1/(1+e) for
    x ≥ 0 and e/(1+e) for x < 0: the seed's 1/(1+exp(−x)) overflows for x ≲ −709, this does not.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations. bool/int are computed in float64, complex in complex128.

    Returns
    -------
    ndarray, x's shape
        σ(x) in [0, 1]. σ(±inf) = 1, 0; NaN propagates.
    """
    x = as_array(x, "x")
    e = _exp_neg_abs(x)
    return np.where(x.real >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(x: ArrayLike) -> Array:
    """Derivative of the sigmoid, σ′(x) = σ(x)(1 − σ(x)).

    Implements 003 §7.3.1. Evaluated as e/(1+e)² with e = e^{−|x|} (σ′ is even), so at
    saturation it is the true tiny value or 0, never 0·inf or 1 − 1.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations.

    Returns
    -------
    ndarray, x's shape
        σ′(x) in [0, 1/4]. σ′(±inf) = 0; NaN propagates.
    """
    x = as_array(x, "x")
    e = _exp_neg_abs(x)
    return e / (1 + e) ** 2


def tanh(x: ArrayLike) -> Array:
    """Hyperbolic tangent, tanh(x) = (e^x − e^{−x}) / (e^x + e^{−x}) = 2σ(2x) − 1.

    Implements 003 §7.3.4 (np.tanh, which saturates without overflow, complex included).

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations.

    Returns
    -------
    ndarray, x's shape
        tanh(x) in [−1, 1]. tanh(±inf) = ±1; NaN propagates.
    """
    return np.tanh(as_array(x, "x"))


def tanh_grad(x: ArrayLike) -> Array:
    """Derivative of tanh, tanh′(x) = 1 − tanh²(x).

    Implements 003 §7.3.4. Evaluated as 4e/(1+e)² with e = e^{−2|x|}, the same quantity
    (sech² x) without the cancellation of 1 − tanh²: tanh′(20) is the true 1.7e-17, not 0.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations.

    Returns
    -------
    ndarray, x's shape
        tanh′(x) in [0, 1]. tanh′(±inf) = 0; NaN propagates.
    """
    x = as_array(x, "x")
    e = _exp_neg_abs(2 * x)
    return 4 * e / (1 + e) ** 2


def relu(x: ArrayLike) -> Array:
    """Rectified linear unit, ReLU(x) = max(0, x).

    Implements 003 §7.3.2.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations (complex: x where Re x > 0, else 0).

    Returns
    -------
    ndarray, x's shape
        max(0, x). ReLU(inf) = inf, ReLU(−inf) = 0; NaN propagates.
    """
    x = as_array(x, "x")
    return np.where(x.real <= 0, 0, x)


def relu_grad(x: ArrayLike, at_zero: float = 1.0) -> Array:
    """Derivative of ReLU: 1 where x > 0, 0 where x < 0, `at_zero` at exactly 0.

    Implements 003 §7.3.2, whose equation gives 1 for x ≥ 0, hence the default at_zero=1.
    Conventions differ at the kink: §7.9's code uses 0 (r ≤ 0), as do TensorFlow, PyTorch and
    JAX (pass at_zero=0.0 to match them); central differences give ½ there.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations; the branch is chosen by the real part.
    at_zero : float, default 1.0
        The value at x = 0 (−0.0 included). Must be a finite real number.

    Returns
    -------
    ndarray, x's shape and dtype
        ReLU′(x). ReLU′(inf) = 1, ReLU′(−inf) = 0; NaN gives NaN.
    """
    x = as_array(x, "x")
    at_zero = real_scalar(at_zero, "at_zero")
    r = x.real
    out = np.select([r > 0, r < 0, r == 0], [1.0, 0.0, at_zero], default=np.nan)
    return out.astype(x.dtype, copy=False)


def leaky_relu(x: ArrayLike, slope: float = 0.01) -> Array:
    """Leaky ReLU: x where x ≥ 0, slope·x where x < 0.

    Implements 003 §7.3.3 (its p is `slope`).

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations; the branch is chosen by the real part.
    slope : float, default 0.01
        The slope p of the negative part. Must be a finite real number.

    Returns
    -------
    ndarray, x's shape
        LeakyReLU(x). ±inf maps to inf and slope·(−inf); NaN propagates.
    """
    x = as_array(x, "x")
    slope = real_scalar(slope, "slope")
    # slope·x is evaluated everywhere; with slope = 0 an inf input would give 0·inf there.
    with np.errstate(invalid="ignore"):
        scaled = slope * x
    return np.where(x.real >= 0, x, scaled)


def leaky_relu_grad(x: ArrayLike, slope: float = 0.01) -> Array:
    """Derivative of leaky ReLU: 1 where x ≥ 0, slope where x < 0.

    Implements 003 §7.3.3, whose equation gives 1 at x = 0 (x ≥ 0). TensorFlow's
    tf.nn.leaky_relu gives the slope there instead; central differences give (1 + slope)/2.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations; the branch is chosen by the real part.
    slope : float, default 0.01
        The slope p of the negative part. Must be a finite real number.

    Returns
    -------
    ndarray, x's shape and dtype
        LeakyReLU′(x). 1 at inf, slope at −inf; NaN gives NaN.
    """
    x = as_array(x, "x")
    slope = real_scalar(slope, "slope")
    r = x.real
    out = np.select([r >= 0, r < 0], [1.0, slope], default=np.nan)
    return out.astype(x.dtype, copy=False)
