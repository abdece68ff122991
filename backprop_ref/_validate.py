"""Argument checks shared by every public function: one place for the wording of errors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "as_array", "same_shape", "require_finite", "require_nonnegative", "choose", "real_scalar", "integer",
    "function",
]


def as_array(x: Any, name: str, *, complex_ok: bool = True) -> NDArray[Any]:
    """Return `x` as a float64 array, or complex128 when it is complex and `complex_ok`.

    bool and integer input is accepted and computed in float64. Anything that is not a number
    (strings, None, objects) raises TypeError naming `name`; ragged nesting raises ValueError.
    """
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} is not a rectangular array ({exc})") from None
    kind = a.dtype.kind
    if kind in "biuf":
        return a.astype(np.float64, copy=False)
    if kind == "c":
        if complex_ok:
            return a.astype(np.complex128, copy=False)
        raise TypeError(f"{name} must be real, got dtype {a.dtype}")
    raise TypeError(
        f"{name} must be numeric (bool, int, float{', complex' if complex_ok else ''}); "
        f"got {type(x).__name__} with dtype {a.dtype}"
    )


def same_shape(a: NDArray[Any], name_a: str, b: NDArray[Any], name_b: str) -> None:
    """Raise ValueError naming both arguments and shapes unless they have one shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} has shape {a.shape} but {name_b} has shape {b.shape}; they must match"
        )


def require_finite(a: NDArray[Any], name: str) -> None:
    """Raise ValueError naming `name` and the first offending index if `a` has NaN or inf."""
    bad = ~np.isfinite(a)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must be finite; {name}{list(idx)} = {a[idx]}")


def require_nonnegative(a: NDArray[Any], name: str) -> None:
    """Raise ValueError unless every entry of the real array `a` is finite and >= 0."""
    require_finite(a, name)
    bad = np.real(a) < 0
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must be non-negative; {name}{list(idx)} = {a[idx]}")


def choose(value: str, name: str, valid: Iterable[str]) -> str:
    """Return `value` if it is one of `valid`, else ValueError listing the valid names."""
    options = tuple(valid)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"unknown {name} {value!r}; valid names are {', '.join(options)}")
    return value


def real_scalar(value: Any, name: str) -> float:
    """Return `value` as a float if it is one finite real number, else TypeError/ValueError naming `name`."""
    a = as_array(value, name, complex_ok=False)
    if a.ndim != 0:
        raise ValueError(f"{name} must be a single number, got shape {a.shape}")
    require_finite(a, name)
    return float(a)


def integer(value: Any, name: str, *, minimum: int = 0, or_none: str = "") -> int:
    """Return `value` as an int: TypeError naming `name` unless it is an integer (bool is not), ValueError
    unless it is ≥ `minimum`. `or_none` says what None would have meant, for callers that also take None
    (their own branch handles None; the message then offers it: "None (every entry) or ...")."""
    alt = f"None ({or_none}) or " if or_none else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be {alt}an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be {alt}an integer ≥ {minimum}, got {value}")
    return int(value)


def function(value: Any, name: str, *, or_none: str = "") -> Any:
    """Return `value` if it is callable, else TypeError naming `name`. `or_none` says what None would have
    meant, for fields that also take None (which is then returned): "None (no twin) or a callable"."""
    if value is None and or_none:
        return None
    if not callable(value):
        alt = f"None ({or_none}) or " if or_none else ""
        raise TypeError(f"{name} must be {alt}a callable, got {type(value).__name__} {value!r}")
    return value
