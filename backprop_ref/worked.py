"""The source documents' worked functions and their stated derivatives (003 §7.1, §7.2, §7.6, §7.8, 000, 001).

The elementary examples broadcast elementwise over their arguments. They are polynomials and
exponentials with no stable reformulation to fall back on: where a result exceeds the float64
range it is ±inf, and where two terms of opposite sign both do, NaN; neither warns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array, real_scalar, require_finite
from backprop_ref.activations import sigmoid, sigmoid_grad
from backprop_ref.losses import (
    cross_entropy,
    cross_entropy_grad,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
)
from backprop_ref.network import dense_backward, dense_forward

__all__ = [
    "STANDARD_GRAVITY", "free_fall", "free_fall_grad",
    "constant", "constant_grad", "linear", "linear_grad", "power", "power_grad",
    "exponential", "exponential_grad", "logarithm", "logarithm_grad",
    "himmelblau", "himmelblau_grad",
    "quadratic_objective", "quadratic_objective_grad",
    "exponential_objective", "exponential_objective_grad",
    "squared_error_objective", "squared_error_objective_grad",
    "log_objective", "log_objective_grad",
    "chain_rule_z", "chain_rule_z_grad", "linear_chain", "linear_chain_grad",
    "one_layer_loss", "one_layer_grad", "two_layer_loss", "two_layer_grads",
]

Array = NDArray[Any]


def _overflow_quietly() -> np.errstate:
    return np.errstate(over="ignore", invalid="ignore")


def _together(*grads: Array) -> Any:
    """The partial derivatives as a tuple of writable arrays broadcast to one shape."""
    return tuple(np.array(g) for g in np.broadcast_arrays(*grads))


def _arrays(**named: ArrayLike) -> list[Array]:
    return [as_array(v, k) for k, v in named.items()]


def _points(x: ArrayLike) -> tuple[Array, Array]:
    x = as_array(x, "x")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise ValueError(f"x must have shape (..., 2), the point (x, y) on the last axis; got {x.shape}")
    return x[..., 0], x[..., 1]


# ---- 003 §7.1: the free-fall example --------------------------------------------------------

STANDARD_GRAVITY = 9.80665
"""g₀ in m/s², exact by definition (3rd CGPM, 1901): the default g of `free_fall`."""


def free_fall(t: ArrayLike, g: float = STANDARD_GRAVITY) -> Array:
    """Displacement of free fall, y = ½·g·t², elementwise.

    Implements 003 §7.1 (the chapter "Backward Propagation Algorithm", §7.1 Derivatives and
    gradients), its physical example of a derivative.

    Parameters
    ----------
    t : array_like, any shape
        Time since release (the formula holds for negative t too).
    g : float
        Gravitational acceleration, one finite real number; standard gravity by default.

    Returns
    -------
    ndarray, t's shape
        y. Computed as (½·g·t)·t, so an intermediate overflows only when y itself is beyond the
        float64 range (±inf then, without a warning). NaN propagates.
    """
    t = as_array(t, "t")
    g = real_scalar(g, "g")
    with _overflow_quietly():
        return (0.5 * g * t) * t


def free_fall_grad(t: ArrayLike, g: float = STANDARD_GRAVITY) -> Array:
    """Velocity of free fall, dy/dt = g·t: the derivative of y = ½·g·t², elementwise.

    Implements 003 §7.1 (the chapter "Backward Propagation Algorithm", §7.1 Derivatives and
    gradients): dy/dt = d(½·g·t²)/dt = g·t, the velocity v.

    Parameters
    ----------
    t : array_like, any shape
    g : float
        As for `free_fall`.

    Returns
    -------
    ndarray, t's shape
        dy/dt; ±inf beyond the float64 range, without a warning. NaN propagates.
    """
    t = as_array(t, "t")
    g = real_scalar(g, "g")
    with _overflow_quietly():
        return g * t


# ---- 003 §7.2.1: the common derivatives ------------------------------------------------------
# Each is a function of x with real constants (a, c) that broadcast against it; the derivative is
# taken in x alone, elementwise, as the chapter lists them.

def _with_constants(x: ArrayLike, **constants: ArrayLike) -> tuple[Array, list[Array]]:
    """x (float64, or complex128 for the complex step) and the real, finite constants, broadcastable."""
    xa = as_array(x, "x")
    out = []
    for name, value in constants.items():
        c = as_array(value, name, complex_ok=False)
        require_finite(c, name)
        try:
            np.broadcast_shapes(xa.shape, c.shape)
        except ValueError:
            raise ValueError(f"x has shape {xa.shape} but {name} has shape {c.shape}; "
                             "they must broadcast together") from None
        out.append(c)
    return xa, out


def _reject(bad: Array, requirement: str, **named: Array) -> None:
    """ValueError stating `requirement` and the first entry where `bad` holds, with every named value."""
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        values = ", ".join(f"{k}{list(idx) if idx else ''} = {np.broadcast_to(v, bad.shape)[idx]}"
                           for k, v in named.items())
        raise ValueError(f"{requirement}; {values}")


def _filled(value: ArrayLike, *arrays: Array) -> Array:
    """`value` broadcast to the arrays' common shape, in their common dtype (complex for complex x)."""
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    return np.zeros(shape, dtype=np.result_type(*arrays)) + value


def constant(x: ArrayLike, c: ArrayLike) -> Array:
    """The constant function y = c, as a function of x.

    Implements 003 §7.2.1 (the chapter "Backward Propagation Algorithm", §7.2.1 Common
    derivatives): the constant function; its example is y = 2.

    Parameters
    ----------
    x : array_like, any shape
    c : array_like, broadcastable against x
        Real and finite.

    Returns
    -------
    ndarray, the broadcast shape of x and c
        c in every entry (x's values are not read: NaN in x does not propagate).
    """
    xa, (c,) = _with_constants(x, c=c)
    return _filled(c, xa, c)


def constant_grad(x: ArrayLike, c: ArrayLike) -> Array:
    """Derivative of the constant function y = c: dy/dx = 0.

    Implements 003 §7.2.1 (the chapter "Backward Propagation Algorithm", §7.2.1 Common
    derivatives): "the derivative of constant function c is 0".

    Returns
    -------
    ndarray, the broadcast shape of x and c
        Zeros.
    """
    xa, (c,) = _with_constants(x, c=c)
    return _filled(0.0, xa, c)


def linear(x: ArrayLike, a: ArrayLike, c: ArrayLike) -> Array:
    """The linear function y = a·x + c, elementwise.

    Implements 003 §7.2.1 (the chapter "Backward Propagation Algorithm", §7.2.1 Common
    derivatives); its example is y = 2x + 1.

    Parameters
    ----------
    x : array_like, any shape
    a, c : array_like, broadcastable against x
        Slope and intercept; real and finite.

    Returns
    -------
    ndarray, the broadcast shape
        y; ±inf, without a warning, beyond the float64 range. NaN in x propagates.
    """
    xa, (a, c) = _with_constants(x, a=a, c=c)
    with _overflow_quietly():
        return a * xa + c


def linear_grad(x: ArrayLike, a: ArrayLike, c: ArrayLike) -> Array:
    """Derivative of the linear function y = a·x + c: dy/dx = a.

    Implements 003 §7.2.1 (the chapter "Backward Propagation Algorithm", §7.2.1 Common
    derivatives): the derivative of y = 2x + 1 is 2.

    Returns
    -------
    ndarray, the broadcast shape of x, a and c
        a in every entry.
    """
    xa, (a, c) = _with_constants(x, a=a, c=c)
    return _filled(a, xa, a, c)


def _power_arguments(x: ArrayLike, a: ArrayLike) -> tuple[Array, Array]:
    xa, (a,) = _with_constants(x, a=a)
    integer = a == np.round(a)
    _reject(~integer & (xa.real <= 0),
            "x must be positive where a is not an integer (x^a is not real, or has no two-sided "
            "derivative, at x ≤ 0)", x=xa, a=a)
    _reject(integer & (xa.real == 0) & (a < 0), "x must be nonzero where a < 0 (x^a has a pole at 0)",
            x=xa, a=a)
    return xa, a


def power(x: ArrayLike, a: ArrayLike) -> Array:
    """The power function y = x^a, elementwise.

    Implements 003 §7.2.1 (the chapter "Backward Propagation Algorithm", §7.2.1 Common
    derivatives); its example is y = x².

    Defined, with a two-sided derivative, for x > 0 and every real a, and for every x when a is an
    integer (x ≠ 0 when a < 0). Elsewhere a ValueError naming x and a: x^a is not real there, or
    x = 0 is the end of its domain (√x), or a pole.

    Parameters
    ----------
    x : array_like, any shape
        The base. Complex x (the complex step) is checked by its real part.
    a : array_like, broadcastable against x
        The exponent; real and finite.

    Returns
    -------
    ndarray, the broadcast shape
        x^a (0⁰ = 1); ±inf, without a warning, beyond the float64 range. NaN in x propagates.
    """
    xa, a = _power_arguments(x, a)
    with _overflow_quietly():
        return np.power(xa, a)


def power_grad(x: ArrayLike, a: ArrayLike) -> Array:
    """Derivative of the power function y = x^a: dy/dx = a·x^(a−1), elementwise.

    Implements 003 §7.2.1 (the chapter "Backward Propagation Algorithm", §7.2.1 Common
    derivatives): the derivative of y = x² is 2x. Where a = 0 it is 0 everywhere, x = 0 included
    (a·x^(a−1) would be 0·∞ there); at x = 0 with a = 1 it is 1 (x⁰ = 1).

    Parameters
    ----------
    x, a : as for `power` (the same domain, the same ValueError outside it)

    Returns
    -------
    ndarray, the broadcast shape
        dy/dx; ±inf, without a warning, where it exceeds the float64 range (a < 1 and x near 0,
        a > 1 and |x| large). NaN in x propagates.
    """
    xa, a = _power_arguments(x, a)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        d = a * np.power(xa, a - 1)
    return np.where(a == 0, _filled(0.0, xa, a), d)


def _positive_base(a: Array) -> None:
    _reject(~(a > 0), "a must be positive (a^x and log_a x are real only for a > 0)", a=a)


def _base_to(a: Array, x: Array) -> Array:
    """a^x for a real base a > 0, to an ulp or so for complex x too.

    NumPy's complex power is exp(x·ln a), whose rounding grows with |x·ln a| (5e-14 relative at
    64^92, beyond what the complex step may err by); a^(u + iv) = a^u·e^{iv·ln a} takes the
    modulus from the real pow instead.
    """
    if np.iscomplexobj(x):
        return np.power(a, x.real) * np.exp(1j * (x.imag * np.log(a)))
    return np.power(a, x)


def exponential(x: ArrayLike, a: ArrayLike) -> Array:
    """The exponential function y = a^x, elementwise, for a base a > 0.

    Implements 003 §7.2.1 (the chapter "Backward Propagation Algorithm", §7.2.1 Common
    derivatives); its example is y = eˣ.

    Parameters
    ----------
    x : array_like, any shape
        The exponent.
    a : array_like, broadcastable against x
        The base; real, finite and positive (ValueError naming a otherwise). a = 1 gives 1.

    Returns
    -------
    ndarray, the broadcast shape
        a^x; +inf beyond the float64 range and 0 below it, without a warning. NaN in x propagates
        (except 1^NaN = 1, as IEEE 754's pow has it).
    """
    xa, (a,) = _with_constants(x, a=a)
    _positive_base(a)
    with _overflow_quietly():
        return _base_to(a, xa)


def exponential_grad(x: ArrayLike, a: ArrayLike) -> Array:
    """Derivative of the exponential function y = a^x: dy/dx = a^x·ln a, elementwise.

    Implements 003 §7.2.1 (the chapter "Backward Propagation Algorithm", §7.2.1 Common
    derivatives): for a = e it is eˣ·ln e = eˣ; for a = 1 it is 0 (ln 1 = 0); for a < 1 it is
    negative.

    Parameters
    ----------
    x, a : as for `exponential`

    Returns
    -------
    ndarray, the broadcast shape
        dy/dx; ±inf (the sign of ln a) beyond the float64 range, without a warning.
    """
    xa, (a,) = _with_constants(x, a=a)
    _positive_base(a)
    with _overflow_quietly():
        return _base_to(a, xa) * np.log(a)


def _log_arguments(x: ArrayLike, a: ArrayLike) -> tuple[Array, Array]:
    xa, (a,) = _with_constants(x, a=a)
    _positive_base(a)
    _reject(a == 1, "a must not be 1: the logarithm to base 1 is undefined (ln 1 = 0)", a=a)
    _reject(xa.real <= 0, "x must be positive (log_a x is defined for x > 0; complex x by its real part)",
            x=xa)
    return xa, a


def logarithm(x: ArrayLike, a: ArrayLike) -> Array:
    """The logarithm to base a, y = log_a x = ln x / ln a, elementwise.

    Implements 003 §7.2.1 (the chapter "Backward Propagation Algorithm", §7.2.1 Common
    derivatives); its example is y = ln x (a = e).

    Parameters
    ----------
    x : array_like, any shape
        Positive (ValueError naming x otherwise). Complex x (the complex step) by its real part.
    a : array_like, broadcastable against x
        The base; real, finite, positive and not 1 (ValueError naming a otherwise: log base 1 is
        undefined).

    Returns
    -------
    ndarray, the broadcast shape
        log_a x. NaN in x propagates.
    """
    xa, a = _log_arguments(x, a)
    return np.log(xa) / np.log(a)


def logarithm_grad(x: ArrayLike, a: ArrayLike) -> Array:
    """Derivative of the logarithm y = log_a x: dy/dx = 1/(x·ln a), elementwise.

    Implements 003 §7.2.1 (the chapter "Backward Propagation Algorithm", §7.2.1 Common
    derivatives): for a = e it is 1/(x·ln e) = 1/x. Evaluated as (1/x)/ln a, so a subnormal x·ln a
    never divides by zero: the result is ±inf, without a warning, where it exceeds the float64 range.

    Parameters
    ----------
    x, a : as for `logarithm` (the same domain, the same ValueError outside it)

    Returns
    -------
    ndarray, the broadcast shape
        dy/dx. NaN in x propagates.
    """
    xa, a = _log_arguments(x, a)
    with _overflow_quietly():
        return np.reciprocal(xa) / np.log(a)


def himmelblau(x: ArrayLike) -> Array:
    """Himmelblau's function, f(x, y) = (x² + y − 11)² + (x + y² − 7)².

    Implements 003 §7.8. Its four minima, all f = 0, are (3, 2), (−2.805, 3.131),
    (−3.779, −3.283) and (3.584, −1.848).

    Parameters
    ----------
    x : array_like, shape (..., 2)
        Points (x, y) on the last axis.

    Returns
    -------
    ndarray, shape (...)
        f; +inf beyond the float64 range. NaN propagates.
    """
    a, b = _points(x)
    with _overflow_quietly():
        return (a * a + b - 11) ** 2 + (a + b * b - 7) ** 2


def himmelblau_grad(x: ArrayLike) -> Array:
    """Gradient of Himmelblau's function f(x, y) = (x² + y − 11)² + (x + y² − 7)².

    Implements 003 §7.8 (the gradient that §7.8's descent takes from the tape), by the chain rule
    of 003 §7.6 on each square: ∇f = (4x(x² + y − 11) + 2(x + y² − 7), 2(x² + y − 11) + 4y(x + y² − 7)).

    Parameters
    ----------
    x : array_like, shape (..., 2)
        Points (x, y) on the last axis.

    Returns
    -------
    ndarray, shape (..., 2)
        (∂f/∂x, ∂f/∂y); zero at each minimum.
    """
    a, b = _points(x)
    with _overflow_quietly():
        g1 = a * a + b - 11
        g2 = a + b * b - 7
        return np.stack([4 * a * g1 + 2 * g2, 2 * g1 + 4 * b * g2], axis=-1)


def quadratic_objective(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> Array:
    """The objective L = x·w² + b².

    Implements 003 §7.2.3 (first example). Broadcasts elementwise.
    """
    w, b, x = _arrays(w=w, b=b, x=x)
    with _overflow_quietly():
        return x * w * w + b * b


def quadratic_objective_grad(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> tuple[Array, Array]:
    """Partial derivatives of L = x·w² + b²: ∂L/∂w = x·2w, ∂L/∂b = 2b.

    Implements 003 §7.2.3 (first example). Returns (∂L/∂w, ∂L/∂b), broadcast together.
    """
    w, b, x = _arrays(w=w, b=b, x=x)
    with _overflow_quietly():
        return _together(2 * (x * w), 2 * b)


def exponential_objective(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> Array:
    """The objective L = x·eʷ + eᵇ.

    Implements 003 §7.2.3 (second example). Broadcasts elementwise.
    """
    w, b, x = _arrays(w=w, b=b, x=x)
    with _overflow_quietly():
        return x * np.exp(w) + np.exp(b)


def exponential_objective_grad(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> tuple[Array, Array]:
    """Partial derivatives of L = x·eʷ + eᵇ: ∂L/∂w = x·eʷ, ∂L/∂b = eᵇ.

    Implements 003 §7.2.3 (second example). Returns (∂L/∂w, ∂L/∂b), broadcast together.
    """
    w, b, x = _arrays(w=w, b=b, x=x)
    with _overflow_quietly():
        return _together(x * np.exp(w), np.exp(b))


def squared_error_objective(w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike) -> Array:
    """The objective L = (xw + b − y)².

    Implements 003 §7.2.3 (third example, [y − (xw + b)]² written as [(xw + b) − y]²).
    Broadcasts elementwise.
    """
    w, b, x, y = _arrays(w=w, b=b, x=x, y=y)
    with _overflow_quietly():
        return (x * w + b - y) ** 2


def squared_error_objective_grad(w: ArrayLike, b: ArrayLike, x: ArrayLike,
                                 y: ArrayLike) -> tuple[Array, Array]:
    """Partial derivatives of L = (xw + b − y)²: ∂L/∂w = 2(xw + b − y)·x, ∂L/∂b = 2(xw + b − y).

    Implements 003 §7.2.3 (third example), with g = xw + b − y and the chain rule 2g·∂g.
    Returns (∂L/∂w, ∂L/∂b), broadcast together.
    """
    w, b, x, y = _arrays(w=w, b=b, x=x, y=y)
    with _overflow_quietly():
        g = x * w + b - y
        return _together(2 * g * x, 2 * g)


def _log_argument(w: Array, b: Array, x: Array) -> Array:
    with _overflow_quietly():
        g = x * w + b
    if not np.all(g.real > 0):
        raise ValueError("log_objective needs xw + b > 0 (real part) everywhere; "
                         f"min Re(xw + b) = {np.min(g.real)}")
    return g


def log_objective(w: ArrayLike, b: ArrayLike, x: ArrayLike, a: ArrayLike) -> Array:
    """The objective L = a·ln(xw + b), defined where xw + b > 0.

    Implements 003 §7.2.3 (fourth example). Broadcasts elementwise; ValueError where
    Re(xw + b) ≤ 0 (or is NaN).
    """
    w, b, x, a = _arrays(w=w, b=b, x=x, a=a)
    g = _log_argument(w, b, x)
    with _overflow_quietly():
        return a * np.log(g)


def log_objective_grad(w: ArrayLike, b: ArrayLike, x: ArrayLike, a: ArrayLike) -> tuple[Array, Array]:
    """Partial derivatives of L = a·ln(xw + b): ∂L/∂w = a·x/(xw + b), ∂L/∂b = a/(xw + b).

    Implements 003 §7.2.3 (fourth example), with g = xw + b and the chain rule a·(1/g)·∂g.
    Returns (∂L/∂w, ∂L/∂b), broadcast together; ValueError where Re(xw + b) ≤ 0.
    """
    w, b, x, a = _arrays(w=w, b=b, x=x, a=a)
    g = _log_argument(w, b, x)
    with _overflow_quietly():
        return _together(a / g * x, a / g)


def chain_rule_z(t: ArrayLike) -> Array:
    """The chain-rule example z = (2t + 1)² + e^{t²}, elementwise.

    Implements 003 §7.6 (z = x² + eʸ with x = 2t + 1, y = t²). +inf, without a warning, once
    e^{t²} exceeds the float64 range (|t| ≳ 26.6).
    """
    t = as_array(t, "t")
    with np.errstate(over="ignore"):
        return (2 * t + 1) ** 2 + np.exp(t * t)


def chain_rule_z_grad(t: ArrayLike) -> Array:
    """Derivative of z = (2t + 1)² + e^{t²}: dz/dt = 4(2t + 1) + 2t·e^{t²}, elementwise.

    Implements 003 §7.6: dz/dt = ∂z/∂x·dx/dt + ∂z/∂y·dy/dt = 2x·2 + eʸ·2t. ±inf (the sign of
    t), without a warning, once 2t·e^{t²} exceeds the float64 range (|t| ≳ 26.5).
    """
    t = as_array(t, "t")
    with np.errstate(over="ignore"):
        return 4 * (2 * t + 1) + 2 * t * np.exp(t * t)


def linear_chain(w1: ArrayLike, b1: ArrayLike, w2: ArrayLike, b2: ArrayLike, x: ArrayLike) -> Array:
    """The two linear stages of 003 §7.6's tape example: y1 = x·w1 + b1, y2 = y1·w2 + b2.

    Implements 003 §7.6. Broadcasts elementwise; returns y2.
    """
    w1, b1, w2, b2, x = _arrays(w1=w1, b1=b1, w2=w2, b2=b2, x=x)
    with _overflow_quietly():
        return (x * w1 + b1) * w2 + b2


def linear_chain_grad(w1: ArrayLike, b1: ArrayLike, w2: ArrayLike, b2: ArrayLike,
                      x: ArrayLike) -> tuple[Array, Array, Array, Array]:
    """Partial derivatives of y2 = (x·w1 + b1)·w2 + b2 by the chain rule.

    Implements 003 §7.6: ∂y2/∂w1 = ∂y2/∂y1·∂y1/∂w1 = w2·x, ∂y2/∂b1 = w2, ∂y2/∂w2 = y1 = x·w1 + b1,
    ∂y2/∂b2 = 1. Returns the four, broadcast together.
    """
    w1, b1, w2, b2, x = _arrays(w1=w1, b1=b1, w2=w2, b2=b2, x=x)
    with _overflow_quietly():
        y1 = x * w1 + b1
        return _together(x * w2, w2, y1, np.ones_like(b2))


def _one_layer_logits(W: ArrayLike, x: ArrayLike) -> tuple[Array, Array]:
    W = as_array(W, "W")
    # 000's network has no bias.
    return as_array(x, "x"), dense_forward(x, W, np.zeros(W.shape[1:]))


def one_layer_loss(W: ArrayLike, x: ArrayLike, p: ArrayLike) -> Any:
    """000's one-layer network and cost, C = −(1/N) Σ p log σ(xW).

    Implements 000: y = xW (no bias), y_o = σ(y), C = cross_entropy(y_o, p), the categorical
    cross-entropy on the sigmoid outputs; sum over classes, mean over rows.

    Parameters
    ----------
    W : array_like, shape (n_in, K)
    x : array_like, shape (N, n_in) or (n_in,)
    p : array_like, shape (N, K) or (K,)
        Labels, finite and non-negative.

    Returns
    -------
    np.float64 (np.complex128 for complex input)
        C. A ValueError from cross_entropy if some σ(xW) underflows to 0 (xW ≲ −745).
    """
    _, y = _one_layer_logits(W, x)
    return cross_entropy(sigmoid(y), p)


def one_layer_grad(W: ArrayLike, x: ArrayLike, p: ArrayLike) -> Array:
    """Gradient of `one_layer_loss` in 000's matrix form, ∂C/∂W = xᵀ(∂C/∂y_o ⊙ ∂y_o/∂y).

    Implements 000: ∂C/∂y_o = −p/y_o (with the cost's 1/N), ∂y_o/∂y = σ(y)(1 − σ(y)); for one
    example (1-D x) xᵀ(…) is the outer product.

    Returns
    -------
    ndarray, W's shape
    """
    x, y = _one_layer_logits(W, x)
    dy = cross_entropy_grad(sigmoid(y), p) * sigmoid_grad(y)
    return np.outer(x, dy) if x.ndim == 1 else x.T @ dy


def two_layer_loss(W1: ArrayLike, b1: ArrayLike, W2: ArrayLike, b2: ArrayLike, x: ArrayLike,
                   y: ArrayLike) -> Any:
    """001's two-layer network and loss: softmax cross-entropy of σ(xW1 + b1)W2 + b2.

    Implements 001: Linear + Sigmoid, then Linear + Softmax, with the cross-entropy cost; sum
    over classes, mean over rows for a batch.

    Parameters
    ----------
    W1 : array_like, shape (n_in, H)
    b1 : array_like, shape (H,)
    W2 : array_like, shape (H, K)
    b2 : array_like, shape (K,)
    x : array_like, shape (N, n_in) or (n_in,)
    y : array_like, shape (N, K) or (K,)
        Targets, finite and non-negative.

    Returns
    -------
    np.float64 (np.complex128 for complex input)
    """
    h = sigmoid(dense_forward(x, W1, b1))
    return softmax_cross_entropy(dense_forward(h, W2, b2), y)


def two_layer_grads(W1: ArrayLike, b1: ArrayLike, W2: ArrayLike, b2: ArrayLike, x: ArrayLike,
                    y: ArrayLike) -> tuple[Array, Array, Array, Array]:
    """Gradients of `two_layer_loss`, stage by stage by the chain rule as 001 writes them.

    Implements 001: δ2 = ∂L/∂z2 = softmax(z2)·Σ_k y_k − y (p − y for one-hot y; over N for a
    batch), dW2 = hᵀδ2, db2 = Σ_rows δ2; back through W2 and the sigmoid, δ1 = (δ2 W2ᵀ) ⊙ σ′(z1),
    dW1 = xᵀδ1, db1 = Σ_rows δ1.

    Returns
    -------
    (dW1, db1, dW2, db2), each of its parameter's shape
    """
    z1 = dense_forward(x, W1, b1)
    h = sigmoid(z1)
    delta2 = softmax_cross_entropy_grad(dense_forward(h, W2, b2), y)
    dh, dW2, db2 = dense_backward(h, W2, delta2)
    delta1 = dh * sigmoid_grad(z1)
    _, dW1, db1 = dense_backward(x, W1, delta1)
    return dW1, db1, dW2, db2
