"""The directional mode's verdict: what is re-probed, what is a kink at x, and what the summary promises.

Pins, for ``directions=k`` (central unless said otherwise): which directions are probed again at the
16× finer steps (those that fail, or pass only by the curvature bound; never one whose f was not
finite, never the complex step), when a finer estimate replaces the coarse one (it differs by more
than both bounds) and how far that goes (REFINE_LEVELS steps); the kink-at-x rule (a one-sided gap
above the slopes' rounding that keeps its size, with slopes that stay put within a quarter of it),
its bound and its inclusive edges, that a kink found once keeps the slopes of that probe, and that a
claim outside the one-sided slopes fails; and the miss probability and detectable error, at a kink too.

Most f here are piecewise linear in v[0] at x = 0 with n = 4 (or 16) entries: every step is a power
of two (the directional step is 2^-26 and a Rademacher entry ±1/2 or ±1/4), so the one-sided slopes
the checker measures are exactly the slopes written into f, at either step, and boundaries of the
rules can be hit exactly.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from checker_internals import direction_signs, quartic, quartic_grad

from backprop_ref.gradcheck import ERROR_MODEL, check_grad, check_jacobian

EPS = float(np.finfo(np.float64).eps)
DS = ERROR_MODEL["directional_step"][0]          # 2^-26: the per-entry perturbation at unit scale
SAFETY = ERROR_MODEL["safety"][0]
C_F = ERROR_MODEL["f_rounding"][0]
FACTOR = ERROR_MODEL["refine_factor"][0]
LEVELS = int(ERROR_MODEL["refine_levels"][0])
NOISE_REPEATS = int(ERROR_MODEL["noise_repeats"][0])
TAU = DS / 4                                      # between the coarse (DS) and finer (DS/16) perturbations
X4 = np.zeros(4)


def sloped(r_coarse, l_coarse, r_fine=None, l_fine=None):
    """f(v) = s·R for s = v[0] > 0 and s·L below, with slopes (R, L) that may differ at the finer step."""
    r_fine = r_coarse if r_fine is None else r_fine
    l_fine = l_coarse if l_fine is None else l_fine

    def f(v):
        s = float(v[0])
        right, left = (r_fine, l_fine) if abs(s) < TAU else (r_coarse, l_coarse)
        return s * (right if s > 0 else left)
    return f


def slopes_along(d0, right, left):
    """(left, right) one-sided slopes of t ↦ f(x + t·d) for f = sloped(...) at x = 0."""
    return (d0 * left, d0 * right) if d0 > 0 else (d0 * right, d0 * left)


def summary_holds(r):
    # a lone error e in one entry moves ⟨g, d⟩ by e/√n along every random direction; the estimate errs
    # by at most the bound, so e/√n ≥ 2·bound is always seen: detectable = 2√n × the largest bound
    k, n = r.directions, int(np.prod(r.x_shape))
    tol = r.tolerance[:k]
    assert r.miss_probability == 2.0 ** -k
    largest = np.max(tol[np.isfinite(tol)])
    assert r.detectable_error == pytest.approx(2.0 * math.sqrt(n) * largest, rel=1e-15, abs=0)


# ---- which directions are probed again ----------------------------------------------------------

@pytest.mark.parametrize("atol, moved_random, moved_own", [
    (None, True, True),      # the error model's bounds are far below a move of log(16)/4
    (0.25, True, True),      # each level moves the estimate by more than twice the tolerance
    (1.25, False, True),     # random rows move 0.69 per level (2.08 over three): within 2·atol
    (2.0, False, False),     # nothing moves by more than 4: no level is taken, the first one ends it
])
def test_a_finer_estimate_is_taken_when_it_differs_by_more_than_both_bounds(atol, moved_random, moved_own):
    # f = v0·log|v0| has no derivative at 0: along d the central difference is d0·log(t·|d0|), so each
    # 16× finer step moves it by |d0|·log 16 (0.69 for a random direction of 16 entries, 2.77 along
    # the own direction e_0). A finer estimate replaces the one in hand when they differ by more than
    # the sum of their bounds (2·atol for a user atol), for at most LEVELS levels.
    x = np.zeros(16)
    f = lambda v: float(v[0] * np.log(abs(v[0]) + 1e-300))  # noqa: E731
    g = np.zeros(16)
    g[0] = 1.0
    k = 3
    r = check_grad(f, x, g, directions=k, seed=0, atol=atol)
    assert not r.passed and r.kinks == []
    coarse = np.array([DS * 4.0] * k + [DS])    # the step moves the direction's largest entry by DS
    finest = coarse / FACTOR ** LEVELS
    expect = np.where([moved_random] * k + [moved_own], finest, coarse)
    np.testing.assert_array_equal(r.step, expect)
    summary_holds(r)


def test_a_finer_estimate_within_exactly_both_bounds_is_not_taken():
    # slopes 1 at the coarse step, 1.25 at the finer one: the central differences along a ±1/2
    # direction are 0.5 and 0.625 exactly, 2·atol apart for atol = 1/16 (no own direction: g = 0)
    f = sloped(1.0, 1.0, 1.25, 1.25)
    r = check_grad(f, X4, np.zeros(4), directions=3, seed=0, atol=0.0625)
    np.testing.assert_array_equal(r.step, DS * 2.0)
    np.testing.assert_array_equal(np.abs(r.numerical), 0.5)
    r = check_grad(f, X4, np.zeros(4), directions=3, seed=0, atol=0.0625 * (1 - 2 ** -10))
    np.testing.assert_array_equal(r.step, DS * 2.0 / FACTOR)   # finer levels no longer move it
    np.testing.assert_array_equal(np.abs(r.numerical), 0.625)


@pytest.mark.parametrize("case", ["at the bound", "float32 claim", "above the bound"])
def test_a_direction_is_re_probed_only_when_it_passes_by_more_than_rounding(case):
    k = 3
    if case == "float32 claim":
        # f's gradient 2x is exact in float32, and the bound without truncation (S·rounding + the
        # claim's float32 rounding, the larger) covers the difference: no direction leans
        x = np.array([0.5, -0.25, 1.0, 0.75])
        r = check_grad(lambda v: float(v @ v), x, (2 * x).astype(np.float32), directions=k, seed=0)
        evals = 2 * (k + 1) + 1
    else:
        # a step of height V in f at x: along ±1/2 directions the central difference is ±V/2t and the
        # curvature bound carries the pass. V/2t equal to S·rounding + the claim's rounding (read off
        # the result of f = 0: the same f-rounding floor and the same zero claim) is not "more".
        base = check_grad(lambda v: 0.0, X4, np.zeros(4), directions=k, seed=0)
        bound = base.terms[1][0] + base.terms[2][0]
        t = base.step[0]
        scale = 1.5 if case == "above the bound" else 1.0
        V = 2 * t * bound * scale
        r = check_grad(lambda v: V if v[0] > 0 else 0.0, X4, np.zeros(4), directions=k, seed=0)
        np.testing.assert_array_equal(np.abs(r.numerical), V / (2 * t))
        # leaning: f(x) evaluated noise_repeats times more (is f noisy?), then the finer probe
        evals = 2 * k + 1 + (NOISE_REPEATS + 2 * k if case == "above the bound" else 0)
    assert r.passed and r.kinks == []
    taylor = 0 if r.taylor is None else len(r.taylor.steps) + 1
    assert r.n_evals == evals + taylor


def test_the_users_bound_reached_exactly_passes_without_a_re_probe():
    k = 4
    x = np.linspace(-1.5, 1.2, 6)
    g = quartic_grad(x)
    loose = check_grad(quartic, x, g, directions=k, seed=3, atol=1.0)
    assert loose.n_evals == 2 * k + 3                 # 2 per direction, the own one included, and f(x)
    err = float(np.max(loose.abs_err))
    r = check_grad(quartic, x, g, directions=k, seed=3, atol=err)
    assert r.passed and r.n_evals == 2 * k + 3
    np.testing.assert_array_equal(r.numerical, loose.numerical)


def test_only_the_directions_that_fail_or_lean_are_re_probed_and_shown_as_kinks():
    # Σ relu at x = (0, 1, 1, −1), claimed ReLU′(0) = 0.5 (the central mean) and an error ±0.4 in
    # entries 1 and 2. Along a direction with equal signs there the error cancels: claim = central
    # difference, no re-probe, no kink shown. Elsewhere it shows, the kink at x_0 is found, and the
    # claim lies 0.4 − 0.25 outside the slopes' interval (0.5·|d_0| on either side of the mean).
    x = np.array([0.0, 1.0, 1.0, -1.0])
    f = lambda v: float(np.sum(np.maximum(v, 0.0)))  # noqa: E731
    g = np.array([0.5, 1.4, 0.6, 0.0])
    k, seed = 4, 0
    d = direction_signs(seed, 4, k)
    cancels = [bool(s[1] == s[2]) for s in d]
    assert any(cancels) and not all(cancels)
    r = check_grad(f, x, g, directions=k, seed=seed)
    assert not r.passed
    shown = sorted(kk.index[0] for kk in r.kinks)
    assert shown == [j for j in range(k) if not cancels[j]] + [k]   # the own direction sees it too
    assert not any(kk.passed for kk in r.kinks if kk.index[0] < k)


def test_a_direction_whose_f_is_not_finite_shrinks_its_step_and_only_it_is_noted():
    # f is undefined past v0 − v1 = DS/2: the stencil ±DS crosses it where the signs of d_0, d_1
    # differ. Those directions shrink their step (16× at a time: every direction is probed again at
    # each level) until the stencil stays inside, each with a note; the others keep their figures
    f = lambda v: quartic(v) if v[0] - v[1] < DS / 2 else np.nan  # noqa: E731
    x = np.array([0.5, 0.5, -0.25, 1.0])
    k, seed = 4, 0
    bad = [j for j, s in enumerate(direction_signs(seed, 4, k)) if s[0] != s[1]]
    assert 0 < len(bad) < k
    r = check_grad(f, x, quartic_grad(x), directions=k, seed=seed)
    assert r.passed and not r.problems, str(r)
    assert [n.split(":")[0] for n in r.notes] == [f"direction {j}" for j in bad]
    levels, rest = divmod(r.n_evals - (2 * (k + 1) + 1), 2 * (k + 1))
    assert levels >= 1 and rest == 0
    good = [j for j in range(k) if j not in bad]
    assert np.all(np.asarray(r.step)[good] == np.asarray(r.step)[good][0])   # untouched: one step
    assert np.all(np.asarray(r.step)[bad] < np.asarray(r.step)[good][0] / 8)
    summary_holds(r)


def test_a_finer_probe_that_meets_a_non_finite_value_is_not_taken():
    # Output 0's slope is 1 at the coarse step and 2 at the finer one (its estimate moves by 1/2);
    # output 1 has a pole exactly where the finer probe lands (x_0 + DS/16). The coarse figures stand.
    pole = DS / FACTOR
    f = lambda v: np.array([sloped(1.0, 1.0, 2.0, 2.0)(v), 1.0 / (v[0] - pole)])  # noqa: E731
    J = np.zeros((2, 4))
    J[0, 0], J[1, 0] = 1.5, -1.0 / pole**2
    r = check_jacobian(f, X4, J, directions=3, seed=0)
    assert not r.passed
    np.testing.assert_array_equal(r.step, DS * 2.0)
    np.testing.assert_array_equal(np.abs(r.numerical[:, 0]), 0.5)
    assert np.isfinite(r.numerical).all()


def test_the_complex_step_is_never_re_probed():
    calls = []

    def f(v):
        calls.append(float(np.max(np.abs(np.imag(v)))) if np.iscomplexobj(v) else None)
        return np.sum(v**4 / 4 + v)

    x = np.linspace(-1, 1, 8)
    g = quartic_grad(x)
    g[5] += 0.5
    r = check_grad(f, x, g, method="complex", directions=3, seed=0)
    assert not r.passed and r.localised == [(5,)]
    # one complex evaluation per direction, and conditioning_draws more per failing one (all four: each
    # random direction has d_5 = ±1/√8, the own one g_5/‖g‖ ≠ 0) at x moved by sqrt(eps)-sized steps to
    # read the slope of the estimate, every one at the direction's own step t·max|d| = 1e-20·max(1, rms x)
    steps = [c for c in calls if c is not None]
    assert len(steps) == 4 + 4 * int(ERROR_MODEL["conditioning_draws"][0])
    assert steps == pytest.approx([1e-20 * max(1.0, float(np.sqrt(np.mean(x**2))))] * len(steps), rel=1e-12)
    assert r.n_evals == len(calls)


# ---- the kink at x ------------------------------------------------------------------------------

@pytest.mark.parametrize("slopes, kink", [
    ((1.0, 0.0, 1.0, 0.0), True),                     # relu: the gap and both slopes stay put
    ((1.0, -1.0, 2.0, -2.0), True),                   # the gap doubles, each slope moves a quarter of it
    ((1.0, 0.0, 1.25, 0.25), True),                   # both slopes move a quarter of the gap
    ((1.0, 0.0, 1.5, 0.5), False),                    # ... half of it: they do not stay put
    ((1.0, 0.0, 0.53125, 0.46875), False),            # the gap shrinks 16×: curvature
])
def test_a_kink_at_x_is_a_gap_that_keeps_its_size_with_slopes_that_stay_put(slopes, kink):
    rc, lc, rf, lf = slopes
    k, seed = 4, 0
    g = np.array([0.25, 0.0, 0.0, 0.0])              # not the central mean along any direction
    r = check_grad(sloped(*slopes), X4, g, directions=k, seed=seed)
    d0 = [s[0] / 2 for s in direction_signs(seed, 4, k)] + [1.0]
    assert min(d0) < 0 < max(d0)
    assert [kk.index for kk in r.kinks] == ([(j,) for j in range(k + 1)] if kink else [])
    for kk in r.kinks:
        (j,) = kk.index
        assert (kk.left, kk.right) == slopes_along(d0[j], rf, lf)
        assert kk.step == r.step[j] / FACTOR
        # the bound: S × (drift of the slopes between the steps + their rounding 2e_f/t at the finer
        # step) + the claim's rounding; e_f = C_F·eps·max|f| over the finer stencil (f's own values at
        # x ± t·d, which depend on v_0 = ±t·d_0 alone) + the representation error eps·‖g‖·(‖x‖ + 1)
        c_left, c_right = slopes_along(d0[j], rc, lc)
        drift = max(abs(kk.left - c_left), abs(kk.right - c_right))
        e0 = np.eye(4)[0]
        fmax = max(abs(sloped(*slopes)(X4 + side * kk.step * d0[j] * e0)) for side in (-1.0, 1.0))
        e_f = C_F * EPS * fmax + EPS * np.linalg.norm(g) * (np.linalg.norm(X4) + 1.0)
        bound = SAFETY * drift + SAFETY * 2 * e_f / kk.step + r.terms[2][j]
        # (rel 1e-12: the same sum in another order; the claim's rounding alone is ~1e-10 of it)
        assert r.tolerance[j] == pytest.approx(bound, rel=1e-12, abs=0)
        assert kk.passed and kk.analytic == r.analytic[j]


@pytest.mark.parametrize("q", [0.5, 1.0, 1.1, 2.0])
def test_a_gap_is_a_jump_only_above_safety_times_its_rounding(q):
    # Each one-sided slope errs by 2e_f/t, their gap by 4e_f/t; a jump must exceed S times that.
    # With g = 0 and x = 0, e_f is C_F·eps·max|f| on the stencil: f = b + K·relu(v0) with b = 2^-20
    # rounds at eps·b (the jump, K·c_fine = 256q·eps·b, is far smaller than b), and K gives the finer
    # gap q × that threshold, and the same gap at the coarse step.
    b = 2.0**-20
    c_fine = DS / FACTOR
    t_fine = 2 * c_fine                               # a ±1/2 entry: t = per-entry perturbation × 2
    K = q * SAFETY * 4 * C_F * EPS * b / c_fine      # f(x + c_fine·e_0) − b ≈ q × threshold × t_fine
    f = lambda v: b + K * max(float(v[0]), 0.0)  # noqa: E731
    r = check_grad(f, X4, np.zeros(4), directions=4, seed=0)
    assert r.passed
    assert bool(r.kinks) is (q > 1)
    # the gap and the threshold from f's own values: one side moves f to f(c_fine·e_0), the other not
    up = f(np.array([c_fine, 0.0, 0.0, 0.0]))
    threshold = SAFETY * 4 * C_F * EPS * up / t_fine
    assert (up - b) / t_fine == pytest.approx(q * threshold, rel=1e-2)   # (rel: the rounding of b + K·c)
    for kk in r.kinks:
        assert abs(kk.right - kk.left) == (up - b) / t_fine


def test_the_kink_rule_includes_its_edges():
    # Slopes 1 and L at x_0 = 0, claim 0: along a +1/2 direction the lower slope is L/2, along a −1/2
    # one the upper slope is −L/2. With L/2 = the kink bound (read off the same f with L = 0: the bound
    # does not depend on the slopes when they do not drift), the claim sits exactly on an edge.
    k, seed = 6, 0
    probe = check_grad(sloped(1.0, 0.0), X4, np.zeros(4), directions=k, seed=seed)
    assert len(probe.kinks) == k
    ktol = probe.tolerance[0]
    np.testing.assert_array_equal(probe.tolerance, ktol)
    r = check_grad(sloped(1.0, 2 * ktol), X4, np.zeros(4), directions=k, seed=seed)
    edges = [min(kk.left, kk.right) - ktol if kk.left > 0 else max(kk.left, kk.right) + ktol
             for kk in r.kinks]
    assert edges == [0.0] * k and {kk.left > 0 for kk in r.kinks} == {True, False}
    assert r.passed and all(kk.passed for kk in r.kinks)


@pytest.mark.parametrize("claim", [-0.5, 0.25, 1.0, 1.5])
def test_at_a_kink_the_numerical_value_shown_is_the_slope_nearest_the_claim(claim):
    k, seed = 4, 0
    g = np.array([claim, 0.0, 0.0, 0.0])
    r = check_grad(sloped(1.0, 0.0), X4, g, directions=k, seed=seed)
    assert len(r.kinks) == k + 1
    for kk in r.kinks:
        (j,) = kk.index
        lo, hi = min(kk.left, kk.right), max(kk.left, kk.right)
        assert r.numerical[j] == min(max(kk.analytic, lo), hi)
        assert kk.passed is (lo <= kk.analytic <= hi)
    assert r.passed is (0.0 <= claim <= 1.0)


def test_the_users_tolerance_at_a_kink_is_atol_plus_rtol_times_the_larger_slope():
    k = 4
    g = np.array([0.25, 0.0, 0.0, 0.0])
    r = check_grad(sloped(1.0, -3.0), X4, g, directions=k, seed=0, atol=1e-3, rtol=0.01)
    assert r.passed and len(r.kinks) == k + 1
    for kk in r.kinks:
        (j,) = kk.index
        assert r.tolerance[j] == 1e-3 + 0.01 * max(abs(kk.left), abs(kk.right))


def test_a_kink_found_at_the_first_re_probe_keeps_its_slopes_when_another_output_goes_on():
    # Output 0 is relu(v0): a kink at x along every direction, found at t/16. Output 1 is smooth and
    # claimed wrong in entry 2: it keeps failing, so a second finer level is probed; the kink must
    # keep the slopes and step of the probe that found it.
    x = np.array([0.0, 0.5, -0.25, 1.0])
    f = lambda v: np.array([max(float(v[0]), 0.0), quartic(v)])  # noqa: E731
    J = np.array([[0.25, 0.0, 0.0, 0.0], quartic_grad(x)])
    J[1, 2] += 0.5
    k, seed = 4, 0
    r = check_jacobian(f, x, J, directions=k, seed=seed)
    assert not r.passed and r.localised == [(2,)]
    assert [kk.index for kk in r.kinks] == [(j, 0) for j in range(k)]
    for kk, s in zip(r.kinks, direction_signs(seed, 4, k)):
        j = kk.index[0]
        assert (kk.left, kk.right) == slopes_along(s[0] / 2, 1.0, 0.0)
        assert kk.step == r.step[j] / FACTOR and kk.passed


def test_directional_mode_at_a_kink_passes_the_subgradients_and_fails_two():
    x = np.array([0.0, 1.0, -1.0])
    f = lambda v: float(np.sum(np.maximum(v, 0.0)))  # noqa: E731
    for at_zero in (0.0, 0.5, 1.0):
        assert check_grad(f, x, np.array([at_zero, 1.0, 0.0]), directions=4, seed=6).passed
    assert not check_grad(f, x, np.array([2.0, 1.0, 0.0]), directions=4, seed=6).passed


@pytest.mark.parametrize("at_zero", [1.5, -0.2, 1.1, -0.05, 1.02])
def test_directional_mode_rejects_a_kink_value_outside_the_one_sided_slopes(at_zero):
    # Any claim outside [0, 1] at ReLU's kink is outside the one-sided slopes of every direction that
    # moves x_0; the curvature bound of the smooth rule (the jump/6 on each side) must not excuse it.
    x = np.array([0.0, 1.0, -1.0])
    f = lambda v: float(np.sum(np.maximum(v, 0.0)))  # noqa: E731
    claim = np.array([at_zero, 1.0, 0.0])
    assert not check_grad(f, x, claim).passed                               # full mode: rejected
    r = check_grad(f, x, claim, directions=4, seed=6)
    assert not r.passed
    assert r.kinks and not all(k.passed for k in r.kinks)


def test_directional_kinks_report_the_one_sided_slopes_of_the_finer_step():
    # f = Σ relu(v) at x = (0, 1, −1): along d, right = max(d_0, 0) + d_1 and left = min(d_0, 0) + d_1
    # exactly (f is piecewise linear), so the report can be checked against the directions themselves.
    x = np.array([0.0, 1.0, -1.0])
    f = lambda v: float(np.sum(np.maximum(v, 0.0)))  # noqa: E731
    for claim, passes in (([0.25, 1.0, 0.0], True), ([1.5, 1.0, 0.0], False)):
        g = np.array(claim)
        r = check_grad(f, x, g, directions=4, seed=6)
        assert r.passed is passes
        assert r.kinks, str(r)
        dirs = [s / np.sqrt(3.0) for s in direction_signs(r.seed, 3, 4)] + [g / np.linalg.norm(g)]
        for k in r.kinks:
            (j,) = k.index
            d = dirs[j]
            assert k.right == pytest.approx(max(d[0], 0.0) + d[1], rel=1e-7)
            assert k.left == pytest.approx(min(d[0], 0.0) + d[1], rel=1e-7)
            assert k.analytic == pytest.approx(g @ d, rel=1e-12)
            assert k.passed is (min(k.left, k.right) <= k.analytic <= max(k.left, k.right))
            assert k.step < r.step[j]                  # judged at the finer step that confirmed the jump
            # the shown numerical value is the one-sided slope nearest the claim
            assert r.numerical[j] == pytest.approx(np.clip(k.analytic, min(k.left, k.right),
                                                           max(k.left, k.right)), rel=1e-12)
            assert r.tolerance[j] < 1e-3 * abs(k.right - k.left)   # the slopes' own error, not the jump
        assert str(r).count("OUTSIDE them") == sum(not k.passed for k in r.kinks)


# ---- the summary: miss probability and detectable error -----------------------------------------

@pytest.mark.parametrize("kw", [{}, {"atol": 1e-3}, {"rtol": 1e-2}, {"atol": 1e-3, "rtol": 1e-2}])
def test_detectable_error_is_twice_root_n_times_the_largest_bound_and_a_lone_error_that_large_is_seen(kw):
    x = np.linspace(-1.5, 1.2, 6)
    k = 5
    r = check_grad(quartic, x, quartic_grad(x), directions=k, seed=4, **kw)
    assert r.passed
    summary_holds(r)
    assert f"miss probability: an error above {r.detectable_error:.3g} in any one entry" in str(r)
    g = quartic_grad(x)
    g[2] += 1.01 * r.detectable_error
    wrong = check_grad(quartic, x, g, directions=k, seed=4, **kw)
    assert np.all(wrong.ratio[:k] > 1)                # every random direction sees it


def test_at_a_kink_the_detectable_error_counts_the_width_between_the_one_sided_slopes():
    # The kink rule accepts any claim between the slopes, so an error in another entry can hide in
    # that interval: the promise "an error above detectable_error is seen" must count its width.
    # Σ relu at x = (0, 1, 1, −1): along d the interval is |d_0| = 1/2 wide; entry 1 wrong by 0.2.
    x = np.array([0.0, 1.0, 1.0, -1.0])
    f = lambda v: float(np.sum(np.maximum(v, 0.0)))  # noqa: E731
    r = check_grad(f, x, np.array([0.5, 1.2, 1.0, 0.0]), directions=16, seed=0)
    assert r.kinks
    if r.passed:
        assert r.detectable_error >= 2.0 * math.sqrt(4) * 0.5   # 2√n·(the interval's width)
    g = np.array([0.5, 1.0, 1.0, 0.0])
    g[1] += 1.01 * check_grad(f, x, g, directions=16, seed=0).detectable_error
    assert not check_grad(f, x, g, directions=16, seed=0).passed


def test_at_a_kink_the_detectable_error_is_twice_root_n_times_the_largest_bound_plus_width():
    # Σ relu at x = (0, 1, 1, −1), claiming the subgradient 1/4 at 0 (off the central mean 1/2, so each
    # direction is re-probed): every random direction moves x_0 by ±1/2, so each is a kink whose
    # slopes lie 1/2 apart (relu's jump of 1 times |d_0|)
    x = np.array([0.0, 1.0, 1.0, -1.0])
    f = lambda v: float(np.sum(np.maximum(v, 0.0)))  # noqa: E731
    k = 6
    r = check_grad(f, x, np.array([0.25, 1.0, 1.0, 0.0]), directions=k, seed=0)
    assert r.passed and sorted(kk.index for kk in r.kinks)[:k] == [(j,) for j in range(k)]
    widths = [abs(kk.right - kk.left) for kk in r.kinks if kk.index[0] < k]
    assert widths == pytest.approx([0.5] * k, rel=1e-7, abs=0)
    expected = 2.0 * math.sqrt(4) * max(r.tolerance[j] + widths[j] for j in range(k))
    assert r.detectable_error == pytest.approx(expected, rel=1e-12, abs=0)


# ---- several kinks along one direction ----------------------------------------------------------

W10 = np.linspace(-1.0, 2.0, 10) + 0.05
X_CLIP = np.array([1.0, -1.0, 0.3, 1.0, -0.2, -1.0, 0.5, 1.0, -1.0, 0.0])   # six entries on the bounds
ON_BOUND = np.abs(X_CLIP) == 1.0


def clipped(v):
    """Σ w·clip(v, −1, 1): a kink in every entry on a bound, each its own."""
    return float(W10 @ np.clip(v, -1.0, 1.0))


def clip_claim(at_bounds):
    g = W10.copy()
    if at_bounds == "zero":
        g[ON_BOUND] = 0.0
    elif at_bounds == "mixed":
        g[ON_BOUND] = np.where(np.arange(10)[ON_BOUND] % 2, 0.0, W10[ON_BOUND])
    return g


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("at_bounds", ["w", "zero", "mixed"])
def test_several_kinks_along_a_direction_raise_no_false_alarm(at_bounds, seed):
    # any limit of gradients at nearby points: w inside, 0 or w at each bound (full mode passes them);
    # along a direction that crosses several bounds the one-sided slopes need not bracket ⟨g, d⟩
    g = clip_claim(at_bounds)
    assert check_grad(clipped, X_CLIP, g).passed
    r = check_grad(clipped, X_CLIP, g, directions=6, seed=seed)
    assert r.verdict in ("pass", "inconclusive"), str(r)
    if r.verdict == "inconclusive":
        assert r.inconclusive
        assert all(re.match(r"direction \d+: several kinks along it", s) for s in r.inconclusive)
        assert r.n_inconclusive == len(r.inconclusive)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("at_bounds", ["w", "zero", "mixed"])
def test_separate_kinks_along_a_direction_pass_where_f_adds_up_over_the_blocks(at_bounds, seed):
    # Σ w·clip: the entries' kinks do not interact, f(x + t·d) − f(x) = Σ_blocks (f(x + t·d_b) − f(x))
    # exactly; every block's claim lies within its own slopes, so the claim is a subgradient of each
    # separate piece and passes (it was inconclusive: adversarial #44)
    r = check_grad(clipped, X_CLIP, clip_claim(at_bounds), directions=6, seed=seed)
    assert r.verdict == "pass", str(r)


def test_kinks_that_interact_along_a_direction_are_not_passed_by_the_blocks():
    # relu(v0 + v1) + relu(v0 − v1) at 0, its entries repeated: the blocks' moves do not add up (each
    # kink spans both halves), so consistent blocks prove nothing, and (2, 2), outside the hull of the
    # pieces' gradients, is never passed
    f = lambda v: float(np.sum(np.maximum(v[:4] + v[4:], 0.0) + np.maximum(v[:4] - v[4:], 0.0)))  # noqa: E731
    r = check_grad(f, np.zeros(8), np.full(8, 2.0), directions=6, seed=0)
    assert r.verdict in ("fail", "inconclusive"), str(r)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("wrong", ["inside entry 2 off by 0.5", "bound entry 3 at 3w"])
def test_several_kinks_along_a_direction_do_not_excuse_a_wrong_claim(wrong, seed):
    g = clip_claim("zero")
    if wrong.startswith("inside"):
        g[2] += 0.5
    else:
        g[3] = 3.0 * W10[3]
    r = check_grad(clipped, X_CLIP, g, directions=6, seed=seed)
    assert r.verdict == "fail", str(r)


# ---- f's rounding swamps the step ----------------------------------------------------------------

@pytest.mark.parametrize("method", ["central", "richardson"])
def test_where_fs_rounding_swamps_the_step_the_directional_step_grows(method):
    # f = 1e10 + Σ sin x rounds at ≈ 2e-6, more than its moves at the directional step (1.5e-8 per
    # entry): every numerical directional derivative read 0 under a bound of 1e3, and a sign-flipped
    # entry passed (issue 11, class 3). The step grows 4× at a time while that lowers the bound
    x = np.random.default_rng(1).normal(size=64)
    f = lambda v: 1e10 + np.sum(np.sin(v))   # noqa: E731
    g = np.cos(x)
    wrong = g.copy()
    wrong[np.argmax(np.abs(g))] *= -1
    for seed in range(3):
        r = check_grad(f, x, g, method=method, directions=8, seed=seed)
        assert r.verdict == "pass", str(r)
        assert float(np.max(r.tolerance)) < 0.1 * float(np.linalg.norm(g))
        assert check_grad(f, x, wrong, method=method, directions=8, seed=seed).verdict == "fail"


def test_a_direction_no_admissible_step_resolves_is_not_judged():
    # f = 1e16 + Σ sin x rounds at ≈ 2 per value: even full mode's widest step leaves a bound above
    # every directional derivative, so neither the right claim nor a sign-flipped one can be judged
    x = np.random.default_rng(1).normal(size=64)
    f = lambda v: 1e16 + np.sum(np.sin(v))   # noqa: E731
    g = np.cos(x)
    wrong = g.copy()
    wrong[np.argmax(np.abs(g))] *= -1
    for claim in (g, wrong):
        r = check_grad(f, x, claim, directions=8, seed=0)
        assert r.verdict == "inconclusive", str(r)
        assert all("below f's rounding at every admissible step" in s for s in r.inconclusive)


def test_a_grown_step_measures_its_truncation_from_two_step_sizes():
    # Σσ with entries saturated on both sides (found by benchmarks/checker.py): the rounding of f ≈ 3
    # grew the step to 1.2 per direction, where the curvature bound t·|φ″|/6 saw the entries' φ″ cancel
    # while the truncation t²·|φ‴|/6 (4% of the estimate) did not: the right claim failed at err/tol 1.3
    x = np.array([-36.15078875, -27.65444888, 27.27186445, -30.68484167, -28.60809329, 39.21362736])
    f = lambda v: np.sum(1.0 / (1.0 + np.exp(-v)))   # noqa: E731
    s = 1.0 / (1.0 + np.exp(-x))
    r = check_grad(f, x, s * (1 - s), directions=8, seed=1286)
    assert r.verdict != "fail", str(r)


# ---- f's domain ends within the step ------------------------------------------------------------

def _edge_cases():
    rng = np.random.default_rng(7)
    p = rng.uniform(0.2, 1, 64)
    p[3] = 1e-5
    x = rng.uniform(0.1, 1, 64)
    x[5] = 1e-10
    return [("−Σ log p", lambda v: -np.sum(np.log(v)), p, -1 / p),
            ("Σ √x", lambda v: np.sum(np.sqrt(v)), x, 0.5 / np.sqrt(x)),
            ("Σ math.log", lambda v: sum(math.log(t) for t in v), p, 1 / p)]


@pytest.mark.parametrize("method, case", [("richardson", 0), ("central", 1), ("richardson", 1),
                                          ("richardson", 2)])
def test_a_direction_whose_stencil_leaves_fs_domain_shrinks_its_step_and_says_so(method, case):
    # one entry near the edge of f's domain (p = 1e-5 under log, x = 1e-10 under √, math.log raising),
    # within the stencil of every direction (Richardson's 1.5e-4 per entry; central's 1.5e-8 reaches only
    # 1e-10): the right claim failed with NaN. The step shrinks 16× at a time until the stencil stays
    # inside, with a note, and is refined while that lowers the bound; a scale error of 5% still fails
    # (near √'s edge the truncation leaves the mixed directions a resolution of about 1%)
    _, f, x, g = _edge_cases()[case]
    r = check_grad(f, x, g, method=method, directions=8, seed=0)
    assert r.verdict == "pass", str(r)
    assert any("to keep the stencil inside f's domain" in n for n in r.notes), r.notes
    assert check_grad(f, x, g * 1.05, method=method, directions=8, seed=0).verdict == "fail"


def test_a_direction_no_step_keeps_inside_fs_domain_fails_naming_it():
    # f is NaN off the hyperplane v_0 = 1 (no step keeps the stencil inside, down to what x resolves)
    x = np.linspace(0.5, 1.0, 16)
    x[0] = 1.0
    f = lambda v: float(np.sum(v)) if v[0] == 1.0 else np.nan   # noqa: E731
    r = check_grad(f, x, np.ones(16), directions=4, seed=0)
    assert r.verdict == "fail" and r.problems and all(p.startswith("direction ") for p in r.problems)


# ---- the complex step along a direction, on an f that is not complex-analytic -----------------------

def test_the_complex_step_along_a_direction_on_np_var_says_f_is_not_complex_analytic():
    # batch norm's np.var conjugates nothing, but |z|² under the mean of a complex x is not analytic:
    # the complex estimate is wrong by O(1), and it failed a right claim along every direction. Central
    # differences along the failing directions agree with the claim: those are not judged, with why
    w = np.linspace(-1, 1, 64)
    f = lambda v: np.sum(w * (v - v.mean()) / np.sqrt(v.var() + 1e-5))   # noqa: E731
    x = np.random.default_rng(3).normal(size=64)
    s = np.sqrt(x.var() + 1e-5)
    xh = (x - x.mean()) / s
    g = (w - w.mean() - xh * np.mean(w * xh)) / s
    r = check_grad(f, x, g, method="complex", directions=8, seed=0)
    assert r.verdict == "inconclusive", str(r)
    assert all("f is not complex-analytic here" in s and "use method='central'" in s for s in r.inconclusive)
    assert check_grad(f, x, g * 1.01, method="complex", directions=8, seed=0).verdict == "fail"
    assert check_grad(f, x, g, directions=8, seed=0).verdict == "pass"


# ---- a jump along a direction ------------------------------------------------------------------------

@pytest.mark.parametrize("claim", [0.0, 1.0, 1e6])
def test_a_jump_along_a_direction_has_no_derivative_whatever_the_claim(claim):
    # ReLU″ at 0 checked as the Jacobian of ReLU′ (a step at x[0] = 0): the central difference along any
    # direction moving x[0] is ±1/(2t), and the curvature bound, 1/(6t)·4, passed any claim; the
    # one-sided differences keep their size (1) from t to t/16: f jumps, and those directions are not
    # judged, never passed
    x = np.r_[0.0, np.random.default_rng(5).normal(size=15)]
    J = np.zeros((16, 16))
    J[0, 0] = claim
    r = check_jacobian(lambda v: (v >= 0).astype(float), x, J, directions=4, seed=0)
    assert r.verdict == "inconclusive", str(r)
    assert any("f jumps along it" in s for s in r.inconclusive), r.inconclusive
