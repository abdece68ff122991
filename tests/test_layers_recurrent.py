"""The tanh RNN (backpropagation through time) and the LSTM cell: hand-computed steps, causality, the
checker on each backward over long sequences, and planted bugs (BPTT truncated, a gate derivative at the
wrong point)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from backprop_ref.gradcheck import check_vjp
from backprop_ref.layers import lstm_cell_backward, lstm_cell_forward, rnn_backward, rnn_forward
from backprop_ref.layers.recurrent import _rnn_preactivations

RNG = np.random.default_rng(5)


def rnn_params(N=2, T=8, D=3, H=4, scale=0.5):
    return (RNG.normal(size=(N, T, D)), RNG.normal(size=(N, H)), RNG.normal(size=(D, H)) * scale,
            RNG.normal(size=(H, H)) * scale, RNG.normal(size=H))


def lstm_params(N=3, D=2, H=3):
    return (RNG.normal(size=(N, D)), RNG.normal(size=(N, H)), RNG.normal(size=(N, H)),
            RNG.normal(size=(D, 4 * H)), RNG.normal(size=(H, 4 * H)), RNG.normal(size=4 * H))


# ---- the RNN ------------------------------------------------------------------------------------

# Wx = Wh = 1, b = 0, h_0 = 0: h_1 = tanh(x_1) = 0.5, h_2 = tanh(x_2 + h_1) = 0.8
SCALAR = (np.array([[[np.arctanh(0.5)], [np.arctanh(0.8) - 0.5]]]), np.zeros((1, 1)), np.ones((1, 1)),
          np.ones((1, 1)), np.zeros(1))


def test_a_scalar_rnn_by_hand():
    np.testing.assert_allclose(rnn_forward(*SCALAR)[0, :, 0], [0.5, 0.8], rtol=1e-15)


def test_bptt_by_hand():
    # L = h_2: δ_2 = tanh′(a_2) = 1 − 0.8² = 0.36, δ_1 = δ_2·Wh·tanh′(a_1) = 0.36·0.75 = 0.27
    x = SCALAR[0]
    dx, dh0, dWx, dWh, db = rnn_backward(*SCALAR, np.array([[[0.0], [1.0]]]))
    np.testing.assert_allclose(dx[0, :, 0], [0.27, 0.36], rtol=1e-14)
    np.testing.assert_allclose(dh0, [[0.27]], rtol=1e-14)                  # δ_1·Wh
    np.testing.assert_allclose(dWh, [[0.5 * 0.36 + 0.0 * 0.27]], rtol=1e-14)   # h_1 δ_2 + h_0 δ_1
    np.testing.assert_allclose(dWx, [[x[0, 0, 0] * 0.27 + x[0, 1, 0] * 0.36]], rtol=1e-14)
    np.testing.assert_allclose(db, [0.63], rtol=1e-14)


def test_one_step_is_a_tanh_layer_and_without_recurrence_the_steps_are_independent():
    x, h0, Wx, Wh, b = rnn_params(T=5)
    first = rnn_forward(x[:, :1], h0, Wx, Wh, b)[:, 0]
    np.testing.assert_allclose(first, np.tanh(x[:, 0] @ Wx + h0 @ Wh + b), rtol=1e-15)
    np.testing.assert_allclose(rnn_forward(x, h0, Wx, 0 * Wh, b), np.tanh(x @ Wx + b), rtol=1e-15)


def test_the_rnn_is_causal_forward_and_backward():
    x, h0, Wx, Wh, b = rnn_params(T=8)
    h = rnn_forward(x, h0, Wx, Wh, b)
    np.testing.assert_array_equal(rnn_forward(x[:, :3], h0, Wx, Wh, b), h[:, :3])
    dh = np.zeros_like(h)
    dh[:, 3] = RNG.normal(size=h[:, 3].shape)     # the loss reads h_4 alone
    dx = rnn_backward(x, h0, Wx, Wh, b, dh)[0]
    np.testing.assert_array_equal(dx[:, 4:], 0.0)  # later inputs do not reach h_4
    assert np.all(dx[:, :4] != 0)                   # every earlier one does: BPTT runs all the way back


def test_a_saturated_unit_keeps_its_tiny_gradient():
    # a = 20: tanh′(20) = sech² 20 = 4e^{−40}/(1 + e^{−40})² ≈ 1.7e-17, where 1 − tanh² 20 rounds to 0
    x = np.full((1, 1, 1), 20.0)
    one = np.ones((1, 1))
    dx = rnn_backward(x, np.zeros((1, 1)), one, one, np.zeros(1), np.ones((1, 1, 1)))[0]
    e = np.exp(-40.0)
    np.testing.assert_allclose(dx, [[[4 * e / (1 + e) ** 2]]], rtol=1e-14)
    assert 1 - np.tanh(20.0) ** 2 == 0.0


@pytest.mark.parametrize("method", ["central", "complex"])
@pytest.mark.parametrize("T", [1, 2, 8, 12])
def test_bptt_is_the_vjp_of_the_forward(T, method):
    params = rnn_params(T=T)
    r = check_vjp(rnn_forward, params, lambda dh: rnn_backward(*params, dh), method=method)
    assert r.passed, str(r)


def truncated_bptt(x, h0, Wx, Wh, b, dh):
    """BPTT truncated to one step: each δ_t sees its own dh_t only, nothing from step t + 1."""
    h, _ = _rnn_preactivations(x, h0, Wx, Wh, b)
    delta = dh * (1 - h ** 2)
    prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    return (delta @ Wx.T, delta[:, 0] @ Wh.T, np.einsum("ntd,nth->dh", x, delta),
            np.einsum("ntk,nth->kh", prev, delta), delta.sum(axis=(0, 1)))


def test_bptt_truncated_to_one_step_fails():
    params = rnn_params(T=8)
    r = check_vjp(rnn_forward, params, lambda dh: truncated_bptt(*params, dh), seed=9)
    assert r.verdict == "fail"
    assert {k for k, v in r.by_argument.items() if not v.passed} == {"x", "h0", "Wx", "Wh", "b"}
    # with one step there is nothing to truncate: the same code is right
    one = rnn_params(T=1)
    assert check_vjp(rnn_forward, one, lambda dh: truncated_bptt(*one, dh)).passed


# ---- the LSTM cell ------------------------------------------------------------------------------

def lstm_both(x, h, c, Wx, Wh, b):
    """(h_next, c_next) side by side, (N, 2H): one array for check_vjp, named by the cell's arguments."""
    return np.concatenate(lstm_cell_forward(x, h, c, Wx, Wh, b), axis=1)


def split(u):
    """A cotangent of `lstm_both` as (dh_next, dc_next)."""
    return np.split(u, 2, axis=1)


def test_an_lstm_cell_with_zero_weights_by_hand():
    # a = b = 0: i = f = o = σ(0) = ½, g = tanh 0 = 0; c_next = ½c, h_next = ½ tanh(½c)
    H = 2
    c = np.array([[1.0, -4.0]])
    h_next, c_next = lstm_cell_forward(np.ones((1, 3)), np.ones((1, H)), c, np.zeros((3, 4 * H)),
                                       np.zeros((H, 4 * H)), np.zeros(4 * H))
    np.testing.assert_array_equal(c_next, [[0.5, -2.0]])
    np.testing.assert_allclose(h_next, 0.5 * np.tanh([[0.5, -2.0]]), rtol=1e-15)


def test_the_gate_order_is_i_f_g_o():
    # one unit, inputs zero, each gate's bias chosen alone: only the block at its position moves it
    big = 40.0   # σ(40) = 1 − 4e-18 = 1.0 in float64, σ(−40) = 4e-18
    c = np.array([[3.0]])
    zeros = (np.zeros((1, 1)), np.zeros((1, 1)))

    def step(i, f, g, o):
        return lstm_cell_forward(zeros[0], zeros[1], c, np.zeros((1, 4)), np.zeros((1, 4)),
                                 np.array([i, f, g, o]))
    h_next, c_next = step(-big, big, 0.0, big)     # input closed, forget open: the cell is kept
    np.testing.assert_allclose(c_next, c, rtol=1e-15)
    np.testing.assert_allclose(h_next, np.tanh(c), rtol=1e-15)
    h_next, c_next = step(big, -big, 1.0, -big)    # input open, forget closed: c_next = g = tanh 1
    np.testing.assert_allclose(c_next, np.tanh([[1.0]]), rtol=1e-15)
    assert abs(h_next[0, 0]) < 1e-17                # output closed


@pytest.mark.parametrize("method", ["central", "complex"])
def test_the_lstm_backward_is_the_vjp(method):
    for _ in range(3):
        params = lstm_params()
        r = check_vjp(lstm_both, params, lambda u, p=params: lstm_cell_backward(*p, *split(u)), method=method)
        assert r.passed, str(r)


def test_the_lstm_backward_by_its_two_outputs():
    # dh_next alone and dc_next alone add up to both at once (the backward is linear in them)
    params = lstm_params()
    dh, dc = RNG.normal(size=params[1].shape), RNG.normal(size=params[1].shape)
    both = lstm_cell_backward(*params, dh, dc)
    only_h, only_c = lstm_cell_backward(*params, dh, 0 * dc), lstm_cell_backward(*params, 0 * dh, dc)
    parts = [a + b for a, b in zip(only_h, only_c)]
    for whole, part in zip(both, parts):
        np.testing.assert_allclose(whole, part, rtol=1e-12, atol=1e-14)
    # through c_next alone the cell state's own gradient is the forget gate: dc = dc_next ⊙ f
    x, h, _, Wx, Wh, b = params
    f = 1 / (1 + np.exp(-(x @ Wx + h @ Wh + b)[:, 3:6]))   # columns [H, 2H) with H = 3
    np.testing.assert_allclose(only_c[2], dc * f, rtol=1e-14)


def wrong_point(at):
    """lstm_cell_backward with one derivative taken at the wrong point: σ′ of the input gate's value
    rather than its pre-activation ("gate"), or tanh′ of the old cell state rather than c_next ("cell")."""
    def backward(x, h, c, Wx, Wh, b, dh_next, dc_next):
        H = h.shape[1]
        a = x @ Wx + h @ Wh + b
        ai, af, ag, ao = (a[:, k * H:(k + 1) * H] for k in range(4))
        def sig(z):
            return 1 / (1 + np.exp(-z))
        i, f, g, o = sig(ai), sig(af), np.tanh(ag), sig(ao)
        c_next = f * c + i * g
        state = c if at == "cell" else c_next
        dct = dc_next + dh_next * o * (1 - np.tanh(state) ** 2)
        di = i if at == "gate" else ai
        da = np.concatenate([dct * g * sig(di) * (1 - sig(di)), dct * c * f * (1 - f),
                             dct * i * (1 - g ** 2), dh_next * np.tanh(c_next) * o * (1 - o)], axis=1)
        return da @ Wx.T, da @ Wh.T, dct * f, x.T @ da, h.T @ da, da.sum(axis=0)
    return backward


@pytest.mark.parametrize("at", ["gate", "cell"])
def test_a_derivative_at_the_wrong_point_fails(at):
    params = lstm_params()
    assert check_vjp(lstm_both, params, lambda u: wrong_point("none")(*params, *split(u))).passed
    r = check_vjp(lstm_both, params, lambda u: wrong_point(at)(*params, *split(u)), seed=10)
    assert r.verdict == "fail"


def test_saturated_gates_are_quiet():
    x, h, c, Wx, Wh, b = lstm_params()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h_next, c_next = lstm_cell_forward(x * 1e3, h, c, Wx * 1e3, Wh, b)
        grads = lstm_cell_backward(x * 1e3, h, c, Wx * 1e3, Wh, b, np.ones_like(h), np.ones_like(c))
        hs = rnn_forward(*rnn_params(scale=1e3))
    assert np.all(np.isfinite(h_next)) and np.all(np.isfinite(c_next)) and np.all(np.abs(hs) <= 1)
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_bad_input_names_the_argument():
    x, h0, Wx, Wh, b = rnn_params(T=3)
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, D\)"):
        rnn_forward(x[0], h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"h0 has shape \(1, 4\) but x has shape \(2, 3, 3\)"):
        rnn_forward(x, h0[:1], Wx, Wh, b)
    with pytest.raises(ValueError, match=r"Wh has shape \(4, 3\) but must have shape \(4, 4\)"):
        rnn_forward(x, h0, Wx, Wh[:, :3], b)
    with pytest.raises(ValueError, match=r"Wx has shape \(2, 4\) but must have shape \(3, 4\)"):
        rnn_forward(x, h0, Wx[:2], Wh, b)
    with pytest.raises(ValueError, match=r"dh has shape \(2, 2, 4\) but must have shape \(2, 3, 4\)"):
        rnn_backward(x, h0, Wx, Wh, b, np.zeros((2, 2, 4)))
    x, h, c, Wx, Wh, b = lstm_params()
    with pytest.raises(ValueError, match=r"b has shape \(3,\) but must have shape \(12,\) \(4H = 12"):
        lstm_cell_forward(x, h, c, Wx, Wh, b[:3])
    with pytest.raises(ValueError, match=r"c has shape \(3, 2\) but must have shape \(3, 3\)"):
        lstm_cell_forward(x, h, c[:, :2], Wx, Wh, b)
    with pytest.raises(ValueError, match=r"dc_next has shape \(3,\) but must have shape \(3, 3\)"):
        lstm_cell_backward(x, h, c, Wx, Wh, b, h, c[:, 0])
