"""2-D convolution (cross-correlation, NCHW, zero padding) and its backward pass (dx, dW, db)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array
from backprop_ref.layers._checks import shaped, tensor, window

__all__ = ["conv2d_forward", "conv2d_backward", "output_size"]

Array = NDArray[Any]


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """The number of window positions along one axis: ⌊(size + 2·padding − kernel)/stride⌋ + 1.

    Positions whose window would run past the padded input are not taken (TensorFlow's "VALID" on
    the padded input): rows or columns left over by the stride are read by no window."""
    return (size + 2 * padding - kernel) // stride + 1


def _geometry(x: Array, W: Array, stride: Any, padding: Any) -> tuple[tuple[int, int], tuple[int, int],
                                                                       tuple[int, int]]:
    """Validate x and W against each other; the strides, paddings and output size (rows, columns)."""
    s = window(stride, "stride")
    p = window(padding, "padding", minimum=0)
    if W.shape[1] != x.shape[1]:
        raise ValueError(f"W has shape {W.shape} but x has shape {x.shape}; W must be "
                         f"(F, {x.shape[1]}, KH, KW), one kernel plane per input channel")
    for axis, name in ((2, "KH"), (3, "KW")):
        if W.shape[axis] == 0 or W.shape[axis] > x.shape[axis] + 2 * p[axis - 2]:
            raise ValueError(f"W has shape {W.shape}: its {name} = {W.shape[axis]} must lie in [1, "
                             f"{x.shape[axis] + 2 * p[axis - 2]}] (x's size {x.shape[axis]} plus twice "
                             "the padding)")
    out = (output_size(x.shape[2], W.shape[2], s[0], p[0]), output_size(x.shape[3], W.shape[3], s[1], p[1]))
    return s, p, out


def _windows(x: Array, kernel: tuple[int, int], s: tuple[int, int], p: tuple[int, int]) -> Array:
    """Every window of the zero-padded x, (N, C, Ho, Wo, KH, KW): a strided view, no copy of the windows."""
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    return sliding_window_view(xp, kernel, axis=(2, 3))[:, :, ::s[0], ::s[1]]


def _inputs(x: ArrayLike, W: ArrayLike) -> tuple[Array, Array]:
    return tensor(x, "x", "(N, C, H, W)"), tensor(W, "W", "(F, C, KH, KW)")


def conv2d_forward(x: ArrayLike, W: ArrayLike, b: ArrayLike, stride: Any = 1, padding: Any = 0) -> Array:
    """2-D convolution as deep learning defines it (cross-correlation), NCHW, zero padding.

    Derived in CS231n's notes (Convolutional Networks, the conv layer) and Goodfellow et al. 2016
    (Deep Learning, §9.1 eq. 9.6 and §9.5): with x zero-padded by P,

        y[n, f, i, j] = b[f] + Σ_{c, u, v} W[f, c, u, v]·x_pad[n, c, i·S + u, j·S + v],

    no kernel flip (a cross-correlation, as every framework computes). Computed on a strided view of
    the padded input's windows (im2col without the copy) and one tensor contraction.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        Inputs, channels first.
    W : array_like, shape (F, C, KH, KW)
        F kernels, each one KH × KW plane per input channel.
    b : array_like, shape (F,)
        One bias per output channel.
    stride : int or (int, int)
        S ≥ 1, the step between windows (rows, columns).
    padding : int or (int, int)
        P ≥ 0 zeros added on each side of H (and W).

    Returns
    -------
    ndarray, shape (N, F, Ho, Wo)
        Ho = ⌊(H + 2P − KH)/S⌋ + 1 (and Wo alike; see `output_size`). ±inf, without a warning, where
        a sum exceeds the float64 range.
    """
    x, W = _inputs(x, W)
    b = shaped(as_array(b, "b"), "b", W.shape[:1], f"one bias per kernel of W, shape {W.shape}")
    s, p, _ = _geometry(x, W, stride, padding)
    win = _windows(x, W.shape[2:], s, p)
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.tensordot(win, W, axes=([1, 4, 5], [1, 2, 3]))   # (N, Ho, Wo, F)
        return np.ascontiguousarray(np.moveaxis(y, 3, 1)) + b[:, None, None]


def conv2d_backward(x: ArrayLike, W: ArrayLike, dy: ArrayLike, stride: Any = 1,
                    padding: Any = 0) -> tuple[Array, Array, Array]:
    """Backward pass of `conv2d_forward`: (dx, dW, db) from dy = ∂L/∂y.

    Derived in Goodfellow et al. 2016, §9.5 (eqs. 9.11–9.14) and CS231n's notes (Convolutional
    Networks: the backward pass of a convolution is also a convolution, with spatially flipped
    filters):

        dW[f, c, u, v] = Σ_{n, i, j} dy[n, f, i, j]·x_pad[n, c, i·S + u, j·S + v],
        db[f] = Σ_{n, i, j} dy[n, f, i, j],
        dx_pad[n, c, i·S + u, j·S + v] += Σ_f dy[n, f, i, j]·W[f, c, u, v],  dx = dx_pad unpadded:

    dx is the full convolution of the stride-dilated dy with W, i.e. the cross-correlation with W
    flipped in both spatial axes. dW correlates the input padded exactly as the forward padded it;
    another padding shifts every entry of dW.

    Parameters
    ----------
    x, W, stride, padding
        As for `conv2d_forward` (b does not enter the gradients).
    dy : array_like, shape (N, F, Ho, Wo)
        ∂L/∂y.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Entries no window reads (left over by the stride) are 0.
    dW : ndarray, shape (F, C, KH, KW)
    db : ndarray, shape (F,)
        Sums over the batch and the positions, not means.
    """
    x, W = _inputs(x, W)
    s, p, out = _geometry(x, W, stride, padding)
    dy = shaped(as_array(dy, "dy"), "dy", (x.shape[0], W.shape[0]) + out,
                f"(N, F, Ho, Wo) for x of shape {x.shape}, W of shape {W.shape}, stride {s}, padding {p}")
    kh, kw = W.shape[2:]
    win = _windows(x, (kh, kw), s, p)
    with np.errstate(over="ignore", invalid="ignore"):
        db = np.sum(dy, axis=(0, 2, 3))
        dW = np.tensordot(dy, win, axes=([0, 2, 3], [0, 2, 3]))          # (F, C, KH, KW)
        cols = np.tensordot(dy, W, axes=([1], [0]))                       # (N, Ho, Wo, C, KH, KW)
        cols = np.moveaxis(cols, 3, 1)                                    # (N, C, Ho, Wo, KH, KW)
        dxp = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * p[0], x.shape[3] + 2 * p[1]),
                       dtype=np.result_type(cols, np.float64))
        rows = slice(None, s[0] * (out[0] - 1) + 1, s[0])
        for u in range(kh):   # one strided add per kernel entry: a loop over the kernel, not the batch
            for v in range(kw):
                dxp[:, :, u:, v:][:, :, rows, : s[1] * (out[1] - 1) + 1 : s[1]] += cols[..., u, v]
    dx = dxp[:, :, p[0]: p[0] + x.shape[2], p[1]: p[1] + x.shape[3]]
    return np.ascontiguousarray(dx), dW, db
