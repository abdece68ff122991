"""Directions: the random Rademacher directions and the claimed gradient's own, and the probes along them.

Direction j < k has signs replayed from the seed (`replay(seed, j, n)`), ±1/√n in every entry; the
claimed gradient's own direction g/‖g‖ follows them (the most sensitive to a scale error). Central
differences bound the truncation along a direction by its curvature t·|φ″|/6, seen in the second
difference with f(x); a direction at an inflection point borrows the median curvature of the others.
The hot path makes no n-vector per direction, and keeps its work vectors between checks of one size
(fresh memory costs page faults): from a direction's bits b, v = 2c·b gives ⟨g, s⟩ = 2⟨g, v⟩/(2c) − Σg
(halved to avoid overflow), and x ± c·s = (x ∓ c) ± v; four passes over n-vectors per direction.
f must leave the points it is given alone: the first probe's point is compared after the call
(`unchanged`). The verdict along these directions is `directional`'s.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.error_model import (
    EPS,
    MULTIPLES,
    claim_rounding,
    complex_rounding,
    f_rounding,
    g_max,
    model_bound,
    param,
    step,
    underflow,
)
from backprop_ref.gradcheck.evaluation import MUTATED, Evaluator
from backprop_ref.gradcheck.stencils import level_stats

__all__ = ["SCRATCH_MAX", "scratch", "replay", "replay_next", "signs", "norms", "Claim", "Probes", "probe",
           "unchanged", "direction_name"]

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
    floor: Array       # (m,) max(|f|, max_s|g_si| over every entry): the claim's floor (claim_floor)
    dfloor: Array      # (m,) its sum along any unit direction: Σ|d_i|·max(|f|, c_i) ≤ |f|·√n + ‖c‖,
                       # c_i = max_s|g_si| the largest derivative of any output by entry i
    rep_err: Array     # (m,) rounding of x ± t·d seen through f: ≤ eps·‖g‖(‖x‖ + 1)
    own: bool          # the claimed gradient's own direction follows the random ones

    @classmethod
    def of(cls, G: Array, eps_g: float, gnorm: Array, xnorm: float, f0: Array, own: bool) -> Claim:
        gmax = g_max(G)
        n = G.shape[1]
        top = np.max(np.where(np.isfinite(gmax), gmax, 0.0), initial=0.0)
        # ‖c‖: for a gradient c = |g| and ‖c‖ = ‖g‖, with no temporary; a Jacobian's columns once
        cnorm = float(gnorm[0]) if G.shape[0] == 1 else float(norms(g_max(np.abs(G).T)[None, :])[0])
        floor = np.maximum(np.abs(f0), top)
        dfloor = np.abs(f0) * math.sqrt(n) + (cnorm if np.isfinite(cnorm) else top * math.sqrt(n))
        return cls(G, eps_g, gnorm, G.sum(axis=1), gmax, floor, dfloor, EPS * gnorm * (xnorm + 1.0), own)


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
    values: Array      # the real f values of the stencils, (·, m): what f's working precision is read from
    eps_f: float       # the precision f was taken to work in: its steps and rounding

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


def direction_name(j: int, out: int, jacobian: bool) -> str:
    """Direction j as the reasons name it, with its output for a Jacobian: "direction 3 (output 1)"."""
    return f"direction {j}" + (f" (output {out})" if jacobian else "")


def unchanged(passed: Array, expected: Array) -> None:
    """f received `passed`, which should still hold `expected`: else f wrote into its input."""
    if not np.array_equal(passed, expected):
        raise ValueError(MUTATED)


def _real(ev: Evaluator, point: Array, m: int, j: int, sign: str, t: float,
          raised: dict[int, str]) -> Array:
    """f at a stencil point of direction j; NaN where f raises there (f accepted x itself: its domain
    ends within the step, as math.log of a negative number), the error kept for the report."""
    try:
        return ev.real(point)
    except (ArithmeticError, ValueError) as exc:
        if str(exc) == MUTATED:
            raise
        raised.setdefault(j, f"f raised {type(exc).__name__} at x {sign} {t:.3g}·d_{j}: {exc}")
        return np.full(m, np.nan)


def probe(ev: Evaluator, x: Array, f0: Array, cl: Claim, method: str, scale: float, k: int,
          seed: int, f_noise: Array | None = None, eps_f: float = EPS) -> Probes:
    """Probe the k random directions of `seed` (and the own one) with steps at `scale`; `f_noise` is
    f's noise found at x (None: the first probe, which checks that f leaves its input alone; Richardson's
    reads the noise off its directions' fourth differences, the largest counting for all); `eps_f` the
    precision f works in (float32's: steps and rounding in its eps, x ± t·d rounded to it by f)."""
    G = cl.G
    n, m = x.size, f0.size
    p = k + cl.own
    ana, num, trunc, rnd = np.empty((p, m)), np.empty((p, m)), np.zeros((p, m)), np.empty((p, m))
    left, right = np.full((p, m), np.nan), np.full((p, m), np.nan)
    steps = np.empty(p)
    problems: dict[int, str] = {}
    raised: dict[int, str] = {}   # per direction, the first error f raised on its stencil
    rng = np.random.default_rng(seed)
    c_unit = 1.0 / math.sqrt(n)
    c = step("directional", eps_f) * scale   # central: the per-entry perturbation of a random direction
    rep_err = cl.rep_err * (eps_f / EPS)     # f rounds x ± t·d to its own precision
    # Σ|g_i d_i| ≤ ‖g‖ (Cauchy–Schwarz with ‖d‖ = 1; = ‖g‖ along g itself) and Σ|d_i| ≤ √n, for every
    # direction: the claimed values' rounding along any of them, with no |g| temporary
    arnd = np.repeat(claim_rounding(cl.eps_g, cl.gnorm + cl.gmax * math.sqrt(n), cl.dfloor)[None, :], p,
                     axis=0)
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
                steps[j] = step("directional", eps_f) * scale / own_dmax
                np.multiply(np.divide(G[0], cl.gnorm[0], out=v), steps[j], out=v)
                lo = hi = x
            fp[j] = _real(ev, np.add(lo, v, out=point), m, j, "+", steps[j], raised)
            if first and j == 0:
                unchanged(point, lo + v)   # (once per check: the only n-vector temporary)
            fm[j] = _real(ev, np.subtract(hi, v, out=point), m, j, "−", steps[j], raised)
        t = steps[:, None]
        num = (fp - fm) / (2.0 * t)
        right, left = (fp - f0) / t, (f0 - fm) / t
        fmax = np.maximum(np.abs(f0), np.maximum(np.abs(fp), np.abs(fm)))
        f_noise = np.zeros(m) if f_noise is None else f_noise
        rnd = (f_rounding(fmax, 0.0, eps_f) + rep_err + param("noise_cover") * f_noise) / t
        # the curvature bound t·|φ″|/6, φ″ from the second difference; a direction at an inflection
        # point borrows the median curvature of the others
        curv = np.abs(right - left) / t
        fin = np.where(np.isfinite(curv), curv, 0.0)
        trunc = t * np.maximum(fin, np.median(fin, axis=0)) / 6.0
        for row in np.flatnonzero(~(np.isfinite(fp) & np.isfinite(fm)).all(axis=1)):
            bad = fp[row] if not np.isfinite(fp[row]).all() else fm[row]
            problems[int(row)] = raised.get(int(row)) or (f"f(x ± {steps[row]:.3g}·d_{row}) = "
                                                           f"{bad[~np.isfinite(bad)][0]}")
        return Probes(ana, num, model_bound(trunc, rnd, arnd), trunc, rnd, arnd, left, right, steps, problems,
                      f_noise, np.concatenate([fp, fm]), eps_f)
    e_f, coefs = np.empty((p, m)), np.empty((p, m))
    sigmas = np.zeros((p, m))
    seen = []
    eps_c = max(ev.out_eps, ev.complex_eps)   # f's precision along the complex step (complex64)
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
        tj = step(method, eps_f) * scale / dmax
        steps[j] = tj
        if method == "complex":
            xc = x + (1j * tj) * d
            y = ev.complex(xc)
            if first and j == 0:
                unchanged(xc, x + (1j * tj) * d)
            num[j] = y.imag / tj
            rnd[j] = (complex_rounding(np.abs(num[j]) + np.abs(ana[j]) + cl.floor, eps_c)
                      + underflow(tj))
            if not np.isfinite(y).all():
                problems[j] = f"f(x + {tj:.3g}i·d_{j}) = {y[~np.isfinite(y)][0]}"
            continue
        fps, fms = np.empty((3, 1, m)), np.empty((3, 1, m))
        for s, mult in enumerate(MULTIPLES["richardson"]):
            xp = x + (mult * tj) * d
            fps[s, 0] = _real(ev, xp, m, j, "+", mult * tj, raised)
            if first and j == 0 and s == 0:
                unchanged(xp, x + (mult * tj) * d)
            fms[s, 0] = _real(ev, x - (mult * tj) * d, m, j, "−", mult * tj, raised)
        hs = np.array([[tj], [2 * tj], [4 * tj]])
        lv = level_stats(f0, fps, fms, hs, hs, np.array([tj]), method)
        num[j], trunc[j] = lv.est[0], lv.trunc[0]
        e_f[j], coefs[j] = f_rounding(lv.fmax[0], 0.0, eps_f), lv.coef[0]
        seen.append(lv.values.reshape(-1, m))
        sigmas[j] = np.where(lv.finite[0], lv.sigma[0], 0.0)
        if not lv.finite[0].all():
            problems[j] = raised.get(j) or f"f(x ± {tj:.3g}·d_{j}) (or at 2t, 4t) is not finite"
    if method == "richardson":
        # every direction's fourth difference samples f's noise: the largest of them counts for all
        if f_noise is None:
            f_noise = np.where(np.max(sigmas, axis=0) > np.max(e_f, axis=0), np.max(sigmas, axis=0), 0.0)
        rnd = (np.maximum(np.maximum(e_f, sigmas), f_noise) + rep_err) * coefs
    return Probes(ana, num, model_bound(trunc, rnd, arnd), trunc, rnd, arnd, left, right, steps, problems,
                  np.zeros(m) if f_noise is None else f_noise,
                  np.concatenate(seen) if seen else np.zeros((0, m)), eps_f)
