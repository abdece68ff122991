"""The Taylor-remainder test, and the second opinion it gives a marginal verdict.

Pins what `taylor_test` computes (its direction, its steps, which remainders it keeps, the observed
order and the verdict at 1.5, its argument errors and its report line), and when a check asks it for
a second opinion and along which direction. Expected values are built from the documented formulas or
the results' own fields, never pasted from a run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from checker_internals import Counted, Judged, Verdict, quartic, quartic_grad, rademacher, second_opinion

from backprop_ref.gradcheck import ERROR_MODEL, check_grad, check_jacobian, taylor_test

C_F = ERROR_MODEL["f_rounding"][0]
MARGINAL = ERROR_MODEL["marginal"][0]
EPS = float(np.finfo(np.float64).eps)
X6 = np.linspace(-1.5, 1.2, 6)


# ---- taylor_test: its direction, steps, kept remainders and order -------------------------------

def test_taylor_tests_default_direction_is_a_unit_rademacher_vector():
    # f = ½‖v‖² at x = 0 with g = 0: r(h) = ½h²‖d‖², which is ½h² only for a unit d
    n = 16
    t = taylor_test(lambda v: 0.5 * (v @ v), np.zeros(n), np.zeros(n), seed=7)
    np.testing.assert_allclose(t.remainders, 0.5 * t.steps**2, rtol=1e-14)
    # every entry ±1/√n: the largest entry moves by 0.1·max(1, rms x) at the first step
    assert t.steps[0] == pytest.approx(0.1 * math.sqrt(n), rel=1e-15, abs=0)


@pytest.mark.parametrize("x, direction, seed", [
    (X6, None, 3),                       # rms x < 1; a Rademacher direction, max|d| = 1/√6
    (3 * X6, 3.0 * np.eye(6)[2], None),  # rms x > 2; a given direction, normalised to e_2
])
def test_taylor_steps_halve_from_a_first_step_moving_no_entry_more_than_a_tenth_of_x(x, direction, seed):
    r = taylor_test(quartic, x, quartic_grad(x), direction=direction, seed=seed)
    d = rademacher(seed, 0, 6) if direction is None else np.eye(6)[2]
    first = 0.1 * max(1.0, float(np.sqrt(np.mean(x * x))))   # 0.1·max(1, rms x), per entry
    np.testing.assert_allclose(r.steps, first / np.abs(d).max() * 0.5 ** np.arange(20), rtol=1e-14)
    assert r.conclusive and r.passed


def _kept_orders(f, x, g, d, r):
    """The documented rule from the result's own steps: a remainder counts when it exceeds 16× the
    rounding of its three terms, C_F·eps·(|f(x)| + |f(x + hd)| + |h⟨g, d⟩|); the order is log2 of
    the ratio of each pair of consecutive counted remainders."""
    slope = float(g @ d)
    f0 = f(x)
    fh = np.array([f(x + h * d) for h in r.steps])
    np.testing.assert_array_equal(r.remainders, np.abs(fh - f0 - r.steps * slope))
    kept = r.remainders > 16.0 * C_F * EPS * (abs(f0) + np.abs(fh) + np.abs(r.steps * slope))
    orders = [math.log2(r.remainders[i] / r.remainders[i + 1]) for i in range(len(kept) - 1)
              if kept[i] and kept[i + 1]]
    return kept, np.array(orders)


S22 = 2.0**22


@pytest.mark.parametrize("case", ["every remainder counts", "the finest drown in s·h's rounding"])
def test_taylor_order_is_the_median_of_the_finest_three_kept_pairs(case):
    # x = 0, d = e_0, first step 0.1: f = s·v + v² + v³ has the correct gradient s, remainder h² + h³
    s = 0.0 if case == "every remainder counts" else S22
    f = lambda v: float(s * v[0] + v[0] ** 2 + v[0] ** 3)  # noqa: E731
    x, d, g = np.zeros(1), np.ones(1), np.array([s])
    r = taylor_test(f, x, g, direction=d)
    kept, orders = _kept_orders(f, x, g, d, r)
    # s = 0: h² + h³ is far above 16·C_F·eps·(h² + h³). s = 2²²: the rounding is 16·C_F·eps·2sh, so
    # h² counts while h > 2⁹·eps·s = 2⁻²¹: h = 0.1·2⁻¹⁷ (7.6e-7) does, 0.1·2⁻¹⁸ (3.8e-7) does not.
    assert kept.tolist() == ([True] * 20 if s == 0 else [True] * 18 + [False] * 2)
    np.testing.assert_array_equal(r.orders, orders)
    assert r.order == float(np.median(orders[-3:]))
    assert r.conclusive and r.passed and abs(r.order - 2) < 0.05


@pytest.mark.parametrize("times, conclusive", [(16.0, False), (16.5, True)])
def test_a_remainder_counts_only_above_sixteen_times_fs_rounding(times, conclusive):
    # f jumps from 1 − c at x to 1 + c everywhere else, g = 0: every remainder is 2c, f's rounding
    # is R = C_F·eps·(|1 − c| + |1 + c|) = 32·eps (all exact in binary), so 2c = times·R.
    c = times * 16 * EPS
    x = np.zeros(1)
    r = taylor_test(lambda v: 1.0 - c if v[0] == 0.0 else 1.0 + c, x, np.zeros(1), direction=[1.0])
    np.testing.assert_array_equal(r.remainders, np.full(20, 2 * c))
    assert r.conclusive is conclusive
    if conclusive:   # a remainder that does not shrink: order 0, the gradient is wrong
        np.testing.assert_array_equal(r.orders, np.zeros(19))
        assert r.order == 0.0 and not r.passed
    else:
        assert math.isnan(r.order) and r.passed and r.orders.size == 0


def _pw(v):
    # along e_0 from x = 10 with steps t = 1, 1/2, 1/4, …: remainder t (order 1), 2t² (order 2), then 0
    t = v[0] - 10.0
    return float(t if t >= 0.5 else 2 * t * t if t >= 0.25 else 0.0)


def test_an_order_of_exactly_one_and_a_half_passes():
    # x = 10 makes the first step 0.1·10 = 1; orders [1, 2] have median 1.5: documented "order ≥ 1.5"
    r = taylor_test(_pw, np.array([10.0]), np.zeros(1), direction=[1.0])
    np.testing.assert_array_equal(r.steps[:3], [1.0, 0.5, 0.25])
    np.testing.assert_array_equal(r.orders, [1.0, 2.0])
    assert r.order == 1.5 and r.conclusive and r.passed


def test_taylor_orders_two_for_a_correct_gradient_and_one_for_a_wrong_one():
    good = taylor_test(quartic, X6, quartic_grad(X6), seed=4)
    bad = taylor_test(quartic, X6, quartic_grad(X6) * 1.01, seed=4)
    assert good.conclusive and good.passed and abs(good.order - 2) < 0.2 and good.seed == 4
    assert bad.conclusive and not bad.passed and abs(bad.order - 1) < 0.2
    assert np.all(np.diff(good.steps) < 0) and len(good.steps) == len(good.remainders)
    assert "consistent with a correct gradient" in str(good) and "the gradient is WRONG" in str(bad)
    assert f"observed order {bad.order:.2f}" in str(bad)


def test_taylor_along_a_given_direction_and_on_a_linear_function():
    d = np.zeros(6)
    d[2] = 3.0                                   # normalised to e_2
    r = taylor_test(quartic, X6, quartic_grad(X6), direction=d)
    assert r.passed and r.seed is None
    lin = taylor_test(lambda v: float(np.sum(2 * v)), X6, np.full(6, 2.0), seed=0)
    assert not lin.conclusive and lin.passed and "inconclusive" in str(lin)
    with pytest.raises(ValueError, match="direction has 5 entries but x has 6"):
        taylor_test(quartic, X6, quartic_grad(X6), direction=np.ones(5))


def test_taylor_with_a_seed_is_replayable_and_records_the_seed():
    x = np.linspace(-1, 1, 40)
    a = taylor_test(quartic, x, quartic_grad(x), seed=8)
    b = taylor_test(quartic, x, quartic_grad(x), seed=8)
    np.testing.assert_array_equal(a.remainders, b.remainders)
    d = rademacher(8, 0, 40)
    replay = taylor_test(quartic, x, quartic_grad(x), direction=d)
    np.testing.assert_allclose(a.remainders, replay.remainders, rtol=1e-9)
    assert a.seed == 8 and replay.seed is None


def test_taylor_passes_fs_shape_and_takes_a_callable_gradient():
    a = np.array([1.0, -2.0, 0.5])
    f = lambda W: 0.5 * float(np.sum((W @ a) ** 2))  # noqa: E731   (needs W as a matrix)
    W = np.arange(6.0).reshape(2, 3) / 5
    r = taylor_test(f, W, lambda W: np.outer(W @ a, a), seed=0)
    assert r.conclusive and r.passed and abs(r.order - 2) < 0.2


def test_taylor_steps_past_an_overflow_whatever_np_seterr_says():
    # x = 700, d = 1: the first steps (70, 35, 17.5) reach past exp's overflow at 709.78
    x = np.array([700.0])
    with np.errstate(all="raise"):
        r = taylor_test(lambda v: float(np.sum(np.exp(v))), x, np.exp(x), direction=[1.0])
    assert not np.isfinite(r.remainders[:3]).any() and np.isfinite(r.remainders[3:]).all()
    assert r.conclusive and r.passed


# ---- its report and its argument errors ---------------------------------------------------------

def test_taylor_inconclusive_result_keeps_its_figures():
    r = taylor_test(lambda v: float(np.sum(2 * v)), X6, np.full(6, 2.0), seed=5)
    assert r.conclusive is False and r.passed is True and math.isnan(r.order)
    assert r.seed == 5 and r.remainders.shape == (20,) and r.orders.shape == (0,)
    assert str(r) == ("Taylor test inconclusive: the remainder stays at f's rounding level at every step "
                      "(f is locally linear or the gradient is tiny)")


def test_taylor_report_of_a_wrong_gradient():
    r = taylor_test(quartic, X6, quartic_grad(X6) * 1.01, seed=4)
    assert r.conclusive and not r.passed and r.orders.size == 19
    assert str(r) == (f"Taylor test: remainder shrinks with observed order {r.order:.2f} over steps "
                      f"{r.steps[0]:.1e}…{r.steps[-1]:.1e} (2 for a correct gradient, 1 for a wrong one): "
                      "the gradient is WRONG")


@pytest.mark.parametrize("kw, exc, message", [
    ({"x": "abc"}, TypeError, "x must be numeric (bool, int, float); got str with dtype <U3"),
    ({"x": X6 + 0j}, TypeError, "x must be real, got dtype complex128"),
    ({"direction": ["a"] * 6}, TypeError,
     "direction must be numeric (bool, int, float); got list with dtype <U1"),
    ({"direction": np.ones(6) + 1j}, TypeError, "direction must be real, got dtype complex128"),
    ({"grad": np.ones(5)}, ValueError,
     "grad has shape (5,) but must have shape (6,) (x has shape (6,)); they must match"),
])
def test_taylor_argument_errors_name_the_argument(kw, exc, message):
    args = {"x": X6, "grad": quartic_grad(X6), "direction": None, **kw}
    with pytest.raises(exc) as info:
        taylor_test(quartic, args["x"], args["grad"], direction=args["direction"], seed=0)
    assert str(info.value) == message


def test_taylor_needs_a_scalar_f():
    with pytest.raises(ValueError, match="f must return a scalar"):
        taylor_test(lambda v: v, X6, X6, seed=0)


# ---- when a check asks for the second opinion, and along which direction ------------------------

@pytest.mark.parametrize("x, planted", [
    (X6, 1.5),            # fails by 1.5× its bound
    (X6, 0.5),            # passes at half its bound: still within 3× of it
    (np.array([0.7]), 1.5),   # a single entry
])
def test_a_marginal_full_check_asks_taylor_along_the_worst_entry(x, planted):
    g = quartic_grad(x)
    i = x.size // 2
    bad = g.copy()
    bad[i] += planted * check_grad(quartic, x, g).tolerance[i]
    r = check_grad(quartic, x, bad)
    assert r.worst_index == (i,) and 1 / MARGINAL < r.ratio[i] <= MARGINAL
    assert r.taylor is not None
    replay = taylor_test(quartic, x, bad, direction=np.eye(x.size)[i])
    np.testing.assert_array_equal(r.taylor.remainders, replay.remainders)


def test_a_marginal_verdict_asks_the_taylor_test():
    # An error planted at the size of its own bound: the verdict is marginal either way.
    g = quartic_grad(X6)
    tol = check_grad(quartic, X6, g).tolerance
    marginal = g.copy()
    marginal[3] += 1.5 * tol[3]
    r = check_grad(quartic, X6, marginal)
    assert r.taylor is not None and r.taylor.conclusive
    # a failed verdict stands: the report says the Taylor test cannot see so small an error
    assert r.verdict == "fail" and r.taylor.passed
    assert "second opinion (verdict marginal): the Taylor test observes order" in str(r)
    assert "consistent with a correct gradient" not in str(r)
    assert check_grad(quartic, X6, g + 1.0).taylor is None        # clear failures need no opinion
    assert check_grad(quartic, X6, marginal, atol=1.0).taylor is None   # nor the user's tolerance


def test_a_marginal_verdict_under_the_users_tolerance_asks_no_taylor_test():
    g = quartic_grad(X6)
    bad = g.copy()
    bad[2] += 1e-4
    err = check_grad(quartic, X6, bad).max_abs_err
    r = check_grad(quartic, X6, bad, atol=err / 1.5)   # err/tol = 1.5: marginal, but the user decided
    assert not r.passed and 1 < r.ratio.max() <= MARGINAL
    assert r.taylor is None and "second opinion" not in str(r)


def test_a_marginal_jacobian_asks_no_taylor_test():
    # the Taylor test needs a scalar f: a Jacobian's marginal verdict is reported without it
    J = np.diag(1 - np.tanh(X6) ** 2)
    J[3, 3] += 1.5 * check_jacobian(np.tanh, X6, J).tolerance[3, 3]
    r = check_jacobian(np.tanh, X6, J)
    assert 1 / 3 < r.ratio[r.worst_index] <= 3
    assert r.taylor is None and "second opinion" not in str(r)


def test_a_marginal_own_direction_asks_taylor_along_the_claimed_gradient():
    x = np.linspace(-1, 1, 16)
    g = quartic_grad(x)
    k = 4
    own_tol = check_grad(quartic, x, g, directions=k, seed=6).tolerance[k]
    bad = g * (1 + 1.5 * own_tol / np.linalg.norm(g))   # a scale error: 1.5 bounds along d = g/‖g‖
    r = check_grad(quartic, x, bad, directions=k, seed=6)
    assert r.worst_index == (k,) and r.taylor is not None
    replay = taylor_test(quartic, x, bad, direction=bad / np.linalg.norm(bad))
    np.testing.assert_array_equal(r.taylor.remainders, replay.remainders)


def test_a_marginal_directional_verdict_asks_taylor_along_that_direction_and_counts_it():
    g = quartic_grad(X6)
    base = check_grad(quartic, X6, g, directions=4, seed=3)
    j = int(np.argmax(base.tolerance[:4]))
    # an error along the j-th direction (replayed from the seed as the checker draws it) that moves
    # its directional derivative by 1.5 of its bound: the verdict is marginal there
    d = rademacher(3, j, X6.size)
    marginal = g + 1.5 * base.tolerance[j] * d
    f = Counted(quartic)
    r = check_grad(f, X6, marginal, directions=4, seed=3)
    assert r.worst_index == (j,)
    assert r.taylor is not None and r.n_evals == f.calls
    replay = taylor_test(quartic, X6, marginal, direction=d)
    np.testing.assert_array_equal(r.taylor.remainders, replay.remainders)


@pytest.mark.parametrize("worst, asked", [
    (MARGINAL, True),                                   # within 3× of the bound includes 3×
    (np.nextafter(MARGINAL, np.inf), False),
    (np.nextafter(1 / MARGINAL, np.inf), True),
    (1 / MARGINAL, True),                               # either side: a third of the bound too
    (np.nextafter(1 / MARGINAL, 0.0), False),
    (0.5, True),
])
def test_marginal_means_a_worst_ratio_within_three_times_the_bound(worst, asked):
    # err/tol exactly 3 cannot be planted through f (tol is no round number): the helper is fed one
    g = quartic_grad(X6)
    none = np.zeros(6, bool)
    v = Verdict(ok=~none, tolerance=np.ones(6), numerical=g, ratio=np.where(np.arange(6) == 4, worst, 0.0),
                kink=none, kink_ok=none, undecided=none)
    judged = Judged("full", g, v, (6,), [], [], "", None, None)
    assert (second_opinion(judged, quartic, X6, g, None) is not None) is asked


def test_taylor_test_of_an_empty_x_says_there_is_no_direction():
    with pytest.raises(ValueError) as info:
        taylor_test(lambda v: 0.0, np.zeros(0), np.zeros(0))
    assert str(info.value) == "x has no entries: the Taylor test has no direction to step along"


@pytest.mark.parametrize("steps, error, message", [
    (0, ValueError, "steps must be an integer ≥ 1, got 0"),
    (1.5, TypeError, "steps must be an integer, got float 1.5"),
])
def test_taylor_steps_must_be_a_positive_integer(steps, error, message):
    with pytest.raises(error) as info:
        taylor_test(quartic, X6, quartic_grad(X6), steps=steps)
    assert str(info.value) == message


def test_one_taylor_step_is_allowed_and_has_no_pair_to_judge():
    r = taylor_test(quartic, X6, quartic_grad(X6), steps=1, seed=0)
    assert r.steps.size == 1 and not r.conclusive and r.passed
