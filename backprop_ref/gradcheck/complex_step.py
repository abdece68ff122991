"""The complex step of full mode: Im f(x + ih·e_i)/h for every entry, its noise and conditioning probes,
and the recheck by central differences where f is not complex-analytic.

The complex step has no subtractive cancellation, so it needs no refinement; what it can get wrong
is read here for the entries it would fail: f's noise (`repeat_noise`), the slope that amplifies an
ill-conditioned f's rounding (`complex_slopes`, for full mode's conditioning term), and an f that
drops or mangles the imaginary part (`not_analytic`); and the claims that only the rounding allowed at
the gradient's and f's scale would pass, which the exact estimate cannot settle (`only_by_scale`).
`judge_full` calls them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.error_model import (
    EPS,
    claim_floor,
    claimed_rounding,
    complex_rounding,
    f_rounding,
    first_order_scale,
    g_max,
    intermediate_band,
    model_bound,
    param,
    step,
)
from backprop_ref.gradcheck.evaluation import Evaluator, UserTolerance
from backprop_ref.gradcheck.stencils import probe_level
from backprop_ref.gradcheck.ties import pair_name

__all__ = ["probe_complex", "repeat_noise", "complex_slopes", "not_analytic", "only_by_scale"]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]


def probe_complex(ev: Evaluator, x: Array, f0: Array) -> tuple[Array, Array, dict[int, str]]:
    """Im f(x + ih·e_i)/h for every entry i: (entry, output) estimates, the steps, non-finite notes."""
    return _complex_steps(ev, x, f0.size, np.arange(x.size), np.zeros(x.size))


def _complex_steps(ev: Evaluator, x: Array, m: int, cols: NDArray[np.intp],
                   shift: Array) -> tuple[Array, Array, dict[int, str]]:
    """Im f(x + (shift_j + ih)·e_i)/h for the entries i = cols[j], h = complex_step·max(|x_i|, 1)."""
    h = step("complex") * np.maximum(np.abs(x[cols]), 1.0)
    num = np.empty((cols.size, m))
    buf = x.astype(np.complex128)
    problems: dict[int, str] = {}
    for j, i in enumerate(cols):
        buf[i] = complex(x[i] + shift[j], h[j])
        y = ev.complex(buf)
        buf[i] = x[i]
        num[j] = y.imag / h[j]
        if not np.isfinite(y).all():
            problems[j] = f"f(x + {h[j]:.3g}i·e_i) = {y[~np.isfinite(y)][0]} at x_i = {x[i]:.6g}"
    return num, h, problems


def repeat_noise(ev: Evaluator, x: Array, f0: Array) -> Array:
    """f's noise σ per output from noise_repeats more evaluations of f(x) (0 for a deterministic f): the
    sample standard deviation of f(x) and its repeats. Summation order that changes between calls
    (threads, GPU atomics) perturbs a value relative to the terms summed, and so perturbs the complex
    step's Im f(x + ih)/h by the same relative amount."""
    values = np.array([f0] + [ev.real(x.copy()) for _ in range(int(param("noise_repeats")))])
    # exactly 0 where f repeated itself (the mean of equal values can round away from them)
    return np.where((values == f0).all(axis=0), 0.0, np.std(values, axis=0, ddof=1))


def complex_slopes(ev: Evaluator, x: Array, num: Array, failing: Mask) -> Array:
    """|∂g_i/∂x_i| per (output, entry) for the entries in `failing`, read from the complex step at
    x ± δ·e_i (δ = conditioning_step·max(|x_i|, 1), two evaluations per such entry) as the smaller of
    the one-sided differences with the estimate at x (a side across a domain edge reads another
    branch); 0 elsewhere."""
    m, n = num.shape
    slope = np.zeros((n, m))
    cols = np.flatnonzero(failing.any(axis=0))
    if cols.size == 0:
        return slope.T
    delta = param("conditioning_step") * np.maximum(np.abs(x[cols]), 1.0)
    sides = []
    for sign in (1.0, -1.0):
        taken = (x[cols] + sign * delta) - x[cols]   # the offsets actually taken, exact in floating point
        at, _, _ = _complex_steps(ev, x, m, cols, taken)
        diff = np.abs(at - num[:, cols].T) / np.abs(taken)[:, None]
        sides.append(np.where(np.isfinite(diff), diff, np.inf))
    # the smaller side: on an analytic f the slope changes little over δ, while a side across a domain
    # edge or branch cut (√x at x = 1e-10 < δ) reads another branch, no slope at all
    low = np.minimum(sides[0], sides[1])
    slope[cols] = np.where(np.isfinite(low), low, 0.0)
    return slope.T


def not_analytic(ev: Evaluator, x: Array, f0: Array, G: Array, num: Array, bound: Array, ana_rnd: Array,
                  user: UserTolerance | None, out_shape: tuple[int, ...],
                  x_shape: tuple[int, ...]) -> tuple[NDArray[np.bool_], list[str]]:
    """Entries the complex step fails are probed again by central differences (up to
    complex_recheck of them): where the central estimate passes the claim while the complex one
    disagrees with it beyond both bounds, f is not complex-analytic there (np.abs, np.var, np.maximum,
    a conj): the complex step has nothing to say, and the entry is not judged. A claim that fails
    both stands as a failure."""
    m, n = G.shape
    undecided = np.zeros((m, n), bool)
    tol = bound if user is None else user.bound(num)
    failing = ~(np.abs(G - num) <= tol)
    cols = np.flatnonzero(failing.any(axis=0))[: int(param("complex_recheck"))]
    if cols.size == 0:
        return undecided, []
    eps_f = max(ev.out_eps, ev.complex_eps)
    h = step("central", eps_f) * np.maximum(np.abs(x[cols]), 1.0)
    lv, _ = probe_level(ev, x, f0, cols, h, "central")
    e = f_rounding(lv.fmax, first_order_scale(G, x), eps_f)
    real_tol = model_bound(lv.trunc, np.maximum(e, lv.sigma) * lv.coef[:, None], ana_rnd[:, cols].T)
    if user is not None:
        real_tol = user.bound(lv.est)
    agrees = lv.finite & (np.abs(G[:, cols].T - lv.est) <= real_tol)
    apart = np.abs(num[:, cols].T - lv.est) > real_tol + bound[:, cols].T
    hit = (agrees & apart & failing[:, cols].T).T
    undecided[:, cols] = hit
    why = [pair_name(int(r), int(cols[c]), out_shape, x_shape)
           + f": f is not complex-analytic here (the complex step gives {float(num[r, cols[c]]):.6g}, "
           f"central differences {float(lv.est[c, r]):.6g}); use method='central'"
           for r, c in zip(*np.nonzero(hit))]
    return undecided, why


def only_by_scale(G: Array, num: Array, f0: Array, eps_g: float, eps_c: float, cond: Array, bound: Array,
                   user: UserTolerance | None, undecided: Mask, out_shape: tuple[int, ...],
                   x_shape: tuple[int, ...]) -> tuple[Mask, list[str]]:
    """The complex step's (output, entry) pairs whose claim differs from the estimate by more than either's
    rounding at the entry's own scale (its magnitude, the largest derivative of any output by the same
    entry, the O(1) band) and is within the bound only by the rounding allowed at the gradient's and
    f's scale (max|g|, |f|), a bound above the entry itself: a sign error could hide there (Σ x² at
    [1e-8, 1e8]: 8·eps·|f| ≈ 18 would pass any sign of x[0]'s 2e-8, which the estimate gives exactly).
    Not judged, with the reason; none under the user's tolerance (it decides)."""
    if user is not None:
        return np.zeros(G.shape, bool), []
    zero = np.zeros_like(f0)
    own = (model_bound(0.0, complex_rounding(np.abs(num) + claim_floor(num, zero), eps_c),
                       claimed_rounding(eps_g, np.abs(G)) + claimed_rounding(EPS, claim_floor(G, zero)))
           + cond + intermediate_band(eps_g, "complex"))
    diff = np.abs(G - num)
    sized = (np.isfinite(diff) & (diff > own) & (diff <= bound) & (bound > np.maximum(np.abs(G), np.abs(num)))
             & ~undecided)
    why = [f"{pair_name(int(r), int(c), out_shape, x_shape)}: the claim differs by {diff[r, c]:.2g}, "
           f"more than the complex estimate's and the claim's rounding at the entry's own scale "
           f"({own[r, c]:.2g}), and is within the bound ({bound[r, c]:.2g}) only by the rounding allowed "
           f"at the gradient's and f's scale (max|g| = {float(g_max(num)[r]):.2g}, |f| = "
           f"{abs(float(f0[r])):.2g}), which exceeds the entry itself: that scale cannot tell rounding "
           f"from error; pass atol to decide"
           for r, c in zip(*np.nonzero(sized))]
    return sized, why
