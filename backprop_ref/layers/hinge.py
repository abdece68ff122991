"""The multiclass hinge (SVM) loss and its gradient (CS231n, "Linear classification": the
multiclass support vector machine loss)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import real_scalar
from backprop_ref.layers._checks import indices, tensor

__all__ = ["multiclass_hinge", "multiclass_hinge_grad"]

Array = NDArray[Any]


def _scores(z: ArrayLike, labels: ArrayLike, margin: Any) -> tuple[Array, Array, int]:
    """The margins m_j = z_j − z_y + Δ of every row (0 at j = y), and the row count N (1 for 1-D z)."""
    z = np.asarray(z)
    if np.ndim(z) not in (1, 2):
        raise ValueError(f"z must have shape (K,) or (N, K); got shape {np.shape(z)}")
    z = tensor(z, "z", "(N, K)" if np.ndim(z) == 2 else "(K,)")
    if z.shape[-1] == 0:
        raise ValueError(f"z has no classes (shape {z.shape})")
    y = indices(labels, "labels", z.shape[-1])
    if y.shape != z.shape[:-1]:
        raise ValueError(f"labels has shape {y.shape} but z has shape {z.shape}; labels must have "
                         f"shape {z.shape[:-1]} (one integer class per row)")
    rows = z.shape[0] if z.ndim == 2 else 1
    if rows == 0:
        raise ValueError(f"z is a batch of no rows (shape {z.shape}); its mean loss is undefined")
    delta = real_scalar(margin, "margin")
    zy = np.take_along_axis(z, y[..., None], axis=-1)
    with np.errstate(over="ignore", invalid="ignore"):
        m = z - zy + delta
    np.put_along_axis(m, y[..., None], 0.0, axis=-1)   # j = y is not a term (z_y − z_y + Δ would be Δ)
    return m, y, rows


def multiclass_hinge(z: ArrayLike, labels: ArrayLike, margin: float = 1.0) -> Any:
    """Multiclass hinge loss, L = Σ_{j≠y} max(0, z_j − z_y + Δ), mean over rows.

    Derived in CS231n's notes (Linear classification, the multiclass SVM loss of Weston & Watkins
    1999): L_i = Σ_{j≠y_i} max(0, s_j − s_{y_i} + Δ). Sum over the classes j ≠ y of a row, mean over
    the rows of a batch (the package's loss reduction).

    Parameters
    ----------
    z : array_like, shape (K,) or (N, K)
        Scores (logits); complex z (the complex step) takes each max(0, ·) on the real part.
    labels : array_like of int, shape () or (N,)
        The true class of each row, in [0, K).
    margin : float
        Δ, the margin by which the true class must win; any finite real (Δ = 0 is the plain
        hinge, Δ < 0 a tolerance).

    Returns
    -------
    np.float64 (np.complex128 for complex z)
        The loss, ≥ 0; inf, without a warning, where a difference of scores exceeds the float64 range.
    """
    m, _, rows = _scores(z, labels, margin)
    with np.errstate(over="ignore"):   # a sum of terms near the float64 limit: inf is the loss then
        return np.sum(np.where(m.real > 0, m, 0.0)) / rows


def multiclass_hinge_grad(z: ArrayLike, labels: ArrayLike, margin: float = 1.0) -> Array:
    """Gradient of `multiclass_hinge` with respect to the scores z.

    Derived in CS231n's notes (Linear classification, the multiclass SVM loss; the gradient in
    Optimization, "computing the gradient analytically"): ∂L_i/∂z_j = 1[m_j > 0] for j ≠ y and
    ∂L_i/∂z_y = −Σ_{j≠y} 1[m_j > 0], with m_j = z_j − z_y + Δ; divided by N for a batch.

    Kink convention: a margin exactly at 0 (m_j = 0, where max(0, ·) has one-sided slopes 0 and 1)
    contributes 0: the subgradient CS231n's code takes (``margins > 0``), and TensorFlow's for
    tf.nn.relu of the margin. Any value in [0, 1] per such margin is a subgradient.

    Parameters
    ----------
    z, labels, margin
        As for `multiclass_hinge`.

    Returns
    -------
    ndarray, z's shape
        ∂L/∂z; each row sums to 0.
    """
    m, y, rows = _scores(z, labels, margin)
    active = (m.real > 0).astype(np.float64)
    np.put_along_axis(active, y[..., None], -np.sum(active, axis=-1, keepdims=True), axis=-1)
    return active / rows
