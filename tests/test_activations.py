"""Activations (Backward Propagation Algorithm §7.3, and softplus, ELU, SELU beyond it): identities, exact
values, saturation, kinks, dtypes and bad input; for GELU and SiLU too the shapes, dtypes, bad input, the
complex step and wrong derivatives (their identities and values are in test_gated_activations.py).

Derivatives are checked against finite differences and the tape in test_catalogue.py; here they
are checked against closed forms and against the chapter's own (unstable) expressions where those
are still accurate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_ref.activations import (
    SELU_ALPHA,
    SELU_LAMBDA,
    elu,
    elu_grad,
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    selu,
    selu_grad,
    sigmoid,
    sigmoid_grad,
    softplus,
    softplus_grad,
    tanh,
    tanh_grad,
)
from backprop_ref.gated_activations import gelu, gelu_grad, silu, silu_grad

EPS = float(np.finfo(np.float64).eps)
H = 1e-20  # complex step
CHAPTER = [sigmoid, sigmoid_grad, tanh, tanh_grad, relu, relu_grad, leaky_relu, leaky_relu_grad]
BEYOND = [softplus, softplus_grad, elu, elu_grad, selu, selu_grad, gelu, gelu_grad, silu, silu_grad]
ALL = CHAPTER + BEYOND


def reals(lo=-1e4, hi=1e4):
    return hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=5),
                      elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False))


# ---- identities ---------------------------------------------------------------------------

@given(reals())
def test_sigmoid_is_odd_about_one_half(x):
    # 1 − σ(x) carries one rounding of up to eps/2 on a value ≤ 1.
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), rtol=0, atol=EPS)


@given(reals())
def test_tanh_is_a_rescaled_sigmoid(x):
    # Backward Propagation Algorithm §7.3.4: tanh(x) = 2·sigmoid(2x) − 1.
    # 2σ(2x) − 1: σ's rounding doubled, one more in the subtraction, and tanh's own.
    np.testing.assert_allclose(tanh(x), 2 * sigmoid(2 * x) - 1, rtol=0, atol=4 * EPS)


@given(reals(-30, 30))
def test_sigmoid_grad_is_sigma_times_one_minus_sigma(x):
    # Backward Propagation Algorithm §7.3.1's σ(1 − σ) cancels as σ → 1: its absolute error is up to eps·σ.
    s = sigmoid(x)
    np.testing.assert_allclose(sigmoid_grad(x), s * (1 - s), rtol=1e-12, atol=EPS)


@given(reals(-350, 350))
def test_sigmoid_grad_matches_the_seed_derivation(x):
    # The second line of Backward Propagation Algorithm §7.3.1's derivation, e^{−x}/(1 + e^{−x})²: accurate
    # while (1 + e^{−x})² stays finite (|x| < 354).
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
    # σ(−40) = e^{−40}/(1 + e^{−40}): the chapter's 1/(1 + e^{40}) agrees here, no cancellation.
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
        # Re f(x + ih) = f(x) − h²f″(x)/2 + …: 1e-40 absolute, all there is where f(x) = 0 (x·Φ(x) at 0)
        assert np.allclose(out.real, f(z.real), rtol=1e-15, atol=1e-39), f.__name__


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
    # Backward Propagation Algorithm §7.3.2: 1 for x ≥ 0 (at −0.0 too); the smallest nonzero inputs are on
    # their sides.
    assert np.array_equal(relu_grad(ZERO_AND_NEIGHBOURS), [0.0, 1.0, 1.0, 1.0])
    for at_zero in (0.0, 0.5):
        assert np.array_equal(relu_grad(ZERO_AND_NEIGHBOURS, at_zero=at_zero), [0.0, at_zero, at_zero, 1.0])
    assert np.array_equal(relu_grad(ZERO_AND_NEIGHBOURS, 0.0), [0.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("slope", [0.01, 0.3])
def test_leaky_relu_grad_kink(slope):
    # Backward Propagation Algorithm §7.3.3: 1 for x ≥ 0; slope positional or by keyword.
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


# ---- beyond the chapter: softplus -------------------------------------------------------------

@given(reals())
def test_softplus_minus_its_mirror_is_x(x):
    # log(1 + eˣ) − log(1 + e⁻ˣ) = log eˣ = x; each value rounds by eps/2 of ≤ |x| + ln 2.
    bound = 2 * EPS * (np.max(np.abs(x), initial=0) + 1)
    np.testing.assert_allclose(softplus(x) - softplus(-x), x, rtol=0, atol=bound)


@given(reals(-30, 30))
def test_exp_of_minus_softplus_is_the_mirrored_sigmoid(x):
    # e^{−log(1 + eˣ)} = 1/(1 + eˣ) = σ(−x); softplus errs by eps/2 of ≤ 30 + ln 2, which exp turns
    # into that much relative error.
    np.testing.assert_allclose(np.exp(-softplus(x)), sigmoid(-x), rtol=32 * EPS, atol=0)


def test_softplus_grad_is_the_sigmoid():
    x = np.array([-1e4, -745.0, -3.0, 0.0, 0.5, 40.0, 1e4])
    assert np.array_equal(softplus_grad(x), sigmoid(x))


def test_softplus_exact_values_and_saturation(strict):
    # log 2 at 0; log(1 + 3) at ln 3; log(1 + ⅓) at −ln 3.
    assert softplus(0.0) == pytest.approx(math.log(2), rel=1e-16) and softplus_grad(0.0) == 0.5
    assert softplus(math.log(3)) == pytest.approx(math.log(4), rel=1e-15)
    assert softplus(-math.log(3)) == pytest.approx(math.log(4 / 3), rel=1e-15)
    # 40 + e^{−40}: e^{−40} = 4.2e-18 is below half an ulp of 40, so the nearest double is 40; at −40
    # the value is e^{−40} − e^{−80}/2, e^{−40} to 2e-18 relative.
    assert softplus(40.0) == 40.0 and softplus(-40.0) == pytest.approx(math.exp(-40), rel=1e-15)
    # ±1e4, where log(1 + exp(x)) overflows (and 1 + e^{−1e4} is 1): the limits x and 0.
    assert softplus(1e4) == 1e4 and softplus(-1e4) == 0.0
    assert softplus(1.7e308) == 1.7e308 and softplus(-1.7e308) == 0.0
    # e^{−745} rounds to the smallest subnormal, and log1p of it is itself.
    assert softplus(-745.0) == math.exp(-745.0) == 5e-324
    # The complex path keeps the tail too (NumPy's complex log1p would give 0 at −40).
    assert softplus(np.array(-40.0 + 1e-20j)).real == softplus(-40.0)


# ---- beyond the chapter: ELU and SELU ---------------------------------------------------------

@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
@given(x=reals(-700, 0))
def test_elu_grad_is_elu_plus_alpha_below_zero(alpha, x):
    # Clevert et al. 2016: for x ≤ 0, ELU′ = α·eˣ = α(eˣ − 1) + α; the sum rounds by eps/2 of ≤ α.
    np.testing.assert_allclose(elu_grad(x, alpha), elu(x, alpha) + alpha, rtol=0, atol=EPS * alpha)


@given(reals(0, 1e4))
def test_elu_is_the_identity_above_zero(x):
    x = x[x > 0] if np.ndim(x) else x[None][x[None] > 0]
    assert np.array_equal(elu(x, 0.5), x) and np.array_equal(elu_grad(x, 0.5), np.ones_like(x))


def test_elu_exact_values_and_saturation(strict):
    # α(e⁻¹ − 1) at −1; the limit −α at −1e4 with slope α·e^{−1e4} = 0.
    assert elu(-1.0, 2.0) == pytest.approx(2 * (math.exp(-1) - 1), rel=1e-15)
    assert elu_grad(-1.0, 2.0) == pytest.approx(2 * math.exp(-1), rel=1e-15)
    assert elu(-1e4, 2.0) == -2.0 and elu_grad(-1e4, 2.0) == 0.0
    # expm1 keeps a tiny negative x (eˣ − 1 would give 0): −1e-300 + 5e-601 rounds to −1e-300.
    assert elu(-1e-300) == -1e-300 and elu(-1e-20, 0.5) == -0.5e-20
    # x > 0 never reaches the exponential: no overflow at 1e4 or 1e308.
    assert elu(1e308) == 1e308 and elu_grad(np.array([1e4, 1e308]), 3.0).tolist() == [1.0, 1.0]
    # α = 0 is ReLU with slope 0 at and below 0.
    assert elu(-5.0, 0.0) == 0.0 and elu_grad(np.array([-5.0, 0.0, 5.0]), 0.0).tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu_grad_at_the_kink_is_alpha(alpha):
    # The x ≤ 0 piece includes 0 (Clevert et al. 2016): α·e⁰ = α at 0 and −0.0; e^{−1e-300} = 1.
    assert np.array_equal(elu_grad(ZERO_AND_NEIGHBOURS, alpha), [alpha, alpha, alpha, 1.0])
    assert np.array_equal(elu(ZERO_AND_NEIGHBOURS[1:3], alpha), [0.0, 0.0])


def test_selu_constants_are_klambauers_closed_forms():
    # Klambauer et al. 2017: α01 = −√(2/π) / (erfc(1/√2)·√e − 1) and
    # λ01 = (1 − erfc(1/√2)·√e)·√(2π)·s^(−1/2) with
    # s = 2·erfc(√2)·e² + π·erfc(1/√2)²·e − 2(2 + π)·erfc(1/√2)·√e + π + 2.
    # s cancels from terms of about 5 to 1.29: 1e-15 relative leaves room for that.
    e, c1, c2 = math.e, math.erfc(1 / math.sqrt(2)), math.erfc(math.sqrt(2))
    alpha = -math.sqrt(2 / math.pi) / (c1 * math.sqrt(e) - 1)
    s = 2 * c2 * e**2 + math.pi * c1**2 * e - 2 * (2 + math.pi) * c1 * math.sqrt(e) + math.pi + 2
    lam = (1 - c1 * math.sqrt(e)) * math.sqrt(2 * math.pi) * s**-0.5
    assert SELU_ALPHA == pytest.approx(alpha, rel=1e-15) and SELU_LAMBDA == pytest.approx(lam, rel=1e-15)


def test_selu_maps_a_standard_normal_to_mean_zero_and_variance_one():
    # The self-normalising fixed point the constants are chosen for: E selu(Z) = 0, E selu(Z)² = 1.
    # Each half-line integrated apart (the kink at 0); quad's own error estimate is below 1e-13.
    from scipy.integrate import quad

    def moment(k):
        f = lambda x: float(selu(x)) ** k * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        return quad(f, -np.inf, 0, epsabs=1e-14)[0] + quad(f, 0, np.inf, epsabs=1e-14)[0]

    assert moment(1) == pytest.approx(0.0, abs=1e-12) and moment(2) == pytest.approx(1.0, abs=1e-12)


def test_selu_by_hand(strict):
    lam_alpha = SELU_LAMBDA * SELU_ALPHA
    assert selu(1.0) == SELU_LAMBDA and selu_grad(1.0) == SELU_LAMBDA
    assert selu(-1e4) == pytest.approx(-lam_alpha, rel=1e-15) and selu_grad(-1e4) == 0.0
    assert selu(-1.0) == pytest.approx(lam_alpha * (math.exp(-1) - 1), rel=1e-15)
    # The kink: λα from the left piece, at 0 and −0.0; λ above.
    np.testing.assert_allclose(selu_grad(ZERO_AND_NEIGHBOURS), [lam_alpha] * 3 + [SELU_LAMBDA], rtol=1e-15)
    assert selu(1.75e308) == np.inf  # λ·1.75e308 is beyond float64: inf, quietly


@given(reals(-700, 0))
def test_selu_grad_is_selu_plus_lambda_alpha_below_zero(x):
    lam_alpha = SELU_LAMBDA * SELU_ALPHA
    # λ·α·eˣ against λ·α(eˣ − 1) + λα: three roundings of ≤ λα.
    np.testing.assert_allclose(selu_grad(x), selu(x) + lam_alpha, rtol=0, atol=2 * EPS * lam_alpha)


# ---- beyond the chapter: the complex step, wrong derivatives ---------------------------------

SMOOTH_PAIRS = [(softplus, softplus_grad, {}), (gelu, gelu_grad, {}),
                (gelu, gelu_grad, {"approximate": True}), (silu, silu_grad, {}),
                (elu, elu_grad, {"alpha": 0.5}), (selu, selu_grad, {})]


@pytest.mark.parametrize("f, fprime, kw", SMOOTH_PAIRS, ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("x", [-3.0, -0.5, 0.5, 3.0])
def test_complex_step_matches_the_derivative(f, fprime, kw, x):
    # The complex step is exact to rounding (h = 1e-20, no cancellation): 1e-14 relative.
    assert complex_step(f, x, **kw) == pytest.approx(float(fprime(x, **kw)), rel=1e-14)


def test_complex_step_at_zero_takes_the_left_piece_of_elu():
    # Re x = 0 is in the x ≤ 0 piece, as elu_grad's value at the kink is.
    assert complex_step(elu, 0.0, alpha=0.5) == elu_grad(0.0, alpha=0.5) == 0.5
    assert complex_step(selu, 0.0) == pytest.approx(selu_grad(0.0), rel=1e-15)


WRONG = [
    ("gelu: Φ(x) alone, no x·φ(x)", gelu, lambda v: 0.5 * (1 + np.vectorize(math.erf)(v / math.sqrt(2)))),
    ("softplus: σ(−x)", softplus, lambda v: sigmoid(-v)),
    ("silu: σ(x) alone", silu, sigmoid),
    ("elu: α·eˣ on both sides", lambda v: elu(v, 0.5), lambda v: 0.5 * np.exp(v)),
    ("selu: without λ", selu, lambda v: elu_grad(v, SELU_ALPHA)),
]


@pytest.mark.parametrize("label, f, wrong", WRONG, ids=[w[0] for w in WRONG])
def test_the_checker_fails_the_common_wrong_derivatives(label, f, wrong):
    from backprop_ref.gradcheck import check_elementwise

    x = np.array([-3.0, -1.0, -0.25, 0.25, 1.0, 3.0])
    assert not check_elementwise(f, wrong, x).passed, label
