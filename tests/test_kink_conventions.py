"""The value at each kink is a convention; ours and TensorFlow's are pinned so a change shows.

003 §7.3.2's equation gives ReLU′(0) = 1 (x ≥ 0); §7.9's code uses 0 (r ≤ 0); TensorFlow gives 0.
003 §7.3.3 gives LeakyReLU′(0) = 1; tf.nn.leaky_relu gives its slope (rounded to float32).
Central differences give the mean of the one-sided slopes, which is neither: the checker reports
a kink instead.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_ref import leaky_relu, leaky_relu_grad, relu, relu_grad, tf_twins
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
    # The catalogue's twin is the piecewise definition, so TensorFlow derives 003 §7.3.3's 1 at 0
    # and the float64 slope elsewhere.
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
