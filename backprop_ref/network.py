"""Fully connected layers and a multilayer perceptron trained by the delta recursion (003 §7.5, §7.7).

Arrays are batch-first: x has shape (N, n_in), or (n_in,) for one example; W has shape
(n_in, n_out) and b (n_out,), so a layer computes z = xW + b.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array, choose, integer, real_scalar
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

__all__ = ["dense_forward", "dense_backward", "MLP", "ACTIVATIONS", "LOSSES"]

Array = NDArray[Any]


def _linear(z: Array) -> Array:
    return z


def _linear_grad(z: Array) -> Array:
    return np.ones_like(z)


# name → (f, f′). relu keeps the seed's value 1 at 0 and leaky_relu its default slope 0.01.
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

    Implements 003 §7.5.2 (z_k = Σ_j x_j w_jk + b_k) in 000's matrix form, one row per example.

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

    Implements 003 §7.5.2 and §7.7: ∂L/∂w_jk = x_j δ_k, summed over the rows of a batch, which
    is 000's Xᵀ(…) form: dW = xᵀδ, db = Σ_rows δ, and the δ passed down, dx = δWᵀ. For one
    example (1-D x), dW = outer(x, δ) and db = δ.

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
    """A multilayer perceptron whose gradients come from the delta recursion of 003 §7.7.

    Layer l computes o_l = f_l(o_{l−1} W_l + b_l), with o_0 = X. The loss is "mse" on the last
    outputs, or "softmax_cross_entropy" on them as logits (then the last activation must be
    "linear"); either is a mean over the rows of the batch.

    Parameters
    ----------
    params : sequence of (W, b)
        W of shape (n_in, n_out), b of shape (n_out,); each layer's n_out is the next one's n_in.
    activations : sequence of str
        One name per layer, from "sigmoid", "tanh", "relu" (value 1 at 0, 003 §7.3.2),
        "leaky_relu" (slope 0.01) and "linear".
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

        Implements 003 §7.7: δ at the output layer is f′(z_out) ⊙ ∂L/∂o_out (for the softmax
        cross-entropy on a linear layer, ∂L/∂z_out itself); below it δ_J = f′(z_J) ⊙ (δ_K W_Kᵀ);
        each layer's dW = o_prevᵀ δ and db = Σ_rows δ (003 §7.5.2, via dense_backward). The 1/N of
        the batch mean is in the loss gradient, so it reaches every δ.

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
