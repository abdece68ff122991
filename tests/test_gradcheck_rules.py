"""check_vjp, check_jvp, check_adjoint: backward and forward passes of the user's layers, and planted bugs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from backprop_ref.gradcheck.rules import (
    assert_vjp,
    check_adjoint,
    check_jvp,
    check_vjp,
)

RNG = np.random.default_rng(11)
N, D, H = 5, 4, 3
X = RNG.normal(size=(N, D))
W = RNG.normal(size=(D, H))
B = RNG.normal(size=H)


def dense(X, W, b):
    """y = tanh(XW + b); δ = u ∘ (1 − y²), dX = δWᵀ, dW = Xᵀδ, db = Σ_rows δ."""
    return np.tanh(X @ W + b)


def dense_vjp(u, X=X, W=W, b=B):
    d = u * (1 - np.tanh(X @ W + b) ** 2)
    return d @ W.T, X.T @ d, d.sum(axis=0)


def dense_jvp(v, X=X, W=W, b=B):
    vX, vW, vb = v
    return (1 - np.tanh(X @ W + b) ** 2) * (vX @ W + X @ vW + vb)


class Dense:
    """A layer as libraries write it: forward caches its input, backward reads the cache."""

    def __init__(self, W, b, cache_once=False):
        self.W, self.b, self.cache_once, self.x = W, b, cache_once, None

    def forward(self, x):
        if self.x is None or not self.cache_once:   # cache_once: the stale-cache bug
            self.x = x.copy()
        return np.tanh(x @ self.W + self.b)

    def backward(self, u):
        d = u * (1 - np.tanh(self.x @ self.W + self.b) ** 2)
        self.dW = self.x.T @ d
        return d @ self.W.T


# ---- check_vjp ----------------------------------------------------------------------------------

def test_a_correct_backward_passes_for_every_argument():
    r = check_vjp(dense, (X, W, B), dense_vjp, seed=1)
    assert r.passed and r.kind == "vjp" and list(r.by_argument) == ["X", "W", "b"]
    assert r.seed == 1 and "seed 1: the cotangent u drawn from it" in str(r.by_argument["W"])
    again = check_vjp(dense, (X, W, B), dense_vjp, seed=1)
    np.testing.assert_array_equal(r.analytic, again.analytic)   # the seed replays the cotangent


def test_the_cotangent_can_be_given():
    u = RNG.normal(size=(N, H))
    r = check_vjp(dense, (X, W, B), dense_vjp, cotangent=u)
    np.testing.assert_allclose(r.by_argument["b"].analytic, dense_vjp(u)[2], rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"cotangent has shape \(2,\) but must have shape \(5, 3\)"):
        check_vjp(dense, (X, W, B), dense_vjp, cotangent=np.ones(2))


def test_a_layer_whose_backward_reads_the_forward_cache_is_checked_as_it_is_used():
    layer = Dense(W, B)
    layer.forward(X + 1.0)   # an earlier batch: the checker evaluates f at x right before backward
    assert check_vjp(layer.forward, X, layer.backward).passed


def test_a_stale_cache_fails():
    layer = Dense(W, B, cache_once=True)
    layer.forward(X + 1.0)   # cached once and never again: backward differentiates at the wrong point
    r = check_vjp(layer.forward, X, layer.backward)
    assert r.verdict == "fail"


def test_planted_bugs_in_a_backward_fail_naming_the_argument():
    def missing_factor(u):   # db summed then divided by the batch size, as if for a mean
        dX, dW, db = dense_vjp(u)
        return dX, dW, db / N

    def sign(u):
        dX, dW, db = dense_vjp(u)
        return dX, -dW, db

    def not_propagated(u):   # dX of a first layer left at zero
        dX, dW, db = dense_vjp(u)
        return 0 * dX, dW, db
    cases = [(missing_factor, "b", "ratio claim/numerical 0.2 in all 3 failing entries: a missing or "
                                   "extra factor; 1/5 is a dimension of X (shape (5, 4))"),
             (sign, "W", "flipped sign"), (not_propagated, "X", "a term not propagated")]
    for bug, name, says in cases:
        r = check_vjp(dense, (X, W, B), bug, seed=2)
        assert r.verdict == "fail", bug.__name__
        assert [k for k, v in r.by_argument.items() if not v.passed] == [name]
        first = str(r).splitlines()[0]
        assert first.startswith(f"VJP check FAILED for {name}: ") and says in first, first


def test_a_backward_with_swapped_gradients_is_diagnosed():
    A, C = RNG.normal(size=(D, D)), RNG.normal(size=(D, D))

    def f(A, C):   # y = A C Xᵀ: ∂⟨u, y⟩/∂A = u X Cᵀ, ∂⟨u, y⟩/∂C = Aᵀ u X
        return A @ C @ X.T
    assert check_vjp(f, (A, C), lambda u: (u @ X @ C.T, A.T @ u @ X)).passed
    r = check_vjp(f, (A, C), lambda u: (A.T @ u @ X, u @ X @ C.T), seed=3)
    assert r.verdict == "fail"
    assert r.diagnosis == ("the claims for A and C look swapped: the claim for A matches the numerical "
                           "gradient of C and the claim for C that of A")


def test_a_transposed_gradient_is_diagnosed():
    A = RNG.normal(size=(D, D))

    def f(A):
        return X @ A            # ∂⟨u, XA⟩/∂A = Xᵀu
    r = check_vjp(f, A, lambda u: (X.T @ u).T, seed=4)
    assert r.verdict == "fail" and r.diagnosis == "the claim matches the numerical values transposed"


def test_a_correct_backward_at_a_kink_passes_with_the_subgradient():
    x = np.array([[-1.0, 0.0, 2.0]])   # relu's kink at x = 0: the claim 0 lies between the slopes

    def relu(x):
        return np.maximum(x, 0.0)
    r = check_vjp(relu, x, lambda u: u * (x > 0), cotangent=np.ones((1, 3)))
    assert r.passed and len(r.kinks) == 1


def test_assert_vjp_raises_with_the_first_line_standing_alone():
    assert_vjp(dense, (X, W, B), dense_vjp)
    with pytest.raises(AssertionError, match=r"^VJP check FAILED for W: "):
        assert_vjp(dense, (X, W, B), lambda u: (dense_vjp(u)[0], 2 * dense_vjp(u)[1], dense_vjp(u)[2]))


# ---- check_jvp ----------------------------------------------------------------------------------

def test_a_correct_jvp_passes_for_every_argument_and_a_wrong_one_fails_naming_it():
    r = check_jvp(dense, (X, W, B), dense_jvp, seed=5)
    assert r.passed and r.kind == "jvp" and list(r.by_argument) == ["X", "W", "b"]
    assert all(sub.n_checked == N * H for sub in r.by_argument.values())   # output entry by entry

    def wrong(v):   # the bias's tangent dropped
        vX, vW, vb = v
        return dense_jvp((vX, vW, 0 * vb))
    bad = check_jvp(dense, (X, W, B), wrong, seed=5)
    assert bad.verdict == "fail" and [k for k, s in bad.by_argument.items() if not s.passed] == ["b"]
    assert str(bad).splitlines()[0].startswith("JVP check FAILED for b: 15 of 45 output entries")


def test_a_hessian_vector_product_is_the_jvp_of_a_gradient():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])

    def grad_f(x):   # f = ¼ Σ x⁴ + ½ xᵀAx: ∇f = x³ + Ax, H = diag(3x²) + A
        return x ** 3 + A @ x
    x = np.array([0.5, -1.5])
    assert check_jvp(grad_f, x, lambda v: 3 * x ** 2 * v + A @ v).passed
    assert check_jvp(grad_f, x, lambda v: 2 * x ** 2 * v + A @ v).verdict == "fail"   # a wrong 2nd derivative


def test_a_given_tangent_is_used_and_checked():
    v = np.array([1.0, 0.0])
    r = check_jvp(lambda x: x ** 2, np.array([3.0, 4.0]), lambda t: 2 * np.array([3.0, 4.0]) * t, tangent=v)
    np.testing.assert_array_equal(r.analytic, [6.0, 0.0])
    with pytest.raises(ValueError, match=r"tangent has shape \(3,\) but must have shape \(2,\)"):
        check_jvp(lambda x: x ** 2, np.array([3.0, 4.0]), lambda t: t, tangent=np.ones(3))


# ---- check_adjoint ------------------------------------------------------------------------------

def test_a_vjp_and_jvp_that_are_adjoint_pass_and_a_wrong_vjp_fails_naming_the_argument():
    r = check_adjoint(dense, (X, W, B), dense_vjp, dense_jvp, seed=6)
    assert r.passed and r.kind == "adjoint" and r.n_checked == 6   # 2 pairs × 3 arguments
    bad = check_adjoint(dense, (X, W, B), lambda u: (dense_vjp(u)[0], dense_vjp(u)[1].copy() * 0.999,
                                                      dense_vjp(u)[2]), dense_jvp, seed=6)
    assert bad.verdict == "fail" and [k for k, s in bad.by_argument.items() if not s.passed] == ["W"]


def test_the_adjoint_bound_is_the_products_rounding_level():
    A = RNG.normal(size=(30, 20))
    r = check_adjoint(lambda x: A @ x, np.zeros(20), lambda u: A.T @ u, lambda v: A @ v, pairs=4, seed=8)
    assert r.passed
    # one entry of the transpose 1e-6 relative wrong: far above the float64 rounding level
    A2 = A.copy()
    A2[3, 7] *= 1 + 1e-6
    bad = check_adjoint(lambda x: A @ x, np.zeros(20), lambda u: A2.T @ u, lambda v: A @ v, pairs=4, seed=8)
    assert bad.verdict == "fail"
    with pytest.raises(ValueError, match="pairs must be an integer ≥ 1"):
        check_adjoint(lambda x: A @ x, np.zeros(20), lambda u: A.T @ u, lambda v: A @ v, pairs=0)


# ---- f working in float32, under every rule --------------------------------------------------------

def dense32(X, W, b):
    return np.tanh(X.astype(np.float32) @ W.astype(np.float32) + b.astype(np.float32))


def test_a_float32_forward_is_judged_at_float32s_precision_by_check_vjp_and_check_jvp():
    # ⟨u, f(x)⟩ formed in float64 from a float32 y is no float32 number: the rule passes f's dtype on,
    # and a right backward (computed in float64) passes where float64's bounds would fail it
    r = check_vjp(dense32, (X, W, B), dense_vjp, seed=2)
    assert r.verdict == "pass", str(r)
    assert all("f works in float32" in s.tolerance_reason for s in r.by_argument.values())
    bad = check_vjp(dense32, (X, W, B), lambda u: (dense_vjp(u)[0], dense_vjp(u)[1] * 1.05, dense_vjp(u)[2]),
                    seed=2)
    assert [k for k, s in bad.by_argument.items() if not s.passed] == ["W"]
    j = check_jvp(dense32, (X, W, B), dense_jvp, seed=2)
    assert j.verdict == "pass", str(j)
    assert check_jvp(dense32, (X, W, B), lambda v: dense_jvp(v) * 1.05, seed=2).verdict == "fail"


# ---- check_adjoint: what it evaluates, replays and raises -----------------------------------------

LIN = RNG.normal(size=(7, 4))


def lin(x):
    return LIN @ x


def test_the_adjoint_test_evaluates_f_before_each_product_and_replays_its_seed():
    calls = []

    def f(x):
        calls.append(1)
        return LIN @ x

    r = check_adjoint(f, np.ones(4), lambda u: LIN.T @ u, lambda v: LIN @ v, pairs=3, seed=4)
    # f(x) once, then per pair before the vjp and before each argument's jvp (one argument here)
    assert r.passed and r.n_checked == 3 and r.n_evals == len(calls) == 1 + 3 * 2
    again = check_adjoint(lin, np.ones(4), lambda u: LIN.T @ u, lambda v: LIN @ v, pairs=3, seed=4)
    np.testing.assert_array_equal(r.analytic, again.analytic)
    np.testing.assert_array_equal(r.numerical, again.numerical)
    np.testing.assert_allclose(r.analytic, r.numerical, rtol=1e-12)
    assert r.seed == 4


def test_the_users_tolerance_replaces_the_adjoint_bound():
    off = LIN.copy()
    off[2, 1] *= 1 + 1e-6
    loose = check_adjoint(lin, np.ones(4), lambda u: off.T @ u, lambda v: LIN @ v, seed=1, rtol=1e-3)
    tight = check_adjoint(lin, np.ones(4), lambda u: off.T @ u, lambda v: LIN @ v, seed=1, rtol=1e-12)
    assert loose.verdict == "pass" and tight.verdict == "fail"
    assert loose.user_tolerance and tight.user_tolerance


def test_assert_adjoint_raises_on_a_vjp_that_is_not_the_adjoint():
    from backprop_ref.gradcheck.rules import assert_adjoint

    assert assert_adjoint(lin, np.ones(4), lambda u: LIN.T @ u, lambda v: LIN @ v, seed=0).passed
    with pytest.raises(AssertionError, match="check FAILED"):
        assert_adjoint(lin, np.ones(4), lambda u: 2 * LIN.T @ u, lambda v: LIN @ v, seed=0)


@pytest.mark.parametrize("vjp, jvp, says", [
    (lambda u: LIN.T @ u, lambda v: (LIN @ v)[:3], "jvp(v) has shape (3,) but f(x) has shape (7,)"),
    (lambda u: (LIN.T @ u)[:2], lambda v: LIN @ v, "vjp(u) has shape (2,) but must have shape (4,)"),
])
def test_the_adjoint_test_names_what_is_malformed(vjp, jvp, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        check_adjoint(lin, np.ones(4), vjp, jvp, seed=0)


def test_a_vjp_that_is_not_finite_fails_the_adjoint_test():
    r = check_adjoint(lin, np.ones(4), lambda u: LIN.T @ u * np.nan, lambda v: LIN @ v, seed=0)
    assert r.verdict == "fail"
