"""The layers beyond the dense layer, one record per backward pass (issue 14).

The multiclass hinge loss (a "gradient" record, like the chapter's losses), then batch norm, layer norm,
dropout, embeddings, convolution, max and average pooling, the tanh RNN over time, the LSTM cell and
attention as "vjp" records: forward(*args) → y, derivative(*args, dy) → the gradients of the wrt
arguments, checked by `check_vjp` with the case's cotangent dy. Each has its TensorFlow twin (in
TensorFlow ops: NCHW inputs transposed to NHWC for tf.nn.conv2d and the pools), a domain that reaches
the hard parts (ties in pooling from a grid of values, repeated ids from a table smaller than the ids,
masks with rows blocked except one position and rows blocked entirely, sequences of 8 to 10 steps),
and specials at the kinks and ties.

Where a public backward's argument order is not the record's (forward's arguments, then dy), the
record's derivative is a small adapter that keeps the public function's name and docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from backprop_ref import layers as L
from backprop_ref.catalogue import ROW_SIZES, ROWS, Array, Formula, _tf_mean_rows
from backprop_ref.domains import Arg, Case, Cotangent, Domain, Grid, Ids, Masks, Paired, Reals
from backprop_ref.layers.conv import output_size

__all__ = ["RECORDS"]


def _adapter(public: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Name an argument-reordering adapter after the public backward it calls (its __name__ is the
    record's derivative name, its docstring the one that cites the section). Not functools.wraps: the
    adapter's own signature must stay visible (wraps would make inspect report the public one)."""
    def name(adapter: Callable[..., Any]) -> Callable[..., Any]:
        adapter.__name__ = adapter.__qualname__ = public.__name__
        adapter.__doc__ = public.__doc__
        return adapter
    return name


def _rows(kernel: str, stride: str = "stride", padding: str | None = "padding", axis: str = "Hx"
          ) -> Callable[[Mapping[str, int], Mapping[str, Any]], int]:
    """The output size along `axis` (`output_size`) from the drawn sizes and the keyword constants;
    `kernel` names a dimension, or a keyword (the pools' size); a stride of None is the kernel."""
    def rule(sizes: Mapping[str, int], kwargs: Mapping[str, Any]) -> int:
        k = sizes[kernel] if kernel in sizes else kwargs[kernel]
        s = kwargs[stride] if kwargs[stride] is not None else k
        return output_size(sizes[axis], k, s, kwargs[padding] if padding else 0)
    return rule


# ---- adapters: the record's argument order (forward's arguments, then dy) -----------------------

@_adapter(L.dropout_backward)
def _dropout_vjp(x: Array, mask: Array, dy: Array, p: float) -> Array:
    return L.dropout_backward(dy, mask, p)


@_adapter(L.embedding_backward)
def _embedding_vjp(ids: Array, W: Array, dy: Array) -> Array:
    return L.embedding_backward(ids, dy, W.shape[0])


@_adapter(L.conv2d_backward)
def _conv2d_vjp(x: Array, W: Array, b: Array, dy: Array, stride: int, padding: int) -> tuple[Array, ...]:
    return L.conv2d_backward(x, W, dy, stride, padding)


def _lstm_cell(x: Array, h: Array, c: Array, Wx: Array, Wh: Array, b: Array) -> Array:
    """`lstm_cell_forward`'s (h_next, c_next) side by side, (N, 2H): one output array y."""
    return np.concatenate(L.lstm_cell_forward(x, h, c, Wx, Wh, b), axis=1)


@_adapter(L.lstm_cell_backward)
def _lstm_cell_vjp(x: Array, h: Array, c: Array, Wx: Array, Wh: Array, b: Array,
                   dy: Array) -> tuple[Array, ...]:
    dh_next, dc_next = np.split(dy, 2, axis=1)
    return L.lstm_cell_backward(x, h, c, Wx, Wh, b, dh_next, dc_next)


@_adapter(L.attention_backward)
def _attention_vjp(q: Array, k: Array, v: Array, mask: Array, dout: Array) -> tuple[Array, ...]:
    return L.attention_backward(q, k, v, dout, mask)


# ---- the TensorFlow twins ------------------------------------------------------------------------

def _tf_hinge(tf: Any, z: Any, labels: Any, margin: float = 1.0) -> Any:
    """Σ_{j≠y} relu(z_j − z_y + Δ) per row, mean over rows; relu′(0) = 0 in TensorFlow, our kink value."""
    onehot = tf.one_hot(labels, tf.shape(z)[-1], dtype=tf.float64)
    zy = tf.reduce_sum(z * onehot, axis=-1, keepdims=True)
    return _tf_mean_rows(tf, tf.reduce_sum(tf.nn.relu(z - zy + margin) * (1.0 - onehot), axis=-1))


def _tf_normalise(tf: Any, x: Any, gamma: Any, beta: Any, axes: list[int], eps: float) -> Any:
    """γ·(x − μ)/√(σ² + ε) + β over `axes`, the biased variance, the mean in two passes.

    Not tf.nn.batch_normalization: it folds the shift into β − μ·γ/σ and adds x·γ/σ to it, which rounds
    at the size of μ/σ rather than of y (a one-row batch, y = β = 1e-266, comes out 0). Nor
    tf.nn.moments' one-pass mean: over a constant column it leaves x − μ = ±ulp(x), which 1/√ε turns
    into x̂ ≈ 1e-12 where the true x̂ is 0. The second pass, μ + mean(x − μ), adds a term whose
    derivative is 0 (1/N − 1/N): the tape's gradient is that of the formula."""
    mean = tf.reduce_mean(x, axis=axes, keepdims=True)
    mean = mean + tf.reduce_mean(x - mean, axis=axes, keepdims=True)
    var = tf.reduce_mean(tf.square(x - mean), axis=axes, keepdims=True)
    return (x - mean) * tf.math.rsqrt(var + eps) * gamma + beta


def _nhwc(tf: Any, x: Any, padding: int = 0) -> Any:
    """NCHW zero-padded by `padding` on each spatial side, as NHWC (TensorFlow's CPU layout)."""
    x = tf.pad(x, [[0, 0], [0, 0], [padding, padding], [padding, padding]])
    return tf.transpose(x, [0, 2, 3, 1])


def _tf_conv2d(tf: Any, x: Any, W: Any, b: Any, stride: int = 1, padding: int = 0) -> Any:
    """tf.nn.conv2d (a cross-correlation, as ours) on the padded NHWC input, W as (KH, KW, C, F)."""
    y = tf.nn.conv2d(_nhwc(tf, x, padding), tf.transpose(W, [2, 3, 1, 0]), strides=stride, padding="VALID")
    return tf.transpose(y, [0, 3, 1, 2]) + b[:, None, None]


def _tf_max_pool2d(tf: Any, x: Any, size: int, stride: int | None = None) -> Any:
    """tf.nn.max_pool2d itself: its CPU gradient sends a tie to the first maximum in row-major order,
    our convention (pinned in tests/test_layers_pool.py), so it is compared at the ties too."""
    y = tf.nn.max_pool2d(_nhwc(tf, x), size, size if stride is None else stride, "VALID")
    return tf.transpose(y, [0, 3, 1, 2])


def _tf_avg_pool2d(tf: Any, x: Any, size: int, stride: int | None = None, padding: int = 0) -> Any:
    """tf.nn.avg_pool2d on the zero-padded input: the padding's zeros are counted, as ours."""
    y = tf.nn.avg_pool2d(_nhwc(tf, x, padding), size, size if stride is None else stride, "VALID")
    return tf.transpose(y, [0, 3, 1, 2])


def _tf_rnn(tf: Any, x: Any, h0: Any, Wx: Any, Wh: Any, b: Any) -> Any:
    h, out = h0, []
    for t in range(x.shape[1]):
        h = tf.math.tanh(tf.matmul(x[:, t], Wx) + tf.matmul(h, Wh) + b)
        out.append(h)
    return tf.stack(out, axis=1)


def _tf_lstm_cell(tf: Any, x: Any, h: Any, c: Any, Wx: Any, Wh: Any, b: Any) -> Any:
    i, f, g, o = tf.split(tf.matmul(x, Wx) + tf.matmul(h, Wh) + b, 4, axis=1)
    c_next = tf.math.sigmoid(f) * c + tf.math.sigmoid(i) * tf.math.tanh(g)
    return tf.concat([tf.math.sigmoid(o) * tf.math.tanh(c_next), c_next], axis=1)


def _tf_attention(tf: Any, q: Any, k: Any, v: Any, mask: Any) -> Any:
    """softmax(q kᵀ/√d) v over the allowed keys, a fully masked row 0 (our convention). Masked scores
    are replaced before exp (no inf reaches the tape through the branch tf.where does not take), and
    the shift by the row's maximum is a constant to the tape (the softmax does not depend on it)."""
    s = tf.matmul(q, k, transpose_b=True) / tf.sqrt(tf.cast(tf.shape(q)[-1], tf.float64))
    mask = tf.broadcast_to(mask, tf.shape(s))
    low = tf.fill(tf.shape(s), tf.constant(-np.inf, tf.float64))
    top = tf.stop_gradient(tf.reduce_max(tf.where(mask, s, low), axis=-1, keepdims=True))
    top = tf.where(tf.math.is_finite(top), top, tf.zeros_like(top))
    e = tf.where(mask, tf.exp(tf.where(mask, s, top) - top), tf.zeros_like(s))
    total = tf.reduce_sum(e, axis=-1, keepdims=True)
    return tf.matmul(e / tf.where(total > 0, total, tf.ones_like(total)), v)


# ---- specials ------------------------------------------------------------------------------------

def _vjp(label: str, *args: Any, dy: Any, wrt: tuple[int, ...], **kwargs: Any) -> Case:
    """A backward pass's special: its arguments, its cotangent dy and the differentiated arguments."""
    return Case(tuple(np.asarray(a) for a in args), kwargs, wrt, label, np.asarray(dy, dtype=np.float64))


def _grid(shape: tuple[int, ...], seed: int, scale: float = 1.0) -> Array:
    """A fixed, reproducible array for a special (normal entries × scale)."""
    return np.random.default_rng(seed).normal(size=shape) * scale


# CS231n's worked example (cat, car, frog) and two margins exactly at the kink (z_j − z_y + Δ = 0).
HINGE_SPECIALS = (
    Case((np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]), np.array([0, 1, 2])), {}, (0,),
         "CS231n's cat, car and frog"),
    Case((np.array([[1.0, 0.0, 3.0], [2.0, 2.5, 1.5]]), np.array([0, 1])), {}, (0,),
         "margins at the kink: z_1 − z_0 + 1 = 0, z_2 − z_1 + 1 = 0"),
    Case((np.array([0.5, -2.0, 0.5, 7.0]), np.array(2)), {"margin": 0.0}, (0,),
         "Δ = 0, a tie with the true class"),
)

# The 2 × 2 windows that tile TIES: two-way ties at the maximum (3 = 3 and 2 = 2) beside windows without
# one. A tie of more than two would leave the claim one vertex of a hull of many pieces, which finite
# differences cannot decide (the checker says so: inconclusive).
TIES = np.array([[[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 1.0, 1.0],
                   [0.0, -1.0, 2.0, 0.5], [0.5, 0.0, 2.0, -1.0]]]])
# Stride 1 over SHARED: the windows at (0, 1), (1, 1) and (2, 1) hold two-way ties, and the maximum
# at (2, 1) is the first maximum of four windows (its dy is the sum of theirs).
SHARED = np.array([[[[0.1, 0.9, 0.9, 0.2], [0.3, 0.5, 0.4, 0.8],
                     [0.6, 0.7, 0.7, 0.1], [0.2, 0.0, 0.3, 0.4]]]])

RECORDS: tuple[Formula, ...] = (
    Formula(
        name="multiclass_hinge", section="CS231n",
        equation="∂L/∂z_j = 1[m_j > 0]/N (j ≠ y), ∂L/∂z_y = −Σ_j 1[m_j > 0]/N", kind="gradient",
        forward=L.multiclass_hinge, derivative=L.multiclass_hinge_grad, twin=_tf_hinge,
        domain=Domain((Arg("z", ROWS, Reals(-10, 10)), Arg("labels", ("N?",), Ids("K"))), ROW_SIZES,
                      {"margin": (1.0, 0.5, 0.0)}),
        specials=HINGE_SPECIALS, smooth=False,
    ),
    Formula(
        name="batch_norm", section="Ioffe & Szegedy 2015",
        equation="dx = (dx̂ − mean dx̂ − x̂·mean(dx̂·x̂))/√(σ² + ε), dγ = Σ dy·x̂",
        kind="vjp", forward=L.batch_norm_forward, derivative=L.batch_norm_backward,
        twin=lambda tf, x, gamma, beta, eps=1e-5: _tf_normalise(tf, x, gamma, beta, [0], eps),
        domain=Domain((Arg("x", ("N", "D"), Reals(-100, 100)), Arg("gamma", ("D",), Reals(-3, 3)),
                       Arg("beta", ("D",), Reals(-3, 3))), {"N": (1, 5), "D": (1, 4)}, {"eps": (1e-5, 1e-3)},
                      wrt=(0, 1, 2), cotangent=Cotangent(("N", "D"), Reals(-3, 3))),
        specials=(
            _vjp("a constant column: σ² = 0, ε alone under the root",
                 np.array([[2.0, 1.0], [2.0, -1.0], [2.0, 0.5]]), np.array([1.5, -1.0]), np.array([0.0, 1.0]),
                 dy=[[1.0, 0.5], [-2.0, 1.0], [0.5, 3.0]], wrt=(0, 1, 2)),
            _vjp("one row: x̂ = 0, y = β", np.array([[3.0, -4.0]]), np.array([2.0, 1.0]), np.array([0.5, 0.5]),
                 dy=[[1.0, -1.0]], wrt=(0, 1, 2)),
        ),
    ),
    Formula(
        name="layer_norm", section="Ba et al. 2016",
        equation="dx = (dx̂ − mean dx̂ − x̂·mean(dx̂·x̂))/√(σ² + ε) over the last axis",
        kind="vjp", forward=L.layer_norm_forward, derivative=L.layer_norm_backward,
        twin=lambda tf, x, gamma, beta, eps=1e-5: _tf_normalise(tf, x, gamma, beta, [-1], eps),
        domain=Domain((Arg("x", ("N?", "T?", "D"), Reals(-100, 100)), Arg("gamma", ("D",), Reals(-3, 3)),
                       Arg("beta", ("D",), Reals(-3, 3))), {"N": (1, 3), "T": (1, 3), "D": (1, 5)},
                      {"eps": (1e-5, 1e-3)}, wrt=(0, 1, 2),
                      cotangent=Cotangent(("N?", "T?", "D"), Reals(-3, 3))),
        specials=(
            _vjp("a constant row: σ² = 0", np.array([[1.0, 1.0, 1.0], [0.0, 2.0, -2.0]]),
                 np.array([1.0, 2.0, 3.0]), np.zeros(3), dy=[[1.0, -1.0, 0.5], [0.25, 1.0, -2.0]],
                 wrt=(0, 1, 2)),
        ),
    ),
    Formula(
        name="dropout", section="Srivastava et al. 2014", equation="dx = dy·mask/(1 − p)", kind="vjp",
        forward=L.dropout_forward, derivative=_dropout_vjp, twin=lambda tf, x, mask, p: x * mask / (1.0 - p),
        domain=Domain((Arg("x", ("A?", "B?"), Reals(-1e4, 1e4)),
                       Arg("mask", ("A?", "B?"), Grid(0.0, 1.0, 2))),
                      {"A": (1, 5), "B": (1, 5)}, {"p": (0.0, 0.25, 0.5, 0.9)},
                      cotangent=Cotangent(("A?", "B?"), Reals(-3, 3))),
        specials=(
            _vjp("every unit dropped", np.array([1.0, -2.0, 3.0]), np.zeros(3), dy=[1.0, 1.0, 1.0],
                 wrt=(0,), p=0.5),
            _vjp("p = 0 with every unit kept: the identity", np.array([[1.0, -2.0]]), np.ones((1, 2)),
                 dy=[[0.5, 2.0]], wrt=(0,), p=0.0),
        ),
    ),
    Formula(
        name="embedding", section="Bengio et al. 2003", equation="dW[v] = Σ_{positions with id v} dy",
        kind="vjp", forward=L.embedding_forward, derivative=_embedding_vjp,
        twin=lambda tf, ids, W: tf.gather(W, ids),
        # a table of 1 to 4 rows indexed by up to 12 ids: repeated ids in nearly every draw
        domain=Domain((Arg("ids", ("N?", "S"), Ids("V")), Arg("W", ("V", "D"), Reals(-3, 3))),
                      {"N": (1, 3), "S": (1, 4), "V": (1, 4), "D": (1, 3)}, wrt=(1,),
                      cotangent=Cotangent(("N?", "S", "D"), Reals(-3, 3))),
        specials=(
            _vjp("one id repeated everywhere", np.array([[2, 2, 2], [2, 2, 2]]), _grid((4, 2), 1),
                 dy=_grid((2, 3, 2), 2), wrt=(1,)),
            _vjp("rows no id uses", np.array([0, 4, 0]), _grid((6, 3), 3), dy=_grid((3, 3), 4), wrt=(1,)),
        ),
    ),
    Formula(
        name="conv2d", section="Goodfellow et al. 2016, §9.5",
        equation="dW = Σ dy ⋆ x_pad, dx = dy ∗ W (flipped), db = Σ dy", kind="vjp",
        forward=L.conv2d_forward, derivative=_conv2d_vjp, twin=_tf_conv2d,
        domain=Domain((Arg("x", ("N", "C", "Hx", "Wx"), Reals(-3, 3)),
                       Arg("W", ("F", "C", "KH", "KW"), Reals(-1, 1)), Arg("b", ("F",), Reals(-1, 1))),
                      {"N": (1, 2), "C": (1, 2), "F": (1, 2), "Hx": (3, 4), "Wx": (3, 4), "KH": (1, 3),
                       "KW": (1, 3)},
                      {"stride": (1, 2), "padding": (0, 1)}, wrt=(0, 1, 2),
                      cotangent=Cotangent(("N", "F", "Ho", "Wo"), Reals(-3, 3),
                                          {"Ho": _rows("KH"), "Wo": _rows("KW", axis="Wx")})),
        specials=(
            _vjp("stride 2 leaves the last row and column unread", _grid((1, 2, 6, 6), 5),
                 _grid((2, 2, 3, 3), 6), np.array([0.5, -0.5]), dy=_grid((1, 2, 2, 2), 7), wrt=(0, 1, 2),
                 stride=2, padding=0),
            _vjp("padding 2 around a 2 × 2 input: windows of padding and one entry", _grid((1, 1, 2, 2), 8),
                 _grid((1, 1, 3, 3), 9), np.array([0.0]), dy=_grid((1, 1, 4, 4), 10), wrt=(0, 1, 2),
                 stride=1, padding=2),
        ),
    ),
    Formula(
        name="max_pool2d", section="CS231n",
        equation="dx = dy at each window's first maximum (row-major), 0 elsewhere", kind="vjp",
        forward=L.max_pool2d_forward, derivative=L.max_pool2d_backward, twin=_tf_max_pool2d,
        # two equal neighbours in half the pairs of each row: two-way ties at a window's maximum in most
        # draws, never more (see domains.Paired)
        domain=Domain((Arg("x", ("N", "C", "Hx", "Wx"), Paired(Reals(-3, 3))),),
                      {"N": (1, 2), "C": (1, 2), "Hx": (3, 4), "Wx": (3, 4)},
                      {"size": (1, 2, 3), "stride": (None, 1, 2)},
                      cotangent=Cotangent(("N", "C", "Ho", "Wo"), Reals(-3, 3),
                                          {"Ho": _rows("size", padding=None),
                                           "Wo": _rows("size", padding=None, axis="Wx")})),
        specials=(
            _vjp("ties at the maximum, windows that tile", TIES, dy=_grid((1, 1, 2, 2), 11), wrt=(0,),
                 size=2, stride=None),
            _vjp("ties, overlapping windows that share their maximum", SHARED, dy=_grid((1, 1, 3, 3), 12),
                 wrt=(0,), size=2, stride=1),
        ),
        smooth=False,
    ),
    Formula(
        name="avg_pool2d", section="CS231n",
        equation="dx_pad += dy/(KH·KW) over each window, padding counted", kind="vjp",
        forward=L.avg_pool2d_forward, derivative=L.avg_pool2d_backward, twin=_tf_avg_pool2d,
        domain=Domain((Arg("x", ("N", "C", "Hx", "Wx"), Reals(-3, 3)),),
                      {"N": (1, 2), "C": (1, 2), "Hx": (3, 5), "Wx": (3, 5)},
                      {"size": (2, 3), "stride": (None, 1, 2), "padding": (0, 1)},
                      cotangent=Cotangent(("N", "C", "Ho", "Wo"), Reals(-3, 3),
                                          {"Ho": _rows("size"), "Wo": _rows("size", axis="Wx")})),
        specials=(
            _vjp("padding 1 counted in every border window", _grid((1, 1, 3, 3), 13),
                 dy=_grid((1, 1, 2, 2), 14), wrt=(0,), size=2, stride=None, padding=1),
        ),
    ),
    Formula(
        name="rnn", section="Werbos 1990",
        equation="δ_t = (dh_t + δ_{t+1} Whᵀ) ⊙ tanh′(a_t), dWh = Σ_t h_{t−1}ᵀ δ_t", kind="vjp",
        forward=L.rnn_forward, derivative=L.rnn_backward, twin=_tf_rnn,
        # 8 to 10 steps: the gradient of the first input crosses every step of the recurrence
        domain=Domain((Arg("x", ("N", "T", "D"), Reals(-2, 2)), Arg("h0", ("N", "H"), Reals(-1, 1)),
                       Arg("Wx", ("D", "H"), Reals(-1, 1)), Arg("Wh", ("H", "H"), Reals(-1, 1)),
                       Arg("b", ("H",), Reals(-1, 1))), {"N": (1, 2), "T": (8, 10), "D": (1, 2), "H": (1, 3)},
                      wrt=(0, 1, 2, 3, 4), cotangent=Cotangent(("N", "T", "H"), Reals(-3, 3))),
        specials=(
            _vjp("16 steps, the loss at the last alone", _grid((1, 16, 2), 15), _grid((1, 2), 16),
                 _grid((2, 2), 17, 0.7), _grid((2, 2), 18, 0.7), _grid((2,), 19, 0.5),
                 dy=np.concatenate([np.zeros((1, 15, 2)), np.ones((1, 1, 2))], axis=1), wrt=(0, 1, 2, 3, 4)),
            _vjp("no recurrence at the point (Wh = 0): its gradient is still Σ h_{t−1}ᵀ δ_t",
                 _grid((2, 8, 2), 20), _grid((2, 3), 21), _grid((2, 3), 22), np.zeros((3, 3)),
                 _grid((3,), 23), dy=_grid((2, 8, 3), 24), wrt=(0, 1, 2, 3, 4)),
        ),
    ),
    Formula(
        name="lstm_cell", section="Hochreiter & Schmidhuber 1997",
        equation="dc = dc_next + dh_next·o·tanh′(c_next), da_i = dc·g·σ′(a_i), …, gates i, f, g, o",
        kind="vjp", forward=_lstm_cell, derivative=_lstm_cell_vjp, twin=_tf_lstm_cell,
        domain=Domain((Arg("x", ("N", "D"), Reals(-2, 2)), Arg("h", ("N", "H"), Reals(-1, 1)),
                       Arg("c", ("N", "H"), Reals(-3, 3)), Arg("Wx", ("D", "4H"), Reals(-1, 1)),
                       Arg("Wh", ("H", "4H"), Reals(-1, 1)), Arg("b", ("4H",), Reals(-1, 1))),
                      {"N": (1, 2), "D": (1, 2), "H": (1, 2)}, wrt=(0, 1, 2, 3, 4, 5),
                      cotangent=Cotangent(("N", "2H"), Reals(-3, 3))),
        specials=(
            _vjp("a zero state, forget bias 1", _grid((2, 2), 25), np.zeros((2, 2)), np.zeros((2, 2)),
                 _grid((2, 8), 26, 0.5), _grid((2, 8), 27, 0.5),
                 np.array([0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]),
                 dy=_grid((2, 4), 28), wrt=(0, 1, 2, 3, 4, 5)),
            _vjp("gates near saturation (|a| ≈ 6)", _grid((1, 2), 29), _grid((1, 1), 30), np.array([[2.0]]),
                 np.array([[3.0, -3.0, 3.0, 3.0], [3.0, -3.0, -3.0, 3.0]]), np.array([[1.0, 1.0, 1.0, 1.0]]),
                 np.array([2.0, -2.0, 0.5, 2.0]), dy=[[1.0, -1.0]], wrt=(0, 1, 2, 3, 4, 5)),
        ),
    ),
    Formula(
        name="attention", section="Vaswani et al. 2017",
        equation="ds = p ⊙ (dp − Σ p·dp), dq = ds k/√d, dk = dsᵀ q/√d, dv = pᵀ dout",
        kind="vjp", forward=L.attention_forward, derivative=_attention_vjp, twin=_tf_attention,
        # rows of every kind in the masks: all keys, random, one position left, none (a fully masked row)
        domain=Domain((Arg("q", ("N", "Tq", "d"), Reals(-2, 2)), Arg("k", ("N", "Tk", "d"), Reals(-2, 2)),
                       Arg("v", ("N", "Tk", "dv"), Reals(-3, 3)), Arg("mask", ("N", "Tq", "Tk"), Masks())),
                      {"N": (1, 2), "Tq": (1, 3), "Tk": (1, 4), "d": (1, 4), "dv": (1, 2)}, wrt=(0, 1, 2),
                      cotangent=Cotangent(("N", "Tq", "dv"), Reals(-3, 3))),
        specials=(
            _vjp("every row blocked except one position, one row blocked entirely", _grid((1, 3, 2), 31),
                 _grid((1, 4, 2), 32), _grid((1, 4, 2), 33),
                 np.array([[[False, True, False, False], [False, False, False, True], [False] * 4]]),
                 dy=_grid((1, 3, 2), 34), wrt=(0, 1, 2)),
            _vjp("a causal mask shared by the batch (1, Tq, Tk)", _grid((2, 4, 3), 35), _grid((2, 4, 3), 36),
                 _grid((2, 4, 1), 37), np.tril(np.ones((4, 4), dtype=bool))[None], dy=_grid((2, 4, 1), 38),
                 wrt=(0, 1, 2)),
        ),
    ),
)
