"""Full mode's probing, step refinement and kink detection (gradcheck's module docstring, ERROR_MODEL).

Pinned here: which entries are probed again and at which step (truncation above REFINE_RATIO× the
rounding, or a one-sided gap that does not scale with the step), that refinement stops at
h/16^REFINE_LEVELS, which step's estimate is kept, the rounding term at each step (C_F·eps·max(|f|,
max_i max(|x_i|, 1)·|g_i|), or the fourth-difference noise seen along the clean entries of the same
output: no absolute floor, so that f = 1 + … rounds at eps and c·f at c·eps), when a constant one-sided
gap is a kink at x, and when an unresolved entry may fall back to the
kink rule. The f are low-degree polynomials, piecewise-linear functions, steps and wiggles probed
mostly at x = 0, where the steps ±h, ±2h are exact: expected steps, evaluation counts and bound terms
are computed in the test from the documented formulas, or from f's own stencil values.
"""

from __future__ import annotations

import numpy as np
import pytest
from checker_internals import EPS, step, suspect

from backprop_ref.gradcheck import ERROR_MODEL, check_grad, check_jacobian

C_F = ERROR_MODEL["f_rounding"][0]
SAFETY = ERROR_MODEL["safety"][0]
A_R = ERROR_MODEL["analytic_rounding"][0]
C_X = ERROR_MODEL["complex_rounding"][0]
REFINE_FACTOR = ERROR_MODEL["refine_factor"][0]
REFINE_LEVELS = int(ERROR_MODEL["refine_levels"][0])
H0 = step("central")          # the central step at |x| <= 1
EVALS_PER_LEVEL = 4              # central: f(x ± h e_i), f(x ± 2h e_i)
# f(x) again, where an output has no entry clean at the first step (its noise, if any, is measured)
NOISE_REPEATS = int(ERROR_MODEL["noise_repeats"][0])


def h_at(level):
    return H0 / REFINE_FACTOR ** level


def D(f, h, x=0.0):
    """The central difference of a one-entry f, as the docstring defines it."""
    return (f(np.array([x + h])) - f(np.array([x - h]))) / ((x + h) - (x - h))


def relu(v):
    return float(np.sum(np.maximum(v, 0.0)))


# ---- smooth entries: refinement by truncation ---------------------------------------------------

@pytest.mark.parametrize("k, levels", [(1e2, 0), (1e6, 1), (1e9, 2), (1e15, REFINE_LEVELS)])
def test_truncation_above_refine_ratio_times_rounding_is_probed_16x_finer_until_resolved(k, levels):
    # f = k v³/6 + v at 0: T = k h²/6 against R = C_F·eps/h (|f| < 1, odd f: no fourth-difference
    # noise), so T/R grows as k: each level divides it by 16³. k = 1e15 is never resolved and keeps
    # the finest step, whose bound is the smallest.
    def f(v):
        return float(k * v[0] ** 3 / 6 + v[0])

    r = check_grad(f, [0.0], [1.0])
    h = h_at(levels)
    assert r.passed and r.kinks == []
    assert r.step[0] == h
    assert r.n_evals == 1 + EVALS_PER_LEVEL * (1 + levels) + (NOISE_REPEATS if levels else 0)
    trunc = abs(D(f, h) - D(f, 2 * h)) / 3
    assert r.numerical[0] == pytest.approx(D(f, h), rel=1e-12, abs=0)
    assert r.terms[0][0] == pytest.approx(SAFETY * trunc, rel=1e-6, abs=0)
    assert r.terms[1][0] == pytest.approx(SAFETY * C_F * EPS / h, rel=1e-12, abs=0)


def test_f_rounding_is_floored_at_max_x_times_max_g_even_where_f_is_near_zero():
    # f = G·(x − X) is 0 at X, but its first-order term G·X = 1e6 sets the rounding floor
    X, G = 1e3, 1e3
    r = check_grad(lambda v: float(G * (v[0] - X)), [X], [G])
    assert r.passed and r.step[0] == H0 * X
    assert r.terms[1][0] == pytest.approx(SAFETY * C_F * EPS * G * X / (H0 * X), rel=1e-12, abs=0)


def test_a_jacobian_output_resolved_at_the_first_step_keeps_it_while_another_is_refined():
    # output 0 needs h/16 (T/R ≈ 1e4: its rounding C_F·eps·max(|x|, 1)·|g| = C_F·eps), output 1 (|f| = 1:
    # rounding C_F·eps) is resolved at h (T/R ≈ 40) though h/16 would shrink its T + R: an output that
    # its step resolves is not probed again
    def f(v):
        return np.array([1e6 * v[0] ** 3 / 6 + v[0], 1.0 + 4000.0 * v[0] ** 3 / 6])

    r = check_jacobian(f, [0.0], [[1.0], [0.0]])
    assert r.passed
    assert r.step[0, 0] == h_at(1) and r.step[1, 0] == h_at(0)
    assert r.numerical[1, 0] == pytest.approx(D(lambda v: f(v)[1], H0), rel=1e-12)


def test_a_jacobian_output_not_finite_on_the_stencil_shrinks_the_step_of_its_entry():
    def f(v):
        return np.array([1e6 * v[0] ** 3 / 6 + v[0], np.log(v[0] + 1.5 * H0)])   # log(−h/2) at x − 2h

    r = check_jacobian(f, [0.0], [[1.0], [1.0 / (1.5 * H0)]])
    assert r.passed and r.problems == []
    assert len(r.notes) == 1 and r.notes[0].startswith(f"entry [0]: the step shrank from {H0:.3g} to ")
    # the entry starts again at h/16 and both outputs refine from there (the log is curved near its edge)
    assert r.step[1, 0] <= h_at(1) and r.step[0, 0] <= h_at(1)


def test_a_stencil_no_step_keeps_in_fs_domain_is_named_with_its_first_step():
    # √v at 0: x − h is negative for every step
    r = check_grad(lambda v: np.sum(np.sqrt(v)), np.array([0.0, 1.0]), np.array([1.0, 0.5]))
    assert r.verdict == "fail" and r.problems == [f"entry [0]: f(x − {H0:.3g}·e_i) = nan at x_i = 0"]
    assert np.isnan(r.numerical[0])


# ---- f's noise: seen where clean, pooled per output ---------------------------------------------

GAMMA_UNITS = 2.0   # wiggle amplitude in units of C_F·eps·max|f|: seen by the fourth difference, no kink


def wiggle(v, e):
    """γ·cos(π v/h): +γ, −γ, +γ at 0, ±h, ±2h; fourth difference 16γ, one-sided gap −4γ/h."""
    return GAMMA_UNITS * e * np.cos(np.pi * v / H0)


def test_noise_seen_at_one_clean_entry_sets_the_rounding_of_the_others():
    e = C_F * EPS * 4.0

    def f(v):
        return float(4.0 + v[0] + v[1] + wiggle(v[0], e))

    r = check_grad(f, [0.0, 0.0], [1.0, 1.0])
    # (the noise is far below eps^(1/3) of the gradient: the step stays)
    assert r.passed and np.all(np.asarray(r.step) == H0)
    model = SAFETY * e / H0
    assert r.terms[1][0] > 2 * model                     # entry 0's own fourth difference
    assert r.terms[1][1] == pytest.approx(r.terms[1][0], rel=1e-12, abs=0)   # entry 1 is linear: pooled


def test_noise_is_pooled_per_output_not_across_outputs():
    e = C_F * EPS * 4.0

    def f(v):
        return np.array([4.0 + v[0] + wiggle(v[0], e), v[0] + v[1]])

    r = check_jacobian(f, [0.0, 0.0], [[1.0, 0.0], [1.0, 1.0]])
    assert r.passed
    assert r.terms[1][0, 0] > 2 * SAFETY * e / H0
    # output 1 is exact on the stencil (|f| < 1): its rounding is the model's C_F·eps/h
    np.testing.assert_allclose(r.terms[1][1], SAFETY * C_F * EPS / H0, rtol=1e-12)


# ---- kinks --------------------------------------------------------------------------------------

def test_relu_at_zero_is_followed_to_the_finest_step_and_judged_with_the_slopes_rounding():
    r = check_grad(relu, [0.0], [1.0])
    h = h_at(REFINE_LEVELS)
    (kink,) = r.kinks
    assert r.passed and (kink.left, kink.right) == (0.0, 1.0)
    assert r.n_evals == 1 + EVALS_PER_LEVEL * (1 + REFINE_LEVELS) + NOISE_REPEATS   # a kink never resolves
    assert kink.step == h and r.step[0] == h
    # each one-sided slope is (f(x ± h) − f(x))/h, exact for relu: its error is rounding, 2·e_f/h
    assert r.tolerance[0] == pytest.approx(SAFETY * 2 * C_F * EPS / h + r.terms[2][0], rel=1e-12, abs=0)


def test_a_kink_in_a_later_entry_is_refined_and_reported_and_the_others_keep_their_step():
    f = lambda v: float((v[0] - 1.0) ** 2 + relu(v[1:]))   # noqa: E731  (exact on both stencils)
    r = check_grad(f, [1.0, 0.0], [0.0, 1.0])
    (kink,) = r.kinks
    assert r.passed and kink.index == (1,) and (kink.left, kink.right) == (0.0, 1.0)
    assert tuple(r.step) == (H0, h_at(REFINE_LEVELS))
    assert r.numerical[0] == D(lambda v: f(np.array([v[0], 0.0])), H0, x=1.0)


def test_a_jump_of_three_is_a_kink_even_when_the_claim_is_the_central_mean():
    r = check_grad(lambda v: 3.0 * relu(v), [0.0], [1.5])
    (kink,) = r.kinks
    assert r.passed and (kink.left, kink.right) == (0.0, 3.0) and kink.passed


def test_a_jump_below_the_finer_steps_gap_noise_is_not_a_kink():
    # f = 1 + J·relu: |f| = 1 rounds at eps, e_f = C_F·eps (J·relu alone would round at eps·J: a kink
    # at every J, as the next test pins)
    J = 1e-7
    gap_noise = lambda h: SAFETY * 4 * C_F * EPS / h   # noqa: E731  (F − B = (f₊ − 2f₀ + f₋)/h)
    assert 3.4 * gap_noise(H0) < J < gap_noise(h_at(1))  # a suspect at h, lost in rounding at h/16
    r = check_grad(lambda v: 1.0 + J * relu(v), [0.0], [J / 2])
    assert r.passed and r.kinks == []
    assert r.step[0] == h_at(1) and r.n_evals == 1 + 2 * EVALS_PER_LEVEL + NOISE_REPEATS


@pytest.mark.parametrize("J", [1e-12, 1e-7, 1.0, 1e12])
def test_a_kink_of_any_size_is_a_kink_when_f_rounds_at_its_own_scale(J):
    # J·relu rounds at eps·J: its gap J stands above the rounding at every scale, so the kink is found
    # and judged by the interval rule whatever J (the slopes 0 and J, the claim J/2 between them, 2J not)
    r = check_grad(lambda v: J * relu(v), [0.0], [J / 2])
    (kink,) = r.kinks
    assert r.passed and (kink.left, kink.right) == (0.0, J) and kink.passed
    assert check_grad(lambda v: J * relu(v), [0.0], [2 * J]).verdict == "fail"


def test_a_kink_closer_than_the_usual_finest_step_is_chased_until_it_leaves_the_stencil():
    # the kink sits 0.7·h/4096 right of x, inside every step of the usual depth: the suspect is probed
    # further (refine_levels_max) until the kink leaves the stencil. The derivative at x (0) passes;
    # 1, a one-sided slope of the coarser steps but not the derivative at x, fails (it passed as "a
    # kink" when refinement stopped at h/4096).
    x = [-0.7 * h_at(REFINE_LEVELS)]
    r = check_grad(relu, x, [0.0])
    assert r.passed and r.kinks == []
    r = check_grad(relu, x, [1.0])
    assert r.verdict == "fail" and r.kinks == []


def test_an_entry_never_resolved_nor_suspect_is_judged_by_the_smooth_bound_only():
    # exp(a·v), a = 1.5e5: too curved for any step, but its gap doubles with the step (no kink).
    # A claim between the finest one-sided slopes (a ± a²h/2) yet far outside the bound must fail.
    a = 1.5e5
    f = lambda v: float(np.exp(a * v[0]))   # noqa: E731
    assert check_grad(f, [0.0], [a]).passed
    r = check_grad(f, [0.0], [a + 10.0])
    assert not r.passed and r.kinks == []
    assert 10.0 < a * a * h_at(REFINE_LEVELS) / 2


def test_a_step_discontinuity_keeps_the_coarse_estimate_whose_bound_is_smallest():
    # f = v + γ·sign(v): D(h) = 1 + γ/h, T = γ/(6h) grow as h shrinks; no step is better than h
    g = 1e-10
    f = lambda v: float(v[0] + g * np.sign(v[0]))   # noqa: E731
    r = check_grad(f, [0.0], [1.0])
    assert not r.passed and r.kinks == []
    assert r.step[0] == H0 and r.numerical[0] == D(f, H0)


def test_a_suspect_entry_takes_the_first_step_that_resolves_it_even_with_a_larger_bound():
    # a wiggle γ·cos(πv/h) looks like a kink at h (gap −4γ/h, not doubling); at h/16 it is smooth.
    # Its bound there (C_F·eps·16/h) exceeds the coarse one (the wiggle's noise ≈ 1.9γ/h), but
    # the coarse estimate was a suspect, so the resolving step is kept.
    e = C_F * EPS
    g = 6.5 * e
    f = lambda v: float(v[0] + g * np.cos(np.pi * v[0] / H0))   # noqa: E731
    r = check_grad(f, [0.0], [1.0])
    assert r.passed and r.kinks == []
    assert r.step[0] == h_at(1)
    assert r.terms[1][0] == pytest.approx(SAFETY * e / h_at(1), rel=1e-12, abs=0)


def test_a_finer_step_whose_bound_is_not_smaller_does_not_replace_the_coarse_estimate():
    # a cubic (T falls as h²) plus a step 2γ at 0 (T grows as 1/h), balanced so that T is the same
    # at h and h/16 to within the rounding: h/16's bound T + R is larger by its larger rounding R
    # (R = C_F·eps/h: |f| < 1, odd f, no noise), no step resolves the entry, and h is kept.
    r0 = C_F * EPS / H0
    T = 3000 * r0
    B = (3 * T * (1 + 1 / 256) + 3 * r0) / (16 - 1 / 256)    # γ/(2h)
    A = 3 * T + B                                          # k·h²/2
    k, g = 2 * A / H0**2, 2 * B * H0
    f = lambda v: float(v[0] + g * np.sign(v[0]) + k * v[0] ** 3 / 6)   # noqa: E731
    t0, t1 = (abs(D(f, h) - D(f, 2 * h)) / 3 for h in (H0, h_at(1)))
    r1 = C_F * EPS / h_at(1)
    assert t0 + r0 < t1 + r1 and t1 - r1 < t0 + r0 and t1 > 100 * r1
    r = check_grad(f, [0.0], [1.0])
    assert r.step[0] == H0 and r.numerical[0] == D(f, H0)
    assert r.terms[0][0] == pytest.approx(SAFETY * t0, rel=1e-9, abs=0)


@pytest.mark.parametrize("drift, levels", [(0.25, REFINE_LEVELS), (2.0, REFINE_LEVELS + 1)])
def test_a_kink_at_x_needs_one_sided_slopes_that_stay_within_a_quarter_of_the_gap(drift, levels):
    # f = 4·relu(v) + c·v³: the gap F − B is 4 at every step, the slopes move by c·h² between steps.
    # c is set so that between the usual two finest steps they move by `drift` (× (1 − 1/256)): a
    # quarter of the gap or less is a kink at x there; 2 is not, and the suspect is chased one step
    # finer, where the slopes move 256× less. The claim 2 is the central estimate.
    c = drift / h_at(REFINE_LEVELS - 1) ** 2
    r = check_grad(lambda v: float(4.0 * relu(v) + c * v[0] ** 3), [0.0], [2.0])
    (kink,) = r.kinks
    # (and finer while the slopes still move beyond f's rounding: a kink at distance a ≪ h moves them
    # by a/h, so only slopes that stopped moving decide a kink at x)
    assert r.passed and kink.step <= h_at(levels)


# ---- the kink suspect test itself ---------------------------------------------------------------

@pytest.mark.parametrize("gap1, gap2, expected", [
    (1.0, -4.0, False),       # |gap1| equal to its noise, not above it
    (1.1, -4.0, True),        # just above it
    (4.0, 14.0, False),       # |gap2 − 2·gap1| = 6 equals |gap2|/4 + its noise (0.5 + 2·1)
    (4.0, 14.125, True),      # just above that
])
def test_a_kink_suspect_is_a_gap_above_its_noise_that_does_not_double_with_the_step(gap1, gap2, expected):
    # the suspect rule directly: the thresholds sit on exact boundaries no f reaches cheaply. With h = 1/4 and
    # e_f = 1/64 the gap's noise is SAFETY·e_f·4/h = 1 at h (F − B has |coefficients| 4/h) and 0.5
    # at 2h; the non-doubling test allows |gap2|/4 plus the noise of gap2 − 2·gap1.
    got = suspect(np.array([[gap1]]), np.array([[gap2]]), np.full((1, 1), 1 / 64), np.array([0.25]),
                  np.ones((1, 1), bool))
    assert got.tolist() == [[expected]]


# ---- where users' code lives: f's precision, its scale, jumps, kinks near x (issue 11) ------------

RNG = np.random.default_rng(11)
X6 = RNG.normal(size=6)


def sin32(v):
    return np.sum(np.sin(v.astype(np.float32)))


@pytest.mark.parametrize("f", [sin32, lambda v: float(sin32(v))], ids=["float32 result", "Python float"])
def test_f_computed_in_float32_is_judged_at_float32_precision(f):
    # f(x ± h) == f(x) below float32's spacing: the steps are float32's (eps32^(1/3)), whether f says
    # so by its dtype or only by its values (every one a float32 number), and never refined below that.
    g = np.cos(X6)
    r = check_grad(f, X6, g)
    assert r.verdict == "pass", str(r)
    assert np.all(np.asarray(r.step) >= step("central", float(np.finfo(np.float32).eps)))
    assert "f works in float32" in r.tolerance_reason
    for i in range(6):
        wrong = g.copy()
        wrong[i] *= 1 + 1e-3
        bad = check_grad(f, X6, wrong)
        assert bad.verdict == "fail" and bad.worst_index == (i,), str(bad)


def test_f_computed_in_float16_is_judged_with_float16_bounds():
    f = lambda v: np.sum(np.sin(v.astype(np.float16)))   # noqa: E731
    g = np.cos(X6)
    assert check_grad(f, X6, g).verdict == "pass"
    wrong = g.copy()
    wrong[2] *= 1.3
    assert check_grad(f, X6, wrong).verdict == "fail"


def test_a_float32_claim_is_allowed_its_own_rounding_not_fs_size():
    f = lambda v: 1e6 + np.sum(np.sin(v))   # noqa: E731
    g = np.cos(X6).astype(np.float32)
    assert check_grad(f, X6, g).verdict == "pass"
    wrong = g.copy()
    wrong[1] *= 1.1
    r = check_grad(f, X6, wrong)
    assert r.verdict == "fail" and r.worst_index == (1,)


X5 = np.random.default_rng(1).uniform(-1, 1, 5)


@pytest.mark.parametrize("method, directions", [("central", None), ("richardson", None), ("complex", None),
                                                ("central", 4), ("complex", 4)])
def test_verdicts_do_not_change_when_f_is_multiplied_by_any_c(method, directions):
    # Multiplying f by c multiplies every value it computes, its rounding and its gradient by c (exactly,
    # for a power of ten up to the rounding of the product): a verdict read from f's values has nothing
    # to tell c = 1e-12 from c = 1 or 1e12 by. So the right gradient passes, the sign-flipped one fails,
    # and one entry 1e-4 off (1e-4·c·|cos x_2| absolute, 1e8 times f's relative rounding, as at c = 1)
    # never passes, at every c in 10^-12 … 10^12. It fails, except where its error lies within the
    # rounding a claim may carry from O(1) intermediates (intermediate_band: analytic_rounding·eps·1,
    # and the complex estimate's complex_rounding·eps·1), which f's scale cannot tell from an error:
    # there (c = 1e-12 in full mode) it is inconclusive.
    scales = [10.0**e for e in range(-12, 13, 3)]
    band = A_R * EPS + (C_X * EPS if method == "complex" else 0.0)
    for c in scales:
        f = lambda v, c=c: c * np.sum(np.sin(v))   # noqa: E731
        g = c * np.cos(X5)
        one = g.copy()
        one[2] *= 1 + 1e-4
        kw = {"method": method, "directions": directions, "seed": 0}
        banded = directions is None and abs(one[2] - g[2]) <= band
        expected = "inconclusive" if banded else "fail"
        assert check_grad(f, X5, g, **kw).verdict == "pass", (c, str(check_grad(f, X5, g, **kw)))
        assert check_grad(f, X5, one, **kw).verdict == expected, (c, str(check_grad(f, X5, one, **kw)))
        assert check_grad(f, X5, -g, **kw).verdict == "fail", c
    assert len(scales) == 9


def _log_softmax(v):
    m = np.max(v)
    return (v - m) - np.log1p(np.sum(np.exp(v - m)) - 1.0)


@pytest.mark.parametrize("c", [1e-12, 1.0, 1e12])
def test_a_claim_rounded_at_a_scale_another_output_shows_passes_at_every_scale(c):
    # ∂ log p_0/∂z = δ_0j − p_j with p_0 = 1 − 4e-18 (z = [40, 0, 1]): 1 − p_0 rounds to 0 where the true
    # value is 4e-18 (Σ_{j≠0} p_j), an error of eps/2·1 that the row's own values (≤ 4e-18) do not show,
    # but −p_0 ≈ −1 in the rows of the other outputs does: a claim's floor is the largest derivative of
    # any output by the same entry (and f's size), which scales with c as the claim does
    z = np.array([40.0, 0.0, 1.0])
    p = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
    J = np.eye(3) - p[None, :]
    assert J[0, 0] == 0.0
    for method in ("central", "complex"):
        r = check_jacobian(lambda v: c * _log_softmax(v), z, c * J, method=method)
        assert r.n_failed == 0, str(r)
        wrong = c * J
        wrong[1, 1] *= 1 + 1e-4
        # off by 1e-4·c·(1 − p_1): beyond the O(1) band it fails, within it (c = 1e-12) it never passes
        band = A_R * EPS + (C_X * EPS if method == "complex" else 0.0)
        expected = "inconclusive" if abs(wrong[1, 1] - c * J[1, 1]) <= band else "fail"
        assert check_jacobian(lambda v: c * _log_softmax(v), z, wrong, method=method).verdict == expected


@pytest.mark.parametrize("c", [1e-12, 1.0, 1e12])
def test_at_a_minimum_a_zero_gradient_is_judged_against_how_much_the_gradient_moves(c):
    # f = c·Σ(v − 1)² at v = 1: the gradient is 0, every entry "as small as the rounding"; judged against
    # 0 nothing could be decided. Its scale is how much it moves over x's own scale, |f″|·max(|x|, 1) = 2c:
    # the claim 0 passes and a claim 1e-4 of that off fails, at every c
    x = np.ones(3)
    f = lambda v: c * np.sum((v - 1.0) ** 2)   # noqa: E731
    assert check_grad(f, x, np.zeros(3)).verdict == "pass"
    wrong = np.zeros(3)
    wrong[1] = 2e-4 * c
    # beyond the O(1) band (analytic_rounding·eps·1) it fails; within it (c = 1e-12: 2e-16) it is
    # inconclusive, f's scale cannot tell it from a cancelled O(1) intermediate's rounding
    assert check_grad(f, x, wrong).verdict == ("inconclusive" if wrong[1] <= A_R * EPS else "fail")


def test_subnormal_values_round_at_their_spacing_not_relative_to_their_size():
    # σ(−745) = 5e-324, the smallest subnormal: f = Σσ on the stencil keeps only multiples of it, and so
    # does the claim σ′ = σ(1 − σ): below the smallest normal number values round absolutely
    def sigmoid(v):
        return np.exp(v) / (1.0 + np.exp(v))   # (for v ≤ 0: no overflow)

    x = np.array([-745.0, -745.0, -1e4])
    s = sigmoid(x)
    assert s[0] == 5e-324
    r = check_grad(lambda v: float(np.sum(sigmoid(v))), x, s * (1.0 - s))
    assert r.n_failed == 0, str(r)


def test_the_step_grows_where_fs_rounding_swamps_it():
    f = lambda v: 1e10 + np.sum(np.sin(v))   # noqa: E731
    g = np.cos(X6)
    r = check_grad(f, X6, g)
    assert r.verdict == "pass" and np.all(np.asarray(r.step) > H0 * np.maximum(np.abs(X6), 1.0))
    wrong = g.copy()
    wrong[3] = -wrong[3]
    bad = check_grad(f, X6, wrong)
    assert bad.verdict == "fail" and bad.worst_index == (3,)


@pytest.mark.parametrize("claim", [[2e-8, 2e8], [5.0, 2e8], [-3.0, 2e8]])
def test_an_entry_that_moves_f_less_than_its_rounding_is_not_judged(claim):
    # x = [1e-8, 1e8] under Σ x²: f ≈ 1e16 rounds at ≈ 2, while the small entry moves it by 2e-8·h
    r = check_grad(lambda v: float(np.sum(v**2)), np.array([1e-8, 1e8]), np.array(claim))
    assert r.verdict == "inconclusive" and r.n_inconclusive == 1
    assert r.inconclusive[0].startswith("x[0]: its effect on f is below f's rounding")
    bad = check_grad(lambda v: float(np.sum(v**2)), np.array([1e-8, 1e8]), np.array([claim[0], 2.1e8]))
    assert bad.verdict == "fail" and bad.worst_index == (1,)   # the other entry is still judged


@pytest.mark.parametrize("claim", [0.0, 1.0, 1e6])
def test_a_jump_has_no_derivative_whatever_the_claim(claim):
    r = check_grad(lambda v: float(np.sum(v > 0)), np.array([0.0]), np.array([claim]))
    assert r.verdict == "inconclusive" and r.inconclusive[0].startswith("x[0]: f jumps at x[0] by 1")


@pytest.mark.parametrize("claim", [0.0, 5.0])
def test_a_second_derivative_at_a_kink_is_a_jump_of_the_first(claim):
    # ReLU″ at 0, as the Jacobian of ReLU′: no value can be right
    relu_grad = lambda v: np.where(v >= 0, 1.0, 0.0)   # noqa: E731
    r = check_jacobian(relu_grad, np.array([0.0, 2.0]), np.diag([claim, 0.0]))
    assert r.verdict == "inconclusive" and r.n_inconclusive == 1 and r.n_failed == 0


@pytest.mark.parametrize("x0", [1e-9, -1e-9, 3e-12])
def test_a_kink_within_the_finest_usual_step_leaves_the_stencil(x0):
    right = np.array([1.0 if x0 > 0 else 0.0])
    assert check_grad(relu, np.array([x0]), right).verdict == "pass"
    assert check_grad(relu, np.array([x0]), 1.0 - right).verdict == "fail"


def test_an_error_raised_by_f_at_a_stencil_point_is_reported_with_where():
    def f(v):
        if v[0] < 0:
            raise ValueError("math domain error")
        return float(np.sqrt(v[0]))

    r = check_grad(f, np.array([0.0]), np.array([1.0]))
    assert r.verdict == "fail" and r.problems
    assert r.problems[0].startswith("entry [0]: f raised ValueError at x − ")
    assert r.problems[0].endswith("(x_i = 0): math domain error")


def test_f_that_modifies_its_input_is_reported_and_the_callers_array_is_kept():
    x = np.array([0.5, 1.5])
    keep = x.copy()

    def f(v):
        v *= 2.0
        return float(np.sum(v))

    with pytest.raises(ValueError, match="f modified its input array in place"):
        check_grad(f, x, np.array([2.0, 2.0]))
    np.testing.assert_array_equal(x, keep)


def test_a_stencil_that_leaves_fs_domain_shrinks_its_step_and_says_so():
    # −Σ log p at p = 1e-5: x − 2h is negative at the first step; a 16× finer one stays inside
    p = np.array([1e-5, 0.3, 0.5])
    f = lambda v: -np.sum(np.log(v))   # noqa: E731
    r = check_grad(f, p, -1.0 / p)
    assert r.verdict == "pass" and r.step[0] <= H0 / REFINE_FACTOR and r.step[1] == H0   # (then refined)
    assert r.notes == [f"entry [0]: the step shrank from {H0:.3g} to {H0 / REFINE_FACTOR:.3g} to keep the "
                       f"stencil inside f's domain (f(x − {2 * H0:.3g}·e_i) = nan at x_i = 1e-05)"]
    wrong = -1.0 / p
    wrong[0] *= 1 + 1e-3
    assert check_grad(f, p, wrong).verdict == "fail"


def test_an_f_that_raises_outside_its_domain_is_probed_inside_it():
    def f(v):
        if v[0] < 0:
            raise ValueError("math domain error")
        return float(np.sqrt(v[0]))

    x = np.array([1e-10])
    assert check_grad(f, x, 0.5 / np.sqrt(x)).verdict == "pass"
    assert check_grad(f, x, 0.4 / np.sqrt(x)).verdict == "fail"


def _batch_norm_sum(w):
    # np.var takes |v − mean|²: with complex input it drops the imaginary part's sign
    return lambda v: np.sum(w * (v - v.mean()) / np.sqrt(np.var(v) + 1e-5))


def test_the_complex_step_on_an_f_that_is_not_complex_analytic_is_not_a_failure():
    w = RNG.normal(size=6)
    f = _batch_norm_sum(w)
    s = np.sqrt(np.var(X6) + 1e-5)
    c = X6 - X6.mean()
    g = (w - w.mean()) / s - c * np.sum(w * c) / (len(X6) * s**3)   # ∂/∂v of Σ w·(v − v̄)/σ
    assert check_grad(f, X6, g).verdict == "pass"                   # the claim is right
    r = check_grad(f, X6, g, method="complex")
    assert r.verdict == "inconclusive" and r.n_failed == 0
    assert "f is not complex-analytic here" in r.inconclusive[0] and "use method='central'" in r.reason
    wrong = g.copy()
    wrong[2] += 0.5
    assert check_grad(f, X6, wrong, method="complex").verdict == "fail"   # wrong by central too


# ---- ties: several kinks at x in one output ----------------------------------------------------

def _tie(v):
    return float(-2.0 * max(v[0], v[1]) + max(v[1], v[2]))


# Near (1, 1, 1) the four pieces are v0 > v1 > v2: (−2, 1, 0); v0 > v1 < v2: (−2, 0, 1);
# v1 > v0, v1 > v2: (0, −1, 0); v0 < v1 < v2: (0, −2, 1). Every one is a limiting gradient, and every
# point of their convex hull a subgradient.
@pytest.mark.parametrize("claim, verdict", [
    ((-2.0, 1.0, 0.0), "pass"),     # outside coordinate 1's one-sided slopes (−1, 0): failed before
    ((0.0, -2.0, 1.0), "pass"),     # outside them too
    ((0.0, -1.0, 0.0), "pass"),
    ((-1.0, -1.0, 1.0), "pass"),    # half of (−2, 0, 1) and (0, −2, 1)
    ((-2.0, 0.0, 0.0), "fail"),     # inside every coordinate's slopes, yet no subgradient: passed before
    ((5.0, 5.0, 5.0), "fail"),
])
def test_at_a_tie_a_claim_passes_exactly_when_it_is_a_subgradient(claim, verdict):
    r = check_grad(_tie, np.ones(3), np.array(claim))
    assert r.verdict == verdict, str(r)


@pytest.mark.parametrize("claim, verdict", [
    ((0.0, 1.0, 0.0, 0.0), "pass"), ((0.5, 0.5, 0.0, 0.0), "pass"), ((1.0, 1.0, 0.0, 0.0), "fail"),
])
def test_max_pooling_over_equal_values(claim, verdict):
    assert check_grad(lambda v: float(np.max(v)), np.ones(4), np.array(claim)).verdict == verdict


# ---- the complex step on an ill-conditioned f (issue 11, class 7) --------------------------------

A = 1e-3   # f = Σ sin(v/a): g_i = cos(x_i/a)/a ≈ 1e3, ∂g_i/∂x_i = −sin(x_i/a)/a² ≈ 1e6


def _wiggle(v):
    return np.sum(np.sin(v / A))


def _wiggles(v):
    return np.sin(v / A)


# The claim cos(x/a)/a is computed from u = x/a, which rounds by up to eps/2·|u| = eps/2·|x_i|/a; the
# slope of cos amplifies that to eps/2·|x_i|·|∂g_i/∂x_i|, up to 1e6·eps/2 ≈ 1e-10 here, 500× the
# eps·|g_i| ≈ 2e-13 an analytic value of that size is otherwise allowed. The complex step rounds
# (x + ih)/a the same way: right up to that rounding, it cannot be judged closer. One entry off by 1e-6
# relative (1e-3 absolute) stands 1e7 times above it and fails, in every mode.
@pytest.mark.parametrize("mode", ["grad", "jacobian", "directional"])
def test_the_complex_step_allows_a_claim_the_rounding_an_ill_conditioned_f_amplifies(mode):
    def check(claim, x):
        if mode == "jacobian":
            return check_jacobian(_wiggles, x, np.diag(claim), method="complex")
        return check_grad(_wiggle, x, claim, method="complex",
                          **({"directions": 4, "seed": 0} if mode == "directional" else {}))

    seeds = range(20)
    for s in seeds:
        x = np.random.default_rng(s).uniform(-1, 1, 5)
        g = np.cos(x / A) / A
        r = check(g, x)
        assert r.verdict == "pass", (s, str(r))
        wrong = g.copy()
        wrong[s % 5] *= 1 + 1e-6
        bad = check(wrong, x)
        assert bad.verdict == "fail", (s, str(bad))
        if mode != "directional":
            assert bad.worst_index == ((s % 5, s % 5) if mode == "jacobian" else (s % 5,))
    assert len(seeds) == 20


def test_on_a_well_conditioned_f_the_complex_step_still_catches_one_entry_off_by_1e_10():
    f = lambda v: np.sum(np.sin(v) * np.exp(v / 3))   # noqa: E731
    g = (np.cos(X6) + np.sin(X6) / 3) * np.exp(X6 / 3)
    assert check_grad(f, X6, g, method="complex").verdict == "pass"
    for i in range(X6.size):
        wrong = g.copy()
        wrong[i] *= 1 + 1e-10
        bad = check_grad(f, X6, wrong, method="complex")
        assert bad.verdict == "fail" and bad.worst_index == (i,), (i, str(bad))


# ---- a claim's rounding that f's scale does not show (the O(1) band) ----------------------------


def _confident_ce(z, y):
    """Softmax cross-entropy with the stable log-softmax: −Σ y·(z − m − log Σ exp(z − m))."""
    def f(v):
        m = np.max(v.real) if np.iscomplexobj(v) else np.max(v)
        return -np.sum(y * (v - m - np.log(np.sum(np.exp(v - m)))))
    return f


@pytest.mark.parametrize("method", ["central", "richardson", "complex"])
def test_p_minus_y_at_a_confident_correct_prediction_is_never_failed(method):
    # z = [30, 0, −30], y = e_0: the exact gradient is p − y with p_0 − 1 = −(e^-30 + e^-60)/(1 + …) ≈
    # −9.36e-14, but p − y computed as every framework does cancels p_0 ≈ 1 against 1: it errs by up
    # to eps/2·1 absolute (its entry 0 is a multiple of 2^-53), which nothing in f (≈ 9e-14) shows. Such an
    # entry is not failed: within analytic_rounding·eps·1 of the estimate it is inconclusive, saying so;
    # a claim farther off than that (entry 0 sign-flipped: 1.9e-13 away) still fails
    z, y = np.array([30.0, 0.0, -30.0]), np.array([1.0, 0.0, 0.0])
    f = _confident_ce(z, y)
    p = np.exp(z) / np.sum(np.exp(z))
    g = p - y
    assert g[0] != -np.exp(-30.0) / (1 + np.exp(-30.0) + np.exp(-60.0))   # the claim is rounded
    r = check_grad(f, z, g, method=method)
    assert r.verdict != "fail", str(r)
    for why in r.inconclusive:   # f itself keeps only multiples of eps (log of 1 + 9e-14): a real step
        # may find its effect below that rounding, the complex step the claim within the O(1) band
        assert (("the rounding of an O(1) intermediate" in why and "pass atol" in why)
                or "below f's rounding" in why), why
    wrong = g.copy()
    wrong[0] = -wrong[0]
    assert check_grad(f, z, wrong, method=method).verdict == "fail"


@pytest.mark.parametrize("method", ["central", "complex"])
def test_a_disagreement_within_the_o1_band_that_fs_scale_cannot_decide_is_inconclusive(method):
    # f = 1e-12·Σ sin x claimed with one entry 1e-4 off: 1e-16·|cos x_2| absolute, below the claim's
    # possible rounding of an O(1) intermediate, analytic_rounding·eps·1 = 1.8e-15: f cannot tell that
    # from rounding, so the entry is inconclusive with that reason, never passed. 2e-15 off (just beyond
    # the band, 1.7e-3 relative) fails.
    c = 1e-12
    f = lambda v: c * np.sum(np.sin(v))   # noqa: E731
    g = c * np.cos(X5)
    one = g.copy()
    one[2] *= 1 + 1e-4
    assert abs(one[2] - g[2]) < A_R * EPS
    r = check_grad(f, X5, one, method=method)
    assert r.verdict == "inconclusive" and r.n_inconclusive == 1, str(r)
    assert r.inconclusive[0].startswith("x[2]: the claim differs by "), r.inconclusive[0]
    assert "cannot tell rounding from error" in r.inconclusive[0]
    band = A_R * EPS + (C_X * EPS if method == "complex" else 0.0)
    beyond = g.copy()
    beyond[2] += 1.2 * band
    assert check_grad(f, X5, beyond, method=method).verdict == "fail"


def test_an_all_buried_gradient_is_inconclusive_whatever_its_sign():
    # f = Σ(1e12 + 1e-6·v): f rounds at ≈ 1e-4 and no admissible step moves it by more (1e-6·0.025): no
    # entry can be judged, so neither the right claim nor the sign-flipped one may pass
    x = np.array([0.3, -0.7, 1.1])
    f = lambda v: float(np.sum(1e12 + 1e-6 * v))   # noqa: E731
    for claim in (1e-6 * np.ones(3), -1e-6 * np.ones(3)):
        r = check_grad(f, x, claim)
        assert r.verdict == "inconclusive", str(r)


def test_the_complex_step_on_a_float32_f_is_judged_at_float32_precision():
    # f works in complex64 along the complex step (its output's dtype says so): Im f(x + ih)/h carries
    # float32's rounding, ≈ eps32·|f′|, 1e9 times float64's. The right claim passes; one entry 1e-3 off
    # (1e4 times that rounding) fails
    f = lambda v: np.sum(np.sin(v.astype(np.complex64) if np.iscomplexobj(v)   # noqa: E731
                                else v.astype(np.float32)))
    x = np.array([0.3, -1.2, 2.0, 0.8])
    g = np.cos(x)
    r = check_grad(f, x, g, method="complex")
    assert r.verdict == "pass", str(r)
    wrong = g.copy()
    wrong[1] *= 1 + 1e-3
    bad = check_grad(f, x, wrong, method="complex")
    assert bad.verdict == "fail" and bad.worst_index == (1,), str(bad)


def test_a_float32_f_grows_its_step_until_a_1e_3_error_is_resolved():
    # float32 Σ e^{x/3} returned as a Python float: f ≈ 9 rounds at ≈ eps32·9 = 1e-6, so at float32's
    # first step (eps32^(1/3)·2 ≈ 0.01) the bound is ≈ 8e-4, above a 1e-3 error of x[2]'s 0.65; f″ is
    # small (e^{x/3}/9), so growing the step to ≈ 0.04 lowers the rounding 4× for a truncation of
    # h²·f‴/6 ≈ 2e-5: the right claim passes and the 1e-3 error fails (issue 11's float32 target)
    f = lambda v: float(np.sum(np.exp(v.astype(np.float32) / 3)))   # noqa: E731
    x = np.array([-0.38239252554437275, 0.6653138780015324, 2.0169683294811325, 1.9680975668761402,
                  -0.04913636247166692, 1.077102431855307])
    g = np.exp(x / 3) / 3
    assert check_grad(f, x, g).verdict == "pass"
    wrong = g.copy()
    wrong[2] *= 1.001
    bad = check_grad(f, x, wrong)
    assert bad.verdict == "fail" and bad.worst_index == (2,), str(bad)


def test_the_complex_steps_conditioning_is_not_read_across_fs_domain_edge():
    # √x at x = 1e-10: the slope of the gradient read at x ± δ (δ = sqrt(eps) = 1.5e-8) crosses 0, where
    # √ of a negative number on the complex plane is another branch (Im ≈ 1.2e-4 ≫ h·f′): that side's
    # reading is no slope, and widened the bound to 7e8. Read from the side that stays analytic, the
    # conditioning term is 4·eps·|g′| = 0.2, and a claim 1e-4 off (5 absolute) fails
    q = np.array([1e-10, 0.5, 2.0])
    g = 0.5 / np.sqrt(q)
    f = lambda v: np.sum(np.sqrt(v))   # noqa: E731
    assert check_grad(f, q, g, method="complex").verdict == "pass"
    wrong = g.copy()
    wrong[0] *= 1 + 1e-4
    bad = check_grad(f, q, wrong, method="complex")
    assert bad.verdict == "fail" and bad.worst_index == (0,), str(bad)


def test_a_stencil_shrunk_to_fs_domain_is_refined_while_truncation_dominates():
    # √x at x = 1e-10: the stencil stays in the domain only at h ≈ 6e-12, where the truncation
    # h²·f‴/6 ≈ 21 still dominates (f‴ = 3/8·x^-2.5); f's rounding there is eps·|f|/h ≈ 1e-3, not
    # eps·max(|x|, 1)·|g|/h ≈ 30 (the neighbourhood probed is of scale h/step ≈ 1e-6, not 1), so the step
    # is refined 16× and 256×, down to a bound ≈ 0.6: a claim 1e-4 off (5 absolute) fails
    q = np.array([1e-10, 0.5, 2.0])
    g = 0.5 / np.sqrt(q)
    f = lambda v: np.sum(np.sqrt(v))   # noqa: E731
    r = check_grad(f, q, g)
    assert r.verdict == "pass" and r.notes, str(r)
    wrong = g.copy()
    wrong[0] *= 1 + 1e-4
    bad = check_grad(f, q, wrong)
    assert bad.verdict == "fail" and bad.worst_index == (0,), str(bad)


@pytest.mark.parametrize("f, x, g, off", [
    (lambda v: np.sum(np.arcsin(v)), np.array([1 - 1e-9, 0.2]),
     1 / np.sqrt((1 - np.array([1 - 1e-9, 0.2])) * (1 + np.array([1 - 1e-9, 0.2]))), 1e-3),
    (lambda v: np.sum(np.log1p(v)), np.array([-1 + 1e-7, 0.5]), 1 / (1 + np.array([-1 + 1e-7, 0.5])), 1e-4),
], ids=["arcsin at 1 - 1e-9", "log1p at -1 + 1e-7"])
def test_at_a_domain_edge_the_shrunk_step_reads_fs_rounding_at_the_reach_it_probes(f, x, g, off):
    # the stencil fits in f's domain only at h ≈ 1e-10 (arcsin) or 2e-8 (log1p); over that reach f
    # moves by h/step·|g|, far below max(|x|, 1)·|g| (2e4, 1e7), so f's rounding is eps·|f|/h and the
    # step is refined while truncation dominates (f‴ ≈ 1.7e22, 2e21): a claim off by 1e-3 (arcsin) or
    # 1e-4 (log1p) fails, where the floor 1·|g| left bounds of 113 and 3000 that passed it
    assert check_grad(f, x, g).verdict == "pass"
    wrong = g.copy()
    wrong[0] *= 1 + off
    bad = check_grad(f, x, wrong)
    assert bad.verdict == "fail" and bad.worst_index == (0,), str(bad)


def test_the_complex_step_on_a_noisy_f_measures_the_noise_and_does_not_fail_a_right_claim():
    # f·(1 + 1e-12·ξ), ξ drawn afresh per call (summation order changing between calls): Im f(x + ih)/h
    # carries the same 1e-12 relative noise, 300 times the complex step's rounding. Repeating f(x)
    # measures it (σ ≈ 1e-12·|f|): a right claim is never failed, and one entry 1e-9 off (1000σ) fails
    x = np.random.default_rng(0).normal(size=6)
    g = np.cos(x) * np.exp(x / 3) + np.sin(x) * np.exp(x / 3) / 3
    wrong = g.copy()
    wrong[2] *= 1 + 1e-9
    for seed in range(5):
        rng = np.random.default_rng(seed)
        f = lambda v, rng=rng: np.sum(np.sin(v) * np.exp(v / 3)) * (1 + 1e-12 * rng.standard_normal())  # noqa: E731
        r = check_grad(f, x, g, method="complex")
        assert r.verdict != "fail", (seed, str(r))
        assert check_grad(f, x, wrong, method="complex").verdict == "fail", seed


@pytest.mark.parametrize("method", ["central", "complex"])
def test_on_a_noisy_f_the_taylor_test_gives_no_second_opinion(method):
    # f·(1 + 1e-12·ξ): the error model counts the noise it measured, so a right claim lands within its
    # bound, sometimes marginally; the Taylor test's remainders at its small steps are that noise (order
    # ≈ 0.4 read on a right claim), and would turn such a pass inconclusive. Where noise was measured
    # there is no second opinion: a right claim passes for every noise seed
    x = np.random.default_rng(0).normal(size=6)
    g = np.cos(x) * np.exp(x / 3) + np.sin(x) * np.exp(x / 3) / 3
    for seed in range(5):
        rng = np.random.default_rng(seed)
        f = lambda v, rng=rng: np.sum(np.sin(v) * np.exp(v / 3)) * (1 + 1e-12 * rng.standard_normal())  # noqa: E731
        r = check_grad(f, x, g, method=method)
        assert r.verdict == "pass", (seed, str(r))


def test_kinks_of_a_separable_f_are_judged_per_coordinate_not_as_a_tie():
    # Σ w·relu(x) with three entries at 0: f(x + Σ u_i e_i) − f(x) = Σ_i (f(x + u_i e_i) − f(x)) exactly,
    # so the kinks do not interact and each coordinate's one-sided slopes [0, w_i] decide its claim: a
    # claim inside every interval passes, x[1] claimed 2·w_1 (outside [−1.1, 0]) fails, named
    w = np.array([0.7, -1.1, 0.4, 0.9])
    x = np.array([0.0, 0.0, 0.0, 0.8])
    f = lambda v: float(np.sum(w * np.maximum(v, 0.0)))   # noqa: E731
    g = w * (x >= 0)
    assert check_grad(f, x, g).verdict == "pass"
    wrong = g.copy()
    wrong[1] = 2 * w[1]
    bad = check_grad(f, x, wrong)
    assert bad.verdict == "fail" and bad.worst_index == (1,), str(bad)


@pytest.mark.parametrize("claim", [[-2e-8, 2e8], [5.0, 2e8], [-3.0, 2e8]])
def test_the_complex_step_never_passes_an_entry_only_the_gradient_s_scale_could_excuse(claim):
    # the complex estimate of x[0] under Σ x² at [1e-8, 1e8] is exact (2e-8); what let a sign-flipped
    # claim pass was the rounding allowed at f's and the gradient's scale (8·eps·|f| ≈ 18, 16·eps·max|g|):
    # the claim is then neither passed nor failed (adversarial #18)
    r = check_grad(lambda v: np.sum(v**2), np.array([1e-8, 1e8]), np.array(claim), method="complex")
    assert r.verdict == "inconclusive" and r.n_inconclusive == 1
    assert r.inconclusive[0].startswith("x[0]: the claim differs by")
    assert "only by the rounding allowed at the gradient's and f's scale" in r.inconclusive[0]
    right = check_grad(lambda v: np.sum(v**2), np.array([1e-8, 1e8]), np.array([2e-8, 2e8]), method="complex")
    assert right.verdict == "pass"


@pytest.mark.parametrize("distance", [1e-9, -3e-10, 1e-12])
def test_a_jump_near_x_but_not_at_it_is_chased_until_it_leaves_the_stencil(distance):
    # f = Σ (v > 0) is flat within |distance| of x: its derivative there is 0, and a finer step than the
    # usual refinement depth (h/4096 ≈ 1.5e-9) leaves the jump outside the stencil (adversarial #29)
    f = lambda v: float(np.sum(v > 0))   # noqa: E731
    x = np.array([distance, 0.5])
    right = check_grad(f, x, np.zeros(2))
    assert right.verdict == "pass", right
    wrong = check_grad(f, x, np.array([1.0, 0.0]))
    assert wrong.verdict == "fail" and wrong.worst_index == (0,)


@pytest.mark.parametrize("x0", [2.0, -3.0, 1024.0])
def test_a_jump_at_x_stays_a_jump_down_to_the_finest_step_x_resolves(x0):
    # floor at an integer: the chase stops where x ± h would round to x, and the jump stands
    r = check_grad(lambda v: float(np.sum(np.floor(v))), np.array([x0]), np.array([0.0]))
    assert r.verdict == "inconclusive" and r.inconclusive[0].startswith("x[0]: f jumps at x[0] by 1")


def test_central_differences_on_an_f_with_noise_no_entry_escapes_measure_it_and_grow_the_step():
    # f·(1 + 1e-8·ξ): at the first step every entry's truncation estimate is that noise over h (1e-3),
    # no entry is clean to pool it from, and refining chased kinks made of noise (slopes of 1e8) whose
    # interval passed any claim. Repeating f(x) measures σ ≈ 1e-8·|f|; the step then grows towards
    # (σ/|f‴|)^(1/3), where the bound (≈ 1e-5) passes the right claim and fails one entry 1% off
    x = np.random.default_rng(0).normal(size=6)
    g = np.cos(x) * np.exp(x / 3) + np.sin(x) * np.exp(x / 3) / 3
    wrong = g.copy()
    wrong[2] *= 1.01
    for seed in range(10):
        rng = np.random.default_rng(seed)
        f = lambda v, rng=rng: np.sum(np.sin(v) * np.exp(v / 3)) * (1 + 1e-8 * rng.standard_normal())  # noqa: E731
        r = check_grad(f, x, g)
        assert r.verdict == "pass", (seed, str(r))
        assert "f is noisy" in r.tolerance_reason, seed
        bad = check_grad(f, x, wrong)
        assert bad.verdict == "fail" and bad.worst_index == (2,), (seed, str(bad))
