"""Activation functions and their derivatives, elementwise: the chapter's (Backward Propagation Algorithm
§7.3), and softplus, ELU and SELU beyond it (the x·gate(x) activations GELU and SiLU are in
backprop_ref.gated_activations).

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
    "softplus", "softplus_grad", "elu", "elu_grad", "SELU_LAMBDA", "SELU_ALPHA", "selu", "selu_grad",
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

    Implements Backward Propagation Algorithm §7.3.1 (and Further into Backpropagation's output
    nonlinearity). With e = e^{−|x|}, σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0: the chapter's
    1/(1+exp(−x)) overflows for x ≲ −709, this does not.

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

    Implements Backward Propagation Algorithm §7.3.1. Evaluated as e/(1+e)² with e = e^{−|x|} (σ′ is even),
    so at saturation it is the true tiny value or 0, never 0·inf or 1 − 1.

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

    Implements Backward Propagation Algorithm §7.3.4 (np.tanh, which saturates without overflow, complex
    included).

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

    Implements Backward Propagation Algorithm §7.3.4. Evaluated as 4e/(1+e)² with e = e^{−2|x|}, the same
    quantity (sech² x) without the cancellation of 1 − tanh²: tanh′(20) is the true 1.7e-17, not 0.

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

    Implements Backward Propagation Algorithm §7.3.2.

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

    Implements Backward Propagation Algorithm §7.3.2, whose equation gives 1 for x ≥ 0, hence the default
    at_zero=1. Conventions differ at the kink: §7.9's code uses 0 (r ≤ 0), as do TensorFlow, PyTorch and JAX
    (pass at_zero=0.0 to match them); central differences give ½ there.

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

    Implements Backward Propagation Algorithm §7.3.3 (its p is `slope`).

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

    Implements Backward Propagation Algorithm §7.3.3, whose equation gives 1 at x = 0 (x ≥ 0). TensorFlow's
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


# ---- beyond the chapter: softplus, ELU, SELU ---------------------------------------------------

def _log1p(w: Array) -> Array:
    """log(1 + w) for w = e^{−|x|} (real part in (0, 1]), accurate for complex w too.

    NumPy's complex log1p is log(1 + w), whose real part loses w's digits when |w| is small (2e-15
    relative at w = e⁻³, all of them at e^{−40}); here log|1 + w| = ½·log1p(2 Re w + |w|²), a sum
    of positive terms, and arg(1 + w) = atan2(Im w, 1 + Re w).
    """
    if not np.iscomplexobj(w):
        return np.log1p(w)
    modulus = 0.5 * np.log1p(2 * w.real + (w.real * w.real + w.imag * w.imag))
    return modulus + 1j * np.arctan2(w.imag, 1 + w.real)


def softplus(x: ArrayLike) -> Array:
    """Softplus, log(1 + eˣ), computed without overflow or cancellation.

    Derived in Dugas et al. 2001 ("Incorporating second-order functional knowledge for better option
    pricing", NIPS 13), the smooth rectifier whose derivative is the sigmoid; used in deep networks
    since Glorot, Bordes & Bengio 2011. Evaluated as max(x, 0) + log1p(e^{−|x|}): the exponent is
    never positive, so softplus(1e4) is 1e4 and softplus(−1e4) is 0 (e^{−1e4} underflows), where the
    naive log(1 + exp(x)) overflows to inf above x ≈ 709 and loses every digit below x ≈ −37.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations; complex x (the complex step) takes the branch of its real part.

    Returns
    -------
    ndarray, x's shape
        softplus(x) > 0 (0 where e^x underflows). softplus(inf) = inf, softplus(−inf) = 0; NaN
        propagates.
    """
    x = as_array(x, "x")
    return np.where(x.real >= 0, x, 0) + _log1p(_exp_neg_abs(x))


def softplus_grad(x: ArrayLike) -> Array:
    """Derivative of softplus: d log(1 + eˣ)/dx = eˣ/(1 + eˣ) = σ(x), the sigmoid.

    Derived in Dugas et al. 2001 (softplus is the primitive of the sigmoid, Backward Propagation Algorithm
    §7.3.1's σ). Evaluated as `sigmoid`, without overflow: σ(1e4) = 1, σ(−1e4) = 0.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations.

    Returns
    -------
    ndarray, x's shape
        σ(x) in [0, 1]; NaN propagates.
    """
    return sigmoid(x)


def _negative_part(x: Array) -> tuple[Array, Array]:
    """Where Re x ≤ 0, and x there (0 elsewhere): an exponent that cannot overflow in the other branch."""
    neg = x.real <= 0
    return neg, np.where(neg, x, 0)


def elu(x: ArrayLike, alpha: float = 1.0) -> Array:
    """Exponential linear unit: x for x > 0, α(eˣ − 1) for x ≤ 0.

    Derived in Clevert, Unterthiner & Hochreiter 2016 ("Fast and accurate deep network learning by
    exponential linear units (ELUs)", ICLR), §3. α(eˣ − 1) is evaluated with expm1, so a tiny
    negative x keeps its digits (elu(−1e-300) = −α·1e-300, where eˣ − 1 gives 0).

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations; the branch is chosen by the real part.
    alpha : float, default 1.0
        The saturation value −α of the negative part. Must be a finite real number.

    Returns
    -------
    ndarray, x's shape
        ELU(x); ELU(−inf) = −α, ELU(inf) = inf; NaN propagates.
    """
    x = as_array(x, "x")
    alpha = real_scalar(alpha, "alpha")
    neg, xn = _negative_part(x)
    return np.where(neg, alpha * np.expm1(xn), x)


def elu_grad(x: ArrayLike, alpha: float = 1.0) -> Array:
    """Derivative of ELU: 1 for x > 0, α·eˣ for x ≤ 0, hence α at x = 0.

    Derived in Clevert et al. 2016, §3, whose piece for x ≤ 0 (ELU(x) + α = α·eˣ) includes 0:
    at the kink this is the left derivative α (for α = 1 both sides agree and ELU is C¹). TensorFlow's
    tf.nn.elu (α = 1 only) gives 1 there, its α ≠ 1 form in Keras α; central differences give (1 + α)/2.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations; the branch is chosen by the real part.
    alpha : float, default 1.0
        As for `elu`.

    Returns
    -------
    ndarray, x's shape
        ELU′(x): 1 at inf, 0 at −inf (α·e^{−inf}); NaN gives NaN.
    """
    x = as_array(x, "x")
    alpha = real_scalar(alpha, "alpha")
    neg, xn = _negative_part(x)
    return np.select([x.real > 0, neg], [np.ones_like(x), alpha * np.exp(xn)], default=np.nan)


SELU_LAMBDA = 1.0507009873554804934193349852946
"""λ of SELU (Klambauer et al. 2017): with `SELU_ALPHA`, the fixed point of mean 0 and variance 1."""
SELU_ALPHA = 1.6732632423543772848170429916717
"""α of SELU (Klambauer et al. 2017), in closed form −√(2/π) / (erfc(1/√2)·√e − 1)."""


def selu(x: ArrayLike) -> Array:
    """Scaled exponential linear unit: λx for x > 0, λα(eˣ − 1) for x ≤ 0, i.e. λ·ELU(x, α).

    Derived in Klambauer, Unterthiner, Mayr & Hochreiter 2017 ("Self-normalizing neural networks",
    NIPS 30), with the constants it derives, λ = 1.0507009873554805 and
    α = 1.6732632423543772 (`SELU_LAMBDA`, `SELU_ALPHA`): those for which a standard normal input
    gives an output of mean 0 and variance 1.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations; the branch is chosen by the real part.

    Returns
    -------
    ndarray, x's shape
        SELU(x); inf, without a warning, where λx exceeds the float64 range; SELU(−inf) = −λα;
        NaN propagates.
    """
    with np.errstate(over="ignore"):  # λx beyond float64 (x > 1.7e308/λ) is inf, the right answer
        return SELU_LAMBDA * elu(x, SELU_ALPHA)


def selu_grad(x: ArrayLike) -> Array:
    """Derivative of SELU: λ for x > 0, λα·eˣ for x ≤ 0, hence λα ≈ 1.7581 at x = 0.

    Derived in Klambauer et al. 2017 (λ times ELU′ of Clevert et al. 2016, with SELU's α). At the
    kink it takes the x ≤ 0 piece, the left derivative λα, as `elu_grad` does. TensorFlow's
    tf.nn.selu gives λ there (and for −2⁻⁵⁴ ≤ x < 0, where its eˣ − 1 rounds to 0); central
    differences give λ(1 + α)/2.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations; the branch is chosen by the real part.

    Returns
    -------
    ndarray, x's shape
        SELU′(x): λ at inf, 0 at −inf; NaN gives NaN.
    """
    return SELU_LAMBDA * elu_grad(x, SELU_ALPHA)
