"""Embedding lookup (a table of rows indexed by integer ids) and its backward pass, which accumulates."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array, integer
from backprop_ref.layers._checks import indices, shaped, tensor

__all__ = ["embedding_forward", "embedding_backward"]

Array = NDArray[Any]


def embedding_forward(ids: ArrayLike, W: ArrayLike) -> Array:
    """Embedding lookup, y = W[ids]: row ids[…] of the table for every id.

    Derived as the dense layer with one-hot inputs (Bengio et al. 2003, the shared word feature
    matrix C; CS231n's word embedding layer): y = onehot(ids)·W, computed as the lookup.

    Parameters
    ----------
    ids : array_like of int, any shape S
        Indices into the table's rows, each in [0, V); repeats allowed.
    W : array_like, shape (V, D)
        The table: V embeddings of D entries.

    Returns
    -------
    ndarray, shape S + (D,)
        The embeddings, a copy.
    """
    W = tensor(W, "W", "(V, D)")
    return W[indices(ids, "ids", W.shape[0])]


def embedding_backward(ids: ArrayLike, dy: ArrayLike, num_embeddings: int) -> Array:
    """Backward pass of `embedding_forward`: dW = onehot(ids)ᵀ·dy, row v summing dy where ids = v.

    Derived from y = onehot(ids)·W (Bengio et al. 2003's shared feature matrix; the dense layer's dW = xᵀδ,
    Backward Propagation Algorithm §7.5.2, with one-hot x): an id that occurs k times receives the sum of
    its k rows of dy. Repeated ids accumulate (np.add.at): writing ``dW[ids] = dy`` keeps only the last of
    them, the classic wrong backward. Rows of ids that never occur are 0. There is no gradient for ids
    (integers).

    Parameters
    ----------
    ids : array_like of int, any shape S
        The forward pass's ids, each in [0, num_embeddings).
    dy : array_like, shape S + (D,)
        ∂L/∂y.
    num_embeddings : int
        V, the table's number of rows (≥ 1).

    Returns
    -------
    ndarray, shape (V, D)
        ∂L/∂W: sums, not means.
    """
    v = integer(num_embeddings, "num_embeddings", minimum=1)
    i = indices(ids, "ids", v)
    dy = as_array(dy, "dy")
    if dy.ndim != i.ndim + 1:
        raise ValueError(f"dy has shape {dy.shape} but ids has shape {i.shape}; dy must have shape "
                         f"{i.shape} + (D,)")
    shaped(dy, "dy", i.shape + dy.shape[-1:], f"ids' shape {i.shape} + (D,)")
    dW = np.zeros((v, dy.shape[-1]), dtype=dy.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        np.add.at(dW, i.ravel(), dy.reshape(-1, dy.shape[-1]))
    return dW
