"""Losses (Backward Propagation Algorithm §7.4, Further into Backpropagation, and binary cross-entropy with
logits and Huber beyond them): exact values, the general CE∘softmax form, the batch 1/N, extremes, bad
input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_ref.activations import sigmoid
from backprop_ref.losses import (
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    cross_entropy,
    cross_entropy_grad,
    huber,
    huber_grad,
    mse,
    mse_grad,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
)

LN2 = math.log(2)
EPS = float(np.finfo(np.float64).eps)
PAIRS = [(mse, mse_grad), (softmax_cross_entropy, softmax_cross_entropy_grad),
         (cross_entropy, cross_entropy_grad)]
ALL = [f for pair in PAIRS for f in pair]


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def batches(draw, lo=-50.0, hi=50.0):
    """(prediction in [lo, hi], non-negative target) of one (N, K) shape."""
    shape = draw(st.tuples(st.integers(1, 6), st.integers(1, 5)))
    pred = draw(hnp.arrays(np.float64, shape, elements=floats(lo, hi)))
    return pred, draw(hnp.arrays(np.float64, shape, elements=floats(0, 3)))


# ---- exact values -------------------------------------------------------------------------

def test_mse_exact():
    # ½(0² + 2² + 3²) = 6.5; ∂L/∂o = o − t.
    assert mse([1.0, 2.0, 3.0], [1.0, 0.0, 0.0]) == 6.5
    assert np.array_equal(mse_grad([1.0, 2.0, 3.0], [1.0, 0.0, 0.0]), [0.0, 2.0, 3.0])
    # A batch of two rows: ½(1 + 4 + 9 + 16)/2 = 7.5; the gradient carries 1/2.
    o = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert mse(o, np.zeros((2, 2))) == 7.5
    assert np.array_equal(mse_grad(o, np.zeros((2, 2))), o / 2)


def test_softmax_cross_entropy_exact():
    ln3 = math.log(3)
    # Equal logits, one-hot target: −log ½.
    assert softmax_cross_entropy([0.0, 0.0], [1.0, 0.0]) == pytest.approx(LN2, rel=1e-15)
    # z = (0, ln 3): p = (1/4, 3/4); unnormalised y = (2, 1): −(2 log ¼ + log ¾) = 4 ln 2 + (2 ln 2 − ln 3).
    z, y = [0.0, ln3], [2.0, 1.0]
    assert softmax_cross_entropy(z, y) == pytest.approx(6 * LN2 - ln3, rel=1e-15)
    # General form p·Σy − y = (3/4 − 2, 9/4 − 1); the one-hot simplification p − y would be wrong.
    np.testing.assert_allclose(softmax_cross_entropy_grad(z, y), [-1.25, 1.25], rtol=1e-15)


def test_softmax_cross_entropy_near_a_perfect_fit_keeps_its_relative_accuracy():
    # z = (0, −8), y = (1, 0): L = log(1 + e^{−8}) and ∂L/∂z_1 = p_1 − 1 = −e^{−8}/(1 + e^{−8}),
    # a small value that p_1 − 1 computed from p_1 ≈ 1 would get only to ~1e-13 relative.
    e = math.exp(-8)
    assert softmax_cross_entropy([0.0, -8.0], [1.0, 0.0]) == pytest.approx(math.log1p(e), rel=4 * EPS)
    np.testing.assert_allclose(softmax_cross_entropy_grad([0.0, -8.0], [1.0, 0.0]),
                               [-e / (1 + e), e / (1 + e)], rtol=4 * EPS)
    # Unnormalised y = (2, 1): the general form 3p − y, ∂L/∂z_1 = 3/(1 + e) − 2 = 1 − 3e/(1 + e).
    np.testing.assert_allclose(softmax_cross_entropy_grad([0.0, -8.0], [2.0, 1.0]),
                               [1 - 3 * e / (1 + e), 3 * e / (1 + e) - 1], rtol=4 * EPS)


def test_cross_entropy_exact():
    # Further into Backpropagation's cost on sigmoid outputs, which need not sum to 1:
    # −(1·log ½ + 2·log ¼) = 5 ln 2.
    assert cross_entropy([0.5, 0.25], [1.0, 2.0]) == pytest.approx(5 * LN2, rel=1e-15)
    assert np.array_equal(cross_entropy_grad([0.5, 0.25], [1.0, 2.0]), [-2.0, -8.0])
    # q = 1 is inside (0, 1]; a zero label contributes nothing.
    assert cross_entropy([1.0, 0.5], [1.0, 0.0]) == 0.0


# ---- the general CE∘softmax gradient --------------------------------------------------------

@given(batches())
def test_softmax_cross_entropy_grad_general_form(zy):
    # softmax(z)·Σ_k y_k − y over N, with softmax computed independently (|z| ≤ 50: no overflow).
    z, y = zy
    e = np.exp(z)
    p = e / e.sum(axis=-1, keepdims=True)
    expected = (p * y.sum(axis=-1, keepdims=True) - y) / len(z)
    np.testing.assert_allclose(softmax_cross_entropy_grad(z, y), expected, rtol=1e-12, atol=1e-15)


@given(batches(-1e4, 1e4), st.data())
def test_softmax_cross_entropy_grad_rows_sum_to_zero_for_one_hot(zy, data):
    z, _ = zy
    y = np.eye(z.shape[1])[data.draw(st.lists(st.integers(0, z.shape[1] - 1),
                                              min_size=len(z), max_size=len(z)))]
    g = softmax_cross_entropy_grad(z, y)
    np.testing.assert_allclose(g.sum(axis=-1), 0.0, atol=4 * z.shape[1] * np.finfo(float).eps)
    # With targets summing to 1 the general form is Backward Propagation Algorithm §7.4.2's p − y.
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(g, (e / e.sum(axis=-1, keepdims=True) - y) / len(z), rtol=1e-12, atol=1e-16)


# ---- the batch reduction: mean over rows, 1/N in every gradient ------------------------------

@pytest.mark.parametrize("loss, grad", PAIRS, ids=[p[0].__name__ for p in PAIRS])
@given(zy=batches(0.01, 1.0))
def test_batch_is_the_mean_of_its_rows(loss, grad, zy):
    # Predictions in (0, 1] are valid for all three losses.
    o, t = zy
    n = len(o)
    rows = [loss(o[i], t[i]) for i in range(n)]
    assert loss(o, t) == pytest.approx(sum(rows) / n, rel=1e-12, abs=1e-300)
    expected = np.stack([grad(o[i], t[i]) for i in range(n)]) / n
    np.testing.assert_allclose(grad(o, t), expected, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("loss, grad", PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_losses_are_zero_dimensional_and_gradients_keep_the_shape(loss, grad):
    o = np.full((3, 4), 0.5)
    t = np.eye(3, 4)
    assert np.ndim(loss(o, t)) == 0 and np.ndim(loss(o[0], t[0])) == 0
    assert grad(o, t).shape == (3, 4) and grad(o[0], t[0]).shape == (4,)
    complex_loss = loss(o + 1e-20j, t)
    assert np.iscomplexobj(complex_loss) and np.ndim(complex_loss) == 0
    assert grad(o + 1e-20j, t).dtype == np.complex128


# ---- extremes -----------------------------------------------------------------------------

def test_mse_overflows_to_inf_silently(strict):
    assert mse([1e200], [0.0]) == np.inf
    assert mse([[1e200, 0.0], [0.0, 0.0]], np.zeros((2, 2))) == np.inf
    assert mse_grad([1e200], [0.0])[0] == 1e200
    assert mse_grad([1.7e308], [-1.7e308])[0] == np.inf


def test_softmax_cross_entropy_extreme_logits(strict):
    # Logit spread 1e4: log p = (0, −1e4) exactly, so the loss of the far class is 1e4.
    assert softmax_cross_entropy([1e4, 0.0], [0.0, 1.0]) == 1e4
    assert np.array_equal(softmax_cross_entropy_grad([1e4, 0.0], [0.0, 1.0]), [1.0, -1.0])
    # log p_2 = −inf here: a zero target must contribute 0, not 0·(−inf) = NaN.
    assert softmax_cross_entropy([1.7e308, -1.7e308], [1.0, 0.0]) == 0.0
    assert softmax_cross_entropy([1.7e308, -1.7e308], [0.0, 1.0]) == np.inf
    assert softmax_cross_entropy([1e4, -1e300], [1.0, 0.0]) == 0.0


def test_cross_entropy_grad_overflows_to_inf_silently(strict):
    tiny = 5e-324
    assert np.array_equal(cross_entropy_grad([tiny, 1.0], [1.0, 1.0]), [-np.inf, -1.0])
    assert cross_entropy([tiny], [1.0]) == pytest.approx(-math.log(tiny), rel=1e-15)


# ---- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("f", ALL, ids=lambda f: f.__name__)
def test_shape_mismatch_names_both(f):
    with pytest.raises(ValueError, match=r"(?s)\(2, 3\).*\(3, 2\)") as info:
        f(np.full((2, 3), 0.5), np.zeros((3, 2)))
    names = {"mse": "ot", "softmax_cross_entropy": "zy", "cross_entropy": "qp"}
    names = names[f.__name__.removesuffix("_grad")]
    assert all(f"{n} has shape" in str(info.value) for n in names)


@pytest.mark.parametrize("f", ALL, ids=lambda f: f.__name__)
def test_only_one_example_or_a_batch(f):
    for shape in [(), (2, 2, 2), (0, 3)]:
        with pytest.raises(ValueError):
            f(np.full(shape, 0.5), np.zeros(shape))


@pytest.mark.parametrize("f", ALL, ids=lambda f: f.__name__)
def test_non_numeric_is_a_type_error(f):
    with pytest.raises(TypeError):
        f("a", [1.0])
    with pytest.raises(TypeError):
        f([0.5], None)
    with pytest.raises(TypeError):
        f([0.5], [1j])


@pytest.mark.parametrize("f", [mse, mse_grad], ids=lambda f: f.__name__)
def test_mse_targets_must_be_finite(f):
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="t"):
            f([1.0, 2.0], [0.0, bad])


@pytest.mark.parametrize("f", ALL[2:], ids=lambda f: f.__name__)
def test_targets_must_be_finite_and_non_negative(f):
    name = "y" if "softmax" in f.__name__ else "p"
    for bad in (-0.5, np.nan, np.inf):
        with pytest.raises(ValueError, match=name):
            f([0.5, 0.5], [1.0, bad])


@pytest.mark.parametrize("f", [cross_entropy, cross_entropy_grad], ids=lambda f: f.__name__)
def test_q_must_lie_in_zero_one(f):
    for bad in (0.0, -0.1, 1.5, np.nan, np.inf):
        with pytest.raises(ValueError, match=r"q must lie in \(0, 1\]"):
            f([0.5, bad], [1.0, 1.0])
    f([0.5, 1.0], [1.0, 1.0])


def test_integer_and_bool_input_compute_in_float64():
    assert mse(np.array([1, 2]), np.array([0, 0])) == 2.5
    assert softmax_cross_entropy(np.array([True, False]), np.array([0, 1])).dtype == np.float64


# ---- beyond the chapter: binary cross-entropy with logits ------------------------------------

BCE, BCE_GRAD = binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad
BEYOND = [BCE, BCE_GRAD, huber, huber_grad]


def test_binary_cross_entropy_by_hand():
    # At z = 0, σ = ½: each entry costs log 2 whatever y, and the gradient is ½ − y.
    assert BCE([0.0, 0.0], [1.0, 0.0]) == pytest.approx(2 * LN2, rel=1e-15)
    assert np.array_equal(BCE_GRAD([0.0, 0.0, 0.0], [1.0, 0.0, 0.25]), [-0.5, 0.5, 0.25])
    # z = ln 3, σ = ¾, y = 1: −log ¾; gradient ¾ − 1. A batch of two such rows: the mean, and 1/2.
    assert BCE([math.log(3)], [1.0]) == pytest.approx(-math.log(0.75), rel=1e-15)
    assert BCE_GRAD([math.log(3)], [1.0])[0] == pytest.approx(-0.25, rel=1e-15)
    z, y = np.full((2, 1), math.log(3)), np.ones((2, 1))
    assert BCE(z, y) == pytest.approx(-math.log(0.75), rel=1e-15)
    np.testing.assert_allclose(BCE_GRAD(z, y), [[-0.125], [-0.125]], rtol=1e-15)


@given(hnp.arrays(np.float64, st.integers(1, 6), elements=floats(-30, 30)), st.data())
def test_binary_cross_entropy_is_softplus_minus_yz(z, data):
    # −y log σ(z) − (1 − y) log σ(−z) = softplus(z) − y·z; that form cancels (to eps of |z| + 1) where
    # ours does not, hence the absolute bound.
    y = data.draw(hnp.arrays(np.float64, z.shape, elements=floats(0, 1)))
    expected = np.sum(np.logaddexp(0, z) - y * z)
    assert BCE(z, y) == pytest.approx(expected, rel=1e-13, abs=8 * EPS * z.size * 31)


@given(floats(-20, 20), floats(0, 1))
def test_binary_cross_entropy_is_further_into_backpropagations_cross_entropy_over_two_classes(z, y):
    # One logit is a two-class distribution (σ(z), σ(−z)) with targets (y, 1 − y): Further into
    # Backpropagation's −Σ p log q. log σ near 1 errs by eps absolute there, so the bound has an absolute
    # part.
    q = np.array([1 / (1 + math.exp(-z)), 1 / (1 + math.exp(z))])
    assert BCE([z], [y]) == pytest.approx(float(cross_entropy(q, [y, 1 - y])), rel=1e-13, abs=4 * EPS)
    assert BCE_GRAD([z], [y])[0] == pytest.approx(q[0] - y, rel=1e-13, abs=2 * EPS)


def test_binary_cross_entropy_keeps_its_digits_when_confident_and_right(strict):
    # L(30, 1) = −log σ(30) = log1p(e^{−30}) = 9.4e-14: max(z, 0) − z·y + log1p(e^{−|z|}) gets it
    # here too, but log(σ(30)) keeps only its first 3 digits (σ(30) = 1 − 9.4e-14 to eps).
    assert BCE([30.0], [1.0]) == pytest.approx(math.log1p(math.exp(-30)), rel=1e-15)
    assert BCE([-30.0], [0.0]) == pytest.approx(math.log1p(math.exp(-30)), rel=1e-15)
    # ∂L/∂z = σ(40) − 1 = −σ(−40) = −4.2e-18, which σ(z) − y rounds to 0.
    assert BCE_GRAD([40.0], [1.0])[0] == pytest.approx(-1 / (1 + math.exp(40)), rel=1e-15)
    assert sigmoid(40.0) - 1.0 == 0.0


def test_binary_cross_entropy_at_extreme_logits(strict):
    z = np.array([1e4, -1e4, 1e4, -1e4])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    # wrong by 1e4 costs 1e4; right costs e^{−1e4}, which is 0
    assert BCE(z, y) == 2e4
    assert np.array_equal(BCE_GRAD(z, y), [1.0, 0.0, 0.0, -1.0])
    assert BCE([1.7e308, 1.7e308], [0.0, 0.0]) == np.inf       # a sum beyond float64: inf, quietly
    assert BCE([-1.7e308], [0.0]) == 0.0 and BCE_GRAD([-1.7e308], [0.0])[0] == 0.0


def test_binary_cross_entropy_targets_are_probabilities():
    for f in (BCE, BCE_GRAD):
        for bad in (-0.5, 1.5):
            with pytest.raises(ValueError, match=r"y must lie in \[0, 1\].*; y\[1\] = "):
                f([0.5, 0.5], [1.0, bad])
        for bad in (np.nan, np.inf):
            with pytest.raises(ValueError, match="y must be finite"):
                f([0.5, 0.5], [1.0, bad])
        f([0.5, 0.5], [0.0, 1.0])


# ---- beyond the chapter: Huber -----------------------------------------------------------------

def test_huber_by_hand():
    # r = 0.5: ½·0.25; r = 3 beyond δ = 1: 1·(3 − ½) = 2.5; r = −3 the same; sum 5.125.
    assert huber([0.5, 3.0, -3.0], [0.0, 0.0, 0.0]) == 5.125
    assert np.array_equal(huber_grad([0.5, 3.0, -3.0], [0.0, 0.0, 0.0]), [0.5, 1.0, -1.0])
    # δ = 2: r = 3 costs 2·(3 − 1) = 4, slope 2; r = 1 costs ½.
    assert huber([3.0, 1.0], [0.0, 0.0], delta=2.0) == 4.5
    assert np.array_equal(huber_grad([3.0, 1.0], [0.0, 0.0], delta=2.0), [2.0, 1.0])
    # A batch: mean over rows, 1/N in the gradient.
    o = np.array([[0.5, 3.0], [-3.0, 0.0]])
    assert huber(o, np.zeros((2, 2))) == (0.125 + 2.5 + 2.5) / 2
    assert np.array_equal(huber_grad(o, np.zeros((2, 2))), [[0.25, 0.5], [-0.5, 0.0]])


@pytest.mark.parametrize("delta", [1.0, 0.5, 3.0])
def test_huber_pieces_meet_at_delta_with_equal_value_and_slope(delta):
    # ½δ² = δ(δ − ½δ) and r = δ at |r| = δ: the loss is C¹, the gradient continuous.
    for r in (delta, -delta):
        assert huber([r], [0.0], delta) == 0.5 * delta * delta
        assert huber_grad([r], [0.0], delta)[0] == r
        for side in (1 - 1e-12, 1 + 1e-12):
            assert huber([r * side], [0.0], delta) == pytest.approx(0.5 * delta * delta, rel=1e-11)
            assert huber_grad([r * side], [0.0], delta)[0] == pytest.approx(r, rel=1e-11)


@given(batches(-100, 100))
def test_huber_is_the_squared_error_for_a_wide_delta_and_its_gradient_is_bounded(ot):
    o, t = ot
    # δ beyond every residual: ½Σr²/N, which is mse; the gradient (o − t)/N, mse_grad.
    assert huber(o, t, delta=1e3) == pytest.approx(float(mse(o, t)), rel=1e-15)
    np.testing.assert_array_equal(huber_grad(o, t, delta=1e3), mse_grad(o, t))
    # ψ = clip(r, −δ, δ): every entry within δ/N
    assert np.all(np.abs(huber_grad(o, t, delta=0.5)) <= 0.5 / len(o))


def test_huber_for_a_narrow_delta_is_delta_times_the_absolute_error():
    # δ → 0: δ(|r| − ½δ) per entry, so L/δ → Σ|r|/N, off by ½δ per entry.
    o, t = np.array([[1.0, -2.0], [0.5, 4.0]]), np.zeros((2, 2))
    delta = 1e-9
    assert huber(o, t, delta) / delta == pytest.approx((7.5 - 4 * 0.5 * delta) / 2, rel=1e-14)
    np.testing.assert_allclose(huber_grad(o, t, delta) / delta, np.sign(o) / 2, rtol=1e-15)


def test_huber_extremes_are_silent(strict):
    assert huber([1.7e308], [-1.7e308]) == np.inf and huber_grad([1.7e308], [-1.7e308])[0] == 1.0
    # δ = 1e300 with r = 1e300: ½r² = 5e599 is beyond float64, inf is the answer
    assert huber([1e300], [0.0], delta=1e300) == np.inf
    assert np.isnan(huber([np.nan], [0.0])) and np.isnan(huber_grad([np.nan, 1.0], [0.0, 0.0])[0])


def test_huber_delta_must_be_a_positive_finite_number():
    for f in (huber, huber_grad):
        for bad, error, match in [(0.0, ValueError, "delta must be positive, got 0.0"),
                                  (-1.0, ValueError, "delta must be positive"),
                                  (np.nan, ValueError, "delta must be finite"),
                                  ([1.0, 2.0], ValueError, "delta must be a single number"),
                                  ("1", TypeError, "delta")]:
            with pytest.raises(error, match=match):
                f([1.0], [0.0], delta=bad)
        with pytest.raises(ValueError, match="t must be finite"):
            f([1.0], [np.inf])


# ---- beyond the chapter: what every loss here shares ---------------------------------------------

@pytest.mark.parametrize("loss, grad", [(BCE, BCE_GRAD), (huber, huber_grad)], ids=["bce", "huber"])
@given(zy=batches(-50.0, 50.0))
def test_the_new_losses_batch_is_the_mean_of_its_rows(loss, grad, zy):
    z, y = zy[0], np.minimum(zy[1], 1.0)      # targets in [0, 1], valid for both
    n = len(z)
    assert loss(z, y) == pytest.approx(sum(loss(z[i], y[i]) for i in range(n)) / n, rel=1e-12, abs=1e-300)
    expected = np.stack([grad(z[i], y[i]) for i in range(n)]) / n
    np.testing.assert_allclose(grad(z, y), expected, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("f", BEYOND, ids=lambda f: f.__name__)
def test_the_new_losses_shapes_dtypes_and_bad_input(f):
    z, y = np.full((3, 4), 0.5), np.eye(3, 4)
    out = f(z, y)
    assert (np.ndim(out) == 0) if "grad" not in f.__name__ else (out.shape == (3, 4))
    assert np.iscomplexobj(f(z + 1e-20j, y))
    assert np.asarray(f(np.array([1, 0]), np.array([True, False]))).dtype == np.float64
    with pytest.raises(ValueError, match=r"(?s)\(2, 3\).*\(3, 2\)"):
        f(np.full((2, 3), 0.5), np.zeros((3, 2)))
    for shape in [(), (2, 2, 2), (0, 3)]:
        with pytest.raises(ValueError):
            f(np.full(shape, 0.5), np.zeros(shape))
    with pytest.raises(TypeError):
        f("a", [1.0])
    with pytest.raises(TypeError):
        f([0.5], [1j])


# ---- beyond the chapter: what TensorFlow and Keras compute --------------------------------------

def test_tensorflow_sigmoid_cross_entropy_is_ours_entry_by_entry_up_to_its_cancellation(tf):
    # tf.nn.sigmoid_cross_entropy_with_logits is max(z, 0) − z·y + log1p(e^{−|z|}) per entry, no
    # reduction: its max(z, 0) − z·y rounds by eps of |z| (2e-12 at 1e4), which is the bound. The tape's
    # gradient of it is σ(z) − y to eps.
    z = np.array([1e4, 1e4, -1e4, 30.0, -3.0, 0.0, 2.0])
    y = np.array([1.0, 1 - 1e-6, 0.3, 1.0, 0.5, 0.25, 0.0])
    zt, yt = tf.constant(z, dtype=tf.float64), tf.constant(y, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(zt)
        per_entry = tf.nn.sigmoid_cross_entropy_with_logits(labels=yt, logits=zt)
        total = tf.reduce_sum(per_entry)
    ours = np.array([BCE([a], [b]) for a, b in zip(z, y)])
    assert np.all(np.abs(per_entry.numpy() - ours) <= 4 * EPS * (np.abs(z) + 1))
    assert np.all(np.abs(tape.gradient(total, zt).numpy() - BCE_GRAD(z, y)) <= 4 * EPS)


def test_keras_takes_the_mean_over_the_last_axis_where_we_sum(tf):
    # Keras's huber and binary_crossentropy(from_logits=True) reduce each row by its mean over the K
    # entries, ours by the sum (the package's reduction): per row, ours = K × Keras's.
    import keras

    o, t = np.array([[0.5, 3.0, -2.0], [1.0, 0.0, 0.2]]), np.zeros((2, 3))
    theirs = keras.losses.huber(tf.constant(t, dtype=tf.float64), tf.constant(o, dtype=tf.float64))
    np.testing.assert_allclose(3 * theirs.numpy(), [huber(o[i], t[i]) for i in range(2)], rtol=4 * EPS)
    z, y = np.array([[2.0, -1.0, 0.3]]), np.array([[1.0, 0.0, 0.5]])
    yt, zt = tf.constant(y, dtype=tf.float64), tf.constant(z, dtype=tf.float64)
    theirs = keras.losses.binary_crossentropy(yt, zt, from_logits=True)
    assert 3 * float(theirs.numpy()[0]) == pytest.approx(BCE(z[0], y[0]), rel=16 * EPS)
