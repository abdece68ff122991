"""The verdict: one rule, called by every mode, that decides which entries (or directions) pass.

An entry is compared with its numerical estimate under a bound: the error model's, or the user's
atol + rtol·|numerical| when given. At a kink (decided by the probes, or an unresolved entry whose smooth
comparison fails while the claim lies between the one-sided slopes) the interval rule decides instead,
with the bound on the slopes (or the user's at the larger slope); the numerical value shown there is
the subgradient nearest the claim, never the mean of the slopes. An entry whose numerical value is not
finite fails. err/tol is reported per entry: above 1 fails, at most 1 passes, 0 where the kink rule
passed.

An entry the mode could not judge at any admissible step (`undecided`: f jumps there, its effect on f is
below f's rounding, a disagreement within the rounding of O(1) intermediates that f's scale does not
show: `within_band`, ...) is neither passed nor failed: its ratio is NaN and the check that holds one,
and no failure, is inconclusive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.evaluation import UserTolerance
from backprop_ref.gradcheck.kinks import KinkEvidence, inside

__all__ = ["Verdict", "judge", "within_band", "band_reason"]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]
_ONE_UP = float(np.nextafter(1.0, 2.0))


@dataclass(frozen=True)
class Verdict:
    """Per entry: passed, the bound it was judged by, the numerical value shown, err/tol, kink masks."""

    ok: Mask
    tolerance: Array
    numerical: Array
    ratio: Array
    kink: Mask       # judged by the interval rule
    kink_ok: Mask    # ... and passed by it
    undecided: Mask  # not judged: neither passed nor failed

    @property
    def n_failed(self) -> int:
        return int(np.sum(~self.ok & ~self.undecided))

    @property
    def n_undecided(self) -> int:
        return int(np.sum(self.undecided))

    def worst(self) -> int:
        """Flat index of the judged entry with the largest err/tol (-1 when empty); an undecided entry
        only when no entry was judged."""
        if self.ratio.size == 0:
            return -1
        return int(np.argmax(np.where(self.undecided, -1.0, self.ratio)))


def judge(analytic: Array, numerical: Array, bound: Array, kinks: KinkEvidence,
          user: UserTolerance | None, undecided: Mask | None = None, limiting: Mask | None = None,
          rejected: Mask | None = None) -> Verdict:
    """Decide every entry: the smooth rule |a − n| ≤ bound, or the interval rule at kinks (module doc);
    entries in `undecided` are not judged; kink entries in `limiting` pass (at a tie of several kinks
    the claim was found to be the gradient at points next to x: a limiting gradient, though outside
    each coordinate's one-sided slopes), those in `rejected` fail (the claim is no subgradient at the
    tie, though inside each coordinate's slopes)."""
    smooth_tol = bound if user is None else user.bound(numerical)
    kink_tol = kinks.tol if user is None else user.bound(np.maximum(np.abs(kinks.left), np.abs(kinks.right)))
    between = inside(analytic, kinks.left, kinks.right, kink_tol)
    smooth_ok = np.abs(analytic - numerical) <= smooth_tol
    is_kink = (kinks.at | (kinks.maybe & ~smooth_ok & between)) & np.isfinite(numerical)
    kink_ok = is_kink & (between if limiting is None else (between | limiting))
    if rejected is not None:
        kink_ok &= ~rejected
    lo, hi = np.minimum(kinks.left, kinks.right), np.maximum(kinks.left, kinks.right)
    shown = np.where(is_kink, np.clip(analytic, lo, hi), numerical)
    tol = np.asarray(np.where(is_kink, kink_tol, smooth_tol), dtype=np.float64)
    diff = np.abs(analytic - shown)
    finite = np.isfinite(diff)   # |a − n| is finite only when both are
    ok = finite & np.where(is_kink, kink_ok, diff <= tol)   # at a kink the interval rule alone decides
    # err/tol; under a zero bound (atol = rtol = 0) any error at all is inf, however small
    ratio = np.divide(diff, tol, out=np.where(diff > 0, np.inf, 0.0), where=tol > 0)
    # exactly the documented reading: a failed entry's ratio is above 1 (a quotient just above 1 can
    # round to 1.0), a passed one's at most 1, and 0 where the kink rule passed it
    ratio = np.where(ok, np.where(kink_ok, 0.0, ratio), np.maximum(np.where(finite, ratio, np.inf), _ONE_UP))
    und = np.zeros(ok.shape, bool) if undecided is None else undecided
    ratio = np.where(und, np.nan, ratio)
    return Verdict(ok & ~und, tol, shown, ratio, is_kink & ~und, kink_ok & ~und, und)


def within_band(analytic: Array, numerical: Array, bound: Array, band: float, user: UserTolerance | None,
                exclude: Mask | None = None) -> Mask:
    """The entries that fail the scale-free bound but whose disagreement lies within `band`, the claim's
    possible rounding of O(1) intermediates (error_model.intermediate_band): f's scale cannot tell that
    rounding from an error, so they are not judged. None under the user's tolerance (it decides)."""
    if user is not None:
        return np.zeros(np.shape(analytic), bool)
    diff = np.abs(analytic - numerical)
    hit = np.isfinite(diff) & (diff > bound) & (diff <= band)
    return hit if exclude is None else hit & ~exclude


def band_reason(where: str, diff: float, f_scale: float) -> str:
    """The reason given for an entry `within_band`."""
    return (f"{where}: the claim differs by {diff:.2g}, the rounding of an O(1) intermediate; f's scale "
            f"({f_scale:.2g}) cannot tell rounding from error; compute the gradient stably or pass atol")
