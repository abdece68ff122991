"""The documents' worked functions: values and derivatives worked out by hand, the documents' own claims,
and bad input. Finite-difference and tape checks of the same functions are in test_catalogue.py; the
elementary functions of Backward Propagation Algorithm §7.1 and §7.2.1 are tested in test_elementary.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_ref.network import MLP
from backprop_ref.worked import (
    chain_rule_z,
    chain_rule_z_grad,
    exponential_objective,
    exponential_objective_grad,
    himmelblau,
    himmelblau_grad,
    linear_chain,
    linear_chain_grad,
    log_objective,
    log_objective_grad,
    one_layer_grad,
    one_layer_loss,
    quadratic_objective,
    quadratic_objective_grad,
    squared_error_objective,
    squared_error_objective_grad,
    two_layer_grads,
    two_layer_loss,
)

E = math.e


# ---- Backward Propagation Algorithm §7.8: Himmelblau ----------------------------------------------

def test_himmelblau_by_hand():
    # (0, 0): (−11)² + (−7)² = 170; ∇ = (2·(−7), 2·(−11)).
    assert himmelblau([0.0, 0.0]) == 170.0
    assert np.array_equal(himmelblau_grad([0.0, 0.0]), [-14.0, -22.0])
    # (1, 1): (−9)² + (−5)² = 106; ∇ = (4·(−9) + 2·(−5), 2·(−9) + 4·(−5)).
    assert himmelblau([1.0, 1.0]) == 106.0
    assert np.array_equal(himmelblau_grad([1.0, 1.0]), [-46.0, -38.0])


def test_himmelblau_minima_from_section_7_8():
    # (3, 2) is exact; the other three are given to 6 decimals (|error| ≤ 5e-7 per coordinate).
    assert himmelblau([3.0, 2.0]) == 0.0 and np.array_equal(himmelblau_grad([3.0, 2.0]), [0.0, 0.0])
    others = np.array([[-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]])
    assert np.all(himmelblau(others) < 1e-9)
    assert np.all(np.abs(himmelblau_grad(others)) < 1e-4)


def test_himmelblau_shapes_and_bad_input():
    x = np.zeros((3, 4, 2))
    assert himmelblau(x).shape == (3, 4) and himmelblau_grad(x).shape == (3, 4, 2)
    for bad in (np.zeros(3), np.zeros((2, 3)), 1.0):
        with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
            himmelblau(bad)
    with pytest.raises(TypeError):
        himmelblau_grad(["a", "b"])


def test_himmelblau_overflow_is_silent(strict):
    assert himmelblau([1e200, 1e200]) == np.inf
    assert np.array_equal(himmelblau_grad([1e200, 0.0]), [np.inf, np.inf])


# ---- Backward Propagation Algorithm §7.2.3: the four objectives -----------------------------------

def test_objectives_by_hand():
    # x·w² + b² at (w, b, x) = (2, 3, 5): 20 + 9; ∂ = (2·5·2, 2·3).
    assert quadratic_objective(2.0, 3.0, 5.0) == 29.0
    assert quadratic_objective_grad(2.0, 3.0, 5.0) == (20.0, 6.0)
    # x·eʷ + eᵇ at (0, ln 2, 3): 3 + 2; ∂ = (3, 2).
    assert exponential_objective(0.0, math.log(2), 3.0) == pytest.approx(5.0, rel=1e-15)
    dw, db = exponential_objective_grad(0.0, math.log(2), 3.0)
    assert dw == 3.0 and db == pytest.approx(2.0, rel=1e-15)
    # (xw + b − y)² at (w, b, x, y) = (2, 1, 3, 4): g = 3, L = 9; ∂ = (2·3·3, 2·3).
    assert squared_error_objective(2.0, 1.0, 3.0, 4.0) == 9.0
    assert squared_error_objective_grad(2.0, 1.0, 3.0, 4.0) == (18.0, 6.0)
    # a·ln(xw + b) at (w, b, x, a) = (1, 1, 3, 2): 2 ln 4; ∂ = (2·3/4, 2/4).
    assert log_objective(1.0, 1.0, 3.0, 2.0) == pytest.approx(2 * math.log(4), rel=1e-15)
    assert log_objective_grad(1.0, 1.0, 3.0, 2.0) == (1.5, 0.5)


def test_objectives_broadcast_and_return_a_pair():
    w, b, x = np.array([1.0, 2.0]), 0.5, np.array([[1.0], [3.0]])
    assert quadratic_objective(w, b, x).shape == (2, 2)
    for grad in (quadratic_objective_grad(w, b, x), exponential_objective_grad(w, b, x),
                 squared_error_objective_grad(w, b, x, 1.0), log_objective_grad(w, b, x, 2.0)):
        assert isinstance(grad, tuple) and len(grad) == 2
        assert all(g.shape == (2, 2) and g.flags.writeable for g in grad)
    # ∂L/∂b of x·w² + b² is 2b wherever it is broadcast.
    assert np.array_equal(quadratic_objective_grad(w, b, x)[1], np.full((2, 2), 1.0))


@given(hnp.arrays(np.float64, 3, elements=st.floats(-100, 100, allow_nan=False, allow_infinity=False)))
def test_squared_error_gradient_is_the_chain_rule(wbx):
    # Backward Propagation Algorithm §7.2.3: with g = xw + b − y, ∂L/∂w = 2g·x and ∂L/∂b = 2g, so
    # ∂L/∂w = x·∂L/∂b exactly.
    w, b, x = wbx
    dw, db = squared_error_objective_grad(w, b, x, 0.5)
    assert dw == db * x


def test_log_objective_needs_a_positive_argument():
    for w, b, x in [(1.0, -1.0, 1.0), (1.0, -2.0, 1.0), (np.nan, 1.0, 1.0)]:
        for f in (log_objective, log_objective_grad):
            with pytest.raises(ValueError, match="xw \\+ b > 0"):
                f(w, b, x, 1.0)


# ---- Backward Propagation Algorithm §7.6: the chain rule ------------------------------------------

def test_chain_rule_z_by_hand():
    # t = 0: 1 + 1 = 2, dz/dt = 4; t = 1: 9 + e, 12 + 2e; t = −1: 1 + e, −4 − 2e.
    np.testing.assert_allclose(chain_rule_z([0.0, 1.0, -1.0]), [2.0, 9 + E, 1 + E], rtol=1e-15)
    np.testing.assert_allclose(chain_rule_z_grad([0.0, 1.0, -1.0]), [4.0, 12 + 2 * E, -4 - 2 * E], rtol=1e-15)
    assert np.ndim(chain_rule_z(0.5)) == 0 and chain_rule_z(np.zeros((2, 3))).shape == (2, 3)


def test_chain_rule_z_overflows_to_inf_silently(strict):
    # e^{t²} exceeds float64 for |t| > √709.78 ≈ 26.64.
    assert np.array_equal(chain_rule_z([30.0, -30.0, 1e200]), [np.inf, np.inf, np.inf])
    assert np.array_equal(chain_rule_z_grad([30.0, -30.0]), [np.inf, -np.inf])
    # Just inside: e^{26.6²} ≈ 1.1e307 is finite; 2t·e^{t²} at 26.6 is not, at 26 it is.
    assert np.isfinite(chain_rule_z(26.6)) and np.isfinite(chain_rule_z_grad(26.0))


def test_linear_chain_is_the_tape_example_of_section_7_6():
    # x = 1, w1 = 2, b1 = 1, w2 = 2, b2 = 1: y1 = 3, y2 = 7; the book prints ∂y2/∂w1 = 2.0.
    assert linear_chain(2.0, 1.0, 2.0, 1.0, 1.0) == 7.0
    assert linear_chain_grad(2.0, 1.0, 2.0, 1.0, 1.0) == (2.0, 2.0, 3.0, 1.0)


@given(hnp.arrays(np.float64, 5, elements=st.floats(-100, 100, allow_nan=False, allow_infinity=False)))
def test_linear_chain_grad_is_a_product_of_local_derivatives(p):
    # ∂y2/∂w1 = ∂y2/∂y1 · ∂y1/∂w1 = w2 · x; ∂y2/∂b1 = w2 · 1; ∂y2/∂w2 = y1; ∂y2/∂b2 = 1.
    w1, b1, w2, b2, x = p
    assert linear_chain_grad(w1, b1, w2, b2, x) == (w2 * x, w2, x * w1 + b1, 1.0)


# ---- Further into Backpropagation: the one-layer network -----------------------------------------

W_FURTHER = np.array([[0.1, -0.2], [0.3, 0.05], [-0.4, 0.2]])
X_FURTHER = np.array([2.0, 4.0, -2.0])  # Further into Backpropagation's X = [2, 4, −2], class 0


def test_one_layer_matches_further_into_backpropagations_elementwise_chain():
    # ∂C/∂W_ij = −(p_j / y_oj) · σ(y_j)(1 − σ(y_j)) · x_i, with y = xW (no bias), term by term.
    p = [1.0, 0.0]
    y = [sum(X_FURTHER[i] * W_FURTHER[i, j] for i in range(3)) for j in range(2)]
    yo = [1 / (1 + math.exp(-v)) for v in y]
    expected = [[-(p[j] / yo[j]) * yo[j] * (1 - yo[j]) * X_FURTHER[i] for j in range(2)] for i in range(3)]
    np.testing.assert_allclose(one_layer_grad(W_FURTHER, X_FURTHER, p), expected, rtol=1e-14, atol=0)
    assert one_layer_loss(W_FURTHER, X_FURTHER, p) == pytest.approx(-math.log(yo[0]), rel=1e-14)


def test_one_layer_batch_is_the_mean_of_its_rows():
    rng = np.random.default_rng(0)
    X, P = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    rows = [one_layer_grad(W_FURTHER, X[n], P[n]) for n in range(4)]
    np.testing.assert_allclose(one_layer_grad(W_FURTHER, X, P), sum(rows) / 4, rtol=1e-13)
    assert one_layer_loss(W_FURTHER, X, P) == pytest.approx(
        sum(one_layer_loss(W_FURTHER, X[n], P[n]) for n in range(4)) / 4, rel=1e-13)


def test_one_gradient_step_lowers_the_cost_as_in_further_into_backpropagation():
    # Further into Backpropagation: one step W ← W − h·∂C/∂W with h = 0.01 lowers the cost (their run:
    # 7.87 → 7.63).
    W = np.random.default_rng(1).normal(size=(3, 2))
    before = one_layer_loss(W, X_FURTHER, [1.0, 0.0])
    after = one_layer_loss(W - 0.01 * one_layer_grad(W, X_FURTHER, [1.0, 0.0]), X_FURTHER, [1.0, 0.0])
    assert after < before


def test_one_layer_bad_input():
    with pytest.raises(ValueError, match=r"x has shape \(4,\) but W has shape \(3, 2\)"):
        one_layer_grad(W_FURTHER, np.zeros(4), [1.0, 0.0])
    with pytest.raises(ValueError, match="p"):
        one_layer_loss(W_FURTHER, X_FURTHER, [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="p must be non-negative"):
        one_layer_grad(W_FURTHER, X_FURTHER, [-1.0, 0.0])


# ---- Backpropagation step by step: the two-layer network -----------------------------------------

def two_layer_params(seed=2, n_in=2, hidden=3, k=2):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n_in, hidden)), rng.normal(size=hidden),
            rng.normal(size=(hidden, k)), rng.normal(size=k))


def test_two_layer_output_bias_gradient_is_p_minus_y():
    # Backpropagation step by step, one example with a one-hot target: δ2 = p − y, so db2 = p − y and
    # dW2 = h (p − y)ᵀ.
    W1, b1, W2, b2 = two_layer_params()
    x, y = np.array([0.5, -1.0]), np.array([0.0, 1.0])
    h = 1 / (1 + np.exp(-(x @ W1 + b1)))
    z = h @ W2 + b2
    p = np.exp(z) / np.exp(z).sum()
    dW1, db1, dW2, db2 = two_layer_grads(W1, b1, W2, b2, x, y)
    np.testing.assert_allclose(db2, p - y, rtol=1e-14)
    np.testing.assert_allclose(dW2, np.outer(h, p - y), rtol=1e-14)
    # δ1 = (δ2 W2ᵀ) ⊙ h(1 − h); dW1 = x δ1ᵀ.
    delta1 = (W2 @ (p - y)) * h * (1 - h)
    np.testing.assert_allclose(db1, delta1, rtol=1e-13)
    np.testing.assert_allclose(dW1, np.outer(x, delta1), rtol=1e-13)
    assert two_layer_loss(W1, b1, W2, b2, x, y) == pytest.approx(-math.log(p[1]), rel=1e-14)


def test_two_layer_matches_the_generic_delta_recursion():
    W1, b1, W2, b2 = two_layer_params(seed=3, n_in=4, hidden=5, k=3)
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(6, 4)), rng.uniform(0, 2, size=(6, 3))  # unnormalised targets
    model = MLP([(W1, b1), (W2, b2)], ["sigmoid", "linear"], "softmax_cross_entropy")
    loss, [(eW1, eb1), (eW2, eb2)] = model.loss_and_grads(x, y)
    assert two_layer_loss(W1, b1, W2, b2, x, y) == pytest.approx(loss, rel=1e-14)
    for ours, theirs in zip(two_layer_grads(W1, b1, W2, b2, x, y), (eW1, eb1, eW2, eb2)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-16)


def test_the_tests_name_the_sources_by_title_not_by_file_key():
    # A name like test_..._000s_cost cites a file key ("000", "003") that a clone does not contain;
    # the tests, as the docstrings, name a source by its title (further_into_backpropagation) or the
    # chapter's section (section_7_2_2).
    import pathlib
    import re

    here = pathlib.Path(__file__).parent
    names = [m.group(1) for path in sorted(here.glob("test_*.py"))
             for m in re.finditer(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M)]
    assert len(names) > 100   # the scan found the suite's tests
    keyed = [n for n in names if re.search(r"_00\d(s|_|$)", n)]   # (not 1e_300)
    assert keyed == []
