"""Fully connected layers, the sigmoid neuron and layer under the squared error, and a multilayer perceptron
trained by the delta recursion (Backward Propagation Algorithm §7.5, §7.7).

Arrays are batch-first: x has shape (N, n_in), or (n_in,) for one example; W has shape
(n_in, n_out) and b (n_out,), so a layer computes z = xW + b.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array, choose, integer, real_scalar, require_finite
from backprop_ref.activations import (
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from backprop_ref.losses import mse, mse_grad, softmax_cross_entropy, softmax_cross_entropy_grad

__all__ = [
    "dense_forward", "dense_backward", "MLP", "ACTIVATIONS", "LOSSES",
    "sigmoid_neuron_loss", "sigmoid_neuron_grads", "sigmoid_layer_loss", "sigmoid_layer_grads",
]

Array = NDArray[Any]


def _linear(z: Array) -> Array:
    return z


def _linear_grad(z: Array) -> Array:
    return np.ones_like(z)


# name → (f, f′). relu keeps the chapter's value 1 at 0 and leaky_relu its default slope 0.01.
ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "linear": (_linear, _linear_grad),
}
LOSSES: dict[str, tuple[Callable[[Array, Array], Any], Callable[[Array, Array], Array]]] = {
    "mse": (mse, mse_grad),
    "softmax_cross_entropy": (softmax_cross_entropy, softmax_cross_entropy_grad),
}


def _layer(x: ArrayLike, W: ArrayLike) -> tuple[Array, Array]:
    """Validate an input and a weight matrix that it feeds; return both as arrays."""
    x = as_array(x, "x")
    W = as_array(W, "W")
    if W.ndim != 2:
        raise ValueError(f"W must have shape (n_in, n_out); got shape {W.shape}")
    if x.ndim not in (1, 2) or x.shape[-1] != W.shape[0]:
        raise ValueError(
            f"x has shape {x.shape} but W has shape {W.shape}; x must be (N, {W.shape[0]}) or ({W.shape[0]},)"
        )
    return x, W


def dense_forward(x: ArrayLike, W: ArrayLike, b: ArrayLike) -> Array:
    """A fully connected layer, z = xW + b.

    Implements Backward Propagation Algorithm §7.5.2 (z_k = Σ_j x_j w_jk + b_k) in Further into
    Backpropagation's matrix form, one row per example.

    Parameters
    ----------
    x : array_like, shape (N, n_in) or (n_in,)
        Inputs.
    W : array_like, shape (n_in, n_out)
        Weights; W[j, k] connects input j to output k.
    b : array_like, shape (n_out,)
        Biases.

    Returns
    -------
    ndarray, shape (N, n_out) or (n_out,)
        Pre-activations. Products beyond the float64 range give ±inf (NaN where two of opposite
        sign meet in one sum), without a warning.
    """
    x, W = _layer(x, W)
    b = as_array(b, "b")
    if b.shape != W.shape[1:]:
        raise ValueError(f"b has shape {b.shape} but W has shape {W.shape}; b must be ({W.shape[1]},)")
    with np.errstate(over="ignore", invalid="ignore"):
        return x @ W + b


def dense_backward(x: ArrayLike, W: ArrayLike, delta: ArrayLike) -> tuple[Array, Array, Array]:
    """Backward pass of `dense_forward`: (dx, dW, db) from δ = ∂L/∂z.

    Implements Backward Propagation Algorithm §7.5.2 and §7.7: ∂L/∂w_jk = x_j δ_k, summed over the rows of a
    batch, which is Further into Backpropagation's Xᵀ(…) form: dW = xᵀδ, db = Σ_rows δ, and the δ passed
    down, dx = δWᵀ. For one example (1-D x), dW = outer(x, δ) and db = δ.

    Parameters
    ----------
    x : array_like, shape (N, n_in) or (n_in,)
        The layer's inputs.
    W : array_like, shape (n_in, n_out)
        The layer's weights.
    delta : array_like, shape (N, n_out) or (n_out,)
        ∂L/∂z for the layer's pre-activations; rows match x's.

    Returns
    -------
    dx : ndarray, x's shape
    dW : ndarray, W's shape
    db : ndarray, shape (n_out,)
        Sums are not averaged: any 1/N is already in delta.
    """
    x, W = _layer(x, W)
    delta = as_array(delta, "delta")
    expected = x.shape[:-1] + W.shape[1:]
    if delta.shape != expected:
        raise ValueError(f"delta has shape {delta.shape} but x has shape {x.shape} and W has shape "
                         f"{W.shape}; delta must be {expected}")
    with np.errstate(over="ignore", invalid="ignore"):
        if x.ndim == 1:
            return delta @ W.T, np.outer(x, delta), delta.copy()
        return delta @ W.T, x.T @ delta, np.sum(delta, axis=0)


class MLP:
    """A multilayer perceptron whose gradients come from the delta recursion of Backward Propagation
    Algorithm §7.7.

    Layer l computes o_l = f_l(o_{l−1} W_l + b_l), with o_0 = X. The loss is "mse" on the last
    outputs, or "softmax_cross_entropy" on them as logits (then the last activation must be
    "linear"); either is a mean over the rows of the batch.

    Parameters
    ----------
    params : sequence of (W, b)
        W of shape (n_in, n_out), b of shape (n_out,); each layer's n_out is the next one's n_in.
    activations : sequence of str
        One name per layer, from "sigmoid", "tanh", "relu" (value 1 at 0, Backward Propagation Algorithm
        §7.3.2), "leaky_relu" (slope 0.01) and "linear".
    loss : str
        "mse" or "softmax_cross_entropy".

    Attributes
    ----------
    params : list of (W, b)
        float64 arrays (complex128 if given complex); `fit` replaces them.
    activations : list of str
    loss : str
    """

    def __init__(self, params: Sequence[tuple[ArrayLike, ArrayLike]], activations: Sequence[str],
                 loss: str) -> None:
        if len(params) == 0:
            raise ValueError("params must hold at least one (W, b) layer")
        self.params: list[tuple[Array, Array]] = []
        for i, (W, b) in enumerate(params):
            W, b = as_array(W, f"W[{i}]"), as_array(b, f"b[{i}]")
            if W.ndim != 2 or b.shape != W.shape[1:]:
                raise ValueError(f"layer {i}: W has shape {W.shape} and b has shape {b.shape}; "
                                 "they must be (n_in, n_out) and (n_out,)")
            if self.params and self.params[-1][0].shape[1] != W.shape[0]:
                raise ValueError(f"layer {i}: W has shape {W.shape} but layer {i - 1}'s W has shape "
                                 f"{self.params[-1][0].shape}; its n_in must be the previous n_out")
            self.params.append((W, b))
        if isinstance(activations, str) or len(activations) != len(params):
            raise ValueError(f"activations must be a sequence of {len(params)} names, one per layer; "
                             f"got {activations!r}")
        self.activations = [choose(a, "activation", ACTIVATIONS) for a in activations]
        self.loss = choose(loss, "loss", LOSSES)
        if loss == "softmax_cross_entropy" and self.activations[-1] != "linear":
            raise ValueError("softmax_cross_entropy takes logits: the last activation must be 'linear', "
                             f"not {self.activations[-1]!r}")

    @classmethod
    def init(cls, sizes: Sequence[int], activations: Sequence[str], loss: str,
             seed: int | None = None) -> MLP:
        """A new MLP with random weights drawn from np.random.default_rng(seed).

        Weights are normal with mean 0: He (std √(2/n_in)) for relu and leaky_relu layers,
        Glorot/Xavier (std √(2/(n_in + n_out))) for the others. Biases are 0.

        Parameters
        ----------
        sizes : sequence of int
            Layer widths, input first: [n_in, h_1, …, n_out], at least two.
        activations, loss
            As for the constructor.
        seed : int or None
            The generator's seed.
        """
        sizes = [integer(s, f"sizes[{i}]", minimum=1) for i, s in enumerate(sizes)]
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least the input and output widths; got {sizes}")
        if isinstance(activations, str) or len(activations) != len(sizes) - 1:
            raise ValueError(f"activations must be a sequence of {len(sizes) - 1} names, one per layer; "
                             f"got {activations!r}")
        rng = np.random.default_rng(seed)
        params = []
        for n_in, n_out, name in zip(sizes[:-1], sizes[1:], activations):
            var = 2.0 / n_in if name in ("relu", "leaky_relu") else 2.0 / (n_in + n_out)
            params.append((rng.normal(0.0, np.sqrt(var), (n_in, n_out)), np.zeros(n_out)))
        return cls(params, activations, loss)

    def _inputs(self, X: ArrayLike) -> Array:
        X = as_array(X, "X")
        W = self.params[0][0]
        if X.ndim not in (1, 2) or X.shape[-1] != W.shape[0]:
            raise ValueError(f"X has shape {X.shape} but the first W has shape {W.shape}; "
                             f"X must be (N, {W.shape[0]}) or ({W.shape[0]},)")
        return X

    def _targets(self, X: Array, Y: ArrayLike) -> Array:
        Y = as_array(Y, "Y", complex_ok=False)
        out = X.shape[:-1] + self.params[-1][0].shape[1:]
        if Y.shape != out:
            raise ValueError(f"Y has shape {Y.shape} but the network's output for X of shape {X.shape} "
                             f"has shape {out}; they must match")
        return Y

    def forward(self, X: ArrayLike) -> Array:
        """The last layer's outputs (the logits for a softmax_cross_entropy network).

        X of shape (N, n_in) gives (N, n_out); X of shape (n_in,) gives (n_out,).
        """
        a = self._inputs(X)
        for (W, b), name in zip(self.params, self.activations):
            a = ACTIVATIONS[name][0](dense_forward(a, W, b))
        return a

    def predict(self, X: ArrayLike) -> Array:
        """The class index per row: the argmax of the outputs' real parts over the last axis."""
        return np.argmax(self.forward(X).real, axis=-1)

    def loss_and_grads(self, X: ArrayLike, Y: ArrayLike) -> tuple[Any, list[tuple[Array, Array]]]:
        """The loss (mean over rows) and its gradient for every (W, b), by the delta recursion.

        Implements Backward Propagation Algorithm §7.7: δ at the output layer is f′(z_out) ⊙ ∂L/∂o_out (for
        the softmax cross-entropy on a linear layer, ∂L/∂z_out itself); below it δ_J = f′(z_J) ⊙ (δ_K W_Kᵀ);
        each layer's dW = o_prevᵀ δ and db = Σ_rows δ (Backward Propagation Algorithm §7.5.2, via
        dense_backward). The 1/N of the batch mean is in the loss gradient, so it reaches every δ.

        Parameters
        ----------
        X : array_like, shape (N, n_in) or (n_in,)
        Y : array_like, the outputs' shape
            Real targets; for softmax_cross_entropy, finite and non-negative.

        Returns
        -------
        loss : np.float64 (np.complex128 for complex params or X)
        grads : list of (dW, db), aligned with params, each of its parameter's shape
        """
        X = self._inputs(X)
        Y = self._targets(X, Y)
        inputs, pre = [], []
        a = X
        for (W, b), name in zip(self.params, self.activations):
            inputs.append(a)
            pre.append(dense_forward(a, W, b))
            a = ACTIVATIONS[name][0](pre[-1])
        loss_f, loss_grad = LOSSES[self.loss]
        upstream = loss_grad(a, Y)
        grads = []
        for (W, _), name, x, z in reversed(list(zip(self.params, self.activations, inputs, pre))):
            delta = ACTIVATIONS[name][1](z) * upstream
            upstream, dW, db = dense_backward(x, W, delta)
            grads.append((dW, db))
        return loss_f(a, Y), grads[::-1]

    def fit(self, X: ArrayLike, Y: ArrayLike, lr: float, epochs: int, batch_size: int | None = None,
            seed: int | None = None) -> Array:
        """Train by plain gradient descent, θ ← θ − lr·∇L; return each epoch's mean training loss.

        Full batch when batch_size is None; otherwise each epoch visits the rows in an order
        shuffled by np.random.default_rng(seed) in minibatches of batch_size (the last may be
        smaller). An epoch's loss is the row-weighted mean of the losses of its steps, each
        measured before its update.

        Parameters
        ----------
        X : array_like, shape (N, n_in) or (n_in,)
        Y : array_like, the outputs' shape
        lr : float
            Learning rate, finite and positive.
        epochs : int
            Passes over the data, ≥ 0.
        batch_size : int or None
        seed : int or None

        Returns
        -------
        ndarray, shape (epochs,)
        """
        X = self._inputs(X)
        # One example (1-D X and Y) is a batch of one row.
        Y = np.atleast_2d(self._targets(X, Y))
        X = np.atleast_2d(X)
        lr = real_scalar(lr, "lr")
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        epochs = integer(epochs, "epochs")
        rows = X.shape[0]
        size = rows if batch_size is None else integer(batch_size, "batch_size", minimum=1,
                                                       or_none="the full batch")
        rng = np.random.default_rng(seed)
        history = []
        for _ in range(epochs):
            order = np.arange(rows) if batch_size is None else rng.permutation(rows)
            total = 0.0
            for start in range(0, rows, size):
                batch = order[start:start + size]
                loss, grads = self.loss_and_grads(X[batch], Y[batch])
                total = total + loss * len(batch)
                self.params = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(self.params, grads)]
            history.append(total / rows)
        return np.array(history) if history else np.zeros(0)


# ---- Backward Propagation Algorithm §7.5.1, §7.5.2: the sigmoid neuron and layer under the squared error

def _sigmoid_mse_delta(z: Array, t: Array, rows: int) -> Array:
    """δ = ∂L/∂z = (o − t)·o(1 − o)/N with o = σ(z), o(1 − o) read as σ′(z) (no 1 − o cancellation)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return (sigmoid(z) - t) * sigmoid_grad(z) / rows


def _neuron(w: ArrayLike, b: ArrayLike, x: ArrayLike, t: ArrayLike) -> tuple[Array, Array, Array, int]:
    """Validate a neuron's (w, b, x, t); return x, its pre-activation z = x·w + b, t and the rows N."""
    w = as_array(w, "w")
    if w.ndim != 1:
        raise ValueError(f"w must have shape (J,), one weight per input; got shape {w.shape}")
    b = as_array(b, "b")
    if b.ndim != 0:
        raise ValueError(f"b must be a single number, the neuron's bias; got shape {b.shape}")
    x = as_array(x, "x")
    if x.ndim not in (1, 2) or x.shape[-1] != w.shape[0]:
        raise ValueError(f"x has shape {x.shape} but w has shape {w.shape}; "
                         f"x must be (N, {w.shape[0]}) or ({w.shape[0]},)")
    with np.errstate(over="ignore", invalid="ignore"):
        z = x @ w + b
    t = as_array(t, "t", complex_ok=False)
    if t.shape != z.shape:
        raise ValueError(f"t has shape {t.shape} but the neuron's output for x of shape {x.shape} has "
                         f"shape {z.shape}; they must match")
    require_finite(t, "t")
    return x, z, t, _rows(x)


def _rows(x: Array) -> int:
    rows = x.shape[0] if x.ndim == 2 else 1
    if rows == 0:
        raise ValueError(f"x is a batch of no rows (shape {x.shape}); its mean loss is undefined")
    return rows


def sigmoid_neuron_loss(w: ArrayLike, b: ArrayLike, x: ArrayLike, t: ArrayLike) -> Any:
    """A single sigmoid neuron under the squared error, L = ½(o − t)² with o = σ(wᵀx + b).

    Implements Backward Propagation Algorithm §7.5.1 (Gradient of a single neuron): o = σ(z),
    z = Σ_j w_j x_j + b, L = ½(o − t)² for one example. For a batch the mean over rows,
    L = ½ Σ_n (o_n − t_n)² / N, as `mse` reduces.

    Parameters
    ----------
    w : array_like, shape (J,)
        Weights, w[j] from input j.
    b : array_like, shape ()
        The bias.
    x : array_like, shape (N, J) or (J,)
        Inputs.
    t : array_like, shape (N,) or ()
        Targets, one per row; real and finite.

    Returns
    -------
    np.float64 (np.complex128 for complex w, b or x)
    """
    _, z, t, rows = _neuron(w, b, x, t)
    with np.errstate(over="ignore"):
        d = sigmoid(z) - t
        return np.sum(d * d) / (2 * rows)


def sigmoid_neuron_grads(w: ArrayLike, b: ArrayLike, x: ArrayLike, t: ArrayLike) -> tuple[Array, Array]:
    """Gradients of `sigmoid_neuron_loss`: ∂L/∂w_j = (o − t)·o·(1 − o)·x_j and ∂L/∂b = (o − t)·o·(1 − o).

    Implements Backward Propagation Algorithm §7.5.1 (Gradient of a single neuron):
    ∂L/∂w_j1 = (o_1 − t)·∂o_1/∂w_j1 = (o_1 − t)·σ(z_1)(1 − σ(z_1))·∂z_1/∂w_j1 = (o_1 − t)·o_1(1 − o_1)·x_j;
    the bias, which the chapter's figure leaves out, has ∂z/∂b = 1. o(1 − o) is evaluated as
    σ′(z) = e^{−|z|}/(1 + e^{−|z|})², the same number without the cancellation 1 − o (at z = 40, o rounds to
    1 and o(1 − o) to 0; σ′(40) = 4.2e-18). For a batch, the sum over rows divided by N, the loss being
    their mean.

    Parameters
    ----------
    w, b, x, t : as for `sigmoid_neuron_loss`

    Returns
    -------
    dw : ndarray, shape (J,)
    db : ndarray, shape ()
    """
    x, z, t, rows = _neuron(w, b, x, t)
    delta = _sigmoid_mse_delta(z, t, rows)
    with np.errstate(over="ignore", invalid="ignore"):
        return delta @ x if x.ndim == 2 else delta * x, np.asarray(np.sum(delta))


def _sigmoid_layer(W: ArrayLike, b: ArrayLike, x: ArrayLike,
                   t: ArrayLike) -> tuple[Array, Array, Array, Array, int]:
    """Validate a layer's (W, b, x, t); return x, W, z = xW + b, t and the rows N."""
    x, W = _layer(x, W)
    z = dense_forward(x, W, b)
    t = as_array(t, "t", complex_ok=False)
    if t.shape != z.shape:
        raise ValueError(f"t has shape {t.shape} but the layer's output for x of shape {x.shape} has "
                         f"shape {z.shape}; they must match")
    require_finite(t, "t")
    return x, W, z, t, _rows(x)


def sigmoid_layer_loss(W: ArrayLike, b: ArrayLike, x: ArrayLike, t: ArrayLike) -> Any:
    """A fully connected sigmoid layer under the squared error, L = ½ Σ_k (o_k − t_k)², o = σ(xW + b).

    Implements Backward Propagation Algorithm §7.5.2 (Gradient of fully connected layer): J inputs, K
    outputs o_k = σ(z_k), z_k = Σ_j x_j w_jk + b_k, and L = ½ Σ_{k=1}^{K} (o_k − t_k)² for one example: sum
    over outputs, mean over the rows of a batch (`mse` of the outputs).

    Parameters
    ----------
    W : array_like, shape (J, K)
        W[j, k] = w_jk connects input j to output k.
    b : array_like, shape (K,)
    x : array_like, shape (N, J) or (J,)
    t : array_like, shape (N, K) or (K,)
        Targets; real and finite.

    Returns
    -------
    np.float64 (np.complex128 for complex W, b or x)
    """
    _, _, z, t, _ = _sigmoid_layer(W, b, x, t)
    return mse(sigmoid(z), t)


def sigmoid_layer_grads(W: ArrayLike, b: ArrayLike, x: ArrayLike, t: ArrayLike) -> tuple[Array, Array]:
    """Gradients of `sigmoid_layer_loss`: δ_k = (o_k − t_k)·o_k·(1 − o_k), ∂L/∂w_jk = δ_k·x_j, ∂L/∂b_k = δ_k.

    Implements Backward Propagation Algorithm §7.5.2 (Gradient of fully connected layer): ∂L/∂w_jk depends
    on output k alone, so the sum over outputs drops and
    ∂L/∂w_jk = (o_k − t_k)·σ(z_k)(1 − σ(z_k))·x_j = δ_k·x_j. In matrix form dW = xᵀδ (the outer product x δᵀ
    for one example) and db = δ, summed over the rows of a batch, where each δ carries the mean's 1/N.
    o_k(1 − o_k) is evaluated as σ′(z_k), without the cancellation 1 − o_k.

    Parameters
    ----------
    W, b, x, t : as for `sigmoid_layer_loss`

    Returns
    -------
    dW : ndarray, shape (J, K)
    db : ndarray, shape (K,)
        For one example db is δ itself.
    """
    x, W, z, t, rows = _sigmoid_layer(W, b, x, t)
    _, dW, db = dense_backward(x, W, _sigmoid_mse_delta(z, t, rows))
    return dW, db
