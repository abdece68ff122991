"""Kinks: where f has no derivative, the rules that see one, for full and directional mode alike.

- the gap rule: the one-sided slopes F = (f(x+h) − f(x))/h and B = (f(x) − f(x−h))/h differ by h·f″ on a
  smooth f, so their gap stands above noise only when it is larger than safety × gap_noise·e_f/h;
- the suspect rule (full mode): a gap above noise that does not double with the step (gap_scaling);
- the steady-slopes rule: at a kink at x both slopes stay put, within kink_steady of the gap, when the
  step shrinks refine_factor times; a kink near x moves out of a finer stencil, noise makes slopes jump;
- the interval rule: at a kink the claim passes when it lies between the one-sided slopes, give or take
  their own error (a subgradient); the verdict module applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.error_model import param

__all__ = ["KinkEvidence", "above_noise", "suspect", "steady", "inside"]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class KinkEvidence:
    """What the probes saw of kinks, entry by entry (arrays of the verdict's shape).

    `at`: a kink decided by the steady-slopes rule; `maybe`: entries no step could resolve, judged as a
    kink only when the smooth rule fails and the claim lies between the slopes; `left`, `right`: the
    one-sided slopes of the finest probe; `tol`: the error-model bound on them (the user's tolerance,
    when given, replaces it in the verdict); `step`: the step the slopes were measured at.
    """

    at: Mask
    maybe: Mask
    left: Array
    right: Array
    tol: Array
    step: Array

    @classmethod
    def none(cls, shape: tuple[int, ...]) -> KinkEvidence:
        """No kink anywhere (the complex step, which sees none)."""
        nan = np.full(shape, np.nan)
        return cls(np.zeros(shape, bool), np.zeros(shape, bool), nan, nan, np.zeros(shape), np.zeros(shape))


def above_noise(gap: Any, e_over_h: Any) -> Any:
    """The gap rule: a one-sided gap larger than the rounding of the four f values it combines."""
    return np.abs(gap) > param("safety") * param("gap_noise") * e_over_h


def suspect(gap1: Array, gap2: Array, e_f: Array, h: Array, finite: Mask) -> Mask:
    """Kink suspects of one probe level: a gap above noise (`gap1` at step h, `gap2` at 2h) that does not
    grow in proportion to the step. `e_f` is f's rounding per entry, `h` the step per row."""
    e_h = e_f / h[:, None]
    noise1 = param("safety") * param("gap_noise") * e_h
    nonscaling = np.abs(gap2 - 2.0 * gap1) > param("gap_scaling") * np.abs(gap2) + noise1 / 2.0 + 2.0 * noise1
    return above_noise(gap1, e_h) & nonscaling & finite


def steady(left: Array, right: Array, prev_left: Array, prev_right: Array, gap: Array) -> Mask:
    """The steady-slopes rule: both slopes moved by at most kink_steady × |gap| since the coarser step."""
    drift = np.maximum(np.abs(left - prev_left), np.abs(right - prev_right))
    return drift <= param("kink_steady") * np.abs(gap)


def inside(claim: Array, left: Array, right: Array, tol: Array) -> Mask:
    """The interval rule: the claim lies between the one-sided slopes, give or take `tol`."""
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    return (claim >= lo - tol) & (claim <= hi + tol)
