"""Inverted dropout with a given mask (Srivastava et al. 2014) and its backward pass."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array, same_shape
from backprop_ref.layers._checks import binary_mask, probability

__all__ = ["dropout_forward", "dropout_backward"]

Array = NDArray[Any]


def _masked(a: ArrayLike, name: str, mask: ArrayLike, p: float) -> Array:
    arr = as_array(a, name)
    m = binary_mask(mask, "mask")
    same_shape(arr, name, m, "mask")
    keep = probability(p, "p")
    with np.errstate(over="ignore", invalid="ignore"):
        return arr * m / (1.0 - keep)


def dropout_forward(x: ArrayLike, mask: ArrayLike, p: float) -> Array:
    """Inverted dropout in training mode, y = x·mask/(1 − p), with the mask given.

    Derived in Srivastava et al. 2014 (§4: each unit's output is multiplied by a Bernoulli draw r,
    and at test time the weights are scaled by the probability of keeping a unit, their Figure 2;
    their p is that probability, ours the probability of dropping, as in most frameworks): the
    inverted form scales the kept units by 1/(1 − p) at training time instead, so E[y] = x and
    the test-time layer is the identity. The mask is an argument, not drawn here, so the layer is
    a deterministic function that can be checked (draw it as ``rng.random(x.shape) >= p``).

    Parameters
    ----------
    x : array_like, any shape
        Inputs (complex x is scaled as well: the complex step applies).
    mask : array_like, x's shape
        1 (or True) where the unit is kept, 0 where it is dropped; no other values.
    p : float
        The probability of dropping a unit, in [0, 1) (p = 0 is the identity).

    Returns
    -------
    ndarray, x's shape
        x·mask/(1 − p); ±inf, without a warning, where that exceeds the float64 range.
    """
    return _masked(x, "x", mask, p)


def dropout_backward(dy: ArrayLike, mask: ArrayLike, p: float) -> Array:
    """Backward pass of `dropout_forward`: dx = dy·mask/(1 − p).

    Derived in Srivastava et al. 2014 (§5.1, backpropagation through the thinned network: the
    gradient flows only through the kept units), with the inverted form's factor 1/(1 − p): the
    layer is linear and diagonal in x, so its VJP is the same product applied to dy.

    Parameters
    ----------
    dy : array_like, any shape
        ∂L/∂y.
    mask, p
        As for `dropout_forward`; the same mask as the forward pass.

    Returns
    -------
    ndarray, dy's shape
        ∂L/∂x: zero at every dropped unit.
    """
    return _masked(dy, "dy", mask, p)
