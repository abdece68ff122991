"""The Taylor-remainder test: a step-free second opinion, and when a check asks for it.

r(h) = |f(x + h·d) − f(x) − h·⟨g, d⟩| shrinks as h² when g is the gradient and as h when it is not. Steps
halve from taylor_reach·max(1, rms x)/max|d|; remainders within taylor_floor × f's rounding are
discarded, and the observed order is the median of log2 r(h)/r(h/2) over the finest remaining pairs
(taylor_order or more passes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array, integer
from backprop_ref.gradcheck.directions import replay, signs
from backprop_ref.gradcheck.error_model import EPS, f_rounding, param, rms_scale
from backprop_ref.gradcheck.evaluation import Evaluator, draw_seed, parse_claim, quiet, working_precision
from backprop_ref.gradcheck.result import Judged, TaylorResult

__all__ = ["taylor_test", "second_opinion"]

Array = NDArray[np.float64]


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
    with quiet():
        steps = integer(steps, "steps", minimum=1)
        x_arr = as_array(x, "x", complex_ok=False)
        xf = x_arr.ravel()
        if xf.size == 0:
            raise ValueError("x has no entries: the Taylor test has no direction to step along")
        ev = Evaluator(f, x_arr.shape, scalar=True)
        f0 = float(ev.real(xf)[0])
        g, _ = parse_claim(grad, x_arr, x_arr.shape, "grad")
        used_seed = None
        if direction is None:
            used_seed = draw_seed(seed)
            d = signs(replay(used_seed, 0, xf.size))
        else:
            d = as_array(direction, "direction", complex_ok=False).ravel()
            if d.size != xf.size:
                raise ValueError(f"direction has {d.size} entries but x has {xf.size}")
            d = d / float(np.linalg.norm(d))
        slope = float(g.ravel() @ d)
        h0 = param("taylor_reach") * rms_scale(xf) / max(float(np.max(np.abs(d))), 1e-300)
        hs = h0 * 0.5 ** np.arange(steps)
        rem = np.empty(steps)
        floor = np.empty(steps)
        fhs = np.empty(steps)
        for i, h in enumerate(hs):
            fh = fhs[i] = float(ev.real(xf + h * d)[0])
            rem[i] = abs(fh - f0 - h * slope)
            floor[i] = param("taylor_floor") * f_rounding(abs(f0) + abs(fh) + abs(h * slope), 0.0)
        # f's precision from what it returned at x and along the steps (float32 f rounds at its eps)
        eps_f = working_precision(ev.out_eps, np.concatenate([[f0], fhs]))
        floor *= eps_f / EPS
        valid = np.isfinite(rem) & (rem > floor)
        ords = np.array([math.log2(rem[i] / rem[i + 1]) for i in range(steps - 1)
                         if valid[i] and valid[i + 1]])
        if ords.size == 0:
            return TaylorResult(float("nan"), True, False, hs, rem, ords, used_seed)
        order = float(np.median(ords[-3:]))
        return TaylorResult(order, order >= param("taylor_order"), True, hs, rem, ords, used_seed)


def second_opinion(j: Judged, f: Callable[[Any], Any], x: Array, g: Array,
                   seed: int | None) -> TaylorResult | None:
    """The Taylor test along the worst entry (or direction) when the verdict is marginal: the worst
    err/tol within `marginal` times of 1, either side. None otherwise, and None where f showed a kink
    or needed a finer step than the first anywhere: f is then not smooth at the Taylor test's steps,
    which reach far beyond the check's, and its order-1 remainder would be the kink's, not the claim's;
    None also where f's noise was measured: its remainders at small steps are that noise (a right claim
    of f·(1 + 1e-12·ξ) read as order 0.4), which the error model already counts."""
    w = j.verdict.worst()
    if w < 0 or j.kinks or j.noisy or (j.refined is not None and bool(j.refined.any())):
        return None
    worst = float(j.verdict.ratio.ravel()[w])
    if not (1.0 / param("marginal") <= worst <= param("marginal")):
        return None
    if j.directional is None:
        d = np.zeros(x.size)
        d[w] = 1.0   # full mode of a scalar f: the flat index is the entry's
    elif w < j.directional.directions:
        assert seed is not None
        d = signs(replay(seed, w, x.size))
    else:
        d = g.ravel() / float(np.linalg.norm(g))
    return taylor_test(f, x, g, direction=d.reshape(x.shape))
