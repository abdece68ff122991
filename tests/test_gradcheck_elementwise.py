"""check_elementwise: every entry moved at once, judged by full mode's rules entry by entry."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_ref.gradcheck import ERROR_MODEL
from backprop_ref.gradcheck.elementwise import assert_elementwise, check_elementwise


def tanh_grad(v):
    return 1 - np.tanh(v) ** 2


def tanh_second(v):   # d/dx (1 − tanh²) = −2 tanh·(1 − tanh²)
    return -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)


X = np.linspace(-3.0, 3.0, 13)


def test_a_right_derivative_passes_and_one_wrong_entry_fails_named():
    assert check_elementwise(np.tanh, tanh_grad, X).passed
    g = tanh_grad(X)
    g[4] *= 1 + 1e-6
    r = check_elementwise(np.tanh, g, X)
    assert r.verdict == "fail" and r.n_failed == 1 and r.worst == "x[4]"
    assert str(r).startswith("elementwise derivative check FAILED: 1 of 13 entries outside tolerance")


def test_its_cost_in_evaluations_does_not_grow_with_x():
    small = check_elementwise(np.tanh, tanh_grad, X)
    x = np.random.default_rng(0).normal(size=(100, 100))
    large = check_elementwise(np.tanh, tanh_grad, x)
    assert large.passed and large.n_checked == 10_000
    assert large.n_evals == small.n_evals <= 10


def test_a_wrong_second_derivative_fails():
    assert check_elementwise(tanh_grad, tanh_second, X).passed
    r = check_elementwise(tanh_grad, lambda v: -np.tanh(v) * (1 - np.tanh(v) ** 2), X)   # the 2 dropped
    assert r.verdict == "fail"
    assert r.diagnosis is not None and r.diagnosis.startswith("ratio claim/numerical 0.5 in all")


def test_kinks_are_judged_per_entry_by_the_interval_rule():
    x = np.array([-1.0, 0.0, 2.0, 0.0])
    relu = lambda v: np.maximum(v, 0.0)   # noqa: E731
    r = check_elementwise(relu, np.array([0.0, 0.0, 1.0, 1.0]), x)   # 0 and 1 both subgradients at 0
    assert r.passed and sorted(k.index for k in r.kinks) == [(1,), (3,)]
    bad = check_elementwise(relu, np.array([0.0, 2.0, 1.0, 0.5]), x)
    assert bad.verdict == "fail" and bad.n_failed == 1 and bad.worst == "x[1]"


def test_a_jump_is_not_judged():
    step_fn = lambda v: (v > 0).astype(float)   # noqa: E731
    r = check_elementwise(step_fn, np.zeros(3), np.array([0.0, 1.0, -1.0]))
    assert r.verdict == "inconclusive" and r.n_inconclusive == 1
    assert r.inconclusive[0].startswith("x[0]: f jumps at x[0] by 1 (its one-sided differences keep")


def test_the_step_shrinks_at_a_domain_edge():
    x = np.array([1e-5, 0.5])
    r = check_elementwise(np.log, 1 / x, x)
    assert r.passed and r.notes and r.notes[0].startswith("entry x[0]: the step shrank from ")
    assert check_elementwise(np.log, (1 / x) * (1 + 1e-4), x).verdict == "fail"


def test_a_float32_f_is_judged_at_its_own_precision():
    f32 = lambda v: np.sin(v.astype(np.float32))   # noqa: E731
    assert check_elementwise(f32, np.cos(X), X).passed
    g = np.cos(X)
    g[6] *= 1 + 1e-3   # at x = 0, cos = 1: 1e-3 is above float32's resolution with a step of ~5e-3
    assert check_elementwise(f32, g, X).verdict == "fail"


def test_the_complex_step_in_two_evaluations():
    r = check_elementwise(np.sin, np.cos, X, method="complex")
    assert r.passed and r.n_evals == 5   # f(x), the elementwise test (2), f(x + ih), f(x + 2ih)
    g = np.cos(X)
    g[5] *= 1 + 1e-10
    assert check_elementwise(np.sin, g, X, method="complex").verdict == "fail"


def test_an_f_that_is_not_elementwise_is_refused():
    with pytest.raises(ValueError, match="f is not elementwise: moving other entries changed f"):
        check_elementwise(lambda v: v / np.sum(v), np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"elementwise: it returned shape \(\) for x of shape \(3,\)"):
        check_elementwise(lambda v: np.sum(v), np.ones(3), np.ones(3))


def test_bad_input_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"fprime has shape \(2,\) but must have shape \(3,\)"):
        check_elementwise(np.tanh, np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="unknown method 'forward'"):
        check_elementwise(np.tanh, tanh_grad, X, method="forward")


def test_assert_elementwise_raises_with_the_report():
    assert_elementwise(np.tanh, tanh_grad, X)
    with pytest.raises(AssertionError, match=r"^elementwise derivative check FAILED: 13 of 13 entries"):
        assert_elementwise(np.tanh, lambda v: tanh_grad(v) + 1e-3, X)


def test_the_step_grows_where_f_rounding_swamps_it_and_an_entry_below_it_is_not_judged():
    x = np.array([0.3, -1.2])
    r = check_elementwise(lambda v: 1e10 + np.sin(v), np.cos, x)   # rounding 1e10·eps over the step
    assert r.passed and float(np.min(r.step)) > 1e-3
    g = np.cos(x)
    g[1] = -g[1]
    assert check_elementwise(lambda v: 1e10 + np.sin(v), g, x).verdict == "fail"
    # entry 1 is 1e-6·x on top of 1e12: its effect, 1e-6·h, is below 1e12's rounding at every
    # admissible step, while entry 0, sin, sets the derivative's scale
    def mixed(v):
        return np.where(np.arange(2) == 0, np.sin(v), 1e12 + 1e-6 * v)
    buried = check_elementwise(mixed, np.array([np.cos(x[0]), -1e-6]), x)
    assert buried.verdict == "inconclusive" and buried.n_inconclusive == 1
    assert buried.inconclusive[0].startswith("x[1]: its effect on f is below f's rounding")


EPS = np.finfo(np.float64).eps
A_R = ERROR_MODEL["analytic_rounding"][0]
C_X = ERROR_MODEL["complex_rounding"][0]
X7 = np.random.default_rng(3).uniform(-1.5, 1.5, 7)


@pytest.mark.parametrize("method", ["central", "richardson", "complex"])
def test_verdicts_do_not_change_when_f_is_multiplied_by_any_c(method):
    # c·sin(x) rounds at c·eps and its derivative is c·cos(x): nothing in f's values tells c = 1e-12 from
    # 1 or 1e12. The right derivative passes, a sign-flipped entry fails, and an entry 1e-4 off never
    # passes at every c: it fails, except where its error (1e-4·c·|cos x_3|) lies within the rounding a
    # claim may carry from O(1) intermediates (analytic_rounding·eps·1, plus complex_rounding·eps·1 for
    # the complex step's estimate), which f's scale cannot show: there it is inconclusive
    band = A_R * EPS + (C_X * EPS if method == "complex" else 0.0)
    scales = [10.0**e for e in range(-12, 13, 3)]
    for c in scales:
        f = lambda v, c=c: c * np.sin(v)   # noqa: E731
        g = c * np.cos(X7)
        r = check_elementwise(f, g, X7, method=method)
        assert r.verdict == "pass", (c, str(r))
        flipped = g.copy()
        flipped[3] = -flipped[3]
        bad = check_elementwise(f, flipped, X7, method=method)
        assert bad.verdict == "fail" and bad.worst == "x[3]", (c, str(bad))
        one = g.copy()
        one[3] *= 1 + 1e-4
        expected = "inconclusive" if abs(one[3] - g[3]) <= band else "fail"
        r1 = check_elementwise(f, one, X7, method=method)
        assert r1.verdict == expected, (c, str(r1))
        if expected == "inconclusive":
            assert "the rounding of an O(1) intermediate" in r1.inconclusive[0]
    assert len(scales) == 9


def test_the_complex_steps_truncation_is_measured_where_f_shows_no_scale():
    # x³ at 0: f = 0 and f′ = 0, yet Im (ih)³/h = −h² = −1e-40 (the truncation h²·f‴/6): nothing in f's
    # values bounds it, but the step 2h gives −4h², so |D(2h) − D(h)|/3 = h² measures it. The claim 0
    # passes; a claim 1e-3 off at x = −1 (3 → 3.003) still fails
    x = np.array([0.0, -1.0])
    r = check_elementwise(lambda v: v**3, lambda v: 3 * v**2, x, method="complex")
    assert r.verdict == "pass", str(r)
    assert r.numerical[0] == -1e-40
    bad = check_elementwise(lambda v: v**3, np.array([0.0, 3.003]), x, method="complex")
    assert bad.verdict == "fail" and bad.worst == "x[1]"


@pytest.mark.parametrize("method", ["central", "complex"])
def test_a_noisy_elementwise_f_is_judged_through_full_mode_which_measures_its_noise(method):
    # sin(x)·(1 + 1e-8·ξ), ξ fresh at every call: the entries the elementwise test leaves still moved
    # (noise), and the check called f "not elementwise". f(x) repeated scatters: f is noisy, and is
    # judged as the gradient of Σ f in full mode, which measures the noise; the report says so
    x = np.random.default_rng(3).normal(size=64)
    wrong = np.cos(x) * (1 + 0.01 * (np.arange(64) == 3))
    for seed in range(5):
        rng = np.random.default_rng(seed)
        f = lambda v, rng=rng: np.sin(v) * (1 + 1e-8 * rng.standard_normal(np.shape(v)))  # noqa: E731
        r = check_elementwise(f, np.cos, x, method=method)
        assert r.verdict == "pass" and r.kind == "elementwise", str(r)
        assert any("f is not deterministic" in n for n in r.notes), r.notes
        bad = check_elementwise(f, wrong, x, method=method)
        assert bad.verdict == "fail" and bad.worst_index == (3,), str(bad)


def test_an_f_that_is_deterministic_and_couples_entries_is_still_not_elementwise():
    with pytest.raises(ValueError, match="f is not elementwise"):
        check_elementwise(lambda v: v * np.sum(v), lambda v: np.sum(v) + v, np.ones(4))
