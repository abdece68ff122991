"""Calling f and reading the arguments (evaluation.py, and the entry points' validation).

Pins each argument error's exact message, what f may return (text, a vector, a size-one array,
complex values), that an f which modifies its input is refused, that an empty x is a vacuous pass,
that the caller's numpy error and warnings settings never reach the checker's own arithmetic (while
f's own non-floating-point warnings reach the caller), and that a result's n_evals is the number of
calls of f actually made.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from checker_internals import Counted, quartic, quartic_grad

from backprop_ref.gradcheck import check_grad, check_jacobian, numerical_grad, numerical_jacobian

X6 = np.linspace(-1.5, 1.2, 6)


# ---- argument errors and their messages ---------------------------------------------------------

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


# ---- what f may return, and what it may not do --------------------------------------------------

def test_f_returning_text_or_a_vector_is_a_clear_error():
    with pytest.raises(TypeError, match=r"^f must return numbers; it returned str"):
        check_grad(lambda v: "one", X6, X6)
    with pytest.raises(TypeError, match=r"^f must return numbers; it returned list with dtype <U1"):
        check_grad(lambda v: ["a"], X6, X6)
    with pytest.raises(ValueError, match=r"^f must return a scalar for check_grad; it returned shape "
                                         r"\(6,\) \(use check_jacobian for vector-valued f\)$"):
        check_grad(lambda v: v, X6, X6)


def test_a_size_one_array_from_f_counts_as_a_scalar():
    r = check_grad(lambda v: np.sum(v**2, keepdims=True), X6, 2 * X6)
    assert r.passed and r.analytic.shape == X6.shape


def test_a_complex_valued_f_is_read_by_its_real_part_in_real_methods():
    f = lambda v: np.sum(v**2) + 0j  # noqa: E731
    assert check_grad(f, X6, 2 * X6).passed
    assert np.allclose(numerical_grad(f, X6), 2 * X6, rtol=1e-8)


def test_an_f_that_modifies_its_input_is_refused_with_the_reason():
    def f(v):
        v += 0.5                      # corrupts the stencil the checker is building
        return float(np.sum(v))

    with pytest.raises(ValueError) as exc:
        check_grad(f, np.zeros(2), np.ones(2))
    assert str(exc.value) == ("f modified its input array in place; the checker cannot judge such an f "
                              "(give it a copy)")


# ---- an empty x ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["central", "richardson", "complex"])
def test_an_empty_x_is_a_vacuous_pass(method):
    r = check_grad(lambda v: 0.0 * np.sum(v), np.zeros(0), np.zeros(0), method=method)
    assert r.passed and r.n_checked == 0 and r.n_evals == 1 and r.worst_index == ()   # f(x) only
    assert r.max_abs_err == 0.0 and r.max_rel_err == 0.0
    rj = check_jacobian(lambda v: np.zeros(2) + np.sum(v), np.zeros(0), np.zeros((2, 0)), method=method)
    assert rj.passed and rj.n_checked == 0 and rj.numerical.shape == (2, 0)


def test_an_empty_x_still_fails_where_f_is_not_finite_and_says_so():
    r = check_grad(lambda v: np.nan, np.zeros(0), np.zeros(0))
    assert not r.passed
    assert ("  NOT FINITE: f(x) = nan: f is not finite at x itself, nothing can be judged"
            in str(r).splitlines())


def test_a_directional_check_of_an_empty_x_says_there_is_nothing_to_check():
    r = check_grad(lambda v: float(np.sum(v)), np.zeros(0), np.zeros(0), directions=2, seed=0)
    assert r.passed and r.n_checked == 0 and r.n_evals == 1
    assert r.tolerance_reason == "x has no entries: there is nothing to check"
    assert "seed 0: replay with the same call and seed=0\n" in str(r)


# ---- the caller's numpy and warnings settings ---------------------------------------------------

def test_numpy_raise_mode_outside_does_not_reach_the_stencil():
    f = lambda v: np.sum(np.where(v > 1.0, np.inf, v))  # noqa: E731  (inf at every step to the right)
    x = np.array([1.0])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        r = check_grad(f, x, np.ones(1))
    assert not r.passed and r.problems      # inf on the stencil fails with its reason, no exception


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
    # √v at v = 0: the backward stencil point is negative at every step; that entry is NaN, never an
    # exception
    with np.errstate(all="raise"):
        n = numerical(f, np.array([0.0, 1.0])).ravel()
    assert np.isnan(n[0]) and n[-1] == pytest.approx(0.5, rel=1e-8)   # the difference errs by ≈ 1e-11


def test_directional_mode_raises_no_warning_under_warnings_as_errors():
    # the caller's warnings filter must not turn the checker's own arithmetic into an exception
    x = np.linspace(-1.5, 1.2, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_grad(quartic, x, quartic_grad(x), directions=3, seed=0).passed


# ---- the count of f's evaluations ---------------------------------------------------------------

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


@pytest.mark.parametrize("directions", [None, 2])
def test_a_claim_that_is_nan_everywhere_fails_with_its_problem_and_raises_nothing(directions):
    x = np.linspace(-1, 1, 3)
    r = check_grad(quartic, x, np.full(3, np.nan), directions=directions, seed=0)
    assert not r.passed and r.problems[0] == "the claimed grad is nan at index [0]"


@pytest.mark.parametrize("directions", [None, 2])
def test_where_f_x_is_not_finite_the_bound_is_the_users_formula_on_a_nan_estimate(directions):
    x = np.linspace(-1, 1, 3)
    model = check_grad(lambda v: float("nan"), x, np.ones(3), directions=directions, seed=0)
    user = check_grad(lambda v: float("nan"), x, np.ones(3), directions=directions, seed=0, atol=1e-3)
    assert not model.passed and not user.passed
    assert (model.tolerance == 0).all() and np.isnan(user.tolerance).all()
