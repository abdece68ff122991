"""Small numerical quantities that more than one part of the package reports: one definition each."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["relative_error"]


def relative_error(a: Any, b: Any) -> NDArray[np.float64]:
    """Symmetric relative error |a − b| / max(|a|, |b|) per entry: 0 where both are 0, inf where either is
    not finite (an inf that equals the other side's inf included: no relative error can be read there).

    Symmetric, so neither side is "the truth": the checker compares a claim with a numerical estimate
    and the audit our formula with TensorFlow's, and both report this number.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    with np.errstate(all="ignore"):
        d = np.abs(a - b)
        mag = np.maximum(np.abs(a), np.abs(b))
        r = d / np.where(mag > 0, mag, 1.0)   # mag = 0 only where a = b = 0, so d = 0 there
    return np.where(np.isfinite(r), r, np.inf)
