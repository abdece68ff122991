"""Diagnosis: what a failed check's pattern says is wrong, where the pattern is plain.

Each rule compares the claim with a transform of the numerical values under the check's own per-entry
tolerance, so a pattern is named only where the numbers hold it within their error:

- zero: the claim is 0 in every failing entry and the numerical value is not (a term not propagated);
- float32: every value of the claim is a float32 number and the failing ones lie within float32's
  rounding of the numerical values (a gradient computed in float32 and held in float64: declare it
  with claim_dtype);
- a constant ratio c = claim/numerical over the failing entries (at least two): c = −1 is a flipped
  sign, another c a missing or extra factor, named when c or 1/c is a dimension of an argument or of
  the output (the batch size N of a mean);
- transposed: a square claim that matches the numerical values transposed;
- shifted: the claim matches the numerical values moved by one index along an axis (an off-by-one);
- swapped (`swapped`, over a check of several arguments): the claim for one argument matches the
  numerical gradient of another of the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.error_model import claimed_rounding

__all__ = ["diagnose", "swapped"]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]
# a ratio read as a dimension d when it is d within this relative distance (the ratio's own error is
# tol/|numerical| per entry, far below it wherever the constant-ratio rule held)
DIM_MATCH = 1e-6
ONE = {"entries": "entry", "directions": "direction", "pairs": "pair"}


def _matches(a: Array, b: Array, tol: Array, where: Mask) -> bool:
    with np.errstate(all="ignore"):
        close = np.abs(a - b) <= tol
    return bool(where.any() and close[where].all())


def _dimension(c: float, dims: Mapping[str, tuple[int, ...]]) -> str:
    for value, how in ((c, ""), (1.0 / c if c else 0.0, "1/")):
        d = round(abs(value))
        if d < 2 or abs(abs(value) - d) > DIM_MATCH * d:
            continue
        for name, shape in dims.items():
            if d in shape:
                return (f"; {how}{d} is a dimension of {name} (shape {tuple(shape)}): a mean or sum over "
                        "that axis taken or missed?")
    return ""


def _float32_accurate(A: Array, N: Array, tol: Array, failing: Mask) -> bool:
    """Every finite claim value a float32 number (not all 0), and each failing entry within its bound plus
    a float32 claim's rounding, analytic_rounding·eps32·(|a_i| + max|a|) (error_model.claimed_rounding)."""
    finite = A[np.isfinite(A)]
    if not finite.size or not finite.any() or not np.array_equal(finite.astype(np.float32), finite):
        return False
    eps32 = float(np.finfo(np.float32).eps)
    top = float(np.max(np.abs(finite)))
    allowed = tol + claimed_rounding(eps32, np.abs(A) + top)
    with np.errstate(all="ignore"):
        return bool((np.abs(A - N) <= allowed)[failing].all())


def _ratio(A: Array, N: Array, tol: Array, failing: Mask, dims: Mapping[str, tuple[int, ...]],
           unit: str) -> str | None:
    use = failing & (N != 0) & np.isfinite(N) & np.isfinite(A)
    if use.sum() < 2 and not (use.sum() == 1 and failing.sum() == 1):
        return None
    c = float(np.median(A[use] / N[use]))
    if c == 0 or not np.isfinite(c):
        return None
    if not _matches(A, c * N, (1.0 + abs(c)) * tol, use):
        return None
    n = int(use.sum())
    if abs(c + 1.0) <= DIM_MATCH:
        which = f"every failing {ONE[unit]}" if n > 1 else f"the failing {ONE[unit]}"
        return f"the claim is −1 × the numerical value in {which}: a flipped sign"
    if n < 2:
        return None
    return (f"ratio claim/numerical {c:.4g} in all {n} failing {unit}: a missing or extra factor"
            + _dimension(c, dims))


def diagnose(A: Array, N: Array, tol: Array, failing: Mask, dims: Mapping[str, tuple[int, ...]],
             full: bool = True, unit: str = "entries") -> str | None:
    """One sentence naming the failing entries' (or directions') pattern (module doc), or None when
    none fits. `full`: the arrays are a gradient in x's shape (the transpose and shift rules apply)."""
    if not failing.any():
        return None
    nz = failing & (N != 0) & np.isfinite(N)
    k = int(nz.sum())
    if k and (A[nz] == 0).all() and k == failing.sum():
        which = f"all {k} failing {unit}" if k > 1 else f"the failing {ONE[unit]}"
        return f"the claim is 0 in {which}, where the numerical value is not: a term not propagated"
    if _float32_accurate(A, N, tol, failing):
        return ("the claim's values are all float32 numbers and the failing ones lie within float32's "
                "rounding of the numerical values: if it was computed in float32, pass "
                "claim_dtype=np.float32")
    ratio = _ratio(A, N, tol, failing, dims, unit)
    if ratio:
        return ratio
    if not full:
        return None
    every = np.ones(A.shape, bool)
    if A.ndim == 2 and A.shape[0] == A.shape[1] > 1 and _matches(A, N.T, tol.T, every):
        return "the claim matches the numerical values transposed"
    for axis in range(A.ndim):
        if A.shape[axis] < 3:
            continue
        for by in (1, -1):
            lo, hi = (slice(0, -1), slice(1, None)) if by == 1 else (slice(1, None), slice(0, -1))
            a_sl = tuple(lo if k == axis else slice(None) for k in range(A.ndim))
            n_sl = tuple(hi if k == axis else slice(None) for k in range(A.ndim))
            overlap = np.ones(A[a_sl].shape, bool)
            if failing[a_sl].sum() >= 2 and _matches(A[a_sl], N[n_sl], tol[n_sl], overlap):
                where = f" along axis {axis}" if A.ndim > 1 else ""
                sign = "+" if by == 1 else "−"
                return (f"the claim matches the numerical values shifted by one index{where} "
                        f"(claim[i] = numerical[i {sign} 1]): an off-by-one")
    return None


def swapped(results: Mapping[str, Any]) -> str | None:
    """In a check of several arguments: a failing argument whose claim matches another argument's
    numerical gradient (same shape, within that one's tolerance)."""
    failed = [k for k, r in results.items() if r.verdict == "fail" and r.mode == "full"]
    for a in failed:
        for b, rb in results.items():
            ra = results[a]
            if b == a or rb.mode != "full" or ra.analytic.shape != rb.numerical.shape:
                continue
            if _matches(ra.analytic, rb.numerical, rb.tolerance, np.ones(ra.analytic.shape, bool)):
                both = (b in failed and _matches(rb.analytic, ra.numerical, ra.tolerance,
                                                 np.ones(rb.analytic.shape, bool)))
                return (f"the claims for {a} and {b} look swapped: the claim for {a} matches the numerical "
                        f"gradient of {b}" + (f" and the claim for {b} that of {a}" if both else ""))
    return None
