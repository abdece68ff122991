"""Losses and their gradients: the chapter's and the blog post's, and two beyond them.

Backward Propagation Algorithm §7.4 and Further into Backpropagation give the mean squared error and the
cross-entropies; binary cross-entropy with logits and the Huber loss come after them.

A prediction of shape (K,) is one example; shape (N, K) is a batch of N rows, and the loss is the
mean over rows of the per-row loss (a sum over the K classes), so every batch gradient carries a
factor 1/N. Any other number of axes, or a batch of no rows, is a ValueError. Losses are 0-d
NumPy scalars (np.float64, or np.complex128 for complex predictions); gradients have the
prediction's shape. Targets are real.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array, real_scalar, require_finite, require_nonnegative, same_shape
from backprop_ref.activations import sigmoid, softplus
from backprop_ref.softmax import log_softmax, softmax

__all__ = [
    "mse", "mse_grad",
    "softmax_cross_entropy", "softmax_cross_entropy_grad",
    "cross_entropy", "cross_entropy_grad",
    "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad",
    "huber", "huber_grad",
]

Array = NDArray[Any]


def _pair(pred: ArrayLike, name: str, target: ArrayLike, target_name: str) -> tuple[Array, Array, int]:
    """Validate a (prediction, target) pair; return both arrays and the row count N (1 for 1-D)."""
    a = as_array(pred, name)
    t = as_array(target, target_name, complex_ok=False)
    same_shape(a, name, t, target_name)
    if a.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (K,) or (N, K); got shape {a.shape}")
    rows = a.shape[0] if a.ndim == 2 else 1
    if rows == 0:
        raise ValueError(f"{name} is a batch of no rows (shape {a.shape}); its mean loss is undefined")
    return a, t, rows


def mse(o: ArrayLike, t: ArrayLike) -> Any:
    """Squared error, L = ½ Σ_k (o_k − t_k)², averaged over the rows of a batch.

    Implements Backward Propagation Algorithm §7.4.1 (the ½ form). Mean over rows, sum over outputs:
    L = ½ Σ_{n,k} (o_nk − t_nk)² / N for o of shape (N, K).

    Parameters
    ----------
    o : array_like, shape (K,) or (N, K)
        Predictions.
    t : array_like, o's shape
        Targets; real and finite.

    Returns
    -------
    np.float64 (np.complex128 for complex o)
        The loss; inf, without a warning, when the true value exceeds the float64 range.
        NaN in o propagates.
    """
    o, t, rows = _pair(o, "o", t, "t")
    require_finite(t, "t")
    # Squares beyond float64 mean the loss itself is beyond it: inf is the right answer.
    with np.errstate(over="ignore"):
        d = o - t
        return np.sum(d * d) / (2 * rows)


def mse_grad(o: ArrayLike, t: ArrayLike) -> Array:
    """Gradient of `mse` with respect to o: ∂L/∂o = o − t, divided by N for a batch.

    Implements Backward Propagation Algorithm §7.4.1: ∂L/∂o_i = o_i − t_i for one example; the batch loss is
    a mean over rows, hence (o − t)/N for o of shape (N, K).

    Parameters
    ----------
    o : array_like, shape (K,) or (N, K)
        Predictions.
    t : array_like, o's shape
        Targets; real and finite.

    Returns
    -------
    ndarray, o's shape
        ∂L/∂o; ±inf where o − t exceeds the float64 range. NaN in o propagates.
    """
    o, t, rows = _pair(o, "o", t, "t")
    require_finite(t, "t")
    with np.errstate(over="ignore"):
        return (o - t) / rows


def softmax_cross_entropy(z: ArrayLike, y: ArrayLike) -> Any:
    """Cross-entropy of the softmax of logits, L = −Σ_k y_k log softmax(z)_k, mean over rows.

    Implements Backward Propagation Algorithm §7.4.2. Sum over classes, mean over the rows of a batch. Uses
    log_softmax, so logits spread by 1e4 give the exact loss; a zero target contributes 0 even where its
    log-probability is −inf.

    Parameters
    ----------
    z : array_like, shape (K,) or (N, K)
        Logits.
    y : array_like, z's shape
        Targets: finite and non-negative; one-hot, soft or unnormalised.

    Returns
    -------
    np.float64 (np.complex128 for complex z)
        The loss; inf where a positive target's log-probability is below −max float64.
        NaN in z propagates.
    """
    z, y, rows = _pair(z, "z", y, "y")
    require_nonnegative(y, "y")
    logp = log_softmax(z)
    terms = np.multiply(y, logp, out=np.zeros_like(logp), where=y != 0)
    return -np.sum(terms) / rows


def softmax_cross_entropy_grad(z: ArrayLike, y: ArrayLike) -> Array:
    """Gradient of `softmax_cross_entropy` with respect to the logits: softmax(z)·Σ_k y_k − y.

    Implements Backward Propagation Algorithm §7.4.2 in its general form,
    ∂L/∂z_i = p_i(y_i + Σ_{k≠i} y_k) − y_i, before the chapter simplifies it to p_i − y_i for targets that
    sum to 1 (one-hot). Divided by N for a batch (mean over rows).

    Parameters
    ----------
    z : array_like, shape (K,) or (N, K)
        Logits.
    y : array_like, z's shape
        Targets: finite and non-negative; they need not sum to 1.

    Returns
    -------
    ndarray, z's shape
        ∂L/∂z. Each row sums to 0 when its targets sum to 1. NaN in z propagates.
    """
    z, y, rows = _pair(z, "z", y, "y")
    require_nonnegative(y, "y")
    p = softmax(z)
    total = np.sum(y, axis=-1, keepdims=True)
    g = p * total - y
    if g.size:
        # At a row's largest logit p ≈ 1 and p·Σy − y cancels to ~eps·Σy absolute. The same value
        # is Σ_{k≠m} y_k − Σy·Σ_{k≠m} p_k: sums of non-negative terms that keep full accuracy.
        top = np.argmax(z.real, axis=-1)[..., None]
        rest = np.ones(g.shape, bool)
        np.put_along_axis(rest, top, False, axis=-1)
        at_top = np.sum(y, axis=-1, where=rest) - total[..., 0] * np.sum(p, axis=-1, where=rest)
        np.put_along_axis(g, top, at_top[..., None], axis=-1)
    return g / rows


def _probabilities(q: ArrayLike, p: ArrayLike) -> tuple[Array, Array, int]:
    q, p, rows = _pair(q, "q", p, "p")
    require_nonnegative(p, "p")
    inside = (q.real > 0) & (q.real <= 1)
    if not inside.all():
        idx = tuple(int(i) for i in np.argwhere(~inside)[0])
        raise ValueError(f"q must lie in (0, 1]; q{list(idx)} = {q[idx]}")
    return q, p, rows


def cross_entropy(q: ArrayLike, p: ArrayLike) -> Any:
    """Categorical cross-entropy of probabilities, C = −Σ_k p_k log q_k, mean over rows.

    Implements Further into Backpropagation's cost, C = −(1/N) Σ p log q, applied there to sigmoid outputs q
    (so the q need not sum to 1). Sum over classes, mean over the rows of a batch. This is the categorical
    form, not the binary −Σ [p log q + (1 − p) log(1 − q)].

    Parameters
    ----------
    q : array_like, shape (K,) or (N, K)
        Predicted probabilities, each (real part) in (0, 1].
    p : array_like, q's shape
        True labels: finite and non-negative.

    Returns
    -------
    np.float64 (np.complex128 for complex q)
        The cost.
    """
    q, p, rows = _probabilities(q, p)
    return -np.sum(p * np.log(q)) / rows


def cross_entropy_grad(q: ArrayLike, p: ArrayLike) -> Array:
    """Gradient of `cross_entropy` with respect to q: ∂C/∂q = −p/q, divided by N for a batch.

    Implements Further into Backpropagation's ∂C/∂y_o = −p/y_o (its first backward stage), with the cost's
    1/N.

    Parameters
    ----------
    q : array_like, shape (K,) or (N, K)
        Predicted probabilities, each (real part) in (0, 1].
    p : array_like, q's shape
        True labels: finite and non-negative.

    Returns
    -------
    ndarray, q's shape
        ∂C/∂q; −inf, without a warning, where p/q exceeds the float64 range.
    """
    q, p, rows = _probabilities(q, p)
    with np.errstate(over="ignore"):
        return -p / (rows * q)


# ---- beyond the chapter: binary cross-entropy with logits, Huber -----------------------------

def _binary_targets(z: ArrayLike, y: ArrayLike) -> tuple[Array, Array, int]:
    z, y, rows = _pair(z, "z", y, "y")
    require_finite(y, "y")
    outside = (y < 0) | (y > 1)
    if outside.any():
        idx = tuple(int(i) for i in np.argwhere(outside)[0])
        raise ValueError(f"y must lie in [0, 1] (the probability of class 1); y{list(idx)} = {y[idx]}")
    return z, y, rows


def binary_cross_entropy_with_logits(z: ArrayLike, y: ArrayLike) -> Any:
    """Binary cross-entropy of logits, L = −Σ_k [y_k log σ(z_k) + (1 − y_k) log(1 − σ(z_k))], mean over rows.

    Derived in Pattern Recognition and Machine Learning §4.3.2 (Bishop 2006, logistic regression): the
    cross-entropy of a logistic output σ(z) against a target probability y, one independent binary
    label per entry (multi-label). Sum over the last axis, mean over the rows of a batch, as every
    loss here. Evaluated as (1 − y)·softplus(z) + y·softplus(−z), since −log σ(z) = softplus(−z)
    and −log(1 − σ(z)) = softplus(z): both terms are non-negative for y in [0, 1], so nothing
    cancels and nothing overflows for any finite z (L(30, 1) = log1p(e^{−30}) = 9.4e-14 to the last
    digit, L(1e4, 0) = 1e4, L(−1e4, 0) = 0).

    Parameters
    ----------
    z : array_like, shape (K,) or (N, K)
        Logits.
    y : array_like, z's shape
        Targets in [0, 1] (0/1 labels or probabilities); ValueError naming the entry otherwise.

    Returns
    -------
    np.float64 (np.complex128 for complex z)
        The loss, ≥ 0; inf, without a warning, when the sum exceeds the float64 range. NaN in z
        propagates.
    """
    z, y, rows = _binary_targets(z, y)
    with np.errstate(over="ignore"):
        return np.sum((1 - y) * softplus(z) + y * softplus(-z)) / rows


def binary_cross_entropy_with_logits_grad(z: ArrayLike, y: ArrayLike) -> Array:
    """Gradient of `binary_cross_entropy_with_logits` with respect to the logits: (σ(z) − y)/N.

    Derived in Pattern Recognition and Machine Learning §4.3.2 (∂L/∂z = σ(z) − y, the logistic output minus
    the target), divided by N for a batch (mean over rows). Evaluated as (1 − y)·σ(z) − y·σ(−z), the same
    quantity with 1 − σ(z) = σ(−z): a confident right answer keeps its tiny gradient (−σ(−40) =
    −4.2e-18 at z = 40, y = 1, where σ(z) − y gives 0).

    Parameters
    ----------
    z : array_like, shape (K,) or (N, K)
        Logits.
    y : array_like, z's shape
        Targets in [0, 1].

    Returns
    -------
    ndarray, z's shape
        ∂L/∂z, each entry in [−1/N, 1/N]. NaN in z propagates.
    """
    z, y, rows = _binary_targets(z, y)
    return ((1 - y) * sigmoid(z) - y * sigmoid(-z)) / rows


def _residuals(o: ArrayLike, t: ArrayLike, delta: float) -> tuple[Array, Array, float, int]:
    """r = o − t (±inf, quietly, beyond the float64 range), whether |r| ≤ δ, δ, and the row count."""
    o, t, rows = _pair(o, "o", t, "t")
    require_finite(t, "t")
    delta = real_scalar(delta, "delta")
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
    with np.errstate(over="ignore"):
        r = o - t
    return r, np.abs(r.real) <= delta, delta, rows


def huber(o: ArrayLike, t: ArrayLike, delta: float = 1.0) -> Any:
    """Huber loss, ½r² for |r| ≤ δ and δ(|r| − ½δ) beyond, r = o − t; summed, mean over rows.

    Derived in Huber 1964 ("Robust estimation of a location parameter", Ann. Math. Statist. 35(1),
    73–101), its ρ: quadratic near 0, linear in the tails, the pieces meeting with equal value ½δ²
    and equal slope ±δ at |r| = δ (which takes the quadratic piece). Sum over the last axis, mean
    over the rows of a batch, as every loss here (Keras's Huber takes the mean over the last axis
    instead: ours is K times it per row). For δ ≥ max|r| it is `mse`.

    Parameters
    ----------
    o : array_like, shape (K,) or (N, K)
        Predictions.
    t : array_like, o's shape
        Targets; real and finite.
    delta : float, default 1.0
        Where the quadratic piece ends; a finite positive number.

    Returns
    -------
    np.float64 (np.complex128 for complex o)
        The loss, ≥ 0; inf, without a warning, when it exceeds the float64 range. NaN in o
        propagates.
    """
    r, inner, delta, rows = _residuals(o, t, delta)
    with np.errstate(over="ignore", invalid="ignore"):
        quadratic = 0.5 * (r * r)
        linear = delta * (np.where(r.real >= 0, r, -r) - 0.5 * delta)
        return np.sum(np.where(inner, quadratic, linear)) / rows


def huber_grad(o: ArrayLike, t: ArrayLike, delta: float = 1.0) -> Array:
    """Gradient of `huber` with respect to o: r clipped to [−δ, δ], divided by N for a batch.

    Derived in Huber 1964 (ψ(r) = ρ′(r) = max(−δ, min(r, δ)), the clipped residual). Continuous
    everywhere: at |r| = δ both pieces give ±δ, so the loss is C¹ and the convention there (the
    quadratic piece, r) is the only value; only the second derivative jumps, from 1 to 0.

    Parameters
    ----------
    o : array_like, shape (K,) or (N, K)
        Predictions.
    t : array_like, o's shape
        Targets; real and finite.
    delta : float, default 1.0
        As for `huber`.

    Returns
    -------
    ndarray, o's shape
        ∂L/∂o, each entry in [−δ/N, δ/N]. NaN in o propagates.
    """
    r, inner, delta, rows = _residuals(o, t, delta)
    return np.select([inner, r.real > 0, r.real < 0], [r, delta, -delta], default=np.nan) / rows
