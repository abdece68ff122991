"""The checker's contract beyond pass/fail: what the report says, what each argument does, what a
marginal verdict asks, and how the directional mode behaves at its edges.

Written against the survivors of a mutation run over gradcheck.py (benchmarks/MUTATION.md): each
test pins behaviour a reader or a CI log relies on, with the expected text built from the result's
own fields or from first principles, never pasted from a run.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from backprop_ref.gradcheck import (
    ERROR_MODEL,
    assert_grad,
    assert_jacobian,
    check_grad,
    check_jacobian,
    numerical_grad,
    taylor_test,
)
from checker_internals import Counted, quartic, quartic_grad, rademacher

SAFETY = ERROR_MODEL["safety"][0]


X6 = np.linspace(-1.5, 1.2, 6)


# ---- the report ---------------------------------------------------------------------------------

def test_failed_full_report_lists_every_failing_entry_worst_first():
    g = quartic_grad(X6)
    g[[1, 4]] *= np.array([1.01, 1.1])           # entry 4 is ten times as wrong as entry 1
    r = check_grad(quartic, X6, g)
    lines = str(r).splitlines()
    assert lines[0] == (f"gradient check FAILED: 2 of 6 entries outside tolerance "
                        f"(method central, full mode, {r.n_evals} evaluations of f)")
    steps = np.asarray(r.step)
    assert lines[1] == f"  step: {steps.min():.3g}…{steps.max():.3g} per entry"
    assert lines[2] == "  seed: none needed (full mode draws no random numbers)"
    assert lines[3] == (f"  max abs err {r.max_abs_err:.3g}, max rel err {r.max_rel_err:.3g} "
                        "(relative: |a − n| / max(|a|, |n|))")
    assert lines[4] == "  worst entries (error/tolerance > 1 fails):"
    rows = [ln.split() for ln in lines[6:8]]
    assert [row[0] for row in rows] == ["[4]", "[1]"]
    for row, i in zip(rows, (4, 1)):
        assert float(row[1]) == pytest.approx(g[i], rel=1e-6)
        assert float(row[2]) == pytest.approx(quartic_grad(X6)[i], rel=1e-6)
        assert float(row[6]) > 1.0                # err/tol
    assert not lines[8].startswith("    [")     # only the failing entries are listed
    assert r.worst_index == (4,) and r.n_failed == 2 and r.n_checked == 6


def test_passed_report_shows_the_three_closest_entries():
    r = check_grad(quartic, X6, quartic_grad(X6))
    lines = str(r).splitlines()
    assert lines[0].startswith("gradient check passed: 0 of 6 entries outside tolerance")
    i = lines.index("  worst entries (error/tolerance > 1 fails):")
    shown = [ln for ln in lines[i + 2:i + 6] if ln.startswith("    [")]
    assert len(shown) == 3
    ratios = [float(ln.split()[-1]) for ln in shown]
    assert ratios == sorted(ratios, reverse=True) and ratios[0] <= 1.0


def test_report_says_jacobian_and_the_worst_bound_terms():
    f = lambda v: np.tanh(v)  # noqa: E731
    J = np.diag(1 - np.tanh(X6) ** 2)
    J[2, 2] *= 1.001
    r = check_jacobian(f, X6, J)
    text = str(r)
    assert text.startswith("Jacobian check FAILED: 1 of 36 entries")
    w = list(r.worst_index)
    assert w == [2, 2]
    assert re.search(rf"    at \[2, 2\]: {SAFETY:g}×truncation \S+ \+ {SAFETY:g}×rounding \S+ \+ "
                     r"claimed rounding \S+", text)


def test_directional_report_gives_the_seed_to_replay_and_the_miss_probability():
    r = check_grad(quartic, X6, quartic_grad(X6) * 1.01, directions=3, seed=77)
    text = str(r)
    assert not r.passed and r.mode == "directional"
    assert "entries" not in text.splitlines()[0] and " of 4 directions outside tolerance" in text
    assert "per direction (unit directions)" in text
    assert ("  seed 77: replay with the same call and seed=77; directions: 3 random Rademacher (±1/√n) "
            "+ the claimed gradient’s own") in text
    assert f"with probability ≤ {2.0 ** -3:.3g}" in text
    assert "  worst directions (error/tolerance > 1 fails):" in text


def test_more_than_ten_non_finite_values_are_summarised():
    def f(v):
        return np.sum(np.where(np.abs(v - X12) > 0, np.nan, v))   # finite only at x itself

    X12 = np.arange(12.0)
    r = check_grad(f, X12, np.ones(12))
    text = str(r)
    assert not r.passed and len(r.problems) == 12
    assert text.count("  NOT FINITE: ") == 10
    assert "  … and 2 more non-finite values" in text


# ---- each argument reaches the check ------------------------------------------------------------

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


# ---- robustness of the evaluation ---------------------------------------------------------------

def test_numpy_raise_mode_outside_does_not_reach_the_stencil():
    f = lambda v: np.sum(np.exp(v))  # noqa: E731  (overflows on the stencil at x = 709.78)
    x = np.array([709.78])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        r = check_grad(f, x, np.exp(x))
    assert not r.passed and r.problems      # inf on the stencil fails with its reason, no exception


def test_a_complex_valued_f_is_read_by_its_real_part_in_real_methods():
    f = lambda v: np.sum(v**2) + 0j  # noqa: E731
    assert check_grad(f, X6, 2 * X6).passed
    assert np.allclose(numerical_grad(f, X6), 2 * X6, rtol=1e-8)


def test_f_returning_text_or_a_vector_is_a_clear_error():
    with pytest.raises(TypeError, match=r"^f must return numbers; it returned str"):
        check_grad(lambda v: "one", X6, X6)
    with pytest.raises(TypeError, match=r"^f must return numbers; it returned list with dtype <U1"):
        check_grad(lambda v: ["a"], X6, X6)
    with pytest.raises(ValueError, match=r"^f must return a scalar for check_grad; it returned shape "
                                         r"\(6,\) \(use check_jacobian for vector-valued f\)$"):
        check_grad(lambda v: v, X6, X6)


def test_non_finite_f_at_x_names_the_output_for_a_jacobian():
    f = lambda v: np.where(np.arange(v.size) == 3, np.nan, v)  # noqa: E731
    r = check_jacobian(f, X6, np.eye(6))
    assert not r.passed
    assert any(p.startswith("f(x) = nan (output [3])") for p in r.problems)
    r = check_grad(lambda v: np.nan, X6, X6)
    assert r.problems[0].startswith("f(x) = nan: f is not finite at x itself")


# ---- directional mode at its edges --------------------------------------------------------------

def test_directional_with_f_not_finite_at_x_fails_with_the_reason():
    r = check_grad(lambda v: np.nan, X6, X6, directions=3, seed=2)
    assert not r.passed and r.mode == "directional" and r.method == "central"
    assert r.numerical.shape == (4,) and np.isnan(r.numerical).all()
    assert "f(x) is not finite" in r.tolerance_reason
    assert str(r).startswith("gradient check FAILED: 4 of 4 directions outside tolerance")


@pytest.mark.parametrize("case, own", [
    ("gradient, n > 1", True),
    ("zero gradient", False),
    ("one entry", False),
])
def test_the_claimed_gradients_own_direction_is_added_only_where_it_means_something(case, own):
    x, g = {"gradient, n > 1": (X6, quartic_grad(X6)),
            "zero gradient": (X6, np.zeros(6)),
            "one entry": (X6[:1], quartic_grad(X6[:1]))}[case]
    f = quartic if case != "zero gradient" else (lambda v: 0.0 * np.sum(v))
    r = check_grad(f, x, g, directions=3, seed=0)
    assert r.passed
    assert r.n_checked == 3 + own
    assert ("+ the claimed gradient’s own" in r.localised_note) is own


def test_the_own_direction_is_not_added_for_a_jacobian():
    r = check_jacobian(np.tanh, X6, np.diag(1 - np.tanh(X6) ** 2), directions=3, seed=0)
    assert r.passed and r.numerical.shape == (3, 6)


@pytest.mark.parametrize("k, error, message", [
    (0, ValueError, "directions must be None (every entry) or an integer ≥ 1, got 0"),
    (-1, ValueError, "directions must be None (every entry) or an integer ≥ 1, got -1"),
    (True, TypeError, "directions must be None (every entry) or an integer, got bool True"),
    (1.5, TypeError, "directions must be None (every entry) or an integer, got float 1.5"),
])
def test_directions_must_be_a_positive_int(k, error, message):
    with pytest.raises(error) as info:
        check_grad(quartic, X6, quartic_grad(X6), directions=k)
    assert str(info.value) == message


def test_one_direction_is_allowed():
    r = check_grad(quartic, X6, quartic_grad(X6), directions=1, seed=3)
    assert r.passed and r.directions == 1 and r.miss_probability == 0.5


def test_bisection_localises_wrong_entries_away_from_the_first_block():
    x = np.linspace(-1, 1, 64)
    g = quartic_grad(x)
    g[[0, 41]] += 0.5
    r = check_grad(quartic, x, g, directions=8, seed=1)
    assert not r.passed and set(r.localised) == {(0,), (41,)}
    assert "bisection localised the wrong entries to: [0], [41]" in str(r)


# ---- the Taylor test ----------------------------------------------------------------------------

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


def test_a_marginal_verdict_asks_the_taylor_test():
    # An error planted at the size of its own bound: the verdict is marginal either way.
    g = quartic_grad(X6)
    tol = check_grad(quartic, X6, g).tolerance
    marginal = g.copy()
    marginal[3] += 1.5 * tol[3]
    r = check_grad(quartic, X6, marginal)
    assert r.taylor is not None and r.taylor.conclusive
    assert "second opinion (verdict marginal): Taylor test" in str(r)
    assert check_grad(quartic, X6, g + 1.0).taylor is None        # clear failures need no opinion
    assert check_grad(quartic, X6, marginal, atol=1.0).taylor is None   # nor the user's tolerance


# ---- directional figures: what each row holds ---------------------------------------------------

@pytest.mark.parametrize("method", ["central", "richardson", "complex"])
def test_directional_rows_are_the_directional_derivatives_and_smooth_f_shows_no_kink(method):
    g = quartic_grad(X6)
    r = check_grad(quartic, X6, g, method=method, directions=4, seed=11)
    assert r.passed and r.kinks == []
    # the own direction d = g/‖g‖, last: ⟨g, d⟩ = ‖g‖, and the difference quotient agrees with it
    assert r.analytic[-1] == pytest.approx(np.linalg.norm(g), rel=1e-14)
    assert np.all(np.abs(r.numerical - r.analytic) <= r.tolerance)
    assert np.all(np.abs(r.numerical - r.analytic) <= 1e-6 * np.abs(r.analytic).max())
    # the random rows: ⟨g, d⟩ for unit Rademacher d, so |⟨g, d⟩| ≤ ‖g‖₁/√n
    assert np.all(np.abs(r.analytic[:4]) <= np.abs(g).sum() / np.sqrt(6) * (1 + 1e-12))
    steps = np.asarray(r.step)
    assert steps.shape == (5,) and np.all(steps > 0)
    assert np.allclose(steps[:4], steps[0])        # one step for every random direction


def test_directional_mode_names_a_non_finite_value_on_the_stencil():
    x = np.array([709.782712, 0.0])   # exp overflows at 709.7827129: every stencil reaches past it
    f = lambda v: np.sum(np.exp(v))  # noqa: E731
    for method in ("central", "richardson"):
        r = check_grad(f, x, np.exp(x), method=method, directions=2, seed=0)
        assert not r.passed
        assert any(re.match(r"direction \d: f\(x ± \S+·d_\d\)", p) for p in r.problems), r.problems
    # f = e^{10⁶v} ≈ 1e304 is finite, its derivative 1e310 is not: said, not crashed on
    r = check_grad(lambda v: np.sum(np.exp(v * 1e6)), np.array([7e-4, 0.0]), np.ones(2),
                   method="complex", directions=2, seed=0)
    assert not r.passed
    assert "direction 0: the numerical directional derivative overflows float64" in r.problems


def test_a_claimed_gradient_near_the_float64_limit_is_judged_not_crashed():
    # ⟨g, d⟩ and ‖g‖ for g ≈ 1.8e308 are finite; forming them naively (2Σg, Σg²) overflows.
    x = np.array([709.78, 0.0])
    r = check_grad(lambda v: np.sum(np.exp(v)), x, np.exp(x), directions=2, seed=0)
    assert r.passed and np.isfinite(r.analytic).all()
    assert r.analytic[-1] == pytest.approx(np.hypot(*np.exp(x)), rel=1e-14)


def test_directional_user_tolerance_judges_every_row_and_bisects_with_it():
    x = np.linspace(-1, 1, 32)
    g = quartic_grad(x)
    g[17] += 0.3
    r = check_grad(quartic, x, g, directions=6, seed=2, atol=1e-3)
    assert not r.passed and r.user_tolerance and r.localised == [(17,)]
    assert np.allclose(r.tolerance, 1e-3)
    assert check_grad(quartic, x, g, directions=6, seed=2, atol=10.0).passed


def test_a_subnormal_gradient_gets_no_own_direction_and_no_false_alarm():
    # Found by benchmarks/checker.py: σ′(±745) = 5e-324 has a norm, but t/‖g‖ overflows.
    x = np.array([745.0, -745.0])
    f = lambda v: np.sum(1.0 / (1.0 + np.exp(-np.clip(v, -700, 700))))  # noqa: E731  (flat out there)
    g = np.full(2, 5e-324)
    for seed in range(5):
        r = check_grad(f, x, g, directions=8, seed=seed)
        assert r.passed and r.n_checked == 8, str(r)


# ---- the sentence that says which bound decided -------------------------------------------------

TAIL = "; rounding from |f| and the step; claimed values in {dtype}): bound = 4×(truncation + rounding) + "


@pytest.mark.parametrize("method, directions, how", [
    ("central", None, "truncation from the difference of steps h and 2h"),
    ("central", 3, "truncation bounded by the curvature t·|φ″|/6 from the second difference"),
    ("richardson", None, "truncation from the difference of two extrapolations (h, 2h and 2h, 4h)"),
    ("complex", None, "no subtractive cancellation (complex step): rounding of an analytic derivative"),
])
def test_the_reason_says_how_the_bound_was_formed(method, directions, how):
    r = check_grad(quartic, X6, quartic_grad(X6), method=method, directions=directions, seed=0)
    assert r.tolerance_reason.startswith("error model (" + how + TAIL.format(dtype="float64"))


@pytest.mark.parametrize("f, x, g, decided", [
    # a linear f has no truncation: f's rounding is all there is
    (lambda v: np.sum(3.0 * v), X6, np.full(6, 3.0), "rounding of f"),
    # e^{10x} at x = 1: h²·f‴/6 ≈ 1e-4 against eps·|f|/h ≈ 1e-5
    (lambda v: np.sum(np.exp(10 * v)), np.ones(3), 10 * np.exp(10 * np.ones(3)), "truncation"),
    # a float32 claim: its own rounding (eps 1.2e-7) dwarfs both of the difference's terms
    (quartic, X6, quartic_grad(X6).astype(np.float32), "the claimed values' own rounding"),
])
def test_the_reason_names_the_term_that_decided(f, x, g, decided):
    r = check_grad(f, x, g)
    assert r.passed
    assert r.tolerance_reason.endswith(f"claimed rounding; {decided} decided for most entries")
    dtype = "float32" if np.asarray(g).dtype == np.float32 else "float64"
    assert f"claimed values in {dtype})" in r.tolerance_reason


def test_kink_and_taylor_lines_read_as_documented():
    r = check_grad(lambda v: float(np.sum(np.maximum(v, 0.0))), np.array([0.0, 1.0]), np.array([2.0, 1.0]))
    (k,) = r.kinks
    assert str(k) == (f"[0]: left {k.left:.6g}, right {k.right:.6g}; analytic 2 lies OUTSIDE them "
                      f"(step {k.step:.3g})")
    assert k.left == 0.0 and k.right == pytest.approx(1.0, abs=1e-6) and not k.passed  # f's rounding/h
    ok = check_grad(lambda v: float(np.sum(np.maximum(v, 0.0))), np.array([0.0]), np.array([0.5])).kinks[0]
    assert str(ok).endswith(f"analytic 0.5 lies between them (step {ok.step:.3g})")
    t = taylor_test(quartic, X6, quartic_grad(X6), seed=1)
    assert str(t) == (f"Taylor test: remainder shrinks with observed order {t.order:.2f} over steps "
                      f"{t.steps[0]:.1e}…{t.steps[-1]:.1e} (2 for a correct gradient, 1 for a wrong one): "
                      "consistent with a correct gradient")


def test_a_non_finite_stencil_point_is_named_with_its_side_and_step():
    # √v at v = 1e-7: the backward point v − h (h = eps^(1/3) ≈ 6.06e-6) is negative, so NaN.
    h = np.finfo(float).eps ** (1 / 3)
    r = check_grad(lambda v: np.sum(np.sqrt(v)), np.array([1e-7, 1.0]), 0.5 / np.sqrt([1e-7, 1.0]))
    assert not r.passed
    assert r.problems == [f"entry [0]: f(x − {h:.3g}·e_i) = nan at x_i = 1e-07"]


def _raises_value_error(v):
    raise ValueError("no complex here")


@pytest.mark.parametrize("call, exc, message", [
    (lambda: check_grad(quartic, X6, quartic_grad(X6), rtol=-1.0), ValueError,
     "rtol must be a finite number ≥ 0, got -1.0"),
    (lambda: check_grad(quartic, X6, quartic_grad(X6), atol=float("nan")), ValueError,
     "atol must be a finite number ≥ 0, got nan"),
    (lambda: check_grad(quartic, X6 + 0j, quartic_grad(X6)), TypeError,
     "x must be real, got dtype complex128"),
    (lambda: check_grad(lambda v: _raises_value_error(v) if np.iscomplexobj(v) else 0.0, X6, X6,
                        method="complex"), TypeError,
     "method='complex' needs an f that accepts complex input; f raised ValueError: no complex here. "
     "Use method='central'."),
    (lambda: check_grad(lambda v: float(np.sum(np.real(v))), X6, X6, method="complex"), TypeError,
     "method='complex' needs an f that carries complex input through, but f returned dtype float64 "
     "(float(), abs() or np.real drop the imaginary part). Use method='central'."),
    (lambda: check_grad(lambda v: v, X6, X6, method="complex"), ValueError,
     "f must return a scalar for check_grad; it returned shape (6,) (use check_jacobian for "
     "vector-valued f)"),
])
def test_argument_errors_say_exactly_what_is_wrong(call, exc, message):
    with pytest.raises(exc) as info:
        call()
    assert str(info.value) == message


def test_a_seed_given_in_full_mode_is_recorded_though_nothing_is_drawn():
    r = check_grad(quartic, X6, quartic_grad(X6), seed=42)
    assert r.seed == 42 and "  seed 42 (full mode draws no random numbers)" in str(r)
    assert check_grad(quartic, X6, quartic_grad(X6)).seed is None


def test_the_users_tolerance_is_named_with_both_numbers():
    r = check_grad(quartic, X6, quartic_grad(X6), atol=1e-3, rtol=1e-6)
    assert r.tolerance_reason == (
        "the user's tolerance decided: an entry passes when |analytic − numerical| ≤ atol + "
        "rtol·|numerical| with atol = 0.001, rtol = 1e-06 (the error model was not used)")


@pytest.mark.parametrize("kw", [
    {}, {"method": "richardson"}, {"method": "complex"},
    {"directions": 4, "seed": 0}, {"directions": 4, "seed": 0, "method": "richardson"},
])
@pytest.mark.parametrize("wrong", [False, True])
def test_n_evals_counts_every_call_of_f(kw, wrong):
    x = np.linspace(-1, 1, 16)
    g = quartic_grad(x)
    if wrong:
        g[5] += 0.5          # fails: bisection in directional mode
    f = Counted(quartic)
    r = check_grad(f, x, g, **kw)
    assert r.passed is not wrong
    assert r.n_evals == f.calls


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


def test_bisection_reports_at_most_eight_entries():
    x = np.linspace(-1, 1, 64)
    g = quartic_grad(x)
    wrong = [3, 9, 15, 22, 30, 37, 44, 51, 58, 63]
    g[wrong] += 0.01 * 2.0 ** np.arange(10)   # powers of two: no signed subset of them cancels
    r = check_grad(quartic, x, g, directions=8, seed=4)
    assert not r.passed
    assert len(r.localised) == 8 and {i for (i,) in r.localised} <= set(wrong)


def test_bisection_under_a_relative_user_tolerance_finds_the_one_entry():
    x = np.linspace(-1, 1, 32)
    g = quartic_grad(x)
    g[17] *= 1.5
    r = check_grad(quartic, x, g, directions=6, seed=2, rtol=1e-4)
    assert not r.passed and r.localised == [(17,)]


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
        rng = np.random.default_rng(r.seed)
        dirs = [np.where(np.unpackbits(np.frombuffer(rng.bytes(1), np.uint8), count=3), 1.0, -1.0)
                / np.sqrt(3.0) for _ in range(4)] + [g / np.linalg.norm(g)]
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
