"""The result: the report a CI log shows, the sentence that says which bound decided, and the summary fields.

Expected report lines are built from the result's own fields (or written out where the layout is the
contract); expected numbers come from f's that difference exactly: f = c·Σv at x = 0 (c 0 or a power
of two) steps to ±h and ±2h with h = eps^(1/3), c·(±h) is exact, so the central difference is exactly c.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from checker_internals import quartic, quartic_grad

from backprop_ref.gradcheck import (
    ERROR_MODEL,
    assert_grad,
    assert_jacobian,
    check_grad,
    check_jacobian,
    taylor_test,
)

SAFETY = ERROR_MODEL["safety"][0]
EPS = np.finfo(np.float64).eps
X6 = np.linspace(-1.5, 1.2, 6)
HEADER = "    index               analytic     numerical    abs err    rel err  tolerance  err/tol"


def linear(c):
    """f = c·Σv: at x = 0 its central difference is exactly c (c 0 or a power of two: c·h is exact)."""
    return lambda v: c * np.sum(v)


def row(r, i):
    """The report's table row for flat entry i, from the result's fields."""
    a, n = r.analytic.ravel()[i], r.numerical.ravel()[i]
    idx = str([int(v) for v in np.unravel_index(i, r.analytic.shape)])
    with np.errstate(all="ignore"):
        rel = 0.0 if a == n else abs(a - n) / max(abs(a), abs(n))
    rel = rel if np.isfinite(rel) else np.inf      # documented: inf when non-finite
    return (f"    {idx:<14}{format(a, ' .6e'):>14}{format(n, ' .6e'):>14}{abs(a - n):>11.3g}{rel:>11.3g}"
            f"{r.tolerance.ravel()[i]:>11.3g}{r.ratio.ravel()[i]:>9.3g}")


def table(r):
    """The rows listed under the header, in order."""
    lines = str(r).splitlines()
    i = lines.index(HEADER)
    out = []
    for ln in lines[i + 1:]:
        if not ln.startswith("    ["):
            break
        out.append(ln)
    return out


# ---- the report's lines -------------------------------------------------------------------------

def test_table_header_and_rows_read_from_the_fields():
    g = quartic_grad(X6)
    g[[1, 4]] += np.array([1e-2, 1e-1])
    r = check_grad(quartic, X6, g)
    assert "  worst entries (error/tolerance > 1 fails):\n" + HEADER in str(r)
    assert table(r) == [row(r, 4), row(r, 1)]


def test_failed_full_report_lists_every_failing_entry_worst_first():
    g = quartic_grad(X6)
    g[[1, 4]] *= np.array([1.01, 1.1])           # entry 4 is ten times as wrong as entry 1
    r = check_grad(quartic, X6, g)
    lines = str(r).splitlines()
    assert lines[0] == (f"gradient check FAILED: 2 of 6 entries outside tolerance "
                        f"(method central, full mode, {r.n_evals} evaluations of f); "
                        f"worst x[4]: analytic {g[4]:.6g} vs numerical {r.numerical[4]:.6g}")
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


def test_a_failed_report_lists_only_entries_above_their_bound():
    # errors 3, 1.5 and 1 against atol = 1: ratios 3 and 1.5 fail, exactly 1 passes (≤)
    r = check_grad(linear(2.0), np.zeros(3), np.array([5.0, 3.5, 3.0]), atol=1.0)
    np.testing.assert_array_equal(r.ratio, [3.0, 1.5, 1.0])
    assert r.n_failed == 2
    assert table(r) == [row(r, 0), row(r, 1)]


def test_a_failed_report_lists_at_most_ten_entries_ties_in_index_order():
    r = check_grad(linear(2.0), np.zeros(12), np.full(12, 3.0), atol=0.5)
    assert r.n_failed == 12 and np.all(r.ratio == 2.0)
    assert table(r) == [row(r, i) for i in range(10)]


def test_passed_report_shows_the_three_closest_entries():
    r = check_grad(quartic, X6, quartic_grad(X6))
    lines = str(r).splitlines()
    assert lines[0].startswith("gradient check passed: 0 of 6 entries outside tolerance")
    i = lines.index("  worst entries (error/tolerance > 1 fails):")
    shown = [ln for ln in lines[i + 2:i + 6] if ln.startswith("    [")]
    assert len(shown) == 3
    ratios = [float(ln.split()[-1]) for ln in shown]
    assert ratios == sorted(ratios, reverse=True) and ratios[0] <= 1.0


def test_a_passed_report_shows_the_three_worst_ties_in_index_order():
    # 32 entries with error 0.5 and 32 exact ones: a stable order lists the first three of the 0.5s
    g = np.where(np.arange(64) % 2 == 0, 2.5, 2.0)
    r = check_grad(linear(2.0), np.zeros(64), g, atol=1.0)
    assert r.passed
    assert table(r) == [row(r, 0), row(r, 2), row(r, 4)]


def test_a_failure_from_a_problem_alone_still_lists_the_worst_direction():
    # f's real part is inf off the real line while its imaginary part carries the derivative: every
    # complex-step direction is within its bound, yet the non-finite value fails the check. The
    # table still lists one row, the worst (ties: the first), never none.
    def f(v):
        off = bool(np.any(np.imag(v) != 0))
        return np.sum(v) + (np.inf if off else 0.0)

    r = check_grad(f, np.zeros(4), np.ones(4), method="complex", directions=3, seed=0)
    assert not r.passed and r.n_failed == 0 and r.problems
    assert np.all(r.ratio <= 1)
    assert r.worst_index == (0,) and table(r) == [row(r, 0)]


def test_a_scalar_x_is_indexed_as_an_empty_list():
    r = check_grad(lambda v: float(v) ** 2, 3.0, 6.0)
    assert r.passed and r.analytic.shape == ()
    assert table(r) == [row(r, 0)] and table(r)[0].startswith("    []  ")


def test_a_single_step_is_shown_as_one_number_and_a_range_as_min_to_max():
    x = np.linspace(-0.9, 0.9, 5)          # |x| ≤ 1: h = eps^(1/3) for every entry, no re-probe
    r = check_grad(quartic, x, quartic_grad(x))
    assert np.all(r.step == EPS ** (1 / 3))
    assert str(r).splitlines()[1] == f"  step: {EPS ** (1 / 3):.3g} per entry"
    r = check_grad(quartic, X6, quartic_grad(X6), directions=3, seed=0)
    s = np.asarray(r.step)
    assert s.max() > s.min()               # the own direction's step differs from the random ones'
    assert str(r).splitlines()[1] == f"  step: {s.min():.3g}…{s.max():.3g} per direction (unit directions)"


def test_a_seed_given_in_full_mode_is_recorded_though_nothing_is_drawn():
    r = check_grad(quartic, X6, quartic_grad(X6), seed=42)
    assert r.seed == 42 and "  seed 42 (full mode draws no random numbers)" in str(r)
    assert check_grad(quartic, X6, quartic_grad(X6)).seed is None


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


def test_directional_report_states_the_miss_probability():
    r = check_grad(quartic, X6, quartic_grad(X6), directions=3, seed=1)
    assert r.miss_probability == 2.0**-3
    assert (f"  miss probability: an error above {r.detectable_error:.3g} in any one entry is seen by each "
            "random direction with probability ≥ 1/2, so slips through all with probability ≤ 0.125; a "
            "lone wrong entry that large, or a scale error along the claimed gradient, is seen with "
            "certainty") in str(r).splitlines()


@pytest.mark.parametrize("n", [10, 11])
def test_up_to_ten_non_finite_values_are_listed_and_the_rest_counted(n):
    x = np.arange(float(n))
    f = lambda v: np.sum(np.where(np.abs(v - x) > 0, np.nan, v))  # noqa: E731  (finite at x only)
    r = check_grad(f, x, np.ones(n))
    lines = str(r).splitlines()
    assert len(r.problems) == n
    listed = [ln for ln in lines if ln.startswith("  NOT FINITE: ")]
    assert listed == [f"  NOT FINITE: {p}" for p in r.problems[:10]]
    assert [ln for ln in lines if ln.startswith("  … and ")] == (
        [f"  … and {n - 10} more non-finite values"] if n > 10 else [])


def test_more_than_ten_non_finite_values_are_summarised():
    def f(v):
        return np.sum(np.where(np.abs(v - X12) > 0, np.nan, v))   # finite only at x itself

    X12 = np.arange(12.0)
    r = check_grad(f, X12, np.ones(12))
    text = str(r)
    assert not r.passed and len(r.problems) == 12
    assert text.count("  NOT FINITE: ") == 10
    assert "  … and 2 more non-finite values" in text


def test_the_report_of_inf_and_nan_never_raises_whatever_np_seterr_says():
    g = quartic_grad(X6)
    g[2] = np.inf                               # |inf − n| / max(|inf|, |n|) is inf/inf
    r = check_grad(quartic, X6, g)
    with np.errstate(all="raise"):
        text = str(r)
    assert row(r, 2) in text and r.max_rel_err == np.inf


def test_kinks_are_introduced_and_at_most_eight_listed():
    r = check_grad(lambda v: float(np.sum(np.maximum(v, 0.0))), np.zeros(9), np.full(9, 0.5))
    assert r.passed and len(r.kinks) == 9
    lines = str(r).splitlines()
    i = lines.index("  kinks (9): the one-sided derivatives differ; a claim between them (a subgradient) "
                    "passes")
    assert lines[i + 1:i + 9] == [f"    {k}" for k in r.kinks[:8]]
    assert lines[i + 9].startswith("  tolerance: ")


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


def test_the_worst_entrys_bound_is_the_sum_of_its_three_terms_and_reported_so():
    g = quartic_grad(X6)
    r = check_grad(quartic, X6, g)
    st, sr, sa = r.terms
    # bound = S·(T + R) + A, and S·(T + R) = S·T + S·R exactly (S = 4, a power of two)
    np.testing.assert_array_equal(r.tolerance, st + sr + sa)
    assert np.all(st > 0) and np.all(sr > 0)
    w = r.worst_index
    assert str(r).splitlines()[-1] == (f"    at x{list(w)}: {SAFETY:g}×truncation {st[w]:.2g} + {SAFETY:g}×"
                                       f"rounding {sr[w]:.2g} + claimed rounding {sa[w]:.2g}")


def test_report_says_jacobian_and_the_worst_bound_terms():
    f = lambda v: np.tanh(v)  # noqa: E731
    J = np.diag(1 - np.tanh(X6) ** 2)
    J[2, 2] *= 1.001
    r = check_jacobian(f, X6, J)
    text = str(r)
    assert text.startswith("Jacobian check FAILED: 1 of 36 entries")
    w = list(r.worst_index)
    assert w == [2, 2]
    assert re.search(rf"    at x\[2\] \(output \[2\]\): {SAFETY:g}×truncation \S+ \+ {SAFETY:g}×rounding "
                     r"\S+ \+ claimed rounding \S+", text)


@pytest.mark.parametrize("assert_, check, f, claim", [
    (assert_grad, check_grad, quartic, quartic_grad(X6) + 1e-3),
    (assert_jacobian, check_jacobian, np.tanh, np.diag(1 - np.tanh(X6) ** 2) + 1e-3),
])
def test_assert_raises_with_the_report_its_first_line_standing_alone(assert_, check, f, claim):
    # (pytest's summary and a JUnit message show only the first line: it names the worst entry)
    with pytest.raises(AssertionError) as info:
        assert_(f, X6, claim)
    assert str(info.value) == str(check(f, X6, claim))
    assert " FAILED: " in str(info.value).splitlines()[0] and "; worst x[" in str(info.value).splitlines()[0]


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


def test_the_reason_names_the_term_that_decided_most_entries():
    # e^{20v} at v = 1: truncation h²·f‴/6 outweighs rounding; the linear entry has rounding only
    x = np.ones(4)
    f = lambda v: np.sum(np.exp(20 * v[:3])) + 3.0 * v[3]  # noqa: E731
    r = check_grad(f, x, np.r_[20 * np.exp(20 * x[:3]), 3.0])
    st, sr, sa = r.terms
    assert r.passed
    np.testing.assert_array_equal((st > sr) & (st > sa), [True, True, True, False])
    np.testing.assert_array_equal((sr > st) & (sr > sa), [False, False, False, True])
    assert r.tolerance_reason.endswith("claimed rounding; truncation decided for most entries")


def test_the_reason_names_a_float16_claim_and_an_unnamed_dtype_by_its_eps():
    r = check_grad(quartic, X6, quartic_grad(X6).astype(np.float16))
    assert "; claimed values in float16): " in r.tolerance_reason
    eps = np.finfo(np.longdouble).eps
    if eps == EPS:
        pytest.skip("long double is float64 here")
    r = check_grad(quartic, X6, quartic_grad(X6).astype(np.longdouble))
    assert f"; claimed values in eps {eps:.2g}): " in r.tolerance_reason


def test_the_users_tolerance_is_named_with_both_numbers():
    r = check_grad(quartic, X6, quartic_grad(X6), atol=1e-3, rtol=1e-6)
    assert r.tolerance_reason == (
        "the user's tolerance decided: an entry passes when |analytic − numerical| ≤ atol + "
        "rtol·|numerical| with atol = 0.001, rtol = 1e-06 (the error model was not used)")


# ---- summary fields -----------------------------------------------------------------------------

@pytest.mark.parametrize("c, a", [(2.0, 3.0), (0.5, 0.25), (-1.0, 0.5)])
def test_max_errors_are_the_absolute_and_symmetric_relative_error(c, a):
    r = check_grad(linear(c), np.zeros(1), np.array([a]))
    assert r.numerical[0] == c                      # exact: c·(±h) / 2h
    assert r.max_abs_err == abs(a - c)
    assert r.max_rel_err == abs(a - c) / max(abs(a), abs(c))


def test_relative_error_is_symmetric_and_zero_when_both_zero():
    f = lambda v: float(np.sum(v[1:] ** 2))  # noqa: E731  (∂f/∂v0 = 0 exactly)
    x = np.array([1.0, 2.0])
    assert check_grad(f, x, np.array([0.0, 4.0])).max_rel_err < 1e-6
    r = check_grad(f, x, np.array([0.0, 2.0]))
    assert r.max_rel_err == pytest.approx(0.5, rel=1e-6)   # |4 − 2| / max(4, 2)


def test_a_nan_error_counts_as_infinitely_large():
    g = quartic_grad(X6)
    g[0] = np.nan
    r = check_grad(quartic, X6, g)
    assert r.max_abs_err == np.inf and r.max_rel_err == np.inf
    assert not r.passed


def test_an_error_equal_to_the_users_tolerance_passes():
    assert check_grad(linear(2.0), np.zeros(2), np.array([3.0, 2.0]), atol=1.0).passed   # |3 − 2| ≤ 1
    r = check_grad(linear(2.0), np.zeros(2), np.array([2.0, 2.0]), atol=0.0)            # 0 ≤ 0
    assert r.passed
    np.testing.assert_array_equal(r.ratio, [0.0, 0.0])   # no error, no ratio (0/0 counts as 0)


def test_a_zero_bound_fails_any_error_with_an_infinite_ratio():
    # atol = rtol = 0 demands equality: a subnormal error fails, and err/tol reads inf (> 1), not
    # the 2e-16 a division by the smallest normal float would show beside "FAILED"
    r = check_grad(lambda v: 0.0 * np.sum(v), np.zeros(2), np.array([5e-324, 0.0]), atol=0.0)
    assert not r.passed and r.n_failed == 1
    assert r.ratio.tolist() == [np.inf, 0.0]
    row = next(line for line in str(r).splitlines() if line.strip().startswith("[0]"))
    assert row.split()[-1] == "inf"


def test_ratio_is_error_over_tolerance_for_smooth_entries():
    r = check_grad(quartic, X6, quartic_grad(X6))
    np.testing.assert_array_equal(r.ratio, r.abs_err / r.tolerance)
    assert r.ratio.max() > 0


def test_ratio_is_zero_where_the_kink_rule_passed_and_the_kink_keeps_its_own_bound():
    relu_sum = lambda v: float(np.sum(np.maximum(v, 0.0)))  # noqa: E731
    # 1.05 lies outside the slopes [0, 1] but within atol: the kink rule passes it
    r = check_grad(relu_sum, np.array([0.0, 1.0]), np.array([1.05, 1.0]), atol=0.1)
    (k,) = r.kinks
    assert k.passed and r.passed and r.ratio[0] == 0.0
    # under rtol the kink's bound scales with its larger one-sided slope, not with the value shown
    r = check_grad(relu_sum, np.array([0.0, 1.0]), np.array([0.5, 1.0]), atol=0.01, rtol=0.1)
    (k,) = r.kinks
    assert r.numerical[0] == 0.5
    assert r.tolerance[0] == 0.01 + 0.1 * max(abs(k.left), abs(k.right))


@pytest.mark.parametrize("directions", [None, 2])
def test_the_result_records_x_shape_and_kind(directions):
    x = X6.reshape(2, 3)
    r = check_grad(quartic, x, quartic_grad(x), directions=directions, seed=0)
    assert (r.x_shape, r.kind) == ((2, 3), "gradient")
    assert str(r).startswith("gradient check passed")
    r = check_jacobian(np.tanh, x, np.diag(1 - np.tanh(X6) ** 2).reshape(2, 3, 2, 3),
                       directions=directions, seed=0)
    assert (r.x_shape, r.kind) == ((2, 3), "jacobian")
