"""Tests written to kill mutants that survived `tox -e mutation` (benchmarks/MUTATION.md).

Each pins a documented behaviour that no other test pinned: the complex branch at exactly 0 (the
complex step must agree with the real derivative's convention there), warnings silenced where a
docstring promises none, the full text of error messages (anchored, so the argument's name is the
message's first word), the MLP's documented initialisation, and `predict` on one example.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from backprop_ref import activations as act
from backprop_ref import losses, network
from backprop_ref.softmax import log_softmax, softmax

H = 1e-20  # complex step


def complex_step(f, x, **kwargs):
    return f(np.array([x + 1j * H]), **kwargs).imag[0] / H


@pytest.mark.parametrize("x", [0.0, -0.0])
def test_complex_step_at_zero_matches_the_real_derivative(x):
    # At Re x = 0 the branch (x ≥ 0) decides which analytic piece carries the imaginary part.
    assert complex_step(act.sigmoid, x) == pytest.approx(act.sigmoid_grad(0.0), rel=1e-15)
    assert complex_step(act.tanh, x) == pytest.approx(act.tanh_grad(0.0), rel=1e-15)
    assert complex_step(act.leaky_relu, x, slope=0.2) == act.leaky_relu_grad(0.0, slope=0.2) == 1.0
    # relu: "x where Re x > 0, else 0", so a complex step at 0 sees the flat piece.
    assert complex_step(act.relu, x) == 0.0


def test_sigmoid_of_a_pure_imaginary_number():
    y = 0.3
    assert act.sigmoid(np.array(1j * y)) == pytest.approx(1 / (1 + np.exp(-1j * y)), rel=1e-15)


def no_warnings(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return f(*args, **kwargs)


def test_leaky_relu_with_slope_zero_at_inf_gives_inf_without_warning():
    assert no_warnings(act.leaky_relu, np.array([np.inf, 2.0]), slope=0.0).tolist() == [np.inf, 2.0]


@pytest.mark.parametrize("fn", [softmax, log_softmax])
def test_inf_logit_spoils_only_its_row_without_warning(fn):
    out = no_warnings(fn, np.array([[np.inf, 0.0], [1.0, 2.0]]))
    assert np.isnan(out[0, 0]) and not np.isfinite(out[0]).any() and np.isfinite(out[1]).all()


def test_dense_forward_inf_minus_inf_is_nan_without_warning():
    out = no_warnings(network.dense_forward, np.array([np.inf]), np.array([[1.0]]), np.array([-np.inf]))
    assert np.isnan(out).all()


W34, b4 = np.ones((3, 4)), np.zeros(4)


def mlp3(acts=("relu", "sigmoid", "linear"), loss="mse"):
    return network.MLP([(np.ones((3, 4)), np.zeros(4)), (np.ones((4, 4)), np.zeros(4)),
                        (np.ones((4, 2)), np.zeros(2))], list(acts), loss)


def full(message: str) -> str:
    return "^" + re.escape(message) + "$"


EXACT = [
    pytest.param(lambda: softmax(1.0), ValueError,
                 full("z must have a class axis (the last one); got a 0-d array"), id="softmax 0-d"),
    pytest.param(lambda: network.dense_forward(np.ones(3), np.ones((3, 2)), "b"), TypeError,
                 "^b must be numeric", id="dense_forward b str"),
    pytest.param(lambda: network.MLP([], [], "mse"), ValueError,
                 full("params must hold at least one (W, b) layer"), id="MLP no layers"),
    pytest.param(lambda: network.MLP([(W34, "b")], ["linear"], "mse"), TypeError,
                 "^" + re.escape("b[0] must be numeric"), id="MLP b str"),
    pytest.param(lambda: network.MLP([(W34, np.zeros(3))], ["linear"], "mse"), ValueError,
                 full("layer 0: W has shape (3, 4) and b has shape (3,); they must be (n_in, n_out) and "
                      "(n_out,)"), id="MLP W vs b"),
    pytest.param(lambda: mlp3(("relu", "sigmoid", "tanh"), "softmax_cross_entropy"), ValueError,
                 full("softmax_cross_entropy takes logits: the last activation must be 'linear', not 'tanh'"),
                 id="MLP sce needs linear"),
    pytest.param(lambda: mlp3().forward("X"), TypeError, "^X must be numeric", id="MLP X str"),
    pytest.param(lambda: mlp3().forward(np.ones((2, 4))), ValueError,
                 full("X has shape (2, 4) but the first W has shape (3, 4); X must be (N, 3) or (3,)"),
                 id="MLP X shape"),
    pytest.param(lambda: mlp3().loss_and_grads(np.ones(3), "Y"), TypeError, "^Y must be numeric",
                 id="MLP Y str"),
    pytest.param(lambda: mlp3().loss_and_grads(np.ones(3), np.ones(2) * 1j), TypeError, "^Y must be real",
                 id="MLP Y complex"),
    pytest.param(lambda: mlp3().fit(np.ones((2, 3)), np.ones((2, 2)), lr="fast", epochs=1), TypeError,
                 "^lr must be numeric", id="fit lr str"),
    pytest.param(lambda: mlp3().fit(np.ones((2, 3)), np.ones((2, 2)), lr=0.1, epochs=1, batch_size=0),
                 ValueError, full("batch_size must be None (the full batch) or an integer ≥ 1, got 0"),
                 id="fit batch_size 0"),
    pytest.param(lambda: mlp3().fit(np.ones((2, 3)), np.ones((2, 2)), lr=0.1, epochs=True), TypeError,
                 full("epochs must be an integer, got bool True"), id="fit epochs bool"),
    pytest.param(lambda: mlp3().fit(np.ones((2, 3)), np.ones((2, 2)), lr=0.1, epochs=-1), ValueError,
                 full("epochs must be an integer ≥ 0, got -1"), id="fit epochs negative"),
    pytest.param(lambda: losses.mse_grad(np.zeros(2), [0.0, np.inf]), ValueError,
                 full("t must be finite; t[1] = inf"), id="mse_grad inf t"),
]


@pytest.mark.parametrize("call, exc, match", EXACT)
def test_error_message_in_full(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("act_name, expected_var", [
    ("tanh", 2.0 / (300 + 200)),     # Glorot/Xavier
    ("sigmoid", 2.0 / (300 + 200)),
    ("relu", 2.0 / 300),             # He
])
def test_mlp_init_draws_the_documented_weights(act_name, expected_var):
    model = network.MLP.init([300, 200], [act_name], "mse", seed=0)
    W, b = model.params[0]
    assert abs(W.mean()) < 0.01 * np.sqrt(expected_var) * 10
    assert W.var() == pytest.approx(expected_var, rel=0.02)
    assert not b.any()


def test_predict_on_one_example_is_one_class_index():
    model = network.MLP([(np.eye(3), np.array([0.0, 5.0, 0.0]))], ["linear"], "mse")
    assert model.predict(np.zeros(3)) == 1
    assert model.predict(np.zeros((2, 3))).tolist() == [1, 1]


# ---- survivors of the 2026-12-01 run (benchmarks/MUTATION.md) ------------------------------------

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


def test_dense_shape_errors_name_w_and_the_shape_x_needs():
    with pytest.raises(ValueError, match=re.escape("x has shape (4, 2) but W has shape (3, 5); "
                                                   "x must be (N, 3) or (3,)")):
        network.dense_forward(np.ones((4, 2)), np.ones((3, 5)), np.ones(5))
    with pytest.raises(TypeError, match=r"^W "):
        network.dense_forward(np.ones(3), [["a"]], np.ones(1))


def test_dense_backward_overflows_to_inf_without_a_warning():
    x, W, delta = np.full((1, 2), 1e200), np.full((2, 2), 1e200), np.full((1, 2), 1e200)
    dx, dW, db = no_warnings(network.dense_backward, x, W, delta)
    assert np.isinf(dx).all() and np.isinf(dW).all() and np.isfinite(db).all()
    inf_minus_inf = np.array([[np.inf, -np.inf]])
    dx, _, _ = no_warnings(network.dense_backward, np.ones((1, 2)), np.ones((2, 2)), inf_minus_inf)
    assert np.isnan(dx).all()


def test_mlp_init_rejects_bad_sizes_and_activations_with_their_names():
    with pytest.raises(ValueError, match=re.escape("sizes must list at least the input and output widths; "
                                                   "got [3]")):
        network.MLP.init([3], [], "mse")
    with pytest.raises(ValueError, match=re.escape("activations must be a sequence of 1 names, one per "
                                                   "layer; got 'r'")):
        network.MLP.init([3, 2], "r", "mse")   # a string of the right length is not a list of names
    with pytest.raises(ValueError, match=re.escape("activations must be a sequence of 2 names")):
        network.MLP.init([3, 4, 2], ["tanh"], "mse")
    with pytest.raises(TypeError, match=r"^sizes\[1\] must be an integer, got float 2\.0$"):
        network.MLP.init([3, 2.0], ["tanh"], "mse")
    with pytest.raises(ValueError, match=r"^sizes\[0\] must be an integer ≥ 1, got 0$"):
        network.MLP.init([0, 2], ["tanh"], "mse")


def test_mlp_init_uses_he_variance_for_leaky_relu_too():
    W = network.MLP.init([2000, 500], ["leaky_relu"], "mse", seed=0).params[0][0]
    assert np.std(W) == pytest.approx(np.sqrt(2 / 2000), rel=0.01)   # He: 2/n_in, not 2/(n_in + n_out)


def test_log_softmax_keeps_its_real_part_under_a_complex_step():
    # NumPy's complex log1p returns 1.27898e-13 for log1p(1.28001e-13 + 1e-33j): the real part of a
    # confident log-probability would lose three digits exactly when the complex step is taken.
    z = np.array([30.0, 0.0, -1.0])
    stepped = log_softmax(z + np.array([0.0, 1j * H, 0.0]))
    np.testing.assert_allclose(stepped.real, log_softmax(z), rtol=1e-15)
