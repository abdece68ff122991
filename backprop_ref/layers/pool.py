"""2-D max and average pooling (NCHW) and their backward passes."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array
from backprop_ref.layers._checks import shaped, tensor, window
from backprop_ref.layers.conv import output_size

__all__ = ["max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward"]

Array = NDArray[Any]
Pair = tuple[int, int]


def _geometry(x: ArrayLike, size: Any, stride: Any, padding: Any) -> tuple[Array, Pair, Pair, Pair, Pair]:
    """x validated; the window size, stride (default: the size), padding and output size (rows, columns)."""
    x = tensor(x, "x", "(N, C, H, W)")
    k = window(size, "size")
    s = k if stride is None else window(stride, "stride")
    p = window(padding, "padding", minimum=0)
    for axis in (0, 1):
        if k[axis] > x.shape[2 + axis] + 2 * p[axis]:
            raise ValueError(f"size {k} does not fit x of shape {x.shape}" +
                             (f" padded by {p}" if any(p) else "") + ": each window must lie inside it")
        if 2 * p[axis] > k[axis]:
            raise ValueError(f"padding {p} must be at most half the window size {k}: a window of "
                             "padding alone would be all zeros")
    out = (output_size(x.shape[2], k[0], s[0], p[0]), output_size(x.shape[3], k[1], s[1], p[1]))
    return x, k, s, p, out


def _windows(x: Array, k: Pair, s: Pair, p: Pair) -> Array:
    """(N, C, Ho, Wo, KH, KW): every window of the zero-padded x, a strided view."""
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1]))) if any(p) else x
    return sliding_window_view(xp, k, axis=(2, 3))[:, :, ::s[0], ::s[1]]


def _gradient(dy: ArrayLike, x: Array, out: Pair) -> Array:
    return shaped(as_array(dy, "dy"), "dy", x.shape[:2] + out, "y's shape, (N, C, Ho, Wo)")


def _first_max(x: Array, k: Pair, s: Pair) -> Array:
    """Per window, the flat index (row-major within the window) of its first largest entry (by real part)."""
    win = _windows(x, k, s, (0, 0))
    flat = win.reshape(win.shape[:4] + (k[0] * k[1],))
    return np.argmax(flat.real, axis=-1)   # argmax returns the first of equal maxima


def max_pool2d_forward(x: ArrayLike, size: Any, stride: Any = None) -> Array:
    """2-D max pooling, y[n, c, i, j] = max over the size × size window at (i·S, j·S), NCHW.

    Derived in CS231n's notes (Convolutional Networks, the pooling layer; Goodfellow et al. 2016,
    §9.3): y[n, c, i, j] = max_{u < KH, v < KW} x[n, c, i·S + u, j·S + v], no padding; windows that
    would run past x are not taken. Complex x (the complex step) is compared by its real part.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        Inputs.
    size : int or (int, int)
        The window (KH, KW), each ≥ 1 and at most x's size.
    stride : int or (int, int), optional
        S ≥ 1; None (the default) is the window size: windows that tile x without overlap.

    Returns
    -------
    ndarray, shape (N, C, Ho, Wo)
        Ho = ⌊(H − KH)/S⌋ + 1, Wo alike.
    """
    x, k, s, _, _ = _geometry(x, size, stride, 0)
    win = _windows(x, k, s, (0, 0))
    first = _first_max(x, k, s)
    return np.take_along_axis(win.reshape(win.shape[:4] + (-1,)), first[..., None], axis=-1)[..., 0]


def max_pool2d_backward(x: ArrayLike, dy: ArrayLike, size: Any, stride: Any = None) -> Array:
    """Backward pass of `max_pool2d_forward`: each window's dy goes to the entry that was its maximum.

    Derived in CS231n's notes (the pooling layer: the backward pass of a max routes the gradient to
    the input that had the highest value in the forward pass): dx[n, c, r, q]
    = Σ over the windows whose chosen maximum is x[n, c, r, q] of dy for that window; windows that
    overlap (S < size) add up.

    Tie convention (the chosen subgradient): where a window's maximum is attained by several
    entries, the max is not differentiable there; its subgradients are the convex combinations of
    those entries, and this function takes the one that sends the whole of dy to the *first* of
    them in row-major order within the window (smallest row, then smallest column), as
    ``np.argmax`` and TensorFlow's CPU MaxPoolGrad do. Splitting dy among the tied entries is
    another subgradient, not this function's.

    Parameters
    ----------
    x, size, stride
        As for `max_pool2d_forward`: the forward pass's input (the maxima are found again).
    dy : array_like, shape (N, C, Ho, Wo)
        ∂L/∂y.

    Returns
    -------
    ndarray, x's shape
        ∂L/∂x: zero at every entry that is no window's chosen maximum.
    """
    x, k, s, _, out = _geometry(x, size, stride, 0)
    dy = _gradient(dy, x, out)
    first = _first_max(x, k, s)
    n, c, i, j = np.ix_(*(np.arange(d) for d in first.shape))
    rows = i * s[0] + first // k[1]
    cols = j * s[1] + first % k[1]
    dx = np.zeros(x.shape, dtype=np.result_type(dy, np.float64))
    with np.errstate(over="ignore", invalid="ignore"):
        np.add.at(dx, (n, c, rows, cols), dy)   # add.at: windows that share their maximum both count
    return dx


def avg_pool2d_forward(x: ArrayLike, size: Any, stride: Any = None, padding: Any = 0) -> Array:
    """2-D average pooling: each window's mean over the zero-padded x, the padding counted in it.

    Derived in CS231n's notes (the pooling layer) and Goodfellow et al. 2016, §9.3:
    y[n, c, i, j] = (1/(KH·KW)) Σ_{u, v} x_pad[n, c, i·S + u, j·S + v]. Padded zeros count as entries
    (PyTorch's count_include_pad=True): a border window averages over KH·KW entries, some of them 0.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        Inputs.
    size : int or (int, int)
        The window (KH, KW).
    stride : int or (int, int), optional
        S ≥ 1; None is the window size.
    padding : int or (int, int)
        P zeros on each side, 0 ≤ 2P ≤ size (a window of padding alone is refused).

    Returns
    -------
    ndarray, shape (N, C, Ho, Wo)
        Ho = ⌊(H + 2P − KH)/S⌋ + 1, Wo alike. ±inf, without a warning, where the sum exceeds float64
        (each entry is divided by KH·KW before it is summed, so only a mean beyond the range does).
    """
    x, k, s, p, _ = _geometry(x, size, stride, padding)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sum(_windows(x / (k[0] * k[1]), k, s, p), axis=(4, 5))


def avg_pool2d_backward(x: ArrayLike, dy: ArrayLike, size: Any, stride: Any = None,
                        padding: Any = 0) -> Array:
    """Backward pass of `avg_pool2d_forward`: each window's dy/(KH·KW) to every entry of the window.

    Derived from the forward's linear map (CS231n's notes, the pooling layer; Goodfellow et al.
    2016, §9.3): dx_pad[n, c, i·S + u, j·S + v] += dy[n, c, i, j]/(KH·KW)
    for every u < KH, v < KW, and dx is dx_pad without its border (what fell on the padding is
    dropped; the mean still divided by KH·KW there). Overlapping windows add up.

    Parameters
    ----------
    x, size, stride, padding
        As for `avg_pool2d_forward` (x gives the shape; its values do not enter).
    dy : array_like, shape (N, C, Ho, Wo)
        ∂L/∂y.

    Returns
    -------
    ndarray, x's shape
        ∂L/∂x.
    """
    x, k, s, p, out = _geometry(x, size, stride, padding)
    dy = _gradient(dy, x, out)
    share = dy / (k[0] * k[1])
    dxp = np.zeros(x.shape[:2] + (x.shape[2] + 2 * p[0], x.shape[3] + 2 * p[1]),
                   dtype=np.result_type(share, np.float64))
    last = (s[0] * (out[0] - 1) + 1, s[1] * (out[1] - 1) + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        for u in range(k[0]):   # a loop over the window's entries, not over the batch
            for v in range(k[1]):
                dxp[:, :, u: u + last[0]: s[0], v: v + last[1]: s[1]] += share
    return np.ascontiguousarray(dxp[:, :, p[0]: p[0] + x.shape[2], p[1]: p[1] + x.shape[3]])
