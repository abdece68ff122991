"""Softmax, log-softmax and the softmax Jacobian (Backward Propagation Algorithm §7.4.2): identities,
extremes, shapes, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_ref.softmax import log_softmax, softmax, softmax_jacobian

EPS = float(np.finfo(np.float64).eps)
H = 1e-20  # complex step


def logits(lo=-1e4, hi=1e4, min_dims=1):
    return hnp.arrays(np.float64, hnp.array_shapes(min_dims=min_dims, max_dims=3, max_side=5),
                      elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False))


# ---- identities ---------------------------------------------------------------------------

@given(logits())
def test_rows_are_probabilities_summing_to_one(z):
    p = softmax(z)
    assert p.shape == z.shape
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=0, atol=z.shape[-1] * EPS)


@given(logits(-50, 50), st.floats(-1e3, 1e3))
def test_shift_invariance(z, c):
    np.testing.assert_allclose(softmax(z + c), softmax(z), rtol=1e-9, atol=1e-300)


@given(logits(-300, 300))
def test_log_softmax_is_the_log_of_softmax(z):
    # Within ±300 no probability underflows, so log(softmax) is still accurate.
    np.testing.assert_allclose(log_softmax(z), np.log(softmax(z)), rtol=1e-12, atol=1e-12)


@given(logits())
def test_jacobian_blocks_are_symmetric_psd_with_zero_row_and_column_sums(z):
    J = softmax_jacobian(z)
    k = z.shape[-1]
    assert J.shape == z.shape + (k,)
    assert np.array_equal(J, np.swapaxes(J, -1, -2))
    np.testing.assert_allclose(J.sum(axis=-1), 0.0, atol=2 * k * EPS)
    np.testing.assert_allclose(J.sum(axis=-2), 0.0, atol=2 * k * EPS)
    assert np.all(np.linalg.eigvalsh(J) >= -4 * k * EPS)


@given(logits(-20, 20))
def test_jacobian_is_diag_p_minus_outer_p(z):
    # An independent formulation: J = diag(p) − p pᵀ per row, with p from exp/sum directly.
    e = np.exp(z)
    p = e / e.sum(axis=-1, keepdims=True)
    expected = p[..., :, None] * np.eye(z.shape[-1]) - np.einsum("...i,...j->...ij", p, p)
    np.testing.assert_allclose(softmax_jacobian(z), expected, rtol=1e-12, atol=1e-15)


# ---- exact values -------------------------------------------------------------------------

def test_exact_values():
    assert np.array_equal(softmax(np.zeros(4)), [0.25] * 4)
    # z = (0, ln 3): e^z = (1, 3), so p = (1/4, 3/4) and log p = (−ln 4, ln 3 − ln 4).
    z = [0.0, math.log(3)]
    np.testing.assert_allclose(softmax(z), [0.25, 0.75], rtol=1e-15)
    np.testing.assert_allclose(log_softmax(z), [-math.log(4), math.log(0.75)], rtol=1e-15)
    # p_i(1 − p_i) = 3/16 on the diagonal, −p_1 p_2 = −3/16 off it.
    np.testing.assert_allclose(softmax_jacobian(z), [[3 / 16, -3 / 16], [-3 / 16, 3 / 16]], rtol=1e-15)
    assert np.array_equal(softmax([7.0]), [1.0]) and np.array_equal(softmax_jacobian([7.0]), [[0.0]])


def test_batch_rows_are_independent():
    z = np.arange(24.0).reshape(2, 3, 4) ** 1.5 / 7
    for f in (softmax, log_softmax, softmax_jacobian):
        batched = f(z)
        for i in range(2):
            for j in range(3):
                np.testing.assert_array_equal(batched[i, j], f(z[i, j]))


# ---- extreme logits -----------------------------------------------------------------------

def test_extreme_logits_are_exact_and_silent(strict):
    assert np.array_equal(softmax([1e4, -1e300]), [1.0, 0.0])
    assert np.array_equal(log_softmax([1e4, -1e300]), [0.0, -1e300 - 1e4])
    # Spread 1e4: the naive log(softmax) would give −inf; the exact log-probabilities are −1e4k.
    assert np.array_equal(log_softmax([1e4, 0.0, -1e4]), [0.0, -1e4, -2e4])
    assert np.array_equal(softmax([1e4, 1e4]), [0.5, 0.5])


def test_log_probability_near_zero_keeps_its_relative_accuracy():
    # log p_1 for z = (15, 0, 0, 0) is −log(1 + 3e^{−15}) ≈ −9e-7: log of the rounded sum would
    # lose ~1e-10 of it; −log1p(3e^{−15}) is the independent closed form.
    expected = -math.log1p(3 * math.exp(-15))
    assert log_softmax([15.0, 0.0, 0.0, 0.0])[0] == pytest.approx(expected, rel=4 * EPS)


def test_logits_whose_difference_overflows(strict):
    # 1.7e308 − (−1.7e308) exceeds the float64 range: p is exactly (1, 0); log p_2 is below −max.
    assert np.array_equal(softmax([1.7e308, -1.7e308]), [1.0, 0.0])
    assert np.array_equal(log_softmax([1.7e308, -1.7e308]), [0.0, -np.inf])
    # ±0.8e308 differ by 1.6e308, still finite: its log-probability is that, exactly.
    assert np.array_equal(log_softmax([0.8e308, -0.8e308]), [0.0, -1.6e308])
    J = softmax_jacobian([[1.7e308, -1.7e308]])
    assert np.array_equal(J, np.zeros((1, 2, 2)))


@pytest.mark.parametrize("f", [softmax, log_softmax], ids=lambda f: f.__name__)
def test_inf_logit_spoils_only_its_row(f, strict):
    out = f(np.array([[np.inf, 0.0], [1.0, 2.0]]))
    assert np.isnan(out[0, 0]) and not np.isfinite(out[0]).any() and np.isfinite(out[1]).all()


def test_complex_logits_stay_complex(strict):
    z = np.array([1e4, 0.0, -1e4]) + 1e-20j
    for f in (softmax, log_softmax, softmax_jacobian):
        out = f(z)
        assert out.dtype == np.complex128
        # The step's second-order effect on the real part is ~(1e-20)² = 1e-40.
        np.testing.assert_allclose(out.real, f(z.real), rtol=1e-15, atol=1e-30)


@pytest.mark.parametrize("j", [0, 1, 2])
def test_complex_step_of_log_softmax_near_log_p_0_is_its_jacobian(j):
    # The top logit dominates, so log p_0 = −log1p(Σ e^{z_k − z_0}) ≈ −5e-14: the complex branch of
    # _log1p carries the whole derivative; it must give δ_ij − p_j to the last digits.
    z = np.array([30.0, 0.0, -1.0])
    step = np.zeros(3, complex)
    step[j] = 1j * H
    derivative = log_softmax(z + step).imag / H
    p = softmax(z)
    expected = np.eye(3)[j] - p[j]
    if j == 0:
        expected[0] = p[1:].sum()   # 1 − p_0 without its cancellation: 1.28e-13 to full precision
    np.testing.assert_allclose(derivative, expected, rtol=1e-14, atol=1e-300)


def test_log_softmax_keeps_its_real_part_under_a_complex_step():
    # NumPy's complex log1p returns 1.27898e-13 for log1p(1.28001e-13 + 1e-33j): the real part of a
    # confident log-probability would lose three digits exactly when the complex step is taken.
    z = np.array([30.0, 0.0, -1.0])
    stepped = log_softmax(z + np.array([0.0, 1j * H, 0.0]))
    np.testing.assert_allclose(stepped.real, log_softmax(z), rtol=1e-15)


# ---- shapes and bad input -----------------------------------------------------------------

@pytest.mark.parametrize("f", [softmax, log_softmax, softmax_jacobian], ids=lambda f: f.__name__)
def test_empty_inputs_give_empty_outputs(f, strict):
    for shape in [(0,), (0, 3), (2, 0)]:
        extra = (shape[-1],) if f is softmax_jacobian else ()
        assert f(np.zeros(shape)).shape == shape + extra


@pytest.mark.parametrize("f", [softmax, log_softmax, softmax_jacobian], ids=lambda f: f.__name__)
def test_bad_input(f):
    with pytest.raises(ValueError, match="class axis"):
        f(1.0)
    for bad in ["a", None, object()]:
        with pytest.raises(TypeError, match="z"):
            f(bad)
    assert np.asarray(f([True, False])).dtype == np.float64
