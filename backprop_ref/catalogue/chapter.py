"""The source documents' formulas (003 §7.1–§7.8, 000, 001), one record each.

Activations (003 §7.3), softmax and the losses (§7.4), the dense layer, the sigmoid neuron and
layer (§7.5), the delta recursion (§7.7), Himmelblau (§7.8), the elementary functions of §7.1 and
§7.2.1, and the documents' worked objectives (§7.2.3, §7.6, 000, 001).
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
    """∂ log p_i / ∂z_j = δ_ij − p_j (003 §7.4.2 with log p_i = z_i − log Σ e^z)."""
    p = softmax(z)
    eye = np.eye(p.shape[-1])
    return eye - p[..., None, :]


def _dense_loss(x: Array, W: Array, b: Array, g: Array) -> Any:
    """⟨g, xW + b⟩: the scalar whose gradient is dense_backward's VJP with cotangent g."""
    return np.sum(g * network.dense_forward(x, W, b))


def _dense_grads(x: Array, W: Array, b: Array, g: Array) -> tuple[Array, Array, Array]:
    """`dense_backward` (003 §7.5.2) read as the gradient of `_dense_loss` in (x, W, b)."""
    return network.dense_backward(x, W, g)


def _mlp_loss(*args: Array, activations: tuple[str, ...], loss: str) -> Any:
    layers, X, Y = mlp_unpack(args)
    out = network.MLP(layers, list(activations), loss).forward(X)
    return losses.mse(out, Y) if loss == "mse" else losses.softmax_cross_entropy(out, Y)


def _mlp_grads(*args: Array, activations: tuple[str, ...], loss: str) -> tuple[Array, ...]:
    """`MLP.loss_and_grads`, the delta recursion of 003 §7.7, flattened to (dW1, db1, …, dWL, dbL)."""
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
        "sigmoid", "003 §7.3.1", "σ′(x) = σ(x)(1 − σ(x))", "elementwise",
        act.sigmoid, act.sigmoid_grad, lambda tf, x: tf.math.sigmoid(x),
        Domain((Arg("x", ANY_SHAPE, WIDE),), SHAPE_SIZES), (SATURATION,),
    ),
    Formula(
        "tanh", "003 §7.3.4", "tanh′(x) = 1 − tanh²(x)", "elementwise",
        act.tanh, act.tanh_grad, lambda tf, x: tf.math.tanh(x),
        Domain((Arg("x", ANY_SHAPE, WIDE),), SHAPE_SIZES), (SATURATION,),
    ),
    Formula(
        "relu", "003 §7.3.2", "ReLU′(x) = 1 for x ≥ 0, 0 for x < 0", "elementwise",
        act.relu, act.relu_grad, lambda tf, x: tf.nn.relu(x),
        Domain((Arg("x", ANY_SHAPE, KINKED),), SHAPE_SIZES), (AT_KINK,),
        kinks=(0.0,), smooth=False,
    ),
    Formula(
        "leaky_relu", "003 §7.3.3", "LeakyReLU′(x) = 1 for x ≥ 0, p for x < 0", "elementwise",
        act.leaky_relu, act.leaky_relu_grad,
        lambda tf, x, slope=0.01: _tf_leaky_relu(tf, x, slope),
        Domain((Arg("x", ANY_SHAPE, KINKED),), SHAPE_SIZES, {"slope": (0.01, 0.2, 0.5)}),
        (AT_KINK,), kinks=(0.0,), smooth=False,
    ),
    Formula(
        "softmax", "003 §7.4.2", "∂p_i/∂z_j = p_i(δ_ij − p_j)", "jacobian",
        softmax, softmax_jacobian, lambda tf, z: tf.nn.softmax(z, axis=-1),
        Domain((Arg("z", ROWS, WIDE),), ROW_SIZES),
        (Case((EXTREME_LOGITS.args[0],), {}, (0,), "extreme logits"),),
    ),
    Formula(
        "log_softmax", "003 §7.4.2", "∂ log p_i/∂z_j = δ_ij − p_j", "jacobian",
        log_softmax, _log_softmax_jacobian, lambda tf, z: tf.nn.log_softmax(z, axis=-1),
        Domain((Arg("z", ROWS, WIDE),), ROW_SIZES),
        (Case((EXTREME_LOGITS.args[0][[0, 2]],), {}, (0,), "extreme logits"),),
    ),
    Formula(
        "mse", "003 §7.4.1", "∂L/∂o = (o − t)/N, L = ½ Σ (o − t)²/N", "gradient",
        losses.mse, losses.mse_grad,
        lambda tf, o, t: _tf_mean_rows(tf, 0.5 * tf.reduce_sum(tf.square(o - t), axis=-1)),
        Domain((Arg("o", ROWS, WIDE), Arg("t", ROWS, WIDE)), ROW_SIZES),
    ),
    Formula(
        "softmax_cross_entropy", "003 §7.4.2", "∂L/∂z = (softmax(z)·Σ_k y_k − y)/N", "gradient",
        losses.softmax_cross_entropy, losses.softmax_cross_entropy_grad,
        # Not tf.nn.softmax_cross_entropy_with_logits: its fused gradient is softmax − y, which
        # is wrong for targets that do not sum to 1 (our domain includes them).
        lambda tf, z, y: _tf_mean_rows(tf, -tf.reduce_sum(y * tf.nn.log_softmax(z, axis=-1), axis=-1)),
        Domain((Arg("z", ROWS, WIDE), Arg("y", ROWS, Targets())), ROW_SIZES), (EXTREME_LOGITS,),
        tape_scale=LOG_OF_SUM,
    ),
    Formula(
        "cross_entropy", "000", "∂C/∂q = −p/q /N, C = −Σ p log q /N", "gradient",
        losses.cross_entropy, losses.cross_entropy_grad,
        lambda tf, q, p: _tf_mean_rows(tf, -tf.reduce_sum(p * tf.math.log(q), axis=-1)),
        # q ∈ (0, 1] is validated, so every point of the widest stencil must stay inside it:
        # Richardson's 4h (h = eps^0.2/4 ≈ 1.8e-4 for |q| ≤ 1) reaches 7.4e-4 either side.
        Domain((Arg("q", ROWS, Reals(1e-3, 0.99)), Arg("p", ROWS, Targets())), ROW_SIZES),
    ),
    Formula(
        "dense", "003 §7.5.2", "dW = xᵀδ, db = Σ_rows δ, dx = δWᵀ", "gradient",
        _dense_loss, _dense_grads,
        lambda tf, x, W, b, g: tf.reduce_sum(g * (tf.tensordot(x, W, axes=1) + b)),
        Domain(
            (Arg("x", ("N?", "I"), Reals(-10, 10)), Arg("W", ("I", "O"), Reals(-3, 3)),
             Arg("b", ("O",), Reals(-3, 3)), Arg("δ", ("N?", "O"), Reals(-3, 3))),
            {"N": (1, 6), "I": (1, 6), "O": (1, 6)}, wrt=(0, 1, 2),
        ),
    ),
    Formula(
        "sigmoid_neuron", "003 §7.5.1", "∂L/∂w_j = (o − t)·o(1 − o)·x_j, L = ½(o − t)², o = σ(wᵀx + b)",
        "gradient", network.sigmoid_neuron_loss, network.sigmoid_neuron_grads,
        lambda tf, w, b, x, t: tf.reduce_mean(
            0.5 * tf.square(tf.math.sigmoid(tf.tensordot(x, w, axes=1) + b) - t)),
        # |z| ≤ 5·3·1 + 1 = 16 keeps σ′(z) ≥ 1e-7, where finite differences still resolve it; the
        # saturated special below is as far as they go.
        Domain((Arg("w", ("J",), Reals(-1, 1)), Arg("b", (), Reals(-1, 1)),
                Arg("x", ("N?", "J"), Reals(-3, 3)), Arg("t", ("N?",), Reals(0, 1))),
               {"N": (1, 6), "J": (1, 5)}, wrt=(0, 1)),
        (Case((np.array([0.5, -1.0, 2.0]), np.array(0.1), np.array([1.0, 0.5, -0.25]), np.array(0.0)),
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
        "sigmoid_layer", "003 §7.5.2", "δ_k = (o_k − t_k)·o_k(1 − o_k), ∂L/∂w_jk = δ_k·x_j, ∂L/∂b_k = δ_k",
        "gradient", network.sigmoid_layer_loss, network.sigmoid_layer_grads,
        lambda tf, W, b, x, t: _tf_mean_rows(tf, 0.5 * tf.reduce_sum(
            tf.square(tf.math.sigmoid(tf.tensordot(x, W, axes=1) + b) - t), axis=-1)),
        Domain((Arg("W", ("J", "K"), Reals(-1, 1)), Arg("b", ("K",), Reals(-1, 1)),
                Arg("x", ("N?", "J"), Reals(-3, 3)), Arg("t", ("N?", "K"), Reals(0, 1))),
               {"N": (1, 5), "J": (1, 5), "K": (1, 4)}, wrt=(0, 1)),
        (Case((np.array([[0.5, -1.0], [1.0, 0.25], [-0.5, 2.0]]), np.array([0.1, -0.2]),
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
        "mlp", "003 §7.7", "δ_J = f′(z_J) ⊙ (δ_K W_Kᵀ), dW_J = o_{J−1}ᵀ δ_J", "gradient",
        _mlp_loss, _mlp_grads, _tf_mlp_loss, MLPDomain(), smooth=False, tape_scale=LOG_OF_SUM,
    ),
    Formula(
        "himmelblau", "003 §7.8", "∇f = (4x(x²+y−11) + 2(x+y²−7), 2(x²+y−11) + 4y(x+y²−7))",
        "gradient", worked.himmelblau, worked.himmelblau_grad,
        lambda tf, x: (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2,
        Domain((Arg("x", ("two",), Reals(-6, 6)),), {"two": (2, 2)}),
        tuple(Case((np.array(p),), {}, (0,), "minimum") for p in
              ([3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126])),
    ),
    Formula(
        "free_fall", "003 §7.1", "y = ½·g·t²: dy/dt = g·t", "elementwise",
        elementary.free_fall, elementary.free_fall_grad,
        lambda tf, t, g=elementary.STANDARD_GRAVITY: 0.5 * g * t ** 2,
        # on the Earth (standard gravity), the Moon and Jupiter
        Domain((Arg("t", ANY_SHAPE, WIDE),), SHAPE_SIZES, {"g": (elementary.STANDARD_GRAVITY, 1.62, 24.79)}),
        (_at("t = 0 (at rest), 1 s, 2 s, −1 s, 1e4 s", [0.0, 1.0, 2.0, -1.0, 1e4]),
         _at("t = 0, 1 s on the Moon", [0.0, 1.0], g=1.62)),
    ),
    Formula(
        "constant", "003 §7.2.1", "y = c: dy/dx = 0", "elementwise",
        elementary.constant, elementary.constant_grad, lambda tf, x, c: tf.zeros_like(x) + c,
        Domain((Arg("x", ANY_SHAPE, WIDE), Arg("c", (), WIDE)), SHAPE_SIZES),
        (_at("y = 2", [-1e4, 0.0, 1.0, 1e4], 2.0),),
    ),
    Formula(
        "linear", "003 §7.2.1", "y = a·x + c: dy/dx = a", "elementwise",
        elementary.linear, elementary.linear_grad, lambda tf, x, a, c: a * x + c,
        # A slope below 1e-3 beside an intercept of up to 100 moves f by less than f's rounding at every
        # step the checker may take (the draw would be set aside): magnitudes of a from 1e-3, |c| ≤ 100.
        Domain((Arg("x", ANY_SHAPE, WIDE), Arg("a", (), Reals(-100, 100, tiny=1e-3)),
                Arg("c", (), Reals(-100, 100))), SHAPE_SIZES),
        (_at("y = 2x + 1", [-1e4, -1.0, 0.0, 0.5, 1e4], 2.0, 1.0), _at("a = 0", [-1.0, 0.0, 3.0], 0.0, 3.0)),
    ),
    Formula(
        "power", "003 §7.2.1", "y = xᵃ: dy/dx = a·xᵃ⁻¹", "elementwise",
        elementary.power, elementary.power_grad, _tf_power,
        # x > 0, where xᵃ is real for every real a; integer a at x ≤ 0 are the specials.
        Domain((Arg("x", ANY_SHAPE, Reals(0.01, 100)), Arg("a", (), Reals(-5, 5))), SHAPE_SIZES),
        (_at("y = x²", [-3.0, -1.0, 0.0, 0.5, 2.0, 1e3], 2.0),
         _at("x = 1: dy/dx = a", [1.0] * 5, [-2.5, -1.0, 0.0, 0.5, 3.0]),
         _at("integer a at x ≤ 0", [-2.0, -0.5, -3.0, 0.0, 0.0, 0.0], [3.0, -1.0, -2.0, 1.0, 2.0, 3.0]),
         _at("a = 0: x⁰ = 1, dy/dx = 0, at x = 0 too", [0.25, 4.0, 0.0, -2.0], 0.0)),
    ),
    Formula(
        "exponential", "003 §7.2.1", "y = aˣ: dy/dx = aˣ·ln a", "elementwise",
        elementary.exponential, elementary.exponential_grad, lambda tf, x, a: tf.pow(a, x),
        Domain((Arg("x", ANY_SHAPE, Reals(-100, 100)), Arg("a", (), Reals(0.01, 100))), SHAPE_SIZES),
        (_at("y = eˣ", [-2.0, 0.0, 1.0, 10.0], np.e),
         _at("a = 1: dy/dx = ln 1 = 0", [-5.0, 0.0, 3.0], 1.0),
         _at("x = 0: dy/dx = ln a", [0.0] * 4, [0.01, 0.5, 2.0, 100.0])),
    ),
    Formula(
        "logarithm", "003 §7.2.1", "y = log_a x: dy/dx = 1/(x·ln a)", "elementwise",
        elementary.logarithm, elementary.logarithm_grad, lambda tf, x, a: tf.math.log(x) / tf.math.log(a),
        # a = 1 is no base (ln 1 = 0; the functions reject it): draws keep 1e-3 away from it.
        Domain((Arg("x", ANY_SHAPE, Reals(1e-3, 1e4)),
                Arg("a", (), Reals(0.01, 100, kinks=(1.0,), margin=1e-3))), SHAPE_SIZES),
        (_at("y = ln x", [1e-3, 1.0, np.e, 100.0], np.e),
         _at("x = 1: y = 0, dy/dx = 1/ln a", [1.0] * 4, [0.5, 2.0, 10.0, 1.001])),
    ),
    Formula(
        "quadratic_objective", "003 §7.2.3", "L = x·w² + b²: ∂L/∂w = 2xw, ∂L/∂b = 2b", "gradient",
        worked.quadratic_objective, worked.quadratic_objective_grad,
        lambda tf, w, b, x: x * w ** 2 + b ** 2,
        Domain((Arg("w", (), Reals(-100, 100)), Arg("b", (), Reals(-100, 100)),
                Arg("x", (), Reals(-100, 100))), wrt=(0, 1)),
    ),
    Formula(
        "exponential_objective", "003 §7.2.3", "L = x·eʷ + eᵇ: ∂L/∂w = x·eʷ, ∂L/∂b = eᵇ", "gradient",
        worked.exponential_objective, worked.exponential_objective_grad,
        lambda tf, w, b, x: x * tf.exp(w) + tf.exp(b),
        Domain((Arg("w", (), Reals(-30, 30)), Arg("b", (), Reals(-30, 30)),
                Arg("x", (), Reals(-100, 100))), wrt=(0, 1)),
    ),
    Formula(
        "squared_error_objective", "003 §7.2.3",
        "L = (xw + b − y)²: ∂L/∂w = 2(xw + b − y)x, ∂L/∂b = 2(xw + b − y)", "gradient",
        worked.squared_error_objective, worked.squared_error_objective_grad,
        lambda tf, w, b, x, y: (x * w + b - y) ** 2,
        Domain(tuple(Arg(n, (), Reals(-100, 100)) for n in ("w", "b", "x", "y")), wrt=(0, 1)),
    ),
    Formula(
        "log_objective", "003 §7.2.3", "L = a·ln(xw + b): ∂L/∂w = a·x/(xw + b), ∂L/∂b = a/(xw + b)",
        "gradient", worked.log_objective, worked.log_objective_grad,
        lambda tf, w, b, x, a: a * tf.math.log(x * w + b),
        # Positive w, b, x keep xw + b > 0, the logarithm's domain.
        Domain((Arg("w", (), Reals(0.01, 100)), Arg("b", (), Reals(0.01, 100)),
                Arg("x", (), Reals(0.01, 100)), Arg("a", (), Reals(-100, 100))), wrt=(0, 1)),
    ),
    Formula(
        "chain_rule_z", "003 §7.6", "z = (2t+1)² + e^{t²}: dz/dt = 4(2t+1) + 2t·e^{t²}", "elementwise",
        worked.chain_rule_z, worked.chain_rule_z_grad,
        lambda tf, t: (2 * t + 1) ** 2 + tf.exp(t ** 2),
        Domain((Arg("t", ANY_SHAPE, Reals(-20, 20)),), SHAPE_SIZES),
    ),
    Formula(
        "linear_chain", "003 §7.6", "y2 = (x·w1 + b1)·w2 + b2: ∂y2/∂w1 = x·w2 (chain rule)", "gradient",
        worked.linear_chain, worked.linear_chain_grad,
        lambda tf, w1, b1, w2, b2, x: (x * w1 + b1) * w2 + b2,
        Domain(tuple(Arg(n, (), Reals(-100, 100)) for n in ("w1", "b1", "w2", "b2", "x")),
               wrt=(0, 1, 2, 3)),
    ),
    Formula(
        "one_layer", "000", "∂C/∂W = Xᵀ(∂C/∂y_o ⊙ σ′(y)), C = −Σ p log σ(XW) /N", "gradient",
        worked.one_layer_loss, worked.one_layer_grad,
        lambda tf, W, x, p: _tf_mean_rows(
            tf, -tf.reduce_sum(p * tf.math.log(tf.math.sigmoid(tf.tensordot(x, W, axes=1))), axis=-1)),
        # |XW| ≤ 15 keeps σ(XW) ≥ 3e-7: the cost takes log σ, finite but steep beyond that.
        Domain((Arg("W", ("I", "K"), Reals(-1, 1)), Arg("x", ("N?", "I"), Reals(-3, 3)),
                Arg("p", ("N?", "K"), Targets())), {"N": (1, 5), "I": (1, 5), "K": (1, 4)}),
        (Case((np.array([[0.1, -0.2], [0.3, 0.05], [-0.4, 0.2]]), np.array([2.0, 4.0, -2.0]),
               np.array([1.0, 0.0])), {}, (0,), "000's X = [2, 4, −2], class 0"),),
        tape_scale=LOG_OF_SUM,
    ),
    Formula(
        "two_layer", "001", "δ2 = p − y, dW2 = hᵀδ2, δ1 = (δ2 W2ᵀ) ⊙ σ′, dW1 = xᵀδ1", "gradient",
        worked.two_layer_loss, worked.two_layer_grads,
        lambda tf, W1, b1, W2, b2, x, y: _tf_mean_rows(tf, -tf.reduce_sum(
            y * tf.nn.log_softmax(tf.tensordot(tf.math.sigmoid(tf.tensordot(x, W1, axes=1) + b1),
                                               W2, axes=1) + b2, axis=-1), axis=-1)),
        Domain((Arg("W1", ("I", "H"), Reals(-3, 3)), Arg("b1", ("H",), Reals(-3, 3)),
                Arg("W2", ("H", "K"), Reals(-3, 3)), Arg("b2", ("K",), Reals(-3, 3)),
                Arg("x", ("N?", "I"), Reals(-3, 3)), Arg("y", ("N?", "K"), Targets())),
               {"N": (1, 5), "I": (1, 4), "H": (1, 5), "K": (1, 4)}, wrt=(0, 1, 2, 3)),
        tape_scale=LOG_OF_SUM,
    ),
)
