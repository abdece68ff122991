"""The gradient checker: numerical derivatives, a verdict from an error model, and a readable report.

Public names: `check_grad`, `assert_grad`, `check_jacobian`, `assert_jacobian`, `numerical_grad`,
`numerical_jacobian`, `taylor_test`, `GradCheckResult`, `Kink`, `TaylorResult`, `ERROR_MODEL`.

How a verdict is reached (every number below lives in `ERROR_MODEL`, with its reason):

- Full mode (``directions=None``) probes every entry i with steps ±h, ±2h (and ±4h for Richardson),
  h = step·max(|x_i|, 1). The central estimate D(h) errs by truncation T ≈ |D(h) − D(2h)|/3 (the two
  step sizes measure it) plus rounding R = e_f/h, where e_f is f's own rounding: C_F·eps·max(|f|, 1)
  for a well-conditioned f, or the noise seen in the fourth difference of f when that is larger. An entry
  passes when |analytic − numerical| ≤ S·(T + R) + A, A being the claimed
  gradient's own rounding in its dtype: C_A·eps_g·(|g_i| + max|g| + max(|f|, 1)).
- Kinks: the one-sided slopes F = (f(x+h) − f(x))/h and B = (f(x) − f(x−h))/h differ by h·f″ on a
  smooth function (the gap doubles with the step) and by a constant jump at a kink. An entry whose gap
  does not scale with the step is re-probed with steps 16, 256 and 4096 times smaller: a kink within
  the step moves out of it, a kink at x keeps its gap. At a kink the entry passes when the analytic
  value lies between the one-sided slopes (a subgradient); the report lists left and right.
- Directional mode (``directions=k``) compares k directional derivatives along random Rademacher unit
  directions (plus the claimed gradient's own direction) at 2 evaluations each; the truncation along a
  direction is bounded by its curvature, t·|φ″|/6, seen in the second difference with f(x). A direction
  that fails, or passes only by that bound, is probed again at a 16× smaller step: a one-sided gap that
  keeps its size is a kink at x, judged by the kink rule with the slopes' own error (the curvature bound
  would count the jump as truncation). A failing direction is localised by bisection over blocks of
  entries.
- Complex step: Im f(x + ih·e_i)/h has no subtractive cancellation; its error is that of an analytic
  derivative, C_X·eps·(|n_i| + max|n| + max(|f|, 1)).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array, choose

__all__ = [
    "ERROR_MODEL", "METHODS", "Kink", "TaylorResult", "GradCheckResult",
    "numerical_grad", "numerical_jacobian", "check_grad", "assert_grad",
    "check_jacobian", "assert_jacobian", "taylor_test",
]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]
EPS = float(np.finfo(np.float64).eps)
METHODS = ("central", "richardson", "complex")

# ---- the error model: one table, each number with its reason -----------------------------------

ERROR_MODEL: dict[str, tuple[float, str]] = {
    "central_step": (EPS ** (1 / 3), "h = eps^(1/3)·max(|x|, 1) balances the h² truncation of a central "
                     "difference against its eps·|f|/h rounding for f with unit-scale derivatives"),
    "richardson_step": (EPS ** 0.2 / 4, "extrapolation leaves an h⁴ truncation: eps^(1/5) balances it "
                        "against rounding; /4 keeps the widest point, 4h, at that scale"),
    "complex_step": (1e-20, "any h far below sqrt(eps) makes the h² truncation vanish; 1e-20 keeps h² "
                     "(1e-40) clear of underflow"),
    "directional_step": (EPS ** 0.5, "per-entry perturbation of a direction: its truncation is only "
                         "bounded (by the curvature), so the step balances t·φ″ against eps·|f|/t"),
    "f_rounding": (16.0, "f's own rounding in units of eps·max(|f|, 1): a well-conditioned sum of m terms "
                   "errs by ≲ log2(m)·eps (pairwise summation), 16 covers m up to 65,536"),
    "f_scale_floor": (1.0, "f's rounding is at least eps·max(1, max|x|·max|g|) even when |f| is far smaller: "
                      "formulas round O(1) intermediates (log(1 + eˣ) at x = −11 is 1.7e-5 but rounds 1 + eˣ "
                      "at eps) and first-order terms as large as x·g (logits near 1e4: 1e4 − lse ≈ 1); "
                      "such errors are linear along the stencil, invisible to any difference"),
    "analytic_rounding": (8.0, "the claimed gradient's rounding in units of its dtype's eps times "
                          "|g_i| + max|g| + max(|f|, 1) (a cast plus a few operations; the floor covers "
                          "cancelled sums, 1 − σ at saturation and δ_ij − p_j with p near 1)"),
    "complex_rounding": (16.0, "the complex step is forward-mode AD in complex arithmetic: a few eps "
                         "per operation over tens of operations, relative to the same scale (whose "
                         "max(|f|, 1) floor also covers Im f(x + ih) = h·f′ underflowing, below 2e-288)"),
    "safety": (4.0, "multiplies the estimated truncation and rounding: the truncation estimate is "
               "itself an O(h²) approximation and the rounding terms bound sums of random-sign errors"),
    "refine_ratio": (100.0, "an entry whose truncation exceeds 100× its rounding is probed again with a "
                     "16× smaller step: the step is too large for f there (or a kink sits inside it)"),
    "refine_factor": (16.0, "each re-probe shrinks the step 16×: a kink at distance a leaves the stencil "
                      "once 2h < a, while a kink at x keeps a constant one-sided gap"),
    "refine_levels": (3.0, "down to h/4096 ≈ 1.5e-9·max(|x|, 1): finer steps drown in rounding"),
    "kink_steady": (0.25, "at a kink at x both one-sided slopes move by at most a quarter of the gap "
                    "when the step shrinks 16× (so the gap keeps 2/3 to 2 times its size): a jump, not "
                    "curvature (which shrinks the gap 16×) nor noise (which makes the slopes jump)"),
    "marginal": (3.0, "a worst error within 3× of its bound (either side) asks the Taylor test for a "
                 "second opinion in the report"),
}

STEP = {
    "central": ERROR_MODEL["central_step"][0],
    "richardson": ERROR_MODEL["richardson_step"][0],
    "complex": ERROR_MODEL["complex_step"][0],
}
C_F = ERROR_MODEL["f_rounding"][0]
F_FLOOR = ERROR_MODEL["f_scale_floor"][0]
C_A = ERROR_MODEL["analytic_rounding"][0]
C_X = ERROR_MODEL["complex_rounding"][0]
SAFETY = ERROR_MODEL["safety"][0]
REFINE_RATIO = ERROR_MODEL["refine_ratio"][0]
REFINE_FACTOR = ERROR_MODEL["refine_factor"][0]
REFINE_LEVELS = int(ERROR_MODEL["refine_levels"][0])
KINK_STEADY = ERROR_MODEL["kink_steady"][0]
MARGINAL = ERROR_MODEL["marginal"][0]
DIRECTIONAL_STEP = ERROR_MODEL["directional_step"][0]
MULTIPLES = {"central": (1.0, 2.0), "richardson": (1.0, 2.0, 4.0)}
BISECT_MAX_LEAVES = 8   # localisation reports at most this many single entries
_ONE_UP = float(np.nextafter(1.0, 2.0))


# ---- evaluating the user's f -----------------------------------------------------------------

class _Evaluator:
    """Calls f on a flat vector, counts calls, and never lets a floating-point warning escape."""

    def __init__(self, f: Callable[[Any], Any], shape: tuple[int, ...], scalar: bool):
        self.f = f
        self.shape = shape
        self.scalar = scalar
        self.n_evals = 0
        self.out_shape: tuple[int, ...] = ()

    def _call(self, x: NDArray[Any]) -> NDArray[Any]:
        self.n_evals += 1
        # (np.errstate(all="ignore") is set once, by the public entry points)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            y = self.f(x.reshape(self.shape))
        try:
            a = np.asarray(y)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"f must return numbers; it returned {type(y).__name__} ({exc})") from None
        if a.dtype.kind not in "biufc":
            raise TypeError(f"f must return numbers; it returned {type(y).__name__} with dtype {a.dtype}")
        if self.scalar and a.size != 1:
            raise ValueError(f"f must return a scalar for check_grad; it returned shape {a.shape} "
                             "(use check_jacobian for vector-valued f)")
        return a

    def real(self, x: Array) -> Array:
        a = self._call(x)
        if a.dtype.kind == "c":
            a = a.real
        self.out_shape = () if self.scalar else a.shape
        return a.astype(np.float64).ravel()

    def complex(self, x: NDArray[Any]) -> NDArray[np.complex128]:
        try:
            a = self._call(x)
        except (TypeError, ValueError) as exc:
            if "f must return a scalar" in str(exc):
                raise
            raise TypeError(f"method='complex' needs an f that accepts complex input; f raised "
                            f"{type(exc).__name__}: {exc}. Use method='central'.") from exc
        if a.dtype.kind != "c":
            raise TypeError("method='complex' needs an f that carries complex input through, but f "
                            f"returned dtype {a.dtype} (float(), abs() or np.real drop the imaginary "
                            "part). Use method='central'.")
        return a.astype(np.complex128).ravel()


# ---- results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kink:
    """A coordinate where f is not differentiable: its one-sided derivatives and the verdict there."""

    index: tuple[int, ...]
    left: float
    right: float
    analytic: float
    passed: bool
    step: float

    def __str__(self) -> str:
        where = "between them" if self.passed else "OUTSIDE them"
        return (f"{list(self.index)}: left {self.left:.6g}, right {self.right:.6g}; "
                f"analytic {self.analytic:.6g} lies {where} (step {self.step:.3g})")


@dataclass(frozen=True)
class TaylorResult:
    """The Taylor-remainder test: |f(x + hd) − f(x) − h⟨g, d⟩| should shrink as h² (order 2)."""

    order: float
    passed: bool
    conclusive: bool
    steps: NDArray[np.floating[Any]]
    remainders: NDArray[np.floating[Any]]
    orders: NDArray[np.floating[Any]]
    seed: int | None

    def __str__(self) -> str:
        if not self.conclusive:
            return ("Taylor test inconclusive: the remainder stays at f's rounding level at every step "
                    "(f is locally linear or the gradient is tiny)")
        verdict = "consistent with a correct gradient" if self.passed else "the gradient is WRONG"
        return (f"Taylor test: remainder shrinks with observed order {self.order:.2f} over steps "
                f"{self.steps[0]:.1e}…{self.steps[-1]:.1e} (2 for a correct gradient, 1 for a wrong "
                f"one): {verdict}")


@dataclass
class GradCheckResult:
    """The verdict of a gradient (or Jacobian) check, with everything needed to read or replay it.

    Attributes
    ----------
    passed : bool
        True when every checked entry (or direction) lies within its tolerance.
    max_abs_err, max_rel_err : float
        Largest |analytic − numerical| and largest symmetric relative error
        |a − n| / max(|a|, |n|) (0 when both are 0) over the checked entries.
    worst_index : tuple of int
        Index of the entry with the largest error relative to its tolerance. In directional mode the
        first index is the direction number.
    analytic, numerical, tolerance : ndarray
        The claimed values, the numerical ones and the per-entry bound. Full mode: shape
        ``f(x).shape + x.shape``; directional mode: one row per direction.
    tolerance_reason : str
        Which bound decided (error model or the user's rtol/atol) and why.
    kinks : list of Kink
        Coordinates where f is not differentiable, with left and right derivatives.
    seed : int or None
        Seed of the random directions (directional mode), to replay the check.
    method, step, mode
        "central" / "richardson" / "complex"; the step(s) used; "full" or "directional".
    n_failed, n_checked, n_evals : int
        Failed and checked entries (directions), and calls of f.
    miss_probability, detectable_error : float or None
        Directional mode: an error larger than `detectable_error` in any one entry slips through all
        k random directions with probability at most `miss_probability` (2^−k). At a kink at x the
        width between the one-sided slopes counts in it: any claim in between passes there.
    localised : list of tuple of int
        Directional mode, on failure: the entries bisection found wrong.
    problems : list of str
        Non-finite values: where they appeared and why the check failed there.
    ratio : ndarray or None
        |analytic − numerical| / tolerance per entry (0 where the kink rule passed): above 1 fails.
    terms : tuple of ndarray, or None
        The error model's three terms per entry (safety × truncation, safety × rounding, the claimed
        values' own rounding); None when f(x) itself is not finite.
    """

    passed: bool
    max_abs_err: float
    max_rel_err: float
    worst_index: tuple[int, ...]
    analytic: Array
    numerical: Array
    tolerance: Array
    tolerance_reason: str
    kinks: list[Kink]
    seed: int | None
    method: str
    step: Any
    mode: str
    n_failed: int
    n_checked: int
    n_evals: int
    kind: str = "gradient"
    user_tolerance: bool = False
    miss_probability: float | None = None
    detectable_error: float | None = None
    localised: list[tuple[int, ...]] = field(default_factory=list)
    localised_note: str = ""
    problems: list[str] = field(default_factory=list)
    taylor: TaylorResult | None = None
    directions: int | None = None
    x_shape: tuple[int, ...] = ()
    # error/tolerance per entry (0 where the kink rule passed), for the report and the Taylor test
    ratio: Array | None = field(default=None, repr=False)
    # the bound's three terms per entry (safety × truncation, safety × rounding, claimed rounding)
    terms: tuple[Array, Array, Array] | None = field(default=None, repr=False)

    @property
    def abs_err(self) -> Array:
        with np.errstate(all="ignore"):   # inf − inf is a NaN error, reported as such
            return np.abs(self.analytic - self.numerical)

    def __str__(self) -> str:
        with np.errstate(all="ignore"):   # the report formats inf and NaN, never raises on them
            return _report(self)


# ---- small numerical helpers ------------------------------------------------------------------

def _rel(a: Array, n: Array) -> Array:
    """Symmetric relative error |a − n| / max(|a|, |n|), 0 when both are 0, inf when non-finite."""
    d = np.abs(a - n)
    mag = np.maximum(np.abs(a), np.abs(n))
    r = d / np.where(mag > 0, mag, 1.0)   # mag = 0 only where a = n = 0, so d = 0 there
    return np.where(np.isfinite(r), r, np.inf)


def _claimed_eps(g: NDArray[Any]) -> float:
    dt = g.dtype if g.dtype.kind == "f" else np.dtype(np.float64)
    return float(np.finfo(dt).eps)


def _as_claimed(grad: Any, x: Array, shape: tuple[int, ...], name: str) -> tuple[Array, float]:
    raw = grad(x.copy()) if callable(grad) else grad
    try:
        arr = np.asarray(raw)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array; got {type(raw).__name__} ({exc})") from None
    eps_g = _claimed_eps(arr)
    g = as_array(arr, name, complex_ok=False)
    if g.shape != shape:
        raise ValueError(f"{name} has shape {g.shape} but must have shape {shape} "
                         f"(x has shape {x.shape}); they must match")
    return g, eps_g


# ---- full mode: coordinate probes with refinement ---------------------------------------------

@dataclass
class _Level:
    """The stencil statistics of one step size for a set of coordinates: arrays of shape (k, m)."""

    h: Array          # (k,) nominal step
    est: Array        # central or extrapolated estimate
    trunc: Array      # truncation estimate
    coef: Array       # (k,) sum of |coefficients| of the estimate over f values (rounding = e_f·coef)
    gap1: Array       # one-sided gap F(h) − B(h)
    gap2: Array       # one-sided gap F(2h) − B(2h)
    left: Array
    right: Array
    side_err: Array   # truncation of the one-sided slopes
    fmax: Array       # max |f| over the stencil
    sigma: Array      # fourth-difference noise estimate
    finite: Mask
    bad: list[str]    # per coordinate, "" or the first non-finite stencil value


def _probe_level(ev: _Evaluator, x: Array, f0: Array, idx: NDArray[np.intp], h: Array,
                 method: str) -> _Level:
    mults = MULTIPLES[method]
    k, m = idx.size, f0.size
    fp = np.empty((len(mults), k, m))
    fm = np.empty((len(mults), k, m))
    hp = np.empty((len(mults), k))
    hm = np.empty((len(mults), k))
    buf = x.copy()
    for j, i in enumerate(idx):
        xi = x[i]
        for s, mult in enumerate(mults):
            up, down = xi + mult * h[j], xi - mult * h[j]
            hp[s, j], hm[s, j] = up - xi, xi - down   # the steps actually taken, exact in floating point
            buf[i] = up
            fp[s, j] = ev.real(buf)
            buf[i] = down
            fm[s, j] = ev.real(buf)
        buf[i] = xi
    if not np.array_equal(buf, x):
        raise ValueError("f modified its input array in place; the checker cannot judge such an f")
    return _level_stats(f0, fp, fm, hp, hm, h, method, idx, x)


def _level_stats(f0: Array, fp: Array, fm: Array, hp: Array, hm: Array, h: Array, method: str,
                 idx: NDArray[np.intp], x: Array) -> _Level:
    d = (fp - fm) / (hp + hm)[..., None]
    fwd = (fp - f0) / hp[..., None]
    bwd = (f0 - fm) / hm[..., None]
    if method == "central":
        est, trunc = d[0], np.abs(d[0] - d[1]) / 3.0
        coef = 1.0 / h
    else:
        r1 = (4.0 * d[0] - d[1]) / 3.0
        r2 = (4.0 * d[1] - d[2]) / 3.0
        est, trunc = r1, np.abs(r1 - r2) / 15.0
        coef = 1.5 / h
    fmax = np.maximum(np.abs(f0), np.maximum(np.abs(fp).max(0), np.abs(fm).max(0)))
    sigma = np.abs(fm[1] - 4.0 * fm[0] + 6.0 * f0 - 4.0 * fp[0] + fp[1]) / math.sqrt(70.0)
    side_err = np.maximum(np.abs(fwd[0] - fwd[1]), np.abs(bwd[0] - bwd[1]))
    finite = np.isfinite(fp).all(0) & np.isfinite(fm).all(0) & np.isfinite(est)
    bad = [""] * idx.size
    for j in np.flatnonzero(~finite.all(1)):
        bad[j] = _first_nonfinite(fp[:, j], fm[:, j], h[j], idx[j], x)
    return _Level(h, est, trunc, coef, fwd[0] - bwd[0], fwd[1] - bwd[1], bwd[0], fwd[0], side_err,
                  fmax, sigma, finite, bad)


def _first_nonfinite(fp: Array, fm: Array, h: float, i: int, x: Array) -> str:
    for s in range(fp.shape[0]):
        for sign, vals in (("+", fp[s]), ("−", fm[s])):
            if not np.isfinite(vals).all():
                v = vals[~np.isfinite(vals)][0]
                return f"f(x {sign} {h * (s + 1 if s < 2 else 4):.3g}·e_i) = {v} at x_i = {x[i]:.6g}"
    return "the difference overflowed"


def _suspect(lv: _Level, e_f: Array) -> Mask:
    """Kink suspects: a one-sided gap above its noise that does not grow in proportion to the step."""
    gerr1 = SAFETY * 4.0 * e_f / lv.h[:, None]
    gerr2 = SAFETY * 4.0 * e_f / (2.0 * lv.h[:, None])
    big = np.abs(lv.gap1) > gerr1
    nonscaling = np.abs(lv.gap2 - 2.0 * lv.gap1) > 0.25 * np.abs(lv.gap2) + gerr2 + 2.0 * gerr1
    return big & nonscaling & lv.finite


@dataclass
class _Full:
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


def _full_real(ev: _Evaluator, x: Array, f0: Array, method: str, fscale: Array | None = None) -> _Full:
    """Probe every entry; `fscale` (per output) is a floor on the scale of f's intermediates."""
    n, m = x.size, f0.size
    floor = np.maximum(F_FLOOR, fscale if fscale is not None else 0.0)
    h0 = STEP[method] * np.maximum(np.abs(x), 1.0)
    idx = np.arange(n)
    lv = _probe_level(ev, x, f0, idx, h0, method)
    e_model = C_F * EPS * np.maximum(lv.fmax, floor)
    clean = ~_suspect(lv, e_model) & (lv.trunc <= REFINE_RATIO * e_model * lv.coef[:, None]) & lv.finite
    pool = np.max(np.where(clean, lv.sigma, 0.0), axis=0, initial=0.0)   # f's noise, seen where clean

    def noise(level: _Level) -> Array:
        """f's rounding for the kink tests: the model, or the noise seen along the clean entries."""
        return np.maximum(C_F * EPS * np.maximum(level.fmax, floor), pool)

    def smooth_noise(level: _Level, gap_noise: Array) -> Array:
        # An entry's own fourth difference also sees noise the model misses (f = log(1 + tiny)
        # rounds at eps, not eps·|f|); it would also see a kink's jump, so the kink tests leave it out.
        return np.maximum(gap_noise, level.sigma)

    e0 = noise(lv)
    susp = _suspect(lv, e0)
    rnd0 = smooth_noise(lv, e0) * lv.coef[:, None]
    out = _Full(lv.est.copy(), lv.trunc.copy(), rnd0, np.zeros((n, m), bool), np.zeros((n, m), bool),
                lv.left.copy(), lv.right.copy(), lv.side_err.copy(), np.repeat(h0[:, None], m, 1), {})
    for j in np.flatnonzero(~lv.finite.all(1)):
        out.problems[int(j)] = lv.bad[j]
    # Whether a step resolves an entry is judged with the model's rounding: an entry's own fourth
    # difference also carries any kink inside the stencil and would hide it.
    open_ = ~(~susp & (lv.trunc <= REFINE_RATIO * e0 * lv.coef[:, None])) & lv.finite
    best = np.where(lv.finite, lv.trunc + rnd0, np.inf)
    prev_susp = susp.copy()
    prev_left, prev_right = lv.left.copy(), lv.right.copy()
    for level in range(1, REFINE_LEVELS + 1):
        rows = np.flatnonzero(open_.any(1))
        if rows.size == 0:
            break
        h = h0[rows] / REFINE_FACTOR ** level
        lv = _probe_level(ev, x, f0, rows, h, method)
        e = noise(lv)
        susp = _suspect(lv, e)
        rnd = smooth_noise(lv, e) * lv.coef[:, None]
        op = open_[rows]
        # at a kink both one-sided slopes stay put as the step shrinks; noise makes them jump
        steady = (np.maximum(np.abs(lv.left - prev_left[rows]), np.abs(lv.right - prev_right[rows]))
                  <= KINK_STEADY * np.abs(lv.gap1))
        kinked = op & susp & prev_susp[rows] & steady
        smooth = op & ~susp & (lv.trunc <= REFINE_RATIO * e * lv.coef[:, None]) & lv.finite
        better = op & lv.finite & (lv.trunc + rnd < best[rows])
        take = smooth | better | kinked
        r, c = np.nonzero(take)
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
        closed = smooth
        sub = open_[rows]
        sub[closed] = False
        open_[rows] = sub
        prev_susp[rows] = susp
        prev_left[rows] = lv.left
        prev_right[rows] = lv.right
    out.fallback &= open_ & ~out.kink   # only entries no step could resolve may fall back to a kink
    return out


def _full_complex(ev: _Evaluator, x: Array, f0: Array) -> tuple[Array, Array, dict[int, str]]:
    n, m = x.size, f0.size
    h = STEP["complex"] * np.maximum(np.abs(x), 1.0)
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


# ---- directional mode ------------------------------------------------------------------------

def _draw_seed(seed: int | None) -> int:
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    return int(seed)


def _norms(G: Array) -> Array:
    """‖g‖ of each row without overflow or underflow: a finite g ≈ 1e308 has a finite norm even when
    Σg² overflows (and a tiny g a non-zero one). The plain √Σg² is tried first: no temporary copy."""
    out = np.sqrt(np.einsum("ij,ij->i", G, G))
    for i in np.flatnonzero(~np.isfinite(out) | (out == 0)):
        top = float(np.max(np.abs(G[i]), initial=0.0))
        if 0 < top < np.inf:
            out[i] = top * np.sqrt(np.sum((G[i] / top) ** 2))
    return out


def _rademacher_bits(rng: np.random.Generator, n: int) -> NDArray[np.uint8]:
    """The signs of a Rademacher direction as 0/1 bytes (1 ↦ +1/√n, 0 ↦ −1/√n): one random bit each."""
    return np.unpackbits(np.frombuffer(rng.bytes((n + 7) // 8), dtype=np.uint8), count=n)


def _rademacher(rng: np.random.Generator, n: int) -> Array:
    """A signed unit direction: ±1/√n in every entry (every entry seen with the same weight)."""
    c = 1.0 / math.sqrt(n)
    return cast(Array, _rademacher_bits(rng, n) * (2.0 * c) - c)


@dataclass
class _DirOut:
    analytic: Array      # (p, m)
    numerical: Array     # (p, m)
    tol: Array           # (p, m) error-model bound
    trunc: Array
    rnd: Array
    ana_rnd: Array
    left: Array          # one-sided slopes (central only: the kink rule needs its small step; NaN
    right: Array         # for the other methods)
    steps: Array         # (p,)
    directions: list[NDArray[Any]]
    problems: dict[int, str]


def _directional(ev: _Evaluator, x: Array, f0: Array, G: Array, eps_g: float, method: str,
                 dirs: list[NDArray[Any]], scale: float, n_random: int, seed: int) -> _DirOut:
    p, m = len(dirs), f0.size
    n = x.size
    num = np.empty((p, m))
    ana = np.empty((p, m))
    trunc = np.zeros((p, m))
    rnd = np.zeros((p, m))
    arnd = np.empty((p, m))
    left = np.full((p, m), np.nan)
    right = np.full((p, m), np.nan)
    steps = np.empty(p)
    problems: dict[int, str] = {}
    # Bounds that need no temporary copy of an n-vector (each costs page faults at 10⁵ entries):
    # Σ|g_i| ≤ √n·‖g‖ and Σ|g_i||x_i| ≤ ‖g‖·‖x‖.
    gnorm = _norms(G)
    absg_sum = math.sqrt(n) * gnorm
    g_sum = G.sum(axis=1)
    gmax = np.maximum(np.abs(G.max(axis=1)), np.abs(G.min(axis=1)))
    gfloor = np.where(np.isfinite(gmax), gmax, 0.0) + np.maximum(np.abs(f0), F_FLOOR)
    # rounding of x ± t·d (twice: x ∓ c, then + 2c·b), seen through f: ≤ eps·Σ|g|(|x| + t|d|)
    rep_err = EPS * gnorm * (float(np.linalg.norm(x)) + 1.0)
    curv = np.zeros((p, m))
    buf = np.empty_like(x)
    vbuf = np.empty_like(x)
    rng = np.random.default_rng(seed)
    c_unit = 1.0 / math.sqrt(n)
    c = DIRECTIONAL_STEP * scale   # central: the per-entry perturbation of a random direction
    t_rad = c / c_unit             # and its step along the unit direction
    if method == "central":
        x_lo, x_hi = x - c, x + c
    for j in range(p):
        if j < n_random:
            bits = _rademacher_bits(rng, n)
            if method == "central":
                # Fewest passes over memory: v = 2c·b, then x + c·s = (x − c) + v and x − c·s = (x + c) − v.
                np.multiply(bits, 2.0 * c, out=vbuf)
                # ⟨g, s⟩ = 2Σ_{b=1} g − Σ g, halved inside so that g near 1e308 does not overflow
                ana[j] = ((G @ vbuf) / (2.0 * c) - 0.5 * g_sum) * (2.0 * c_unit)
                fp1 = ev.real(np.add(x_lo, vbuf, out=buf))
                fm1 = ev.real(np.subtract(x_hi, vbuf, out=buf))
                t = t_rad
                dabs_g = absg_sum * c_unit
                dsum = n * c_unit
                d = None
            else:
                d = bits * (2.0 * c_unit) - c_unit
                dmax, dabs_g, dsum = c_unit, absg_sum * c_unit, n * c_unit
                ana[j] = G @ d
            # Sums over g near 1e308 can overflow where ⟨g, d⟩ does not: redo those on g/2^e, with
            # 2^e ≤ max|g| < 2^(e+1) a power of two, so that the scaling itself is exact.
            for k in np.flatnonzero(~np.isfinite(ana[j]) & np.isfinite(gmax) & (gmax > 0)):
                top = math.ldexp(1.0, math.frexp(float(gmax[k]))[1] - 1)
                gs = G[k] / top
                if d is None:
                    ana[j, k] = top * (((gs @ vbuf) / (2.0 * c) - 0.5 * gs.sum()) * (2.0 * c_unit))
                else:
                    ana[j, k] = top * float(gs @ d)
            dirs[j] = bits   # kept for bisection and replay, 1 byte per entry
        else:
            # the claimed gradient's own direction d = g/‖g‖: ⟨g, d⟩ = ‖g‖, Σ|g_i d_i| = ‖g‖
            d = G[0] / gnorm[0]
            dmax = float(gmax[0] / gnorm[0])
            dabs_g = gnorm
            dsum = float(math.sqrt(n))
            ana[j] = gnorm
        arnd[j] = C_A * eps_g * (dabs_g + gfloor * dsum)
        if method == "complex":
            assert d is not None  # central alone works from the bits
            t = STEP["complex"] * scale / dmax
            y = ev.complex(x + (1j * t) * d)
            num[j] = y.imag / t
            scale_f = np.maximum(np.abs(f0), F_FLOOR)
            rnd[j] = C_X * EPS * (np.abs(num[j]) + np.abs(ana[j]) + scale_f)
            steps[j] = t
            if not np.isfinite(y).all():
                problems[j] = f"f(x + {t:.3g}i·d_{j}) = {y[~np.isfinite(y)][0]}"
            continue
        if method == "richardson":
            assert d is not None
            t = STEP["richardson"] * scale / dmax
            fp = np.empty((3, m))
            fm = np.empty((3, m))
            for s, mult in enumerate(MULTIPLES["richardson"]):
                np.multiply(d, mult * t, out=vbuf)
                fp[s] = ev.real(np.add(x, vbuf, out=buf))
                fm[s] = ev.real(np.subtract(x, vbuf, out=buf))
            hs = np.array([[t], [2 * t], [4 * t]])
            lv = _level_stats(f0, fp[:, None], fm[:, None], hs, hs, np.array([t]), method,
                              np.array([0]), x[:1])
            num[j], trunc[j] = lv.est[0], lv.trunc[0]
            e_f = np.maximum(C_F * EPS * np.maximum(lv.fmax[0], F_FLOOR), lv.sigma[0]) + rep_err
            rnd[j] = e_f * lv.coef[0]
            if not lv.finite[0].all():
                problems[j] = f"f(x ± {t:.3g}·d_{j}) (or at 2t, 4t) is not finite"
            steps[j] = t
            continue
        if d is not None:
            t = DIRECTIONAL_STEP * scale / dmax
            np.multiply(d, t, out=vbuf)
            fp1 = ev.real(np.add(x, vbuf, out=buf))
            fm1 = ev.real(np.subtract(x, vbuf, out=buf))
        num[j] = (fp1 - fm1) / (2.0 * t)
        right[j] = (fp1 - f0) / t
        left[j] = (f0 - fm1) / t
        curv[j] = np.abs(right[j] - left[j]) / t
        fmax = np.maximum(np.maximum(np.abs(f0), F_FLOOR), np.maximum(np.abs(fp1), np.abs(fm1)))
        rnd[j] = (C_F * EPS * fmax + rep_err) / t
        steps[j] = t
        if not (np.isfinite(fp1).all() and np.isfinite(fm1).all()):
            bad = fp1 if not np.isfinite(fp1).all() else fm1
            problems[j] = f"f(x ± {t:.3g}·d_{j}) = {bad[~np.isfinite(bad)][0]}"
    if method == "central" and p:
        # A direction at an inflection point borrows the median curvature of the others.
        fin = np.where(np.isfinite(curv), curv, 0.0)
        med = np.median(fin, axis=0)
        trunc = steps[:, None] * np.maximum(fin, med) / 6.0
    tol = SAFETY * (trunc + rnd) + arnd
    return _DirOut(ana, num, tol, trunc, rnd, arnd, left, right, steps, dirs, problems)


def _bisect(ev: _Evaluator, x: Array, f0: Array, G: Array, eps_g: float, d: Array, out_k: int,
            user: tuple[float, float] | None, x_shape: tuple[int, ...]) -> tuple[list[tuple[int, ...]], str]:
    """Localise the wrong entries along a failing direction d by bisection over blocks of entries.

    Each block is probed along d restricted to it (central differences at h and 2h, the full-mode
    error model); failing halves are split again. A single wrong entry costs ~8 evaluations per halving.
    """
    found: list[tuple[int, ...]] = []
    stuck: list[tuple[int, int]] = []
    unjudged: list[tuple[int, int]] = []
    stack = [(0, x.size)]
    absg = np.abs(G[out_k])
    gfloor = float(np.max(np.where(np.isfinite(absg), absg, 0.0), initial=0.0) + max(abs(f0[out_k]), F_FLOOR))
    scale = float(max(1.0, np.sqrt(np.mean(x * x)))) if x.size else 1.0

    def block_fails(lo: int, hi: int) -> bool:
        v = np.zeros_like(x)
        v[lo:hi] = d[lo:hi]
        dmax = float(np.max(np.abs(v)))
        if dmax == 0:
            return False
        t = STEP["central"] * scale / dmax
        fp = np.empty((2, 1))
        fm = np.empty((2, 1))
        for s, mult in enumerate((1.0, 2.0)):
            fp[s] = ev.real(x + (mult * t) * v)[out_k]
            fm[s] = ev.real(x - (mult * t) * v)[out_k]
        hs = np.array([[t], [2 * t]])
        lv = _level_stats(f0[out_k:out_k + 1], fp[:, None], fm[:, None], hs, hs, np.array([t]),
                          "central", np.array([0]), x[:1])
        if not lv.finite[0, 0]:
            # bisection's step (the full-mode one) may leave f's domain: no verdict, never blame
            unjudged.append((lo, hi))
            return False
        a = float(G[out_k, lo:hi] @ v[lo:hi])
        rep = 0.5 * EPS * float(absg[lo:hi] @ np.abs(x[lo:hi]))
        e_f = max(C_F * EPS * max(float(lv.fmax[0, 0]), F_FLOOR), float(lv.sigma[0, 0])) + rep
        n_ = float(lv.est[0, 0])
        if user is not None:
            tol = user[0] + user[1] * abs(n_)
        else:
            tol = (SAFETY * (float(lv.trunc[0, 0]) + e_f / t)
                   + C_A * eps_g * (float(absg[lo:hi] @ np.abs(v[lo:hi])) + gfloor * (hi - lo) * dmax))
        return not (abs(a - n_) <= tol)

    while stack:
        lo, hi = stack.pop()
        if hi - lo == 1:
            found.append(tuple(int(i) for i in np.unravel_index(lo, x_shape)))
            if len(found) >= BISECT_MAX_LEAVES:
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
    if stuck:
        notes.append(f"bisection lost the error in flat block(s) {blocks(stuck)}: neither half fails "
                     "alone (errors that cancel, or an error near the bound)")
    if unjudged:
        notes.append(f"bisection could not judge block(s) {blocks(unjudged)}: f is not finite at their "
                     "probes (the step leaves f's domain)")
    return sorted(found), "; ".join(notes)


# ---- the check --------------------------------------------------------------------------------

def _check(f: Callable[[Any], Any], x_in: ArrayLike, claimed: Any, *, jacobian: bool, method: str,
           directions: int | None, rtol: float | None, atol: float | None, seed: int | None,
           second_opinion: bool = True) -> GradCheckResult:
    method = choose(method, "method", METHODS)
    x_arr = as_array(x_in, "x", complex_ok=False)
    x_shape = x_arr.shape
    if not np.isfinite(x_arr).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(x_arr))[0])
        raise ValueError(f"x must be finite; x{list(bad)} = {x_arr[bad]}")
    if directions is not None:
        if isinstance(directions, (bool, np.bool_)) or not isinstance(directions, (int, np.integer)) \
                or directions < 1:
            raise ValueError(f"directions must be None (every entry) or a positive int, got {directions!r}")
    for name, val in (("rtol", rtol), ("atol", atol)):
        if val is not None and not (np.isfinite(val) and val >= 0):
            raise ValueError(f"{name} must be a finite number ≥ 0, got {val!r}")
    user = None if rtol is None and atol is None else (float(atol or 0.0), float(rtol or 0.0))
    x = x_arr.ravel()
    ev = _Evaluator(f, x_shape, scalar=not jacobian)
    f0 = ev.real(x)
    out_shape = ev.out_shape
    m = f0.size
    name = "jac" if jacobian else "grad"
    g_arr, eps_g = _as_claimed(claimed, x_arr, out_shape + x_shape, name)
    G = g_arr.reshape(m, x.size)
    problems: list[str] = []
    if not np.isfinite(f0).all():
        k = int(np.flatnonzero(~np.isfinite(f0))[0])
        where = "" if not jacobian else f" (output {[int(i) for i in np.unravel_index(k, out_shape)]})"
        problems.append(f"f(x) = {f0[k]}{where}: f is not finite at x itself, nothing can be judged")
    if not np.isfinite(G).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(g_arr))[0])
        problems.append(f"the claimed {name} is {g_arr[bad]} at index {list(bad)}")
    rec_seed = _draw_seed(seed) if directions is not None else (None if seed is None else _draw_seed(seed))
    common: dict[str, Any] = {
        "f": f, "x": x, "x_shape": x_shape, "out_shape": out_shape, "f0": f0, "G": G, "eps_g": eps_g,
        "method": method, "user": user, "ev": ev, "problems": problems, "jacobian": jacobian,
    }
    if directions is None:
        result = _judge_full(**common)
    else:
        assert rec_seed is not None
        result = _judge_directional(directions=int(directions), seed=rec_seed, **common)
    result.seed = rec_seed
    if second_opinion and not jacobian and not problems and result.n_checked:
        _maybe_taylor(result, f, x_arr, g_arr, x_shape)
    return result


def _first_order_scale(G: Array, x: Array) -> Array:
    """max|x|·max|g| per output: f's first-order terms are this large, so its intermediates are too
    (logits near 1e4 give an O(1) loss computed from 1e4 − 1e4) even when |f| is small."""
    absg = np.abs(G)
    gmax = np.max(np.where(np.isfinite(absg), absg, 0.0), axis=1, initial=0.0)
    return gmax * float(np.max(np.abs(x), initial=0.0))


def _floors(G: Array, f0: Array) -> Array:
    absg = np.abs(G)
    return (np.max(np.where(np.isfinite(absg), absg, 0.0), axis=1, initial=0.0)
            + np.maximum(np.abs(f0), F_FLOOR))[:, None]


def _judge_full(*, f: Any, x: Array, x_shape: tuple[int, ...], out_shape: tuple[int, ...], f0: Array,
                G: Array, eps_g: float, method: str, user: tuple[float, float] | None, ev: _Evaluator,
                problems: list[str], jacobian: bool) -> GradCheckResult:
    m, n = G.shape
    full_shape = out_shape + x_shape
    if not np.isfinite(f0).all():
        nan = np.full((m, n), np.nan)
        return _finish(G, nan, np.zeros((m, n)), np.zeros((m, n), bool), [], problems, "f(x) is not "
                       "finite", method, "full", None, ev, full_shape, x_shape, jacobian, user)
    ana_rnd = C_A * eps_g * (np.abs(G) + _floors(G, f0))
    kinks: list[Kink] = []
    if method == "complex":
        num_t, h, bad = _full_complex(ev, x, f0)
        num = num_t.T
        rnd = C_X * EPS * (np.abs(num) + _floors(num, f0))
        tol = SAFETY * rnd + ana_rnd
        trunc = np.zeros_like(num)
        step: Any = h.reshape(x_shape)
        passed_kink = np.zeros((m, n), bool)
    else:
        fr = _full_real(ev, x, f0, method, _first_order_scale(G, x))
        bad = fr.problems
        num, trunc, rnd = fr.numerical.T, fr.trunc.T, fr.rnd.T
        tol = SAFETY * (trunc + rnd) + ana_rnd
        lo = np.minimum(fr.left, fr.right).T
        hi = np.maximum(fr.left, fr.right).T
        kerr = (SAFETY * fr.side_err).T + ana_rnd
        if user is not None:
            kerr = user[0] + user[1] * np.maximum(np.abs(lo), np.abs(hi))
        inside = (G >= lo - kerr) & (G <= hi + kerr)
        smooth_ok = np.abs(G - num) <= (tol if user is None else user[0] + user[1] * np.abs(num))
        is_kink = fr.kink.T | (fr.fallback.T & ~smooth_ok & inside)
        passed_kink = is_kink & inside
        # At a kink the numerical value shown is the subgradient nearest the claim, never the mean.
        num = np.where(is_kink, np.clip(G, lo, hi), num)
        tol = np.where(is_kink, kerr, tol)
        step = fr.step.T.reshape(full_shape) if jacobian else fr.step[:, 0].reshape(x_shape)
        for r, c in zip(*np.nonzero(is_kink)):
            idx = tuple(int(i) for i in np.unravel_index(r * n + c, full_shape))
            kinks.append(Kink(idx, float(fr.left[c, r]), float(fr.right[c, r]), float(G[r, c]),
                              bool(passed_kink[r, c]), float(fr.step[c, r])))
    for i, why in sorted(bad.items()):
        problems.append(f"entry {[int(v) for v in np.unravel_index(i, x_shape)]}: {why}")
    nonfinite_num = np.zeros((m, n), bool)
    for i in bad:
        nonfinite_num[:, i] = True
    reason = _model_reason(trunc, rnd, ana_rnd, method, eps_g)
    return _finish(G, np.where(nonfinite_num, np.nan, num), tol, passed_kink, kinks, problems, reason,
                   method, "full", step, ev, full_shape, x_shape, jacobian, user, trunc=trunc, rnd=rnd,
                   ana_rnd=ana_rnd)


def _directional_verdict(dr: _DirOut, user: tuple[float, float] | None) -> tuple[Array, Mask]:
    """The bound per direction and output, and the smooth verdict |⟨g, d⟩ − D(t)| ≤ bound."""
    tol = dr.tol if user is None else user[0] + user[1] * np.abs(dr.numerical)
    return tol, np.abs(dr.analytic - dr.numerical) <= tol


@dataclass
class _DirKinks:
    """Entries (direction, output) with a jump at x: the one-sided slopes of the finest probe."""

    mask: Mask
    left: Array
    right: Array
    tol: Array
    step: Array


def _jumps(coarse: _DirOut, fine: _DirOut, user: tuple[float, float] | None, found: _DirKinks,
           rows: Mask) -> Mask:
    """Record the entries of `rows` whose one-sided gap is a jump at x; return them.

    Along a smooth φ(t) = f(x + t·d) the gap right − left = t·φ″ shrinks with the step 16×; at a kink at
    x it keeps its size and both one-sided slopes stay put. Such an entry is judged by the kink rule
    alone: the claim must lie between the slopes, give or take their own error, measured as their drift
    between the two steps plus their rounding 2e_f/t (the curvature bound of the smooth rule would
    count the jump itself as truncation and let a claim 2/3 of the jump outside the slopes pass).
    """
    gap_f = fine.right - fine.left
    drift = np.maximum(np.abs(fine.left - coarse.left), np.abs(fine.right - coarse.right))
    new = (rows[:, None] & ~found.mask & (np.abs(gap_f) > SAFETY * 4.0 * fine.rnd)
           & (drift <= KINK_STEADY * np.abs(gap_f)))
    if user is None:
        ktol = SAFETY * (drift + 2.0 * fine.rnd) + fine.ana_rnd
    else:
        ktol = user[0] + user[1] * np.maximum(np.abs(fine.left), np.abs(fine.right))
    found.mask |= new
    found.left[new], found.right[new], found.tol[new] = fine.left[new], fine.right[new], ktol[new]
    found.step[new] = np.broadcast_to(fine.steps[:, None], new.shape)[new]
    return new


def _take_rows(dr: _DirOut, fine: _DirOut, rows: Mask) -> None:
    """Replace `dr`'s figures for the directions in `rows` by those measured at the finer step."""
    for name in ("numerical", "tol", "trunc", "rnd", "ana_rnd", "left", "right", "steps"):
        getattr(dr, name)[rows] = getattr(fine, name)[rows]


def _judge_directional(*, f: Any, x: Array, x_shape: tuple[int, ...], out_shape: tuple[int, ...],
                       f0: Array, G: Array, eps_g: float, method: str, user: tuple[float, float] | None,
                       ev: _Evaluator, problems: list[str], jacobian: bool, directions: int,
                       seed: int) -> GradCheckResult:
    m, n = G.shape
    # The claimed gradient's own direction, the most sensitive to a scale error, follows the random
    # ones. Not for a subnormal ‖g‖ (σ′(745) = 5e-324: below every bound, and the step t/‖g‖ would
    # overflow), nor an infinite one (g ≈ 1.7e308 in every entry: no unit direction; the random ones
    # report it).
    own = False
    if not jacobian and n > 1 and np.isfinite(G).all():
        own = bool(np.finfo(np.float64).tiny <= float(_norms(G[:1])[0]) < np.inf)
    p = (directions if n else 0) + own
    dirs: list[Any] = [None] * p   # _directional keeps the random directions' signs here
    if n == 0 or not np.isfinite(f0).all():
        nan = np.full((p, m), np.nan)
        why = "x has no entries: there is nothing to check" if n == 0 else "f(x) is not finite"
        return _finish(np.zeros((p, m)), nan, np.zeros((p, m)), np.zeros((p, m), bool), [], problems, why,
                       method, "directional", None, ev, (p,) + out_shape, x_shape, jacobian, user)
    scale = float(max(1.0, np.sqrt(np.mean(x * x))))
    dr = _directional(ev, x, f0, G, eps_g, method, list(dirs), scale, directions, seed)
    tol, smooth_ok = _directional_verdict(dr, user)
    kinks_at = _DirKinks(np.zeros((p, m), bool), np.full((p, m), np.nan), np.full((p, m), np.nan),
                         np.zeros((p, m)), np.zeros((p, m)))
    if method != "complex":
        # A failing direction is probed again at a 16× smaller step, and so, once, is a passing one
        # whose error exceeds what rounding explains (its pass rests on the curvature bound, which at a
        # kink at x is the jump itself). A kink at x keeps its one-sided gap and is judged by the kink
        # rule (`_jumps`). A kink inside the stencil but not at x (a ReLU pre-activation within t of 0)
        # bends the difference without that signature: the finer step moves it out, and a smooth f
        # reproduces its estimate within both bounds while a wrong claim fails again. (Richardson keeps
        # no one-sided slopes: it has only the second rule.)
        coarse = dr
        leans = (method == "central") & smooth_ok & (
            np.abs(dr.analytic - dr.numerical) > SAFETY * dr.rnd + dr.ana_rnd)
        for level in range(1, REFINE_LEVELS + 1):
            failing = ((~(smooth_ok | kinks_at.mask) | (leans & (level == 1))).any(axis=1)
                       & ~np.isin(np.arange(p), list(dr.problems)))
            if not failing.any():
                break
            fine = _directional(ev, x, f0, G, eps_g, method, list(dirs), scale / REFINE_FACTOR ** level,
                                directions, seed)
            fine_tol, _ = _directional_verdict(fine, user)
            usable = failing & ~np.isin(np.arange(p), list(fine.problems))
            jumped = _jumps(coarse, fine, user, kinks_at, usable & (method == "central"))
            moved = (np.abs(fine.numerical - dr.numerical) > fine_tol + tol) & ~kinks_at.mask
            take = usable & moved.any(axis=1)
            if not (take.any() or jumped.any()):
                break
            _take_rows(dr, fine, take)
            tol, smooth_ok = _directional_verdict(dr, user)
            coarse = fine
    lo = np.minimum(kinks_at.left, kinks_at.right)
    hi = np.maximum(kinks_at.left, kinks_at.right)
    kink_pass = kinks_at.mask & (dr.analytic >= lo - kinks_at.tol) & (dr.analytic <= hi + kinks_at.tol)
    tol = np.where(kinks_at.mask, kinks_at.tol, tol)
    # f finite on the stencil, yet a derivative beyond float64 (⟨g, d⟩ or Im f/t above 1.8e308)
    for row in np.flatnonzero(~np.isfinite(dr.analytic).all(axis=1)):
        dr.problems.setdefault(int(row), "the claimed ⟨g, d⟩ is not finite (it overflows float64)")
    for row in np.flatnonzero(~np.isfinite(dr.numerical).all(axis=1)):
        dr.problems.setdefault(int(row), "the numerical directional derivative overflows float64")
    for j, why in sorted(dr.problems.items()):
        problems.append(f"direction {j}: {why}")
    kinks = [Kink((int(j), int(k)) if jacobian else (int(j),), float(kinks_at.left[j, k]),
                  float(kinks_at.right[j, k]), float(dr.analytic[j, k]), bool(kink_pass[j, k]),
                  float(kinks_at.step[j, k])) for j, k in zip(*np.nonzero(kinks_at.mask))]
    reason = _model_reason(dr.trunc, dr.rnd, dr.ana_rnd, method, eps_g, directional=True)
    # At a kink the numerical value shown is the one-sided slope nearest the claim, as in full mode.
    numerical = np.where(kinks_at.mask, np.clip(dr.analytic, lo, hi), dr.numerical)
    res = _finish(dr.analytic, numerical, tol, kink_pass, kinks, problems, reason, method,
                  "directional", dr.steps, ev, (p,) + out_shape, x_shape, jacobian, user,
                  trunc=dr.trunc, rnd=dr.rnd, ana_rnd=dr.ana_rnd)
    k = directions
    res.directions = k
    res.miss_probability = 2.0 ** -k
    # At a kink any claim between the one-sided slopes passes: the interval's width is slack too.
    slack = np.where(kinks_at.mask, tol + (hi - lo), tol)[:k]
    res.detectable_error = 2.0 * math.sqrt(n) * float(np.max(np.where(np.isfinite(slack), slack, 0.0)))
    res.localised_note = ("directions: "
                          f"{k} random Rademacher (±1/√n){' + the claimed gradient’s own' if own else ''}")
    if not res.passed and not problems:
        ok = np.abs(dr.analytic - numerical) <= tol
        ok |= kink_pass
        j, kk = (int(v[0]) for v in np.nonzero(~ok))
        if j < k:
            dj = dr.directions[j] * (2.0 / math.sqrt(x.size)) - 1.0 / math.sqrt(x.size)
        else:
            dj = G[0] / float(_norms(G[:1])[0])
        found, note = _bisect(ev, x, f0, G, eps_g, dj, kk, user, x_shape)
        res.localised = found
        res.n_evals = ev.n_evals
        if note:
            res.localised_note += "; " + note
    return res


def _model_reason(trunc: Array, rnd: Array, ana: Array, method: str, eps_g: float,
                  directional: bool = False) -> str:
    st, sr = SAFETY * trunc, SAFETY * rnd
    terms = {"truncation": st, "rounding of f": sr, "the claimed values' own rounding": ana}
    counts = {k: int(np.sum((v >= st) & (v >= sr) & (v >= ana))) for k, v in terms.items()}
    top = max(counts, key=lambda k: counts[k])
    dtype = {EPS: "float64", float(np.finfo(np.float32).eps): "float32",
             float(np.finfo(np.float16).eps): "float16"}.get(eps_g, f"eps {eps_g:.2g}")
    how = {
        "central": ("truncation from the difference of steps h and 2h" if not directional else
                    "truncation bounded by the curvature t·|φ″|/6 from the second difference"),
        "richardson": "truncation from the difference of two extrapolations (h, 2h and 2h, 4h)",
        "complex": "no subtractive cancellation (complex step): rounding of an analytic derivative",
    }[method]
    return (f"error model ({how}; rounding from |f| and the step; claimed values in {dtype}): bound = "
            f"{SAFETY:g}×(truncation + rounding) + claimed rounding; {top} decided for most entries")


def _finish(A: Array, N: Array, tol: Array, kink_ok: Mask, kinks: list[Kink], problems: list[str],
            reason: str, method: str, mode: str, step: Any, ev: _Evaluator, shape: tuple[int, ...],
            x_shape: tuple[int, ...], jacobian: bool, user: tuple[float, float] | None, *,
            trunc: Array | None = None, rnd: Array | None = None,
            ana_rnd: Array | None = None) -> GradCheckResult:
    diff = np.abs(A - N)
    if user is not None:
        ut = user[0] + user[1] * np.abs(N)
        tol = np.where(kink_ok, tol, ut)
    finite = np.isfinite(diff)   # |A − N| is finite only when both are
    ok = finite & ((diff <= tol) | kink_ok)
    # err/tol; under a zero bound (atol = rtol = 0) any error at all is inf, however small
    ratio = np.divide(diff, tol, out=np.where(diff > 0, np.inf, 0.0), where=tol > 0)
    # exactly the documented reading: a failed entry's ratio is above 1 (a quotient just above 1 can
    # round to 1.0), a passed one's at most 1, and 0 where the kink rule passed it
    ratio = np.where(ok, np.where(kink_ok, 0.0, ratio), np.maximum(np.where(finite, ratio, np.inf), _ONE_UP))
    rel = _rel(A, N)
    n_failed = int(np.sum(~ok))
    if A.size:
        w = int(np.argmax(np.where(np.isnan(ratio), np.inf, ratio)))
        worst = tuple(int(i) for i in np.unravel_index(w, shape))
    else:
        worst = ()
    max_abs = float(np.max(np.where(np.isnan(diff), np.inf, diff), initial=0.0))
    max_rel = float(np.max(rel, initial=0.0))
    if user is not None:
        reason = (f"the user's tolerance decided: an entry passes when |analytic − numerical| ≤ "
                  f"atol + rtol·|numerical| with atol = {user[0]:g}, rtol = {user[1]:g} (the error model "
                  "was not used)")
    res = GradCheckResult(
        passed=n_failed == 0 and not problems, max_abs_err=max_abs, max_rel_err=max_rel,
        worst_index=worst, analytic=A.reshape(shape), numerical=N.reshape(shape),
        tolerance=np.asarray(tol, dtype=np.float64).reshape(shape), tolerance_reason=reason,
        kinks=kinks, seed=None, method=method, step=step, mode=mode, n_failed=n_failed,
        n_checked=int(A.size), n_evals=ev.n_evals, kind="jacobian" if jacobian else "gradient",
        user_tolerance=user is not None, problems=list(problems), x_shape=x_shape,
        ratio=ratio.reshape(shape),
        terms=None if trunc is None or rnd is None or ana_rnd is None else (
            (SAFETY * trunc).reshape(shape), (SAFETY * rnd).reshape(shape), ana_rnd.reshape(shape)),
    )
    return res


def _maybe_taylor(res: GradCheckResult, f: Any, x: Array, g: Array, x_shape: tuple[int, ...]) -> None:
    """Ask the Taylor test along the worst entry (or direction) when the verdict is marginal."""
    ratio = res.ratio
    if ratio is None or ratio.size == 0 or res.user_tolerance:
        return
    worst = float(ratio[res.worst_index])
    if not (1.0 / MARGINAL <= worst <= MARGINAL):
        return
    if res.mode == "full":
        d = np.zeros(x.size)
        d[int(np.ravel_multi_index(res.worst_index, x_shape))] = 1.0
    else:
        j = res.worst_index[0]
        k = res.directions or 0
        if j < k:
            rng = np.random.default_rng(res.seed)
            for _ in range(j + 1):
                d = _rademacher(rng, x.size)
        else:
            d = g.ravel() / float(np.linalg.norm(g))
    res.taylor = taylor_test(f, x, g, direction=d.reshape(x_shape))
    res.n_evals += len(res.taylor.steps) + 1


# ---- the report -------------------------------------------------------------------------------

def _fmt(v: float) -> str:
    return f"{v: .6e}" if np.isfinite(v) else f"{v!s:>13}"


def _report(r: GradCheckResult) -> str:
    what = "Jacobian" if r.kind == "jacobian" else "gradient"
    unit = "directions" if r.mode == "directional" else "entries"
    head = "passed" if r.passed else "FAILED"
    lines = [f"{what} check {head}: {r.n_failed} of {r.n_checked} {unit} outside tolerance "
             f"(method {r.method}, {r.mode} mode, {r.n_evals} evaluations of f)"]
    if r.step is not None:
        st = np.asarray(r.step, dtype=np.float64)
        if st.size:
            lines.append(f"  step: {float(st.min()):.3g}" + (f"…{float(st.max()):.3g}" if st.max() > st.min()
                                                             else "") + (" per direction (unit directions)"
                                                                         if r.mode == "directional" else
                                                                         " per entry"))
    if r.mode == "directional":
        lines.append(f"  seed {r.seed}: replay with the same call and seed={r.seed}"
                     + (f"; {r.localised_note}" if r.localised_note else ""))
    elif r.seed is not None:
        lines.append(f"  seed {r.seed} (full mode draws no random numbers)")
    else:
        lines.append("  seed: none needed (full mode draws no random numbers)")
    lines.append(f"  max abs err {r.max_abs_err:.3g}, max rel err {r.max_rel_err:.3g} "
                 "(relative: |a − n| / max(|a|, |n|))")
    for p in r.problems[:10]:
        lines.append(f"  NOT FINITE: {p}")
    if len(r.problems) > 10:
        lines.append(f"  … and {len(r.problems) - 10} more non-finite values")
    ratio = r.ratio
    if ratio is not None and ratio.size:
        flat = ratio.ravel()
        order = np.argsort(-np.where(np.isnan(flat), np.inf, flat), kind="stable")
        if r.passed:
            shown = [int(i) for i in order[:3]]
        else:
            shown = [int(i) for i in order[:10] if not flat[i] <= 1.0] or [int(order[0])]
        if shown:
            label = "worst entries" if r.mode == "full" else "worst directions"
            lines.append(f"  {label} (error/tolerance > 1 fails):")
            lines.append(f"    {'index':<14}{'analytic':>14}{'numerical':>14}{'abs err':>11}{'rel err':>11}"
                         f"{'tolerance':>11}{'err/tol':>9}")
            A, N, T = r.analytic.ravel(), r.numerical.ravel(), r.tolerance.ravel()
            rel = _rel(A, N)
            shape = r.analytic.shape
            for i in shown:
                idx = str([int(v) for v in np.unravel_index(i, shape)]) if shape else "[]"
                ae = abs(A[i] - N[i])
                lines.append(f"    {idx:<14}{_fmt(A[i]):>14}{_fmt(N[i]):>14}{ae:>11.3g}{rel[i]:>11.3g}"
                             f"{T[i]:>11.3g}{flat[i]:>9.3g}")
    if r.localised:
        lines.append("  bisection localised the wrong entries to: "
                     + ", ".join(str(list(i)) for i in r.localised))
    if r.kinks:
        lines.append(f"  kinks ({len(r.kinks)}): the one-sided derivatives differ; a claim between them "
                     "(a subgradient) passes")
        for k in r.kinks[:8]:
            lines.append(f"    {k}")
    if r.mode == "directional" and r.miss_probability is not None:
        lines.append(f"  miss probability: an error above {r.detectable_error:.3g} in any one entry is seen "
                     f"by each random direction with probability ≥ 1/2, so slips through all "
                     f"with probability ≤ {r.miss_probability:.3g}; a lone wrong entry that large, "
                     "or a scale error along the claimed gradient, is seen with certainty")
    lines.append(f"  tolerance: {r.tolerance_reason}")
    terms = r.terms
    if terms is not None and r.n_checked and not r.user_tolerance:
        w = r.worst_index
        wt, wr, wa = (float(t[w]) for t in terms)
        lines.append(f"    at {list(w)}: {SAFETY:g}×truncation {wt:.2g} + {SAFETY:g}×rounding {wr:.2g} + "
                     f"claimed rounding {wa:.2g}")
    if r.taylor is not None:
        lines.append(f"  second opinion (verdict marginal): {r.taylor}")
    return "\n".join(lines)


# ---- public API -------------------------------------------------------------------------------

def check_grad(f: Callable[[Any], Any], x: ArrayLike, grad: Any, *, method: str = "central",
               directions: int | None = None, rtol: float | None = None, atol: float | None = None,
               seed: int | None = None) -> GradCheckResult:
    """Check a claimed gradient ∂f/∂x against finite differences, with a verdict from an error model.

    Parameters
    ----------
    f : callable
        Maps an array of x's shape to a scalar. For ``method="complex"`` it must accept complex input.
    x : array_like
        The point; real, finite; computed in float64.
    grad : array_like or callable
        The claimed gradient (x's shape; float32 is judged at float32 precision) or a callable
        returning it at x.
    method : {"central", "richardson", "complex"}
        Central differences with the step from the error model; Richardson extrapolation of central
        differences (h, 2h, 4h) with an error estimate; or the complex step Im f(x + ih)/h.
    directions : int, optional
        None compares every entry (about 4 evaluations per entry for central). An int k compares k
        directional derivatives along random Rademacher unit directions drawn from `seed`, plus the
        claimed gradient's own direction: 2k + 3 evaluations for central whatever x.size, and 2k + 2
        more per finer step when a direction fails or sits on a kink; a failure is localised by
        bisection.
    rtol, atol : float, optional
        When either is given it replaces the error model: an entry passes when
        |analytic − numerical| ≤ atol + rtol·|numerical| (a missing one counts as 0).
    seed : int, optional
        Seed of the random directions; None draws one and records it in the result.

    Returns
    -------
    GradCheckResult
        ``.passed`` and the report ``str(result)``. NaN or inf from f, the claim or the numerical
        gradient makes a failed result naming where; it is never raised.

    Raises
    ------
    ValueError
        The claimed gradient's shape differs from x's, an unknown method, f returns a non-scalar,
        x is not finite, or f modifies its input.
    TypeError
        x (or the claim) is not numeric, or f rejects complex input under ``method="complex"``.
    """
    # The checker's own arithmetic meets inf and NaN by design and reports them; a caller's
    # np.seterr(all="raise") or warnings filter must not turn that into an exception.
    with np.errstate(all="ignore"):
        return _check(f, x, grad, jacobian=False, method=method, directions=directions, rtol=rtol, atol=atol,
                      seed=seed)


def assert_grad(f: Callable[[Any], Any], x: ArrayLike, grad: Any, *, method: str = "central",
                directions: int | None = None, rtol: float | None = None, atol: float | None = None,
                seed: int | None = None) -> GradCheckResult:
    """`check_grad`, raising AssertionError with the report when the check fails; else the result."""
    result = check_grad(f, x, grad, method=method, directions=directions, rtol=rtol, atol=atol, seed=seed)
    if not result.passed:
        raise AssertionError("\n" + str(result))
    return result


def check_jacobian(f: Callable[[Any], Any], x: ArrayLike, jac: Any, *, method: str = "central",
                   directions: int | None = None, rtol: float | None = None, atol: float | None = None,
                   seed: int | None = None) -> GradCheckResult:
    """Check a claimed Jacobian ∂f/∂x of a vector-valued f; `jac` has shape f(x).shape + x.shape.

    Same arguments and verdict as `check_grad`, entry by entry of the Jacobian; in directional mode
    each direction compares a whole Jacobian-vector product J·d, output by output.
    """
    # (as in check_grad: inf and NaN are reported, never raised, whatever np.seterr says)
    with np.errstate(all="ignore"):
        return _check(f, x, jac, jacobian=True, method=method, directions=directions, rtol=rtol, atol=atol,
                      seed=seed)


def assert_jacobian(f: Callable[[Any], Any], x: ArrayLike, jac: Any, *, method: str = "central",
                    directions: int | None = None, rtol: float | None = None, atol: float | None = None,
                    seed: int | None = None) -> GradCheckResult:
    """`check_jacobian`, raising AssertionError with the report when the check fails."""
    result = check_jacobian(f, x, jac, method=method, directions=directions, rtol=rtol, atol=atol, seed=seed)
    if not result.passed:
        raise AssertionError("\n" + str(result))
    return result


def _numerical(f: Callable[[Any], Any], x_in: ArrayLike, method: str, jacobian: bool) -> Array:
    method = choose(method, "method", METHODS)
    x_arr = as_array(x_in, "x", complex_ok=False)
    x = x_arr.ravel().copy()
    ev = _Evaluator(f, x_arr.shape, scalar=not jacobian)
    f0 = ev.real(x)
    if method == "complex":
        num = _full_complex(ev, x, f0)[0]
    else:
        fr = _full_real(ev, x, f0, method)
        # At a kink there is no derivative: NaN, never the mean of the one-sided slopes.
        num = np.where(fr.kink, np.nan, fr.numerical)
        for i in fr.problems:
            num[i] = np.nan
    return num.T.reshape(ev.out_shape + x_arr.shape)


def numerical_grad(f: Callable[[Any], Any], x: ArrayLike, method: str = "central") -> Array:
    """The numerical gradient of scalar f at x (x's shape), by the checker's error-model steps.

    Entries where f has a kink are NaN (there is no derivative; `check_grad` reports the one-sided
    ones), as are entries where f was not finite on the stencil.
    """
    # (as in check_grad: inf and NaN are reported, never raised, whatever np.seterr says)
    with np.errstate(all="ignore"):
        return _numerical(f, x, method, jacobian=False)


def numerical_jacobian(f: Callable[[Any], Any], x: ArrayLike, method: str = "central") -> Array:
    """The numerical Jacobian of f at x, shape f(x).shape + x.shape (kinks and non-finite: NaN)."""
    # (as in check_grad: inf and NaN are reported, never raised, whatever np.seterr says)
    with np.errstate(all="ignore"):
        return _numerical(f, x, method, jacobian=True)


def taylor_test(f: Callable[[Any], Any], x: ArrayLike, grad: Any, *, direction: ArrayLike | None = None,
                seed: int | None = None, steps: int = 20) -> TaylorResult:
    """The Taylor-remainder test: a step-free second opinion on a claimed gradient.

    r(h) = |f(x + h·d) − f(x) − h·⟨g, d⟩| shrinks as h² when g is the gradient and as h when it is not.
    Steps halve from 0.1·max(1, rms x)/max|d| (no entry moves by more than 0.1·max(1, rms x));
    remainders within 16× of f's rounding are discarded, and the observed order is the median of
    log2 r(h)/r(h/2) over the finest remaining pairs.

    Parameters
    ----------
    f, x, grad
        As for `check_grad` (scalar f).
    direction : array_like, optional
        Unit direction (normalised here); default a Rademacher direction from `seed`.
    seed : int, optional
        Seed for the default direction; recorded in the result.
    steps : int
        Number of halvings.

    Returns
    -------
    TaylorResult
        ``.order`` (≈ 2 correct, ≈ 1 wrong), ``.passed`` (order ≥ 1.5, or inconclusive), ``.conclusive``.
    """
    # (as in check_grad: inf and NaN are reported, never raised, whatever np.seterr says)
    with np.errstate(all="ignore"):
        x_arr = as_array(x, "x", complex_ok=False)
        xf = x_arr.ravel()
        ev = _Evaluator(f, x_arr.shape, scalar=True)
        f0 = float(ev.real(xf)[0])
        g, _ = _as_claimed(grad, x_arr, x_arr.shape, "grad")
        used_seed = None
        if direction is None:
            used_seed = _draw_seed(seed)
            d = _rademacher(np.random.default_rng(used_seed), xf.size)
        else:
            d = as_array(direction, "direction", complex_ok=False).ravel()
            if d.size != xf.size:
                raise ValueError(f"direction has {d.size} entries but x has {xf.size}")
            d = d / float(np.linalg.norm(d))
        slope = float(g.ravel() @ d)
        h0 = 0.1 * max(1.0, float(np.sqrt(np.mean(xf * xf)))) / max(float(np.max(np.abs(d))), 1e-300)
        hs = h0 * 0.5 ** np.arange(steps)
        rem = np.empty(steps)
        floor = np.empty(steps)
        for i, h in enumerate(hs):
            fh = float(ev.real(xf + h * d)[0])
            rem[i] = abs(fh - f0 - h * slope)
            floor[i] = 16.0 * C_F * EPS * (abs(f0) + abs(fh) + abs(h * slope))
        valid = np.isfinite(rem) & (rem > floor)
        orders = []
        for i in range(steps - 1):
            if valid[i] and valid[i + 1]:
                orders.append(math.log2(rem[i] / rem[i + 1]))
        ords = np.array(orders)
        if ords.size == 0:
            return TaylorResult(float("nan"), True, False, hs, rem, ords, used_seed)
        order = float(np.median(ords[-3:]))
        return TaylorResult(order, order >= 1.5, True, hs, rem, ords, used_seed)
