"""Directional mode's steps: where its first step does not do.

A direction whose stencil leaves f's domain shrinks its step (`inside_domain`); where f's rounding
swamps the step it grows, its truncation then measured from two step sizes (`grow`); a direction no
admissible step resolves is not judged (`buried`); and where a direction fails on values that are all
float32 numbers, f may work in float32 (`float32_numbers`). `judge_directional` calls them.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from backprop_ref.gradcheck.directions import Claim, Probes, direction_name, probe
from backprop_ref.gradcheck.error_model import EPS, TINY, model_bound, param, step
from backprop_ref.gradcheck.evaluation import Evaluator
from backprop_ref.gradcheck.verdict import Verdict

__all__ = ["float32_numbers", "inside_domain", "grow", "buried"]

Array = NDArray[np.float64]


def float32_numbers(f0: Array, dr: Probes) -> bool:
    """Whether every finite value f gave, at x and on the stencils, is a float32 number."""
    seen = np.concatenate([f0, dr.values.ravel()])
    seen = seen[np.isfinite(seen)]
    return bool(seen.size and np.array_equal(seen.astype(np.float32).astype(np.float64), seen))


def inside_domain(ev: Evaluator, x: Array, f0: Array, cl: Claim, dr: Probes, method: str, scale: float,
                  k: int, seed: int, eps_f: float) -> tuple[list[str], int]:
    """Directions whose stencil left f's domain (a value not finite, or f raised) are probed again with
    steps refine_factor, … times smaller (refine_levels_max at most) until every point is finite: the
    first such probe replaces theirs, with a note; a direction no step keeps inside stays a problem.
    Also returns the deepest level taken (0 when none)."""
    notes = []
    deepest = 0
    shrunk = np.zeros(dr.steps.size, bool)
    # the finest per-entry move x resolves (jump_spacing spacings of its largest entry): below it x ± t·d
    # rounds towards x, and f would be judged at x itself
    finest = param("jump_spacing") * float(np.spacing(np.max(np.abs(x), initial=0.0)))
    first = step(method if method == "richardson" else "directional", eps_f) * scale
    for level in range(1, int(param("refine_levels_max")) + 1):
        if first / param("refine_factor") ** level < finest:
            break
        fine = probe(ev, x, f0, cl, method, scale / param("refine_factor") ** level, k, seed, dr.noise, eps_f)
        inside = np.array([j in dr.problems and j not in fine.problems for j in range(dr.steps.size)])
        # a direction brought inside is refined further while the stencil stays inside and its bound
        # falls (the truncation of √x at 1e-10, once the step fits, is the larger term)
        finite = ~np.isin(np.arange(dr.steps.size), list(fine.problems))
        finer = shrunk & finite & (fine.tol < dr.tol).all(axis=1)
        if not (inside.any() or finer.any()):
            if not dr.problems:
                break
            continue
        for j in np.flatnonzero(inside):
            notes.append(f"direction {int(j)}: the step shrank from {float(dr.steps[j]):.3g} to "
                         f"{float(fine.steps[j]):.3g} to keep the stencil inside f's domain "
                         f"({dr.problems.pop(int(j))})")
        dr.take(fine, inside | finer)
        shrunk |= inside
        deepest = level
    return notes, deepest


def grow(ev: Evaluator, x: Array, f0: Array, cl: Claim, dr: Probes, method: str, scale: float, k: int,
         seed: int, eps_f: float, judged: NDArray[np.bool_]) -> bool:
    """Grow the steps where f's rounding swamps them (f = 1e10 + Σ sin x: its moves at the directional
    step lie below its rounding, and every estimate reads 0 under a bound of 1e3): where rounding is
    the larger term and the bound exceeds the accuracy a direction asks for (eps_f^resolve_power of the
    largest of its claim, its estimate and the claim's norm), probe again at grow_factor× the step, up to
    full mode's widest step (step("central")·grow_factor^grow_levels per entry: still local), and take
    the directions whose bound falls. At such steps the curvature bound t·|φ″|/6 no longer bounds the
    truncation t²·|φ‴|/6 (Σσ with entries saturated on both sides: their φ″ cancel, their φ‴ do not),
    so a grown step's truncation is measured as full mode's is, from two step sizes: |D(t) − D(t′)|/(1 −
    (t′/t)²) against the estimate D(t′) the direction had (its rounding counted in, which only widens
    the bound). True if any grew."""
    power = param("resolve_power") if eps_f == EPS else param("resolve_power_low")
    # the claim's scale over every output, as full mode's: a Jacobian row of tiny derivatives is judged
    # against the Jacobian's scale, as its error would be seen in J·v
    top = np.max(np.where(np.isfinite(dr.analytic), np.abs(dr.analytic), 0.0), initial=0.0)
    widest = step("central", eps_f) * param("grow_factor") ** param("grow_levels")
    levels = int(math.log(widest / step(method if method == "richardson" else "directional", eps_f))
                 / math.log(param("grow_factor")))
    grew = False
    for level in range(1, levels + 1):
        # (a claim and estimate below the smallest normal number count as 0: nothing to resolve)
        wanted = eps_f ** power * np.maximum(np.maximum(np.abs(dr.analytic), np.abs(dr.numerical)), top)
        rows = judged & ((dr.rnd >= dr.trunc) & (param("safety") * (dr.rnd + dr.trunc) > wanted)
                         & (wanted >= eps_f ** power * param("flush_floor") * TINY)).any(axis=1)
        if not rows.any():
            break
        big = probe(ev, x, f0, cl, method, scale * param("grow_factor") ** level, k, seed, dr.noise, eps_f)
        shrink = 1.0 - (dr.steps / big.steps) ** 2
        big.trunc = np.maximum(big.trunc, np.abs(big.numerical - dr.numerical) / shrink[:, None])
        big.tol = model_bound(big.trunc, big.rnd, big.ana_rnd)
        usable = ~np.isin(np.arange(dr.steps.size), list(big.problems))
        better = rows & (big.tol < dr.tol).all(axis=1) & usable
        if not better.any():
            break
        dr.take(big, better)
        grew = True
    return grew


def buried(dr: Probes, v: Verdict, judged: NDArray[np.bool_], eps_f: float, method: str,
           jacobian: bool) -> tuple[NDArray[np.bool_], list[str]]:
    """The (direction, output) pairs whose bound, at the step the probes ended with, has rounding as its
    larger term and exceeds the pair's own claim and estimate and eps_f^judge_power of the claim's
    largest directional derivative (as full mode's rule): its effect on f is below f's rounding at every
    admissible step, and it is not judged where it would pass. Where every claim and estimate is 0 (f
    flat, an unused parameter claimed 0; below the smallest normal number, flush_floor) the pair is
    judged."""
    if method == "complex":
        return np.zeros(dr.analytic.shape, bool), []
    # the claim's scale over every output, as full mode's: a Jacobian row of tiny derivatives is judged
    # against the Jacobian's scale, as its error would be seen in J·v
    top = np.max(np.where(np.isfinite(dr.analytic), np.abs(dr.analytic), 0.0), initial=0.0)
    own = np.maximum(np.abs(dr.analytic), np.abs(dr.numerical))
    limit = np.maximum(own, eps_f ** param("judge_power") * top)
    buried = (judged[:, None] & v.ok & ~v.kink & (dr.rnd > dr.trunc) & (dr.tol - dr.ana_rnd > limit)
              & (np.maximum(own, top) >= param("flush_floor") * TINY))
    why = [f"{direction_name(int(j), int(c), jacobian)}: its effect on f is below f's "
           f"rounding at every admissible step (bound {float(dr.tol[j, c]):.3g} at step "
           f"{float(dr.steps[j]):.3g}, above the claim {float(dr.analytic[j, c]):.3g}, the estimate "
           f"{float(dr.numerical[j, c]):.3g} and the claim's scale {top:.3g})"
           for j, c in zip(*np.nonzero(buried))]
    return buried, why
