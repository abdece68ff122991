"""The source documents' worked functions and their stated derivatives.

From Backward Propagation Algorithm §7.2.3, §7.6 and §7.8, Further into Backpropagation and Backpropagation
step by step; the elementary functions of Backward Propagation Algorithm §7.1 and §7.2.1 are in
backprop_ref.elementary. The objectives broadcast elementwise over their arguments. They are polynomials and
exponentials with no stable reformulation to fall back on: where a result exceeds the float64 range it is
±inf, and where two terms of opposite sign both do, NaN; neither warns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array
from backprop_ref.activations import sigmoid, sigmoid_grad
from backprop_ref.losses import (
    cross_entropy,
    cross_entropy_grad,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
)
from backprop_ref.network import dense_backward, dense_forward

__all__ = [
    "himmelblau", "himmelblau_grad",
    "quadratic_objective", "quadratic_objective_grad",
    "exponential_objective", "exponential_objective_grad",
    "squared_error_objective", "squared_error_objective_grad",
    "log_objective", "log_objective_grad",
    "chain_rule_z", "chain_rule_z_grad", "linear_chain", "linear_chain_grad",
    "one_layer_loss", "one_layer_grad", "two_layer_loss", "two_layer_grads",
]

Array = NDArray[Any]


def _overflow_quietly() -> np.errstate:
    return np.errstate(over="ignore", invalid="ignore")


def _together(*grads: Array) -> Any:
    """The partial derivatives as a tuple of writable arrays broadcast to one shape."""
    return tuple(np.array(g) for g in np.broadcast_arrays(*grads))


def _arrays(**named: ArrayLike) -> list[Array]:
    return [as_array(v, k) for k, v in named.items()]


def _points(x: ArrayLike) -> tuple[Array, Array]:
    x = as_array(x, "x")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise ValueError(f"x must have shape (..., 2), the point (x, y) on the last axis; got {x.shape}")
    return x[..., 0], x[..., 1]


def himmelblau(x: ArrayLike) -> Array:
    """Himmelblau's function, f(x, y) = (x² + y − 11)² + (x + y² − 7)².

    Implements Backward Propagation Algorithm §7.8. Its four minima, all f = 0, are (3, 2), (−2.805, 3.131),
    (−3.779, −3.283) and (3.584, −1.848).

    Parameters
    ----------
    x : array_like, shape (..., 2)
        Points (x, y) on the last axis.

    Returns
    -------
    ndarray, shape (...)
        f; +inf beyond the float64 range. NaN propagates.
    """
    a, b = _points(x)
    with _overflow_quietly():
        return (a * a + b - 11) ** 2 + (a + b * b - 7) ** 2


def himmelblau_grad(x: ArrayLike) -> Array:
    """Gradient of Himmelblau's function f(x, y) = (x² + y − 11)² + (x + y² − 7)².

    Implements Backward Propagation Algorithm §7.8 (the gradient that §7.8's descent takes from the tape),
    by the chain rule of Backward Propagation Algorithm §7.6 on each square:
    ∇f = (4x(x² + y − 11) + 2(x + y² − 7), 2(x² + y − 11) + 4y(x + y² − 7)).

    Parameters
    ----------
    x : array_like, shape (..., 2)
        Points (x, y) on the last axis.

    Returns
    -------
    ndarray, shape (..., 2)
        (∂f/∂x, ∂f/∂y); zero at each minimum.
    """
    a, b = _points(x)
    with _overflow_quietly():
        g1 = a * a + b - 11
        g2 = a + b * b - 7
        return np.stack([4 * a * g1 + 2 * g2, 2 * g1 + 4 * b * g2], axis=-1)


def quadratic_objective(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> Array:
    """The objective L = x·w² + b².

    Implements Backward Propagation Algorithm §7.2.3 (first example). Broadcasts elementwise.
    """
    w, b, x = _arrays(w=w, b=b, x=x)
    with _overflow_quietly():
        return x * w * w + b * b


def quadratic_objective_grad(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> tuple[Array, Array]:
    """Partial derivatives of L = x·w² + b²: ∂L/∂w = x·2w, ∂L/∂b = 2b.

    Implements Backward Propagation Algorithm §7.2.3 (first example). Returns (∂L/∂w, ∂L/∂b), broadcast
    together.
    """
    w, b, x = _arrays(w=w, b=b, x=x)
    with _overflow_quietly():
        return _together(2 * (x * w), 2 * b)


def exponential_objective(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> Array:
    """The objective L = x·eʷ + eᵇ.

    Implements Backward Propagation Algorithm §7.2.3 (second example). Broadcasts elementwise.
    """
    w, b, x = _arrays(w=w, b=b, x=x)
    with _overflow_quietly():
        return x * np.exp(w) + np.exp(b)


def exponential_objective_grad(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> tuple[Array, Array]:
    """Partial derivatives of L = x·eʷ + eᵇ: ∂L/∂w = x·eʷ, ∂L/∂b = eᵇ.

    Implements Backward Propagation Algorithm §7.2.3 (second example). Returns (∂L/∂w, ∂L/∂b), broadcast
    together.
    """
    w, b, x = _arrays(w=w, b=b, x=x)
    with _overflow_quietly():
        return _together(x * np.exp(w), np.exp(b))


def squared_error_objective(w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike) -> Array:
    """The objective L = (xw + b − y)².

    Implements Backward Propagation Algorithm §7.2.3 (third example, [y − (xw + b)]² written as
    [(xw + b) − y]²). Broadcasts elementwise.
    """
    w, b, x, y = _arrays(w=w, b=b, x=x, y=y)
    with _overflow_quietly():
        return (x * w + b - y) ** 2


def squared_error_objective_grad(w: ArrayLike, b: ArrayLike, x: ArrayLike,
                                 y: ArrayLike) -> tuple[Array, Array]:
    """Partial derivatives of L = (xw + b − y)²: ∂L/∂w = 2(xw + b − y)·x, ∂L/∂b = 2(xw + b − y).

    Implements Backward Propagation Algorithm §7.2.3 (third example), with g = xw + b − y and the chain rule
    2g·∂g. Returns (∂L/∂w, ∂L/∂b), broadcast together.
    """
    w, b, x, y = _arrays(w=w, b=b, x=x, y=y)
    with _overflow_quietly():
        g = x * w + b - y
        return _together(2 * g * x, 2 * g)


def _log_argument(w: Array, b: Array, x: Array) -> Array:
    with _overflow_quietly():
        g = x * w + b
    if not np.all(g.real > 0):
        raise ValueError("log_objective needs xw + b > 0 (real part) everywhere; "
                         f"min Re(xw + b) = {np.min(g.real)}")
    return g


def log_objective(w: ArrayLike, b: ArrayLike, x: ArrayLike, a: ArrayLike) -> Array:
    """The objective L = a·ln(xw + b), defined where xw + b > 0.

    Implements Backward Propagation Algorithm §7.2.3 (fourth example). Broadcasts elementwise; ValueError
    where Re(xw + b) ≤ 0 (or is NaN).
    """
    w, b, x, a = _arrays(w=w, b=b, x=x, a=a)
    g = _log_argument(w, b, x)
    with _overflow_quietly():
        return a * np.log(g)


def log_objective_grad(w: ArrayLike, b: ArrayLike, x: ArrayLike, a: ArrayLike) -> tuple[Array, Array]:
    """Partial derivatives of L = a·ln(xw + b): ∂L/∂w = a·x/(xw + b), ∂L/∂b = a/(xw + b).

    Implements Backward Propagation Algorithm §7.2.3 (fourth example), with g = xw + b and the chain rule
    a·(1/g)·∂g. Returns (∂L/∂w, ∂L/∂b), broadcast together; ValueError where Re(xw + b) ≤ 0.
    """
    w, b, x, a = _arrays(w=w, b=b, x=x, a=a)
    g = _log_argument(w, b, x)
    with _overflow_quietly():
        return _together(a / g * x, a / g)


def chain_rule_z(t: ArrayLike) -> Array:
    """The chain-rule example z = (2t + 1)² + e^{t²}, elementwise.

    Implements Backward Propagation Algorithm §7.6 (z = x² + eʸ with x = 2t + 1, y = t²). +inf, without a
    warning, once e^{t²} exceeds the float64 range (|t| ≳ 26.6).
    """
    t = as_array(t, "t")
    with np.errstate(over="ignore"):
        return (2 * t + 1) ** 2 + np.exp(t * t)


def chain_rule_z_grad(t: ArrayLike) -> Array:
    """Derivative of z = (2t + 1)² + e^{t²}: dz/dt = 4(2t + 1) + 2t·e^{t²}, elementwise.

    Implements Backward Propagation Algorithm §7.6: dz/dt = ∂z/∂x·dx/dt + ∂z/∂y·dy/dt = 2x·2 + eʸ·2t. ±inf
    (the sign of t), without a warning, once 2t·e^{t²} exceeds the float64 range (|t| ≳ 26.5).
    """
    t = as_array(t, "t")
    with np.errstate(over="ignore"):
        return 4 * (2 * t + 1) + 2 * t * np.exp(t * t)


def linear_chain(w1: ArrayLike, b1: ArrayLike, w2: ArrayLike, b2: ArrayLike, x: ArrayLike) -> Array:
    """The two linear stages of Backward Propagation Algorithm §7.6's tape example: y1 = x·w1 + b1,
    y2 = y1·w2 + b2.

    Implements Backward Propagation Algorithm §7.6. Broadcasts elementwise; returns y2.
    """
    w1, b1, w2, b2, x = _arrays(w1=w1, b1=b1, w2=w2, b2=b2, x=x)
    with _overflow_quietly():
        return (x * w1 + b1) * w2 + b2


def linear_chain_grad(w1: ArrayLike, b1: ArrayLike, w2: ArrayLike, b2: ArrayLike,
                      x: ArrayLike) -> tuple[Array, Array, Array, Array]:
    """Partial derivatives of y2 = (x·w1 + b1)·w2 + b2 by the chain rule.

    Implements Backward Propagation Algorithm §7.6: ∂y2/∂w1 = ∂y2/∂y1·∂y1/∂w1 = w2·x, ∂y2/∂b1 = w2,
    ∂y2/∂w2 = y1 = x·w1 + b1, ∂y2/∂b2 = 1. Returns the four, broadcast together.
    """
    w1, b1, w2, b2, x = _arrays(w1=w1, b1=b1, w2=w2, b2=b2, x=x)
    with _overflow_quietly():
        y1 = x * w1 + b1
        return _together(x * w2, w2, y1, np.ones_like(b2))


def _one_layer_logits(W: ArrayLike, x: ArrayLike) -> tuple[Array, Array]:
    W = as_array(W, "W")
    # Further into Backpropagation's network has no bias.
    return as_array(x, "x"), dense_forward(x, W, np.zeros(W.shape[1:]))


def one_layer_loss(W: ArrayLike, x: ArrayLike, p: ArrayLike) -> Any:
    """Further into Backpropagation: the one-layer network and cost, C = −(1/N) Σ p log σ(xW).

    Implements Further into Backpropagation: y = xW (no bias), y_o = σ(y), C = cross_entropy(y_o, p), the
    categorical cross-entropy on the sigmoid outputs; sum over classes, mean over rows.

    Parameters
    ----------
    W : array_like, shape (n_in, K)
    x : array_like, shape (N, n_in) or (n_in,)
    p : array_like, shape (N, K) or (K,)
        Labels, finite and non-negative.

    Returns
    -------
    np.float64 (np.complex128 for complex input)
        C. A ValueError from cross_entropy if some σ(xW) underflows to 0 (xW ≲ −745).
    """
    _, y = _one_layer_logits(W, x)
    return cross_entropy(sigmoid(y), p)


def one_layer_grad(W: ArrayLike, x: ArrayLike, p: ArrayLike) -> Array:
    """Gradient of `one_layer_loss` in Further into Backpropagation's matrix form,
    ∂C/∂W = xᵀ(∂C/∂y_o ⊙ ∂y_o/∂y).

    Implements Further into Backpropagation: ∂C/∂y_o = −p/y_o (with the cost's 1/N),
    ∂y_o/∂y = σ(y)(1 − σ(y)); for one example (1-D x) xᵀ(…) is the outer product.

    Returns
    -------
    ndarray, W's shape
    """
    x, y = _one_layer_logits(W, x)
    dy = cross_entropy_grad(sigmoid(y), p) * sigmoid_grad(y)
    return np.outer(x, dy) if x.ndim == 1 else x.T @ dy


def two_layer_loss(W1: ArrayLike, b1: ArrayLike, W2: ArrayLike, b2: ArrayLike, x: ArrayLike,
                   y: ArrayLike) -> Any:
    """Backpropagation step by step: the two-layer network and loss, softmax cross-entropy of
    σ(xW1 + b1)W2 + b2.

    Implements Backpropagation step by step: Linear + Sigmoid, then Linear + Softmax, with the cross-entropy
    cost; sum over classes, mean over rows for a batch.

    Parameters
    ----------
    W1 : array_like, shape (n_in, H)
    b1 : array_like, shape (H,)
    W2 : array_like, shape (H, K)
    b2 : array_like, shape (K,)
    x : array_like, shape (N, n_in) or (n_in,)
    y : array_like, shape (N, K) or (K,)
        Targets, finite and non-negative.

    Returns
    -------
    np.float64 (np.complex128 for complex input)
    """
    h = sigmoid(dense_forward(x, W1, b1))
    return softmax_cross_entropy(dense_forward(h, W2, b2), y)


def two_layer_grads(W1: ArrayLike, b1: ArrayLike, W2: ArrayLike, b2: ArrayLike, x: ArrayLike,
                    y: ArrayLike) -> tuple[Array, Array, Array, Array]:
    """Gradients of `two_layer_loss`, stage by stage by the chain rule as Backpropagation step by step
    writes them.

    Implements Backpropagation step by step: δ2 = ∂L/∂z2 = softmax(z2)·Σ_k y_k − y (p − y for one-hot y;
    over N for a batch), dW2 = hᵀδ2, db2 = Σ_rows δ2; back through W2 and the sigmoid,
    δ1 = (δ2 W2ᵀ) ⊙ σ′(z1), dW1 = xᵀδ1, db1 = Σ_rows δ1.

    Returns
    -------
    (dW1, db1, dW2, db2), each of its parameter's shape
    """
    z1 = dense_forward(x, W1, b1)
    h = sigmoid(z1)
    delta2 = softmax_cross_entropy_grad(dense_forward(h, W2, b2), y)
    dh, dW2, db2 = dense_backward(h, W2, delta2)
    delta1 = dh * sigmoid_grad(z1)
    _, dW1, db1 = dense_backward(x, W1, delta1)
    return dW1, db1, dW2, db2
