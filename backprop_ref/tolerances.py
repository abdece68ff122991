"""How closely two analytic float64 results must agree: the one table, each number with its reason.

Finite differences carry their own error model (backprop_ref.gradcheck); this table is for
comparing two exact-in-principle computations of the same quantity: our formula against
TensorFlow's tape on the twin, and our forward against the twin's forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from backprop_ref._numeric import relative_error

__all__ = ["TAPE_RTOL", "TAPE_ATOL_EPS", "TAPE_ATOL_MIN", "Agreement", "agree"]

EPS = float(np.finfo(np.float64).eps)

# Relative bound per entry. Both sides are analytic float64: each op adds ≲ eps of relative error
# and our deepest formula (a 4-layer MLP) chains ~50 ops, ~1e-14 in all; conditioning of the
# forward (sums of mixed-sign terms) can amplify that by a few decades. 1e-10 leaves room for it
# while any real derivation error (a dropped term, a wrong factor) is ≥ 1e-6 relative.
TAPE_RTOL = 1e-10

# Absolute floor, in units of eps × the comparison's scale (the largest of |ours|, |theirs| and the
# forward's |f|). TensorFlow differentiates σ and tanh as y(1 − y) and 1 − y²: at saturation their
# absolute error is eps·|y| while the true value is far below it (σ′(30) = 9e-14), so a purely
# relative comparison would fail TensorFlow, not us. 1e3·eps ≈ 2e-13 of the scale covers that
# cancellation (≤ 4 eps per op over the ≲ 50 ops of a twin, with margin) and nothing larger.
TAPE_ATOL_EPS = 1e3

# Absolute floor below every scale: 1e4 × the smallest normal float64. TensorFlow's CPU kernels
# run with flush-to-zero and denormals-are-zero, so a value that is subnormal in NumPy (a·ln 2 with
# a = 5e-324) is 0 on the tape's side, and a flushed intermediate reaches the result multiplied by
# the ops after it: 2(xw + b − y)·x with a subnormal residual and |x| ≤ 100 is off by 200× tiny.
# The catalogue's inputs are at most 1e4 in magnitude; no derivation error is anywhere near 2e-304.
TAPE_ATOL_MIN = 1e4 * float(np.finfo(np.float64).tiny)

@dataclass(frozen=True)
class Agreement:
    """The verdict of comparing `ours` with `theirs` entry by entry; `atol` is the bound's absolute
    part (an entry passes when |ours − theirs| ≤ TAPE_RTOL·max(|ours|, |theirs|) + atol)."""

    passed: bool
    max_abs_err: float
    max_rel_err: float
    worst_index: tuple[int, ...]
    atol: float

    def __str__(self) -> str:
        verdict = "agree" if self.passed else "DISAGREE"
        return (f"{verdict}: max abs err {self.max_abs_err:.3g} at {list(self.worst_index)}, "
                f"max rel err {self.max_rel_err:.3g}; bound {TAPE_RTOL:g}·|value| + {self.atol:.3g}")


def agree(ours: ArrayLike, theirs: ArrayLike, forward_scale: Any = 0.0,
          mask: ArrayLike | None = None) -> Agreement:
    """Compare two float64 arrays of one shape under TAPE_RTOL and TAPE_ATOL_EPS.

    Entries where `mask` is False are not compared (e.g. exactly at a kink, where conventions
    differ by design). Non-finite entries on either side disagree unless both are the same inf
    (their relative error is then 0, else inf).
    """
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"ours has shape {a.shape} but theirs has shape {b.shape}; they must match")
    keep = np.ones(a.shape, bool) if mask is None else np.broadcast_to(np.asarray(mask, bool), a.shape)
    finite = np.isfinite(a) & np.isfinite(b)
    fs = np.abs(np.asarray(forward_scale, dtype=np.float64))
    # the scale of finite values only: an overflowed forward (inf) would make atol inf and pass anything
    scale = max([float(np.max(np.abs(v[finite & keep]), initial=0.0)) for v in (a, b)]
                + [float(np.max(fs[np.isfinite(fs)], initial=0.0))])
    atol = max(TAPE_ATOL_EPS * EPS * scale, TAPE_ATOL_MIN)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(finite, np.abs(a - b), np.where(a == b, 0.0, np.inf))
        mag = np.maximum(np.abs(a), np.abs(b))
    rel = np.where(diff == 0, 0.0, relative_error(a, b))   # the same inf on both sides agrees
    diff = np.where(keep, diff, 0.0)
    rel = np.where(keep, rel, 0.0)
    ok = diff <= TAPE_RTOL * np.where(finite, mag, 0.0) + atol
    worst = np.unravel_index(int(np.argmax(diff)), a.shape) if a.size else ()
    return Agreement(bool(np.all(ok)), float(np.max(diff, initial=0.0)),
                     float(np.max(rel, initial=0.0)), tuple(int(i) for i in worst), atol)
