"""Inverted dropout and the embedding lookup: by hand, their identities, the checker on each backward,
and the planted bug of embeddings (repeated ids counted once)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from backprop_ref.gradcheck import check_vjp
from backprop_ref.layers import dropout_backward, dropout_forward, embedding_backward, embedding_forward

RNG = np.random.default_rng(2)


# ---- dropout ------------------------------------------------------------------------------------

def test_dropout_by_hand():
    x = np.array([[2.0, -4.0], [1.0, 8.0]])
    mask = np.array([[1, 0], [0, 1]])
    # kept units × 1/(1 − p): × 2 for p = ½, × 4 for p = ¾; dropped ones 0
    np.testing.assert_array_equal(dropout_forward(x, mask, 0.5), [[4.0, 0.0], [0.0, 16.0]])
    np.testing.assert_array_equal(dropout_forward(x, mask.astype(bool), 0.75), [[8.0, 0.0], [0.0, 32.0]])
    np.testing.assert_array_equal(dropout_backward(np.ones((2, 2)), mask, 0.5), [[2.0, 0.0], [0.0, 2.0]])


def test_p_zero_with_every_unit_kept_is_the_identity():
    x = RNG.normal(size=(3, 4))
    np.testing.assert_array_equal(dropout_forward(x, np.ones_like(x), 0.0), x)
    np.testing.assert_array_equal(dropout_backward(x, np.ones_like(x), 0.0), x)


def test_inverted_dropout_keeps_the_mean():
    # E[mask] = 1 − p, so E[y] = x: over 200 000 draws of a Bernoulli mask the mean is within 5 σ
    x = np.full(200_000, 3.0)
    p = 0.3
    mask = RNG.random(x.shape) >= p
    y = dropout_forward(x, mask, p)
    sigma = 3.0 * np.sqrt(p / (1 - p) / x.size)   # sd of x·Bernoulli(1 − p)/(1 − p) over the mean
    assert abs(y.mean() - 3.0) < 5 * sigma


@pytest.mark.parametrize("method", ["central", "complex"])
def test_dropout_backward_is_the_vjp(method):
    x = RNG.normal(size=(4, 5))
    mask = RNG.random(x.shape) >= 0.4
    r = check_vjp(lambda x: dropout_forward(x, mask, 0.4), x, lambda dy: dropout_backward(dy, mask, 0.4),
                  method=method)
    assert r.passed, str(r)
    # the forward's factor forgotten in the backward: the checker names it
    bad = check_vjp(lambda x: dropout_forward(x, mask, 0.4), x, lambda dy: dy * mask, seed=1)
    assert bad.verdict == "fail" and "missing or extra factor" in str(bad).splitlines()[0]


def test_dropout_overflow_is_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = dropout_forward(np.array([1e308, -1e308]), [1, 1], 0.5)
    np.testing.assert_array_equal(y, [np.inf, -np.inf])


def test_dropout_bad_input_names_the_argument():
    x = np.ones((2, 2))
    with pytest.raises(ValueError, match=r"mask must hold only 0 and 1; mask\[0, 1\] = 0.5"):
        dropout_forward(x, [[1, 0.5], [0, 1]], 0.5)
    with pytest.raises(ValueError, match=r"x has shape \(2, 2\) but mask has shape \(2,\)"):
        dropout_forward(x, [1, 0], 0.5)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\)"):
        dropout_forward(x, x, 1.0)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\)"):
        dropout_backward(x, x, -0.1)
    with pytest.raises(TypeError, match="mask must be real"):
        dropout_backward(x, x + 0j, 0.1)


# ---- embedding ----------------------------------------------------------------------------------

W = np.arange(12.0).reshape(4, 3)   # row v is (3v, 3v + 1, 3v + 2)


def test_embedding_lookup_by_hand():
    np.testing.assert_array_equal(embedding_forward(np.array([2, 0]), W), [[6.0, 7.0, 8.0], [0.0, 1.0, 2.0]])
    ids = np.array([[3, 3], [1, 0]])
    assert embedding_forward(ids, W).shape == (2, 2, 3)
    np.testing.assert_array_equal(embedding_forward(np.array(1), W), [3.0, 4.0, 5.0])   # a 0-d id


def test_embedding_is_the_dense_layer_with_one_hot_inputs():
    ids = np.array([1, 3, 1, 0, 1])
    onehot = np.eye(4)[ids]
    np.testing.assert_array_equal(embedding_forward(ids, W), onehot @ W)
    dy = RNG.normal(size=(5, 3))
    np.testing.assert_allclose(embedding_backward(ids, dy, 4), onehot.T @ dy, rtol=1e-15)


def test_repeated_ids_accumulate_and_absent_ids_get_zero():
    ids = np.array([[2, 2], [2, 0]])
    dy = np.array([[[1.0, 0.0], [2.0, 0.5]], [[4.0, -1.0], [8.0, 3.0]]])
    dW = embedding_backward(ids, dy, 4)
    np.testing.assert_array_equal(dW, [[8.0, 3.0], [0.0, 0.0], [7.0, -0.5], [0.0, 0.0]])


def test_embedding_backward_is_the_vjp_and_counting_repeats_once_fails():
    ids = np.array([[0, 2, 2], [3, 2, 0]])
    table = RNG.normal(size=(4, 5))
    def lookup(W):
        return embedding_forward(ids, W)
    for method in ("central", "complex"):
        assert check_vjp(lookup, table, lambda dy: embedding_backward(ids, dy, 4), method=method).passed

    def assigned(dy):   # dW[ids] = dy: the last occurrence of an id overwrites the others
        dW = np.zeros((4, 5))
        dW[ids.ravel()] = dy.reshape(-1, 5)
        return dW
    r = check_vjp(lookup, table, assigned, seed=4)
    assert r.verdict == "fail"
    bad_rows = sorted({i[0] for i in np.argwhere(np.abs(r.analytic - r.numerical) > r.tolerance)})
    assert bad_rows == [0, 2]   # the repeated ids; id 3 occurs once and is right


def test_embedding_bad_input_names_the_argument():
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\); ids\[1\] = 4"):
        embedding_forward(np.array([0, 4]), W)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\); ids\[0\] = -1"):
        embedding_backward(np.array([-1]), np.zeros((1, 3)), 4)
    with pytest.raises(TypeError, match="ids must be integers"):
        embedding_forward(np.array([0.0, 1.0]), W)
    with pytest.raises(TypeError, match="ids must be integers"):
        embedding_forward(np.array([True]), W)
    with pytest.raises(ValueError, match=r"W must have shape \(V, D\)"):
        embedding_forward(np.array([0]), np.zeros(3))
    with pytest.raises(ValueError, match=r"dy has shape \(3, 2\) but must have shape \(2, 2\)"):
        embedding_backward(np.array([0, 1]), np.zeros((3, 2)), 4)
    with pytest.raises(ValueError, match=r"dy has shape \(2,\) but ids has shape \(2,\)"):
        embedding_backward(np.array([0, 1]), np.zeros(2), 4)
    with pytest.raises(ValueError, match="num_embeddings must be an integer ≥ 1"):
        embedding_backward(np.array([0]), np.zeros((1, 2)), 0)
