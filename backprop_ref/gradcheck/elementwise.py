"""Elementwise mode: f(x)_i depends on x_i alone, so one evaluation of f moves every entry at once.

`check_elementwise(f, fprime, x)` judges each entry of fprime(x) against the central (or Richardson)
difference of f's own entry, f(x + h)_i − f(x − h)_i over 2h_i with h_i = step·max(|x_i|, 1): every
entry in the same evaluation of f, so the cost is a few evaluations per step size whatever x.size.
Each entry is its own scalar function and the rules are full mode's, entry by entry: f's rounding from
|f_i| and max(|x_i|, 1)·|g_i| (its own, not the largest entry's; no absolute floor, so that c·f is
judged as f for any c), the claim's from |g_i| and max(|f_i|, |g_i|), a claim that fails only within the
rounding of O(1) intermediates not judged (f's scale cannot show them), truncation from two step sizes,
a finer step (refine_factor at a time, refine_levels at most) where truncation dominates or the
one-sided gap does not scale with the step, a coarser one (grow_factor at a time) where f's rounding swamps
it, the steady-slopes rule deciding a kink and the interval rule judging it, a step shrunk to keep the
stencil in f's domain, and an entry where f jumps (or that moves f by less than its rounding) not
judged. The complex step is one evaluation f(x + ih), and one at x + 2ih for its truncation; an entry it
fails is probed again by central differences, and where those pass the claim while the two estimates
disagree beyond both bounds, f is not complex-analytic there (the entry is not judged).

That f is elementwise is tested first: moving half of the entries (a fixed alternating pattern) must
leave the other entries' values bit for bit unchanged; otherwise the perturbations would interact and
the check is refused (ValueError: use check_jacobian).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_ref._validate import choose
from backprop_ref.gradcheck.api import _claim_eps
from backprop_ref.gradcheck.error_model import (
    EPS,
    METHODS,
    MULTIPLES,
    TINY,
    claim_rounding,
    complex_rounding,
    dtype_name,
    f_rounding,
    intermediate_band,
    model_bound,
    param,
    step,
    underflow,
)
from backprop_ref.gradcheck.evaluation import (
    MUTATED,
    check_x,
    parse_claim,
    quiet,
    user_tolerance,
    working_precision,
)
from backprop_ref.gradcheck.full import wanted
from backprop_ref.gradcheck.kinks import KinkEvidence, steady, suspect
from backprop_ref.gradcheck.result import GradCheckResult, Judged, Kink, build_result, model_reason
from backprop_ref.gradcheck.stencils import Level, level_stats
from backprop_ref.gradcheck.verdict import band_reason, judge, within_band

__all__ = ["check_elementwise", "assert_elementwise"]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]
ALL_AT_ONCE = "; every entry moved at once (elementwise f)"


class _Batch:
    """Calls f on x's shape with every entry moved at once; counts the calls; checks the output's shape."""

    def __init__(self, f: Callable[[Any], Any], shape: tuple[int, ...]):
        self.f, self.shape, self.n_evals = f, shape, 0

    def __call__(self, flat: NDArray[Any], complex_input: bool = False) -> NDArray[Any]:
        self.n_evals += 1
        try:
            y = np.asarray(self.f(flat.reshape(self.shape)))
        except (ArithmeticError, ValueError):
            if complex_input or self.n_evals == 1:
                raise
            # f accepted x itself: its domain ends within the step (every entry's value is lost with it)
            return np.full(flat.size, np.nan)
        if y.dtype.kind not in "biufc":
            raise TypeError(f"f must return numbers; it returned dtype {y.dtype}")
        if y.shape != self.shape:
            raise ValueError(f"f must be elementwise: it returned shape {y.shape} for x of shape "
                             f"{self.shape} (use check_jacobian)")
        return y.ravel()


def _probe(ev: _Batch, x: Array, f0: Array, rows: NDArray[np.intp], h: Array, method: str) -> Level:
    """One probe level for the entries `rows` at steps `h`: one evaluation per stencil point for all."""
    mults = MULTIPLES[method]
    k = rows.size
    fp, fm = np.empty((len(mults), k, 1)), np.empty((len(mults), k, 1))
    hp, hm = np.empty((len(mults), k)), np.empty((len(mults), k))
    for s, mult in enumerate(mults):
        for sign, vals, steps in ((1.0, fp, hp), (-1.0, fm, hm)):
            buf = x.copy()
            buf[rows] = x[rows] + sign * mult * h
            vals[s, :, 0] = ev(buf).real[rows]
            steps[s] = np.abs(buf[rows] - x[rows])   # the steps actually taken, exact in floating point
    return level_stats(f0[rows, None], fp, fm, hp, hm, h, method)


def _require_elementwise(ev: _Batch, x: Array, f0: Array, h: Array) -> float:
    """Moving the even entries must leave the odd ones' values unchanged (and the other way round).

    Where they changed, f(x) is evaluated again: if it repeats itself, f couples its entries (a
    ValueError); if it does not, f is noisy (its summation order changing between calls), and the
    largest scatter of f(x) is returned for the caller to judge f another way (0.0 otherwise)."""
    if x.size < 2:
        return 0.0
    for moved in (0, 1):
        buf = x.copy()
        buf[moved::2] += h[moved::2]
        y = ev(buf)
        still = np.arange(1 - moved, x.size, 2)
        changed = still[~((y[still] == f0[still]) | (np.isnan(y[still]) & np.isnan(f0[still])))]
        if changed.size:
            again = ev(x.copy())
            scatter = np.abs(again - f0)
            if np.any(scatter[np.isfinite(scatter)] > 0):
                return float(np.max(scatter[np.isfinite(scatter)]))
            i = int(changed[0])
            raise ValueError(f"f is not elementwise: moving other entries changed f(x) at flat index {i} "
                             f"({f0[i]:.17g} → {y[i]:.17g}); use check_jacobian")
    return 0.0


def _noisy(f: Callable[[Any], Any], x: NDArray[Any], g: NDArray[Any], scatter: float, spent: int,
           method: str, rtol: float | None, atol: float | None, claim_dtype: Any) -> GradCheckResult:
    """A noisy elementwise f judged as the gradient of Σ f in full mode (`check_grad`), which measures
    f's noise and widens its bounds by it: entry i's claim f′(x_i) is ∂(Σ f)/∂x_i; that f is elementwise
    is taken from the caller, since noise hides whether other entries move f_i."""
    from backprop_ref.gradcheck.api import check_grad

    r = check_grad(lambda v: np.sum(np.asarray(f(v))), x, g, method=method, rtol=rtol, atol=atol,
                   claim_dtype=claim_dtype)
    note = (f"f is not deterministic (f(x) evaluated again moved by up to {scatter:.3g}): judged as the "
            "gradient of Σ f in full mode, which measures its noise; that f is elementwise is taken, not "
            "tested")
    return replace(r, kind="elementwise", notes=[note, *r.notes], n_evals=r.n_evals + spent)


def check_elementwise(f: Callable[[Any], Any], fprime: Any, x: Any, *, method: str = "central",
                      rtol: float | None = None, atol: float | None = None,
                      claim_dtype: Any = None) -> GradCheckResult:
    """Check the claimed derivative of an elementwise f (an activation), entry by entry, at x.

    Parameters
    ----------
    f : callable
        f(x) has x's shape and its entry i depends on x_i alone (tested: a ValueError otherwise).
    fprime : array_like or callable
        The claimed f′(x_i) per entry, x's shape (or a callable returning it at x).
    x : array_like
        The point, real and finite, of any shape.
    method, rtol, atol, claim_dtype
        As for `check_grad` (no directional mode: full mode already costs a few evaluations).

    Returns
    -------
    GradCheckResult
        kind "elementwise", mode "full": one entry per entry of x, with kinks, steps and the report.
        A second derivative is the elementwise derivative of the first:
        ``check_elementwise(fprime, fsecond, x)``.
    """
    with quiet():
        method = choose(method, "method", METHODS)
        user = user_tolerance(rtol, atol)
        x_arr = check_x(x)
        shape, xf = x_arr.shape, x_arr.ravel()
        ev = _Batch(f, shape)
        mine = xf.copy()
        y0 = ev(mine)
        if not np.array_equal(mine, xf):
            raise ValueError(MUTATED)
        out_eps = max(EPS, float(np.finfo(y0.dtype).eps)) if y0.dtype.kind == "f" else EPS
        f0 = y0.real.astype(np.float64)
        g_arr, eps_g = parse_claim(fprime, x_arr, shape, "fprime")
        if claim_dtype is not None:
            eps_g = max(eps_g, _claim_eps(claim_dtype))
        g = g_arr.ravel()
        problems = [f"the claimed fprime is {g[i]} at index {_index(int(i), shape)}"
                    for i in np.flatnonzero(~np.isfinite(g))[:1]]
        problems += [f"f(x) = {f0[i]} at index {_index(int(i), shape)}: f is not finite at x itself"
                     for i in np.flatnonzero(~np.isfinite(f0))[:1]]
        scatter = _require_elementwise(ev, xf, f0, step("central", out_eps) * np.maximum(np.abs(xf), 1.0))
        if scatter:
            # (the claim's precision as parsed: its dtype's, or the declared one)
            precision = np.dtype(dtype_name(eps_g))
            return _noisy(f, x_arr, g_arr, scatter, ev.n_evals, method, rtol, atol, precision)
        # the claim's rounding, as full mode's for a one-entry gradient: |g_i| twice, and its floor
        # (claim_floor) max(|f_i|, |g_i|), no absolute one: c·f is judged as f
        ana = claim_rounding(eps_g, 2.0 * np.abs(g), np.fmax(np.abs(f0), np.abs(g)))
        ana = ana + np.where(np.abs(g) < TINY, param("flush_floor") * TINY, 0.0)   # flushed to 0 below tiny
        if method == "complex":
            judged = _complex(ev, xf, f0, g, ana, eps_g, user, problems, shape)
        else:
            judged = _real(ev, xf, f0, g, ana, eps_g, out_eps, method, user, problems, shape)
        return build_result(judged, method=method, seed=None, n_evals=ev.n_evals, jacobian=False, user=user,
                            x_shape=shape, taylor=None, kind="elementwise")


def _real(ev: _Batch, x: Array, f0: Array, g: Array, ana: Array, eps_g: float, out_eps: float,
          method: str, user: Any, problems: list[str], shape: tuple[int, ...]) -> Judged:
    """Central or Richardson differences of every entry at once, refined entry by entry (module doc)."""
    n = x.size
    eps_f = out_eps
    h0 = step(method, eps_f) * np.maximum(np.abs(x), 1.0)
    lv = _probe(ev, x, f0, np.arange(n), h0, method)
    seen = working_precision(eps_f, np.concatenate([f0, lv.values.ravel()]))
    if seen != eps_f:   # f rounds to float32 (float16) though it returns float64: its own step
        eps_f = seen
        h0 = step(method, eps_f) * np.maximum(np.abs(x), 1.0)
        lv = _probe(ev, x, f0, np.arange(n), h0, method)
    floor = _first_order(x, g)[:, None]
    fields = {name: getattr(lv, name).copy() for name in lv.__dataclass_fields__ if name != "values"}
    notes: list[str] = []
    factor = param("refine_factor")
    # the domain: entries whose stencil left it are probed again with smaller steps, alone
    bad = np.flatnonzero(~lv.finite[:, 0])
    for level in range(1, int(param("refine_levels_max")) + 1):
        if bad.size == 0:
            break
        h = h0[bad] / factor ** level
        fine = _probe(ev, x, f0, bad, h, method)
        ok = fine.finite[:, 0]
        for name, arr in fields.items():
            arr[bad[ok]] = getattr(fine, name)[ok]
        notes += [f"entry {_at(int(i), shape)}: the step shrank from {float(h0[i]):.3g} to "
                  f"{float(hh):.3g} to keep the stencil inside f's domain" for i, hh in zip(bad[ok], h[ok])]
        h0[bad[ok]] = h[ok]
        bad = bad[~ok]
    problems += [f"entry {_at(int(i), shape)}: f is not finite on the stencil at any step down to "
                 f"{float(h0[i]) / factor ** param('refine_levels_max'):.3g}" for i in bad[:10]]
    lv = Level(**fields, values=lv.values)
    e = f_rounding(lv.fmax, floor, eps_f)
    rnd = np.maximum(e, lv.sigma) * lv.coef[:, None]
    num, trunc, step_used = lv.est.copy(), lv.trunc.copy(), h0[:, None].copy()
    left, right, side = lv.left.copy(), lv.right.copy(), lv.side_err.copy()
    susp = suspect(lv.gap1, lv.gap2, e, lv.h, lv.finite)
    open_ = lv.finite & (susp | (lv.trunc > param("refine_ratio") * e * lv.coef[:, None]))
    kink = np.zeros((n, 1), bool)
    jumped = (lv.jump > param("safety") * param("gap_noise") * e) & lv.finite
    jump_size, jump_step = lv.jump.copy(), h0[:, None].copy()
    best = np.where(lv.finite, trunc + rnd, np.inf)
    prev = (susp, lv.left, lv.right)
    for level in range(1, int(param("refine_levels")) + 1):
        rows = np.flatnonzero(open_[:, 0])
        if rows.size == 0:
            break
        h = h0[rows] / factor ** level
        fine = _probe(ev, x, f0, rows, h, method)
        ef = f_rounding(fine.fmax, floor[rows], eps_f)
        rf = np.maximum(ef, fine.sigma) * fine.coef[:, None]
        s_f = suspect(fine.gap1, fine.gap2, ef, fine.h, fine.finite)
        jumps = (fine.jump > param("safety") * param("gap_noise") * ef) & fine.finite
        kinked = s_f & prev[0][rows] & steady(fine.left, fine.right, prev[1][rows], prev[2][rows], fine.gap1)
        smooth = fine.finite & ~s_f & (fine.trunc <= param("refine_ratio") * ef * fine.coef[:, None])
        take = fine.finite & ~jumps & ((fine.trunc + rf < best[rows]) | smooth | kinked)
        r = rows[take[:, 0]]
        num[r], trunc[r], rnd[r] = fine.est[take[:, 0]], fine.trunc[take[:, 0]], rf[take[:, 0]]
        step_used[r] = h[take[:, 0], None]
        best[r] = (fine.trunc + rf)[take[:, 0]]
        left[rows], right[rows] = fine.left, fine.right
        side[rows] = fine.side_err + 2.0 * ef / h[:, None]
        kink[rows] = kinked
        jumped[rows] &= jumps
        jump_size[rows], jump_step[rows] = fine.jump, h[:, None]
        open_[rows] = ~smooth & fine.finite
        prev = (_put(prev[0], rows, s_f), _put(prev[1], rows, fine.left), _put(prev[2], rows, fine.right))
    kink &= ~jumped
    # where f's rounding swamps an entry, the step grows (grow_factor at a time) while truncation plus
    # rounding falls, as in full mode: f = 1e10 + sin(x) is judged, not buried
    grown = np.zeros((n, 1), bool)
    for level in range(1, int(param("grow_levels")) + 1):
        grow = ((rnd > trunc) & (param("safety") * (rnd + trunc) > wanted(g[:, None], num, eps_f))
                & ~kink & ~open_ & ~jumped & np.isfinite(num) & (grown | (level == 1)))
        rows = np.flatnonzero(grow[:, 0])
        if rows.size == 0:
            break
        h = h0[rows] * param("grow_factor") ** level
        wide = _probe(ev, x, f0, rows, h, method)
        ew = f_rounding(wide.fmax, floor[rows], eps_f)
        rw = np.maximum(ew, wide.sigma) * wide.coef[:, None]
        ok = (wide.finite & ~suspect(wide.gap1, wide.gap2, ew, wide.h, wide.finite)
              & (wide.jump <= param("safety") * param("gap_noise") * ew) & (wide.trunc + rw < best[rows]))
        r = rows[ok[:, 0]]
        num[r], trunc[r], rnd[r] = wide.est[ok[:, 0]], wide.trunc[ok[:, 0]], rw[ok[:, 0]]
        step_used[r] = h[ok[:, 0], None]
        best[r] = (wide.trunc + rw)[ok[:, 0]]
        grown[:] = False
        grown[r] = True
    num[bad] = np.nan
    ana2 = ana[:, None]
    bound = model_bound(trunc, rnd, ana2)
    # full mode's rule for an entry buried in f's rounding: its bound above its own value and above
    # eps_f^judge_power of the largest derivative; only entries that would otherwise pass (an entry
    # claimed 0 where every numerical value is 0 is judged; one claimed nonzero is not)
    scale = np.max(np.where(np.isfinite(num), np.abs(num), 0.0), initial=0.0)
    limit = np.maximum(np.maximum(np.abs(g)[:, None], np.abs(num)), eps_f ** param("judge_power") * scale)
    tol = bound if user is None else user.bound(num)
    nonzero = np.abs(g[:, None]) >= param("flush_floor") * TINY   # (a subnormal claim counts as 0)
    below = ((rnd > trunc) & (model_bound(trunc, rnd, 0.0) > limit) & ((scale > 0) | nonzero)
             & np.isfinite(num) & (np.abs(g[:, None] - num) <= tol) & ~kink & ~open_ & ~jumped)
    banded = within_band(g[:, None], num, bound, intermediate_band(eps_g, method), user,
                         kink | open_ | jumped | below)
    undecided = jumped | below | banded
    why = [f"{_at(int(i), shape)}: f jumps at {_at(int(i), shape)} by {float(jump_size[i, 0]):.3g} (its "
           f"one-sided differences keep their size down to a step of {float(jump_step[i, 0]):.3g}): no "
           "derivative" for i in np.flatnonzero(jumped[:, 0])]
    why += [f"{_at(int(i), shape)}: its effect on f is below f's rounding at every step (bound "
            f"{float(bound[i, 0]):.3g} at step {float(step_used[i, 0]):.3g})"
            for i in np.flatnonzero(below[:, 0])]
    why += _band_why(x, f0, g, num[:, 0], banded[:, 0], shape)
    fallback = open_ & ~kink & ~jumped
    evidence = KinkEvidence(kink.T, fallback.T, left.T, right.T, (param("safety") * side + ana2).T,
                            step_used.T)
    v = judge(g[None, :], num.T, bound.T, evidence, user, undecided.T)
    kinks = [Kink(tuple(int(k) for k in np.unravel_index(c, shape)), float(left[c, 0]), float(right[c, 0]),
                  float(g[c]), bool(v.kink_ok[0, c]), float(step_used[c, 0]))
             for c in np.flatnonzero(v.kink[0])]
    reason = model_reason(trunc.T, rnd.T, ana2.T, method, eps_g)
    if eps_f != EPS:
        reason += f"; f works in {dtype_name(eps_f)}: steps and f's rounding in its eps"
    return Judged("full", g, v, shape, kinks, problems, reason + ALL_AT_ONCE, step_used.reshape(shape),
                  (param("safety") * trunc.T, param("safety") * rnd.T, ana2.T), inconclusive=why, notes=notes)


def _complex(ev: _Batch, x: Array, f0: Array, g: Array, ana: Array, eps_g: float, user: Any,
             problems: list[str], shape: tuple[int, ...]) -> Judged:
    """Im f(x + ih)/h for every entry in one evaluation; failing entries rechecked by central differences."""
    h = step("complex") * np.maximum(np.abs(x), 1.0)
    y = ev(x + 1j * h, complex_input=True)
    if y.dtype.kind != "c":
        raise TypeError("method='complex' needs an f that carries complex input through, but f returned "
                        f"dtype {y.dtype}. Use method='central'.")
    num = (y.imag / h)[:, None]
    eps_c = max(EPS, float(np.finfo(y.dtype).eps))   # f's precision along the complex step (complex64)
    # the truncation h²·|f‴|/6 is measured by a second step 2h (one more evaluation for every entry):
    # nothing in f's values bounds it where f and f′ vanish (x³ at 0: −h² = −1e-40)
    num2 = (ev(x + 2j * h, complex_input=True).imag / (2.0 * h))[:, None]
    trunc = np.abs(num2 - num) / 3.0
    trunc = np.where(np.isfinite(trunc), trunc, 0.0)
    # as full mode's for a one-entry gradient: |num| twice and max(|f_i|, |num_i|) (g_floor)
    rnd = (complex_rounding(2.0 * np.abs(num) + np.fmax(np.abs(f0), np.abs(num[:, 0]))[:, None], eps_c)
           + underflow(h)[:, None])
    bound = model_bound(trunc, rnd, ana[:, None])
    tol = bound if user is None else user.bound(num)
    undecided = np.zeros_like(num, dtype=bool)
    why: list[str] = []
    failing = np.flatnonzero(~(np.abs(g[:, None] - num) <= tol)[:, 0])
    if failing.size:   # not complex-analytic where central differences pass what the complex step fails
        hc = step("central") * np.maximum(np.abs(x[failing]), 1.0)
        lv = _probe(ev, x, f0, failing, hc, "central")
        e = f_rounding(lv.fmax, _first_order(x[failing], g[failing])[:, None])
        real_tol = model_bound(lv.trunc, np.maximum(e, lv.sigma) * lv.coef[:, None], ana[failing, None])
        agrees = lv.finite & (np.abs(g[failing, None] - lv.est) <= real_tol)
        apart = np.abs(num[failing] - lv.est) > real_tol + bound[failing]   # the two estimates disagree
        hit = failing[(agrees & apart)[:, 0]]
        undecided[hit] = True
        why = [f"{_at(int(i), shape)}: f is not complex-analytic here (the complex step gives "
               f"{float(num[i, 0]):.6g}, central differences agree with the claim); use method='central'"
               for i in hit]
    banded = within_band(g[:, None], num, bound, intermediate_band(eps_g, "complex"), user, undecided)
    why += _band_why(x, f0, g, num[:, 0], banded[:, 0], shape)
    undecided |= banded
    v = judge(g[None, :], num.T, bound.T, KinkEvidence.none((1, x.size)), user, undecided.T)
    reason = model_reason(trunc.T, rnd.T, ana[None, :], "complex", eps_g)
    return Judged("full", g, v, shape, [], problems, reason + ALL_AT_ONCE,
                  h.reshape(shape), (param("safety") * trunc.T, param("safety") * rnd.T, ana[None, :]),
                  inconclusive=why, notes=[])


def _first_order(x: Array, g: Array) -> Array:
    """Each entry's first_order_scale, max(|x_i|, 1)·|g_i| (0 for a NaN claim: it says nothing of f's)."""
    scale = np.maximum(np.abs(x), 1.0) * np.abs(g)
    return np.where(np.isfinite(scale), scale, 0.0)


def _band_why(x: Array, f0: Array, g: Array, num: Array, banded: Mask, shape: tuple[int, ...]) -> list[str]:
    """The reasons of the entries `within_band`, with f's scale at each (max(|f_i|, first_order_scale))."""
    f_scale = np.fmax(np.abs(f0), _first_order(x, g))
    return [band_reason(_at(int(i), shape), float(abs(g[i] - num[i])), float(f_scale[i]))
            for i in np.flatnonzero(banded)]


def _put(a: NDArray[Any], rows: NDArray[np.intp], values: NDArray[Any]) -> NDArray[Any]:
    out = a.copy()
    out[rows] = values
    return out


def _index(flat: int, shape: tuple[int, ...]) -> str:
    return str([int(i) for i in np.unravel_index(flat, shape)]) if shape else "[]"


def _at(flat: int, shape: tuple[int, ...]) -> str:
    return "x" + _index(flat, shape) if shape else "x"


def assert_elementwise(f: Callable[[Any], Any], fprime: Any, x: Any, **options: Any) -> GradCheckResult:
    """`check_elementwise`, raising AssertionError with the report when it fails, InconclusiveCheck when it
    could not decide."""
    __tracebackhide__ = True
    return check_elementwise(f, fprime, x, **options).assert_passed()
