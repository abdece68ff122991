"""The elementary functions of Backward Propagation Algorithm §7.1 and §7.2.1 and their derivatives.

§7.1's free fall, y = ½·g·t² with dy/dt = g·t, and the common derivatives §7.2.1 lists: constant,
linear a·x + c, power xᵃ, exponential aˣ, logarithm log_a x. Each is a function of x (or t) with real
constants that broadcast against it; the derivative is taken in x alone, elementwise. They are
polynomials, powers and exponentials with no stable reformulation to fall back on: where a result
exceeds the float64 range it is ±inf, without a warning; outside a function's domain (log base 1,
a non-positive base, xᵃ at x ≤ 0 for non-integer a, 0 to a negative power) a ValueError names the
argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array, real_scalar, require_finite

__all__ = [
    "STANDARD_GRAVITY", "free_fall", "free_fall_grad",
    "constant", "constant_grad", "linear", "linear_grad", "power", "power_grad",
    "exponential", "exponential_grad", "logarithm", "logarithm_grad",
]

Array = NDArray[Any]


def _overflow_quietly() -> np.errstate:
    return np.errstate(over="ignore", invalid="ignore")


# ---- Backward Propagation Algorithm §7.1: the free-fall example -----------------------------------

STANDARD_GRAVITY = 9.80665
"""g₀ in m/s², exact by definition (3rd CGPM, 1901): the default g of `free_fall`."""


def free_fall(t: ArrayLike, g: float = STANDARD_GRAVITY) -> Array:
    """Displacement of free fall, y = ½·g·t², elementwise.

    Implements Backward Propagation Algorithm §7.1 (Derivatives and gradients), its physical example of a
    derivative.

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

    Implements Backward Propagation Algorithm §7.1 (Derivatives and gradients): dy/dt = d(½·g·t²)/dt = g·t,
    the velocity v.

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


# ---- Backward Propagation Algorithm §7.2.1: the common derivatives --------------------------------
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

    Implements Backward Propagation Algorithm §7.2.1 (Common derivatives): the constant function; its
    example is y = 2.

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

    Implements Backward Propagation Algorithm §7.2.1 (Common derivatives): "the derivative of constant
    function c is 0".

    Returns
    -------
    ndarray, the broadcast shape of x and c
        Zeros.
    """
    xa, (c,) = _with_constants(x, c=c)
    return _filled(0.0, xa, c)


def linear(x: ArrayLike, a: ArrayLike, c: ArrayLike) -> Array:
    """The linear function y = a·x + c, elementwise.

    Implements Backward Propagation Algorithm §7.2.1 (Common derivatives); its example is y = 2x + 1.

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

    Implements Backward Propagation Algorithm §7.2.1 (Common derivatives): the derivative of
    y = 2x + 1 is 2.

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

    Implements Backward Propagation Algorithm §7.2.1 (Common derivatives); its example is y = x².

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

    Implements Backward Propagation Algorithm §7.2.1 (Common derivatives): the derivative of y = x² is 2x.
    Where a = 0 it is 0 everywhere, x = 0 included (a·x^(a−1) would be 0·∞ there); at x = 0 with a = 1 it is
    1 (x⁰ = 1).

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

    Implements Backward Propagation Algorithm §7.2.1 (Common derivatives); its example is y = eˣ.

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

    Implements Backward Propagation Algorithm §7.2.1 (Common derivatives): for a = e it is eˣ·ln e = eˣ; for
    a = 1 it is 0 (ln 1 = 0); for a < 1 it is negative.

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

    Implements Backward Propagation Algorithm §7.2.1 (Common derivatives); its example is y = ln x (a = e).

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

    Implements Backward Propagation Algorithm §7.2.1 (Common derivatives): for a = e it is 1/(x·ln e) = 1/x.
    Evaluated as (1/x)/ln a, so a subnormal x·ln a never divides by zero: the result is ±inf, without a
    warning, where it exceeds the float64 range.

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
