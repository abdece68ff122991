"""Stencils: one probe level of central (h, 2h) or Richardson (h, 2h, 4h) differences and its statistics.

A level's estimate D(h) errs by truncation, measured from the two step sizes (|D(h) − D(2h)|/3 for
central, |R(h) − R(2h)|/15 for Richardson), plus rounding e_f·coef/h; the one-sided slopes and their gap
feed the kink rules, the fourth difference of f sees noise the model misses. Full mode probes every
coordinate with them; the directional Richardson probe and bisection probe one direction each. Where
a coordinate's stencil leaves f's domain, `inside_domain` shrinks its step until it stays inside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.error_model import MULTIPLES, param
from backprop_ref.gradcheck.evaluation import MUTATED, Evaluator

__all__ = ["Level", "level_stats", "probe_level", "inside_domain"]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class Level:
    """The stencil statistics of one step size for a set of rows (coordinates or directions): (k, m)."""

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
    still: Mask       # f(x ± h) both equal f(x) exactly: the step is below what f resolves (or f is flat)
    jump: Array       # |f(x ± h) − f(x)| on a side whose difference does not grow with the step (0 if none)
    values: Array     # the f values of the stencil, (2·multiples, k, m): what f's precision is read from


def level_stats(f0: Array, fp: Array, fm: Array, hp: Array, hm: Array, h: Array, method: str) -> Level:
    """Statistics of f values `fp`, `fm` (multiple, row, output) at the steps actually taken `hp`, `hm`."""
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
        coef = 1.5 / h   # |coefficients| over the six f values: (4/3)·2/(2h) + (1/3)·2/(4h)
    fmax = np.maximum(np.abs(f0), np.maximum(np.abs(fp).max(0), np.abs(fm).max(0)))
    # the fourth difference f(−2h) − 4f(−h) + 6f(0) − 4f(h) + f(2h) of independent errors σ has spread √70·σ
    sigma = np.abs(fm[1] - 4.0 * fm[0] + 6.0 * f0 - 4.0 * fp[0] + fp[1]) / math.sqrt(70.0)
    side_err = np.maximum(np.abs(fwd[0] - fwd[1]), np.abs(bwd[0] - bwd[1]))
    finite = np.isfinite(fp).all(0) & np.isfinite(fm).all(0) & np.isfinite(est)
    # A one-sided difference grows with the step as the step does (2× from h to 2h) on a smooth f and at a
    # kink alike; across a jump it keeps the jump's size (jump_keep, jump_steep: ERROR_MODEL).
    keep, steep_by = param("jump_keep"), param("jump_steep")
    jump = np.zeros_like(est)
    for d1, d2, hs, other in ((fp[0] - f0, fp[1] - f0, hp[0], bwd[0]),
                              (f0 - fm[0], f0 - fm[1], hm[0], fwd[0])):
        steep = np.abs(d1) / hs[:, None] > steep_by * np.abs(other)
        jump = np.maximum(jump, np.where((np.abs(d2 - d1) <= keep * np.abs(d1)) & steep, np.abs(d1), 0.0))
    still = (fp[0] == f0) & (fm[0] == f0)
    return Level(h, est, trunc, coef, fwd[0] - bwd[0], fwd[1] - bwd[1], bwd[0], fwd[0], side_err,
                 fmax, sigma, finite, still, jump, np.concatenate([fp, fm]))


def probe_level(ev: Evaluator, x: Array, f0: Array, idx: NDArray[np.intp], h: Array,
                method: str) -> tuple[Level, list[str]]:
    """Probe coordinates `idx` at steps `h`; also, per coordinate, "" or its first non-finite value."""
    mults = MULTIPLES[method]
    k, m = idx.size, f0.size
    fp = np.empty((len(mults), k, m))
    fm = np.empty((len(mults), k, m))
    hp = np.empty((len(mults), k))
    hm = np.empty((len(mults), k))
    buf = x.copy()
    raised: dict[int, str] = {}

    def at(j: int, i: int, value: float, sign: str, mult: float) -> NDArray[np.float64]:
        buf[i] = value
        try:
            return ev.real(buf)
        except (ArithmeticError, ValueError) as exc:
            # f accepted x itself: an error at a stencil point is f's domain ending within the step
            # (math.log of a negative number, a solver's convergence error); a NaN to the probes
            raised.setdefault(j, f"f raised {type(exc).__name__} at x {sign} {h[j] * mult:.3g}·e_i "
                                 f"(x_i = {float(x[i]):.6g}): {exc}")
            return np.full(m, np.nan)

    for j, i in enumerate(idx):
        xi = x[i]
        for s, mult in enumerate(mults):
            up, down = xi + mult * h[j], xi - mult * h[j]
            hp[s, j], hm[s, j] = up - xi, xi - down   # the steps actually taken, exact in floating point
            fp[s, j] = at(j, i, up, "+", mult)
            fm[s, j] = at(j, i, down, "−", mult)
            if buf[i] != down:   # (entry i is reset below: checked here; the others once, at the end)
                raise ValueError(MUTATED)
        buf[i] = xi
    if not np.array_equal(buf, x):
        raise ValueError(MUTATED)
    lv = level_stats(f0, fp, fm, hp, hm, h, method)
    bad = [""] * k
    for r in np.flatnonzero(~lv.finite.all(1)):
        bad[r] = raised.get(int(r)) or _first_nonfinite(fp[:, r], fm[:, r], mults, float(h[r]),
                                                        float(x[idx[r]]))
    return lv, bad


def _first_nonfinite(fp: Array, fm: Array, mults: tuple[float, ...], h: float, xi: float) -> str:
    for s, mult in enumerate(mults):
        for sign, vals in (("+", fp[s]), ("−", fm[s])):
            if not np.isfinite(vals).all():
                v = vals[~np.isfinite(vals)][0]
                return f"f(x {sign} {h * mult:.3g}·e_i) = {v} at x_i = {xi:.6g}"
    return "the difference overflowed"


def inside_domain(ev: Evaluator, x: Array, f0: Array, method: str, lv: Level, h0: Array,
                  notes: dict[int, str], bad: list[str]) -> tuple[Level, Array]:
    """Entries whose stencil left f's domain (a value not finite, or f raised) are probed again with
    steps refine_factor, … times smaller (refine_levels_max at most) until every stencil point is
    finite: the first such level replaces the first one for them, with a note; an entry no step
    keeps inside stays a problem, named with its step."""
    h0 = h0.copy()
    rows = np.flatnonzero(~lv.finite.all(1))
    fields = {name: getattr(lv, name).copy() for name in lv.__dataclass_fields__ if name != "values"}
    for level in range(1, int(param("refine_levels_max")) + 1):
        if rows.size == 0:
            break
        h = h0[rows] / param("refine_factor") ** level
        fine, _ = probe_level(ev, x, f0, rows, h, method)
        ok = fine.finite.all(1)
        for name, arr in fields.items():
            arr[rows[ok]] = getattr(fine, name)[ok]
        for r in np.flatnonzero(ok):
            i = int(rows[r])
            notes[i] = (f"the step shrank from {float(h0[i]):.3g} to {float(h[r]):.3g} to keep the stencil "
                        f"inside f's domain ({bad[i] or 'f not finite'})")
            bad[i] = ""
            h0[i] = h[r]
        rows = rows[~ok]
    return Level(**fields, values=lv.values), h0
