"""The one place the checker's tests reach inside `backprop_ref.gradcheck` (everything else they use
is public): when the package's inside changes, only this module changes with it."""

from backprop_ref.gradcheck.directional import replay, signs
from backprop_ref.gradcheck.error_model import EPS, param, step
from backprop_ref.gradcheck.kinks import suspect
from backprop_ref.gradcheck.result import Judged, build_result
from backprop_ref.gradcheck.taylor import second_opinion
from backprop_ref.gradcheck.verdict import Verdict

__all__ = ["EPS", "param", "step", "replay", "signs", "suspect", "Judged", "build_result", "second_opinion",
           "Verdict",            "rademacher"]


def rademacher(seed: int, j: int, n: int):
    """Direction j of a directional check with `seed`: ±1/√n in every entry."""
    return signs(replay(seed, j, n))
