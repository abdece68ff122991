"""Softmax over the last axis, its logarithm and its Jacobian (003 §7.4.2).

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


def _shifted(z: Array) -> Array:
    """z minus its row maximum (real part): every entry ≤ 0, the maximum exactly 0.

    For logits as far apart as 1.7e308 and −1.7e308 the difference is below −max float64: it
    overflows to −inf, which is the exact limit of both e^{z − max} (0) and the log-probability,
    so that overflow is expected and silenced. An inf logit gives NaN in its row.
    """
    top = np.max(z.real, axis=-1, keepdims=True, initial=-np.inf)
    with np.errstate(over="ignore", invalid="ignore"):
        return z - top


def softmax(z: ArrayLike) -> Array:
    """Softmax over the last axis, p_i = e^{z_i} / Σ_k e^{z_k}.

    Implements 003 §7.4.2. Evaluated as e^{z − max z} / Σ e^{z − max z}, which cannot overflow
    for any finite logits (a spread of 1e4 or −1e300 included): entries far below the maximum
    underflow to exactly 0.

    Parameters
    ----------
    z : array_like, shape (..., K)
        Logits; leading axes are batch.

    Returns
    -------
    ndarray, z's shape
        Probabilities; each row sums to 1. NaN or +inf in a row gives NaN in that row; −inf
        logits get probability 0.
    """
    z = _logits(z)
    if z.size == 0:
        return z.copy()
    e = np.exp(_shifted(z))
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(z: ArrayLike) -> Array:
    """Log of the softmax over the last axis, log p_i = z_i − log Σ_k e^{z_k}.

    Implements 003 §7.4.2 (the log p_k of its cross-entropy). Evaluated as
    (z − max z) − log Σ e^{z − max z}: the sum is at least 1, so the log never sees 0, and a
    logit 1e4 below the maximum gets its exact log-probability (≈ −1e4) instead of log 0.

    Parameters
    ----------
    z : array_like, shape (..., K)
        Logits; leading axes are batch.

    Returns
    -------
    ndarray, z's shape
        Log-probabilities, all ≤ 0; −inf only where the true value is below −max float64.
        NaN or +inf in a row gives NaN in that row.
    """
    z = _logits(z)
    if z.size == 0:
        return z.copy()
    s = _shifted(z)
    return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))


def softmax_jacobian(z: ArrayLike) -> Array:
    """Jacobian of the softmax, J[..., i, j] = ∂p_i/∂z_j = p_i(δ_ij − p_j).

    Implements 003 §7.4.2: p_i(1 − p_i) on the diagonal, −p_i p_j off it. Each K×K block is
    symmetric and positive semi-definite, and its rows and columns sum to 0.

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
