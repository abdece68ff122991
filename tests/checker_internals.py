"""The one place the checker's tests reach inside `backprop_ref.gradcheck` (everything else they use
is public): when the package's inside changes, only this module changes with it.

It also holds the few helpers that several of the checker's test modules share: the quartic test
function with its gradient, an f that counts its calls, and the random directions' signs rebuilt from
the documented recipe. Helpers one module uses stay in that module.
"""

from __future__ import annotations

import numpy as np

from backprop_ref.gradcheck.directions import SCRATCH_MAX, replay, scratch, signs
from backprop_ref.gradcheck.error_model import EPS, param, step
from backprop_ref.gradcheck.kinks import KinkEvidence, suspect
from backprop_ref.gradcheck.result import Judged, build_result
from backprop_ref.gradcheck.taylor import second_opinion
from backprop_ref.gradcheck.verdict import Verdict, judge

__all__ = [
    "EPS", "param", "step", "replay", "signs", "scratch", "SCRATCH_MAX", "suspect", "Judged", "build_result",
    "second_opinion", "Verdict", "judge", "no_kinks", "rademacher", "direction_signs", "quartic",
    "quartic_grad", "Counted",
]


def no_kinks(*shape: int) -> KinkEvidence:
    """Kink evidence of no kink anywhere, for verdicts built by hand."""
    return KinkEvidence.none(shape)


def rademacher(seed: int, j: int, n: int):
    """Direction j of a directional check with `seed`, as the checker replays it: ±1/√n in every entry."""
    return signs(replay(seed, j, n))


def direction_signs(seed: int, n: int, k: int) -> list[np.ndarray]:
    """The signs (+1/−1 per entry) of the first k random directions of a check with `seed`, rebuilt from
    the documented recipe (one bit of the seeded generator per entry), not by the checker's own code."""
    rng = np.random.default_rng(seed)
    return [np.where(np.unpackbits(np.frombuffer(rng.bytes((n + 7) // 8), np.uint8), count=n), 1.0, -1.0)
            for _ in range(k)]


def quartic(v):
    """Σ v⁴/4 + v: smooth, curved, carries complex input through; its gradient is `quartic_grad`."""
    return np.sum(v**4 / 4 + v)


def quartic_grad(v):
    return v**3 + 1.0


class Counted:
    """f with a call counter: a result's n_evals must be the calls actually made."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, v):
        self.calls += 1
        return self.f(v)
