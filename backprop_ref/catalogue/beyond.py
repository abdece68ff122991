"""The activations and losses beyond the chapter, one record each (issue 14).

The activations and losses that replaced sigmoid and the squared error in practice: GELU (exact and
tanh forms), softplus, ELU, SELU, SiLU, binary cross-entropy with logits, the Huber loss. Each is a
`Formula` like the chapter's (backprop_ref.catalogue.chapter): NumPy forward, hand-derived
derivative, TensorFlow twin, a domain that reaches the hard parts (saturation, ±1e4, kinks kept a
margin away) and specials at the kinks and extremes.

The twins are the formulas written in float64 TensorFlow ops, not always TensorFlow's own op for
them: tf.nn.gelu casts its constants 1/√2 and 0.044715 through float32 (1.7e-8 and 3.5e-8 relative,
so its float64 exact GELU is off by about (x² + 1)·1.7e-8 relative for x < 0, 1.7e-6 at x = −10), and
tf.nn.selu's gradient reads the sign of its output λα(eˣ − 1), which rounds to 0 for −2⁻⁵⁴ ≤ x < 0
(λ there instead of λα). tests/test_kink_conventions.py pins what those ops give.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from backprop_ref import activations as act
from backprop_ref import gated_activations as gated
from backprop_ref import losses
from backprop_ref.catalogue import (
    ANY_SHAPE,
    AT_KINK,
    KINKED,
    ROW_SIZES,
    ROWS,
    SATURATION,
    SHAPE_SIZES,
    WIDE,
    Formula,
    _at,
    _tf_mean_rows,
)
from backprop_ref.domains import Arg, Case, Domain, Reals

__all__ = ["RECORDS"]


# ---- the TensorFlow twins -------------------------------------------------------------------

def _tf_gelu(tf: Any, x: Any) -> Any:
    """x·Φ(x) = ½x·erfc(−x/√2), 1/√2 in float64 (tf.nn.gelu's is float32's 0.70710677)."""
    return 0.5 * x * tf.math.erfc(-x * (1 / math.sqrt(2)))


def _tf_gelu_tanh(tf: Any, x: Any, approximate: bool) -> Any:
    """½x(1 + tanh u) as x·σ(2u), u = √(2/π)(x + 0.044715x³): the same function, without the
    cancellation of 1 + tanh u for x < 0 (there TensorFlow's own form errs by eps·|x| absolute, far
    more than eps of its tiny result), and 0.044715 in float64."""
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
    return x * tf.math.sigmoid(2 * u)


def _tf_elu(tf: Any, x: Any, alpha: float = 1.0) -> Any:
    """ELU in float64 ops; expm1 of min(x, 0), so the branch tf.where does not take cannot overflow
    (its inf would reach the tape as inf·0 = NaN)."""
    return tf.where(x > 0, x, alpha * tf.math.expm1(tf.minimum(x, 0.0)))


def _tf_binary_cross_entropy(tf: Any, z: Any, y: Any) -> Any:
    """(1 − y)·softplus(z) + y·softplus(−z), summed over the last axis, mean over rows.

    Not tf.nn.sigmoid_cross_entropy_with_logits: it computes max(z, 0) − z·y + log1p(e^{−|z|}),
    whose max(z, 0) − z·y cancels for y near 1 at z ≫ 0 to eps·|z| absolute (2e-12 at z = 1e4),
    far more than eps of the loss (tests/test_losses.py compares it with ours within that bound).
    """
    per_entry = (1 - y) * tf.math.softplus(z) + y * tf.math.softplus(-z)
    return _tf_mean_rows(tf, tf.reduce_sum(per_entry, axis=-1))


def _tf_huber(tf: Any, o: Any, t: Any, delta: float = 1.0) -> Any:
    r = o - t
    per_entry = tf.where(tf.abs(r) <= delta, 0.5 * r * r, delta * (tf.abs(r) - 0.5 * delta))
    return _tf_mean_rows(tf, tf.reduce_sum(per_entry, axis=-1))


# ---- specials --------------------------------------------------------------------------------

# GELU′ vanishes at x ≈ −0.7518 and is least at −√2; x·Φ(x) underflows below −37.7 (−21.5 for the
# tanh form), where both the value and the slope are subnormal on the way.
GELU_LANDMARKS = _at("GELU′ = 0, its minimum, the tails", [-0.7517915246935643, -math.sqrt(2), -5.0, -10.0,
                                                           -21.0, -37.0, -38.0, 5.0, 10.0])
TANH_FORM = {"approximate": True}


def _tanh_form(case: Case) -> Case:
    return dataclasses.replace(case, kwargs=TANH_FORM, label=case.label + ", tanh form")


def _logits(z: Any, y: Any, label: str) -> Case:
    return Case((np.array(z, dtype=np.float64), np.array(y, dtype=np.float64)), {}, (0,), label)


def _residuals(o: Any, t: Any, label: str, delta: float = 1.0) -> Case:
    return Case((np.array(o, dtype=np.float64), np.array(t, dtype=np.float64)), {"delta": delta}, (0,), label)


RECORDS: tuple[Formula, ...] = (
    Formula(
        name="gelu", section="Hendrycks & Gimpel 2016", equation="GELU′(x) = Φ(x) + x·φ(x), GELU = x·Φ(x)",
        kind="elementwise", forward=gated.gelu, derivative=gated.gelu_grad, twin=_tf_gelu,
        domain=Domain((Arg("x", ANY_SHAPE, WIDE),), SHAPE_SIZES), specials=(SATURATION, GELU_LANDMARKS),
    ),
    Formula(
        name="gelu_tanh", section="Hendrycks & Gimpel 2016",
        equation="d/dx x·σ(2u) = σ(2u) + x·σ′(2u)·2u′, u = √(2/π)(x + 0.044715x³)", kind="elementwise",
        forward=gated.gelu, derivative=gated.gelu_grad, twin=_tf_gelu_tanh,
        domain=Domain((Arg("x", ANY_SHAPE, WIDE),), SHAPE_SIZES, {"approximate": (True,)}),
        specials=(_tanh_form(SATURATION), _tanh_form(GELU_LANDMARKS)),
    ),
    Formula(
        name="softplus", section="Dugas et al. 2001", equation="softplus′(x) = σ(x), softplus = log(1 + eˣ)",
        kind="elementwise", forward=act.softplus, derivative=act.softplus_grad,
        twin=lambda tf, x: tf.math.softplus(x),
        domain=Domain((Arg("x", ANY_SHAPE, WIDE),), SHAPE_SIZES),
        specials=(SATURATION,
                  _at("log(1 + eˣ) near the float64 limits", [-745.2, -709.0, -37.0, 37.0, 709.0, 710.0])),
    ),
    Formula(
        name="elu", section="Clevert et al. 2016", equation="ELU′(x) = 1 for x > 0, α·eˣ for x ≤ 0",
        kind="elementwise", forward=act.elu, derivative=act.elu_grad, twin=_tf_elu,
        domain=Domain((Arg("x", ANY_SHAPE, KINKED),), SHAPE_SIZES, {"alpha": (1.0, 0.5, 2.0)}),
        specials=(AT_KINK, dataclasses.replace(AT_KINK, kwargs={"alpha": 0.5}, label="kink at 0, α = 0.5"),
                  dataclasses.replace(SATURATION, kwargs={"alpha": 2.0}, label="saturation, α = 2")),
        kinks=(0.0,), smooth=False,
    ),
    Formula(
        name="selu", section="Klambauer et al. 2017", equation="SELU′(x) = λ for x > 0, λα·eˣ for x ≤ 0",
        kind="elementwise", forward=act.selu, derivative=act.selu_grad,
        twin=lambda tf, x: act.SELU_LAMBDA * _tf_elu(tf, x, act.SELU_ALPHA),
        domain=Domain((Arg("x", ANY_SHAPE, KINKED),), SHAPE_SIZES), specials=(AT_KINK, SATURATION),
        kinks=(0.0,), smooth=False,
    ),
    Formula(
        name="silu", section="Elfwing et al. 2018", equation="SiLU′(x) = σ(x) + x·σ′(x), SiLU = x·σ(x)",
        kind="elementwise", forward=gated.silu, derivative=gated.silu_grad, twin=lambda tf, x: tf.nn.silu(x),
        domain=Domain((Arg("x", ANY_SHAPE, WIDE),), SHAPE_SIZES),
        # SiLU′ = 0 at SiLU's minimum (x ≈ −1.2785); SiLU′ is least at x ≈ −2.3994, where SiLU″ = 0.
        specials=(SATURATION, _at("SiLU's minimum, SiLU′'s minimum",
                                  [-1.2784645427610737, -2.399357283819086, -5.0, 5.0])),
    ),
    Formula(
        name="binary_cross_entropy_with_logits", section="Pattern Recognition and Machine Learning §4.3.2",
        equation="∂L/∂z = (σ(z) − y)/N, L = −Σ [y log σ(z) + (1 − y) log(1 − σ(z))]/N", kind="gradient",
        forward=losses.binary_cross_entropy_with_logits,
        derivative=losses.binary_cross_entropy_with_logits_grad, twin=_tf_binary_cross_entropy,
        domain=Domain((Arg("z", ROWS, WIDE), Arg("y", ROWS, Reals(0, 1))), ROW_SIZES),
        specials=(
            _logits([1e4, -1e4, 745.0, -745.0, 40.0, -40.0, 0.0], [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.5],
                    "confident and right: z = ±1e4, ±745, ±40"),
            _logits([[1e4, -1e4, 40.0], [-745.0, 3.0, 0.0]], [[0.0, 1.0, 0.0], [1.0, 0.3, 0.7]],
                    "confident and wrong, soft targets"),
            _logits([30.0, -30.0, 14.0], [1.0, 0.0, 1.0], "log σ(z) near 0: nothing to cancel"),
        ),
    ),
    Formula(
        name="huber", section="Huber 1964",
        equation="∂L/∂o = clip(o − t, −δ, δ)/N, L = Σ ½r² (|r| ≤ δ), δ(|r| − ½δ)/N", kind="gradient",
        forward=losses.huber, derivative=losses.huber_grad, twin=_tf_huber,
        # |o|, |t| ≤ 100 with log-uniform magnitudes: residuals inside and far outside δ both common.
        domain=Domain((Arg("o", ROWS, Reals(-100, 100)), Arg("t", ROWS, Reals(-100, 100))), ROW_SIZES,
                      {"delta": (1.0, 0.5, 3.0)}),
        specials=(
            _residuals([1.0, -1.0, 2.0, 0.5], [0.0, 0.0, 1.0, 1.5], "|r| = δ: the pieces meet"),
            _residuals([[1.25, -2.0], [0.0, 7.0]], [[0.0, -0.75], [0.0, 7.0]], "|r| = δ = 1.25; r = 0",
                       delta=1.25),
            _residuals([1e4, -1e4, 3.0], [0.0, 0.0, 3.0], "residuals of ±1e4"),
            _residuals([0.5, -2.0, 1e-3], [0.0, 1.0, 0.0], "δ = 100: the squared error", delta=100.0),
            _residuals([0.5, -2.0, 1e-3], [0.0, 1.0, 0.0], "δ = 1e-3: almost |r|", delta=1e-3),
        ),
    ),
)
