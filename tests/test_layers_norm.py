"""Batch and layer normalisation: hand-computed cases, the identities of the normalised output and of
the backward pass, extreme inputs, the checker on each backward, and planted bugs (a dropped term)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from backprop_ref.gradcheck import check_vjp
from backprop_ref.layers import (
    batch_norm_backward,
    batch_norm_forward,
    layer_norm_backward,
    layer_norm_forward,
)
from backprop_ref.layers.norm import _normalise

RNG = np.random.default_rng(1)
X = RNG.normal(size=(6, 4)) * np.array([1.0, 10.0, 0.1, 3.0]) + np.array([0.0, -5.0, 2.0, 100.0])
GAMMA = np.array([1.5, -0.5, 2.0, 1.0])
BETA = np.array([0.1, 0.0, -1.0, 3.0])


def test_a_two_row_batch_by_hand():
    # μ = 2, σ² = ((1 − 2)² + (3 − 2)²)/2 = 1 (biased: /N, not /(N − 1)); x̂ = ±1/√(1 + ε)
    x = np.array([[1.0], [3.0]])
    y = batch_norm_forward(x, np.array([2.0]), np.array([0.5]), eps=0.25)
    np.testing.assert_allclose(y, [[0.5 - 2 / np.sqrt(1.25)], [0.5 + 2 / np.sqrt(1.25)]], rtol=1e-15)


def test_the_normalised_columns_have_mean_zero_and_variance_var_over_var_plus_eps():
    xhat = batch_norm_forward(X, np.ones(4), np.zeros(4))
    var = X.var(axis=0)
    # x − μ rounds by eps·|x| (column 3 is 100 ± 3): x̂ is exact to eps·|x|/σ, not to eps
    bound = 4 * np.finfo(float).eps * np.max(np.abs(X) / np.sqrt(var))
    np.testing.assert_allclose(xhat.mean(axis=0), 0.0, atol=bound)
    np.testing.assert_allclose(xhat.var(axis=0), var / (var + 1e-5), rtol=1e-13)
    np.testing.assert_allclose(batch_norm_forward(X, GAMMA, BETA), GAMMA * xhat + BETA, rtol=1e-14)


def test_a_single_row_or_a_constant_column_normalises_to_zero():
    np.testing.assert_array_equal(batch_norm_forward(X[:1], GAMMA, BETA), BETA[None, :])
    # 0.1 + 0.1 + 0.1 rounds to 0.30000000000000004: a one-pass mean would leave x − μ = ±1e-17
    x = np.full((3, 2), 0.1)
    np.testing.assert_array_equal(batch_norm_forward(x, np.ones(2), np.zeros(2)), np.zeros((3, 2)))
    np.testing.assert_array_equal(layer_norm_forward(x.T, np.ones(3), np.zeros(3)), np.zeros((2, 3)))


def test_layer_norm_is_batch_norm_of_the_transpose():
    ones, zeros = np.ones(6), np.zeros(6)
    np.testing.assert_allclose(layer_norm_forward(X.T, ones, zeros),
                               batch_norm_forward(X, np.ones(4), np.zeros(4)).T, rtol=1e-14, atol=1e-15)
    dy = RNG.normal(size=X.shape)
    dx_ln = layer_norm_backward(X.T, ones, zeros, dy.T)[0]
    np.testing.assert_allclose(dx_ln, batch_norm_backward(X, np.ones(4), np.zeros(4), dy)[0].T,
                               rtol=1e-12, atol=1e-15)


def test_layer_norm_takes_any_leading_axes_and_sums_the_parameter_gradients_over_them():
    x = RNG.normal(size=(2, 3, 4))
    dy = RNG.normal(size=(2, 3, 4))
    flat = layer_norm_backward(x.reshape(6, 4), GAMMA, BETA, dy.reshape(6, 4))
    deep = layer_norm_backward(x, GAMMA, BETA, dy)
    np.testing.assert_allclose(deep[0].reshape(6, 4), flat[0], rtol=1e-14)
    np.testing.assert_allclose(deep[1], flat[1], rtol=1e-14)
    np.testing.assert_allclose(deep[2], dy.sum(axis=(0, 1)), rtol=1e-14)
    np.testing.assert_allclose(layer_norm_forward(x[0, 0], GAMMA, BETA),
                               layer_norm_forward(x, GAMMA, BETA)[0, 0], rtol=1e-15)


def test_the_parameter_gradients_are_sums_of_dy_and_dy_times_xhat():
    dy = RNG.normal(size=X.shape)
    _, dgamma, dbeta = batch_norm_backward(X, GAMMA, BETA, dy)
    xhat = batch_norm_forward(X, np.ones(4), np.zeros(4))
    np.testing.assert_allclose(dbeta, dy.sum(axis=0), rtol=1e-15)
    np.testing.assert_allclose(dgamma, (dy * xhat).sum(axis=0), rtol=1e-14)


def test_dx_is_orthogonal_to_a_shift_of_x():
    # y does not change when a column of x is shifted (μ absorbs it): Σ_rows dx = 0 for every dy.
    dy = RNG.normal(size=X.shape)
    dx = batch_norm_backward(X, GAMMA, BETA, dy)[0]
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-13 * np.abs(dx).max())
    # a dy constant down each column moves y along β alone: dx = 0
    dx_const = batch_norm_backward(X, GAMMA, BETA, np.ones_like(X) * np.array([1.0, -2.0, 3.0, 0.5]))[0]
    np.testing.assert_allclose(dx_const, 0.0, atol=1e-12)


def test_with_eps_negligible_y_is_invariant_to_the_scale_of_x_and_dy_along_xhat_gives_dx_zero():
    xhat = batch_norm_forward(X, np.ones(4), np.zeros(4), eps=1e-300)
    np.testing.assert_allclose(batch_norm_forward(7.0 * X, np.ones(4), np.zeros(4), eps=1e-300), xhat,
                               rtol=1e-13, atol=1e-14)
    dx = batch_norm_backward(X, np.ones(4), np.zeros(4), xhat, eps=1e-300)[0]   # the scale direction
    np.testing.assert_allclose(dx, 0.0, atol=1e-13)


@pytest.mark.parametrize("method", ["central", "complex"])
@pytest.mark.parametrize("family", ["batch", "layer"])
def test_the_backward_passes_are_the_vjps_of_the_forwards(method, family):
    fwd, bwd = ((batch_norm_forward, batch_norm_backward) if family == "batch"
                else (layer_norm_forward, layer_norm_backward))
    for n in (1, 2, 5):
        x = X[:n]
        r = check_vjp(lambda x, g, b: fwd(x, g, b), (x, GAMMA, BETA), lambda dy, x=x: bwd(x, GAMMA, BETA, dy),
                      method=method, seed=n)
        assert r.passed, str(r)


def wrong_batch_norm(drop):
    """batch_norm_backward with one of dx's three terms dropped."""
    def backward(x, gamma, beta, dy, eps=1e-5):
        xhat, inv = _normalise(x, 0, eps)
        dxhat = dy * gamma
        terms = {"mean": np.mean(dxhat, axis=0), "variance": xhat * np.mean(dxhat * xhat, axis=0)}
        terms[drop] = 0.0
        dx = inv * (dxhat - terms["mean"] - terms["variance"])
        return dx, np.sum(dy * xhat, axis=0), np.sum(dy, axis=0)
    return backward


@pytest.mark.parametrize("drop", ["mean", "variance"])
def test_a_dropped_term_in_dx_fails_naming_x(drop):
    bug = wrong_batch_norm(drop)
    r = check_vjp(lambda x, g, b: batch_norm_forward(x, g, b), (X, GAMMA, BETA),
                  lambda dy: bug(X, GAMMA, BETA, dy), seed=3)
    assert r.verdict == "fail"
    assert [k for k, v in r.by_argument.items() if not v.passed] == ["x"]


def test_inputs_near_the_float64_limit_normalise_without_overflow():
    x = np.array([[1e308, -1e308], [-1e308, 1e308], [0.0, 1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # (x − μ)² is beyond float64: it must not be formed
        y = batch_norm_forward(x, np.ones(2), np.zeros(2))
        dx, dgamma, dbeta = batch_norm_backward(x, np.ones(2), np.zeros(2), np.ones((3, 2)))
        ln = layer_norm_forward(x, np.ones(2), np.zeros(2))
    # column 0, (1, −1, 0)·1e308: μ = 0, σ² = ⅔·1e616, x̂ = (1, −1, 0)·√(3/2); column 1, (−1, 1, 1)·1e308:
    # μ = ⅓·1e308, x − μ = (−4, 2, 2)/3·1e308, σ² = 8/9·1e616, x̂ = (−2, 1, 1)/√2
    np.testing.assert_allclose(y[:, 0], np.array([1.0, -1.0, 0.0]) * np.sqrt(1.5), rtol=1e-14)
    np.testing.assert_allclose(y[:, 1], np.array([-2.0, 1.0, 1.0]) / np.sqrt(2.0), rtol=1e-14)
    np.testing.assert_allclose(ln, [[1.0, -1.0], [-1.0, 1.0], [-1.0, 1.0]], rtol=1e-14)
    assert np.all(np.isfinite(dx)) and np.all(np.abs(dx) < 1e-300)   # 1/σ ≈ 1e-308: dx is that small
    np.testing.assert_array_equal(dbeta, [3.0, 3.0])
    np.testing.assert_allclose(dgamma, 0.0, atol=1e-14)


def test_tiny_inputs_are_scaled_by_eps_not_by_their_own_spread():
    x = np.array([[1e-200], [-1e-200]])   # σ² = 1e-400 underflows; √ε dominates it anyway
    np.testing.assert_allclose(batch_norm_forward(x, [1.0], [0.0]), x / np.sqrt(1e-5), rtol=1e-15)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match=r"x must have shape \(N, D\); got shape \(3,\)"):
        batch_norm_forward(np.zeros(3), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="x is a batch of no rows"):
        batch_norm_forward(np.zeros((0, 3)), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"gamma has shape \(2,\) but must have shape \(4,\)"):
        batch_norm_forward(X, np.ones(2), BETA)
    with pytest.raises(ValueError, match=r"beta has shape \(4, 1\) but must have shape \(4,\)"):
        layer_norm_forward(X, GAMMA, BETA[:, None])
    with pytest.raises(ValueError, match=r"dy has shape \(6, 3\) but must have shape \(6, 4\)"):
        batch_norm_backward(X, GAMMA, BETA, np.zeros((6, 3)))
    with pytest.raises(ValueError, match="eps must be > 0"):
        layer_norm_forward(X, GAMMA, BETA, eps=0.0)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., D\) with D ≥ 1"):
        layer_norm_forward(np.float64(2.0), np.ones(1), np.zeros(1))
    with pytest.raises(TypeError, match="gamma must be numeric"):
        layer_norm_backward(X, "one", BETA, X)


# ---- a false alarm of the checker, pinned: strict xfail, so a fix shows as XPASS --------------------

def shift_invariant(x):
    """316·Σ(x − mean x): identically 0 (its gradient is exactly 0), computed as rounding noise of size
    eps·316·|x ± h| at every stencil point. This is ⟨dy, y⟩ of batch norm with ε = 1e-5 (1/√ε ≈ 316) and a
    dy constant down the column, reduced to its arithmetic."""
    return 316.0 * np.sum(x - np.mean(x))


@pytest.mark.xfail(strict=True, reason="checker false alarm (reported): f's computed values are rounding of "
                   "terms far larger than |f| (an exact cancellation), which eps·|f| misses")
@pytest.mark.parametrize("method", ["central", "complex"])
def test_the_checker_accepts_a_zero_gradient_of_an_exact_cancellation(method):
    from backprop_ref.gradcheck import check_grad
    assert check_grad(shift_invariant, np.zeros(3), np.zeros(3), method=method).passed


@pytest.mark.xfail(strict=True, reason="the same false alarm in batch norm: with dy constant down a column "
                   "⟨dy, y⟩ = c·Σ y = N·c·β does not depend on x, and dx = 0 exactly")
@pytest.mark.parametrize("x, method", [(np.zeros((4, 1)), "complex"),
                                       (np.array([[1.0], [2.0], [-0.5], [3.0]]), "central")])
def test_the_checker_accepts_batch_norm_with_a_constant_cotangent(x, method):
    g, b, dy = np.ones(1), np.zeros(1), np.ones((4, 1))
    np.testing.assert_allclose(batch_norm_backward(x, g, b, dy)[0], 0.0, atol=1e-13)   # dx is 0: it is right
    r = check_vjp(lambda x: batch_norm_forward(x, g, b), x, lambda u: batch_norm_backward(x, g, b, u)[0],
                  cotangent=dy, method=method)
    assert r.passed
