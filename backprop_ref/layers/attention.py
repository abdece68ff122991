"""Scaled dot-product attention with an optional boolean mask (Vaswani et al. 2017) and its backward pass."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array
from backprop_ref.layers._checks import exact_scale, shaped, tensor

__all__ = ["attention_forward", "attention_backward"]

Array = NDArray[Any]


def _inputs(q: ArrayLike, k: ArrayLike, v: ArrayLike, mask: ArrayLike | None) -> tuple[Array, ...]:
    q = tensor(q, "q", "(N, Tq, d)")
    k = tensor(k, "k", "(N, Tk, d)")
    v = tensor(v, "v", "(N, Tk, dv)")
    n, tq, d = q.shape
    if k.shape[0] != n or k.shape[2] != d:
        raise ValueError(f"k has shape {k.shape} but q has shape {q.shape}; k must be ({n}, Tk, {d})")
    if v.shape[:2] != k.shape[:2]:
        raise ValueError(f"v has shape {v.shape} but k has shape {k.shape}; v must be {k.shape[:2]} + (dv,), "
                         "one value per key")
    if d == 0 or k.shape[1] == 0:
        raise ValueError(f"q has shape {q.shape} and k {k.shape}: attention needs d ≥ 1 and Tk ≥ 1")
    if mask is None:
        allowed = np.ones((1, tq, k.shape[1]), dtype=bool)
    else:
        allowed = np.asarray(mask)
        if allowed.dtype != np.bool_:
            raise TypeError("mask must be boolean (True where attention is allowed), got dtype "
                            f"{allowed.dtype}")
        if allowed.ndim != 3 or allowed.shape[0] not in (1, n) or allowed.shape[1:] != (tq, k.shape[1]):
            raise ValueError(f"mask has shape {allowed.shape} but must have shape ({n} or 1, {tq}, "
                             f"{k.shape[1]}) for q of shape {q.shape} and k of shape {k.shape}")
    return q, k, v, allowed


def _weights(q: Array, k: Array, allowed: Array) -> Array:
    """p = softmax(q kᵀ/√d) over the allowed keys of each query (N, Tq, Tk); 0 at every masked key, and a
    row of zeros for a query with no allowed key.

    q and k are first divided by exact powers of two (one per batch entry) so that their product cannot
    overflow; the scores s = s'·c_q·c_k are never formed: s − max s = (s' − max s')·c_q·c_k, which
    overflows only to −inf, whose exponential is the right 0. The maximum is taken over the allowed
    keys (by real part, for the complex step); masked scores are replaced by it before exp, so no
    masked score can overflow or produce NaN.
    """
    cq = exact_scale(q, axis=(1, 2))
    ck = exact_scale(k, axis=(1, 2))
    with np.errstate(over="ignore", invalid="ignore"):
        s = (q / cq) @ np.swapaxes(k / ck, 1, 2) / np.sqrt(q.shape[2])
        top = np.max(np.where(allowed, s.real, -np.inf), axis=-1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)      # a fully masked row: any shift does
        z = (np.where(allowed, s, top) - top) * cq * ck
        e = np.where(allowed, np.exp(z), 0.0)
    total = np.sum(e, axis=-1, keepdims=True)           # ≥ 1 (the maximum's e⁰) unless no key is allowed
    return e / np.where(total != 0, total, 1.0)


def attention_forward(q: ArrayLike, k: ArrayLike, v: ArrayLike, mask: ArrayLike | None = None) -> Array:
    """Scaled dot-product attention, softmax(q kᵀ/√d) v over the allowed keys.

    Derived in Vaswani et al. 2017, §3.2.1 (eq. 1): Attention(Q, K, V) = softmax(Q Kᵀ/√d_k) V, the
    softmax over the keys (the last axis of the scores), batched over N; with a mask (§3.2.3's
    decoder masking) the softmax runs over the allowed keys only, p_ij = e^{s_ij}/Σ_{allowed l} e^{s_il}
    and p_ij = 0 where the mask is False.

    Fully masked rows (a query with no allowed key): the output row is 0 and no gradient flows
    through it, the softmax over an empty set taken as all-zero weights (an empty weighted sum). This
    is the chosen, NaN-free convention (FlashAttention's); a −inf additive mask gives NaN there and a
    −1e9 additive mask gives the mean of every value, masked keys included.

    Parameters
    ----------
    q : array_like, shape (N, Tq, d)
        Queries.
    k : array_like, shape (N, Tk, d)
        Keys (Tk ≥ 1, d ≥ 1).
    v : array_like, shape (N, Tk, dv)
        Values, one per key.
    mask : array_like of bool, shape (N, Tq, Tk) or (1, Tq, Tk), optional
        True where query i may attend to key j; None allows every key. A mask of shape (1, …) is
        shared by the whole batch.

    Returns
    -------
    ndarray, shape (N, Tq, dv)
        The attended values; finite for every finite input (scores beyond the float64 range included:
        the softmax is computed from their differences).
    """
    q, k, v, allowed = _inputs(q, k, v, mask)
    p = _weights(q, k, allowed)
    with np.errstate(over="ignore", invalid="ignore"):
        return p @ v


def attention_backward(q: ArrayLike, k: ArrayLike, v: ArrayLike, dout: ArrayLike,
                       mask: ArrayLike | None = None) -> tuple[Array, Array, Array]:
    """Backward pass of `attention_forward`: (dq, dk, dv) from dout = ∂L/∂out.

    Derived in Vaswani et al. 2017 (§3.2.1's attention, differentiated by the chain rule through out = p v,
    the softmax and s = q kᵀ/√d; the softmax's Jacobian as in Backward Propagation Algorithm §7.4.2):

        dv = pᵀ dout,  dp = dout vᵀ,  ds = p ⊙ (dp − Σ_j p ⊙ dp)   (per query, over its keys),
        dq = ds k/√d,  dk = dsᵀ q/√d.

    Both dq and dk carry the scale 1/√d of the scores. A masked key has p = 0 and so ds = 0: no
    gradient reaches it through q or k, and dv is zero for a key no query may attend. A fully masked
    row contributes nothing (see `attention_forward`).

    Parameters
    ----------
    q, k, v, mask
        As for `attention_forward` (the weights are computed again).
    dout : array_like, shape (N, Tq, dv)
        ∂L/∂out.

    Returns
    -------
    dq : ndarray, q's shape
    dk : ndarray, k's shape
    dv : ndarray, v's shape
        Sums over the queries (dk, dv) and the keys (dq), not means.
    """
    q, k, v, allowed = _inputs(q, k, v, mask)
    dout = shaped(as_array(dout, "dout"), "dout", q.shape[:2] + v.shape[2:],
                  "(N, Tq, dv), the output's shape")
    p = _weights(q, k, allowed)
    root = np.sqrt(q.shape[2])
    with np.errstate(over="ignore", invalid="ignore"):
        dv = np.swapaxes(p, 1, 2) @ dout
        dp = dout @ np.swapaxes(v, 1, 2)
        ds = p * (dp - np.sum(p * dp, axis=-1, keepdims=True))
        return ds @ k / root, np.swapaxes(ds, 1, 2) @ q / root, dv
