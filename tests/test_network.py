"""Dense layers and the MLP (Backward Propagation Algorithm §7.5, §7.7): hand-derived gradients, identities,
the batch 1/N, training, validation. The tape and finite-difference checks are in test_mlp_oracles.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_ref.network import (
    MLP,
    dense_backward,
    dense_forward,
    sigmoid_layer_grads,
    sigmoid_layer_loss,
    sigmoid_neuron_grads,
    sigmoid_neuron_loss,
)

RNG = np.random.default_rng(20240611)


def assert_sums_close(ours, expected):
    """Two evaluation orders of the same sums: each entry errs by eps·Σ|terms|, and an entry that
    cancels (8.6e-7 from terms near 0.03) is only that accurate, so the floor follows the largest
    entry rather than the entry itself; and never below 1e-300, where products of tiny drawn values
    are subnormal and round by 5e-324 absolute."""
    expected = np.asarray(expected)
    np.testing.assert_allclose(ours, expected, rtol=1e-12,
                               atol=max(1e-14 * np.abs(expected).max(initial=0.0), 1e-300))


def normal(*shape):
    return RNG.normal(size=shape)


# ---- dense layer --------------------------------------------------------------------------

def test_dense_forward_exact():
    x = np.array([[1.0, 2.0], [0.0, -1.0]])
    W = np.array([[1.0, 0.0, 2.0], [3.0, -1.0, 1.0]])
    b = np.array([0.5, 0.0, -1.0])
    assert np.array_equal(dense_forward(x, W, b), [[7.5, -2.0, 3.0], [-2.5, 1.0, -2.0]])
    assert np.array_equal(dense_forward(x[0], W, b), [7.5, -2.0, 3.0])


@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 4), st.data())
def test_dense_backward_is_the_sum_over_rows_of_x_j_delta_k(n, n_in, n_out, data):
    # §7.5.2: ∂L/∂w_jk = Σ_n x_nj δ_nk, ∂L/∂b_k = Σ_n δ_nk, ∂L/∂x_nj = Σ_k δ_nk w_jk: loops.
    ints = st.integers(-5, 5).map(float)
    x = data.draw(hnp.arrays(np.float64, (n, n_in), elements=ints))
    W = data.draw(hnp.arrays(np.float64, (n_in, n_out), elements=ints))
    delta = data.draw(hnp.arrays(np.float64, (n, n_out), elements=ints))
    dx, dW, db = dense_backward(x, W, delta)
    for j in range(n_in):
        for k in range(n_out):
            assert dW[j, k] == sum(x[r, j] * delta[r, k] for r in range(n))
    assert np.array_equal(db, [sum(delta[r, k] for r in range(n)) for k in range(n_out)])
    for r in range(n):
        assert np.array_equal(dx[r], [sum(delta[r, k] * W[j, k] for k in range(n_out)) for j in range(n_in)])


def test_dense_backward_is_the_vjp_of_the_linear_map():
    # z = xW + b is linear in each argument, so ⟨δ, xW⟩ = ⟨dW, W⟩ = ⟨dx, x⟩ and ⟨δ, b⟩ = ⟨db, b⟩.
    x, W, b, delta = normal(4, 3), normal(3, 2), normal(2), normal(4, 2)
    dx, dW, db = dense_backward(x, W, delta)
    pairing = np.sum(delta * (x @ W))
    assert np.sum(dW * W) == pytest.approx(pairing, rel=1e-12)
    assert np.sum(dx * x) == pytest.approx(pairing, rel=1e-12)
    assert np.sum(db * b) == pytest.approx(np.sum(delta * b), rel=1e-12)


def test_dense_backward_for_one_example_is_the_outer_product():
    x, W, delta = normal(3), normal(3, 2), normal(2)
    dx, dW, db = dense_backward(x, W, delta)
    assert np.array_equal(dW, np.outer(x, delta)) and np.array_equal(db, delta)
    batched = dense_backward(x[None], W, delta[None])
    np.testing.assert_allclose(dx, batched[0][0], rtol=1e-15)
    np.testing.assert_allclose(dW, batched[1], rtol=1e-15)
    db[0] += 1.0
    assert db[0] != delta[0], "db must not alias delta"


def test_dense_shape_mismatches_name_both():
    with pytest.raises(ValueError, match=r"x has shape \(2, 4\) but W has shape \(3, 2\)"):
        dense_forward(np.zeros((2, 4)), np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"b has shape \(3,\) but W has shape \(3, 2\)"):
        dense_forward(np.zeros((2, 3)), np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"delta has shape \(5, 2\) but x has shape \(4, 3\)"):
        dense_backward(np.zeros((4, 3)), np.zeros((3, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="W must have shape"):
        dense_forward(np.zeros(3), np.zeros(3), np.zeros(1))
    with pytest.raises(TypeError, match="x"):
        dense_forward("x", np.zeros((3, 2)), np.zeros(2))


def test_dense_overflow_is_silent_inf():
    with np.errstate(all="raise"):
        # A product beyond float64 is an inf result, not an error (errstate(all="raise") would catch it).
        assert dense_forward([1e200], [[1e200]], [0.0])[0] == np.inf


def test_dense_forward_inf_minus_inf_is_nan_without_warning(strict):
    assert np.isnan(dense_forward(np.array([np.inf]), np.array([[1.0]]), np.array([-np.inf]))).all()


def test_dense_backward_overflows_to_inf_without_a_warning(strict):
    x, W, delta = np.full((1, 2), 1e200), np.full((2, 2), 1e200), np.full((1, 2), 1e200)
    dx, dW, db = dense_backward(x, W, delta)
    assert np.isinf(dx).all() and np.isinf(dW).all() and np.isfinite(db).all()
    inf_minus_inf = np.array([[np.inf, -np.inf]])
    dx, _, _ = dense_backward(np.ones((1, 2)), np.ones((2, 2)), inf_minus_inf)
    assert np.isnan(dx).all()


# ---- Backward Propagation Algorithm §7.5.1: the single sigmoid neuron under ½(o − t)² -------------

def by_hand_neuron(w, b, x, t):
    """Backward Propagation Algorithm §7.5.1 term by term for one example: o = σ(Σ_j w_j x_j + b),
    L = ½(o − t)², ∂L/∂w_j = (o − t)·o·(1 − o)·x_j and, with ∂z/∂b = 1, ∂L/∂b = (o − t)·o·(1 − o)."""
    o = 1 / (1 + math.exp(-(sum(wj * xj for wj, xj in zip(w, x)) + b)))
    return 0.5 * (o - t) ** 2, [(o - t) * o * (1 - o) * xj for xj in x], (o - t) * o * (1 - o)


# |z| ≤ 4·1·1 + 1 = 5 keeps the chapter's o·(1 − o) within 4e-14 of σ′(z): 1 − o loses eps/(1 − o)
# relative, which is why the formulas evaluate σ′ instead. Saturation is checked below against σ′.
SMALL = st.floats(-1, 1, allow_nan=False, allow_infinity=False)


@given(st.integers(1, 5), st.integers(1, 4), st.data())
def test_neuron_gradient_is_section_7_5_1_term_by_term(n, J, data):
    w = data.draw(hnp.arrays(np.float64, J, elements=SMALL))
    b = data.draw(SMALL)
    x = data.draw(hnp.arrays(np.float64, (n, J), elements=SMALL))
    t = data.draw(hnp.arrays(np.float64, n, elements=st.floats(0, 1)))
    rows = [by_hand_neuron(w, b, x[r], t[r]) for r in range(n)]
    # one example: the chapter's own formula
    L, dw, db = sigmoid_neuron_loss(w, b, x[0], t[0]), *sigmoid_neuron_grads(w, b, x[0], t[0])
    assert L == pytest.approx(rows[0][0], rel=1e-13, abs=1e-300)
    np.testing.assert_allclose(dw, rows[0][1], rtol=1e-13, atol=1e-300)
    assert db == pytest.approx(rows[0][2], rel=1e-13, abs=1e-300)
    assert dw.shape == (J,) and np.shape(db) == ()
    # a batch: the mean over rows (L = ½ Σ_n (o_n − t_n)²/N), so each gradient is the rows' mean
    L, (dw, db) = sigmoid_neuron_loss(w, b, x, t), sigmoid_neuron_grads(w, b, x, t)
    assert L == pytest.approx(sum(r[0] for r in rows) / n, rel=1e-13, abs=1e-300)
    assert_sums_close(dw, [sum(r[1][j] for r in rows) / n for j in range(J)])
    assert db == pytest.approx(sum(r[2] for r in rows) / n, rel=1e-12, abs=1e-15)


def test_neuron_with_no_error_has_no_gradient():
    # w = 0, b = 0: o = σ(0) = ½ exactly, so with t = ½ every factor (o − t) is 0.
    dw, db = sigmoid_neuron_grads([0.0, 0.0], 0.0, [1.0, 2.0], 0.5)
    assert np.array_equal(dw, [0.0, 0.0]) and db == 0.0
    assert sigmoid_neuron_loss([0.0, 0.0], 0.0, [1.0, 2.0], 0.5) == 0.0
    # t = 0 with z = 0: L = ½·¼ and ∂L/∂w_j = ½·½·½·x_j.
    dw, db = sigmoid_neuron_grads([0.0, 0.0], 0.0, [1.0, 2.0], 0.0)
    assert np.array_equal(dw, [0.125, 0.25]) and db == 0.125
    assert sigmoid_neuron_loss([0.0, 0.0], 0.0, [1.0, 2.0], 0.0) == 0.125


def test_saturated_neuron_keeps_its_tiny_gradient(strict):
    # z = 40: o rounds to 1, so the chapter's o·(1 − o) would give 0; the gradient is
    # (o − t)·σ′(40)·x with σ′(40) = e⁻⁴⁰/(1 + e⁻⁴⁰)² ≈ 4.25e-18, and it is returned as such.
    s = math.exp(-40) / (1 + math.exp(-40)) ** 2
    dw, db = sigmoid_neuron_grads([40.0], 0.0, [1.0], 0.0)
    assert dw[0] == pytest.approx(s, rel=1e-15, abs=0) and db == pytest.approx(s, rel=1e-15, abs=0)
    dw, db = sigmoid_neuron_grads([-40.0], 0.0, [1.0], 1.0)  # o ≈ 4e-18, t = 1: (o − 1)·σ′·x
    assert dw[0] == pytest.approx(-s, rel=1e-15, abs=0)
    # beyond the float64 range z is ±inf: σ′ is 0 there, and so is the gradient
    dw, db = sigmoid_neuron_grads([1e200, 1e200], 0.0, [1e200, 1e200], 0.0)
    assert np.array_equal(dw, [0.0, 0.0]) and db == 0.0
    assert sigmoid_neuron_loss([1e200, 1e200], 0.0, [1e200, 1e200], 0.0) == 0.5


def test_neuron_validates_its_arguments():
    w, x = np.ones(3), np.ones((2, 3))
    with pytest.raises(ValueError, match=r"w must have shape \(J,\)"):
        sigmoid_neuron_grads(np.ones((3, 1)), 0.0, x, np.zeros(2))
    with pytest.raises(ValueError, match="b must be a single number"):
        sigmoid_neuron_loss(w, [0.0], x, np.zeros(2))
    with pytest.raises(ValueError, match=r"x has shape \(2, 2\) but w has shape \(3,\)"):
        sigmoid_neuron_loss(w, 0.0, np.ones((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"t has shape \(3,\) but the neuron's output .* has shape \(2,\)"):
        sigmoid_neuron_grads(w, 0.0, x, np.zeros(3))
    with pytest.raises(ValueError, match=r"t must be finite; t\[1\] = nan"):
        sigmoid_neuron_grads(w, 0.0, x, [0.0, np.nan])
    with pytest.raises(TypeError, match="t must be real"):
        sigmoid_neuron_loss(w, 0.0, x, [0.0, 1j])
    with pytest.raises(ValueError, match="x is a batch of no rows"):
        sigmoid_neuron_loss(w, 0.0, np.ones((0, 3)), np.zeros(0))


# ---- Backward Propagation Algorithm §7.5.2: the sigmoid fully connected layer under ½ Σ_k (o_k − t_k)² ---

@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.data())
def test_layer_gradient_is_delta_k_times_x_j(n, J, K, data):
    W = data.draw(hnp.arrays(np.float64, (J, K), elements=SMALL))
    b = data.draw(hnp.arrays(np.float64, K, elements=SMALL))
    x = data.draw(hnp.arrays(np.float64, (n, J), elements=SMALL))
    t = data.draw(hnp.arrays(np.float64, (n, K), elements=st.floats(0, 1)))
    # §7.5.2 per row: o_k = σ(Σ_j x_j w_jk + b_k), δ_k = (o_k − t_k)·o_k·(1 − o_k), ∂L/∂w_jk = δ_k·x_j.
    o = [[1 / (1 + math.exp(-(sum(x[r, j] * W[j, k] for j in range(J)) + b[k]))) for k in range(K)]
         for r in range(n)]
    delta = [[(o[r][k] - t[r, k]) * o[r][k] * (1 - o[r][k]) for k in range(K)] for r in range(n)]
    loss = [0.5 * sum((o[r][k] - t[r, k]) ** 2 for k in range(K)) for r in range(n)]
    dW, db = sigmoid_layer_grads(W, b, x[0], t[0])
    np.testing.assert_allclose(dW, [[delta[0][k] * x[0, j] for k in range(K)] for j in range(J)],
                               rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(db, delta[0], rtol=1e-13, atol=1e-300)  # one example: db is δ
    assert sigmoid_layer_loss(W, b, x[0], t[0]) == pytest.approx(loss[0], rel=1e-13, abs=1e-300)
    # a batch: the mean over rows
    dW, db = sigmoid_layer_grads(W, b, x, t)
    assert_sums_close(dW, [[sum(delta[r][k] * x[r, j] for r in range(n)) / n for k in range(K)]
                           for j in range(J)])
    assert_sums_close(db, [sum(delta[r][k] for r in range(n)) / n for k in range(K)])
    assert sigmoid_layer_loss(W, b, x, t) == pytest.approx(sum(loss) / n, rel=1e-13, abs=1e-300)
    assert dW.shape == (J, K) and db.shape == (K,)


def test_layer_of_one_output_is_the_neuron():
    w, b, x, t = normal(3), 0.3, normal(4, 3), RNG.uniform(size=4)
    dW, db = sigmoid_layer_grads(w[:, None], [b], x, t[:, None])
    dw, db1 = sigmoid_neuron_grads(w, b, x, t)
    np.testing.assert_allclose(dW[:, 0], dw, rtol=1e-14)
    assert db[0] == pytest.approx(float(db1), rel=1e-14)
    assert sigmoid_layer_loss(w[:, None], [b], x, t[:, None]) == pytest.approx(
        sigmoid_neuron_loss(w, b, x, t), rel=1e-14)


def test_layer_is_the_one_layer_sigmoid_mlp():
    # The same derivation, reached before only as a special case of the MLP (§7.7 with one layer).
    W, b, x, t = normal(3, 2), normal(2), normal(5, 3), RNG.uniform(size=(5, 2))
    loss, [(eW, eb)] = MLP([(W, b)], ["sigmoid"], "mse").loss_and_grads(x, t)
    dW, db = sigmoid_layer_grads(W, b, x, t)
    assert sigmoid_layer_loss(W, b, x, t) == pytest.approx(loss, rel=1e-14)
    np.testing.assert_allclose(dW, eW, rtol=1e-13)
    np.testing.assert_allclose(db, eb, rtol=1e-13)


def test_layer_at_saturation_and_overflow_is_quiet(strict):
    s = math.exp(-40) / (1 + math.exp(-40)) ** 2
    dW, db = sigmoid_layer_grads([[40.0, -40.0]], [0.0, 0.0], [1.0], [0.0, 1.0])
    np.testing.assert_allclose(dW, [[s, -s]], rtol=1e-15)
    dW, db = sigmoid_layer_grads([[1e200]], [0.0], [[1e200], [-1e200]], [[0.0], [1.0]])
    assert np.array_equal(dW, [[0.0]]) and np.array_equal(db, [0.0])


def test_layer_validates_its_arguments():
    W, b, x = np.ones((3, 2)), np.zeros(2), np.ones((4, 3))
    with pytest.raises(ValueError, match=r"W must have shape \(n_in, n_out\)"):
        sigmoid_layer_loss(np.ones(3), b, x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"b has shape \(3,\) but W has shape \(3, 2\)"):
        sigmoid_layer_grads(W, np.zeros(3), x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"t has shape \(4, 3\) but the layer's output .* shape \(4, 2\)"):
        sigmoid_layer_grads(W, b, x, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"t must be finite; t\[0, 1\] = inf"):
        sigmoid_layer_loss(W, b, x, [[0.0, np.inf]] * 4)
    with pytest.raises(ValueError, match="x is a batch of no rows"):
        sigmoid_layer_grads(W, b, np.ones((0, 3)), np.zeros((0, 2)))


# ---- MLP: the delta recursion against the chapter's hand-written formulas --------------------

def test_one_sigmoid_layer_with_mse_matches_section_7_5_2():
    # δ_k = (o_k − t_k) o_k (1 − o_k), ∂L/∂w_jk = δ_k x_j, with the batch mean's 1/N.
    X, W, b = normal(5, 3), normal(3, 2), normal(2)
    T = RNG.uniform(size=(5, 2))
    o = 1 / (1 + np.exp(-(X @ W + b)))
    delta = (o - T) * o * (1 - o) / 5
    loss, [(dW, db)] = MLP([(W, b)], ["sigmoid"], "mse").loss_and_grads(X, T)
    assert loss == pytest.approx(0.5 * np.sum((o - T) ** 2) / 5, rel=1e-13)
    assert_sums_close(dW, np.einsum("nj,nk->jk", X, delta))
    assert_sums_close(db, delta.sum(axis=0))


def test_two_sigmoid_layers_with_mse_match_section_7_7():
    # Output layer δ_k = o_k(1 − o_k)(o_k − t_k); penultimate δ_j = o_j(1 − o_j) Σ_k δ_k w_jk.
    X, W1, b1, W2, b2 = normal(4, 3), normal(3, 5), normal(5), normal(5, 2), normal(2)
    T = RNG.uniform(size=(4, 2))
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    o_j = sig(X @ W1 + b1)
    o_k = sig(o_j @ W2 + b2)
    delta_k = o_k * (1 - o_k) * (o_k - T) / 4
    delta_j = o_j * (1 - o_j) * np.einsum("nk,jk->nj", delta_k, W2)
    model = MLP([(W1, b1), (W2, b2)], ["sigmoid", "sigmoid"], "mse")
    _, [(dW1, db1), (dW2, db2)] = model.loss_and_grads(X, T)
    assert_sums_close(dW2, np.einsum("nj,nk->jk", o_j, delta_k))
    assert_sums_close(db2, delta_k.sum(axis=0))
    assert_sums_close(dW1, np.einsum("ni,nj->ij", X, delta_j))
    assert_sums_close(db1, delta_j.sum(axis=0))


def test_softmax_cross_entropy_output_delta_is_p_minus_y_over_n():
    X, W, b = normal(3, 4), normal(4, 3), normal(3)
    Y = np.eye(3)[[2, 0, 1]]
    z = X @ W + b
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss, [(dW, db)] = MLP([(W, b)], ["linear"], "softmax_cross_entropy").loss_and_grads(X, Y)
    assert loss == pytest.approx(-np.mean(np.log(p[Y == 1])), rel=1e-13)
    np.testing.assert_allclose(db, ((p - Y) / 3).sum(axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dW, X.T @ ((p - Y) / 3), rtol=1e-12, atol=1e-15)


def test_relu_network_uses_one_at_the_kink():
    # z1 = 0 exactly; L = ½(2·relu(z1) − 1)², so ∂L/∂b1 = (0 − 1)·2·relu′(0) = −2 with relu′(0) = 1.
    model = MLP([([[1.0]], [0.0]), ([[2.0]], [0.0])], ["relu", "linear"], "mse")
    _, [(dW1, db1), (dW2, db2)] = model.loss_and_grads([[0.0]], [[1.0]])
    assert db1[0] == -2.0 and dW1[0, 0] == 0.0 and db2[0] == -1.0 and dW2[0, 0] == 0.0


ACTS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]


@st.composite
def networks(draw):
    depth = draw(st.integers(1, 3))
    widths = draw(st.lists(st.integers(1, 4), min_size=depth + 1, max_size=depth + 1))
    acts = draw(st.lists(st.sampled_from(ACTS), min_size=depth, max_size=depth))
    loss = draw(st.sampled_from(["mse", "softmax_cross_entropy"]))
    if loss == "softmax_cross_entropy":
        acts[-1] = "linear"
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, 5))
    rng = np.random.default_rng(seed)
    model = MLP.init(widths, acts, loss, seed=seed)
    model.params = [(W, rng.normal(0, 0.1, b.shape)) for W, b in model.params]
    X = rng.normal(size=(n, widths[0]))
    classes = rng.integers(widths[-1], size=n)
    Y = rng.uniform(size=(n, widths[-1])) if loss == "mse" else np.eye(widths[-1])[classes]
    return model, X, Y


@given(networks())
def test_batch_loss_and_grads_are_the_means_of_the_rows(net):
    model, X, Y = net
    n = len(X)
    loss, grads = model.loss_and_grads(X, Y)
    rows = [model.loss_and_grads(X[i], Y[i]) for i in range(n)]
    assert loss == pytest.approx(sum(r[0] for r in rows) / n, rel=1e-12, abs=1e-300)
    for layer, (dW, db) in enumerate(grads):
        np.testing.assert_allclose(dW, sum(r[1][layer][0] for r in rows) / n, rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(db, sum(r[1][layer][1] for r in rows) / n, rtol=1e-9, atol=1e-14)


@given(networks())
def test_grads_align_with_params_and_forward_feeds_the_loss(net):
    model, X, Y = net
    loss, grads = model.loss_and_grads(X, Y)
    assert [(dW.shape, db.shape) for dW, db in grads] == [(W.shape, b.shape) for W, b in model.params]
    out = model.forward(X)
    assert out.shape == Y.shape
    if model.loss == "mse":
        assert loss == pytest.approx(0.5 * np.sum((out - Y) ** 2) / len(X), rel=1e-12, abs=1e-300)
    assert np.array_equal(model.predict(X), np.argmax(out, axis=1))
    # One example (1-D X) is the first row of the batch, up to BLAS's vector/matrix rounding.
    np.testing.assert_allclose(model.forward(X[0]), out[0], rtol=1e-13, atol=1e-15)


def test_complex_parameters_flow_through():
    model = MLP.init([3, 4, 2], ["tanh", "linear"], "softmax_cross_entropy", seed=1)
    X = normal(2, 3)
    params = [(W + 1e-20j, b) for W, b in model.params]
    loss, grads = MLP(params, model.activations, model.loss).loss_and_grads(X, np.eye(2))
    assert np.iscomplexobj(loss) and all(dW.dtype == np.complex128 for dW, _ in grads)
    real_loss, real_grads = model.loss_and_grads(X, np.eye(2))
    assert loss.real == pytest.approx(real_loss, rel=1e-15)
    # Complex and real BLAS sum in different orders, so an entry errs by eps·Σ|terms|, not eps·|entry|
    # (dW[2, 0] = 4.7e-4 is a sum of terms near 0.1): the bound is relative to the largest entry.
    np.testing.assert_allclose(grads[0][0].real, real_grads[0][0], rtol=0,
                               atol=1e-14 * np.abs(real_grads[0][0]).max())


# ---- MLP: construction and validation -----------------------------------------------------

def test_init_draws_reproducible_scaled_weights_and_zero_biases():
    a = MLP.init([400, 300, 2], ["relu", "tanh"], "mse", seed=3)
    b = MLP.init([400, 300, 2], ["relu", "tanh"], "mse", seed=3)
    assert all(np.array_equal(p, q) for (p, _), (q, _) in zip(a.params, b.params))
    (W1, b1), (W2, b2) = a.params
    assert W1.shape == (400, 300) and W2.shape == (300, 2)
    assert not b1.any() and not b2.any()
    # He for relu (std √(2/400)), Glorot for tanh (std √(2/302)); 120000 and 600 draws.
    assert W1.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert W2.std() == pytest.approx(np.sqrt(2 / 302), rel=0.15)
    assert a.activations == ["relu", "tanh"] and a.loss == "mse"


@pytest.mark.parametrize("act_name, expected_var", [
    ("tanh", 2.0 / (300 + 200)),     # Glorot/Xavier: 2/(n_in + n_out)
    ("sigmoid", 2.0 / (300 + 200)),
    ("relu", 2.0 / 300),             # He: 2/n_in
    ("leaky_relu", 2.0 / 300),
])
def test_init_draws_the_documented_weights(act_name, expected_var):
    model = MLP.init([300, 200], [act_name], "mse", seed=0)
    W, b = model.params[0]
    # 60,000 normal draws: the mean within 5 standard errors of 0, the variance within 2 % (3.5 of its
    # standard errors, √(2/60000) = 0.6 %)
    assert abs(W.mean()) < 5 * np.sqrt(expected_var / W.size)
    assert W.var() == pytest.approx(expected_var, rel=0.02)
    assert not b.any()


def test_predict_on_one_example_is_one_class_index():
    model = MLP([(np.eye(3), np.array([0.0, 5.0, 0.0]))], ["linear"], "mse")
    assert model.predict(np.zeros(3)) == 1
    assert model.predict(np.zeros((2, 3))).tolist() == [1, 1]


def test_constructor_validates():
    ok = [(np.zeros((3, 4)), np.zeros(4)), (np.zeros((4, 2)), np.zeros(2))]
    with pytest.raises(ValueError, match=r"layer 1: W has shape \(5, 2\).*\(3, 4\)"):
        MLP([ok[0], (np.zeros((5, 2)), np.zeros(2))], ["tanh", "linear"], "mse")
    with pytest.raises(ValueError, match=r"layer 0: W has shape \(3, 4\) and b has shape \(3,\)"):
        MLP([(np.zeros((3, 4)), np.zeros(3))], ["tanh"], "mse")
    with pytest.raises(ValueError, match="one per layer"):
        MLP(ok, ["tanh"], "mse")
    with pytest.raises(ValueError, match="sigmoid, tanh, relu, leaky_relu, linear"):
        MLP(ok, ["tanh", "softplus"], "mse")
    with pytest.raises(ValueError, match="mse, softmax_cross_entropy"):
        MLP(ok, ["tanh", "linear"], "hinge")
    with pytest.raises(ValueError, match="last activation must be 'linear'"):
        MLP(ok, ["tanh", "sigmoid"], "softmax_cross_entropy")
    with pytest.raises(ValueError, match="at least one"):
        MLP([], [], "mse")
    model = MLP(ok, ["tanh", "linear"], "mse")
    assert all(W.dtype == np.float64 for W, _ in model.params)
    with pytest.raises(ValueError, match=r"X has shape \(2, 5\) but the first W has shape \(3, 4\)"):
        model.forward(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"Y has shape \(2, 3\)"):
        model.loss_and_grads(np.zeros((2, 3)), np.zeros((2, 3)))


# ---- MLP: training ------------------------------------------------------------------------

def xor_task():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.eye(2)[[0, 1, 1, 0]]


def test_fit_full_batch_descends_and_reports_the_loss_before_each_step():
    X, Y = xor_task()
    model = MLP.init([2, 8, 2], ["tanh", "linear"], "softmax_cross_entropy", seed=0)
    start, _ = model.loss_and_grads(X, Y)
    originals = list(model.params)
    copies = [(W.copy(), b.copy()) for W, b in originals]
    history = model.fit(X, Y, lr=0.5, epochs=300)
    assert history.shape == (300,) and history[0] == start
    assert np.all(np.diff(history[:20]) < 0) and history[-1] < 0.1 * history[0]
    assert np.array_equal(model.predict(X), [0, 1, 1, 0])
    # fit rebinds params to new arrays; arrays the caller holds are not updated in place.
    for (W, b), (W0, b0) in zip(originals, copies):
        assert np.array_equal(W, W0) and np.array_equal(b, b0)


def test_fit_one_full_batch_epoch_is_one_gradient_step():
    X, Y = xor_task()
    model = MLP.init([2, 3, 2], ["sigmoid", "sigmoid"], "mse", seed=5)
    _, grads = model.loss_and_grads(X, Y)
    expected = [(W - 0.1 * dW, b - 0.1 * db) for (W, b), (dW, db) in zip(model.params, grads)]
    model.fit(X, Y, lr=0.1, epochs=1)
    for (W, b), (eW, eb) in zip(model.params, expected):
        assert np.array_equal(W, eW) and np.array_equal(b, eb)


def test_fit_minibatches_are_seeded():
    X, Y = xor_task()
    runs = []
    for _ in range(2):
        model = MLP.init([2, 4, 2], ["relu", "linear"], "softmax_cross_entropy", seed=1)
        runs.append(model.fit(X, Y, lr=0.1, epochs=5, batch_size=3, seed=9))
    assert np.array_equal(runs[0], runs[1])
    other = MLP.init([2, 4, 2], ["relu", "linear"], "softmax_cross_entropy", seed=1)
    assert not np.array_equal(other.fit(X, Y, lr=0.1, epochs=5, batch_size=3, seed=10), runs[0])


def test_fit_validates():
    X, Y = xor_task()
    model = MLP.init([2, 2], ["linear"], "mse", seed=0)
    assert model.fit(X, Y, lr=0.1, epochs=0).shape == (0,)
    assert model.fit(X[0], Y[0], lr=0.1, epochs=2).shape == (2,)
    for lr in (0.0, -1.0, np.nan):
        with pytest.raises(ValueError, match="lr"):
            model.fit(X, Y, lr=lr, epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        model.fit(X, Y, lr=0.1, epochs=-1)
    with pytest.raises(TypeError, match="epochs"):
        model.fit(X, Y, lr=0.1, epochs=1.0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(X, Y, lr=0.1, epochs=1, batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        model.fit(X, Y, lr=0.1, epochs=1, batch_size=2.0)
