"""Activations of the form x·g(x), a smooth gate g: GELU (g = Φ) and SiLU (g = σ), elementwise.

As in backprop_ref.activations, every function takes array_like and returns an array of x's shape,
in float64, or complex128 for complex input so that complex-step differentiation applies. Both are
smooth everywhere: no kink, no convention at any point. Stable for every finite input: the gate is
evaluated without overflow, and where it or its slope underflows the product is the true 0 (never
0·inf), without a warning.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from backprop_ref._validate import as_array
from backprop_ref.activations import sigmoid, sigmoid_grad

__all__ = ["gelu", "gelu_grad", "silu", "silu_grad"]

Array = NDArray[Any]

_SQRT_2PI = math.sqrt(2 * math.pi)
# Beyond |x| = 40 the normal density φ(x) = e^{−x²/2}/√(2π) is e^{−800}/√(2π): below the smallest
# subnormal, so 0 in float64. Clamping x there keeps x² from overflowing (|x| > 1.3e154) and gives
# the same φ = 0.
_GAUSS_TAIL = 40.0
# GELU's tanh form: Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))) (Hendrycks & Gimpel 2016, §2).
_TANH_SCALE = math.sqrt(2 / math.pi)
_TANH_CUBIC = 0.044715
# At |x| = 1e3 the sigmoid's argument 2√(2/π)(x + 0.044715x³) is 7.1e7 in magnitude: σ is exactly
# 1 or 0 there and σ′ exactly 0, so x is clamped to ±1e3 inside the gate (x³ would overflow at
# |x| > 5.6e102) without changing a bit of the result.
_TANH_SATURATED = 1e3


def _gaussian_density(x: Array) -> Array:
    """φ(x) = e^{−x²/2}/√(2π), 0 beyond |Re x| = 40 (where it underflows), x² never overflowing."""
    xc = np.where(np.abs(x.real) <= _GAUSS_TAIL, x, _GAUSS_TAIL)
    return np.exp(-0.5 * (xc * xc)) / _SQRT_2PI


def _tanh_gate(x: Array) -> tuple[Array, Array]:
    """x clamped to ±1e3 and v = 2√(2/π)(x + 0.044715x³) of it: the tanh form's gate is σ(v)."""
    big = np.abs(x.real) > _TANH_SATURATED
    xc = np.where(big, np.sign(x.real) * _TANH_SATURATED, x)
    return xc, 2 * _TANH_SCALE * (xc + _TANH_CUBIC * (xc * xc * xc))


def gelu(x: ArrayLike, approximate: bool = False) -> Array:
    """Gaussian error linear unit, GELU(x) = x·Φ(x), or its tanh approximation.

    Derived in Hendrycks & Gimpel 2016 ("Gaussian error linear units (GELUs)", arXiv:1606.08415),
    §2: x·Φ(x) with Φ the standard normal distribution function, and the approximation
    ½x(1 + tanh(√(2/π)(x + 0.044715x³))) used by BERT and GPT-2. The exact form (the default, as in
    TensorFlow's tf.nn.gelu and PyTorch; JAX's jax.nn.gelu defaults to the tanh form) evaluates Φ
    as scipy.special.ndtr, accurate in both tails; the tanh form is evaluated as x·σ(2u), the same
    function (½(1 + tanh u) = σ(2u)) without the cancellation of 1 + tanh u for negative x.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations.
    approximate : bool, default False
        False: x·Φ(x). True: the tanh form.

    Returns
    -------
    ndarray, x's shape
        GELU(x); 0 where x·Φ(x) underflows (x < −37.7 exact, x < −21.6 tanh form), x itself for
        large x; GELU(inf) = inf; NaN propagates.
    """
    x = as_array(x, "x")
    if approximate:
        _, v = _tanh_gate(x)
        return x * sigmoid(v)
    return x * ndtr(x)


def gelu_grad(x: ArrayLike, approximate: bool = False) -> Array:
    """Derivative of GELU: Φ(x) + x·φ(x), or the derivative of the tanh form.

    Derived in Hendrycks & Gimpel 2016 (the product rule on x·Φ(x), with Φ′ = φ the standard normal
    density e^{−x²/2}/√(2π)). A derivative without the x·φ(x) term is Φ(x) alone, wrong by up to
    0.24 (near x = ±1). For the tanh form, with v = 2√(2/π)(x + 0.044715x³) and gelu = x·σ(v):
    d/dx = σ(v) + x·σ′(v)·2√(2/π)(1 + 3·0.044715x²). Smooth everywhere; no kink.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations.
    approximate : bool, default False
        As for `gelu`.

    Returns
    -------
    ndarray, x's shape
        GELU′(x): ½ at 0, 0 at x ≈ −0.7518, its minimum Φ(−√2) − √2·φ(√2) ≈ −0.1289 at x = −√2
        (where (GELU′)′ = φ(x)(2 − x²) vanishes), 1 and 0 in the tails, where φ and σ′ underflow to 0
        (never 0·inf); NaN propagates.
    """
    x = as_array(x, "x")
    if approximate:
        xc, v = _tanh_gate(x)
        slope = 2 * _TANH_SCALE * (1 + 3 * _TANH_CUBIC * (xc * xc))
        return sigmoid(v) + xc * sigmoid_grad(v) * slope
    return ndtr(x) + x * _gaussian_density(x)


def silu(x: ArrayLike) -> Array:
    """Sigmoid linear unit (swish with β = 1), SiLU(x) = x·σ(x).

    Derived in Elfwing, Uchibe & Doya 2018 ("Sigmoid-weighted linear units for neural network function
    approximation in reinforcement learning", Neural Networks 107), and as swish in Ramachandran, Zoph & Le
    2017 ("Searching for activation functions", arXiv:1710.05941); named SiLU in Hendrycks & Gimpel 2016. σ
    is the package's overflow-free sigmoid (Backward Propagation Algorithm §7.3.1).

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations.

    Returns
    -------
    ndarray, x's shape
        SiLU(x), minimum −0.2785 at x ≈ −1.2785; 0 where σ(x) underflows (x < −745); SiLU(inf) = inf;
        NaN propagates.
    """
    x = as_array(x, "x")
    return x * sigmoid(x)


def silu_grad(x: ArrayLike) -> Array:
    """Derivative of SiLU: σ(x) + x·σ′(x) = σ(x)(1 + x(1 − σ(x))).

    Derived in Elfwing et al. 2018 (the product rule on x·σ(x), σ′ = σ(1 − σ) of Backward Propagation
    Algorithm §7.3.1). Evaluated as σ(x) + x·σ′(x) with σ′ = e^{−|x|}/(1 + e^{−|x|})², so at saturation the
    second term keeps its true tiny value (40·σ′(40) = 1.7e-16) rather than 40·(1 − σ(40)) = 0.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations.

    Returns
    -------
    ndarray, x's shape
        SiLU′(x): ½ at 0, 1 and 0 in the tails; NaN propagates.
    """
    x = as_array(x, "x")
    return sigmoid(x) + x * sigmoid_grad(x)
