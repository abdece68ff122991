"""Recurrent layers: a tanh RNN over a whole sequence with backpropagation through time, and one step
of an LSTM cell, each with its backward pass.

Batch-first: a sequence x has shape (N, T, D) (N sequences of T steps of D features), hidden states
(N, H); a layer computes x_t Wx + h_{t−1} Wh + b, so Wx is (D, ·), Wh (H, ·), b (·,).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array
from backprop_ref.activations import sigmoid, sigmoid_grad, tanh, tanh_grad
from backprop_ref.layers._checks import shaped, tensor

__all__ = ["rnn_forward", "rnn_backward", "lstm_cell_forward", "lstm_cell_backward"]

Array = NDArray[Any]


def _weights(Wx: ArrayLike, Wh: ArrayLike, b: ArrayLike, d: int, h: int, width: int,
             what: str) -> tuple[Array, Array, Array]:
    """Wx (D, width), Wh (H, width), b (width,) validated against x's D and the state's H."""
    Wx = shaped(tensor(Wx, "Wx", "(D, K)"), "Wx", (d, width), f"(D, {what}) for x's D = {d}")
    Wh = shaped(tensor(Wh, "Wh", "(H, K)"), "Wh", (h, width), f"(H, {what}) for the state's H = {h}")
    b = shaped(as_array(b, "b"), "b", (width,), f"{what} = {width}, one per column of Wx")
    return Wx, Wh, b


def _rnn_inputs(x: ArrayLike, h0: ArrayLike, Wx: ArrayLike, Wh: ArrayLike,
                b: ArrayLike) -> tuple[Array, Array, Array, Array, Array]:
    x = tensor(x, "x", "(N, T, D)")
    h0 = tensor(h0, "h0", "(N, H)")
    if h0.shape[0] != x.shape[0]:
        raise ValueError(f"h0 has shape {h0.shape} but x has shape {x.shape}; h0 must be "
                         f"({x.shape[0]}, H), one initial state per sequence")
    hidden = h0.shape[1]
    Wx, Wh, b = _weights(Wx, Wh, b, x.shape[2], hidden, hidden, "H")
    return x, h0, Wx, Wh, b


def _rnn_preactivations(x: Array, h0: Array, Wx: Array, Wh: Array, b: Array) -> tuple[Array, Array]:
    """The states h (N, T, H) and their pre-activations a_t = x_t Wx + h_{t−1} Wh + b (N, T, H)."""
    n, steps, _ = x.shape
    dtype = np.result_type(x, h0, Wx, Wh, b)
    h = np.zeros((n, steps, h0.shape[1]), dtype=dtype)
    a = np.zeros_like(h)
    with np.errstate(over="ignore", invalid="ignore"):
        xw = x @ Wx + b          # every step's input term at once: only the recurrence is sequential
        prev = h0
        for t in range(steps):   # the recurrence: a loop over time, not over the batch
            a[:, t] = xw[:, t] + prev @ Wh
            prev = h[:, t] = tanh(a[:, t])
    return h, a


def rnn_forward(x: ArrayLike, h0: ArrayLike, Wx: ArrayLike, Wh: ArrayLike, b: ArrayLike) -> Array:
    """A vanilla (Elman) tanh RNN over a sequence, h_t = tanh(x_t Wx + h_{t−1} Wh + b).

    Derived in Goodfellow et al. 2016, §10.2 (eq. 10.8, the hidden-to-hidden recurrence, with
    tanh) and CS231n's RNN notes (rnn_step_forward): the same weights at every step, h_0 given.

    Parameters
    ----------
    x : array_like, shape (N, T, D)
        N sequences of T steps.
    h0 : array_like, shape (N, H)
        The initial states.
    Wx : array_like, shape (D, H)
        Input-to-hidden weights.
    Wh : array_like, shape (H, H)
        Hidden-to-hidden weights.
    b : array_like, shape (H,)
        Biases.

    Returns
    -------
    ndarray, shape (N, T, H)
        h_1 … h_T (h_0 is not repeated). Each in [−1, 1], tanh saturating without overflow.
    """
    return _rnn_preactivations(*_rnn_inputs(x, h0, Wx, Wh, b))[0]


def rnn_backward(x: ArrayLike, h0: ArrayLike, Wx: ArrayLike, Wh: ArrayLike, b: ArrayLike,
                 dh: ArrayLike) -> tuple[Array, Array, Array, Array, Array]:
    """Backpropagation through time for `rnn_forward`: (dx, dh0, dWx, dWh, db) from dh = ∂L/∂h.

    Derived in Werbos 1990 (backpropagation through time) and Goodfellow et al. 2016, §10.2.2
    (eqs. 10.18–10.28): the gradient reaching h_t is its own dh_t plus what h_{t+1} sends back,
    g_t = dh_t + δ_{t+1} Whᵀ, and with δ_t = g_t ⊙ tanh′(a_t) (a_t the pre-activation),

        dx_t = δ_t Wxᵀ,  dWx = Σ_t x_tᵀ δ_t,  dWh = Σ_t h_{t−1}ᵀ δ_t,  db = Σ_t Σ_rows δ_t,
        dh0 = δ_1 Whᵀ,

    from t = T down to 1, over every step: a δ that stops after one step (truncated BPTT) is the
    gradient of another function. tanh′(a) is evaluated as sech² a, not 1 − h², so a saturated
    unit keeps its tiny gradient.

    Parameters
    ----------
    x, h0, Wx, Wh, b
        As for `rnn_forward`: the forward's inputs (the states are computed again).
    dh : array_like, shape (N, T, H)
        ∂L/∂h_t for every step (zeros where the loss does not read a step).

    Returns
    -------
    dx : ndarray, shape (N, T, D)
    dh0 : ndarray, shape (N, H)
    dWx : ndarray, shape (D, H)
    dWh : ndarray, shape (H, H)
    db : ndarray, shape (H,)
        Sums over steps and rows, not means.
    """
    x, h0, Wx, Wh, b = _rnn_inputs(x, h0, Wx, Wh, b)
    h, a = _rnn_preactivations(x, h0, Wx, Wh, b)
    dh = shaped(as_array(dh, "dh"), "dh", h.shape, "h's shape, (N, T, H)")
    delta = np.zeros(h.shape, dtype=np.result_type(h, dh))
    carry = np.zeros(h0.shape, dtype=delta.dtype)    # δ_{t+1} Whᵀ, what h_t receives from step t + 1
    with np.errstate(over="ignore", invalid="ignore"):
        for t in reversed(range(x.shape[1])):
            delta[:, t] = (dh[:, t] + carry) * tanh_grad(a[:, t])
            carry = delta[:, t] @ Wh.T
        prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)   # h_{t−1} for every t
        dx = delta @ Wx.T
        dWx = np.einsum("ntd,nth->dh", x, delta)
        dWh = np.einsum("ntk,nth->kh", prev, delta)
        db = np.sum(delta, axis=(0, 1))
    return dx, carry, dWx, dWh, db


def _lstm_inputs(x: ArrayLike, h: ArrayLike, c: ArrayLike, Wx: ArrayLike, Wh: ArrayLike,
                 b: ArrayLike) -> tuple[Array, ...]:
    x = tensor(x, "x", "(N, D)")
    h = tensor(h, "h", "(N, H)")
    c = shaped(as_array(c, "c"), "c", h.shape, "the cell state has the hidden state's shape (N, H)")
    if h.shape[0] != x.shape[0]:
        raise ValueError(f"h has shape {h.shape} but x has shape {x.shape}; h must be ({x.shape[0]}, H)")
    hidden = h.shape[1]
    Wx, Wh, b = _weights(Wx, Wh, b, x.shape[1], hidden, 4 * hidden, "4H")
    return x, h, c, Wx, Wh, b


def _gates(x: Array, h: Array, Wx: Array, Wh: Array, b: Array) -> tuple[Array, Array, Array, Array]:
    """The four gates' pre-activations (a_i, a_f, a_g, a_o), each (N, H), in that order along 4H."""
    with np.errstate(over="ignore", invalid="ignore"):
        a = x @ Wx + h @ Wh + b
    ai, af, ag, ao = np.split(a, 4, axis=1)
    return ai, af, ag, ao


def lstm_cell_forward(x: ArrayLike, h: ArrayLike, c: ArrayLike, Wx: ArrayLike, Wh: ArrayLike,
                      b: ArrayLike) -> tuple[Array, Array]:
    """One step of an LSTM cell: (h_next, c_next), gates i, f, g, o in that order along 4H.

    Derived in Hochreiter & Schmidhuber 1997 (the memory cell and its input and output gates),
    with the forget gate of Gers, Schmidhuber & Cummins 2000, as Goodfellow et al. 2016 §10.10.1
    and CS231n write it: with a = x Wx + h Wh + b split into four H-wide blocks,

        i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o),
        c_next = f ⊙ c + i ⊙ g,  h_next = o ⊙ tanh(c_next).

    Parameters
    ----------
    x : array_like, shape (N, D)
        The step's input.
    h, c : array_like, shape (N, H)
        The previous hidden and cell states.
    Wx : array_like, shape (D, 4H)
        Input weights; columns [0, H) feed i, [H, 2H) f, [2H, 3H) g, [3H, 4H) o.
    Wh : array_like, shape (H, 4H)
        Recurrent weights, the same column blocks.
    b : array_like, shape (4H,)
        Biases, the same blocks (a forget-gate bias of 1 is a common initialisation).

    Returns
    -------
    h_next, c_next : ndarray, shape (N, H)
        The gates saturate without overflow (the package's σ and tanh).
    """
    x, h, c, Wx, Wh, b = _lstm_inputs(x, h, c, Wx, Wh, b)
    ai, af, ag, ao = _gates(x, h, Wx, Wh, b)
    with np.errstate(over="ignore", invalid="ignore"):
        c_next = sigmoid(af) * c + sigmoid(ai) * tanh(ag)
        return sigmoid(ao) * tanh(c_next), c_next


def lstm_cell_backward(x: ArrayLike, h: ArrayLike, c: ArrayLike, Wx: ArrayLike, Wh: ArrayLike,
                       b: ArrayLike, dh_next: ArrayLike, dc_next: ArrayLike) -> tuple[Array, ...]:
    """Backward pass of `lstm_cell_forward`: (dx, dh, dc, dWx, dWh, db) from ∂L/∂h_next and ∂L/∂c_next.

    Derived in Hochreiter & Schmidhuber 1997 (with Gers et al. 2000's forget gate; Goodfellow et
    al. 2016 §10.10.1, CS231n's lstm_step_backward) by the chain rule through each line of the
    forward:

        dc_total = dc_next + dh_next ⊙ o ⊙ tanh′(c_next)   (c_next reaches the loss both ways),
        do = dh_next ⊙ tanh(c_next),  di = dc_total ⊙ g,  dg = dc_total ⊙ i,  df = dc_total ⊙ c,
        da_i = di ⊙ σ′(a_i),  da_f = df ⊙ σ′(a_f),  da_g = dg ⊙ tanh′(a_g),  da_o = do ⊙ σ′(a_o),
        dc = dc_total ⊙ f,  dx = da Wxᵀ,  dh = da Whᵀ,  dWx = xᵀ da,  dWh = hᵀ da,  db = Σ_rows da,

    with da the four blocks in the order i, f, g, o. Each gate's derivative is taken at its own
    pre-activation (σ′(a_i), not σ′(i)) and tanh′ at c_next, the state it was applied to; both are
    evaluated in the saturation-safe forms of `sigmoid_grad` and `tanh_grad`.

    Parameters
    ----------
    x, h, c, Wx, Wh, b
        As for `lstm_cell_forward` (the gates are computed again).
    dh_next, dc_next : array_like, shape (N, H)
        ∂L/∂h_next and ∂L/∂c_next (pass zeros for a state the loss does not read).

    Returns
    -------
    dx : ndarray, shape (N, D)
    dh, dc : ndarray, shape (N, H)
    dWx : ndarray, shape (D, 4H)
    dWh : ndarray, shape (H, 4H)
    db : ndarray, shape (4H,)
        Sums over the rows, not means.
    """
    x, h, c, Wx, Wh, b = _lstm_inputs(x, h, c, Wx, Wh, b)
    dh_next = shaped(as_array(dh_next, "dh_next"), "dh_next", h.shape, "h_next's shape, (N, H)")
    dc_next = shaped(as_array(dc_next, "dc_next"), "dc_next", h.shape, "c_next's shape, (N, H)")
    ai, af, ag, ao = _gates(x, h, Wx, Wh, b)
    with np.errstate(over="ignore", invalid="ignore"):
        i, f, g, o = sigmoid(ai), sigmoid(af), tanh(ag), sigmoid(ao)
        c_next = f * c + i * g
        dc_total = dc_next + dh_next * o * tanh_grad(c_next)
        da = np.concatenate([dc_total * g * sigmoid_grad(ai), dc_total * c * sigmoid_grad(af),
                             dc_total * i * tanh_grad(ag), dh_next * tanh(c_next) * sigmoid_grad(ao)],
                            axis=1)
        return da @ Wx.T, da @ Wh.T, dc_total * f, x.T @ da, h.T @ da, np.sum(da, axis=0)
