"""Full mode: every entry probed on its own, refined where the step is too large, then judged.

Each entry i is probed at h = step·max(|x_i|, 1). An entry whose truncation exceeds refine_ratio × its
rounding, or whose one-sided gap is a kink suspect, is probed again with steps refine_factor, … times
smaller (refine_levels at most): a kink within the step moves out of it, a kink at x keeps its gap and
steady slopes. The complex step needs no refinement (no truncation to speak of, no kinks it can see).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.error_model import (
    claimed_rounding,
    complex_rounding,
    f_rounding,
    first_order_scale,
    g_floor,
    model_bound,
    param,
    step,
)
from backprop_ref.gradcheck.evaluation import Evaluator, UserTolerance
from backprop_ref.gradcheck.kinks import KinkEvidence, steady, suspect
from backprop_ref.gradcheck.result import Judged, Kink, model_reason
from backprop_ref.gradcheck.stencils import Level, probe_level
from backprop_ref.gradcheck.verdict import judge

__all__ = ["Probed", "probe_real", "probe_complex", "judge_full"]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]


@dataclass
class Probed:
    """Full mode's figures per (entry, output), filled level by level as refinement proceeds."""

    numerical: Array
    trunc: Array
    rnd: Array
    kink: Mask
    fallback: Mask   # unresolved entries: kink interval usable if the smooth verdict fails
    left: Array
    right: Array
    side_err: Array
    step: Array
    problems: dict[int, str]


def probe_real(ev: Evaluator, x: Array, f0: Array, method: str, fscale: Array | None = None) -> Probed:
    """Probe every entry, refining where needed; `fscale` (per output) floors the scale of f's
    intermediates (max|x|·max|g|)."""
    n, m = x.size, f0.size
    floor = np.maximum(param("f_scale_floor"), fscale if fscale is not None else 0.0)
    refine_ratio, factor = param("refine_ratio"), param("refine_factor")
    h0 = step(method) * np.maximum(np.abs(x), 1.0)
    lv, bad = probe_level(ev, x, f0, np.arange(n), h0, method)
    e_model = f_rounding(lv.fmax, floor)
    clean = (~suspect(lv.gap1, lv.gap2, e_model, lv.h, lv.finite)
             & (lv.trunc <= refine_ratio * e_model * lv.coef[:, None]) & lv.finite)
    pool = np.max(np.where(clean, lv.sigma, 0.0), axis=0, initial=0.0)   # f's noise, seen where clean

    def noise(level: Level) -> Array:
        """f's rounding for the kink tests: the model, or the noise seen along the clean entries."""
        return np.maximum(f_rounding(level.fmax, floor), pool)

    def smooth_rounding(level: Level, gap_noise: Array) -> Array:
        # An entry's own fourth difference also sees noise the model misses (f = log(1 + tiny)
        # rounds at eps, not eps·|f|); it would also see a kink's jump, so the kink tests leave it out.
        return np.maximum(gap_noise, level.sigma) * level.coef[:, None]

    e0 = noise(lv)
    susp = suspect(lv.gap1, lv.gap2, e0, lv.h, lv.finite)
    rnd0 = smooth_rounding(lv, e0)
    out = Probed(lv.est.copy(), lv.trunc.copy(), rnd0, np.zeros((n, m), bool), np.zeros((n, m), bool),
                 lv.left.copy(), lv.right.copy(), lv.side_err.copy(), np.repeat(h0[:, None], m, 1),
                 {int(j): bad[j] for j in np.flatnonzero(~lv.finite.all(1))})
    # Whether a step resolves an entry is judged with the model's rounding: an entry's own fourth
    # difference also carries any kink inside the stencil and would hide it.
    open_ = ~(~susp & (lv.trunc <= refine_ratio * e0 * lv.coef[:, None])) & lv.finite
    best = np.where(lv.finite, lv.trunc + rnd0, np.inf)
    prev_susp = susp.copy()
    prev_left, prev_right = lv.left.copy(), lv.right.copy()
    for level in range(1, int(param("refine_levels")) + 1):
        rows = np.flatnonzero(open_.any(1))
        if rows.size == 0:
            break
        h = h0[rows] / factor ** level
        lv, _ = probe_level(ev, x, f0, rows, h, method)
        e = noise(lv)
        susp = suspect(lv.gap1, lv.gap2, e, lv.h, lv.finite)
        rnd = smooth_rounding(lv, e)
        op = open_[rows]
        kinked = op & susp & prev_susp[rows] & steady(lv.left, lv.right, prev_left[rows], prev_right[rows],
                                                      lv.gap1)
        smooth = op & ~susp & (lv.trunc <= refine_ratio * e * lv.coef[:, None]) & lv.finite
        better = op & lv.finite & (lv.trunc + rnd < best[rows])
        r, c = np.nonzero(smooth | better | kinked)
        gi = rows[r]
        out.numerical[gi, c] = lv.est[r, c]
        out.trunc[gi, c] = lv.trunc[r, c]
        out.rnd[gi, c] = rnd[r, c]
        out.step[gi, c] = h[r]
        best[gi, c] = np.minimum(best[gi, c], (lv.trunc + rnd)[r, c])
        r, c = np.nonzero(op & susp)   # the finest suspect level gives the kink interval
        gi = rows[r]
        out.left[gi, c], out.right[gi, c] = lv.left[r, c], lv.right[r, c]
        out.side_err[gi, c] = lv.side_err[r, c] + 2.0 * e[r, c] / h[r]
        out.fallback[gi, c] = True
        r, c = np.nonzero(op)
        out.kink[rows[r], c] = kinked[r, c]   # the finest level decides: a kink nearby but not at x leaves
        sub = open_[rows]
        sub[smooth] = False
        open_[rows] = sub
        prev_susp[rows] = susp
        prev_left[rows] = lv.left
        prev_right[rows] = lv.right
    out.fallback &= open_ & ~out.kink   # only entries no step could resolve may fall back to a kink
    return out


def probe_complex(ev: Evaluator, x: Array, f0: Array) -> tuple[Array, Array, dict[int, str]]:
    """Im f(x + ih·e_i)/h for every entry i: (entry, output) estimates, the steps, non-finite notes."""
    n, m = x.size, f0.size
    h = step("complex") * np.maximum(np.abs(x), 1.0)
    num = np.empty((n, m))
    buf = x.astype(np.complex128)
    problems: dict[int, str] = {}
    for i in range(n):
        buf[i] = complex(x[i], h[i])
        y = ev.complex(buf)
        buf[i] = x[i]
        num[i] = y.imag / h[i]
        if not np.isfinite(y).all():
            problems[i] = f"f(x + {h[i]:.3g}i·e_i) = {y[~np.isfinite(y)][0]} at x_i = {x[i]:.6g}"
    return num, h, problems


def judge_full(ev: Evaluator, x: Array, f0: Array, G: Array, eps_g: float, method: str,
               user: UserTolerance | None, problems: list[str], out_shape: tuple[int, ...],
               x_shape: tuple[int, ...]) -> Judged:
    """Probe every entry of x and judge each (output, entry) of the claim G (shape (m, n))."""
    m, n = G.shape
    shape = out_shape + x_shape
    if not np.isfinite(f0).all():
        v = judge(G, np.full((m, n), np.nan), np.zeros((m, n)), KinkEvidence.none((m, n)), user)
        return Judged("full", G, v, shape, [], problems, "f(x) is not finite", None, None)
    ana_rnd = claimed_rounding(eps_g, np.abs(G) + g_floor(G, f0)[:, None])
    if method == "complex":
        num_t, h, bad = probe_complex(ev, x, f0)
        num = num_t.T
        trunc = np.zeros_like(num)
        rnd = complex_rounding(np.abs(num) + g_floor(num, f0)[:, None])
        evidence = KinkEvidence.none((m, n))
        steps: object = h.reshape(x_shape)
    else:
        pr = probe_real(ev, x, f0, method, first_order_scale(G, x))
        bad = pr.problems
        num, trunc, rnd = pr.numerical.T, pr.trunc.T, pr.rnd.T
        evidence = KinkEvidence(pr.kink.T, pr.fallback.T, pr.left.T, pr.right.T,
                                param("safety") * pr.side_err.T + ana_rnd, pr.step.T)
        steps = pr.step.T.reshape(shape) if len(out_shape) else pr.step[:, 0].reshape(x_shape)
    num = num.copy()
    for i in bad:
        num[:, i] = np.nan   # a stencil that left f's domain judges nothing
    v = judge(G, num, model_bound(trunc, rnd, ana_rnd), evidence, user)
    kinks = [Kink(tuple(int(i) for i in np.unravel_index(r * n + c, shape)), float(evidence.left[r, c]),
                  float(evidence.right[r, c]), float(G[r, c]), bool(v.kink_ok[r, c]),
                  float(evidence.step[r, c])) for r, c in zip(*np.nonzero(v.kink))]
    problems = problems + [f"entry {[int(k) for k in np.unravel_index(i, x_shape)]}: {why}"
                           for i, why in sorted(bad.items())]
    s = param("safety")
    refined = None if method == "complex" else pr.step.T < step(method) * np.maximum(np.abs(x), 1.0)
    return Judged("full", G, v, shape, kinks, problems, model_reason(trunc, rnd, ana_rnd, method, eps_g),
                  steps, (s * trunc, s * rnd, ana_rnd), refined=refined)

