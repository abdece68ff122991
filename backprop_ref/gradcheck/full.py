"""Full mode: every entry probed on its own, refined where the step is too large, then judged.

Each entry i is probed at h = step·max(|x_i|, 1). An entry whose truncation exceeds refine_ratio × its
rounding, or whose one-sided gap is a kink suspect, is probed again with steps refine_factor, … times
smaller (refine_levels at most): a kink within the step moves out of it, a kink at x keeps its gap and
steady slopes. The complex step needs no refinement (no truncation to speak of, no kinks it can see);
its probes are complex_step's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.complex_step import (
    complex_slopes,
    not_analytic,
    only_by_scale,
    probe_complex,
    repeat_noise,
)
from backprop_ref.gradcheck.error_model import (
    EPS,
    TINY,
    claim_floor,
    claim_rounding,
    complex_rounding,
    dtype_name,
    f_rounding,
    first_order_scale,
    g_floor,
    g_max,
    intermediate_band,
    model_bound,
    param,
    step,
    underflow,
)
from backprop_ref.gradcheck.evaluation import Evaluator, UserTolerance, working_precision
from backprop_ref.gradcheck.kinks import KinkEvidence, above_noise, steady, suspect
from backprop_ref.gradcheck.result import Judged, Kink, model_reason
from backprop_ref.gradcheck.stencils import Level, inside_domain, probe_level
from backprop_ref.gradcheck.ties import entry_name as _name
from backprop_ref.gradcheck.ties import pair_name, ties
from backprop_ref.gradcheck.verdict import band_reason, judge, within_band

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
    jump: Array       # f's jump at x per (entry, output), 0 where it has none: no derivative there
    eps_f: float      # the precision f works in
    curv: Array       # |f″| per (entry, output) from the first level's one-sided gap: |F − B|/h
    notes: dict[int, str] = field(default_factory=dict)   # entries whose step shrank to stay in f's domain
    noisy: bool = False   # the noise seen along the clean entries stands above f's modelled rounding
    noise: Array | None = None   # (m,) that noise σ per output, where noisy
    repeated: bool = False       # f(x) was evaluated again to measure its noise


def probe_real(ev: Evaluator, x: Array, f0: Array, method: str, G: Array | None = None,
               repeats: Array | None = None) -> Probed:
    """Probe every entry, refining where needed and growing the step where f's rounding swamps it;
    `G` (the claim, (m, n)) floors the scale of f's intermediates (max|x_i·g_i|) and sets the accuracy
    an entry asks for; `repeats`, f's scatter over repeated evaluations at x (repeat_noise) when it was
    measured already."""
    n, m = x.size, f0.size
    floor = first_order_scale(G, x) if G is not None else np.zeros(m)
    refine_ratio, factor = param("refine_ratio"), param("refine_factor")
    eps_f = ev.out_eps
    h0 = step(method, eps_f) * np.maximum(np.abs(x), 1.0)
    lv, bad = probe_level(ev, x, f0, np.arange(n), h0, method)
    seen = working_precision(eps_f, np.concatenate([f0, lv.values.ravel()]))
    if seen != eps_f:   # f rounds to float32 (float16) though it returns float64: its own step
        eps_f = seen
        h0 = step(method, eps_f) * np.maximum(np.abs(x), 1.0)
        lv, bad = probe_level(ev, x, f0, np.arange(n), h0, method)
    e_model = f_rounding(lv.fmax, floor, eps_f)
    clean = (~suspect(lv.gap1, lv.gap2, e_model, lv.h, lv.finite)
             & (lv.trunc <= refine_ratio * e_model * lv.coef[:, None]) & lv.finite)
    pool = np.max(np.where(clean, lv.sigma, 0.0), axis=0, initial=0.0)   # f's noise, seen where clean
    if repeats is None and n and not clean.any(axis=0).all():
        # an output with no clean entry: noise above 100× f's modelled rounding (1e-8 relative) makes
        # every entry's truncation estimate that noise over h, and leaves nothing to pool it from. f(x)
        # repeated tells noise (it scatters) from curvature, kinks and jumps (it repeats itself)
        repeats = repeat_noise(ev, x, f0)
    if repeats is not None:
        # where it scatters above f's modelled rounding, the entries' fourth differences (each spread as
        # σ) join its 3 samples, their median; that σ counts noise_cover times, as in directional mode
        found = repeats > np.max(e_model, axis=0, initial=0.0)
        sigma = param("noise_cover") * np.maximum(repeats, np.median(lv.sigma, axis=0))
        pool = np.maximum(pool, np.where(found, sigma, 0.0))
    # the noise seen along the entries clean at the first step stands above f's modelled rounding: f is
    # noisy, and the Taylor test's remainders would be that noise (taylor.second_opinion). Only there:
    # where noise leaves no entry clean (1e-8 relative) the Taylor test still doubts a marginal pass
    noisy = bool(np.any(pool > param("safety") * np.max(e_model, axis=0, initial=0.0)))

    # where f did not move at all over a stencil while the claim says it moves f by |g|·h, f resolves no
    # better than that (f = log(1 + 1e-13) keeps only multiples of eps: its sum is an O(1) intermediate),
    # up to the rounding of such an intermediate (intermediate_band): f's size would not show it
    still_cap = f_rounding(param("intermediate_band"), 0.0, eps_f)
    resolution = np.zeros((n, m))   # f's resolution learned where a finer step saw it still (below)

    def noise(level: Level, rows: NDArray[np.intp] | None = None) -> Array:
        """f's rounding for the kink tests: the model, or the noise seen along the clean entries, or
        (where f was still) the move the claim predicts up to an O(1) intermediate's rounding."""
        e = np.maximum(f_rounding(level.fmax, floor, eps_f), pool)
        e = np.maximum(e, resolution if rows is None else resolution[rows])
        if G is None:
            return e
        claim = np.abs(G.T if rows is None else G.T[rows])
        moved = np.where(np.isfinite(claim), claim, 0.0) * level.h[:, None]
        return np.maximum(e, np.where(level.still, np.minimum(moved, still_cap), 0.0))

    def smooth_rounding(level: Level, gap_noise: Array) -> Array:
        # An entry's own fourth difference also sees noise the model misses (f = log(1 + tiny)
        # rounds at eps, not eps·|f|); it would also see a kink's jump, so the kink tests leave it out.
        return np.maximum(gap_noise, level.sigma) * level.coef[:, None]

    def jumps(level: Level, e: Array) -> Mask:
        """A one-sided difference above noise that keeps its size from h to 2h: f jumps within h."""
        return level.jump > param("safety") * param("gap_noise") * e

    out_notes: dict[int, str] = {}
    if not lv.finite.all():
        first = h0.copy()
        lv, h0 = inside_domain(ev, x, f0, method, lv, h0, out_notes, bad)
        if G is not None:
            # an entry whose stencil shrank to stay in f's domain probes a neighbourhood of x of scale
            # h/step, not max(|x_i|, 1): f moves by no more than that times |g_i| there (√x at 1e-10:
            # 1e-6·5e4, not 5e4, which would bury the step's truncation in rounding and stop refinement;
            # arcsin at 1 − 1e-9: 1.5e-5·2e4). An f whose intermediates of x's size round beyond that (1 −
            # x·x formed naively) shows it in its own fourth differences, which the rounding takes in
            reach = np.where(h0 < first, h0 / step(method, eps_f), np.maximum(np.abs(x), 1.0))
            floor = g_max(np.where(np.isfinite(G), G, 0.0) * reach[None, :])
    lv0 = lv
    e0 = noise(lv)
    susp = suspect(lv.gap1, lv.gap2, e0, lv.h, lv.finite)
    rnd0 = smooth_rounding(lv, e0)
    out = Probed(lv.est.copy(), lv.trunc.copy(), rnd0, np.zeros((n, m), bool), np.zeros((n, m), bool),
                 lv.left.copy(), lv.right.copy(), lv.side_err.copy(), np.repeat(h0[:, None], m, 1),
                 {int(j): bad[j] for j in np.flatnonzero(~lv.finite.all(1))}, np.zeros((n, m)), eps_f,
                 _curvature(lv, e0, h0), out_notes, noisy, pool if noisy else None, repeats is not None)
    # Whether a step resolves an entry is judged with the model's rounding: an entry's own fourth
    # difference also carries any kink inside the stencil and would hide it.
    open_ = ~(~susp & (lv.trunc <= refine_ratio * e0 * lv.coef[:, None])) & lv.finite
    best = np.where(lv.finite, lv.trunc + rnd0, np.inf)
    jumped = jumps(lv, e0) & lv.finite   # a jump must persist at every finer level to count
    jump_size, jump_step = lv.jump.copy(), np.repeat(h0[:, None], m, 1)
    prev_susp = susp.copy()
    prev_left, prev_right = lv.left.copy(), lv.right.copy()
    kinked_before = np.zeros((n, m), bool)
    drifting = np.ones((n, m), bool)
    went_blind = np.zeros((n, m), bool)
    # the finest step x resolves: below it x ± h rounds towards x and the stencil is no longer f's
    finest = param("jump_spacing") * np.spacing(np.abs(x))
    for level in range(1, int(param("refine_levels_max")) + 1):
        if level > param("refine_levels"):
            # beyond the usual depth only a kink or a jump near x but not at it is chased (it leaves the
            # stencil once the step is below its distance): a kink while its gap stands above f's
            # rounding (a kink at distance a ≪ h passes the steady rule, a slope moving by a/h, so a kink
            # is decided only when its slopes stopped moving at all, beyond rounding), a jump while the
            # step stays above what x resolves (f flat within 1e-9 of x has the derivative 0 there)
            chase = (h0 / factor ** level >= finest)[:, None]
            open_ &= ((~kinked_before | drifting) & ~jumped & prev_susp) | (jumped & chase)
        rows = np.flatnonzero(open_.any(1))
        if rows.size == 0:
            break
        h = h0[rows] / factor ** level
        lv, _ = probe_level(ev, x, f0, rows, h, method)
        e = noise(lv, rows)
        op = open_[rows]
        # a finer step at which f did not move at all, where the slope seen so far would move it by no
        # more than its rounding, is below what f resolves: nothing is read there and the entry is not
        # refined further (f flat where the slope said it would move is news: a kink left the stencil)
        blind = op & lv.still & (np.abs(out.numerical[rows]) * h[:, None]
                                 <= param("safety") * param("gap_noise") * e)
        op &= ~blind
        susp = suspect(lv.gap1, lv.gap2, e, lv.h, lv.finite)
        rnd = smooth_rounding(lv, e)
        kinked = op & susp & prev_susp[rows] & steady(lv.left, lv.right, prev_left[rows], prev_right[rows],
                                                      lv.gap1)
        smooth = op & ~susp & (lv.trunc <= refine_ratio * e * lv.coef[:, None]) & lv.finite
        better = op & lv.finite & (lv.trunc + rnd < best[rows]) & ~jumps(lv, e)
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
        sub_j = jumped[rows]
        sub_j[op] = (sub_j & jumps(lv, e) & lv.finite)[op]
        sub_j[blind] = False   # f(x ± h) = f(x) at a finer step: no jump at x (one of f's quanta was)
        jumped[rows] = sub_j
        jump_size[rows] = np.where(op, lv.jump, jump_size[rows])
        jump_step[rows] = np.where(op, h[:, None], jump_step[rows])
        kinked_before[rows] = np.where(op, kinked, kinked_before[rows])
        drift = np.maximum(np.abs(lv.left - prev_left[rows]), np.abs(lv.right - prev_right[rows]))
        drifting[rows] = np.where(op, drift > param("safety") * param("gap_noise") * e / h[:, None],
                                  drifting[rows])
        sub = open_[rows]
        sub[smooth | blind] = False
        open_[rows] = sub
        went_blind[rows] |= blind
        prev_susp[rows] = np.where(op, susp, prev_susp[rows])
        prev_left[rows] = np.where(op, lv.left, prev_left[rows])
        prev_right[rows] = np.where(op, lv.right, prev_right[rows])
    out.jump = np.where(jumped, jump_size, 0.0)
    out.step = np.where(jumped, jump_step, out.step)
    out.kink &= ~jumped
    out.fallback &= open_ & ~out.kink & ~jumped   # only entries no step could resolve may fall back
    # where a finer step saw f still, the coarser steps' disagreement was f's resolution (a quantum of
    # an O(1) intermediate moved on one side), not curvature: it counts as rounding, which a coarser
    # step lowers (_grow)
    # step lowers (_grow); f resolves no better than the moves that level saw, up to an O(1)
    # intermediate's rounding
    blinded = went_blind & ~out.kink & ~jumped
    moves = np.max(np.abs(lv0.values - f0[None, None, :]), axis=0)
    resolution[:] = np.where(blinded & np.isfinite(moves), np.minimum(moves, still_cap), 0.0)
    out.rnd = np.where(blinded, np.maximum(np.maximum(out.rnd, out.trunc), resolution * lv0.coef[:, None]),
                       out.rnd)
    best = np.where(blinded, out.trunc + out.rnd, best)
    if G is not None:
        _grow(ev, x, f0, method, G.T, out, h0, best, noise, smooth_rounding)
    return out


def _curvature(lv: Level, e: Array, h0: Array) -> Array:
    """|f″| per (entry, output) from the first level's one-sided gap, |F − B|/h, where that gap stands
    above the rounding of the four values it combines (the gap rule); 0 where it does not (a rounded
    gap of 4e_f/h would read as a curvature of 4e_f/h², 1e-6 of |f| at h = 6e-6)."""
    return np.where(above_noise(lv.gap1, e / h0[:, None]) & lv.finite, np.abs(lv.gap1) / h0[:, None], 0.0)


def _grow(ev: Evaluator, x: Array, f0: Array, method: str, GT: Array, out: Probed, h0: Array, best: Array,
          noise: Callable[[Level, NDArray[np.intp]], Array],
          smooth_rounding: Callable[[Level, Array], Array]) -> None:
    """Grow the step where f's rounding swamps the entry: its bound above the accuracy it asks for
    (`wanted`) with rounding the larger term. Coarser steps cut the rounding e_f/h and raise the
    truncation, which the two step sizes measure; a level is taken where their sum is smaller, f stays
    finite and no kink or jump enters the stencil."""
    factor = param("grow_factor")
    for level in range(1, int(param("grow_levels")) + 1):
        grow = ((out.rnd >= out.trunc) & (param("safety") * (out.rnd + out.trunc) > wanted(GT, out.numerical,
                                                                                         out.eps_f))
                & ~out.kink & ~out.fallback & (out.jump == 0) & np.isfinite(out.numerical)
                & (out.step >= h0[:, None]))   # (an entry refined for its truncation never grows)
        rows = np.flatnonzero(grow.any(1))
        if rows.size == 0:
            return
        h = h0[rows] * factor ** level
        lv, _ = probe_level(ev, x, f0, rows, h, method)
        e = noise(lv, rows)
        rnd = smooth_rounding(lv, e)
        ok = (grow[rows] & lv.finite & ~suspect(lv.gap1, lv.gap2, e, lv.h, lv.finite)
              & (lv.jump <= param("safety") * param("gap_noise") * e) & (lv.trunc + rnd < best[rows]))
        r, c = np.nonzero(ok)
        gi = rows[r]
        out.numerical[gi, c] = lv.est[r, c]
        out.trunc[gi, c] = lv.trunc[r, c]
        out.rnd[gi, c] = rnd[r, c]
        out.step[gi, c] = h[r]
        best[gi, c] = (lv.trunc + rnd)[r, c]
        if not ok.any():
            return


def wanted(GT: Array, num: Array, eps_f: float) -> Array:
    """The accuracy a check of each (entry, output) asks for: eps_f^resolve_power (resolve_power_low for
    a float32 or float16 f) × the largest of the claimed value, the numerical one and the largest
    numerical value of all outputs (an entry whose derivative is 0 is still checked against the
    gradient's scale). `GT` and `num` are (n, m)."""
    scale = np.max(np.where(np.isfinite(num), np.abs(num), 0.0), initial=0.0)
    power = param("resolve_power") if eps_f == EPS else param("resolve_power_low")
    return eps_f ** power * np.maximum(np.maximum(np.abs(GT), np.abs(num)), scale)


def _failing(G: Array, num: Array, bound: Array, user: UserTolerance | None) -> Mask:
    """The (output, entry) pairs outside the model's bound, with a finite estimate (none under the
    user's tolerance, which replaces the model)."""
    if user is not None:
        return np.zeros(G.shape, bool)
    return ~(np.abs(G - num) <= bound) & np.isfinite(num)


def _doubtful(G: Array, pr: Probed, ana_rnd: Array, user: UserTolerance | None) -> bool:
    """Whether any entry fails the model's smooth bound or sits at a kink, a jump or an unresolved
    step: the probes' verdicts that f's noise, if it were larger than seen, would make wrong."""
    odd = (pr.kink | pr.fallback | (pr.jump > 0)).T
    bound = model_bound(pr.trunc.T, pr.rnd.T, ana_rnd)
    return bool(odd.any() or _failing(G, pr.numerical.T, bound, user).any())


def _conditioning(x: Array, slope: Array, failing: Mask) -> Array:
    """The conditioning term of the claimed rounding, per (output, entry), for the entries in
    `failing` (0 for the others): conditioning·eps·max(|x_i|, 1)·|∂g_i/∂x_i|. The claim (and the
    complex step's estimate) is computed from intermediates of x's scale rounded at eps/2, which an
    ill-conditioned f amplifies by that slope (Σ sin(x/1e-3): 1e6·eps); a well-conditioned f gains a
    few eps·|g| at most. `slope` comes from the complex step at x ± δ·e_i, or from the first level's
    one-sided gap |F − B|/h = |f″| for the real steps (no evaluation)."""
    cond = param("conditioning") * EPS * np.maximum(np.abs(x), 1.0)[None, :] * slope
    return np.where(failing & np.isfinite(cond), cond, 0.0)


def judge_full(ev: Evaluator, x: Array, f0: Array, G: Array, eps_g: float, method: str,
               user: UserTolerance | None, problems: list[str], out_shape: tuple[int, ...],
               x_shape: tuple[int, ...]) -> Judged:
    """Probe every entry of x and judge each (output, entry) of the claim G (shape (m, n))."""
    m, n = G.shape
    shape = out_shape + x_shape
    if not np.isfinite(f0).all():
        v = judge(G, np.full((m, n), np.nan), np.zeros((m, n)), KinkEvidence.none((m, n)), user)
        return Judged("full", G, v, shape, [], problems, "f(x) is not finite", None, None)
    ana_rnd = claim_rounding(eps_g, np.abs(G) + g_max(G)[:, None], claim_floor(G, f0))
    if method == "complex":
        num_t, h, bad = probe_complex(ev, x, f0)
        num = num_t.T
        trunc = np.zeros_like(num)
        eps_c = max(ev.out_eps, ev.complex_eps)   # f's precision along the complex step (complex64)
        rnd = complex_rounding(np.abs(num) + g_floor(num, f0), eps_c) + underflow(h)[None, :]
        evidence = KinkEvidence.none((m, n))
        steps: object = h.reshape(x_shape)
    else:
        pr = probe_real(ev, x, f0, method, G)
        if not pr.repeated and _doubtful(G, pr, ana_rnd, user):
            # a claim the probes doubt: is f noisy beyond what one fourth difference per entry showed?
            # (f·(1 + 1e-10·ξ) seen at 6e-14 along its clean entries failed a right claim); a
            # deterministic f repeats itself exactly: 2 evaluations, and no second probe
            repeats = repeat_noise(ev, x, f0)
            if repeats.any():
                pr = probe_real(ev, x, f0, method, G, repeats)
        bad = pr.problems
        num, trunc, rnd = pr.numerical.T, pr.trunc.T, pr.rnd.T
        evidence = KinkEvidence(pr.kink.T, pr.fallback.T, pr.left.T, pr.right.T,
                                param("safety") * pr.side_err.T + ana_rnd, pr.step.T)
        steps = pr.step.T.reshape(shape) if len(out_shape) else pr.step[:, 0].reshape(x_shape)
    num = num.copy()
    for i in bad:
        num[:, i] = np.nan   # a stencil that left f's domain judges nothing
    bound = model_bound(trunc, rnd, ana_rnd)
    failing = _failing(G, num, bound, user)
    f_noise = np.zeros(m)
    if method == "complex" and failing.any():
        f_noise = repeat_noise(ev, x, f0)
        if f_noise.any():   # a noisy f's Im f(x + ih)/h carries its relative noise
            rel = np.divide(f_noise, np.abs(f0), out=np.zeros(m), where=f0 != 0)
            rnd = rnd + param("noise_cover") * rel[:, None] * np.abs(num)
            bound = model_bound(trunc, rnd, ana_rnd)
            failing = _failing(G, num, bound, user)
    if method == "complex":
        cond = _conditioning(x, complex_slopes(ev, x, num, failing), failing)
    else:
        # at a kink or a jump the one-sided gap is no curvature (the kink rule judges those entries)
        failing &= ~(pr.kink | pr.fallback | (pr.jump > 0)).T
        cond = _conditioning(x, pr.curv.T, failing)
    ana_rnd = ana_rnd + cond
    bound = model_bound(trunc, rnd, ana_rnd)
    undecided, why = (np.zeros((m, n), bool), []) if method == "complex" else _undecided(
        x, G, num, trunc, rnd, bound, pr, user, out_shape, x_shape)
    if method == "complex":
        undecided, why = not_analytic(ev, x, f0, G, num, bound, ana_rnd, user, out_shape, x_shape)
    kinked = None if method == "complex" else (pr.kink | pr.fallback | (pr.jump > 0)).T
    banded = within_band(G, num, bound, intermediate_band(eps_g, method), user,
                         undecided if kinked is None else undecided | kinked)
    f_scale = np.maximum(np.abs(f0), first_order_scale(G, x))
    why = why + [band_reason(pair_name(int(r), int(c), out_shape, x_shape), float(abs(G[r, c] - num[r, c])),
                             float(f_scale[r]))
                 for r, c in zip(*np.nonzero(banded))]
    undecided = undecided | banded
    if method == "complex":
        sized, sized_why = only_by_scale(G, num, f0, eps_g, eps_c, cond, bound, user, undecided, out_shape,
                                          x_shape)
        undecided, why = undecided | sized, why + sized_why
    v = judge(G, num, bound, evidence, user, undecided)
    if method != "complex" and (v.kink.sum(axis=1) >= 2).any():
        limiting, tie_undecided, tie_failed, tie_why = ties(ev, x, f0, G, v, evidence, ana_rnd, pr, x_shape)
        undecided = undecided | tie_undecided
        why = why + tie_why
        # at a tie the hull decides, for claims inside each coordinate's slopes and outside alike
        v = judge(G, num, bound, evidence, user, undecided, limiting, tie_failed)
    kinks = [Kink(tuple(int(i) for i in np.unravel_index(r * n + c, shape)), float(evidence.left[r, c]),
                  float(evidence.right[r, c]), float(G[r, c]), bool(v.kink_ok[r, c]),
                  float(evidence.step[r, c])) for r, c in zip(*np.nonzero(v.kink))]
    problems = problems + [f"entry {[int(k) for k in np.unravel_index(i, x_shape)]}: {why}"
                           for i, why in sorted(bad.items())]
    s = param("safety")
    refined = None if method == "complex" else pr.step.T < step(method, pr.eps_f) * np.maximum(np.abs(x), 1.0)
    reason = model_reason(trunc, rnd, ana_rnd, method, eps_g)
    if f_noise.any():
        i = int(np.argmax(f_noise))
        reason += (f"; f is noisy: its values scatter by {f_noise[i]:.3g} between repeated evaluations at x, "
                   f"counted as {param('noise_cover'):g}× that, relative to |f|, in the complex estimate")
    if method == "complex" and max(ev.out_eps, ev.complex_eps) != EPS:
        reason += f"; f works in {dtype_name(max(ev.out_eps, ev.complex_eps))}: its rounding in its eps"
    if method != "complex" and pr.noise is not None:
        i = int(np.argmax(pr.noise))
        reason += (f"; f is noisy: its values scatter by {pr.noise[i]:.3g} (repeated at x, or in its fourth "
                   f"differences), which f's rounding counts")
    if method != "complex" and pr.eps_f != EPS:
        reason += f"; f works in {dtype_name(pr.eps_f)}: steps and f's rounding in its eps"
    notes = [] if method == "complex" else [f"entry {_name(i, x_shape, '')}: {why}"
                                            for i, why in sorted(pr.notes.items())]
    noisy = bool(f_noise.any()) if method == "complex" else pr.noisy
    return Judged("full", G, v, shape, kinks, problems, reason, steps, (s * trunc, s * rnd, ana_rnd),
                  refined=refined, inconclusive=why, notes=notes, noisy=noisy)


def _undecided(x: Array, G: Array, num: Array, trunc: Array, rnd: Array, bound: Array, pr: Probed,
               user: UserTolerance | None, out_shape: tuple[int, ...],
               x_shape: tuple[int, ...]) -> tuple[NDArray[np.bool_], list[str]]:
    """The (output, entry) pairs no admissible step could judge, and why: f jumps there (no derivative),
    or f's rounding, even at the best step, leaves a bound above the entry's own value and above
    eps_f^judge_power of the largest derivative (of any output) (its effect on f is below f's rounding). Only
    entries that would otherwise pass: a failure beyond the bound stands."""
    jump = pr.jump.T > 0
    # the scale of the whole gradient (Jacobian): an entry of a Jacobian row of tiny derivatives is judged
    # against the Jacobian's scale, as its error would be seen in J·v. At a stationary point (a minimum,
    # o = t) that is 0 and would bury every entry (any claim as small as the rounding would do): the
    # scale is at least eps_f^judge_power of how much the gradient moves over x's own scale, |f″|·
    # max(|x_i|, 1) at the smooth entries, which a gradient away from a stationary point exceeds
    power = pr.eps_f ** param("judge_power")
    smooth = np.isfinite(num) & ~pr.kink.T & ~pr.fallback.T & ~jump
    moved = np.where(smooth, pr.curv.T * np.maximum(np.abs(x), 1.0)[None, :], 0.0)
    top = np.max(np.where(np.isfinite(num), np.abs(num), 0.0), initial=0.0)
    top = max(top, np.max(np.where(np.isfinite(moved), moved, 0.0), initial=0.0))
    scale = np.full((num.shape[0], 1), top)
    limit = np.maximum(np.maximum(np.abs(G), np.abs(num)), power * scale)
    smooth_tol = bound if user is None else user.bound(num)
    # (where every numerical value is 0, f flat at every step, an entry claimed 0 is judged, an unused
    # parameter; one claimed nonzero is not, whatever its sign: f cannot tell it from 0. A claim below
    # the smallest normal number counts as 0 (flush_floor: σ′(−745) = 5e-324 is known to within tiny))
    nonzero = np.abs(G) >= param("flush_floor") * TINY
    buried = ((rnd > trunc) & (model_bound(trunc, rnd, 0.0) > limit) & ((scale > 0) | nonzero)
              & np.isfinite(num) & (np.abs(G - num) <= smooth_tol) & ~pr.kink.T & ~pr.fallback.T & ~jump)
    undecided = jump | buried
    why = []
    for r, c in zip(*np.nonzero(undecided)):
        where = pair_name(int(r), int(c), out_shape, x_shape)
        h = float(pr.step[c, r])
        if jump[r, c]:
            why.append(f"{where}: f jumps at {_name(int(c), x_shape)} by {float(pr.jump[c, r]):.3g} (its "
                       f"one-sided differences keep their size down to a step of {h:.3g}): no derivative")
        else:
            why.append(f"{where}: its effect on f is below f's rounding at every admissible step (bound "
                       f"{float(bound[r, c]):.3g} at step {h:.3g}, above |numerical| "
                       f"{abs(float(num[r, c])):.3g} "
                       f"and the gradient's scale {float(scale[r, 0]):.3g})")
    return undecided, why
