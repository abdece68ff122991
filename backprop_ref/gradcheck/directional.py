"""Directional mode's verdict: judge the probes along the directions (`directions`), look again where
a direction fails or leans on its curvature bound, and localise a failing one.

A noisy f (its summation order changing between calls) is looked for only when a direction fails or
passes by more than rounding: f(x) evaluated noise_repeats times more, and where it scatters above its
rounding, the noise σ (`noise`) enters every value's rounding as noise_cover·σ, the step grows while
that lowers the bound, and the report states σ. The repeats' points are compared after the call.

A claim outside the one-sided slopes of a kink at x is wrong only if one kink lies along the direction:
separate kinks (entries on their own bounds) add up beyond the slopes of their sum. Such a direction is
split into blocks probed alone (`_split_kink`): an entry outside its own slopes fails it; when every
block agrees and f adds up over the blocks (their kinks do not interact) the claim passes; when every
block agrees but f does not add up, the direction is not judged and the report says why.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.bisection import bisect
from backprop_ref.gradcheck.directional_steps import buried, float32_numbers, grow, inside_domain
from backprop_ref.gradcheck.directions import (
    Claim,
    Probes,
    direction_name,
    norms,
    probe,
    replay,
    scratch,
    signs,
    unchanged,
)
from backprop_ref.gradcheck.error_model import (
    EPS,
    claim_rounding,
    dtype_name,
    f_rounding,
    model_bound,
    param,
    rms,
)
from backprop_ref.gradcheck.evaluation import Evaluator, UserTolerance, working_precision
from backprop_ref.gradcheck.kinks import KinkEvidence, above_noise, steady
from backprop_ref.gradcheck.result import Directional, Judged, Kink, model_reason
from backprop_ref.gradcheck.verdict import Verdict, judge

__all__ = ["noise", "noise_reason", "judge_directional"]

Array = NDArray[np.float64]


def noise(f0: Array, repeats: Array, second: Array, e_model: Array) -> Array:
    """f's noise at x per output (its standard deviation), or 0 where none stands above its rounding.

    `repeats` holds f(x) evaluated again: a deterministic f gives f(x) each time, a noisy one
    (summation order that changes from call to call: threads, GPU atomics) scatters by σ. Where that
    scatter stands above `e_model` (the rounding f's values are granted), the spread of the random
    directions' second differences f(x + t·d) + f(x − t·d) − 2f(x) (2σ² each, plus the spread of their
    curvature: counted as noise, it widens the bound, never narrows it) joins the repeats as further
    samples: a few repeats alone would often underestimate σ.
    """
    vals = np.vstack([f0[None, :], repeats])
    dof = vals.shape[0] - 1
    var = np.var(vals, axis=0, ddof=1)
    found = np.sqrt(var) > e_model
    if not found.any():
        return np.zeros_like(f0)
    if second.shape[0] > 1:
        spread = np.var(second, axis=0, ddof=1) / 2.0
        var = (var * dof + spread * (second.shape[0] - 1)) / (dof + second.shape[0] - 1)
    return np.where(found, np.sqrt(var), 0.0)


def _noisy(ev: Evaluator, x: Array, f0: Array, dr: Probes, k: int) -> None:
    """Measure f's noise (`noise`) with noise_repeats more evaluations of f(x) and widen the probes'
    rounding by noise_cover·σ/t where it stands above f's rounding (central differences)."""
    point = scratch(x.size, 4)[0]
    repeats = np.empty((int(param("noise_repeats")), f0.size))
    for r in range(repeats.shape[0]):
        np.copyto(point, x)
        repeats[r] = ev.real(point)
        unchanged(point, x)
    t = dr.steps[:, None]
    e_model = np.max(dr.rnd * t, axis=0)
    dr.noise = noise(f0, repeats, ((dr.right - dr.left) * t)[:k], e_model)
    if dr.noise.any():
        dr.rnd = dr.rnd + param("noise_cover") * dr.noise / t
        dr.tol = model_bound(dr.trunc, dr.rnd, dr.ana_rnd)


def noise_reason(f_noise: Array, f0: Array) -> str:
    """The report's clause on f's noise (empty when none was found)."""
    if not f_noise.any():
        return ""
    i = int(np.argmax(f_noise))
    rel = f" ({f_noise[i] / abs(f0[i]):.2g} of |f|)" if f0[i] else ""
    return (f"; f is noisy: its values scatter by {f_noise[i]:.3g}{rel} between repeated evaluations at x, "
            f"counted as {param('noise_cover'):g}× that in the rounding of each value")


def _conditioned(ev: Evaluator, x: Array, cl: Claim, dr: Probes, failing: NDArray[np.bool_], seed: int,
                 k: int) -> None:
    """Add the conditioning term to the claimed rounding of the complex step's failing directions.

    An ill-conditioned f rounds its intermediates of x's scale (x/a, x + 1) into the claim and the
    estimate alike, amplified by the derivative's slope: along d, by dᵀH·δx for a rounding δx of
    eps/2·max(|x_i|, 1) per entry, of random sign. Its scale is read from the complex step along d at
    x + δ·(z∘max(|x|, 1)), z standard normal (δ = conditioning_step), for conditioning_draws draws of z:
    dᵀH·(z∘s) is then normal with the variance Σ_j ((Hd)_j·s_j)² whatever H, and the largest of the
    readings' differences with the estimate at x, over δ, estimates its scale; conditioning·eps times
    that joins the claimed rounding (one evaluation per draw and failing direction; none where all
    pass)."""
    n = x.size
    spread = np.maximum(np.abs(x), 1.0)
    delta = param("conditioning_step")
    draws = int(param("conditioning_draws"))
    for j in np.flatnonzero(failing.any(axis=1)):
        d = signs(replay(seed, int(j), n)) if j < k else cl.G[0] / float(cl.gnorm[0])
        t = float(dr.steps[j])
        rng = np.random.default_rng([seed, int(j), 1])   # a stream of its own: the directions stay put
        slope = np.zeros(dr.numerical.shape[1])
        for _ in range(draws):
            shifted = x + rng.standard_normal(n) * spread * delta
            diff = np.abs(ev.complex(shifted + (1j * t) * d).imag / t - dr.numerical[j]) / delta
            slope = np.maximum(slope, np.where(np.isfinite(diff), diff, 0.0))
        dr.ana_rnd[j] += np.where(failing[j], param("conditioning") * EPS * slope, 0.0)
    dr.tol = model_bound(dr.trunc, dr.rnd, dr.ana_rnd)


def _not_analytic(ev: Evaluator, x: Array, f0: Array, cl: Claim, dr: Probes, v: Verdict,
                  judged: NDArray[np.bool_], scale: float, k: int, seed: int, user: UserTolerance | None,
                  jacobian: bool) -> tuple[NDArray[np.bool_], list[str]]:
    """The complex step's failing (direction, output) pairs where central differences along the same
    directions (2 evaluations each) agree with the claim while the complex estimate lies beyond both
    bounds: f is not complex-analytic there (np.var, np.abs of a complex x), and they are not judged,
    as in full mode (complex_step.not_analytic); once that is seen along one direction, neither are
    the other failing directions where central differences agree with the claim. A claim both fail
    stands as a failure."""
    real = probe(ev, x, f0, cl, "central", scale, k, seed, dr.noise)
    real_tol = real.tol if user is None else user.bound(real.numerical)
    agrees = np.abs(dr.analytic - real.numerical) <= real_tol
    apart = np.abs(dr.numerical - real.numerical) > real_tol + v.tolerance
    finite = ~np.isin(np.arange(dr.steps.size), list(real.problems))
    hit = ~v.ok & agrees & apart & (judged & finite)[:, None]
    if hit.any():   # shown along one direction, f's complex step is suspect along the others it fails
        hit |= ~v.ok & agrees & (judged & finite)[:, None]
    why = [f"{direction_name(int(j), int(c), jacobian)}: f is not complex-analytic here "
           f"(the complex step gives {float(dr.numerical[j, c]):.6g}, central differences "
           f"{float(real.numerical[j, c]):.6g}); use method='central'" for j, c in zip(*np.nonzero(hit))]
    return hit, why


def _evidence(p: int, m: int) -> KinkEvidence:
    nan = np.full((p, m), np.nan)
    return KinkEvidence(np.zeros((p, m), bool), np.zeros((p, m), bool), nan, nan.copy(), np.zeros((p, m)),
                        np.zeros((p, m)))


def _jumps(coarse: Probes, fine: Probes, found: KinkEvidence, rows: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Record in `found` the entries of `rows` whose one-sided gap is a jump at x; return them.

    Along a smooth φ(t) = f(x + t·d) the gap right − left = t·φ″ shrinks with the step 16×; at a kink at
    x it keeps its size and both one-sided slopes stay put. Such an entry is judged by the kink rule
    alone: the claim must lie between the slopes, give or take their own error, measured as their drift
    between the two steps plus their rounding 2e_f/t (the curvature bound of the smooth rule would
    count the jump itself as truncation and let a claim 2/3 of the jump outside the slopes pass).
    """
    gap = fine.right - fine.left
    new = (rows[:, None] & ~found.at & above_noise(gap, fine.rnd)
           & steady(fine.left, fine.right, coarse.left, coarse.right, gap))
    drift = np.maximum(np.abs(fine.left - coarse.left), np.abs(fine.right - coarse.right))
    found.at[new] = True
    found.left[new], found.right[new] = fine.left[new], fine.right[new]
    found.tol[new] = model_bound(drift, 2.0 * fine.rnd, fine.ana_rnd)[new]
    found.step[new] = np.broadcast_to(fine.steps[:, None], new.shape)[new]
    return new


def _value_jumps(coarse: Probes, fine: Probes, rows: NDArray[np.bool_]) -> Array:
    """f's jump along each (direction, output) of `rows`, 0 where it has none: a one-sided difference
    f(x ± t·d) − f(x) above f's rounding that keeps its size (within jump_keep of itself) from the
    coarse step to the 16× finer one, and whose slope exceeds jump_steep times the other side's. On a
    smooth f, and at a kink, the differences shrink with the step; a step in f (ReLU″ at 0 as the
    Jacobian of ReLU′) keeps them, and the central difference ±J/(2t) would pass any claim under the
    curvature bound. Such a direction has no derivative."""
    t_f, t_c = fine.steps[:, None], coarse.steps[:, None]
    size = np.zeros(fine.numerical.shape)
    for d_f, d_c, other in ((fine.right * t_f, coarse.right * t_c, fine.left),
                            (fine.left * t_f, coarse.left * t_c, fine.right)):
        kept = np.abs(d_f - d_c) <= param("jump_keep") * np.abs(d_f)
        above = np.abs(d_f) > param("safety") * param("gap_noise") * fine.rnd * t_f
        steep = np.abs(d_f) / t_f > param("jump_steep") * np.abs(other)
        size = np.maximum(size, np.where(kept & above & steep & np.isfinite(d_f), np.abs(d_f), 0.0))
    return np.where(rows[:, None], size, 0.0)


def _split_kink(ev: Evaluator, x: Array, f0: Array, cl: Claim, d: Array, out: int, t: float,
                user: UserTolerance | None, f_noise: Array, sides: tuple[float, float],
                eps_f: float = EPS) -> str:
    """A direction whose claim lies outside its one-sided slopes at a kink at x: is it wrong, or do
    several kinks lie along it? "wrong", "separate", "several" or "cap".

    Separate kinks along one direction (entries on their own bounds, each free to take any subgradient)
    add up beyond the slopes of their sum: a valid claim can lie outside them. The direction is split
    into halves, each probed alone (d restricted to it) at the step that saw the kink; a block whose
    claim lies within its own one-sided slopes (give or take their rounding 2e_f/t and the claim's) is
    consistent, one outside them is split again. A single entry outside its slopes is wrong, as full
    mode would find it; kink_split_blocks probes at most ("cap"). When every block is consistent and f
    adds up over them, the direction's moves f(x ± t·d) − f(x) (`sides`: its left and right slopes)
    being the sums of the blocks' own (within safety × the rounding of the 2 + blocks values each sum
    combines), the blocks' kinks do not interact: the claim is a subgradient of each separate piece
    ("separate", a pass). Where they do not add up, nothing along the direction decides ("several").
    """
    n = x.size
    e_f = float(f_rounding(abs(float(f0[out])), 0.0, eps_f) + cl.rep_err[out] * (eps_f / EPS)
                + param("noise_cover") * f_noise[out])
    stack = [(n // 2, n), (0, n // 2)] if n > 1 else []
    probes = 0
    point = np.empty(n)
    moved = [0.0, 0.0]   # Σ over the consistent blocks of f(x + t·d_b) − f(x) and of f(x) − f(x − t·d_b)
    blocks = 0
    while stack:
        lo, hi = stack.pop()
        if probes >= param("kink_split_blocks"):
            return "cap"
        probes += 1
        vb = d[lo:hi] * t
        point[:] = x
        point[lo:hi] += vb
        fp = float(ev.real(point)[out])
        unchanged(point[lo:hi], x[lo:hi] + vb)
        point[lo:hi] = x[lo:hi] - vb
        fm = float(ev.real(point)[out])
        right, left = (fp - float(f0[out])) / t, (float(f0[out]) - fm) / t
        gb = cl.G[out, lo:hi]
        claim = float(gb @ d[lo:hi])
        dmax = float(np.max(np.abs(d[lo:hi])))
        if user is not None:
            tol = float(user.bound(max(abs(left), abs(right))))
        else:
            tol = float(model_bound(0.0, 2.0 * e_f / t, claim_rounding(
                cl.eps_g, float(np.abs(gb) @ np.abs(d[lo:hi])) + float(cl.gmax[out]) * (hi - lo) * dmax,
                float(cl.floor[out]) * (hi - lo) * dmax)))
        if not (np.isfinite(fp) and np.isfinite(fm)):
            return "cap"
        if min(left, right) - tol <= claim <= max(left, right) + tol:
            moved[0] += fp - float(f0[out])
            moved[1] += float(f0[out]) - fm
            blocks += 1
            continue
        if hi - lo == 1:
            return "wrong"
        mid = (lo + hi) // 2
        stack += [(mid, hi), (lo, mid)]
    slack = param("safety") * (blocks + 2) * e_f
    adds_up = abs(moved[0] - sides[1] * t) <= slack and abs(moved[1] - sides[0] * t) <= slack
    return "separate" if adds_up else "several"


def judge_directional(ev: Evaluator, x: Array, f0: Array, G: Array, eps_g: float, method: str,
                      user: UserTolerance | None, problems: list[str], out_shape: tuple[int, ...],
                      x_shape: tuple[int, ...], k: int, seed: int, jacobian: bool) -> Judged:
    """Probe k random directions (and the claim's own), refine where needed, judge, and localise."""
    m, n = G.shape
    # The claimed gradient's own direction, the most sensitive to a scale error, follows the random
    # ones. Not for a subnormal ‖g‖ (σ′(745) = 5e-324: below every bound, and the step t/‖g‖ would
    # overflow), nor an infinite one (g ≈ 1.7e308 in every entry: no unit direction; the random ones
    # report it; a finite ‖g‖ also means every entry of g is finite).
    gnorm = norms(G)
    own = not jacobian and n > 1 and bool(np.finfo(np.float64).tiny <= gnorm[0] < np.inf)
    p = (k if n else 0) + own
    shape = (p,) + out_shape
    if n == 0 or not np.isfinite(f0).all():
        zero = np.zeros((p, m))
        v = judge(zero, np.full((p, m), np.nan), zero, _evidence(p, m), user)
        why = "x has no entries: there is nothing to check" if n == 0 else "f(x) is not finite"
        return Judged("directional", zero, v, shape, [], problems, why, None, None)
    x_rms = rms(x)
    scale = max(1.0, x_rms)   # rms_scale(x), from the rms that ‖x‖ is also read from
    cl = Claim.of(G, eps_g, gnorm, x_rms * math.sqrt(n), f0, own)
    # f's working precision: its dtype's; or, where a direction fails on values that are all float32
    # numbers, float32's (float16's) as the values at float32's steps show: probed again in its eps
    eps_f = ev.out_eps if method != "complex" else EPS
    dr = probe(ev, x, f0, cl, method, scale, k, seed, eps_f=eps_f)
    if eps_f == EPS and method != "complex" and float32_numbers(f0, dr) and not judge(
            dr.analytic, dr.numerical, dr.tol, _evidence(p, m), user).ok.all():
        # a direction fails where f returned only float32 numbers (f computed in float32 and returned as
        # a float): float64's steps may lie below what f resolves. float32's steps, which are no power of
        # two (a float64 f's values there are no float32 numbers), tell by the values f returns there
        f32 = float(np.finfo(np.float32).eps)
        trial = probe(ev, x, f0, cl, method, scale, k, seed, eps_f=f32)
        seen = working_precision(EPS, np.concatenate([f0, trial.values.ravel()]))
        if seen != EPS:
            eps_f = seen
            dr = trial if seen == f32 else probe(ev, x, f0, cl, method, scale, k, seed, eps_f=seen)
    notes: list[str] = []
    if dr.problems:
        # later probes (refinement, growth) start from the deepest step the domain needed
        notes, shrunk = inside_domain(ev, x, f0, cl, dr, method, scale, k, seed, eps_f)
        scale /= param("refine_factor") ** shrunk
    first_steps = dr.steps.copy()
    found = _evidence(p, m)
    v = judge(dr.analytic, dr.numerical, dr.tol, found, user)
    judged = ~np.isin(np.arange(p), list(dr.problems))
    if method == "complex" and user is None and ((~v.ok).any(axis=1) & judged).any():
        _conditioned(ev, x, cl, dr, (~v.ok) & judged[:, None], seed, k)
        v = judge(dr.analytic, dr.numerical, dr.tol, found, user)
    mangled, mangled_why = np.zeros((p, m), bool), list[str]()
    if method == "complex" and ((~v.ok).any(axis=1) & judged).any():
        mangled, mangled_why = _not_analytic(ev, x, f0, cl, dr, v, judged, scale, k, seed, user, jacobian)
    if method == "central" and ((~v.ok | (np.abs(dr.analytic - dr.numerical) > param("safety") * dr.rnd
                                          + dr.ana_rnd)).any(axis=1) & judged).any():
        # a direction fails, or passes by more than rounding: is f noisy? (a passing deterministic check
        # pays nothing for asking)
        _noisy(ev, x, f0, dr, k)
        # A noisy f's rounding σ/t swamps the step balanced for eps: grow the step 16× at a time where
        # that lowers the bound and the estimate stays within both bounds (no kink entered the stencil)
        for level in range(1, int(param("noise_grow_levels")) + 1 if dr.noise.any() else 0):
            big = probe(ev, x, f0, cl, method, scale * param("refine_factor") ** level, k, seed, dr.noise,
                        eps_f)
            better = ((big.tol < dr.tol) & (np.abs(big.numerical - dr.numerical) <= big.tol + dr.tol)).all(
                axis=1) & judged & ~np.isin(np.arange(p), list(big.problems))
            if not better.any():
                break
            dr.take(big, better)
        v = judge(dr.analytic, dr.numerical, dr.tol, found, user)
    if method != "complex" and grow(ev, x, f0, cl, dr, method, scale, k, seed, eps_f, judged):
        v = judge(dr.analytic, dr.numerical, dr.tol, found, user)
    leaps = np.zeros((p, m))   # f's jump along a direction (no derivative there), 0 where none
    if method != "complex":
        # A failing direction is probed again at a 16× smaller step, and so, once, is a passing one
        # whose error exceeds what rounding explains (its pass rests on the curvature bound, which at a
        # kink at x is the jump itself). A kink at x keeps its one-sided gap and is judged by the kink
        # rule (`_jumps`). A kink inside the stencil but not at x (a ReLU pre-activation within t of 0)
        # bends the difference without that signature: the finer step moves it out, and a smooth f
        # reproduces its estimate within both bounds while a wrong claim fails again. (Richardson keeps
        # no one-sided slopes: it has only the second rule.)
        coarse = dr
        leans = (method == "central") & v.ok & (
            np.abs(dr.analytic - dr.numerical) > param("safety") * dr.rnd + dr.ana_rnd)
        for level in range(1, int(param("refine_levels")) + 1):
            failing = (((~v.ok & ~v.kink) | (leans & (level == 1))).any(axis=1)
                       & ~np.isin(np.arange(p), list(dr.problems)))
            if not failing.any():
                break
            fine = probe(ev, x, f0, cl, method, scale / param("refine_factor") ** level, k, seed, dr.noise,
                         eps_f)
            fine_tol = judge(fine.analytic, fine.numerical, fine.tol, _evidence(p, m), user).tolerance
            usable = failing & ~np.isin(np.arange(p), list(fine.problems))
            jumped = _jumps(coarse, fine, found, usable & (method == "central"))
            if method == "central":
                leaps = np.maximum(leaps, _value_jumps(coarse, fine, usable))
            moved = (np.abs(fine.numerical - dr.numerical) > fine_tol + v.tolerance) & ~found.at
            take = usable & moved.any(axis=1)
            if not (take.any() or jumped.any()):
                break
            dr.take(fine, take)
            v = judge(dr.analytic, dr.numerical, dr.tol, found, user)
            coarse = fine
    v = judge(dr.analytic, dr.numerical, dr.tol, found, user)
    # A direction f's rounding buries even at the widest step is not judged (where it would pass)
    undecided, inconclusive = buried(dr, v, judged, eps_f, method, jacobian)
    undecided, inconclusive = undecided | mangled, inconclusive + mangled_why
    if leaps.any():
        undecided |= leaps > 0
        inconclusive += [f"{direction_name(int(j), int(c), jacobian)}: f jumps along it "
                         f"at x by {float(leaps[j, c]):.3g} (its one-sided differences keep their size as "
                         f"the step shrinks {param('refine_factor'):g}×): no derivative"
                         for j, c in zip(*np.nonzero(leaps > 0))]
    # A claim outside the one-sided slopes at a kink: wrong, or several kinks along the direction
    separate = np.zeros((p, m), bool)   # passed: the kinks along it are separate pieces of f
    for j, c in zip(*np.nonzero(v.kink & ~v.kink_ok)):
        d = signs(replay(seed, int(j), n)) if j < k else G[0] / float(gnorm[0])
        why = _split_kink(ev, x, f0, cl, d, int(c), float(found.step[j, c]), user, dr.noise,
                          (float(found.left[j, c]), float(found.right[j, c])), eps_f)
        if why == "wrong":
            break   # the check fails: the other directions' figures stand as they are
        if why == "separate":
            separate[j, c] = True
            continue
        undecided[j, c] = True
        lo, hi = sorted((float(found.left[j, c]), float(found.right[j, c])))
        claim = float(dr.analytic[j, c])
        head = (f"{direction_name(int(j), int(c), jacobian)}: several kinks along it: the claim {claim:.6g} "
                f"lies outside its one-sided slopes [{lo:.6g}, {hi:.6g}]")
        told = (" but within those of every block of entries probed alone" if why == "several" else
                f"; splitting it stopped at {int(param('kink_split_blocks'))} blocks")
        inconclusive.append(head + told + "; separate kinks (any subgradient of each) add up beyond the "
                            "slopes of their sum, so a finite difference along it cannot tell that from a "
                            "wrong claim: check those entries in full mode")
    if undecided.any() or separate.any():
        v = judge(dr.analytic, dr.numerical, dr.tol, found, user, undecided=undecided, limiting=separate)
    # f finite on the stencil, yet a derivative beyond float64 (⟨g, d⟩ or Im f/t above 1.8e308); a claim
    # with a non-finite entry is reported as such, once, not again along every direction
    overflowed = ~np.isfinite(dr.analytic).all(axis=1)
    for row in np.flatnonzero(overflowed & (not overflowed.any() or bool(np.isfinite(G).all()))):
        dr.problems.setdefault(int(row), "the claimed ⟨g, d⟩ is not finite (it overflows float64)")
    for row in np.flatnonzero(~np.isfinite(dr.numerical).all(axis=1)):
        dr.problems.setdefault(int(row), "the numerical directional derivative overflows float64")
    problems = problems + [f"direction {j}: {why}" for j, why in sorted(dr.problems.items())]
    kinks = [Kink((int(j), int(c)) if jacobian else (int(j),), float(found.left[j, c]),
                  float(found.right[j, c]), float(dr.analytic[j, c]), bool(v.kink_ok[j, c]),
                  float(found.step[j, c])) for j, c in zip(*np.nonzero(v.kink))]
    # At a kink any claim between the one-sided slopes passes: the interval's width is slack too.
    width = np.abs(found.right - found.left)
    slack = np.where(v.kink, v.tolerance + width, v.tolerance)[:k]
    note = f"directions: {k} random Rademacher (±1/√n){' + the claimed gradient’s own' if own else ''}"
    localised: list[tuple[int, ...]] = []
    if v.n_failed and not problems:
        j, c = (int(i[0]) for i in np.nonzero(~v.ok & ~v.undecided))
        d = signs(replay(seed, j, n)) if j < k else G[0] / float(gnorm[0])
        localised, why = bisect(ev, x, f0, G, eps_g, d, c, user, x_shape, np.random.default_rng([seed, j]),
                                eps_f)
        note += f"; {why}" if why else ""
    detectable = 2.0 * math.sqrt(n) * float(np.max(np.where(np.isfinite(slack), slack, 0.0)))
    extras = Directional(k, 2.0 ** -k, detectable, localised, note)
    s = param("safety")
    eps_c = max(ev.out_eps, ev.complex_eps) if method == "complex" else eps_f
    what = "its rounding" if method == "complex" else "steps and f's rounding"
    precision = f"; f works in {dtype_name(eps_c)}: {what} in its eps" if eps_c != EPS else ""
    return Judged("directional", dr.analytic, v, shape, kinks, problems,
                  model_reason(dr.trunc, dr.rnd, dr.ana_rnd, method, eps_g, directional=True)
                  + noise_reason(dr.noise, f0) + precision, dr.steps,
                  (s * dr.trunc, s * dr.rnd, dr.ana_rnd), extras, inconclusive,
                  refined=np.repeat((dr.steps < first_steps)[:, None], m, axis=1), notes=notes)
