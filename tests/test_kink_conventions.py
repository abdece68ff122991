"""The value at each kink is a convention; ours and TensorFlow's are pinned so a change shows.

Backward Propagation Algorithm §7.3.2's equation gives ReLU′(0) = 1 (x ≥ 0); §7.9's code uses 0 (r ≤ 0);
TensorFlow gives 0. Backward Propagation Algorithm §7.3.3 gives LeakyReLU′(0) = 1; tf.nn.leaky_relu gives
its slope (rounded to float32). Central differences give the mean of the one-sided slopes, which is neither:
the checker reports a kink instead.

Beyond the chapter: ELU′(0) is α here (the x ≤ 0 piece of Clevert et al. 2016) and 1 in
tf.nn.elu (which has α = 1 only, so they agree); SELU′(0) is λα here and λ in tf.nn.selu, which also
gives λ just below 0, where its output rounds to 0. GELU has two forms: the exact one is the default
here and in tf.nn.gelu, whose float64 evaluation rounds its constants through float32.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop_ref import (
    elu,
    elu_grad,
    gelu,
    gelu_grad,
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    selu,
    selu_grad,
    tf_twins,
)
from backprop_ref.activations import SELU_ALPHA, SELU_LAMBDA
from backprop_ref.catalogue import BY_NAME
from backprop_ref.domains import Case
from backprop_ref.gradcheck import check_grad

ZEROS = np.array([0.0, -0.0])


def test_relu_grad_at_zero_follows_the_seed_equation():
    assert np.array_equal(relu_grad(ZEROS), [1.0, 1.0])


@pytest.mark.parametrize("at_zero", [0.0, 0.5, 1.0])
def test_relu_grad_at_zero_is_selectable(at_zero):
    assert np.array_equal(relu_grad(ZEROS, at_zero=at_zero), [at_zero, at_zero])
    assert np.array_equal(relu_grad([-2.0, 3.0], at_zero=at_zero), [0.0, 1.0])


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_leaky_relu_grad_at_zero_is_one(slope):
    assert np.array_equal(leaky_relu_grad(ZEROS, slope), [1.0, 1.0])


def test_tensorflow_relu_grad_at_zero_is_zero(tf):
    (g,) = tf_twins.tape_derivatives(BY_NAME["relu"], Case((ZEROS,)))
    assert np.array_equal(g, [0.0, 0.0])


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_tensorflow_leaky_relu_grad_at_zero_is_its_float32_slope(tf, slope):
    # TensorFlow's own op: alpha at 0, and alpha is a float32 attribute even for float64 tensors.
    x = tf.constant(ZEROS, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.nn.leaky_relu(x, alpha=slope))
    g = tape.gradient(y, x).numpy()
    assert np.array_equal(g, [np.float32(slope)] * 2)
    assert float(np.float32(slope)) != slope  # the rounding that keeps tf.nn.leaky_relu out of the twin


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_leaky_relu_twin_follows_the_seed_at_zero_and_its_slope_exactly(tf, slope):
    # The catalogue's twin is the piecewise definition, so TensorFlow derives Backward Propagation Algorithm
    # §7.3.3's 1 at 0 and the float64 slope elsewhere.
    x = np.array([0.0, -0.0, -2.0, 3.0])
    (g,) = tf_twins.tape_derivatives(BY_NAME["leaky_relu"], Case((x,), {"slope": slope}))
    assert np.array_equal(g, [1.0, 1.0, slope, 1.0])


@pytest.mark.parametrize(
    "claimed, passes", [(1.0, True), (0.0, True), (0.5, True), (2.0, False), (-0.1, False)]
)
def test_checker_judges_relu_at_zero_by_the_one_sided_slopes(claimed, passes):
    result = check_grad(lambda v: float(np.sum(relu(v))), np.array([0.0]), np.array([claimed]))
    assert result.passed is passes
    assert len(result.kinks) == 1


def test_checker_judges_leaky_relu_at_zero_between_slope_and_one():
    f = lambda v: float(np.sum(leaky_relu(v, 0.2)))  # noqa: E731
    assert check_grad(f, np.array([0.0]), np.array([0.6])).passed
    assert not check_grad(f, np.array([0.0]), np.array([0.1])).passed



# ---- ELU and SELU at 0 ---------------------------------------------------------------------

def tape_grad(tf, op, x):
    """TensorFlow's own op's derivative at x, elementwise, in float64."""
    t = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = tf.reduce_sum(op(t))
    return tape.gradient(y, t).numpy()


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu_grad_at_zero_is_alpha(alpha):
    # Clevert et al. 2016's piece α·eˣ for x ≤ 0 includes 0.
    assert np.array_equal(elu_grad(ZEROS, alpha), [alpha, alpha])


def test_tensorflow_elu_grad_at_zero_is_one(tf):
    # tf.nn.elu is α = 1, where ELU is C¹ and every convention gives 1; at ±1e-300 too.
    assert np.array_equal(tape_grad(tf, tf.nn.elu, [0.0, -0.0, 1e-300, -1e-300]), [1.0] * 4)


def test_keras_elu_with_alpha_gives_alpha_at_zero(tf):
    # Keras writes ELU with α ≠ 1 as where(x > 0, elu(x), α·elu(x)): at 0 the second branch, α·1 = α,
    # our value.
    import keras

    g = tape_grad(tf, lambda t: keras.activations.elu(t, alpha=0.5), [0.0, -0.0, 2.0])
    assert np.array_equal(g, [0.5, 0.5, 1.0]) and np.array_equal(elu_grad([0.0, -0.0, 2.0], 0.5), g)


def test_selu_grad_at_zero_is_lambda_alpha():
    np.testing.assert_allclose(selu_grad(ZEROS), [SELU_LAMBDA * SELU_ALPHA] * 2, rtol=1e-15)


def test_tensorflow_selu_grad_is_lambda_at_zero_and_where_its_output_rounds_to_zero(tf):
    # SeluGrad picks the piece by the sign of the output λα(eˣ − 1): 0 at x = 0, and 0 for
    # −2⁻⁵⁴ ≤ x < 0 too, where eˣ = 1 − |x| rounds to 1 (half an ulp below 1 is 2⁻⁵⁴). From −2⁻⁵³
    # on, eˣ − 1 is nonzero and TensorFlow gives λα·eˣ, as we do everywhere below 0.
    x = np.array([0.0, -0.0, -1e-300, -(2.0**-54), -(2.0**-53), -1.0])
    g = tape_grad(tf, tf.nn.selu, x)
    assert np.array_equal(g[:4], [SELU_LAMBDA] * 4)
    np.testing.assert_allclose(g[4:], selu_grad(x[4:]), rtol=1e-15)
    np.testing.assert_allclose(selu_grad(x[:4]), [SELU_LAMBDA * SELU_ALPHA] * 4, rtol=1e-15)


def test_the_catalogue_twins_of_elu_and_selu_follow_ours_at_zero(tf):
    # The twins are the formulas in float64 ops, so the tape gives our left piece at 0 and below it.
    x = np.array([0.0, -0.0, -1e-300, 2.0])
    (g,) = tf_twins.tape_derivatives(BY_NAME["elu"], Case((x,), {"alpha": 0.5}))
    assert np.array_equal(g, [0.5, 0.5, 0.5, 1.0])
    (g,) = tf_twins.tape_derivatives(BY_NAME["selu"], Case((x,)))
    np.testing.assert_allclose(g, [SELU_LAMBDA * SELU_ALPHA] * 3 + [SELU_LAMBDA], rtol=1e-15)


@pytest.mark.parametrize(
    "claimed, passes", [(0.5, True), (0.75, True), (1.0, True), (0.4, False), (1.1, False)]
)
def test_checker_judges_elu_at_zero_between_alpha_and_one(claimed, passes):
    result = check_grad(lambda v: float(np.sum(elu(v, 0.5))), np.array([0.0]), np.array([claimed]))
    assert result.passed is passes and len(result.kinks) == 1


@pytest.mark.parametrize("claimed, passes", [(SELU_LAMBDA, True), (SELU_LAMBDA * SELU_ALPHA, True),
                                             (1.0, False), (2.0, False)])
def test_checker_judges_selu_at_zero_between_lambda_and_lambda_alpha(claimed, passes):
    # TensorFlow's λ and our λα both pass: each is a one-sided derivative.
    result = check_grad(lambda v: float(np.sum(selu(v))), np.array([0.0]), np.array([claimed]))
    assert result.passed is passes and len(result.kinks) == 1


# ---- GELU's two forms ------------------------------------------------------------------------

# tf.nn.gelu casts its Python constants with math_ops.cast, which makes a float32 tensor first:
# 1/√2 becomes 0.70710677 (1.7e-8 relative) and 0.044715 becomes 0.044714998 (3.5e-8 relative).
INV_SQRT2_F32 = float(np.float32(1 / math.sqrt(2)))
CUBIC_F32 = float(np.float32(0.044715))


def test_tensorflow_gelu_default_is_the_exact_form_with_a_float32_one_over_root_two(tf):
    # tf.nn.gelu(x) = ½x·erfc(−x·0.70710677): predicted to the last bits (erfc to an ulp or two on
    # either side), far from its tanh form.
    x = np.array([-10.0, -5.0, -1.0, -0.5, 0.5, 1.0, 3.0])
    theirs = tf.nn.gelu(tf.constant(x, dtype=tf.float64)).numpy()
    predicted = np.array([0.5 * v * math.erfc(-v * INV_SQRT2_F32) for v in x])
    np.testing.assert_allclose(theirs, predicted, rtol=8 * np.finfo(float).eps, atol=0)
    approx = tf.nn.gelu(tf.constant(x, dtype=tf.float64), approximate=True).numpy()
    assert np.all(np.abs(theirs - approx)[1:] > 1e-7)   # (at −10 both are 0 to 1e-22)
    # Against x·Φ(x): erfc(z(1 − δ)) = erfc(z)·(1 + (2z² + 1)δ + …) for large z = |x|/√2, so the
    # relative error is ≈ (x² + 1)·δ in the negative tail, 1.7e-6 at x = −10.
    delta = 1 - INV_SQRT2_F32 * math.sqrt(2)
    rel = (theirs[0] - gelu(-10.0)) / gelu(-10.0)
    assert rel == pytest.approx(101 * delta, rel=0.02)


def test_tensorflow_gelu_tanh_form_uses_a_float32_cubic_coefficient(tf):
    # ½x(1 + tanh(0.7978845608028654·(x + 0.044714998·x³))), predicted where 1 + tanh u does not
    # cancel (x ≥ −1: 1 + tanh u ≥ 0.3, so an ulp of tanh moves it by at most 4 eps relative).
    x = np.array([-1.0, -0.5, 0.5, 1.0, 2.0, 3.0])
    theirs = tf.nn.gelu(tf.constant(x, dtype=tf.float64), approximate=True).numpy()
    u = [0.7978845608028654 * (v + CUBIC_F32 * v**3) for v in x]
    predicted = np.array([0.5 * v * (1 + math.tanh(w)) for v, w in zip(x, u)])
    np.testing.assert_allclose(theirs, predicted, rtol=16 * np.finfo(float).eps, atol=0)


@pytest.mark.parametrize("name, approximate", [("gelu", False), ("gelu_tanh", True)])
def test_the_catalogue_twins_of_gelu_are_float64_throughout(tf, name, approximate):
    # The twins, not tf.nn.gelu, are what the tape checks us against: at −10 the exact twin agrees with
    # x·Φ(x) to rounding where tf.nn.gelu is 1.7e-6 off; the tanh twin is x·σ(2u), 1e-13 of ours at −5
    # where ½x(1 + tanh u) has lost 9 digits.
    x = np.array([-10.0, -5.0, -1.0, 0.0, 1.0, 3.0])
    kwargs = {"approximate": True} if approximate else {}
    case = Case((x,), kwargs)
    twin = tf_twins.forward(BY_NAME[name], case)
    np.testing.assert_allclose(twin, gelu(x, approximate), rtol=1e-13, atol=0)
    (g,) = tf_twins.tape_derivatives(BY_NAME[name], case)
    np.testing.assert_allclose(g, gelu_grad(x, approximate), rtol=1e-12, atol=1e-300)
