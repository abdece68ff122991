"""The gradient checker end to end, on functions written here (no project formulas): it passes
correct gradients, fails planted bugs of every kind, handles kinks, takes the user's tolerance through
every entry point, checks Jacobians, and checks a large x in a few evaluations in directional mode."""

from __future__ import annotations

import numpy as np
import pytest
from checker_internals import Counted, quartic, quartic_grad
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_ref import MLP
from backprop_ref.gradcheck import (
    assert_grad,
    assert_jacobian,
    check_grad,
    check_jacobian,
    numerical_grad,
    numerical_jacobian,
)

METHODS = ["central", "richardson", "complex"]
# the targets: the smallest relative error in one entry each method must catch (full mode)
PLANTED = {"central": 1e-6, "richardson": 1e-8, "complex": 1e-10}


# ---- test functions with their true gradients (all accept complex input) ------------------------

def smooth(v):
    return np.sum(np.sin(v) * np.exp(v / 3) + 0.5 * v**2)


def smooth_grad(v):
    return np.cos(v) * np.exp(v / 3) + np.sin(v) * np.exp(v / 3) / 3 + v


def sigmoid(v):
    """Overflow-free for real and complex v: only exp(−|Re v|·…) is formed."""
    s = np.where(np.real(v) >= 0, 1.0, -1.0)
    e = np.exp(-s * v)
    return np.where(s > 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(v):
    e = np.exp(-np.abs(v))
    return e / (1.0 + e) ** 2


def sig_sum(v):
    return np.sum(sigmoid(v))


def logsumexp(v):
    m = np.max(np.real(v))
    return m + np.log(np.sum(np.exp(v - m)))


def logsumexp_grad(v):
    e = np.exp(v - np.max(v))
    return e / np.sum(e)


def mse(v, t):
    return 0.5 * np.sum((v - t) ** 2) / v.shape[0]


def relu_sum(v):
    return float(np.sum(np.maximum(v, 0.0)))


RNG = np.random.default_rng(20240601)
X5 = RNG.normal(size=5)
X6 = np.linspace(-1.5, 1.2, 6)


# ---- correct gradients pass ---------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_smooth_correct_gradient_passes(method):
    result = check_grad(smooth, X5, smooth_grad(X5), method=method)
    assert result.passed, str(result)
    assert result.n_failed == 0 and result.n_checked == 5
    assert result.max_rel_err < 1e-6


@pytest.mark.parametrize("method", METHODS)
def test_saturated_sigmoid_and_tiny_gradients_pass(method):
    x = np.array([-1e4, -745.0, -40.0, -30.0, -1.0, 0.0, 1.0, 30.0, 40.0, 745.0, 1e4])
    result = check_grad(sig_sum, x, sigmoid_grad(x), method=method)
    assert result.passed, str(result)


@pytest.mark.parametrize("method", METHODS)
def test_naive_sigmoid_derivative_at_saturation_is_not_a_huge_relative_error(method):
    # σ(1 − σ) loses every digit at x = 30 (1 − σ cancels): an absolute error of eps·|f|,
    # which the checker must judge on f's scale, not as a 100% relative error.
    # At 35 the derivative (6e-16) moves f = Σσ ≈ 3 by less than its rounding at every admissible
    # step: the finite differences do not judge it (inconclusive, never a failure). The complex step
    # has no such limit and judges all three.
    x = np.array([25.0, 30.0, 35.0])
    s = 1.0 / (1.0 + np.exp(-x))
    r = check_grad(sig_sum, x, s * (1.0 - s), method=method)
    assert r.n_failed == 0
    if method == "complex":
        assert r.verdict == "pass"
    else:
        # (Richardson's wider stencil leaves 30's derivative, 9e-14, below its rounding as well)
        unjudged = [w.split(":")[0] for w in r.inconclusive]
        assert r.verdict == "inconclusive" and unjudged[-1] == "x[2]" and set(unjudged) <= {"x[1]", "x[2]"}


@pytest.mark.parametrize("method", METHODS)
def test_softmax_logits_spread_1e4_pass(method):
    x = np.array([1e4, 0.0, -1e4, 3.0])
    assert check_grad(logsumexp, x, logsumexp_grad(x), method=method).passed


@pytest.mark.parametrize("method", METHODS)
def test_large_inputs_pass(method):
    x = np.array([1e6, -3e5, 2.5e4])
    f = lambda v: np.sum(v**3) * 1e-12  # noqa: E731
    assert check_grad(f, x, 3e-12 * x**2, method=method).passed


def test_float32_claimed_gradient_is_judged_at_float32_precision():
    g32 = smooth_grad(X5).astype(np.float32)
    result = check_grad(smooth, X5, g32)
    assert result.passed, str(result)
    assert "float32" in result.tolerance_reason
    # the same gradient in float32 but 1e-3 off is still caught
    bad = g32.copy()
    bad[1] *= np.float32(1.001)
    assert not check_grad(smooth, X5, bad).passed


def test_float32_gradient_tolerance_is_wider_than_float64():
    r64 = check_grad(smooth, X5, smooth_grad(X5), method="complex")
    r32 = check_grad(smooth, X5, smooth_grad(X5).astype(np.float32), method="complex")
    assert np.all(r32.tolerance > 1e6 * r64.tolerance)


def test_callable_gradient_is_accepted():
    assert check_grad(smooth, X5, smooth_grad).passed


def test_mlp_loss_correct_gradient_passes_in_every_method():
    X = RNG.normal(size=(4, 3))
    T = RNG.uniform(size=(4, 2))
    W0 = RNG.normal(size=(3, 2))

    def loss(W):
        return mse(np.tanh(X @ W), T)

    def loss_grad(W):
        a = np.tanh(X @ W)
        return X.T @ ((a - T) / X.shape[0] * (1 - a**2))

    for method in METHODS:
        assert_grad(loss, W0, loss_grad(W0), method=method)


@settings(max_examples=60, deadline=None)
@given(x=hnp.arrays(np.float64, st.integers(1, 6),
                    elements=st.floats(-50, 50, allow_nan=False, allow_infinity=False)),
       method=st.sampled_from(METHODS))
def test_no_false_alarm_on_random_smooth_points(x, method):
    assert_grad(smooth, x, smooth_grad(x), method=method)
    assert_grad(logsumexp, x, logsumexp_grad(x), method=method)
    # σ saturates: σ(39) is 1.0 exactly and σ(31) = 1 − 3e-14 moves f by a few of its roundings at any
    # local step, so an entry beyond ≈ 30 may be inconclusive (its effect on f below f's rounding); never
    # failed, and every entry not inconclusive is judged and passes
    r = check_grad(sig_sum, x, sigmoid_grad(x), method=method)
    assert r.verdict in ("pass", "inconclusive"), str(r)
    if r.verdict == "inconclusive":
        assert all("below f's rounding" in why for why in r.inconclusive), str(r)


# ---- planted bugs fail --------------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_one_entry_off_by_the_target_relative_error_fails(method):
    g = smooth_grad(X5)
    g[3] *= 1 + PLANTED[method]
    result = check_grad(smooth, X5, g, method=method)
    assert not result.passed
    assert result.n_failed == 1
    assert result.worst_index == (3,)


@pytest.mark.parametrize("bug", ["dropped factor", "flipped sign", "missing term", "off by 1/N"])
@pytest.mark.parametrize("method", METHODS)
def test_derivation_bugs_fail(method, bug):
    X = RNG.normal(size=(5, 3))
    T = RNG.uniform(size=(5, 2))
    W0 = RNG.normal(size=(3, 2))
    n = X.shape[0]

    def loss(W):
        z = X @ W
        return 0.5 * np.sum((sigmoid(z) - T) ** 2) / n

    a = sigmoid(X @ W0)
    delta = (a - T) / n * a * (1 - a)
    wrong = {
        "dropped factor": X.T @ ((a - T) / n),             # σ′ forgotten
        "flipped sign": -X.T @ delta,
        "missing term": X.T @ ((a - T) / n * a),           # (1 − a) dropped
        "off by 1/N": X.T @ (delta * n),                   # mean taken as sum
    }[bug]
    assert check_grad(loss, W0, X.T @ delta, method=method).passed
    result = check_grad(loss, W0, wrong, method=method)
    assert not result.passed
    assert result.n_failed >= 1


def test_wrong_kink_value_two_at_relu_zero_fails():
    result = check_grad(relu_sum, np.array([0.0]), np.array([2.0]))
    assert not result.passed
    assert len(result.kinks) == 1 and not result.kinks[0].passed


def test_nan_in_f_is_a_failed_result_naming_where():
    def f(v):
        return np.sum(np.log(v))     # log of a negative entry: NaN

    x = np.array([1.0, -2.0, 3.0])
    result = check_grad(f, x, 1.0 / x)
    assert not result.passed
    assert "NOT FINITE" in str(result) and "nan" in str(result)


def test_nan_only_on_the_stencil_names_the_entry():
    def f(v):
        return np.sum(np.sqrt(v))

    x = np.array([4.0, 0.0, 9.0])    # √ at 0: the left step is NaN
    result = check_grad(f, x, np.array([0.25, 0.0, 1 / 6]))
    assert not result.passed
    assert any("entry [1]" in p for p in result.problems), result.problems


def test_inf_in_the_claimed_gradient_fails_with_its_index():
    g = smooth_grad(X5)
    g[2] = np.inf
    result = check_grad(smooth, X5, g)
    assert not result.passed
    assert any("[2]" in p for p in result.problems)
    assert result.worst_index == (2,)


def test_nan_in_f_of_x_itself_fails():
    result = check_grad(lambda v: np.nan * np.sum(v), X5, np.ones(5))
    assert not result.passed
    assert "f(x) = nan" in str(result)


@pytest.mark.parametrize("method", METHODS)
def test_nonfinite_never_passes_even_with_a_huge_user_tolerance(method):
    g = smooth_grad(X5)
    g[0] = np.nan
    assert not check_grad(smooth, X5, g, method=method, atol=1e300).passed


def test_no_runtime_warning_escapes_from_overflowing_f():
    def f(v):
        return np.sum(np.exp(1e3 * v))   # overflows to inf; would warn without the checker's guard

    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("error")
        result = check_grad(f, np.array([1.0]), np.array([1.0]))
    assert not result.passed


# ---- kinks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("claimed, passes",
                         [(1.0, True), (0.5, True), (0.0, True), (2.0, False), (-0.1, False)])
def test_relu_at_zero_passes_any_subgradient_and_reports_the_kink(claimed, passes):
    result = check_grad(relu_sum, np.array([0.0]), np.array([claimed]))
    assert result.passed is passes
    (kink,) = result.kinks
    assert {kink.left, kink.right} == {0.0, 1.0}
    assert "kink" in str(result)


def test_kink_reports_one_sided_derivatives_not_their_mean():
    result = check_grad(relu_sum, np.array([0.0]), np.array([1.0]))
    assert result.numerical[0] == 1.0   # the subgradient nearest the claim, never 0.5
    assert np.isnan(numerical_grad(relu_sum, np.array([0.0]))[0])


@pytest.mark.parametrize("x0", [3e-6, -3e-6, 5e-6, -8e-6, 1.1e-5, 2e-6, -1e-7])
def test_kink_within_one_step_gives_the_right_verdict(x0):
    x = np.array([x0])
    right = np.array([1.0 if x0 > 0 else 0.0])
    assert check_grad(relu_sum, x, right).passed
    assert not check_grad(relu_sum, x, 1.0 - right).passed


def test_kink_on_the_order_of_1e_300_is_a_kink():
    for x0 in (1e-300, -1e-300, -0.0):
        result = check_grad(relu_sum, np.array([x0]), np.array([1.0]))
        assert result.passed and len(result.kinks) == 1


def test_leaky_relu_kink_between_slope_and_one():
    f = lambda v: float(np.sum(np.where(v > 0, v, 0.2 * v)))  # noqa: E731
    x = np.array([0.0, 1.0, -1.0])
    assert check_grad(f, x, np.array([0.6, 1.0, 0.2])).passed
    result = check_grad(f, x, np.array([0.1, 1.0, 0.2]))
    assert not result.passed and result.worst_index == (0,)


def test_abs_kink_in_a_vector_leaves_other_entries_sharp():
    # a kink in one entry must not loosen the tolerance of the others
    f = lambda v: float(np.abs(v[0]) + np.sum(np.sin(v[1:])))  # noqa: E731
    x = np.array([0.0, 0.3, 0.7])
    g = np.array([0.0, np.cos(0.3), np.cos(0.7)])
    assert check_grad(f, x, g).passed
    g[2] *= 1 + 1e-6
    assert not check_grad(f, x, g).passed


def test_smooth_functions_report_no_kinks():
    x = np.array([0.0, 1e-7, -2.0])
    f = lambda v: float(np.sum(v**4 + v**2))  # noqa: E731
    result = check_grad(f, x, 4 * x**3 + 2 * x)
    assert result.passed and result.kinks == []


# ---- the user's tolerance -----------------------------------------------------------------------

def test_user_tolerance_replaces_the_error_model_and_is_named():
    g = smooth_grad(X5)
    g[0] *= 1 + 1e-4
    assert not check_grad(smooth, X5, g).passed
    result = check_grad(smooth, X5, g, rtol=1e-3)
    assert result.passed
    assert "user's tolerance decided" in str(result)
    np.testing.assert_allclose(result.tolerance, 1e-3 * np.abs(result.numerical))
    assert not check_grad(smooth, X5, g, rtol=1e-6, atol=0.0).passed


@pytest.mark.parametrize("check", [check_grad, check_jacobian])
def test_atol_alone_decides_at_its_value(check):
    f = quartic if check is check_grad else (lambda v: v**4 / 4 + v)
    claimed = quartic_grad(X6) if check is check_grad else np.diag(quartic_grad(X6))
    off = claimed + 1e-4 * (np.eye(6) if check is check_jacobian else 1.0)
    assert check(f, X6, off, atol=2e-4).passed
    r = check(f, X6, off, atol=5e-5)
    assert not r.passed and r.user_tolerance
    assert "user" in r.tolerance_reason


def test_rtol_alone_scales_with_the_numerical_value():
    g = quartic_grad(X6)
    assert check_grad(quartic, X6, g * (1 + 1e-5), rtol=2e-5).passed
    assert not check_grad(quartic, X6, g * (1 + 1e-5), rtol=5e-6).passed


# ---- the entry points ---------------------------------------------------------------------------

def test_rtol_and_atol_alone_reach_every_entry_point():
    g = quartic_grad(X6) * (1 + 1e-5)                # far outside the error model's bound
    J = np.diag(quartic_grad(X6)) * (1 + 1e-5)
    fv = lambda v: v**4 / 4 + v  # noqa: E731
    assert not check_grad(quartic, X6, g).passed and not check_jacobian(fv, X6, J).passed
    results = [assert_grad(quartic, X6, g, rtol=1e-4), check_jacobian(fv, X6, J, rtol=1e-4),
               assert_jacobian(fv, X6, J, rtol=1e-4)]
    for r in results:
        assert r.passed and "with atol = 0, rtol = 0.0001 " in r.tolerance_reason
    r = assert_jacobian(fv, X6, J, atol=1e-4)
    assert r.passed and "with atol = 0.0001, rtol = 0 " in r.tolerance_reason


def test_assert_grad_and_assert_jacobian_pass_every_argument_through():
    g = quartic_grad(X6)
    r = assert_grad(quartic, X6, g, method="richardson", directions=2, seed=5)
    assert (r.method, r.mode, r.directions, r.seed) == ("richardson", "directional", 2, 5)
    r = assert_grad(quartic, X6, g + 1e-3, atol=1e-2)
    assert r.user_tolerance and r.passed
    with pytest.raises(AssertionError):
        assert_grad(quartic, X6, g + 1e-3, rtol=1e-9)
    J = np.diag(1 - np.tanh(X6) ** 2)
    r = assert_jacobian(np.tanh, X6, J, method="complex", directions=2, seed=9)
    assert (r.kind, r.method, r.mode, r.directions, r.seed) == ("jacobian", "complex", "directional", 2, 9)
    with pytest.raises(AssertionError):
        assert_jacobian(np.tanh, X6, J + 1e-3, atol=1e-4)


def test_assert_grad_raises_with_the_report_and_returns_the_result_on_success():
    g = smooth_grad(X5)
    assert assert_grad(smooth, X5, g).passed
    g[1] = -g[1]
    with pytest.raises(AssertionError, match=r"1 of 5 entries outside tolerance"):
        assert_grad(smooth, X5, g)


def test_report_names_index_method_counts_and_seed():
    g = smooth_grad(X5)
    g[4] += 1.0
    text = str(check_grad(smooth, X5, g, method="richardson"))
    assert "FAILED" in text and "1 of 5 entries" in text
    assert "richardson" in text and "[4]" in text
    assert "step" in text and "seed" in text
    r = check_grad(smooth, X5, g, directions=3, seed=1234)
    assert "seed 1234" in str(r)


def test_argument_errors():
    with pytest.raises(ValueError, match=r"\(4,\).*\(5,\)"):
        check_grad(smooth, X5, np.ones(4))
    with pytest.raises(ValueError, match="central, richardson, complex"):
        check_grad(smooth, X5, smooth_grad(X5), method="forward")
    with pytest.raises(TypeError):
        check_grad(smooth, "abc", np.ones(3))
    with pytest.raises(TypeError):
        check_grad(smooth, None, np.ones(3))
    with pytest.raises(ValueError, match="scalar"):
        check_grad(lambda v: v, X5, np.ones(5))
    with pytest.raises(ValueError, match="directions"):
        check_grad(smooth, X5, smooth_grad(X5), directions=0)
    with pytest.raises(TypeError, match="complex"):
        check_grad(relu_sum, X5, np.ones(5), method="complex")
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        check_jacobian(softmax, np.zeros(3), np.zeros((2, 2)))


# ---- Jacobians ----------------------------------------------------------------------------------

def softmax(z):
    e = np.exp(z - np.max(np.real(z)))
    return e / np.sum(e)


def softmax_jacobian(z):
    p = softmax(z)
    return np.diag(p) - np.outer(p, p)


@pytest.mark.parametrize("method", METHODS)
def test_softmax_jacobian_passes_and_a_wrong_one_fails(method):
    z = np.array([0.5, -1.0, 2.0, 0.0])
    J = softmax_jacobian(z)
    assert_jacobian(softmax, z, J, method=method)
    wrong = np.diag(softmax(z))   # the outer product forgotten
    with pytest.raises(AssertionError, match="Jacobian check FAILED"):
        assert_jacobian(softmax, z, wrong, method=method)


def test_jacobian_shape_and_numerical_jacobian():
    z = np.array([[0.5, -1.0], [2.0, 0.0]])
    f = lambda v: np.tanh(v)  # noqa: E731
    J = numerical_jacobian(f, z)
    assert J.shape == (2, 2, 2, 2)
    expected = np.zeros((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            expected[i, j, i, j] = 1 - np.tanh(z[i, j]) ** 2
    np.testing.assert_allclose(J, expected, atol=1e-9)
    assert check_jacobian(f, z, expected).passed
    assert check_jacobian(f, z, expected, directions=4, seed=0).passed


def test_elementwise_relu_jacobian_at_kinks():
    x = np.array([0.0, 2.0, -1.0])
    f = lambda v: np.maximum(v, 0.0)  # noqa: E731
    assert check_jacobian(f, x, np.diag([1.0, 1.0, 0.0])).passed
    result = check_jacobian(f, x, np.diag([2.0, 1.0, 0.0]))
    assert not result.passed and result.worst_index == (0, 0)


def test_numerical_grad_matches_the_truth():
    for method, tol in (("central", 1e-8), ("richardson", 1e-10), ("complex", 1e-14)):
        np.testing.assert_allclose(numerical_grad(smooth, X5, method=method), smooth_grad(X5), rtol=tol)


# ---- directional mode ---------------------------------------------------------------------------

def quadratic_sin(v):
    return np.sum(np.sin(v) + 0.5 * v**2)


def test_directional_passes_correct_and_uses_evaluations_independent_of_size():
    evals = []
    for n in (10, 1000, 20000):
        x = RNG.normal(size=n)
        result = check_grad(quadratic_sin, x, np.cos(x) + x, directions=8, seed=7)
        assert result.passed, str(result)
        evals.append(result.n_evals)
    assert len(set(evals)) == 1 and evals[0] <= 2 * 9 + 1


def test_directional_rejects_a_scale_error_of_1e_5():
    x = RNG.normal(size=3000)
    g = np.cos(x) + x
    assert not check_grad(quadratic_sin, x, g * (1 + 1e-5), directions=8, seed=3).passed


def test_directional_bisection_finds_one_wrong_entry_in_10000_with_few_evaluations():
    n = 10_000
    x = RNG.normal(size=n)
    g = np.cos(x) + x
    g[6543] += 1.0
    f = Counted(quadratic_sin)
    result = check_grad(f, x, g, directions=8, seed=11)
    assert not result.passed
    assert result.localised == [(6543,)]
    assert f.calls == result.n_evals
    assert f.calls < 300             # a full check costs 4·10⁴ evaluations
    assert "6543" in str(result)


def test_directional_is_deterministic_for_a_seed_and_records_a_drawn_seed():
    x = RNG.normal(size=50)
    g = np.cos(x) + x
    a = check_grad(quadratic_sin, x, g, directions=5, seed=99)
    b = check_grad(quadratic_sin, x, g, directions=5, seed=99)
    assert np.array_equal(a.analytic, b.analytic) and np.array_equal(a.numerical, b.numerical)
    c = check_grad(quadratic_sin, x, g, directions=5)
    assert isinstance(c.seed, int)
    d = check_grad(quadratic_sin, x, g, directions=5, seed=c.seed)
    assert np.array_equal(c.numerical, d.numerical)


def test_directional_states_its_miss_probability():
    x = RNG.normal(size=100)
    result = check_grad(quadratic_sin, x, np.cos(x) + x, directions=8, seed=0)
    assert result.miss_probability == 2.0**-8
    assert result.detectable_error > 0
    assert "miss probability" in str(result)


@pytest.mark.parametrize("method", ["richardson", "complex"])
def test_directional_other_methods(method):
    x = RNG.normal(size=200)
    g = np.cos(x) + x
    assert check_grad(quadratic_sin, x, g, directions=4, seed=1, method=method).passed
    g[17] += 1e-3
    assert not check_grad(quadratic_sin, x, g, directions=4, seed=1, method=method).passed


def test_directional_relu_network_with_kinks_does_not_false_alarm():
    X = RNG.normal(size=(8, 4))

    def loss(w):
        return float(np.sum(np.maximum(X @ w, 0.0)))

    w = np.array([0.0, 0.0, 0.0, 0.0])   # every pre-activation on its kink
    g = X.T @ (X @ w >= 0).astype(float)
    assert check_grad(loss, w, g, directions=8, seed=2).passed


def _near_kink_mlp():
    """Found by hypothesis: two ReLU pre-activations 1.5e-8 from 0, inside the directional step."""
    shapes = [(1, 2), (2,), (2, 1), (1,)]
    X, Y = np.array([[0.25]]), np.array([[0.0]])

    def unflatten(theta):
        parts = np.split(theta, np.cumsum([int(np.prod(s)) for s in shapes])[:-1])
        W1, b1, W2, b2 = (p.reshape(s) for p, s in zip(parts, shapes))
        return [(W1, b1), (W2, b2)]

    def loss(theta):
        return MLP(unflatten(theta), ["relu", "sigmoid"], "mse").loss_and_grads(X, Y)[0]

    theta = np.array([5.96046448e-08, 5.96046448e-08, 0.0, 0.0, -1.0, 1.0, 0.0])
    _, grads = MLP(unflatten(theta), ["relu", "sigmoid"], "mse").loss_and_grads(X, Y)
    return loss, theta, np.concatenate([p.ravel() for pair in grads for p in pair])


@pytest.mark.parametrize("seed", range(4))
def test_directional_refines_a_kink_inside_the_stencil(seed):
    loss, theta, g = _near_kink_mlp()
    result = check_grad(loss, theta, g, directions=8, seed=seed)
    assert result.passed, str(result)
    assert result.n_evals > 2 * 9 + 1          # it did re-probe at a finer step
    wrong = g.copy()
    wrong[0] *= 1.01                           # the refined steps still see a 1% error in one entry
    assert not check_grad(loss, theta, wrong, directions=8, seed=seed).passed
