"""The elementary functions of Backward Propagation Algorithm §7.1 and §7.2.1: values and derivatives worked
out by hand, the chapter's examples, overflow without warnings, and bad input. Finite-difference and tape
checks of the same functions are in test_catalogue.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from backprop_ref.elementary import (
    STANDARD_GRAVITY,
    constant,
    constant_grad,
    exponential,
    exponential_grad,
    free_fall,
    free_fall_grad,
    linear,
    linear_grad,
    logarithm,
    logarithm_grad,
    power,
    power_grad,
)

E = math.e


FINITE = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


# ---- Backward Propagation Algorithm §7.1: free fall -----------------------------------------------

def test_free_fall_by_hand():
    # y = ½·g·t², v = g·t: at rest at t = 0, g/2 fallen and v = g after 1 s, 2g and 2g after 2 s.
    g = STANDARD_GRAVITY
    assert np.array_equal(free_fall([0.0, 1.0, 2.0]), [0.0, g / 2, 2 * g])
    assert np.array_equal(free_fall_grad([0.0, 1.0, 2.0]), [0.0, g, 2 * g])
    # g = 2: 9 after 3 s at speed 6; the Moon's 1.62: 0.81 after 1 s at speed 1.62.
    assert free_fall(3.0, g=2.0) == 9.0 and free_fall_grad(3.0, g=2.0) == 6.0
    assert free_fall(1.0, g=1.62) == 0.81 and free_fall_grad(1.0, g=1.62) == 1.62
    assert STANDARD_GRAVITY == 9.80665


@given(st.floats(-100, 100), st.floats(-100, 100), st.floats(0.1, 30))
def test_free_fall_displacement_is_the_integral_of_the_velocity(t1, t2, g):
    # v = g·t is linear, so the trapezoid rule is exact: y(t2) − y(t1) = (t2 − t1)·(v(t1) + v(t2))/2.
    rise = free_fall(t2, g=g) - free_fall(t1, g=g)
    expected = (t2 - t1) * (free_fall_grad(t1, g=g) + free_fall_grad(t2, g=g)) / 2
    assert rise == pytest.approx(expected, rel=1e-12, abs=1e-12 * g * max(t1 * t1, t2 * t2, 1.0))


def test_free_fall_overflows_only_when_the_answer_does(strict):
    assert free_fall(1e200) == np.inf and free_fall(-1e200, g=-1.0) == -np.inf
    # (½·g·t)·t: ½·1e-10·1e310 = 5e299 is finite though t² is not.
    assert free_fall(1e155, g=1e-10) == pytest.approx(5e299, rel=1e-15)
    assert free_fall_grad(1e308, g=10.0) == np.inf
    assert np.isnan(free_fall(np.nan)) and np.isnan(free_fall_grad(np.nan))


def test_free_fall_shapes_and_bad_g():
    assert np.ndim(free_fall(0.5)) == 0 and free_fall_grad(np.zeros((2, 3))).shape == (2, 3)
    for f in (free_fall, free_fall_grad):
        with pytest.raises(ValueError, match="g must be a single number"):
            f(1.0, g=[1.0, 2.0])
        with pytest.raises(ValueError, match="g must be finite"):
            f(1.0, g=np.inf)
        with pytest.raises(TypeError, match="g must be real"):
            f(1.0, g=1j)
        with pytest.raises(TypeError, match="t must be numeric"):
            f("1 s")


# ---- Backward Propagation Algorithm §7.2.1: the common derivatives --------------------------------

def test_constant_and_linear_by_hand():
    # y = 2 has dy/dx = 0; y = 2x + 1 has dy/dx = 2 (the chapter's two examples).
    x = np.array([-3.0, 0.0, 0.5, 1e4])
    assert np.array_equal(constant(x, 2.0), [2.0] * 4) and np.array_equal(constant_grad(x, 2.0), [0.0] * 4)
    assert np.array_equal(linear(x, 2.0, 1.0), [-5.0, 1.0, 2.0, 20001.0])
    assert np.array_equal(linear_grad(x, 2.0, 1.0), [2.0] * 4)
    # a = 0 is the constant c again.
    assert np.array_equal(linear(x, 0.0, 3.0), constant(x, 3.0))
    assert np.array_equal(linear_grad(x, 0.0, 3.0), constant_grad(x, 3.0))


def test_constants_broadcast_against_x():
    x, a = np.array([1.0, 2.0, 3.0]), np.array([[1.0], [-1.0]])
    assert np.array_equal(linear(x, a, 0.0), [[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]])
    assert np.array_equal(linear_grad(x, a, 0.0), [[1.0] * 3, [-1.0] * 3])
    assert constant_grad(0.5, np.zeros((2, 2))).shape == (2, 2) and np.ndim(power_grad(2.0, 3.0)) == 0
    assert np.array_equal(power(2.0, [0.0, 1.0, 2.0, 3.0]), [1.0, 2.0, 4.0, 8.0])
    with pytest.raises(ValueError, match=r"x has shape \(3,\) but a has shape \(2,\); they must broadcast"):
        linear(x, [1.0, 2.0], 0.0)


def test_power_by_hand():
    # y = x² has dy/dx = 2x (the chapter's example), for negative x too.
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    assert np.array_equal(power(x, 2.0), x * x) and np.array_equal(power_grad(x, 2.0), 2 * x)
    # √x: 4^½ = 2, ½·4^(−½) = ¼; x⁻²: 2⁻² = ¼, −2·2⁻³ = −¼;
    # (−2)³ = −8, 3·(−2)² = 12; (−½)⁻¹ = −2, −(−½)⁻² = −4.
    assert power(4.0, 0.5) == 2.0 and power_grad(4.0, 0.5) == 0.25
    assert power(2.0, -2.0) == 0.25 and power_grad(2.0, -2.0) == -0.25
    assert power(-2.0, 3.0) == -8.0 and power_grad(-2.0, 3.0) == 12.0
    assert power(-0.5, -1.0) == -2.0 and power_grad(-0.5, -1.0) == -4.0


def test_power_at_x_1_and_x_0():
    # x = 1: 1^a = 1 and dy/dx = a·1^(a−1) = a, for every a.
    a = np.array([-2.5, -1.0, 0.0, 0.5, 3.0])
    assert np.array_equal(power(1.0, a), np.ones(5)) and np.array_equal(power_grad(1.0, a), a)
    # x = 0 with integer a ≥ 0: x⁰ = 1 (derivative 0, not 0·0⁻¹ = NaN), x¹ = x (derivative 1), x², x³ flat.
    a = np.array([0.0, 1.0, 2.0, 3.0])
    assert np.array_equal(power(0.0, a), [1.0, 0.0, 0.0, 0.0])
    assert np.array_equal(power_grad(0.0, a), [0.0, 1.0, 0.0, 0.0])
    assert np.array_equal(power_grad([-2.0, 0.0, 5.0], 0.0), [0.0, 0.0, 0.0])


def test_power_outside_its_domain_names_x_and_a():
    not_an_integer = "x must be positive where a is not an integer"
    for f in (power, power_grad):
        # not real for x < 0 and non-integer a; only one-sided at x = 0; a pole at 0 for a < 0
        with pytest.raises(ValueError, match=not_an_integer + r".*; x = -2.0, a = 0.5"):
            f(-2.0, 0.5)
        with pytest.raises(ValueError, match=not_an_integer + r".*; x = 0.0, a = 0.5"):
            f(0.0, 0.5)
        with pytest.raises(ValueError, match=r"x must be nonzero where a < 0.*; x\[1\] = 0.0, a\[1\] = -1.0"):
            f([1.0, 0.0], -1.0)
        with pytest.raises(ValueError, match="a must be finite"):
            f(1.0, np.inf)
        with pytest.raises(TypeError, match="a must be real"):
            f(1.0, 2j)


def test_power_overflow_is_silent(strict):
    assert power(1e200, 2.0) == np.inf and power_grad(1e200, 3.0) == np.inf
    # a < 1 near 0: the true slope is beyond float64 (−2·(1e-300)⁻³) or just inside it (½·(1e-300)^(−½)).
    assert power_grad(1e-300, -2.0) == -np.inf
    assert power_grad(1e-300, 0.5) == pytest.approx(0.5e150, rel=1e-15)
    assert np.isnan(power(np.nan, 0.5)) and np.isnan(power_grad(np.nan, 2.0))


def test_exponential_by_hand():
    # y = eˣ has dy/dx = eˣ·ln e = eˣ (the chapter's example).
    x = np.array([-2.0, 0.0, 1.0, 10.0])
    np.testing.assert_allclose(exponential(x, E), np.exp(x), rtol=4e-16 * 10)
    np.testing.assert_array_equal(exponential_grad(x, E), exponential(x, E))  # ln e is 1.0 exactly
    # 2ˣ: ½, 1, 8 with slopes ·ln 2; ½ˣ falls: 8, 1, ⅛ with slopes ·(−ln 2).
    assert np.array_equal(exponential([-1.0, 0.0, 3.0], 2.0), [0.5, 1.0, 8.0])
    assert np.array_equal(exponential_grad([-1.0, 0.0, 3.0], 2.0), np.array([0.5, 1.0, 8.0]) * math.log(2))
    assert np.array_equal(exponential([-3.0, 0.0, 3.0], 0.5), [8.0, 1.0, 0.125])
    assert np.all(exponential_grad([-3.0, 0.0, 3.0], 0.5) < 0)
    # a = 1: 1ˣ = 1 and ln 1 = 0, so the slope is 0; x = 0: a⁰ = 1, so the slope is ln a.
    assert np.array_equal(exponential([-5.0, 3.0], 1.0), [1.0, 1.0])
    assert np.array_equal(exponential_grad([-5.0, 3.0], 1.0), [0.0, 0.0])
    assert np.array_equal(exponential_grad(0.0, [0.5, 2.0, 10.0]), np.log([0.5, 2.0, 10.0]))


def test_exponential_needs_a_positive_base():
    for f in (exponential, exponential_grad):
        for a in (0.0, -2.0, [2.0, -1.0]):
            with pytest.raises(ValueError, match="a must be positive"):
                f(1.0, a)
        with pytest.raises(ValueError, match="a must be finite"):
            f(1.0, np.nan)


def test_exponential_overflow_is_silent(strict):
    assert exponential(1000.0, 10.0) == np.inf and exponential(-1000.0, 10.0) == 0.0
    assert exponential_grad(1000.0, 10.0) == np.inf and exponential_grad(-1000.0, 0.1) == -np.inf
    assert exponential_grad(1000.0, 0.1) == 0.0


def test_exponential_complex_step_is_accurate_where_numpy_complex_power_is_not():
    # a^(x + ih) = a^x·e^{ih·ln a}: its imaginary part over h is a^x·ln a to the last bits, also at
    # 64^92 ≈ 1.5e166, where exp((x + ih)·ln a) errs by |x·ln a|·eps ≈ 8e-14 relative.
    x, a, h = -92.0, 1 / 64, 1e-20
    z = exponential(x + 1j * h, a)
    assert z.real == exponential(x, a)
    assert z.imag / h == pytest.approx(exponential_grad(x, a), rel=4e-16)


def test_logarithm_by_hand():
    # y = ln x has dy/dx = 1/(x·ln e) = 1/x (the chapter's example); ln e is 1.0 exactly.
    x = np.array([1e-3, 1.0, E, 100.0])
    assert np.array_equal(logarithm(x, E), np.log(x)) and np.array_equal(logarithm_grad(x, E), 1 / x)
    # log₁₀ 1000 = 3, log₂ 8 = 3, log_½ 2 = −1; at x = 1 the log is 0 and the slope 1/ln a.
    np.testing.assert_allclose(logarithm([1000.0, 8.0, 2.0], [10.0, 2.0, 0.5]), [3.0, 3.0, -1.0], rtol=1e-15)
    a = np.array([0.5, 2.0, 10.0, 1.001])
    assert np.array_equal(logarithm(1.0, a), np.zeros(4))
    np.testing.assert_allclose(logarithm_grad(1.0, a), 1 / np.log(a), rtol=1e-15)
    # log₁₀'s slope at 100 is 1/(100·ln 10).
    assert logarithm_grad(100.0, 10.0) == pytest.approx(1 / (100 * math.log(10)), rel=1e-15)


def test_logarithm_rejects_base_1_and_bad_x_naming_them():
    for f in (logarithm, logarithm_grad):
        with pytest.raises(ValueError,
                           match=r"a must not be 1: the logarithm to base 1 is undefined.*; a = 1\.0$"):
            f(2.0, 1.0)
        with pytest.raises(ValueError, match=r"a must not be 1.*; a\[2\] = 1.0"):
            f(2.0, [2.0, 10.0, 1.0])
        for a in (0.0, -10.0):
            with pytest.raises(ValueError, match="a must be positive"):
                f(2.0, a)
        for x in (0.0, -1.0):
            with pytest.raises(ValueError, match=f"x must be positive.*; x = {x}"):
                f(x, 10.0)


def test_logarithm_slope_overflows_silently(strict):
    # 1/(x·ln a) beyond float64 for subnormal x: inf, never a division by a product rounded to 0.
    assert logarithm_grad(5e-324, 2.0) == np.inf and logarithm_grad(5e-324, 0.5) == -np.inf
    assert logarithm_grad(1e-300, 10.0) == pytest.approx(1e300 / math.log(10), rel=1e-15)
    assert logarithm(5e-324, E) == pytest.approx(-744.44, abs=0.01)
    assert np.isnan(logarithm(np.nan, 2.0))


@given(FINITE, st.floats(0.01, 100).filter(lambda a: abs(a - 1) > 1e-3))
def test_exponential_and_logarithm_are_inverse_and_so_are_their_slopes(x, a):
    # y = a^x ⇔ x = log_a y, so (log_a)′(a^x) · (a^x)′ = 1 wherever a^x is a normal float.
    y = exponential(x, a)
    assume(1e-300 < y < 1e300)
    assert logarithm(y, a) == pytest.approx(x, rel=1e-12, abs=1e-12)
    assert logarithm_grad(y, a) * exponential_grad(x, a) == pytest.approx(1.0, rel=1e-13)
