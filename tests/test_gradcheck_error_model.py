"""Full mode's error model, term by term, on functions whose stencil values are known exactly.

Pins what the module docstring and ERROR_MODEL state: a reason beside every number of the table; the
truncation T = |D(h) − D(2h)|/3 (Richardson: /15), the rounding e_f·Σ|coefficients| with
e_f = C_F·eps·max(|f| on the stencil, max_i max(|x_i|, 1)·|g_i|) or the fourth-difference noise, the
claimed rounding C_A·eps_g·(|g_i| + max|g| + max(|f|, max_s |g_si|)) (no absolute floor but the smallest
normal number: both scale with f), the conditioning term of an entry that would fail, the complex
step's bound and step, the kink rule's
bound and its inclusive edges, the fallback of an entry no step resolves, and the messages and fields
of non-finite results. Expected values are derived from the formulas (polynomials at 0, exactly scaled
linear maps), never pasted from a run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop_ref.gradcheck import ERROR_MODEL, check_grad, check_jacobian

EPS = float(np.finfo(np.float64).eps)
TINY = float(np.finfo(np.float64).tiny)
MULTIPLES = {"central": (1.0, 2.0), "richardson": (1.0, 2.0, 4.0)}   # the stencil's step multiples
EPS32 = float(np.finfo(np.float32).eps)
S = ERROR_MODEL["safety"][0]
C_F = ERROR_MODEL["f_rounding"][0]
C_A = ERROR_MODEL["analytic_rounding"][0]
C_X = ERROR_MODEL["complex_rounding"][0]
STEP = {m: ERROR_MODEL[f"{m}_step"][0] for m in ("central", "richardson", "complex")}
GROW = ERROR_MODEL["grow_factor"][0]
FINEST = 16.0 ** 3   # "re-probed with steps 16, 256 and 4096 times smaller"
X6 = np.linspace(-1.5, 1.2, 6)


def approx(expected, rel):
    """Relative closeness only: pytest's default abs=1e-12 would accept any two bounds of 1e-14."""
    return pytest.approx(expected, rel=rel, abs=0)


# ---- the table ----------------------------------------------------------------------------------

def test_error_model_table_gives_a_reason_for_every_number():
    for name, (value, reason) in ERROR_MODEL.items():
        assert value > 0 and len(reason) > 30, name


# ---- the three terms ----------------------------------------------------------------------------

# At x = 0 an odd monomial has exact stencil values ±(kh)^p, so D(h) = h^(p−1) and its fourth
# difference is 0. Central, v³: D(h) = h², D(2h) = 4h², T = h². Richardson, v⁵: D(kh) = k⁴h⁴, so
# R(h) = (4·h⁴ − 16h⁴)/3 = −4h⁴, R(2h) = −64h⁴, T = 60h⁴/15 = 4h⁴. Σ|coefficients|: central
# (f₊ − f₋)/2h gives 1/h; Richardson (4D(h) − D(2h))/3 gives 4·2/(3·2h) + 2/(3·4h) = 1.5/h.
@pytest.mark.parametrize("method, p, est, trunc, coef", [
    ("central", 3, lambda h: h * h, lambda h: h * h, lambda h: 1.0 / h),
    ("richardson", 5, lambda h: -4 * h**4, lambda h: 4 * h**4, lambda h: 1.5 / h),
])
def test_full_mode_terms_of_an_odd_monomial_at_zero(method, p, est, trunc, coef):
    r = check_grad(lambda v: float(np.sum(v**p)), np.array([0.0]), np.array([0.0]), method=method)
    # f's values are exact and its rounding relative (|f| ≤ (widest·h)^p on the stencil, nothing of
    # larger size to round: the claim is 0, so is max(|x_i|, 1)·|g_i|): T/R does not depend on h (central
    # h²/(8·C_F·eps·h²), Richardson 4h⁴/(1536·C_F·eps·h⁴)), far above refine_ratio at every step, so the
    # entry is probed at every usual level, 16× finer each, and the finest is kept (T + R falls with h)
    h = float(r.step[0])
    widest = max(MULTIPLES[method])
    assert r.passed and r.kinks == [] and h == STEP[method] / FINEST
    assert r.numerical[0] == approx(est(h), rel=1e-9)       # rel: rounding of h^p only
    t, rnd, ana = r.terms
    assert t[0] == approx(S * trunc(h), rel=1e-9)
    assert rnd[0] == approx(S * C_F * EPS * (widest * h) ** p * coef(h), rel=1e-9)
    # the claim 0 and f(x) = 0: its rounding is that of the smallest normal number, in both of its terms
    assert ana[0] == 2 * C_A * EPS * TINY
    assert r.tolerance[0] == approx(t[0] + rnd[0] + ana[0], rel=1e-12)


def test_fourth_difference_noise_decides_the_rounding_when_larger():
    # f = v² + c·v⁴ at 0: even, so D(h) = 0 and T = 0; its fourth difference is 24c·h⁴, which the model
    # reads as noise σ = |Δ⁴f|/√70 (√70 = √(1+16+36+16+1): the spread of Δ⁴ of unit random errors).
    c = 2.0**30
    r = check_grad(lambda v: float(np.sum(v * v + c * v**4)), np.array([0.0]), np.array([0.0]))
    h = STEP["central"]
    sigma = 24 * c * h**4 / math.sqrt(70.0)
    assert sigma > 100 * C_F * EPS                                 # far above the model's e_f
    assert r.passed and r.kinks == [] and r.terms[0][0] == 0.0
    assert r.terms[1][0] == approx(S * sigma / h, rel=1e-6)  # rel: Δ⁴ of values ~h², rounded


def test_f_scale_is_the_largest_value_on_each_entrys_own_stencil():
    # f = 2^30 + 2^20·v₀ at x = 0: |f| (2^30) stands above the first-order scale max(|x_i|, 1)·|g_i| =
    # 2^20, so each entry's rounding is C_F·eps·max|f| over its own stencil: up to f(x + 2h·e₀) for entry
    # 0, exactly 2^30 for entry 1 (f does not move along it)
    f = lambda v: float(2.0**30 + 2.0**20 * v[0])   # noqa: E731
    r = check_grad(f, np.zeros(2), np.array([2.0**20, 0.0]))
    h = STEP["central"]
    fmax0 = max(abs(f(np.array([k * h, 0.0]))) for k in (-2, -1, 0, 1, 2))
    assert r.passed and fmax0 > 2.0**30
    np.testing.assert_allclose(r.terms[1], [S * C_F * EPS * fmax0 / h, S * C_F * EPS * 2.0**30 / h],
                               rtol=1e-12)


A_LIN = np.array([[2.0**20, 2.0**18], [2.0**10, 2.0**-2], [2.0**-3, 2.0**-5]])
X_LIN = np.array([0.5, -0.75])


def test_f_rounding_floor_is_max_x_times_max_g_per_output():
    # f = A·(v − x₀) is 0 at x₀ with exact stencil values, yet it rounds like its first-order terms:
    # e_f = C_F·eps·max_j max(|x_j|, 1)·|A_rj| for output r, ≫ |f| on the stencil (|x_j| < 1 here: the
    # steps' scale max(|x_j|, 1) is 1, so the floor is max_j |A_rj|)
    r = check_jacobian(lambda v: A_LIN @ (v - X_LIN), X_LIN, A_LIN)
    h = STEP["central"]                                            # |x_i| < 1
    gmax = np.abs(A_LIN).max(axis=1)
    floor = (np.abs(A_LIN) * np.maximum(np.abs(X_LIN), 1.0)).max(axis=1)
    assert r.passed and r.kinks == [] and (r.terms[0] == 0).all()
    expected = np.broadcast_to(S * C_F * EPS * floor[:, None] / h, A_LIN.shape)
    np.testing.assert_allclose(r.terms[1], expected, rtol=1e-12)
    # the claimed rounding: C_A·eps·(|g_i| + max|g| of its output + max(|f_r|, max_s |A_sj|)), f = 0 at x₀:
    # the floor is the largest derivative of any output by the same entry
    col = np.abs(A_LIN).max(axis=0)
    np.testing.assert_allclose(r.terms[2], C_A * EPS * (np.abs(A_LIN) + gmax[:, None] + col[None, :]),
                               rtol=1e-12)


def test_a_non_finite_claim_fails_but_leaves_the_other_bounds_built_from_the_finite_claims():
    x = np.array([0.5, 4.0])
    r = check_grad(lambda v: float(0.25 * (v[0] - 0.5)), x, np.array([0.25, np.inf]))
    assert not r.passed and r.problems == ["the claimed grad is inf at index [1]"]
    # over the finite claims, max(|x_i|, 1)·|g_i| = 0.25 and max|g| = 0.25: those are the floors of f's
    # rounding (|f| ≤ 0.25·2h on the stencil) and, with f(x) = 0, of the claim's (its column's 0.25)
    assert r.terms[1][0] == approx(S * C_F * EPS * 0.25 / STEP["central"], rel=1e-12)
    assert r.terms[2][0] == approx(C_A * EPS * (0.25 + 0.25 + 0.25), rel=1e-12)


# ---- complex step -------------------------------------------------------------------------------

def test_complex_step_bound_and_step_per_entry():
    x = np.array([[0.5, -3.0], [1.5, 4.0]])
    r = check_grad(lambda v: np.sum(v**3), x, 3 * x**2, method="complex")
    h = STEP["complex"] * np.maximum(np.abs(x), 1.0)
    assert r.passed and r.step.shape == x.shape and (r.step == h).all()
    n = np.abs(r.numerical)
    f0 = float(np.sum(x**3))
    # C_X·eps·(|n_i| + max|n| + max(|f|, |n_i|)) (the floor: f's size, or the largest derivative by the
    # same entry, its own for a scalar f) plus the underflow floor tiny/h (2e-288 here), no truncation
    np.testing.assert_allclose(r.terms[1], S * (C_X * EPS * (n + n.max() + np.maximum(abs(f0), n))
                                                + TINY / h), rtol=1e-12)
    assert (r.terms[0] == 0).all()


def test_complex_step_bound_at_a_huge_step_is_the_rounding_term_alone():
    # x = 1e307: h = 1e287 and the bound is C_X·eps·|f| alone (f = 1; |n| = 1e-307 vanishes next to it):
    # no term grows with the step.
    x = np.array([1e307])
    f = lambda v: 1e-307 * v[0]  # noqa: E731
    r = check_grad(f, x, np.array([1e-307]), method="complex")
    assert r.passed and r.step[0] == 1e-20 * 1e307
    assert r.terms[1][0] == approx(S * C_X * EPS * max(abs(f(x)), 1.0), rel=1e-12)


def test_complex_claimed_rounding_of_an_entry_that_would_fail_counts_its_conditioning():
    # f = Σ sin v: ∂g_i/∂x_i = −sin x_i. Entry 1, claimed 1e-6 off, fails the complex step's bound, so its
    # claimed rounding gains C_K·eps·max(|x_1|, 1)·|∂g_1/∂x_1| (the claim, computed from intermediates
    # of x's scale, errs by their rounding times g's slope), the slope read from the complex step at
    # x ± δ·e_1; the entries that pass keep the claimed rounding C_A·eps·(|g_i| + max|g| + max(|f|, |g_i|)).
    c_k = ERROR_MODEL["conditioning"][0]
    x = np.array([0.3, 2.0, -1.0])
    g = np.cos(x)
    g[1] *= 1 + 1e-6
    f0 = float(np.sum(np.sin(x)))
    r = check_grad(lambda v: np.sum(np.sin(v)), x, g, method="complex")
    assert r.verdict == "fail" and r.worst_index == (1,)
    base = C_A * EPS * (np.abs(g) + np.abs(g).max() + np.maximum(abs(f0), np.abs(g)))
    for i in (0, 2):
        assert r.terms[2][i] == approx(base[i], rel=1e-12)
    # (the slope is read over δ = sqrt(eps)·2: it differs from sin 2 by δ·|cos 2|/2, 1e-8 of it)
    assert r.terms[2][1] == approx(base[1] + c_k * EPS * 2.0 * abs(np.sin(2.0)), rel=1e-6)
    # f(x), one complex step per entry, noise_repeats more f(x) for f's noise (an entry fails), two for
    # the failing entry's slope, and the central re-probe (f(x ± h), f(x ± 2h)) that asks whether f is
    # complex-analytic there
    assert r.n_evals == 1 + 3 + int(ERROR_MODEL["noise_repeats"][0]) + 2 + 4


def _off_axis_blowup(v):
    # finite on the real line; off it, output 1 is inf and output 2 NaN
    off = np.any(np.imag(v) != 0)
    return np.array([np.sum(v), np.inf if off else 1.0, np.nan if off else 2.0]) + 0j * np.sum(v)


def test_complex_step_names_the_first_non_finite_output_at_its_point():
    x = np.array([0.5, -3.0])
    r = check_jacobian(_off_axis_blowup, x, np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]),
                       method="complex")
    assert not r.passed
    inf = np.complex128(np.inf)
    assert r.problems == [f"entry [{i}]: f(x + {1e-20 * max(abs(x[i]), 1.0):.3g}i·e_i) = {inf} "
                          f"at x_i = {x[i]:.6g}" for i in range(2)]


# ---- non-finite values, on the stencil and at x -------------------------------------------------

H_C, H_R = STEP["central"], STEP["richardson"]


@pytest.mark.parametrize("method, xi, f, df, where", [
    # √v at x − 2h < 0 < x − h: only the 2h point fails
    ("central", 1.5 * H_C, np.sqrt, lambda v: 0.5 / np.sqrt(v), f"f(x − {2 * H_C:.3g}·e_i) = nan"),
    # Richardson's widest point, x − 4h, alone below 0
    ("richardson", 3 * H_R, np.sqrt, lambda v: 0.5 / np.sqrt(v), f"f(x − {4 * H_R:.3g}·e_i) = nan"),
    # √(1 − v) beyond 1 on the + side at the first step
    ("central", 1 - 0.5 * H_C, lambda v: np.sqrt(1 - v), lambda v: -0.5 / np.sqrt(1 - v),
     f"f(x + {H_C:.3g}·e_i) = nan"),
])
def test_a_stencil_leaving_fs_domain_shrinks_its_step_and_names_the_first_point_outside(method, xi, f, df,
                                                                                        where):
    x = np.array([0.25, xi])            # entry 0 is clean: the note names entry 1 only
    h = STEP[method]
    r = check_grad(lambda v: np.sum(f(v)), x, df(x), method=method)
    assert r.passed and r.problems == [] and r.step[1] <= h / 16 and r.step[0] == h   # (then refined)
    assert r.notes == [f"entry [1]: the step shrank from {h:.3g} to {h / 16:.3g} to keep the stencil inside "
                       f"f's domain ({where} at x_i = {xi:.6g})"]


def test_a_stencil_point_outside_fs_domain_at_every_step_is_named_with_its_side_and_step():
    # √v at v = 0: the backward point v − h is negative for every step, so NaN
    h = np.finfo(float).eps ** (1 / 3)
    r = check_grad(lambda v: np.sum(np.sqrt(v)), np.array([0.0, 1.0]), np.array([1.0, 0.5]))
    assert not r.passed
    assert r.problems == [f"entry [0]: f(x − {h:.3g}·e_i) = nan at x_i = 0"]


def test_a_difference_that_overflows_is_named_as_such():
    # ±1.7e308 on either side of 0 are finite, their difference is not
    r = check_grad(lambda v: float(1.7e308 * np.sign(v[0])), np.array([0.0]), np.array([0.0]))
    assert not r.passed and r.problems == ["entry [0]: the difference overflowed"]
    assert np.isnan(r.numerical[0])


@pytest.mark.parametrize("check, claim, kw", [
    (check_grad, np.ones((2, 2)), {}),
    (check_grad, np.ones((2, 2)), {"method": "richardson", "atol": 1e-3}),
    (check_jacobian, np.ones((3, 2, 2)), {"method": "complex"}),
])
def test_f_not_finite_at_x_gives_a_complete_failed_result(check, claim, kw):
    x = np.ones((2, 2))
    f = (lambda v: np.nan * np.sum(v)) if check is check_grad else (lambda v: np.full(3, np.nan) * np.sum(v))
    r = check(f, x, claim, **kw)
    assert not r.passed and r.kinks == [] and r.terms is None
    assert r.method == kw.get("method", "central") and r.mode == "full" and r.x_shape == (2, 2)
    assert r.kind == ("jacobian" if check is check_jacobian else "gradient")
    assert r.user_tolerance == ("atol" in kw)
    assert r.tolerance_reason == ("f(x) is not finite" if "atol" not in kw else
                                  "the user's tolerance decided: an entry passes when |analytic − numerical|"
                                  " ≤ atol + rtol·|numerical| with atol = 0.001, rtol = 0 (the error model "
                                  "was not used)")
    assert r.numerical.shape == claim.shape and np.isnan(r.numerical).all()


def test_non_finite_f_at_x_names_the_output_for_a_jacobian():
    f = lambda v: np.where(np.arange(v.size) == 3, np.nan, v)  # noqa: E731
    r = check_jacobian(f, X6, np.eye(6))
    assert not r.passed
    assert any(p.startswith("f(x) = nan (output [3])") for p in r.problems)
    r = check_grad(lambda v: np.nan, X6, X6)
    assert r.problems[0].startswith("f(x) = nan: f is not finite at x itself")


# ---- the steps' shapes --------------------------------------------------------------------------

def test_step_and_x_shape_follow_the_documented_shapes():
    x = np.array([[0.5, -2.0], [1.0, 3.0]])
    rg = check_grad(lambda v: np.sum(v**2), x, 2 * x)
    assert rg.x_shape == x.shape and rg.step.shape == x.shape
    np.testing.assert_array_equal(rg.step, STEP["central"] * np.maximum(np.abs(x), 1.0))
    rj = check_jacobian(lambda v: np.array([np.sum(v**2), np.sum(v)]), x, np.stack([2 * x, np.ones_like(x)]))
    assert rj.x_shape == x.shape and rj.step.shape == (2,) + x.shape   # per output and entry


# ---- kinks --------------------------------------------------------------------------------------

def _two_slopes(c, a, ql=0.0, qr=0.0):
    """c·v + ql·v² left of 0, a·v + qr·v² right of it."""
    return lambda v: float(np.sum(np.where(v >= 0, a * v + qr * v * v, c * v + ql * v * v)))


@pytest.mark.parametrize("ql, qr", [(0.0, 1e4), (1e4, 0.0)])
def test_kink_bound_is_safety_times_the_slopes_error_plus_the_claimed_rounding(ql, qr):
    # At the finest step h the slopes are B = c − ql·h and F = a + qr·h; their truncation is what one
    # step doubling changes, max(|F(h) − F(2h)|, |B(h) − B(2h)|) = max(ql, qr)·h, their rounding 2e_f/h.
    g = np.array([1.0], np.float32)     # float32: the claimed rounding is visible next to the rest
    r = check_grad(_two_slopes(-1.0, 2.0, ql, qr), np.array([0.0]), g)
    (k,) = r.kinks
    # the finest step: h/4096, or finer while the slopes still move (they do, by q·h per step)
    h = k.step
    levels = round(np.log(STEP["central"] / h) / np.log(16.0))
    assert r.passed and k.passed and levels >= 3 and h == STEP["central"] / 16.0**levels
    assert k.left == approx(-1.0 - ql * h, rel=1e-12)
    assert k.right == approx(2.0 + qr * h, rel=1e-12)
    # f's rounding C_F·eps·max(|f|, max(|x|, 1)·|g|) = C_F·eps (|f| ≤ 2·2h, g = 1); the claim's rounding:
    # its own entries in float32, the floor max(|f(x)|, |g|) = 1 in float64
    bound = S * (max(ql, qr) * h + 2 * C_F * EPS / h) + C_A * EPS32 * (1.0 + 1.0) + C_A * EPS * 1.0
    assert r.tolerance[0] == approx(bound, rel=1e-9)        # rel: rounding of the slopes


def test_user_tolerance_at_a_kink_is_atol_plus_rtol_times_the_larger_slope():
    r = check_grad(_two_slopes(-1.0, 3.0), np.array([0.0]), np.array([0.5]), atol=1e-3, rtol=1e-2)
    (k,) = r.kinks
    assert r.passed and k.passed
    assert r.tolerance[0] == approx(1e-3 + 1e-2 * max(abs(k.left), abs(k.right)), rel=1e-12)


@pytest.mark.parametrize("c, a, edge", [(0.5, 2.0, "lower"), (-2.0, -0.5, "upper")])
def test_kink_rule_includes_its_edges(c, a, edge):
    # At x = 0 the slopes do not depend on the claim (max|x| = 0). The user's bound at a kink is
    # atol + rtol·max(|left|, |right|); a claim exactly that far outside the slopes still passes, one
    # ulp further fails (the smooth rule, atol + rtol·|nearer slope|, is tighter on this side).
    f, atol, rtol = _two_slopes(c, a), 2.0**-4, 2.0**-3
    (k,) = check_grad(f, np.array([0.0]), np.array([0.0]), atol=atol, rtol=rtol).kinks
    kerr = atol + rtol * max(abs(k.left), abs(k.right))
    lo, hi = min(k.left, k.right), max(k.left, k.right)
    at = lo - kerr if edge == "lower" else hi + kerr
    beyond = np.nextafter(at, -np.inf if edge == "lower" else np.inf)
    r = check_grad(f, np.array([0.0]), np.array([at]), atol=atol, rtol=rtol)
    assert r.passed and r.kinks[0].passed
    r = check_grad(f, np.array([0.0]), np.array([beyond]), atol=atol, rtol=rtol)
    assert not r.passed and not r.kinks[0].passed


def test_a_kink_is_indexed_at_its_entry():
    r = check_grad(lambda v: float(np.sum(np.abs(v))), np.array([1.0, 0.0, 2.0]), np.array([1, 0, 1.0]))
    assert r.passed and [k.index for k in r.kinks] == [(1,)]
    rj = check_jacobian(np.abs, np.array([1.0, 0.0]), np.diag([1.0, 0.0]))
    assert rj.passed and [k.index for k in rj.kinks] == [(1, 1)]


# A kink at 1.5·h/4096 from x: inside the stencil at every step (2h/4096 > 1.5·h/4096), so no step
# resolves the entry. f is differentiable at x (f′ = c); the smooth verdict decides when it can, and
# only a claim it rejects falls back to the kink rule between the one-sided slopes.
C_NEAR, A_NEAR = -0.5, 2.0
OFF = 1.5 * STEP["central"] / FINEST


def _kink_nearby(v):
    return float(np.sum(np.where(v >= OFF, A_NEAR * (v - OFF), C_NEAR * (v - OFF))))


@pytest.mark.parametrize("claim, kw, passed", [
    (C_NEAR, {}, True),                      # the true derivative passes by the smooth verdict
    (1.0, {}, False),                        # between the coarse slopes, but not the derivative at x
    (1.4, {"rtol": 4.0}, True),              # |1.4 − c| = 1.9 ≤ 4·|c| = 2: the user's smooth bound passes
    (1.4, {"rtol": 2.0}, False),             # 1.9 > 2·|c| = 1
])
def test_a_kink_inside_the_usual_finest_step_is_chased_out_of_the_stencil(claim, kw, passed):
    # The kink sits within h/4096 of x: the suspect is probed further (refine_levels_max) until the
    # kink leaves the stencil, and the derivative at x alone decides (it was an unresolved entry that
    # fell back to the kink rule, passing any claim between the coarse slopes).
    r0 = check_grad(_kink_nearby, np.array([0.0]), np.array([C_NEAR]))
    assert r0.passed and r0.numerical[0] == approx(C_NEAR, rel=1e-12) and r0.step[0] < OFF
    r = check_grad(_kink_nearby, np.array([0.0]), np.array([claim]), **kw)
    assert r.passed == passed and r.kinks == []


def test_an_unresolved_entry_passes_the_smooth_verdict_at_its_edge():
    # |analytic − numerical| = atol exactly (a power of 2 added to a number near 1/2): "≤" passes
    n = check_grad(_kink_nearby, np.array([0.0]), np.array([C_NEAR])).numerical[0]
    r = check_grad(_kink_nearby, np.array([0.0]), np.array([n + 2.0**-3]), atol=2.0**-3)
    assert r.passed and r.kinks == []


def test_a_claim_computed_in_float32_but_held_in_float64_is_declared_with_claim_dtype():
    x = np.linspace(-1.5, 1.2, 6)
    g = np.cos(x).astype(np.float32).astype(np.float64)   # float32-accurate values in a float64 array
    f = lambda v: float(np.sum(np.sin(v)))   # noqa: E731
    assert check_grad(f, x, g).verdict == "fail"             # judged at float64's eps: off by ~3e-8
    r = check_grad(f, x, g, claim_dtype=np.float32)
    assert r.verdict == "pass" and "claimed values in float32" in r.tolerance_reason
    wrong = g.copy()
    wrong[3] *= 1 + 1e-4
    assert check_grad(f, x, wrong, claim_dtype="float32").verdict == "fail"
    assert not check_grad(f, x, wrong, claim_dtype=np.float32, directions=4, seed=0).passed


@pytest.mark.parametrize("bad", ["int32", np.int64, "nonsense"])
def test_claim_dtype_must_be_a_float_dtype(bad):
    with pytest.raises(TypeError, match="claim_dtype must be a float dtype"):
        check_grad(lambda v: float(np.sum(v)), np.zeros(2), np.ones(2), claim_dtype=bad)
