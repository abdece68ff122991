"""Activations (003 §7.3): identities, exact values, saturation, kinks, dtypes and bad input.

Derivatives are checked against finite differences and the tape in test_catalogue.py; here they
are checked against closed forms and against the seed's own (unstable) expressions where those
are still accurate.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_ref.activations import (
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)

EPS = float(np.finfo(np.float64).eps)
H = 1e-20  # complex step
ALL = [sigmoid, sigmoid_grad, tanh, tanh_grad, relu, relu_grad, leaky_relu, leaky_relu_grad]


def reals(lo=-1e4, hi=1e4):
    return hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=5),
                      elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False))


@pytest.fixture
def strict():
    """Any warning at all (not only backprop_ref's RuntimeWarnings) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---- identities ---------------------------------------------------------------------------

@given(reals())
def test_sigmoid_is_odd_about_one_half(x):
    # 1 − σ(x) carries one rounding of up to eps/2 on a value ≤ 1.
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), rtol=0, atol=EPS)


@given(reals())
def test_tanh_is_a_rescaled_sigmoid(x):
    # 003 §7.3.4: tanh(x) = 2·sigmoid(2x) − 1.
    # 2σ(2x) − 1: σ's rounding doubled, one more in the subtraction, and tanh's own.
    np.testing.assert_allclose(tanh(x), 2 * sigmoid(2 * x) - 1, rtol=0, atol=4 * EPS)


@given(reals(-30, 30))
def test_sigmoid_grad_is_sigma_times_one_minus_sigma(x):
    # 003 §7.3.1's σ(1 − σ) cancels as σ → 1: its absolute error is up to eps·σ.
    s = sigmoid(x)
    np.testing.assert_allclose(sigmoid_grad(x), s * (1 - s), rtol=1e-12, atol=EPS)


@given(reals(-350, 350))
def test_sigmoid_grad_matches_the_seed_derivation(x):
    # The second line of 003 §7.3.1's derivation, e^{−x}/(1 + e^{−x})²: accurate while
    # (1 + e^{−x})² stays finite (|x| < 354).
    e = np.exp(-x)
    np.testing.assert_allclose(sigmoid_grad(x), e / (1 + e) ** 2, rtol=1e-12, atol=1e-300)


@given(reals(-5, 5))
def test_tanh_grad_is_one_minus_tanh_squared(x):
    # 1 − tanh² cancels as |tanh| → 1: absolute error up to ~2 eps.
    np.testing.assert_allclose(tanh_grad(x), 1 - np.tanh(x) ** 2, rtol=1e-12, atol=2 * EPS)


@given(reals())
def test_derivatives_are_even_and_bounded(x):
    assert np.array_equal(sigmoid_grad(x), sigmoid_grad(-x))
    assert np.array_equal(tanh_grad(x), tanh_grad(-x))
    # The maxima 1/4 and 1 at x = 0, up to the formulas' rounding (a few ulps).
    assert np.all((sigmoid_grad(x) >= 0) & (sigmoid_grad(x) <= 0.25 * (1 + 4 * EPS)))
    assert np.all((tanh_grad(x) >= 0) & (tanh_grad(x) <= 1 + 4 * EPS))


@given(reals())
def test_relu_and_leaky_relu_are_their_pieces(x):
    assert np.array_equal(relu(x), np.maximum(x, 0.0))
    assert np.array_equal(leaky_relu(x, 0.2), np.where(x >= 0, x, 0.2 * x))


# ---- exact values -------------------------------------------------------------------------

def test_exact_values():
    ln3, ln2 = math.log(3), math.log(2)
    assert sigmoid(0.0) == 0.5 and sigmoid_grad(0.0) == 0.25
    assert tanh(0.0) == 0.0 and tanh_grad(0.0) == 1.0
    # σ(ln 3) = 1/(1 + 1/3) = 3/4, σ′ = 3/4·1/4; tanh(ln 2) = (2 − ½)/(2 + ½) = 3/5, tanh′ = 16/25.
    assert sigmoid(ln3) == pytest.approx(0.75, rel=1e-15)
    assert sigmoid_grad(ln3) == pytest.approx(3 / 16, rel=1e-15)
    assert tanh(ln2) == pytest.approx(0.6, rel=1e-15)
    assert tanh_grad(ln2) == pytest.approx(0.64, rel=1e-15)
    assert np.array_equal(relu([-2.0, 0.0, 3.5]), [0.0, 0.0, 3.5])
    assert np.array_equal(leaky_relu([-2.0, 0.0, 3.5], 0.1), [-0.2, 0.0, 3.5])
    assert np.array_equal(leaky_relu_grad([-2.0, 3.5], 0.1), [0.1, 1.0])


# ---- saturation: stable, silent, and the true tiny values --------------------------------

def test_sigmoid_saturates_silently(strict):
    assert sigmoid(-1e4) == 0.0 and sigmoid(1e4) == 1.0
    assert sigmoid(-1.7e308) == 0.0 and sigmoid(1.7e308) == 1.0
    assert sigmoid_grad(-1e4) == 0.0 and sigmoid_grad(1e4) == 0.0
    # σ(−40) = e^{−40}/(1 + e^{−40}): the seed's 1/(1 + e^{40}) agrees here, no cancellation.
    assert sigmoid(-40.0) == pytest.approx(1 / (1 + math.exp(40)), rel=1e-14)
    assert sigmoid_grad(40.0) == pytest.approx(math.exp(-40) / (1 + math.exp(-40)) ** 2, rel=1e-14)
    # Down to the subnormal range: σ(−745) = e^{−745} rounds to the smallest subnormal, not 0.
    assert sigmoid(-745.0) > 0.0 and sigmoid_grad(745.0) > 0.0


def test_tanh_grad_keeps_its_true_tiny_value(strict):
    # 1 − tanh²(20) is 0 in float64; sech²(20) = 4e^{−40}/(1 + e^{−40})² ≈ 1.7e-17.
    expected = 4 * math.exp(-40) / (1 + math.exp(-40)) ** 2
    assert tanh_grad(20.0) == pytest.approx(expected, rel=1e-14)
    assert tanh_grad(-20.0) == pytest.approx(expected, rel=1e-14)
    assert tanh_grad(1e4) == 0.0 and tanh(-1e4) == -1.0


def test_complex_input_stays_complex_and_silent(strict):
    z = np.array([-1e4, -3.0, 0.0, 2.0, 1e4]) + 1e-20j
    for f in ALL:
        out = f(z)
        assert out.dtype == np.complex128, f.__name__
        assert np.allclose(out.real, f(z.real), rtol=1e-15, atol=0), f.__name__


def complex_step(f, x, **kwargs):
    return f(np.array([x + 1j * H]), **kwargs).imag[0] / H


@pytest.mark.parametrize("x", [0.0, -0.0])
def test_complex_step_at_zero_matches_the_real_derivative(x):
    # At Re x = 0 the branch (x ≥ 0) decides which analytic piece carries the imaginary part.
    assert complex_step(sigmoid, x) == pytest.approx(sigmoid_grad(0.0), rel=1e-15)
    assert complex_step(tanh, x) == pytest.approx(tanh_grad(0.0), rel=1e-15)
    assert complex_step(leaky_relu, x, slope=0.2) == leaky_relu_grad(0.0, slope=0.2) == 1.0
    # relu: "x where Re x > 0, else 0", so a complex step at 0 sees the flat piece.
    assert complex_step(relu, x) == 0.0


def test_sigmoid_of_a_pure_imaginary_number():
    y = 0.3
    assert sigmoid(np.array(1j * y)) == pytest.approx(1 / (1 + np.exp(-1j * y)), rel=1e-15)


def test_nan_and_inf_propagate_silently(strict):
    x = np.array([np.nan, np.inf, -np.inf])
    assert np.array_equal(sigmoid(x), [np.nan, 1.0, 0.0], equal_nan=True)
    assert np.array_equal(sigmoid_grad(x), [np.nan, 0.0, 0.0], equal_nan=True)
    assert np.array_equal(tanh(x), [np.nan, 1.0, -1.0], equal_nan=True)
    assert np.array_equal(tanh_grad(x), [np.nan, 0.0, 0.0], equal_nan=True)
    assert np.array_equal(relu(x), [np.nan, np.inf, 0.0], equal_nan=True)
    assert np.array_equal(relu_grad(x), [np.nan, 1.0, 0.0], equal_nan=True)
    assert np.array_equal(leaky_relu(x, 0.5), [np.nan, np.inf, -np.inf], equal_nan=True)
    assert np.array_equal(leaky_relu_grad(x, 0.5), [np.nan, 1.0, 0.5], equal_nan=True)


def test_leaky_relu_with_slope_zero_at_inf_gives_inf_without_warning(strict):
    # slope·x is computed at +inf too: its 0·inf = NaN must neither warn nor reach the result
    assert leaky_relu(np.array([np.inf, 2.0]), slope=0.0).tolist() == [np.inf, 2.0]


# ---- kinks --------------------------------------------------------------------------------

ZERO_AND_NEIGHBOURS = np.array([-1e-300, -0.0, 0.0, 1e-300])


def test_relu_grad_kink():
    # 003 §7.3.2: 1 for x ≥ 0 (at −0.0 too); the smallest nonzero inputs are on their sides.
    assert np.array_equal(relu_grad(ZERO_AND_NEIGHBOURS), [0.0, 1.0, 1.0, 1.0])
    for at_zero in (0.0, 0.5):
        assert np.array_equal(relu_grad(ZERO_AND_NEIGHBOURS, at_zero=at_zero), [0.0, at_zero, at_zero, 1.0])
    assert np.array_equal(relu_grad(ZERO_AND_NEIGHBOURS, 0.0), [0.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("slope", [0.01, 0.3])
def test_leaky_relu_grad_kink(slope):
    # 003 §7.3.3: 1 for x ≥ 0; slope positional or by keyword.
    expected = [slope, 1.0, 1.0, 1.0]
    assert np.array_equal(leaky_relu_grad(ZERO_AND_NEIGHBOURS, slope), expected)
    assert np.array_equal(leaky_relu_grad(ZERO_AND_NEIGHBOURS, slope=slope), expected)
    assert leaky_relu(-1.0, slope) == -slope and leaky_relu(-1.0, slope=slope) == -slope


def test_leaky_relu_default_slope_is_one_hundredth():
    assert leaky_relu(-3.0) == pytest.approx(-0.03, rel=1e-15)
    assert leaky_relu_grad(-3.0) == 0.01


# ---- shapes and dtypes --------------------------------------------------------------------

@pytest.mark.parametrize("f", ALL, ids=lambda f: f.__name__)
def test_shapes_follow_the_input(f):
    assert np.ndim(f(0.5)) == 0
    assert np.shape(f(np.zeros((2, 3)))) == (2, 3)
    assert np.shape(f(np.zeros((0, 4)))) == (0, 4)


@pytest.mark.parametrize("f", ALL, ids=lambda f: f.__name__)
def test_bool_and_int_compute_in_float64(f):
    assert np.asarray(f(np.array([True, False]))).dtype == np.float64
    assert np.asarray(f(np.array([-2, 0, 3]))).dtype == np.float64
    assert np.array_equal(f(np.array([-2, 0, 3])), f(np.array([-2.0, 0.0, 3.0])))


# ---- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("f", ALL, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", ["1.0", None, object(), [1.0, "a"]], ids=["str", "None", "object", "mixed"])
def test_non_numeric_input_is_a_type_error(f, bad):
    with pytest.raises(TypeError, match="x"):
        f(bad)


@pytest.mark.parametrize("f", [leaky_relu, leaky_relu_grad], ids=lambda f: f.__name__)
def test_slope_must_be_a_finite_real_number(f):
    for bad, error in [("0.1", TypeError), (None, TypeError), (0.1j, TypeError),
                       (np.nan, ValueError), (np.inf, ValueError), ([0.1, 0.2], ValueError)]:
        with pytest.raises(error, match="slope"):
            f(1.0, bad)


def test_at_zero_must_be_a_finite_real_number():
    with pytest.raises(ValueError, match="at_zero"):
        relu_grad(0.0, at_zero=np.nan)
    with pytest.raises(TypeError, match="at_zero"):
        relu_grad(0.0, at_zero="1")
