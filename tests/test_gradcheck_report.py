"""The report a CI log shows, the result's summary fields, and argument validation with its messages.

Expected report lines are built from the result's own fields (or written out where the layout is the
contract); expected numbers come from f's that difference exactly: f = c·Σv at x = 0 (c 0 or a power
of two) steps to ±h and ±2h with h = eps^(1/3), c·(±h) is exact, so the central difference is exactly c.
"""

from __future__ import annotations

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
    numerical_jacobian,
)
from checker_internals import quartic, quartic_grad

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


def test_a_single_step_is_shown_as_one_number_and_a_range_as_min_to_max():
    x = np.linspace(-0.9, 0.9, 5)          # |x| ≤ 1: h = eps^(1/3) for every entry, no re-probe
    r = check_grad(quartic, x, quartic_grad(x))
    assert np.all(r.step == EPS ** (1 / 3))
    assert str(r).splitlines()[1] == f"  step: {EPS ** (1 / 3):.3g} per entry"
    r = check_grad(quartic, X6, quartic_grad(X6), directions=3, seed=0)
    s = np.asarray(r.step)
    assert s.max() > s.min()               # the own direction's step differs from the random ones'
    assert str(r).splitlines()[1] == f"  step: {s.min():.3g}…{s.max():.3g} per direction (unit directions)"


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


def test_kinks_are_introduced_and_at_most_eight_listed():
    r = check_grad(lambda v: float(np.sum(np.maximum(v, 0.0))), np.zeros(9), np.full(9, 0.5))
    assert r.passed and len(r.kinks) == 9
    lines = str(r).splitlines()
    i = lines.index("  kinks (9): the one-sided derivatives differ; a claim between them (a subgradient) "
                    "passes")
    assert lines[i + 1:i + 9] == [f"    {k}" for k in r.kinks[:8]]
    assert lines[i + 9].startswith("  tolerance: ")


def test_directional_report_states_the_miss_probability():
    r = check_grad(quartic, X6, quartic_grad(X6), directions=3, seed=1)
    assert r.miss_probability == 2.0**-3
    assert (f"  miss probability: an error above {r.detectable_error:.3g} in any one entry is seen by each "
            "random direction with probability ≥ 1/2, so slips through all with probability ≤ 0.125; a "
            "lone wrong entry that large, or a scale error along the claimed gradient, is seen with "
            "certainty") in str(r).splitlines()


def test_the_worst_entrys_bound_is_the_sum_of_its_three_terms_and_reported_so():
    g = quartic_grad(X6)
    r = check_grad(quartic, X6, g)
    st, sr, sa = r.terms
    # bound = S·(T + R) + A, and S·(T + R) = S·T + S·R exactly (S = 4, a power of two)
    np.testing.assert_array_equal(r.tolerance, st + sr + sa)
    assert np.all(st > 0) and np.all(sr > 0)
    w = r.worst_index
    assert str(r).splitlines()[-1] == (f"    at {list(w)}: {SAFETY:g}×truncation {st[w]:.2g} + {SAFETY:g}×"
                                       f"rounding {sr[w]:.2g} + claimed rounding {sa[w]:.2g}")


def test_the_report_of_inf_and_nan_never_raises_whatever_np_seterr_says():
    g = quartic_grad(X6)
    g[2] = np.inf                               # |inf − n| / max(|inf|, |n|) is inf/inf
    r = check_grad(quartic, X6, g)
    with np.errstate(all="raise"):
        text = str(r)
    assert row(r, 2) in text and r.max_rel_err == np.inf


def test_an_empty_x_passes_with_nothing_checked_and_a_failed_one_still_reports():
    r = check_grad(lambda v: float(np.sum(v)), np.zeros(0), np.zeros(0))
    assert r.passed and r.n_checked == 0 and r.worst_index == ()
    assert r.max_abs_err == 0.0 and r.max_rel_err == 0.0
    r = check_grad(lambda v: np.nan, np.zeros(0), np.zeros(0))
    assert not r.passed
    assert ("  NOT FINITE: f(x) = nan: f is not finite at x itself, nothing can be judged"
            in str(r).splitlines())


@pytest.mark.parametrize("assert_, check, f, claim", [
    (assert_grad, check_grad, quartic, quartic_grad(X6) + 1e-3),
    (assert_jacobian, check_jacobian, np.tanh, np.diag(1 - np.tanh(X6) ** 2) + 1e-3),
])
def test_assert_raises_with_the_report_after_a_newline(assert_, check, f, claim):
    with pytest.raises(AssertionError) as info:
        assert_(f, X6, claim)
    assert str(info.value) == "\n" + str(check(f, X6, claim))


# ---- summary fields -----------------------------------------------------------------------------

@pytest.mark.parametrize("c, a", [(2.0, 3.0), (0.5, 0.25), (-1.0, 0.5)])
def test_max_errors_are_the_absolute_and_symmetric_relative_error(c, a):
    r = check_grad(linear(c), np.zeros(1), np.array([a]))
    assert r.numerical[0] == c                      # exact: c·(±h) / 2h
    assert r.max_abs_err == abs(a - c)
    assert r.max_rel_err == abs(a - c) / max(abs(a), abs(c))


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


def test_a_marginal_jacobian_asks_no_taylor_test():
    # the Taylor test needs a scalar f: a Jacobian's marginal verdict is reported without it
    J = np.diag(1 - np.tanh(X6) ** 2)
    J[3, 3] += 1.5 * check_jacobian(np.tanh, X6, J).tolerance[3, 3]
    r = check_jacobian(np.tanh, X6, J)
    assert 1 / 3 < r.ratio[r.worst_index] <= 3
    assert r.taylor is None and "second opinion" not in str(r)


# ---- arguments and their messages ---------------------------------------------------------------

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


def test_a_size_one_array_from_f_counts_as_a_scalar():
    r = check_grad(lambda v: np.sum(v**2, keepdims=True), X6, 2 * X6)
    assert r.passed and r.analytic.shape == X6.shape


@pytest.mark.parametrize("seed, error, message", [
    (-1, ValueError, "seed must be None (a fresh seed is drawn) or an integer ≥ 0, got -1"),
    (1.5, TypeError, "seed must be None (a fresh seed is drawn) or an integer, got float 1.5"),
    (True, TypeError, "seed must be None (a fresh seed is drawn) or an integer, got bool True"),
    ("1", TypeError, "seed must be None (a fresh seed is drawn) or an integer, got str '1'"),
])
def test_seed_must_be_a_non_negative_int(seed, error, message):
    with pytest.raises(error) as info:
        check_grad(quartic, X6, quartic_grad(X6), seed=seed)
    assert str(info.value) == message


RAGGED = [[1.0], [1.0, 2.0]]


@pytest.mark.parametrize("call, exc, start", [
    (lambda: check_grad(lambda v: RAGGED, X6, X6), TypeError, "f must return numbers; it returned list ("),
    (lambda: check_grad(quartic, X6, RAGGED), TypeError, "grad must be a numeric array; got list ("),
    (lambda: check_jacobian(np.tanh, X6, RAGGED), TypeError, "jac must be a numeric array; got list ("),
    (lambda: check_grad(quartic, X6, quartic_grad(X6) + 0j), TypeError,
     "grad must be real, got dtype complex128"),
    (lambda: numerical_grad(quartic, X6 + 0j), TypeError, "x must be real, got dtype complex128"),
    (lambda: numerical_grad(lambda v: v, X6), ValueError, "f must return a scalar for check_grad"),
    # an f that is scalar on real input but not on complex input is told so, not that it rejects complex
    (lambda: check_grad(lambda v: v**2 if np.iscomplexobj(v) else np.sum(v**2), X6, 2 * X6, method="complex"),
     ValueError, "f must return a scalar for check_grad; it returned shape (6,)"),
])
def test_argument_errors_begin_with_what_is_wrong(call, exc, start):
    with pytest.raises(exc) as info:
        call()
    assert str(info.value).startswith(start)


def test_a_floating_point_warning_from_f_is_silenced_and_any_other_reaches_the_caller():
    def warns(category):
        def f(v):
            warnings.warn("from f", category, stacklevel=1)
            return quartic(v)
        return f

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_grad(warns(RuntimeWarning), X6, quartic_grad(X6)).passed
    with pytest.warns(UserWarning, match="from f"):
        check_grad(warns(UserWarning), X6, quartic_grad(X6))


@pytest.mark.parametrize("numerical, f", [
    (numerical_grad, lambda v: np.sum(np.sqrt(v))),
    (numerical_jacobian, np.sqrt),
])
def test_numerical_derivatives_report_nan_whatever_np_seterr_says(numerical, f):
    # √v at v = 1e-7: the backward stencil point is negative; that entry is NaN, never an exception
    with np.errstate(all="raise"):
        n = numerical(f, np.array([1e-7, 1.0])).ravel()
    assert np.isnan(n[0]) and n[-1] == pytest.approx(0.5, rel=1e-8)   # the difference errs by ≈ 1e-11


def test_a_zero_bound_fails_any_error_with_an_infinite_ratio():
    # atol = rtol = 0 demands equality: a subnormal error fails, and err/tol reads inf (> 1), not
    # the 2e-16 a division by the smallest normal float would show beside "FAILED"
    r = check_grad(lambda v: 0.0 * np.sum(v), np.zeros(2), np.array([5e-324, 0.0]), atol=0.0)
    assert not r.passed and r.n_failed == 1
    assert r.ratio.tolist() == [np.inf, 0.0]
    row = next(line for line in str(r).splitlines() if line.strip().startswith("[0]"))
    assert row.split()[-1] == "inf"


def test_a_directional_check_of_an_empty_x_says_there_is_nothing_to_check():
    r = check_grad(lambda v: float(np.sum(v)), np.zeros(0), np.zeros(0), directions=2, seed=0)
    assert r.passed and r.n_checked == 0
    assert r.tolerance_reason == "x has no entries: there is nothing to check"
    assert "seed 0: replay with the same call and seed=0\n" in str(r)
