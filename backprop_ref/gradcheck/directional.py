"""Directional mode: k random Rademacher directions plus the claimed gradient's own, 2 evaluations each.

Direction j < k has signs replayed from the seed (`replay(seed, j, n)`), ±1/√n in every entry; the
claimed gradient's own direction g/‖g‖ follows them (the most sensitive to a scale error). Central
differences bound the truncation along a direction by its curvature t·|φ″|/6, seen in the second
difference with f(x); a direction at an inflection point borrows the median curvature of the others.
The hot path makes no n-vector per direction, and keeps its work vectors between checks of one size
(fresh memory costs page faults): from a direction's bits b, v = 2c·b gives ⟨g, s⟩ = 2⟨g, v⟩/(2c) − Σg
(halved to avoid overflow), and x ± c·s = (x ∓ c) ± v; four passes over n-vectors per direction.

A noisy f (its summation order changing between calls) is looked for only when a direction fails or
passes by more than rounding: f(x) evaluated noise_repeats times more, and where it scatters above its
rounding, the noise σ (`noise`) enters every value's rounding as noise_cover·σ, the step grows while
that lowers the bound, and the report states σ. f must leave the points it is given alone: the first
probe's point, and the repeats', are compared after the call.

A claim outside the one-sided slopes of a kink at x is wrong only if one kink lies along the direction:
separate kinks (entries on their own bounds) add up beyond the slopes of their sum. Such a direction is
split into blocks probed alone (`_split_kink`): an entry outside its own slopes fails it; when every
block agrees, the direction is not judged and the report says why.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.bisection import bisect
from backprop_ref.gradcheck.error_model import (
    EPS,
    MULTIPLES,
    claim_rounding,
    complex_rounding,
    f_rounding,
    g_max,
    model_bound,
    param,
    rms,
    step,
)
from backprop_ref.gradcheck.evaluation import MUTATED, Evaluator, UserTolerance
from backprop_ref.gradcheck.kinks import KinkEvidence, above_noise, steady
from backprop_ref.gradcheck.result import Directional, Judged, Kink, model_reason
from backprop_ref.gradcheck.stencils import level_stats
from backprop_ref.gradcheck.verdict import judge

__all__ = ["SCRATCH_MAX", "scratch", "replay", "replay_next", "signs", "norms", "Claim", "Probes", "probe",
           "noise", "judge_directional"]

Array = NDArray[np.float64]


def replay_next(rng: np.random.Generator, n: int) -> NDArray[np.uint8]:
    """The signs of the next random direction drawn from `rng`, as 0/1 bytes (1 ↦ +1/√n, 0 ↦ −1/√n):
    one random bit per entry."""
    return np.unpackbits(np.frombuffer(rng.bytes((n + 7) // 8), dtype=np.uint8), count=n)


def replay(seed: int, j: int, n: int) -> NDArray[np.uint8]:
    """The signs of random direction j of a check with `seed` (as `replay_next` gives them).

    The directions are drawn in order from one generator seeded with the check's seed: with
    `replay_next`, the one place that knows how, used by the probes, bisection and the Taylor test.
    """
    rng = np.random.default_rng(seed)
    for _ in range(j):
        rng.bytes((n + 7) // 8)
    return replay_next(rng, n)


def signs(bits: NDArray[np.uint8]) -> Array:
    """The unit direction of a direction's bits: ±1/√n in every entry."""
    c = 1.0 / math.sqrt(bits.size)
    return cast(Array, bits * (2.0 * c) - c)


def norms(G: Array) -> Array:
    """‖g‖ of each row without overflow or underflow: a finite g ≈ 1e308 has a finite norm even when
    Σg² overflows (and a tiny g a non-zero one). The plain √Σg² is tried first: no temporary copy."""
    out = np.sqrt(np.einsum("ij,ij->i", G, G))
    for i in np.flatnonzero(~np.isfinite(out) | (out == 0)):
        top = float(np.max(np.abs(G[i]), initial=0.0))
        if 0 < top < np.inf:
            out[i] = top * np.sqrt(np.sum((G[i] / top) ** 2))
    return out


@dataclass(frozen=True)
class Claim:
    """The claimed gradient's statistics that every probe reuses, computed once per check."""

    G: Array           # (m, n)
    eps_g: float
    gnorm: Array       # (m,) ‖g‖ per output
    g_sum: Array       # (m,) Σg
    gmax: Array        # (m,) max|g|
    gfloor: Array      # (m,) max|g| + max(|f|, 1)
    rep_err: Array     # (m,) rounding of x ± t·d seen through f: ≤ eps·‖g‖(‖x‖ + 1)
    own: bool          # the claimed gradient's own direction follows the random ones

    @classmethod
    def of(cls, G: Array, eps_g: float, gnorm: Array, xnorm: float, f0: Array, own: bool) -> Claim:
        gmax = g_max(G)
        gfloor = gmax + np.maximum(np.abs(f0), param("f_scale_floor"))
        return cls(G, eps_g, gnorm, G.sum(axis=1), gmax, gfloor, EPS * gnorm * (xnorm + 1.0), own)


@dataclass
class Probes:
    """Per direction (p rows) and output (m columns): the figures of one probe at one step scale."""

    analytic: Array
    numerical: Array
    tol: Array         # error-model bound
    trunc: Array
    rnd: Array
    ana_rnd: Array
    left: Array        # one-sided slopes (central only: the kink rule needs its small step; NaN
    right: Array       # for the other methods)
    steps: Array       # (p,)
    problems: dict[int, str]
    noise: Array       # (m,) f's noise found at x (0 where none stands above its rounding): see `noise`

    def take(self, other: Probes, rows: NDArray[np.bool_]) -> None:
        """Replace the figures of the directions in `rows` by `other`'s (measured at a finer step)."""
        for name in ("numerical", "tol", "trunc", "rnd", "ana_rnd", "left", "right", "steps"):
            getattr(self, name)[rows] = getattr(other, name)[rows]


_SCRATCH = threading.local()
SCRATCH_MAX = 1 << 20   # entries: the four work vectors kept between checks take at most 32 MiB


def scratch(n: int, count: int) -> list[Array]:
    """`count` work vectors of n entries, kept for the next check of the same size in this thread.

    Fresh memory is paid in page faults on first touch (400 per 1.6 MB vector, ~2 ms here, more than
    the passes over it), and a check that frees its vectors lets the allocator trim them, so that every
    check would pay again. Kept vectors cost nothing after the first check of a size; above SCRATCH_MAX
    entries they are fresh each time. f receives a view of one of them, as it does within a check.
    """
    kept: list[Array] = getattr(_SCRATCH, "vectors", [])
    if not kept or kept[0].size != n:
        kept = []
    kept += [np.empty(n) for _ in range(count - len(kept))]
    _SCRATCH.vectors = kept if n <= SCRATCH_MAX else []
    return kept[:count]


def _overflowed(ana: Array, cl: Claim, v: Array | None, d: Array | None, c: float, c_unit: float) -> None:
    """Sums over g near 1e308 can overflow where ⟨g, d⟩ does not: redo those rows of `ana` on g/2^e, with
    2^e ≤ max|g| < 2^(e+1) a power of two, so that the scaling itself is exact."""
    for r in np.flatnonzero(~np.isfinite(ana) & np.isfinite(cl.gmax) & (cl.gmax > 0)):
        top = math.ldexp(1.0, math.frexp(float(cl.gmax[r]))[1] - 1)
        gs = cl.G[r] / top
        if v is not None:
            ana[r] = top * (((gs @ v) / (2.0 * c) - 0.5 * gs.sum()) * (2.0 * c_unit))
        else:
            ana[r] = top * float(gs @ d)


def _unchanged(passed: Array, expected: Array) -> None:
    """f received `passed`, which should still hold `expected`: else f wrote into its input."""
    if not np.array_equal(passed, expected):
        raise ValueError(MUTATED)


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


def probe(ev: Evaluator, x: Array, f0: Array, cl: Claim, method: str, scale: float, k: int,
          seed: int, f_noise: Array | None = None) -> Probes:
    """Probe the k random directions of `seed` (and the own one) with steps at `scale`; `f_noise` is
    f's noise found at x (None: the first probe, which checks that f leaves its input alone; Richardson's
    reads the noise off its directions' fourth differences, the largest counting for all)."""
    G = cl.G
    n, m = x.size, f0.size
    p = k + cl.own
    ana, num, trunc, rnd = np.empty((p, m)), np.empty((p, m)), np.zeros((p, m)), np.empty((p, m))
    left, right = np.full((p, m), np.nan), np.full((p, m), np.nan)
    steps = np.empty(p)
    problems: dict[int, str] = {}
    floor = param("f_scale_floor")
    rng = np.random.default_rng(seed)
    c_unit = 1.0 / math.sqrt(n)
    c = param("directional_step") * scale   # central: the per-entry perturbation of a random direction
    # Σ|g_i d_i| ≤ ‖g‖ (Cauchy–Schwarz with ‖d‖ = 1; = ‖g‖ along g itself) and Σ|d_i| ≤ √n, for every
    # direction: the claimed values' rounding along any of them, with no |g| temporary
    arnd = np.repeat(claim_rounding(cl.eps_g, cl.gnorm + cl.gmax * math.sqrt(n),
                                    (cl.gfloor - cl.gmax) * math.sqrt(n))[None, :], p, axis=0)
    own_dmax = float(cl.gmax[0] / cl.gnorm[0]) if cl.own else 0.0
    first = f_noise is None
    if method == "central":
        # the point x ± t·d, t·d itself, and x ∓ c that the random directions' points are formed from
        point, v, x_lo, x_hi = scratch(n, 4)
        np.subtract(x, c, out=x_lo)
        np.add(x, c, out=x_hi)
        fp, fm = np.empty((p, m)), np.empty((p, m))
        for j in range(p):
            if j < k:
                # v = 2c·b: x + c·s = (x − c) + v and x − c·s = (x + c) − v; ⟨g, s⟩ = 2Σ_{b=1} g − Σ g,
                # halved inside so that g near 1e308 does not overflow
                np.multiply(replay_next(rng, n), 2.0 * c, out=v)
                ana[j] = ((G @ v) / (2.0 * c) - 0.5 * cl.g_sum) * (2.0 * c_unit)
                _overflowed(ana[j], cl, v, None, c, c_unit)
                lo, hi, steps[j] = x_lo, x_hi, c / c_unit
            else:
                # the claimed gradient's own direction d = g/‖g‖: ⟨g, d⟩ = ‖g‖
                ana[j] = cl.gnorm
                steps[j] = param("directional_step") * scale / own_dmax
                np.multiply(np.divide(G[0], cl.gnorm[0], out=v), steps[j], out=v)
                lo = hi = x
            fp[j] = ev.real(np.add(lo, v, out=point))
            if first and j == 0:
                _unchanged(point, lo + v)   # (once per check: the only n-vector temporary)
            fm[j] = ev.real(np.subtract(hi, v, out=point))
        t = steps[:, None]
        num = (fp - fm) / (2.0 * t)
        right, left = (fp - f0) / t, (f0 - fm) / t
        fmax = np.maximum(np.maximum(np.abs(f0), floor), np.maximum(np.abs(fp), np.abs(fm)))
        f_noise = np.zeros(m) if f_noise is None else f_noise
        rnd = (f_rounding(fmax, 0.0) + cl.rep_err + param("noise_cover") * f_noise) / t
        # the curvature bound t·|φ″|/6, φ″ from the second difference; a direction at an inflection
        # point borrows the median curvature of the others
        curv = np.abs(right - left) / t
        fin = np.where(np.isfinite(curv), curv, 0.0)
        trunc = t * np.maximum(fin, np.median(fin, axis=0)) / 6.0
        for row in np.flatnonzero(~(np.isfinite(fp) & np.isfinite(fm)).all(axis=1)):
            bad = fp[row] if not np.isfinite(fp[row]).all() else fm[row]
            problems[int(row)] = f"f(x ± {steps[row]:.3g}·d_{row}) = {bad[~np.isfinite(bad)][0]}"
        return Probes(ana, num, model_bound(trunc, rnd, arnd), trunc, rnd, arnd, left, right, steps, problems,
                      f_noise)
    e_f, coefs = np.empty((p, m)), np.empty((p, m))
    sigmas = np.zeros((p, m))
    for j in range(p):
        if j < k:
            d = signs(replay_next(rng, n))
            ana[j] = G @ d
            _overflowed(ana[j], cl, None, d, c, c_unit)
            dmax = c_unit
        else:
            d = G[0] / cl.gnorm[0]
            ana[j] = cl.gnorm
            dmax = own_dmax
        tj = step(method) * scale / dmax
        steps[j] = tj
        if method == "complex":
            xc = x + (1j * tj) * d
            y = ev.complex(xc)
            if first and j == 0:
                _unchanged(xc, x + (1j * tj) * d)
            num[j] = y.imag / tj
            rnd[j] = complex_rounding(np.abs(num[j]) + np.abs(ana[j]) + np.maximum(np.abs(f0), floor))
            if not np.isfinite(y).all():
                problems[j] = f"f(x + {tj:.3g}i·d_{j}) = {y[~np.isfinite(y)][0]}"
            continue
        fps, fms = np.empty((3, 1, m)), np.empty((3, 1, m))
        for s, mult in enumerate(MULTIPLES["richardson"]):
            xp = x + (mult * tj) * d
            fps[s, 0] = ev.real(xp)
            if first and j == 0 and s == 0:
                _unchanged(xp, x + (mult * tj) * d)
            fms[s, 0] = ev.real(x - (mult * tj) * d)
        hs = np.array([[tj], [2 * tj], [4 * tj]])
        lv = level_stats(f0, fps, fms, hs, hs, np.array([tj]), method)
        num[j], trunc[j] = lv.est[0], lv.trunc[0]
        e_f[j], coefs[j] = f_rounding(lv.fmax[0], floor), lv.coef[0]
        sigmas[j] = np.where(lv.finite[0], lv.sigma[0], 0.0)
        if not lv.finite[0].all():
            problems[j] = f"f(x ± {tj:.3g}·d_{j}) (or at 2t, 4t) is not finite"
    if method == "richardson":
        # every direction's fourth difference samples f's noise: the largest of them counts for all
        if f_noise is None:
            f_noise = np.where(np.max(sigmas, axis=0) > np.max(e_f, axis=0), np.max(sigmas, axis=0), 0.0)
        rnd = (np.maximum(np.maximum(e_f, sigmas), f_noise) + cl.rep_err) * coefs
    return Probes(ana, num, model_bound(trunc, rnd, arnd), trunc, rnd, arnd, left, right, steps, problems,
                  np.zeros(m) if f_noise is None else f_noise)


# ---- the directional verdict -------------------------------------------------------------------

def _noisy(ev: Evaluator, x: Array, f0: Array, dr: Probes, k: int) -> None:
    """Measure f's noise (`noise`) with noise_repeats more evaluations of f(x) and widen the probes'
    rounding by noise_cover·σ/t where it stands above f's rounding (central differences)."""
    point = scratch(x.size, 4)[0]
    repeats = np.empty((int(param("noise_repeats")), f0.size))
    for r in range(repeats.shape[0]):
        np.copyto(point, x)
        repeats[r] = ev.real(point)
        _unchanged(point, x)
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


def _split_kink(ev: Evaluator, x: Array, f0: Array, cl: Claim, d: Array, out: int, t: float,
                user: UserTolerance | None, f_noise: Array) -> str:
    """A direction whose claim lies outside its one-sided slopes at a kink at x: is it wrong, or do
    several kinks lie along it? "wrong", "several" or "cap".

    Separate kinks along one direction (entries on their own bounds, each free to take any subgradient)
    add up beyond the slopes of their sum: a valid claim can lie outside them. The direction is split
    into halves, each probed alone (d restricted to it) at the step that saw the kink; a block whose
    claim lies within its own one-sided slopes (give or take their rounding 2e_f/t and the claim's) is
    consistent, one outside them is split again. A single entry outside its slopes is wrong, as full
    mode would find it; when every block is consistent the direction cannot be decided along it
    ("several"); kink_split_blocks probes at most ("cap").
    """
    n = x.size
    e_f = float(f_rounding(max(abs(float(f0[out])), param("f_scale_floor")), 0.0) + cl.rep_err[out]
                + param("noise_cover") * f_noise[out])
    stack = [(n // 2, n), (0, n // 2)] if n > 1 else []
    probes = 0
    point = np.empty(n)
    while stack:
        lo, hi = stack.pop()
        if probes >= param("kink_split_blocks"):
            return "cap"
        probes += 1
        vb = d[lo:hi] * t
        point[:] = x
        point[lo:hi] += vb
        fp = float(ev.real(point)[out])
        _unchanged(point[lo:hi], x[lo:hi] + vb)
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
                float(cl.gfloor[out] - cl.gmax[out]) * (hi - lo) * dmax)))
        if not (np.isfinite(fp) and np.isfinite(fm)):
            return "cap"
        if min(left, right) - tol <= claim <= max(left, right) + tol:
            continue
        if hi - lo == 1:
            return "wrong"
        mid = (lo + hi) // 2
        stack += [(mid, hi), (lo, mid)]
    return "several"


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
    dr = probe(ev, x, f0, cl, method, scale, k, seed)
    first_steps = dr.steps.copy()
    found = _evidence(p, m)
    v = judge(dr.analytic, dr.numerical, dr.tol, found, user)
    judged = ~np.isin(np.arange(p), list(dr.problems))
    if method == "central" and ((~v.ok | (np.abs(dr.analytic - dr.numerical) > param("safety") * dr.rnd
                                          + dr.ana_rnd)).any(axis=1) & judged).any():
        # a direction fails, or passes by more than rounding: is f noisy? (a passing deterministic check
        # pays nothing for asking)
        _noisy(ev, x, f0, dr, k)
        # A noisy f's rounding σ/t swamps the step balanced for eps: grow the step 16× at a time where
        # that lowers the bound and the estimate stays within both bounds (no kink entered the stencil)
        for level in range(1, int(param("noise_grow_levels")) + 1 if dr.noise.any() else 0):
            big = probe(ev, x, f0, cl, method, scale * param("refine_factor") ** level, k, seed, dr.noise)
            better = ((big.tol < dr.tol) & (np.abs(big.numerical - dr.numerical) <= big.tol + dr.tol)).all(
                axis=1) & judged & ~np.isin(np.arange(p), list(big.problems))
            if not better.any():
                break
            dr.take(big, better)
        v = judge(dr.analytic, dr.numerical, dr.tol, found, user)
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
            fine = probe(ev, x, f0, cl, method, scale / param("refine_factor") ** level, k, seed, dr.noise)
            fine_tol = judge(fine.analytic, fine.numerical, fine.tol, _evidence(p, m), user).tolerance
            usable = failing & ~np.isin(np.arange(p), list(fine.problems))
            jumped = _jumps(coarse, fine, found, usable & (method == "central"))
            moved = (np.abs(fine.numerical - dr.numerical) > fine_tol + v.tolerance) & ~found.at
            take = usable & moved.any(axis=1)
            if not (take.any() or jumped.any()):
                break
            dr.take(fine, take)
            v = judge(dr.analytic, dr.numerical, dr.tol, found, user)
            coarse = fine
    v = judge(dr.analytic, dr.numerical, dr.tol, found, user)
    # A claim outside the one-sided slopes at a kink: wrong, or several kinks along the direction
    undecided = np.zeros((p, m), bool)
    inconclusive: list[str] = []
    for j, c in zip(*np.nonzero(v.kink & ~v.kink_ok)):
        d = signs(replay(seed, int(j), n)) if j < k else G[0] / float(gnorm[0])
        why = _split_kink(ev, x, f0, cl, d, int(c), float(found.step[j, c]), user, dr.noise)
        if why == "wrong":
            break   # the check fails: the other directions' figures stand as they are
        undecided[j, c] = True
        lo, hi = sorted((float(found.left[j, c]), float(found.right[j, c])))
        output = f" (output {int(c)})" if jacobian else ""
        claim = float(dr.analytic[j, c])
        head = (f"direction {int(j)}{output}: several kinks along it: the claim {claim:.6g} lies outside "
                f"its one-sided slopes [{lo:.6g}, {hi:.6g}]")
        told = (" but within those of every block of entries probed alone" if why == "several" else
                f"; splitting it stopped at {int(param('kink_split_blocks'))} blocks")
        inconclusive.append(head + told + "; separate kinks (any subgradient of each) add up beyond the "
                            "slopes of their sum, so a finite difference along it cannot tell that from a "
                            "wrong claim: check those entries in full mode")
    if undecided.any():
        v = judge(dr.analytic, dr.numerical, dr.tol, found, user, undecided=undecided)
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
        localised, why = bisect(ev, x, f0, G, eps_g, d, c, user, x_shape, np.random.default_rng([seed, j]))
        note += f"; {why}" if why else ""
    detectable = 2.0 * math.sqrt(n) * float(np.max(np.where(np.isfinite(slack), slack, 0.0)))
    extras = Directional(k, 2.0 ** -k, detectable, localised, note)
    s = param("safety")
    return Judged("directional", dr.analytic, v, shape, kinks, problems,
                  model_reason(dr.trunc, dr.rnd, dr.ana_rnd, method, eps_g, directional=True)
                  + noise_reason(dr.noise, f0), dr.steps,
                  (s * dr.trunc, s * dr.rnd, dr.ana_rnd), extras, inconclusive,
                  refined=np.repeat((dr.steps < first_steps)[:, None], m, axis=1))
