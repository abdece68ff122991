"""Argument checks the layers share, in `backprop_ref._validate`'s wording: each error names its argument."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_ref._validate import as_array, integer, real_scalar

__all__ = [
    "tensor", "indices", "shaped", "binary_mask", "window", "probability", "positive_eps", "exact_scale",
]

Array = NDArray[Any]


def tensor(x: Any, name: str, dims: str) -> Array:
    """`x` as a float64 (complex128) array with len(dims) axes; ValueError naming `name` and the
    expected layout (dims, e.g. "(N, C, H, W)") otherwise."""
    a = as_array(x, name)
    want = dims.strip("()").split(", ")
    if a.ndim != len(want):
        raise ValueError(f"{name} must have shape {dims}; got shape {a.shape}")
    return a


def shaped(a: Array, name: str, expected: tuple[int, ...], why: str) -> Array:
    """`a` unchanged if it has shape `expected`, else ValueError naming it and saying `why`."""
    if a.shape != expected:
        raise ValueError(f"{name} has shape {a.shape} but must have shape {expected} ({why})")
    return a


def indices(ids: Any, name: str, upper: int) -> NDArray[np.intp]:
    """An array of integers in [0, upper) (class labels, embedding ids), as np.intp.

    TypeError naming `name` unless its dtype is an integer one (bool, floats that happen to be whole
    and everything else are refused: a float label is almost always a one-hot or a probability passed
    by mistake); ValueError with the first offending index if an entry is out of range.
    """
    try:
        a = np.asarray(ids)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} is not a rectangular array ({exc})") from None
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers (an integer dtype), got dtype {a.dtype}")
    bad = (a < 0) | (a >= upper)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must lie in [0, {upper}); {name}{list(idx)} = {a[idx]}")
    return a.astype(np.intp, copy=False)


def binary_mask(mask: Any, name: str) -> Array:
    """A 0/1 array (bool or numbers) as float64; ValueError naming `name` at the first other entry."""
    a = as_array(mask, name, complex_ok=False)
    bad = (a != 0) & (a != 1)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must hold only 0 and 1; {name}{list(idx)} = {a[idx]}")
    return a


def window(value: Any, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """A window size, stride or padding: one integer for both spatial axes, or a pair (rows, columns)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an integer or a pair of integers, got {value!r}")
        return integer(value[0], name, minimum=minimum), integer(value[1], name, minimum=minimum)
    v = integer(value, name, minimum=minimum)
    return v, v


def probability(p: Any, name: str) -> float:
    """A drop probability in [0, 1): 1 would divide by 1 − p = 0."""
    v = real_scalar(p, name)
    if not 0.0 <= v < 1.0:
        raise ValueError(f"{name} must lie in [0, 1) (1 − {name} divides); got {v}")
    return v


def positive_eps(eps: Any) -> float:
    """The normalisations' ε: a finite real > 0, which keeps 1/√(σ² + ε) finite for a constant input."""
    v = real_scalar(eps, "eps")
    if not v > 0:
        raise ValueError(f"eps must be > 0 (it keeps 1/√(σ² + eps) finite); got {v}")
    return v


def exact_scale(a: Array, axis: Any) -> Array:
    """A power of two ≥ 1 per slice along `axis` (keepdims), at least max |a| / 2 over the slice.

    Dividing by a power of two is exact, so a / scale is a with its exponent shifted: values near
    the float64 limit can be squared and summed without overflow, and nothing at ordinary scales
    changes (the scale is 1 for max |a| < 2).
    """
    with np.errstate(invalid="ignore"):
        top = np.max(np.abs(a), axis=axis, keepdims=True, initial=0.0)
    top = np.where(np.isfinite(top), top, 1.0)   # NaN or inf propagates on its own
    _, e = np.frexp(np.maximum(top, 1.0))
    return np.ldexp(1.0, e - 1)
