"""The directional mode's probes and its per-direction error model, recomputed from first principles.

Pins, for ``directions=k`` with each method: the step along each direction (its largest per-entry
perturbation is the method's step times max(1, rms x)); the three terms of the bound per direction
(the claimed ⟨g, d⟩'s rounding, f's rounding through the step, the truncation: the curvature bound
t·|φ″|/6 for central, the extrapolation difference for Richardson); the claimed gradient's own
direction for claims whose ‖g‖ over- or underflows a plain Σg²; the random directions themselves
(one bit of the seeded generator per entry, so the seed replays them); and the non-finite reports.
Every f here is linear, quadratic or a monomial at points and steps where its stencil values are
known in closed form, so each expected number is the documented formula evaluated in the test.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from backprop_ref.gradcheck import ERROR_MODEL, check_grad, check_jacobian, taylor_test

EPS = float(np.finfo(np.float64).eps)
SAFETY = ERROR_MODEL["safety"][0]
C_A = ERROR_MODEL["analytic_rounding"][0]
C_F = ERROR_MODEL["f_rounding"][0]
C_X = ERROR_MODEL["complex_rounding"][0]
F_FLOOR = ERROR_MODEL["f_scale_floor"][0]
STEP = {"central": ERROR_MODEL["directional_step"][0], "richardson": ERROR_MODEL["richardson_step"][0],
        "complex": ERROR_MODEL["complex_step"][0]}
METHODS = ("central", "richardson", "complex")
RTOL = 1e-12   # the same formula evaluated in another order of operations: a few ulps apart


def linear(w, b=0.0):
    return lambda v: v @ w + b      # carries complex input through


# ---- the step along each direction --------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_step_times_the_directions_largest_entry_is_the_methods_step_times_the_scale(method):
    x = np.array([2.0, -2.0, 2.0, -2.0])          # rms 2: the scale is max(1, rms x) = 2
    w = np.array([1.0, -2.0, 3.0, 0.5])
    k = 3
    r = check_grad(linear(w), x, w, method=method, directions=k, seed=5)
    assert r.passed and r.n_checked == k + 1
    # a random unit direction has every entry ±1/√n; the own one g/‖g‖ has max|g|/‖g‖
    np.testing.assert_allclose(r.step[:k], STEP[method] * 2.0 * math.sqrt(4), rtol=1e-15)
    np.testing.assert_allclose(r.step[k], STEP[method] * 2.0 * np.linalg.norm(w) / 3.0, rtol=1e-15)


# ---- the claimed values' own rounding ---------------------------------------------------------

def claimed_rounding(g, f0, eps_g):
    # C_A·eps_g·(Σ|g_i d_i| + (max|g| + max(|f|, 1))·Σ|d_i|), with Σ|g_i d_i| ≤ ‖g‖ and Σ|d_i| = √n
    # for every unit direction used: ±1/√n entries, or d = g/‖g‖
    n = g.size
    return C_A * eps_g * (np.linalg.norm(g) + (np.abs(g).max() + max(abs(f0), F_FLOOR)) * math.sqrt(n))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_directional_claimed_rounding_is_ca_eps_g_times_norm_plus_floor_times_root_n(method, dtype):
    x = np.array([0.5, -0.25, 1.0, 0.75])
    w = np.array([3.0, -4.0, 1.5, 2.0])            # ‖w‖ ≠ 1 and max|w| ≠ ‖w‖
    b = 5.0                                        # |f(x)| > 1: the floor max(|f|, 1) is |f|
    g = w.astype(dtype)
    r = check_grad(linear(w, b), x, g, method=method, directions=3, seed=2)
    assert r.passed and r.n_checked == 4
    expect = claimed_rounding(w, x @ w + b, float(np.finfo(dtype).eps))
    np.testing.assert_allclose(r.terms[2], expect, rtol=RTOL)


@pytest.mark.parametrize("method", METHODS)
def test_each_jacobian_output_has_its_own_claimed_rounding_floor(method):
    # max|g| and max(|f|, 1) are those of the output's own row: a row of small entries next to one
    # of large positive and negative entries keeps its small floor
    J = np.array([[1.0, 2.0, -1.0, 0.5], [100.0, -300.0, 7.0, 1.0]])
    off = np.array([5.0, -0.5])
    x = np.array([0.5, -0.25, 1.0, 0.75])
    r = check_jacobian(lambda v: J @ v + off, x, J, method=method, directions=3, seed=4)
    assert r.passed and r.terms[2].shape == (3, 2)
    f0 = J @ x + off
    for out in range(2):
        np.testing.assert_allclose(r.terms[2][:, out], claimed_rounding(J[out], f0[out], EPS), rtol=RTOL)


# ---- f's rounding through the step --------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("b", [0.0, 3.0])
def test_directional_rounding_term_is_fs_rounding_plus_the_representation_error_over_the_step(method, b):
    # f = w·v + b at x ⟂ w: along a unit d, f(x + s·d) = b + s⟨w, d⟩ exactly in closed form, so the
    # largest |f| on the stencil is |b| + (widest multiple)·t·|⟨g, d⟩| (the analytic row holds ⟨g, d⟩)
    x = np.array([0.5, -0.5, 0.5, -0.5])           # ‖x‖ = 1, rms ≤ 1: scale 1
    w = np.full(4, 5.0)                            # ‖g‖ = 10: the representation error ≈ C_F·eps
    r = check_grad(linear(w, b), x, w, method=method, directions=3, seed=8)
    assert r.passed
    t, ana = np.asarray(r.step), r.analytic
    # rounding of x ± t·d seen through f: eps·‖g‖·(‖x‖ + 1)
    rep = EPS * np.linalg.norm(w) * (np.linalg.norm(x) + 1.0)
    if method == "complex":
        # an analytic derivative's rounding: C_X·eps·(|n| + |a| + max(|f|, 1)), plus the underflow floor
        expect = C_X * EPS * (np.abs(r.numerical) + np.abs(ana) + max(abs(b), F_FLOOR))
    else:
        widest, coef = (1.0, 1.0) if method == "central" else (4.0, 1.5)   # D(t) or (4D(t) − D(2t))/3
        fmax = np.maximum(abs(b) + widest * t * np.abs(ana), F_FLOOR)
        expect = (C_F * EPS * fmax + rep) * coef / t
    np.testing.assert_allclose(r.terms[1], SAFETY * expect, rtol=RTOL)


# ---- the truncation term ------------------------------------------------------------------------

def test_central_truncation_is_the_curvature_bound_per_output_and_zero_for_a_linear_output():
    # Output 0 is linear, output 1 = ½Σa_i v_i², probed at x = 0 where every stencil value is exact
    # (t = 2^-25, per-entry steps 2^-26): along any unit Rademacher d, φ″ = Σa_i d_i² = Σa_i/n. The
    # median borrowed by an inflection point is that of the output's own column.
    a = np.array([1.0, 2.0, 3.0, 4.0])
    w = np.array([1.0, -1.0, 2.0, 0.5])
    x = np.zeros(4)
    J = np.vstack([w, a * x])
    r = check_jacobian(lambda v: np.array([v @ w, 0.5 * np.sum(a * v * v)]), x, J,
                       directions=4, seed=3)
    assert r.passed
    t = np.asarray(r.step)
    np.testing.assert_array_equal(t, STEP["central"] * math.sqrt(4))
    np.testing.assert_array_equal(r.terms[0][:, 0], 0.0)
    np.testing.assert_allclose(r.terms[0][:, 1], SAFETY * t * (a.sum() / 4) / 6.0, rtol=1e-15)


def test_a_direction_where_f_is_not_finite_lends_no_curvature_to_the_others():
    # f is linear on the hyperplane v_3 = x_3 and NaN off it: every random direction moves v_3 and
    # fails, the claimed gradient's own direction (g_3 = 0) stays on it with exact stencil values.
    # Its truncation must be that of a linear f, 0, not one made up for the failed directions.
    x = np.array([0.5, 0.25, -0.5, 1.0])
    g = np.array([2.0, -1.0, 2.0, 0.0])            # ‖g‖ = 3: the own step t/‖g‖ = 2^-27 exactly
    f = lambda v: v @ g + (0.0 if v[3] == 1.0 else np.nan)  # noqa: E731
    r = check_grad(f, x, g, directions=2, seed=1)
    assert not r.passed
    assert [p.split(":")[0] for p in r.problems] == ["direction 0", "direction 1"]
    assert r.terms[0][2] == 0.0
    assert r.numerical[2] == r.analytic[2] == 3.0


def test_richardson_truncation_is_its_own_extrapolation_difference():
    # φ(s) = f(x + s·d) = (s·d_0)^5 at x = 0: D(h) = h⁴d_0⁵ exactly, r1 = (4D(t) − D(2t))/3 = −4t⁴d_0⁵,
    # r2 = (4D(2t) − D(4t))/3 = −64t⁴d_0⁵, and |r1 − r2|/15 = 4t⁴|d_0|⁵ = t⁴/8 for d_0 = ±1/2
    x = np.zeros(4)
    r = check_grad(lambda v: v[0] ** 5, x, np.zeros(4), method="richardson", directions=3, seed=0)
    assert r.passed and r.n_checked == 3           # g = 0 has no own direction
    t = np.asarray(r.step)
    np.testing.assert_allclose(r.terms[0], SAFETY * t**4 / 8.0, rtol=1e-12)


# ---- the claimed gradient's own direction at the float64 limits -------------------------------

@pytest.mark.parametrize("s", [1e-200, 1e200])
def test_the_own_direction_of_a_claim_whose_squares_under_or_overflow(s):
    # Σg² underflows to 0 (1e-400) or overflows to inf (1e400), ‖g‖ = 2s is a normal float: the own
    # direction is probed, and its ⟨g, g/‖g‖⟩ = ‖g‖ (mixed signs: Σ(g/max|g|)² = 4, not Σ of cubes)
    w = np.array([1.0, -1.0, 1.0, 1.0])
    x = np.array([0.5, 0.25, -0.5, 1.0])
    r = check_grad(lambda v: s * (v @ w), x, s * w, directions=2, seed=0)
    assert r.passed and r.n_checked == 3
    assert r.analytic[-1] == pytest.approx(2.0 * s, rel=1e-15, abs=0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_a_non_finite_claim_in_directional_mode_fails_with_a_problem_not_an_exception(method, bad):
    x = np.array([0.5, 0.25, -0.5, 1.0])
    w = np.array([1.0, 2.0, -1.0, 0.5])
    g = w.copy()
    g[1] = bad
    r = check_grad(linear(w), x, g, method=method, directions=2, seed=0)
    assert not r.passed and r.n_checked == 2       # no own direction for a non-finite claim
    assert any(p.startswith("the claimed grad is") for p in r.problems), r.problems
    if bad == np.inf:
        # C_A·eps·(Σ|g_i d_i| + …) of an infinite claim is infinite, not NaN
        np.testing.assert_array_equal(r.terms[2], np.inf)


# ---- the complex step's non-finite report -------------------------------------------------------

def test_complex_directional_names_the_non_finite_value_at_the_complex_step():
    # f is finite on the reals and infinite once the input carries an imaginary part
    x = np.array([0.5, 0.25, -0.5, 1.0])
    w = np.array([1.0, 2.0, -1.0, 0.5])
    f = lambda v: v @ w + (np.inf if np.any(np.imag(v)) else 0.0)  # noqa: E731
    r = check_grad(f, x, w, method="complex", directions=2, seed=0)
    assert not r.passed
    assert len(r.problems) == 3
    for j, p in enumerate(r.problems):
        m = re.fullmatch(rf"direction {j}: f\(x \+ {re.escape(f'{r.step[j]:.3g}')}i·d_{j}\) = (\S+)", p)
        assert m, p
        assert math.isinf(complex(m.group(1)).real)


# ---- the random directions themselves ---------------------------------------------------------

@pytest.mark.parametrize("n", [9, 32])   # 9: a partial last byte; 32: four whole bytes, one word
def test_random_directions_are_one_seeded_bit_per_entry_so_the_seed_replays_them(n):
    # g_i = 2^i: ⟨g, d⟩·√n = Σ s_i 2^i, an odd integer that names every sign s_i of d
    k, seed = 4, 12
    g = 2.0 ** np.arange(n)
    r = check_grad(lambda v: v @ g, np.zeros(n), g, directions=k, seed=seed)
    assert r.passed
    m = np.rint(r.analytic[:k] * math.sqrt(n)).astype(np.int64)
    signs = ((m[:, None] + (2**n - 1)) // 2 >> np.arange(n)) & 1   # (m + Σ2^i)/2 = Σb_i 2^i, b = (s + 1)/2
    rng = np.random.default_rng(seed)
    drawn = [np.unpackbits(np.frombuffer(rng.bytes((n + 7) // 8), np.uint8), count=n) for _ in range(k)]
    np.testing.assert_array_equal(signs, np.array(drawn))


def test_taylor_tests_default_direction_is_a_unit_rademacher_vector():
    # f = ½‖v‖² at x = 0 with g = 0: r(h) = ½h²‖d‖², which is ½h² only for a unit d
    n = 16
    t = taylor_test(lambda v: 0.5 * (v @ v), np.zeros(n), np.zeros(n), seed=7)
    np.testing.assert_allclose(t.remainders, 0.5 * t.steps**2, rtol=1e-14)
    # every entry ±1/√n: the largest entry moves by 0.1·max(1, rms x) at the first step
    assert t.steps[0] == pytest.approx(0.1 * math.sqrt(n), rel=1e-15, abs=0)
