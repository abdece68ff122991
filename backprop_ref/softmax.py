"""Softmax over the last axis, its logarithm and its Jacobian (Backward Propagation Algorithm §7.4.2).

The last axis holds the K classes; any leading axes are batch. A 0-d input has no class axis and
is a ValueError. Complex logits are accepted (complex step); the row maximum is taken over the
real parts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array

__all__ = ["softmax", "log_softmax", "softmax_jacobian"]

Array = NDArray[Any]


def _logits(z: ArrayLike) -> Array:
    z = as_array(z, "z")
    if z.ndim == 0:
        raise ValueError("z must have a class axis (the last one); got a 0-d array")
    return z


def _shifted(z: Array) -> tuple[Array, Array]:
    """z minus its entry with the largest real part, and a mask of every other entry.

    The shifted maximum is exactly 0, so its e^0 is exactly 1 and log Σ e^z is log1p of the other
    terms: no rounding of 1 + (small) and, under a complex step, no cancellation in the
    derivative. For logits as far apart as 1.7e308 and −1.7e308 the difference is below −max
    float64: it overflows to −inf, the exact limit of both e^{z − z_m} (0) and the
    log-probability, so that overflow is expected and silenced. NaN, +inf and rows of only −inf
    give NaN (inf − inf), silently.
    """
    top = np.argmax(z.real, axis=-1)[..., None]
    with np.errstate(over="ignore", invalid="ignore"):
        s = z - np.take_along_axis(z, top, axis=-1)
    rest = np.ones(z.shape, bool)
    np.put_along_axis(rest, top, False, axis=-1)
    return s, rest


def _log1p(w: Array) -> Array:
    """log(1 + w), accurate for small w: NumPy's complex log1p loses the real part of small w."""
    if not np.iscomplexobj(w):
        return np.log1p(w)
    a, b = w.real, w.imag
    return 0.5 * np.log1p(a * (2 + a) + b * b) + 1j * np.arctan2(b, 1 + a)


def softmax(z: ArrayLike) -> Array:
    """Softmax over the last axis, p_i = e^{z_i} / Σ_k e^{z_k}.

    Implements Backward Propagation Algorithm §7.4.2. Evaluated as e^{z − z_m} / Σ e^{z − z_m} with z_m the
    largest logit (by real part), which cannot overflow for any finite logits (a spread of 1e4 or −1e300
    included): entries far below the maximum underflow to exactly 0.

    Parameters
    ----------
    z : array_like, shape (..., K)
        Logits; leading axes are batch.

    Returns
    -------
    ndarray, z's shape
        Probabilities; each row sums to 1. NaN, +inf, or a row of only −inf gives NaN in that
        row; other −inf logits get probability 0.
    """
    z = _logits(z)
    if z.size == 0:
        return z.copy()
    e = np.exp(_shifted(z)[0])
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(z: ArrayLike) -> Array:
    """Log of the softmax over the last axis, log p_i = z_i − log Σ_k e^{z_k}.

    Implements Backward Propagation Algorithm §7.4.2 (the log p_k of its cross-entropy). Evaluated as
    (z − z_m) − log1p(Σ_{k≠m} e^{z_k − z_m}) with z_m the largest logit: the log never sees 0, a logit 1e4
    below the maximum gets its exact log-probability (≈ −1e4) instead of log 0, and a log-probability near 0
    keeps its relative accuracy.

    Parameters
    ----------
    z : array_like, shape (..., K)
        Logits; leading axes are batch.

    Returns
    -------
    ndarray, z's shape
        Log-probabilities, all ≤ 0; −inf only where the true value is below −max float64.
        A NaN or +inf logit gives NaN in its place (NaN: the whole row), as does a row of −inf.
    """
    z = _logits(z)
    if z.size == 0:
        return z.copy()
    s, rest = _shifted(z)
    return s - _log1p(np.sum(np.exp(s), axis=-1, keepdims=True, where=rest))


def softmax_jacobian(z: ArrayLike) -> Array:
    """Jacobian of the softmax, J[..., i, j] = ∂p_i/∂z_j = p_i(δ_ij − p_j).

    Implements Backward Propagation Algorithm §7.4.2: p_i(1 − p_i) on the diagonal, −p_i p_j off it. Each
    K×K block is symmetric and positive semi-definite, and its rows and columns sum to 0.

    Parameters
    ----------
    z : array_like, shape (..., K)
        Logits; leading axes are batch, with one independent block per row.

    Returns
    -------
    ndarray, shape (..., K, K)
        The per-row Jacobians; NaN wherever softmax(z) is NaN.
    """
    p = softmax(z)
    return p[..., :, None] * (np.eye(p.shape[-1]) - p[..., None, :])
