"""Evaluation: calling the user's f safely (on a flat vector, real or complex, counting calls, no warning
escaping), reading the claimed gradient, the user's tolerance and the seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from backprop_ref._validate import as_array, integer
from backprop_ref.gradcheck.error_model import EPS, param

__all__ = ["Evaluator", "quiet", "UserTolerance", "user_tolerance", "parse_claim", "draw_seed", "check_x",
           "working_precision", "MUTATED"]

Array = NDArray[np.float64]
MUTATED = "f modified its input array in place; the checker cannot judge such an f (give it a copy)"


class Evaluator:
    """Calls f on a flat vector reshaped to x's shape, counts the calls, and checks what f returns."""

    def __init__(self, f: Callable[[Any], Any], shape: tuple[int, ...], scalar: bool):
        self.f = f
        self.shape = shape
        self.scalar = scalar
        self.n_evals = 0
        self.out_shape: tuple[int, ...] = ()
        self.out_eps = EPS   # the eps of the float dtype f returns (float64 for ints and Python floats)
        self.complex_eps = EPS   # ... and along the complex step (complex64: float32's)

    def _call(self, x: NDArray[Any], complex_input: bool = False) -> NDArray[Any]:
        self.n_evals += 1
        # (f's floating-point warnings are silenced once, by the public entry points: `quiet`)
        if complex_input:
            try:
                y = self.f(x.reshape(self.shape))
            except (TypeError, ValueError) as exc:
                raise TypeError(f"method='complex' needs an f that accepts complex input; f raised "
                                f"{type(exc).__name__}: {exc}. Use method='central'.") from exc
        elif self.n_evals == 1:
            # f(x) itself: f gets a copy, so that the caller's array is never changed, and a copy
            # changed by f is reported (later points are the checker's own buffers, checked there)
            mine = x.copy()
            y = self.f(mine.reshape(self.shape))
            if not np.array_equal(mine, x, equal_nan=True):
                raise ValueError(MUTATED)
        else:
            y = self.f(x.reshape(self.shape))
        try:
            a = np.asarray(y)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"f must return numbers; it returned {type(y).__name__} ({exc})") from None
        if a.dtype.kind not in "biufc":
            raise TypeError(f"f must return numbers; it returned {type(y).__name__} with dtype {a.dtype}")
        if self.scalar and a.size != 1:
            raise ValueError(f"f must return a scalar for check_grad; it returned shape {a.shape} "
                             "(use check_jacobian for vector-valued f)")
        return a

    def real(self, x: Array) -> Array:
        """f(x) as a flat float64 vector (the real part, should f return complex numbers)."""
        a = self._call(x)
        if a.dtype.kind == "c":
            a = a.real
        if self.n_evals == 1 and a.dtype.kind == "f":   # f(x) itself: the dtype f works in
            self.out_eps = max(EPS, float(np.finfo(a.dtype).eps))
        self.out_shape = () if self.scalar else a.shape
        return a.astype(np.float64).ravel()

    def complex(self, x: NDArray[Any]) -> NDArray[np.complex128]:
        """f(x) for complex x, as a flat complex128 vector; TypeError unless f carries complex through."""
        a = self._call(x, complex_input=True)
        if a.dtype.kind != "c":
            raise TypeError("method='complex' needs an f that carries complex input through, but f "
                            f"returned dtype {a.dtype} (float(), abs() or np.real drop the imaginary "
                            "part). Use method='central'.")
        self.complex_eps = max(self.complex_eps, float(np.finfo(a.dtype).eps))
        return a.astype(np.complex128).ravel()


def working_precision(out_eps: float, values: NDArray[Any]) -> float:
    """The eps of the precision f works in: its dtype's when that is below float64; else float16's or
    float32's when every finite value seen is a number of that dtype and at least `lowp_values` of
    them differ (f computed in float32 and returned as a Python float), else float64's."""
    if out_eps != EPS:
        return out_eps
    v = values[np.isfinite(values)]
    if np.unique(v).size < param("lowp_values"):
        return EPS
    for dt in (np.float16, np.float32):
        if np.array_equal(v.astype(dt).astype(np.float64), v):
            return float(np.finfo(dt).eps)
    return EPS


@contextmanager
def quiet() -> Iterator[None]:
    """What every public entry point runs under: the checker's arithmetic and f's meet inf and NaN by
    design and report them, so neither a caller's np.seterr(all="raise") nor a warnings filter may turn
    that into an exception (f's RuntimeWarnings at a stencil point say nothing the report does not)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


class UserTolerance(NamedTuple):
    """The user's tolerance, in the public API's order: |analytic − numerical| ≤ atol + rtol·|numerical|."""

    atol: float
    rtol: float

    def bound(self, magnitude: Any) -> Any:
        """atol + rtol·|magnitude|: the bound at a value of that magnitude."""
        return self.atol + self.rtol * np.abs(magnitude)


def user_tolerance(rtol: float | None, atol: float | None) -> UserTolerance | None:
    """The user's tolerance when either is given (a missing one counts as 0), else None (the model)."""
    for name, val in (("rtol", rtol), ("atol", atol)):
        if val is not None and not (np.isfinite(val) and val >= 0):
            raise ValueError(f"{name} must be a finite number ≥ 0, got {val!r}")
    if rtol is None and atol is None:
        return None
    return UserTolerance(float(atol or 0.0), float(rtol or 0.0))


def check_x(x_in: Any) -> NDArray[np.float64]:
    """x as a float64 array; ValueError naming the first entry that is not finite."""
    x = as_array(x_in, "x", complex_ok=False)
    if not np.isfinite(x).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        raise ValueError(f"x must be finite; x{list(bad)} = {x[bad]}")
    return x


def parse_claim(claim: Any, x: Array, shape: tuple[int, ...], name: str) -> tuple[Array, float]:
    """The claimed values as float64 of `shape`, and the eps of the dtype they were given in.

    A callable is called on a copy of x (it may not modify the checker's point).
    """
    raw = claim(x.copy()) if callable(claim) else claim
    try:
        arr = np.asarray(raw)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array; got {type(raw).__name__} ({exc})") from None
    eps = float(np.finfo(arr.dtype if arr.dtype.kind == "f" else np.float64).eps)
    g = as_array(arr, name, complex_ok=False)
    if g.shape != shape:
        raise ValueError(f"{name} has shape {g.shape} but must have shape {shape} "
                         f"(x has shape {x.shape}); they must match")
    return g, eps


def draw_seed(seed: Any) -> int:
    """The seed to record: the user's, or a fresh one drawn from the OS when None."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return integer(seed, "seed", or_none="a fresh seed is drawn")
