"""Bisection: localise the wrong entries along a failing direction by halving blocks of entries.

Each block is probed along the direction restricted to it, each entry weighted by a random factor in
[bisect_weight_min, 1] drawn afresh for every block (central differences at h and 2h, the full-mode error
model, or the user's tolerance); failing halves are split again, down to single entries
(bisect_max_leaves at most; the note says how many wrong entries the blocks left on the stack still
hold at least). The weights keep errors from cancelling: along the direction's own ±1/√n two equal
errors of opposite sign in one block cancel exactly, and that block passes with both. A single wrong
entry costs ~8 evaluations per halving. A block whose probe leaves f's domain is not judged (never
blamed); a block whose halves both pass is reported as lost.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.error_model import (
    EPS,
    claim_rounding,
    f_rounding,
    model_bound,
    param,
    rms_scale,
    step,
)
from backprop_ref.gradcheck.evaluation import Evaluator, UserTolerance
from backprop_ref.gradcheck.stencils import level_stats

__all__ = ["bisect"]

Array = NDArray[np.float64]


def bisect(ev: Evaluator, x: Array, f0: Array, G: Array, eps_g: float, d: Array, out_k: int,
           user: UserTolerance | None, x_shape: tuple[int, ...],
           rng: np.random.Generator, eps_f: float = EPS) -> tuple[list[tuple[int, ...]], str]:
    """The entries (indices in x's shape) found wrong along direction `d` for output `out_k`, and a note;
    `rng` (drawn from the check's seed) weights the blocks; `eps_f` is the precision f works in."""
    found: list[tuple[int, ...]] = []
    stuck: list[tuple[int, int]] = []
    unjudged: list[tuple[int, int]] = []
    stack = [(0, x.size)]
    absg = np.abs(G[out_k])
    gtop = float(np.max(np.where(np.isfinite(absg), absg, 0.0), initial=0.0))
    # the claim's floor (error_model.claim_floor): f's size, or the largest derivative of any output
    ffloor = max(abs(float(f0[out_k])), float(np.max(np.where(np.isfinite(G), np.abs(G), 0.0), initial=0.0)))
    scale = rms_scale(x)
    max_leaves = int(param("bisect_max_leaves"))

    def block_fails(lo: int, hi: int) -> bool:
        v = np.zeros_like(x)
        v[lo:hi] = d[lo:hi]
        if hi - lo > 1:   # (a lone entry cannot cancel: its probe is the direction's own)
            v[lo:hi] *= rng.uniform(param("bisect_weight_min"), 1.0, hi - lo)
        dmax = float(np.max(np.abs(v)))
        if dmax == 0:
            return False
        t = step("central", eps_f) * scale / dmax
        fp, fm = np.empty((2, 1, 1)), np.empty((2, 1, 1))
        for s, mult in enumerate((1.0, 2.0)):
            fp[s, 0] = ev.real(x + (mult * t) * v)[out_k]
            fm[s, 0] = ev.real(x - (mult * t) * v)[out_k]
        hs = np.array([[t], [2 * t]])
        lv = level_stats(f0[out_k:out_k + 1], fp, fm, hs, hs, np.array([t]), "central")
        if not lv.finite[0, 0]:
            # bisection's step (the full-mode one) may leave f's domain: no verdict, never blame
            unjudged.append((lo, hi))
            return False
        a = float(G[out_k, lo:hi] @ v[lo:hi])
        rep = 0.5 * eps_f * float(absg[lo:hi] @ np.abs(x[lo:hi]))
        e_f = max(float(f_rounding(float(lv.fmax[0, 0]), 0.0, eps_f)), float(lv.sigma[0, 0])) + rep
        n_ = float(lv.est[0, 0])
        if user is not None:
            tol = float(user.bound(n_))
        else:
            tol = float(model_bound(float(lv.trunc[0, 0]), e_f / t, claim_rounding(
                eps_g, float(absg[lo:hi] @ np.abs(v[lo:hi])) + gtop * (hi - lo) * dmax,
                ffloor * (hi - lo) * dmax)))
        return not (abs(a - n_) <= tol)

    while stack:
        lo, hi = stack.pop()
        if hi - lo == 1:
            found.append(tuple(int(i) for i in np.unravel_index(lo, x_shape)))
            if len(found) >= max_leaves:
                break
            continue
        mid = (lo + hi) // 2
        halves = [(a, b) for a, b in ((mid, hi), (lo, mid)) if block_fails(a, b)]
        if not halves:
            stuck.append((lo, hi))
        stack.extend(halves)

    def blocks(which: list[tuple[int, int]]) -> str:
        return ", ".join(f"[{a}, {b})" for a, b in which[:4])

    notes = []
    if stack:
        # every block still on the stack failed: it holds at least one wrong entry
        notes.append(f"bisection stopped at {max_leaves} entries: {len(found)} of at least "
                     f"{len(found) + len(stack)} wrong entries shown")
    if stuck:
        notes.append(f"bisection lost the error in flat block(s) {blocks(stuck)}: neither half fails "
                     "alone (errors that cancel, or an error near the bound)")
    if unjudged:
        notes.append(f"bisection could not judge block(s) {blocks(unjudged)}: f is not finite at their "
                     "probes (the step leaves f's domain)")
    return sorted(found), "; ".join(notes)
