"""GELU and SiLU (backprop_ref.gated_activations): identities, values from closed forms, the tails,
their stationary points. Shapes, dtypes, bad input, the complex step and wrong derivatives are in
test_activations.py beside the other activations; finite differences and the tape in
test_catalogue.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_ref.activations import sigmoid
from backprop_ref.gated_activations import gelu, gelu_grad, silu, silu_grad

EPS = float(np.finfo(np.float64).eps)
# Below the normal range a product rounds to a multiple of the smallest subnormal: x·Φ(x) at x = 5e-324
# is 2.5e-324, a tie that rounds to 0. Relative bounds become absolute ones of that size there.
SUBNORMAL = float(np.finfo(np.float64).smallest_subnormal)


def reals(lo=-1e4, hi=1e4):
    return hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=5),
                      elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False))


# ---- GELU ---------------------------------------------------------------------------------

@pytest.mark.parametrize("approximate", [False, True])
@given(x=reals())
def test_gelu_minus_its_mirror_is_x(approximate, x):
    # x·Φ(x) + x·Φ(−x) = x, since Φ(x) + Φ(−x) = 1 (the tanh form: σ(v) + σ(−v) = 1); two products
    # rounding by eps/2 of ≤ |x|, Φ's own eps, the subtraction's eps/2.
    d = gelu(x, approximate) - gelu(-x, approximate)
    np.testing.assert_allclose(d, x, rtol=4 * EPS, atol=2 * SUBNORMAL)
    # its derivative: GELU′(x) + GELU′(−x) = 1, the x·φ terms cancelling exactly
    slopes = gelu_grad(x, approximate) + gelu_grad(-x, approximate)
    np.testing.assert_allclose(slopes, 1.0, rtol=0, atol=2 * EPS)


def test_gelu_by_hand():
    # Φ(1) = ½(1 + erf(1/√2)), φ(1) = e^{−½}/√(2π): GELU(1) = Φ(1), GELU′(1) = Φ(1) + φ(1).
    phi1, Phi1 = math.exp(-0.5) / math.sqrt(2 * math.pi), 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    assert gelu(1.0) == pytest.approx(Phi1, rel=1e-15)
    assert gelu_grad(1.0) == pytest.approx(Phi1 + phi1, rel=1e-15)
    assert gelu(-1.0) == pytest.approx(-(1 - Phi1), rel=1e-15)
    # The tanh form: ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³), derived directly:
    # ½(1 + tanh u) + ½x·sech²u·√(2/π)(1 + 3·0.044715x²), at x = 1.
    c = math.sqrt(2 / math.pi)
    u = c * (1 + 0.044715)
    assert gelu(1.0, approximate=True) == pytest.approx(0.5 * (1 + math.tanh(u)), rel=1e-15)
    slope = 0.5 * (1 + math.tanh(u)) + 0.5 * (1 - math.tanh(u) ** 2) * c * (1 + 3 * 0.044715)
    assert gelu_grad(1.0, approximate=True) == pytest.approx(slope, rel=1e-14)
    for approximate in (False, True):
        assert gelu(0.0, approximate) == 0.0 and gelu_grad(0.0, approximate) == 0.5


def test_gelu_is_exact_by_default_and_the_two_forms_differ():
    x = np.array([-2.0, -1.0, 0.5, 1.0, 3.0])
    assert np.array_equal(gelu(x), gelu(x, approximate=False))
    # Different functions (the tanh form fits Φ to ~1e-3): far apart at the scale of any check.
    assert np.all(np.abs(gelu(x) - gelu(x, approximate=True)) > 1e-6)
    assert np.all(np.abs(gelu_grad(x) - gelu_grad(x, approximate=True)) > 1e-6)


def test_gelu_tails_keep_their_digits(strict):
    # x·Φ(x) at −10 is −10·½erfc(10/√2) = −7.6e-23; Φ's condition number there is x² = 100, so the
    # rounded 10/√2 alone moves both sides by ~1e-14 relative.
    assert gelu(-10.0) == pytest.approx(-10 * 0.5 * math.erfc(10 / math.sqrt(2)), rel=1e-13)
    # The tanh form at −5 is x/(1 + e^{−2u}): no 1 + tanh u to cancel.
    u = math.sqrt(2 / math.pi) * (-5 + 0.044715 * -125)
    assert gelu(-5.0, approximate=True) == pytest.approx(-5 / (1 + math.exp(-2 * u)), rel=1e-14)
    for approximate in (False, True):
        assert gelu(1e4, approximate) == 1e4 and gelu(-1e4, approximate) == 0.0
        assert gelu(1.7e308, approximate) == 1.7e308 and gelu(-1.7e308, approximate) == 0.0
        tails = np.array([1e4, -1e4, 1.7e308, -1.7e308])
        assert gelu_grad(tails, approximate).tolist() == [1.0, 0.0, 1.0, 0.0]


@pytest.mark.parametrize("approximate", [False, True])
def test_at_gelus_stationary_point_gelu_is_minus_x_squared_phi(approximate):
    # GELU′ = 0 where Φ(x) = −x·φ(x), so there GELU(x) = x·Φ(x) = −x²φ(x) (exact form only; the
    # tanh form's GELU′ = 0 lies nearby, within 1e-3).
    from scipy.optimize import brentq

    x0 = brentq(lambda v: float(gelu_grad(v, approximate)), -1.5, -0.1, xtol=1e-15)
    if not approximate:
        phi = math.exp(-x0 * x0 / 2) / math.sqrt(2 * math.pi)
        assert gelu(x0) == pytest.approx(-x0 * x0 * phi, rel=1e-12)
    assert x0 == pytest.approx(-0.7518, abs=1e-3)


# ---- SiLU ---------------------------------------------------------------------------------

@given(reals())
def test_silu_minus_its_mirror_is_x(x):
    # x·σ(x) + x·σ(−x) = x, and SiLU′(x) + SiLU′(−x) = 1 (σ′ is even).
    np.testing.assert_allclose(silu(x) - silu(-x), x, rtol=4 * EPS, atol=2 * SUBNORMAL)
    np.testing.assert_allclose(silu_grad(x) + silu_grad(-x), 1.0, rtol=0, atol=2 * EPS)


@given(reals(-30, 30))
def test_silu_grad_is_the_quotient_rule_on_x_over_one_plus_e_to_the_minus_x(x):
    # d/dx x/(1 + e⁻ˣ) = (1 + e⁻ˣ + x·e⁻ˣ)/(1 + e⁻ˣ)²; the numerator cancels near SiLU′'s zero, so
    # the bound is eps absolute there besides 1e-13 relative.
    e = np.exp(-x)
    np.testing.assert_allclose(silu_grad(x), (1 + e + x * e) / (1 + e) ** 2, rtol=1e-13, atol=4 * EPS)


def test_silu_by_hand_and_at_saturation(strict):
    assert silu(0.0) == 0.0 and silu_grad(0.0) == 0.5
    assert silu(1.0) == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-15)
    assert silu(1e4) == 1e4 and silu(-1e4) == 0.0 and silu_grad(1e4) == 1.0 and silu_grad(-1e4) == 0.0
    # SiLU′ exceeds 1 for x > 2.4: at 40 by 39·e^{−40}, which σ(1 + x(1 − σ)) rounds away to exactly 1.
    assert silu_grad(40.0) > 1.0 and sigmoid(40.0) * (1 + 40 * (1 - sigmoid(40.0))) == 1.0


def test_at_silus_minimum_silu_is_x_plus_one():
    # SiLU′ = 0 ⇔ 1 + x·σ(−x) = 0 ⇔ σ(x) = 1 + 1/x, so there SiLU(x) = x + 1.
    from scipy.optimize import brentq

    x0 = brentq(lambda v: float(silu_grad(v)), -2.0, -0.5, xtol=1e-15)
    assert silu(x0) == pytest.approx(x0 + 1, rel=1e-12)
