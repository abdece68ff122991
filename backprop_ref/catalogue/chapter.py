"""The source documents' formulas (Backward Propagation Algorithm §7.1–§7.8; Further into Backpropagation;
Backpropagation step by step), one record each.

Activations (Backward Propagation Algorithm §7.3), softmax and the losses (§7.4), the dense layer, the
sigmoid neuron and layer (§7.5), the delta recursion (§7.7), Himmelblau (§7.8), the elementary functions of
§7.1 and §7.2.1, and the documents' worked objectives (§7.2.3, §7.6; Further into Backpropagation;
Backpropagation step by step).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_ref import activations as act
from backprop_ref import elementary, losses, network, worked
from backprop_ref.catalogue import (
    ANY_SHAPE,
    AT_KINK,
    KINKED,
    LOG_OF_SUM,
    ROW_SIZES,
    ROWS,
    SATURATION,
    SHAPE_SIZES,
    WIDE,
    Array,
    Formula,
    _at,
    _tf_mean_rows,
)
from backprop_ref.domains import Arg, Case, Domain, MLPDomain, Reals, Targets, mlp_pack, mlp_unpack
from backprop_ref.softmax import log_softmax, softmax, softmax_jacobian

__all__ = ["RECORDS"]


# ---- the NumPy forwards that the records compose from the formulas ------------------------

def _log_softmax_jacobian(z: Array) -> Array:
    """∂ log p_i / ∂z_j = δ_ij − p_j (Backward Propagation Algorithm §7.4.2, with log p_i = z_i − log Σ
    e^z)."""
    p = softmax(z)
    eye = np.eye(p.shape[-1])
    return eye - p[..., None, :]


def _dense_loss(x: Array, W: Array, b: Array, g: Array) -> Any:
    """⟨g, xW + b⟩: the scalar whose gradient is dense_backward's VJP with cotangent g."""
    return np.sum(g * network.dense_forward(x, W, b))


def _dense_grads(x: Array, W: Array, b: Array, g: Array) -> tuple[Array, Array, Array]:
    """`dense_backward` (Backward Propagation Algorithm §7.5.2) read as the gradient of `_dense_loss`
    in (x, W, b)."""
    return network.dense_backward(x, W, g)


def _mlp_loss(*args: Array, activations: tuple[str, ...], loss: str) -> Any:
    layers, X, Y = mlp_unpack(args)
    out = network.MLP(layers, list(activations), loss).forward(X)
    return losses.mse(out, Y) if loss == "mse" else losses.softmax_cross_entropy(out, Y)


def _mlp_grads(*args: Array, activations: tuple[str, ...], loss: str) -> tuple[Array, ...]:
    """`MLP.loss_and_grads`, the delta recursion of Backward Propagation Algorithm §7.7, flattened to
    (dW1, db1, …, dWL, dbL)."""
    layers, X, Y = mlp_unpack(args)
    _, grads = network.MLP(layers, list(activations), loss).loss_and_grads(X, Y)
    return mlp_pack(grads)


# ---- the TensorFlow twins ------------------------------------------------------------------

def _tf_leaky_relu(tf: Any, x: Any, slope: float) -> Any:
    """LeakyReLU in TensorFlow ops, exact in float64.

    Not tf.nn.leaky_relu: its alpha is a float32 attribute, so slope 0.2 becomes 0.2000000030 and
    the twin would differ from the formula by 1.5e-8 relative, 150 times the tape tolerance.
    """
    return tf.where(x >= 0, x, slope * x)


def _tf_mlp_loss(tf: Any, *args: Any, activations: tuple[str, ...], loss: str) -> Any:
    layers, a, y = mlp_unpack(args)
    for (W, b), name in zip(layers, activations):
        z = tf.matmul(a, W) + b
        a = {
            "sigmoid": tf.math.sigmoid,
            "tanh": tf.math.tanh,
            "relu": tf.nn.relu,
            "leaky_relu": lambda t: _tf_leaky_relu(tf, t, 0.01),
            "linear": tf.identity,
        }[name](z)
    if loss == "mse":
        return _tf_mean_rows(tf, 0.5 * tf.reduce_sum(tf.square(a - y), axis=-1))
    return _tf_mean_rows(tf, -tf.reduce_sum(y * tf.nn.log_softmax(a, axis=-1), axis=-1))


# ---- specials and tolerance overrides of the chapter's records ----------------------------

# σ(z) − t cancels where o is near t: each side's σ rounds o by eps, and that rounding is then the whole of
# (o − t)·σ′·x, far below eps of the gradient's or the loss's size. Its scale is the target's, 1, not |L|.
SIGMOID_RESIDUAL = (1.0, "σ(z) − t cancels near o = t: σ's rounding (eps absolute, ours and TensorFlow's) "
                         "is then all of the gradient")


def _residual_of_rounding(W: Array, b: Array, x: Array, squeeze: bool = False) -> Case:
    """A sigmoid layer's (or, squeezed to K = 1, a neuron's) case with t = σ(xW + b) as computed here: o − t
    is 0 in ours and an ulp of σ in TensorFlow's, at z where their sigmoids round apart (z = 2, −1.2, 1.8)."""
    t = act.sigmoid(network.dense_forward(x, W, b))
    if squeeze:
        return Case((W[:, 0], np.asarray(b[0]), x, np.asarray(t[0])), {}, (0, 1),
                    "t = σ(z) to the last bit: o − t is rounding alone")
    return Case((W, b, x, t), {}, (0, 1), "t = σ(z) to the last bit: o − t is rounding alone")


def _tf_power(tf: Any, x: Any, a: Any) -> Any:
    """xᵃ in TensorFlow ops, with x⁰ = 1 as its own branch.

    TensorFlow's Pow gradient is a·x^(a−1), which is 0·∞ = NaN for x⁰ at x = 0, where the
    function is the constant 1; x is replaced inside that branch too, so that no NaN reaches the
    tape's sum through the branch tf.where does not take.
    """
    zero = tf.equal(a, 0) & tf.equal(x, 0)
    ones = tf.ones_like(x)
    return tf.where(zero, ones, tf.pow(tf.where(zero, ones, x), a))


EXTREME_LOGITS = Case(
    (np.array([[1e4, 0.0, -1e4], [-1e300, 0.0, 1.0], [3.0, 3.0, 3.0]]),
     np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.2, 0.3, 0.5]])),
    {}, (0,), "extreme logits",
)

RECORDS: tuple[Formula, ...] = (
    Formula(
        name="sigmoid", section="Backward Propagation Algorithm §7.3.1",
        equation="σ′(x) = σ(x)(1 − σ(x))", kind="elementwise",
        forward=act.sigmoid, derivative=act.sigmoid_grad, twin=lambda tf, x: tf.math.sigmoid(x),
        domain=Domain((Arg("x", ANY_SHAPE, WIDE),), SHAPE_SIZES), specials=(SATURATION,),
    ),
    Formula(
        name="tanh", section="Backward Propagation Algorithm §7.3.4",
        equation="tanh′(x) = 1 − tanh²(x)", kind="elementwise",
        forward=act.tanh, derivative=act.tanh_grad, twin=lambda tf, x: tf.math.tanh(x),
        domain=Domain((Arg("x", ANY_SHAPE, WIDE),), SHAPE_SIZES), specials=(SATURATION,),
    ),
    Formula(
        name="relu", section="Backward Propagation Algorithm §7.3.2",
        equation="ReLU′(x) = 1 for x ≥ 0, 0 for x < 0", kind="elementwise",
        forward=act.relu, derivative=act.relu_grad, twin=lambda tf, x: tf.nn.relu(x),
        domain=Domain((Arg("x", ANY_SHAPE, KINKED),), SHAPE_SIZES), specials=(AT_KINK,),
        kinks=(0.0,), smooth=False,
    ),
    Formula(
        name="leaky_relu",
        section="Backward Propagation Algorithm §7.3.3",
        equation="LeakyReLU′(x) = 1 for x ≥ 0, p for x < 0", kind="elementwise",
        forward=act.leaky_relu, derivative=act.leaky_relu_grad,
        twin=lambda tf, x, slope=0.01: _tf_leaky_relu(tf, x, slope),
        domain=Domain((Arg("x", ANY_SHAPE, KINKED),), SHAPE_SIZES, {"slope": (0.01, 0.2, 0.5)}),
        specials=(AT_KINK,), kinks=(0.0,), smooth=False,
    ),
    Formula(
        name="softmax", section="Backward Propagation Algorithm §7.4.2",
        equation="∂p_i/∂z_j = p_i(δ_ij − p_j)", kind="jacobian",
        forward=softmax, derivative=softmax_jacobian, twin=lambda tf, z: tf.nn.softmax(z, axis=-1),
        domain=Domain((Arg("z", ROWS, WIDE),), ROW_SIZES),
        specials=(Case((EXTREME_LOGITS.args[0],), {}, (0,), "extreme logits"),),
    ),
    Formula(
        name="log_softmax", section="Backward Propagation Algorithm §7.4.2",
        equation="∂ log p_i/∂z_j = δ_ij − p_j", kind="jacobian",
        forward=log_softmax, derivative=_log_softmax_jacobian,
        twin=lambda tf, z: tf.nn.log_softmax(z, axis=-1),
        domain=Domain((Arg("z", ROWS, WIDE),), ROW_SIZES),
        specials=(Case((EXTREME_LOGITS.args[0][[0, 2]],), {}, (0,), "extreme logits"),),
    ),
    Formula(
        name="mse", section="Backward Propagation Algorithm §7.4.1",
        equation="∂L/∂o = (o − t)/N, L = ½ Σ (o − t)²/N", kind="gradient",
        forward=losses.mse, derivative=losses.mse_grad,
        twin=lambda tf, o, t: _tf_mean_rows(tf, 0.5 * tf.reduce_sum(tf.square(o - t), axis=-1)),
        domain=Domain((Arg("o", ROWS, WIDE), Arg("t", ROWS, WIDE)), ROW_SIZES),
    ),
    Formula(
        name="softmax_cross_entropy",
        section="Backward Propagation Algorithm §7.4.2",
        equation="∂L/∂z = (softmax(z)·Σ_k y_k − y)/N", kind="gradient",
        forward=losses.softmax_cross_entropy, derivative=losses.softmax_cross_entropy_grad,
        # Not tf.nn.softmax_cross_entropy_with_logits: its fused gradient is softmax − y, which
        # is wrong for targets that do not sum to 1 (our domain includes them).
        twin=lambda tf, z, y: _tf_mean_rows(tf, -tf.reduce_sum(y * tf.nn.log_softmax(z, axis=-1), axis=-1)),
        domain=Domain((Arg("z", ROWS, WIDE), Arg("y", ROWS, Targets())), ROW_SIZES),
        specials=(EXTREME_LOGITS,),
        tape_scale=LOG_OF_SUM,
    ),
    Formula(
        name="cross_entropy", section="Further into Backpropagation",
        equation="∂C/∂q = −p/q /N, C = −Σ p log q /N", kind="gradient",
        forward=losses.cross_entropy, derivative=losses.cross_entropy_grad,
        twin=lambda tf, q, p: _tf_mean_rows(tf, -tf.reduce_sum(p * tf.math.log(q), axis=-1)),
        # q ∈ (0, 1] is validated, so every point of the widest stencil must stay inside it:
        # Richardson's 4h (h = eps^0.2/4 ≈ 1.8e-4 for |q| ≤ 1) reaches 7.4e-4 either side.
        domain=Domain((Arg("q", ROWS, Reals(1e-3, 0.99)), Arg("p", ROWS, Targets())), ROW_SIZES),
    ),
    Formula(
        name="dense", section="Backward Propagation Algorithm §7.5.2",
        equation="dW = xᵀδ, db = Σ_rows δ, dx = δWᵀ", kind="gradient",
        forward=_dense_loss, derivative=_dense_grads,
        twin=lambda tf, x, W, b, g: tf.reduce_sum(g * (tf.tensordot(x, W, axes=1) + b)),
        domain=Domain(
            (Arg("x", ("N?", "I"), Reals(-10, 10)), Arg("W", ("I", "O"), Reals(-3, 3)),
             Arg("b", ("O",), Reals(-3, 3)), Arg("δ", ("N?", "O"), Reals(-3, 3))),
            {"N": (1, 6), "I": (1, 6), "O": (1, 6)}, wrt=(0, 1, 2),
        ),
    ),
    Formula(
        name="sigmoid_neuron",
        section="Backward Propagation Algorithm §7.5.1",
        equation="∂L/∂w_j = (o − t)·o(1 − o)·x_j, L = ½(o − t)², o = σ(wᵀx + b)",
        kind="gradient", forward=network.sigmoid_neuron_loss, derivative=network.sigmoid_neuron_grads,
        twin=lambda tf, w, b, x, t: tf.reduce_mean(
            0.5 * tf.square(tf.math.sigmoid(tf.tensordot(x, w, axes=1) + b) - t)),
        # |z| ≤ 5·3·1 + 1 = 16 keeps σ′(z) ≥ 1e-7, where finite differences still resolve it; the
        # saturated special below is as far as they go.
        domain=Domain((Arg("w", ("J",), Reals(-1, 1)), Arg("b", (), Reals(-1, 1)),
                Arg("x", ("N?", "J"), Reals(-3, 3)), Arg("t", ("N?",), Reals(0, 1))),
               {"N": (1, 6), "J": (1, 5)}, wrt=(0, 1)),
        specials=(Case((np.array([0.5, -1.0, 2.0]), np.array(0.1), np.array([1.0, 0.5, -0.25]),
                        np.array(0.0)),
              {}, (0, 1), "t = 0"),
         Case((np.zeros(2), np.array(0.0), np.array([1.0, 2.0]), np.array(0.5)), {}, (0, 1),
              "o = t = ½: zero gradient"),
         Case((np.array([4.0, 4.0]), np.array(0.0), np.array([2.0, 2.0]), np.array(0.0)), {}, (0, 1),
              "saturated, wrong target: z = 16, o ≈ 1, t = 0"),
         Case((np.array([1.0, -2.0]), np.array(0.5), np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]]),
               np.array([1.0, 0.0, 1.0])), {}, (0, 1), "batch of 0/1 labels"),
         _residual_of_rounding(np.array([[1.0], [0.5]]), np.array([0.0]), np.array([1.0, 2.0]),
                               squeeze=True)),
        tape_scale=SIGMOID_RESIDUAL,
    ),
    Formula(
        name="sigmoid_layer",
        section="Backward Propagation Algorithm §7.5.2",
        equation="δ_k = (o_k − t_k)·o_k(1 − o_k), ∂L/∂w_jk = δ_k·x_j, ∂L/∂b_k = δ_k",
        kind="gradient", forward=network.sigmoid_layer_loss, derivative=network.sigmoid_layer_grads,
        twin=lambda tf, W, b, x, t: _tf_mean_rows(tf, 0.5 * tf.reduce_sum(
            tf.square(tf.math.sigmoid(tf.tensordot(x, W, axes=1) + b) - t), axis=-1)),
        domain=Domain((Arg("W", ("J", "K"), Reals(-1, 1)), Arg("b", ("K",), Reals(-1, 1)),
                Arg("x", ("N?", "J"), Reals(-3, 3)), Arg("t", ("N?", "K"), Reals(0, 1))),
               {"N": (1, 5), "J": (1, 5), "K": (1, 4)}, wrt=(0, 1)),
        specials=(Case((np.array([[0.5, -1.0], [1.0, 0.25], [-0.5, 2.0]]), np.array([0.1, -0.2]),
               np.array([1.0, -2.0, 0.5]), np.array([1.0, 0.0])), {}, (0, 1), "one-hot t"),
         Case((np.zeros((2, 3)), np.zeros(3), np.array([1.0, -1.0]), np.full(3, 0.5)), {}, (0, 1),
              "o = t = ½: zero gradient"),
         Case((np.array([[3.0, -3.0], [3.0, -3.0]]), np.array([0.0, 0.0]),
               np.array([[2.0, 2.0], [-1.0, 0.5]]), np.array([[0.0, 1.0], [1.0, 0.0]])), {}, (0, 1),
              "saturated, wrong targets: |z| = 12"),
         _residual_of_rounding(np.array([[1.0, -0.2, 0.9], [0.5, -0.5, 1.0]]), np.array([0.0, 0.0, -1.1]),
                               np.array([1.0, 2.0]))),
        tape_scale=SIGMOID_RESIDUAL,
    ),
    Formula(
        name="mlp",
        section="Backward Propagation Algorithm §7.7",
        equation="δ_J = f′(z_J) ⊙ (δ_K W_Kᵀ), dW_J = o_{J−1}ᵀ δ_J", kind="gradient",
        forward=_mlp_loss,
        derivative=_mlp_grads, twin=_tf_mlp_loss, domain=MLPDomain(), smooth=False, tape_scale=LOG_OF_SUM,
    ),
    Formula(
        name="himmelblau", section="Backward Propagation Algorithm §7.8",
        equation="∇f = (4x(x²+y−11) + 2(x+y²−7), 2(x²+y−11) + 4y(x+y²−7))",
        kind="gradient", forward=worked.himmelblau, derivative=worked.himmelblau_grad,
        twin=lambda tf, x: (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2,
        domain=Domain((Arg("x", ("two",), Reals(-6, 6)),), {"two": (2, 2)}),
        specials=tuple(Case((np.array(p),), {}, (0,), "minimum") for p in
              ([3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126])),
    ),
    Formula(
        name="free_fall", section="Backward Propagation Algorithm §7.1",
        equation="y = ½·g·t²: dy/dt = g·t", kind="elementwise",
        forward=elementary.free_fall, derivative=elementary.free_fall_grad,
        twin=lambda tf, t, g=elementary.STANDARD_GRAVITY: 0.5 * g * t ** 2,
        # on the Earth (standard gravity), the Moon and Jupiter
        domain=Domain((Arg("t", ANY_SHAPE, WIDE),), SHAPE_SIZES,
                      {"g": (elementary.STANDARD_GRAVITY, 1.62, 24.79)}),
        specials=(_at("t = 0 (at rest), 1 s, 2 s, −1 s, 1e4 s", [0.0, 1.0, 2.0, -1.0, 1e4]),
         _at("t = 0, 1 s on the Moon", [0.0, 1.0], g=1.62)),
    ),
    Formula(
        name="constant", section="Backward Propagation Algorithm §7.2.1",
        equation="y = c: dy/dx = 0", kind="elementwise",
        forward=elementary.constant, derivative=elementary.constant_grad,
        twin=lambda tf, x, c: tf.zeros_like(x) + c,
        domain=Domain((Arg("x", ANY_SHAPE, WIDE), Arg("c", (), WIDE)), SHAPE_SIZES),
        specials=(_at("y = 2", [-1e4, 0.0, 1.0, 1e4], 2.0),),
    ),
    Formula(
        name="linear", section="Backward Propagation Algorithm §7.2.1",
        equation="y = a·x + c: dy/dx = a", kind="elementwise",
        forward=elementary.linear, derivative=elementary.linear_grad, twin=lambda tf, x, a, c: a * x + c,
        # A slope below 1e-3 beside an intercept of up to 100 moves f by less than f's rounding at every
        # step the checker may take (the draw would be set aside): magnitudes of a from 1e-3, |c| ≤ 100.
        domain=Domain((Arg("x", ANY_SHAPE, WIDE), Arg("a", (), Reals(-100, 100, tiny=1e-3)),
                Arg("c", (), Reals(-100, 100))), SHAPE_SIZES),
        specials=(_at("y = 2x + 1", [-1e4, -1.0, 0.0, 0.5, 1e4], 2.0, 1.0),
                  _at("a = 0", [-1.0, 0.0, 3.0], 0.0, 3.0)),
    ),
    Formula(
        name="power", section="Backward Propagation Algorithm §7.2.1",
        equation="y = xᵃ: dy/dx = a·xᵃ⁻¹", kind="elementwise",
        forward=elementary.power, derivative=elementary.power_grad, twin=_tf_power,
        # x > 0, where xᵃ is real for every real a; integer a at x ≤ 0 are the specials.
        domain=Domain((Arg("x", ANY_SHAPE, Reals(0.01, 100)), Arg("a", (), Reals(-5, 5))), SHAPE_SIZES),
        specials=(_at("y = x²", [-3.0, -1.0, 0.0, 0.5, 2.0, 1e3], 2.0),
         _at("x = 1: dy/dx = a", [1.0] * 5, [-2.5, -1.0, 0.0, 0.5, 3.0]),
         _at("integer a at x ≤ 0", [-2.0, -0.5, -3.0, 0.0, 0.0, 0.0], [3.0, -1.0, -2.0, 1.0, 2.0, 3.0]),
         _at("a = 0: x⁰ = 1, dy/dx = 0, at x = 0 too", [0.25, 4.0, 0.0, -2.0], 0.0)),
    ),
    Formula(
        name="exponential", section="Backward Propagation Algorithm §7.2.1",
        equation="y = aˣ: dy/dx = aˣ·ln a", kind="elementwise",
        forward=elementary.exponential, derivative=elementary.exponential_grad,
        twin=lambda tf, x, a: tf.pow(a, x),
        domain=Domain((Arg("x", ANY_SHAPE, Reals(-100, 100)), Arg("a", (), Reals(0.01, 100))), SHAPE_SIZES),
        specials=(_at("y = eˣ", [-2.0, 0.0, 1.0, 10.0], np.e),
         _at("a = 1: dy/dx = ln 1 = 0", [-5.0, 0.0, 3.0], 1.0),
         _at("x = 0: dy/dx = ln a", [0.0] * 4, [0.01, 0.5, 2.0, 100.0])),
    ),
    Formula(
        name="logarithm", section="Backward Propagation Algorithm §7.2.1",
        equation="y = log_a x: dy/dx = 1/(x·ln a)",
        kind="elementwise",
        forward=elementary.logarithm,
        derivative=elementary.logarithm_grad,
        twin=lambda tf, x, a: tf.math.log(x) / tf.math.log(a),
        # a = 1 is no base (ln 1 = 0; the functions reject it): draws keep 1e-3 away from it.
        domain=Domain((Arg("x", ANY_SHAPE, Reals(1e-3, 1e4)),
                Arg("a", (), Reals(0.01, 100, kinks=(1.0,), margin=1e-3))), SHAPE_SIZES),
        specials=(_at("y = ln x", [1e-3, 1.0, np.e, 100.0], np.e),
         _at("x = 1: y = 0, dy/dx = 1/ln a", [1.0] * 4, [0.5, 2.0, 10.0, 1.001])),
    ),
    Formula(
        name="quadratic_objective",
        section="Backward Propagation Algorithm §7.2.3",
        equation="L = x·w² + b²: ∂L/∂w = 2xw, ∂L/∂b = 2b", kind="gradient",
        forward=worked.quadratic_objective, derivative=worked.quadratic_objective_grad,
        twin=lambda tf, w, b, x: x * w ** 2 + b ** 2,
        domain=Domain((Arg("w", (), Reals(-100, 100)), Arg("b", (), Reals(-100, 100)),
                Arg("x", (), Reals(-100, 100))), wrt=(0, 1)),
    ),
    Formula(
        name="exponential_objective",
        section="Backward Propagation Algorithm §7.2.3",
        equation="L = x·eʷ + eᵇ: ∂L/∂w = x·eʷ, ∂L/∂b = eᵇ", kind="gradient",
        forward=worked.exponential_objective, derivative=worked.exponential_objective_grad,
        twin=lambda tf, w, b, x: x * tf.exp(w) + tf.exp(b),
        domain=Domain((Arg("w", (), Reals(-30, 30)), Arg("b", (), Reals(-30, 30)),
                Arg("x", (), Reals(-100, 100))), wrt=(0, 1)),
    ),
    Formula(
        name="squared_error_objective", section="Backward Propagation Algorithm §7.2.3",
        equation="L = (xw + b − y)²: ∂L/∂w = 2(xw + b − y)x, ∂L/∂b = 2(xw + b − y)", kind="gradient",
        forward=worked.squared_error_objective, derivative=worked.squared_error_objective_grad,
        twin=lambda tf, w, b, x, y: (x * w + b - y) ** 2,
        domain=Domain(tuple(Arg(n, (), Reals(-100, 100)) for n in ("w", "b", "x", "y")), wrt=(0, 1)),
    ),
    Formula(
        name="log_objective",
        section="Backward Propagation Algorithm §7.2.3",
        equation="L = a·ln(xw + b): ∂L/∂w = a·x/(xw + b), ∂L/∂b = a/(xw + b)",
        kind="gradient", forward=worked.log_objective, derivative=worked.log_objective_grad,
        twin=lambda tf, w, b, x, a: a * tf.math.log(x * w + b),
        # Positive w, b, x keep xw + b > 0, the logarithm's domain.
        domain=Domain((Arg("w", (), Reals(0.01, 100)), Arg("b", (), Reals(0.01, 100)),
                Arg("x", (), Reals(0.01, 100)), Arg("a", (), Reals(-100, 100))), wrt=(0, 1)),
    ),
    Formula(
        name="chain_rule_z",
        section="Backward Propagation Algorithm §7.6",
        equation="z = (2t+1)² + e^{t²}: dz/dt = 4(2t+1) + 2t·e^{t²}", kind="elementwise",
        forward=worked.chain_rule_z, derivative=worked.chain_rule_z_grad,
        twin=lambda tf, t: (2 * t + 1) ** 2 + tf.exp(t ** 2),
        domain=Domain((Arg("t", ANY_SHAPE, Reals(-20, 20)),), SHAPE_SIZES),
    ),
    Formula(
        name="linear_chain",
        section="Backward Propagation Algorithm §7.6",
        equation="y2 = (x·w1 + b1)·w2 + b2: ∂y2/∂w1 = x·w2 (chain rule)", kind="gradient",
        forward=worked.linear_chain, derivative=worked.linear_chain_grad,
        twin=lambda tf, w1, b1, w2, b2, x: (x * w1 + b1) * w2 + b2,
        domain=Domain(tuple(Arg(n, (), Reals(-100, 100)) for n in ("w1", "b1", "w2", "b2", "x")),
               wrt=(0, 1, 2, 3)),
    ),
    Formula(
        name="one_layer",
        section="Further into Backpropagation",
        equation="∂C/∂W = Xᵀ(∂C/∂y_o ⊙ σ′(y)), C = −Σ p log σ(XW) /N", kind="gradient",
        forward=worked.one_layer_loss, derivative=worked.one_layer_grad,
        twin=lambda tf, W, x, p: _tf_mean_rows(
            tf, -tf.reduce_sum(p * tf.math.log(tf.math.sigmoid(tf.tensordot(x, W, axes=1))), axis=-1)),
        # |XW| ≤ 15 keeps σ(XW) ≥ 3e-7: the cost takes log σ, finite but steep beyond that.
        domain=Domain((Arg("W", ("I", "K"), Reals(-1, 1)), Arg("x", ("N?", "I"), Reals(-3, 3)),
                Arg("p", ("N?", "K"), Targets())), {"N": (1, 5), "I": (1, 5), "K": (1, 4)}),
        specials=(Case((np.array([[0.1, -0.2], [0.3, 0.05], [-0.4, 0.2]]), np.array([2.0, 4.0, -2.0]),
               np.array([1.0, 0.0])), {}, (0,), "Further into Backpropagation's X = [2, 4, −2], class 0"),),
        tape_scale=LOG_OF_SUM,
    ),
    Formula(
        name="two_layer",
        section="Backpropagation step by step",
        equation="δ2 = p − y, dW2 = hᵀδ2, δ1 = (δ2 W2ᵀ) ⊙ σ′, dW1 = xᵀδ1", kind="gradient",
        forward=worked.two_layer_loss, derivative=worked.two_layer_grads,
        twin=lambda tf, W1, b1, W2, b2, x, y: _tf_mean_rows(tf, -tf.reduce_sum(
            y * tf.nn.log_softmax(tf.tensordot(tf.math.sigmoid(tf.tensordot(x, W1, axes=1) + b1),
                                               W2, axes=1) + b2, axis=-1), axis=-1)),
        domain=Domain((Arg("W1", ("I", "H"), Reals(-3, 3)), Arg("b1", ("H",), Reals(-3, 3)),
                Arg("W2", ("H", "K"), Reals(-3, 3)), Arg("b2", ("K",), Reals(-3, 3)),
                Arg("x", ("N?", "I"), Reals(-3, 3)), Arg("y", ("N?", "K"), Targets())),
               {"N": (1, 5), "I": (1, 4), "H": (1, 5), "K": (1, 4)}, wrt=(0, 1, 2, 3)),
        tape_scale=LOG_OF_SUM,
    ),
)
