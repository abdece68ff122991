"""Batch normalisation (Ioffe & Szegedy 2015) and layer normalisation (Ba et al. 2016), training mode:
forward passes and their backward passes (dx, dgamma, dbeta).

Both normalise x to x̂ = (x − μ)/√(σ² + ε) with the biased variance σ² = mean (x − μ)² and return
y = γ·x̂ + β; batch norm takes μ, σ² over the rows (axis 0 of (N, D)), layer norm over the last axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array
from backprop_ref.layers._checks import exact_scale, positive_eps, shaped, tensor

__all__ = ["batch_norm_forward", "batch_norm_backward", "layer_norm_forward", "layer_norm_backward"]

Array = NDArray[Any]


def _normalise(x: Array, axis: int, eps: float) -> tuple[Array, Array]:
    """x̂ = (x − μ)/√(σ² + ε) along `axis`, and 1/√(σ² + ε) (keepdims), for every finite x.

    x is first divided by a power of two per slice (exact) so that its squares cannot overflow
    (x near 1e308 has σ² beyond the float64 range but a representable x̂); ε is divided by the
    square of the same power. The mean is taken in two passes (μ + mean(x − μ)), which makes a
    constant slice exactly constant about its mean: x̂ = 0, not the ±1 of a rounding error divided
    by its own size. If σ² + ε/c² underflows to 0, x − μ is exactly 0 (x̂ = 0).
    """
    c = exact_scale(x, axis)
    xs = x / c
    mu = np.mean(xs, axis=axis, keepdims=True)
    mu = mu + np.mean(xs - mu, axis=axis, keepdims=True)
    d = xs - mu
    s2 = np.mean(d * d, axis=axis, keepdims=True) + eps / c / c
    inv = 1.0 / np.sqrt(np.where(s2 != 0, s2, 1.0))
    return d * inv, inv / c


def _backward(dxhat: Array, xhat: Array, inv_std: Array, axis: int) -> Array:
    """∂L/∂x from ∂L/∂x̂ through x̂ = (x − μ)/√(σ² + ε), μ and σ² taken along `axis` (M entries):
    dx = (1/√(σ² + ε))·(dx̂ − mean dx̂ − x̂·mean(dx̂·x̂)), the three terms of x − μ, μ and σ²."""
    with np.errstate(over="ignore", invalid="ignore"):
        mean_d = np.mean(dxhat, axis=axis, keepdims=True)
        mean_dx = np.mean(dxhat * xhat, axis=axis, keepdims=True)
        return inv_std * (dxhat - mean_d - xhat * mean_dx)


def _affine(x: Array, gamma: ArrayLike, beta: ArrayLike | None) -> tuple[Array, Array | None]:
    d = x.shape[-1]
    g = shaped(as_array(gamma, "gamma"), "gamma", (d,), f"one scale per feature of x, shape {x.shape}")
    b = None if beta is None else shaped(as_array(beta, "beta"), "beta", (d,),
                                         f"one shift per feature of x, shape {x.shape}")
    return g, b


def _batch(x: ArrayLike) -> Array:
    a = tensor(x, "x", "(N, D)")
    if a.shape[0] == 0:
        raise ValueError(f"x is a batch of no rows (shape {a.shape}); its mean and variance are undefined")
    return a


def batch_norm_forward(x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, eps: float = 1e-5) -> Array:
    """Batch normalisation in training mode, y = γ·(x − μ_B)/√(σ²_B + ε) + β.

    Derived in Ioffe & Szegedy 2015, Algorithm 1: μ_B = (1/N) Σ_i x_i, σ²_B = (1/N) Σ_i (x_i − μ_B)²
    (the biased variance, over the N rows of the mini-batch, per feature), x̂_i = (x_i − μ_B)/√(σ²_B + ε),
    y_i = γ x̂_i + β. The batch's own statistics are used (no running averages: training mode).

    Parameters
    ----------
    x : array_like, shape (N, D)
        A batch of N rows of D features; N ≥ 1 (one row gives x̂ = 0, y = β).
    gamma, beta : array_like, shape (D,)
        The scale γ and shift β per feature.
    eps : float
        ε > 0, added to the variance.

    Returns
    -------
    ndarray, shape (N, D)
        y. Finite for every finite x (x near the float64 limit included); ±inf only where γ·x̂ + β
        exceeds the float64 range.
    """
    x = _batch(x)
    g, b = _affine(x, gamma, beta)
    xhat, _ = _normalise(x, 0, positive_eps(eps))
    with np.errstate(over="ignore", invalid="ignore"):
        return g * xhat + b


def batch_norm_backward(x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, dy: ArrayLike,
                        eps: float = 1e-5) -> tuple[Array, Array, Array]:
    """Backward pass of `batch_norm_forward`: (dx, dgamma, dbeta) from dy = ∂L/∂y.

    Derived in Ioffe & Szegedy 2015, §3 (the chain rule through Algorithm 1's transform): with
    dx̂ = dy·γ, ∂L/∂σ²_B = Σ_i dx̂_i (x_i − μ_B)·(−½)(σ²_B + ε)^{−3/2}, ∂L/∂μ_B = −Σ_i dx̂_i/√(σ²_B + ε)
    (its term through σ²_B vanishes, Σ_i (x_i − μ_B) = 0), and ∂L/∂x_i = dx̂_i/√(σ²_B + ε) +
    ∂L/∂σ²_B·2(x_i − μ_B)/N + ∂L/∂μ_B/N; collected,

        dx = (1/√(σ²_B + ε))·(dx̂ − mean_rows dx̂ − x̂·mean_rows(dx̂·x̂)),
        dgamma = Σ_rows dy·x̂,  dbeta = Σ_rows dy.

    Every row's x̂ depends on every row's x through μ_B and σ²_B: dropping either of the last two
    terms of dx is the classic wrong backward (it is the backward of a fixed-statistics layer).

    Parameters
    ----------
    x, gamma, beta, eps
        As for `batch_norm_forward` (beta is validated but does not enter the gradients).
    dy : array_like, shape (N, D)
        ∂L/∂y.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
        Sums over the rows, not means: any 1/N of the loss is already in dy.
    """
    x = _batch(x)
    g, _ = _affine(x, gamma, beta)
    dy = shaped(as_array(dy, "dy"), "dy", x.shape, "y's shape, which is x's")
    xhat, inv = _normalise(x, 0, positive_eps(eps))
    with np.errstate(over="ignore", invalid="ignore"):
        dx = _backward(dy * g, xhat, inv, 0)
        return dx, np.sum(dy * xhat, axis=0), np.sum(dy, axis=0)


def _features(x: ArrayLike) -> Array:
    a = as_array(x, "x")
    if a.ndim == 0 or a.shape[-1] == 0:
        raise ValueError(f"x must have shape (..., D) with D ≥ 1 features on the last axis; "
                         f"got shape {a.shape}")
    return a


def layer_norm_forward(x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, eps: float = 1e-5) -> Array:
    """Layer normalisation, y = γ·(x − μ)/√(σ² + ε) + β with μ, σ² over the last axis of each example.

    Derived in Ba et al. 2016, §3 (eq. 4): μ = (1/H) Σ_i a_i, σ = √((1/H) Σ_i (a_i − μ)²) over the H
    units of one layer of one example; here the biased variance and ε inside the root as in batch
    norm, y = γ x̂ + β with γ, β per unit. The same computation at training and test time.

    Parameters
    ----------
    x : array_like, shape (..., D)
        Any leading axes (batch, time, ...); each vector along the last axis is normalised on its own.
    gamma, beta : array_like, shape (D,)
        Gain and bias per unit.
    eps : float
        ε > 0, added to the variance.

    Returns
    -------
    ndarray, x's shape
        y; finite for every finite x, ±inf only where γ·x̂ + β exceeds the float64 range.
    """
    x = _features(x)
    g, b = _affine(x, gamma, beta)
    xhat, _ = _normalise(x, -1, positive_eps(eps))
    with np.errstate(over="ignore", invalid="ignore"):
        return g * xhat + b


def layer_norm_backward(x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, dy: ArrayLike,
                        eps: float = 1e-5) -> tuple[Array, Array, Array]:
    """Backward pass of `layer_norm_forward`: (dx, dgamma, dbeta) from dy = ∂L/∂y.

    Derived in Ba et al. 2016 (§3's normalisation, differentiated as batch norm is in Ioffe &
    Szegedy 2015 §3, along the features instead of the batch): with dx̂ = dy·γ,

        dx = (1/√(σ² + ε))·(dx̂ − mean_last dx̂ − x̂·mean_last(dx̂·x̂)),
        dgamma = Σ_leading dy·x̂,  dbeta = Σ_leading dy,

    the means over the last axis (the D units of one example), the sums over every leading axis.

    Parameters
    ----------
    x, gamma, beta, eps
        As for `layer_norm_forward` (beta is validated but does not enter the gradients).
    dy : array_like, x's shape
        ∂L/∂y.

    Returns
    -------
    dx : ndarray, x's shape
    dgamma, dbeta : ndarray, shape (D,)
        Sums over every leading axis, not means.
    """
    x = _features(x)
    g, _ = _affine(x, gamma, beta)
    dy = shaped(as_array(dy, "dy"), "dy", x.shape, "y's shape, which is x's")
    xhat, inv = _normalise(x, -1, positive_eps(eps))
    lead = tuple(range(x.ndim - 1))
    with np.errstate(over="ignore", invalid="ignore"):
        dx = _backward(dy * g, xhat, inv, -1)
        return dx, np.sum(dy * xhat, axis=lead), np.sum(dy, axis=lead)
