"""Bad input gets a clear error at the boundary, never a silent wrong number (issue 6).

One table per kind of bad input. An error row is (callable, args, kwargs, exception type, regex);
the regex names the argument and, for shapes, both shapes; a `full(...)` regex pins the whole
message, so the argument's name is its first word. Rows that are not errors pin the
documented behaviour (int/bool → float64, 0-d in → 0-d out, empty in → empty out, NaN/inf
propagation) and the checker's, the audit's and the CLI's handling of bad values and arguments.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest

from backprop_ref import activations as act
from backprop_ref import losses, network
from backprop_ref.audit import run_audit
from backprop_ref.catalogue import Formula, get
from backprop_ref.cli import main
from backprop_ref.domains import Arg, Case, Domain, Reals
from backprop_ref.gradcheck import check_grad, check_jacobian, numerical_grad
from backprop_ref.softmax import log_softmax, softmax, softmax_jacobian

ELEMENTWISE = {
    "sigmoid": act.sigmoid, "sigmoid_grad": act.sigmoid_grad,
    "tanh": act.tanh, "tanh_grad": act.tanh_grad,
    "relu": act.relu, "relu_grad": act.relu_grad,
    "leaky_relu": act.leaky_relu, "leaky_relu_grad": act.leaky_relu_grad,
}
PAIRWISE = {  # (prediction, target) → loss or gradient, the prediction and target names
    "mse": (losses.mse, "o", "t"), "mse_grad": (losses.mse_grad, "o", "t"),
    "softmax_cross_entropy": (losses.softmax_cross_entropy, "z", "y"),
    "softmax_cross_entropy_grad": (losses.softmax_cross_entropy_grad, "z", "y"),
    "cross_entropy": (losses.cross_entropy, "q", "p"),
    "cross_entropy_grad": (losses.cross_entropy_grad, "q", "p"),
}
ROWS = {  # functions of one (…, K) array of logits
    "softmax": softmax, "log_softmax": log_softmax,
    "softmax_jacobian": softmax_jacobian,
}

W34, b4, W42, b2 = np.ones((3, 4)), np.zeros(4), np.ones((4, 2)), np.zeros(2)
Q = np.full((2, 3), 0.5)   # valid probabilities
P = np.full((2, 3), 1 / 3)  # valid targets


def mlp(loss: str = "mse") -> network.MLP:
    return network.MLP([(W34, b4), (W42, b2)], ["tanh", "linear"], loss)


def row(fn: Any, *args: Any, exc: type[Exception], match: str, id: str, **kwargs: Any) -> Any:
    return pytest.param(fn, args, kwargs, exc, match, id=id)


def full(message: str) -> str:
    """The regex that matches exactly `message`, from its first character to its last."""
    return "^" + re.escape(message) + "$"


def shp(*dims: int) -> str:
    """The regex for a shape as NumPy prints it: (2, 3), (3,), ()."""
    return re.escape(str(tuple(dims)))


# ---- the error table --------------------------------------------------------------------------

SHAPES = [
    *(row(fn, np.ones((2, 3)), np.ones((3, 2)), exc=ValueError, id=f"{name}: pred vs target",
          match=f"{a} has shape {shp(2, 3)} but {b} has shape {shp(3, 2)}")
      for name, (fn, a, b) in PAIRWISE.items()),
    row(losses.softmax_cross_entropy, np.ones(3), np.ones((1, 3)), exc=ValueError,
        id="softmax_cross_entropy: one example vs a batch of one",
        match=f"z has shape {shp(3)} but y has shape {shp(1, 3)}"),
    row(network.dense_forward, np.ones((2, 3)), W42, b2, exc=ValueError, id="dense_forward: x vs W",
        match=full("x has shape (2, 3) but W has shape (4, 2); x must be (N, 4) or (4,)")),
    row(network.dense_forward, np.ones((2, 4)), W42, b4, exc=ValueError, id="dense_forward: b vs W",
        match=f"b has shape {shp(4)} but W has shape {shp(4, 2)}"),
    row(network.dense_forward, np.ones((2, 4)), np.ones(4), b2, exc=ValueError, id="dense_forward: 1-D W",
        match=f"W must have shape \\(n_in, n_out\\); got shape {shp(4)}"),
    row(network.dense_backward, np.ones((2, 4)), W42, np.ones((3, 2)), exc=ValueError,
        id="dense_backward: delta vs x",
        match=f"delta has shape {shp(3, 2)} but x has shape {shp(2, 4)} and W has shape {shp(4, 2)}"),
    row(network.MLP, [(W34, b4), (np.ones((5, 2)), b2)], ["tanh", "linear"], "mse", exc=ValueError,
        id="MLP: W vs the previous W", match=f"layer 1: W has shape {shp(5, 2)} but layer 0's W has "
        f"shape {shp(3, 4)}"),
    row(network.MLP, [(W34, np.zeros(3))], ["linear"], "mse", exc=ValueError, id="MLP: W vs b",
        match=full("layer 0: W has shape (3, 4) and b has shape (3,); "
                   "they must be (n_in, n_out) and (n_out,)")),
    row(network.MLP, [], [], "mse", exc=ValueError, id="MLP: no layers",
        match=full("params must hold at least one (W, b) layer")),
    row(network.MLP.init, [3], [], "mse", exc=ValueError, id="MLP.init: one width",
        match=full("sizes must list at least the input and output widths; got [3]")),
    row(lambda X: mlp().forward(X), np.ones((2, 5)), exc=ValueError, id="MLP.forward: X vs the first W",
        match=full("X has shape (2, 5) but the first W has shape (3, 4); X must be (N, 3) or (3,)")),
    row(lambda X, Y: mlp().loss_and_grads(X, Y), np.ones((2, 3)), np.ones((2, 3)), exc=ValueError,
        id="MLP.loss_and_grads: Y vs the output",
        match=f"Y has shape {shp(2, 3)} but the network's output for X of shape {shp(2, 3)} has shape "
        f"{shp(2, 2)}"),
    row(check_grad, lambda v: float(np.sum(v**2)), np.ones(3), np.ones(4), exc=ValueError,
        id="check_grad: claimed vs x", match=f"grad has shape {shp(4)} but must have shape {shp(3)}"),
    row(check_grad, lambda v: float(np.sum(v**2)), np.ones(3), lambda v: np.ones((3, 1)),
        exc=ValueError, id="check_grad: callable claim vs x",
        match=f"grad has shape {shp(3, 1)} but must have shape {shp(3)}"),
    row(check_jacobian, lambda v: 2 * v, np.ones(3), np.eye(2), exc=ValueError,
        id="check_jacobian: claimed vs f.shape + x.shape",
        match=f"jac has shape {shp(2, 2)} but must have shape {shp(3, 3)}"),
    row(check_grad, lambda v: v, np.ones(3), np.ones(3), exc=ValueError,
        id="check_grad: f returns a vector", match=f"f must return a scalar .* shape {shp(3)}"),
]

NOT_NUMERIC = [
    *(row(fn, bad, exc=TypeError, id=f"{name}({label})", match=f"x must be numeric.*got {typename}")
      for name, fn in ELEMENTWISE.items()
      for label, bad, typename in (("str", "1.0", "str"), ("None", None, "NoneType"),
                                   ("object", object(), "object"))),
    *(row(fn, ["a", "b"], exc=TypeError, id=f"{name}(strings)", match="z must be numeric")
      for name, fn in ROWS.items()),
    *(row(fn, [[1.0, "x"]], np.ones((1, 2)), exc=TypeError, id=f"{name}: {a} str",
          match=f"{a} must be numeric")
      for name, (fn, a, b) in PAIRWISE.items()),
    *(row(fn, Q, None, exc=TypeError, id=f"{name}: {b} None", match=f"{b} must be numeric")
      for name, (fn, a, b) in PAIRWISE.items()),
    row(losses.mse, np.ones(2), np.ones(2) * 1j, exc=TypeError, id="mse: complex t",
        match="t must be real"),
    row(act.relu_grad, np.ones(2), exc=TypeError, id="relu_grad: at_zero str",
        match="at_zero must be numeric", at_zero="one"),
    row(act.leaky_relu, np.ones(2), exc=TypeError, id="leaky_relu: slope None",
        match="slope must be numeric", slope=None),
    row(act.leaky_relu_grad, np.ones(2), exc=ValueError, id="leaky_relu_grad: slope array",
        match="slope must be a single number", slope=[0.1, 0.2]),
    row(act.relu_grad, np.ones(2), exc=ValueError, id="relu_grad: at_zero NaN",
        match="at_zero must be finite", at_zero=float("nan")),
    row(network.dense_forward, "x", W42, b2, exc=TypeError, id="dense_forward: x str",
        match="x must be numeric"),
    row(network.dense_forward, np.ones(4), [["a"]], b2, exc=TypeError, id="dense_forward: W str",
        match="^W must be numeric"),
    row(network.dense_forward, np.ones(4), W42, "b", exc=TypeError, id="dense_forward: b str",
        match="^b must be numeric"),
    row(network.MLP, [(W34, "b")], ["linear"], "mse", exc=TypeError, id="MLP: b str",
        match=r"^b\[0\] must be numeric"),
    row(lambda X: mlp().forward(X), "X", exc=TypeError, id="MLP.forward: X str", match="^X must be numeric"),
    row(lambda Y: mlp().loss_and_grads(np.ones(3), Y), "Y", exc=TypeError, id="MLP.loss_and_grads: Y str",
        match="^Y must be numeric"),
    row(lambda Y: mlp().loss_and_grads(np.ones(3), Y), np.ones(2) * 1j, exc=TypeError,
        id="MLP.loss_and_grads: Y complex", match="^Y must be real"),
    row(lambda lr: mlp().fit(np.ones((2, 3)), np.ones((2, 2)), lr=lr, epochs=1), "fast", exc=TypeError,
        id="MLP.fit: lr str", match="^lr must be numeric"),
    row(network.dense_backward, np.ones(4), W42, None, exc=TypeError, id="dense_backward: delta None",
        match="delta must be numeric"),
    row(network.MLP, [("W", b4)], ["linear"], "mse", exc=TypeError, id="MLP: W str",
        match=re.escape("W[0] must be numeric")),
    row(check_grad, np.sum, "abc", np.ones(3), exc=TypeError, id="check_grad: x str",
        match="x must be numeric"),
    row(check_grad, np.sum, np.ones(3), "abc", exc=TypeError, id="check_grad: claim str",
        match="grad must be numeric"),
    row(check_grad, lambda v: "loss", np.ones(3), np.ones(3), exc=TypeError,
        id="check_grad: f returns str", match="f must return numbers"),
    row(check_grad, np.sum, np.array([1.0, np.inf]), np.ones(2), exc=ValueError, id="check_grad: x inf",
        match=re.escape("x must be finite; x[1] = inf")),
]

TARGETS = [
    row(losses.softmax_cross_entropy, np.zeros(3), [0.5, -0.5, 1.0], exc=ValueError, id="sce: negative y",
        match=re.escape("y must be non-negative; y[1] = -0.5")),
    row(losses.softmax_cross_entropy_grad, np.zeros((2, 2)), [[0, 1], [np.nan, 1]], exc=ValueError,
        id="sce_grad: NaN y", match=re.escape("y must be finite; y[1, 0] = nan")),
    row(losses.softmax_cross_entropy, np.zeros(2), [np.inf, 0.0], exc=ValueError, id="sce: inf y",
        match=re.escape("y must be finite; y[0] = inf")),
    row(losses.cross_entropy, Q, -P, exc=ValueError, id="cross_entropy: negative p",
        match=re.escape("p must be non-negative; p[0, 0] =")),
    row(losses.cross_entropy_grad, [0.5, 0.0], [0.5, 0.5], exc=ValueError, id="cross_entropy_grad: q = 0",
        match=re.escape("q must lie in (0, 1]; q[1] = 0.0")),
    row(losses.cross_entropy, [1.5, 0.5], [0.5, 0.5], exc=ValueError, id="cross_entropy: q > 1",
        match=re.escape("q must lie in (0, 1]; q[0] = 1.5")),
    row(losses.cross_entropy, [np.nan, 0.5], [0.5, 0.5], exc=ValueError, id="cross_entropy: q NaN",
        match=re.escape("q must lie in (0, 1]; q[0] = nan")),
    row(losses.mse, np.zeros(2), [0.0, np.inf], exc=ValueError, id="mse: inf t",
        match=re.escape("t must be finite; t[1] = inf")),
    row(losses.mse_grad, np.zeros(2), [0.0, np.inf], exc=ValueError, id="mse_grad: inf t",
        match=full("t must be finite; t[1] = inf")),
    row(lambda X, Y: mlp("softmax_cross_entropy").loss_and_grads(X, Y), np.ones((1, 3)), [[1.0, -1.0]],
        # The loss names its own argument, y; the MLP's is Y.
        exc=ValueError, id="MLP: negative targets", match=r"[yY] must be non-negative; [yY]\[0, 1\] = -1.0"),
]

AXES = [
    *(row(fn, 0.0, exc=ValueError, id=f"{name}: 0-d",
          match=full("z must have a class axis (the last one); got a 0-d array"))
      for name, fn in ROWS.items()),
    *(row(fn, 0.5, 0.5, exc=ValueError, id=f"{name}: 0-d", match=f"{a} must have shape .*got shape \\(\\)")
      for name, (fn, a, b) in PAIRWISE.items()),
    *(row(fn, np.ones((2, 2, 2)), np.ones((2, 2, 2)), exc=ValueError, id=f"{name}: 3-d",
          match=f"{a} must have shape \\(K,\\) or \\(N, K\\); got shape {shp(2, 2, 2)}")
      for name, (fn, a, b) in PAIRWISE.items()),
    *(row(fn, np.ones((0, 3)), np.ones((0, 3)), exc=ValueError, id=f"{name}: no rows",
          match=f"{a} is a batch of no rows")
      for name, (fn, a, b) in PAIRWISE.items()),
]

NAMES = [
    row(network.MLP, [(W34, b4)], ["softplus"], "mse", exc=ValueError, id="MLP: unknown activation",
        match="unknown activation 'softplus'; valid names are sigmoid, tanh, relu, leaky_relu, linear"),
    row(network.MLP, [(W34, b4)], ["linear"], "hinge", exc=ValueError, id="MLP: unknown loss",
        match="unknown loss 'hinge'; valid names are mse, softmax_cross_entropy"),
    row(network.MLP.init, [3, 4], ["swish"], "mse", exc=ValueError, id="MLP.init: unknown activation",
        match="unknown activation 'swish'; valid names are sigmoid, tanh"),
    # three layers with three activations: the message must name the last one, not the second or the
    # one before the last
    row(network.MLP, [(W34, b4), (np.ones((4, 4)), b4), (W42, b2)], ["relu", "sigmoid", "tanh"],
        "softmax_cross_entropy", exc=ValueError, id="MLP: softmax_cross_entropy after a non-linear layer",
        match=full("softmax_cross_entropy takes logits: the last activation must be 'linear', not 'tanh'")),
    # a string of the right length is not a list of names
    row(network.MLP.init, [3, 2], "r", "mse", exc=ValueError, id="MLP.init: activations as one string",
        match=full("activations must be a sequence of 1 names, one per layer; got 'r'")),
    row(network.MLP.init, [3, 4, 2], ["tanh"], "mse", exc=ValueError, id="MLP.init: too few activations",
        match=re.escape("activations must be a sequence of 2 names")),
    row(network.MLP, [(W34, b4)], "linear", "mse", exc=ValueError, id="MLP: activations as one string",
        match="activations must be a sequence of 1 names"),
    row(check_grad, np.sum, np.ones(2), np.ones(2), exc=ValueError, id="check_grad: unknown method",
        match="unknown method 'forward'; valid names are central, richardson, complex", method="forward"),
    row(numerical_grad, np.sum, np.ones(2), "backward", exc=ValueError, id="numerical_grad: unknown method",
        match="unknown method 'backward'; valid names are central"),
    row(get, "softsign", exc=ValueError, id="catalogue.get: unknown formula",
        match="unknown formula 'softsign'; valid names are sigmoid, tanh"),
]


INTEGERS = [
    row(network.MLP.init, [3, "4"], ["tanh"], "mse", exc=TypeError, id="MLP.init: size str",
        match=full("sizes[1] must be an integer, got str '4'")),
    row(network.MLP.init, [3, 2.0], ["tanh"], "mse", exc=TypeError, id="MLP.init: size float",
        match=full("sizes[1] must be an integer, got float 2.0")),
    row(network.MLP.init, [0, 2], ["tanh"], "mse", exc=ValueError, id="MLP.init: size 0",
        match=full("sizes[0] must be an integer ≥ 1, got 0")),
    row(lambda b: mlp().fit(np.ones((2, 3)), np.ones((2, 2)), lr=0.1, epochs=1, batch_size=b), 0,
        exc=ValueError, id="MLP.fit: batch_size 0",
        match=full("batch_size must be None (the full batch) or an integer ≥ 1, got 0")),
    row(lambda e: mlp().fit(np.ones((2, 3)), np.ones((2, 2)), lr=0.1, epochs=e), True, exc=TypeError,
        id="MLP.fit: epochs bool", match=full("epochs must be an integer, got bool True")),
    row(lambda e: mlp().fit(np.ones((2, 3)), np.ones((2, 2)), lr=0.1, epochs=e), -1, exc=ValueError,
        id="MLP.fit: epochs negative", match=full("epochs must be an integer ≥ 0, got -1")),
]


@pytest.mark.parametrize("fn, args, kwargs, exc, match",
                         SHAPES + NOT_NUMERIC + TARGETS + AXES + NAMES + INTEGERS)
def test_bad_input_raises_naming_the_argument(fn, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


# ---- accepted input: int and bool in float64, scalars, empty arrays, size-1 axes --------------

@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8, bool])
def test_elementwise_accepts_int_and_bool_computing_in_float64(name, dtype):
    fn = ELEMENTWISE[name]
    x = np.array([1, 0, 2, 1], dtype=dtype)
    out = fn(x)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, fn(x.astype(np.float64)))


@pytest.mark.parametrize("name", PAIRWISE)
def test_losses_accept_int_and_bool(name):
    fn, _, _ = PAIRWISE[name]
    pred, target = (np.array([[1, 1]]), np.array([[True, False]]))
    out = fn(pred, target)
    assert np.asarray(out).dtype == np.float64
    np.testing.assert_array_equal(out, fn(pred.astype(float), target.astype(float)))


def test_rows_and_layers_accept_ints():
    z = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(softmax(z), softmax(z.astype(float)))
    out = network.dense_forward(np.array([1, 2, 3]), np.ones((3, 2), dtype=int), np.array([0, 1]))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [6.0, 7.0])


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize(
    "x", [0.5, np.float64(-2.0), np.array(3.0), 2], ids=["float", "np.float64", "0-d", "int"]
)
def test_elementwise_scalar_in_scalar_out(name, x):
    fn = ELEMENTWISE[name]
    out = fn(x)
    assert np.ndim(out) == 0
    assert float(out) == float(fn(np.array([x]))[0])


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0)])
def test_elementwise_empty_in_empty_out(name, shape):
    out = ELEMENTWISE[name](np.zeros(shape))
    assert out.shape == shape and out.dtype == np.float64


@pytest.mark.parametrize("name", ROWS)
def test_softmax_family_empty_batch_and_size_one_axes(name):
    fn = ROWS[name]
    tail = (3, 3) if name == "softmax_jacobian" else (3,)
    assert fn(np.zeros((0, 3))).shape == (0, *tail)
    one = fn(np.array([[7.0]]))                       # one row, one class: p = 1, log p = 0, J = 0
    expected = {"softmax": 1.0, "log_softmax": 0.0, "softmax_jacobian": 0.0}[name]
    shape = (1, 1, 1) if name == "softmax_jacobian" else (1, 1)
    np.testing.assert_array_equal(one, np.full(shape, expected))


@pytest.mark.parametrize("name", PAIRWISE)
def test_losses_size_one_axes(name):
    fn, _, _ = PAIRWISE[name]
    one_example, batch_of_one = fn([0.5], [1.0]), fn([[0.5]], [[1.0]])
    np.testing.assert_array_equal(np.ravel(one_example), np.ravel(batch_of_one))


def test_dense_layer_one_example_and_size_one_axes():
    x, W, b = np.array([2.0]), np.array([[3.0]]), np.array([1.0])
    assert network.dense_forward(x, W, b).shape == (1,)
    dx, dW, db = network.dense_backward(x, W, np.array([5.0]))
    assert (dx.shape, dW.shape, db.shape) == ((1,), (1, 1), (1,))
    np.testing.assert_array_equal([dx[0], dW[0, 0], db[0]], [15.0, 10.0, 5.0])


# ---- NaN and inf: elementwise formulas propagate them as NumPy does, without a warning ---------

S = 0.01  # leaky_relu's default slope
NONFINITE = {  # name → (f(nan), f(+inf), f(−inf)), as each docstring states
    "sigmoid": (np.nan, 1.0, 0.0), "sigmoid_grad": (np.nan, 0.0, 0.0),
    "tanh": (np.nan, 1.0, -1.0), "tanh_grad": (np.nan, 0.0, 0.0),
    "relu": (np.nan, np.inf, 0.0), "relu_grad": (np.nan, 1.0, 0.0),
    "leaky_relu": (np.nan, np.inf, -np.inf), "leaky_relu_grad": (np.nan, 1.0, S),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_nan_and_inf_propagate_without_warning(name):
    x = np.array([np.nan, np.inf, -np.inf, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ELEMENTWISE[name](x)
    np.testing.assert_array_equal(out[:3], NONFINITE[name])
    assert np.isfinite(out[3])


@pytest.mark.parametrize("name", ROWS)
def test_softmax_nan_stays_in_its_row(name):
    z = np.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ROWS[name](z)
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()


# ---- the checker and the audit: a non-finite value is a failure with its index -----------------

def test_checker_nan_from_f_is_a_failed_result_naming_the_index():
    def f(v):
        return np.nan if v[2] > 1.0 else float(np.sum(v**2))  # NaN as soon as entry 2 steps up

    x = np.array([0.5, -0.5, 1.0])
    result = check_grad(f, x, 2 * x)
    assert not result.passed
    assert result.worst_index == (2,)
    assert result.problems and "[2]" in " ".join(result.problems)
    assert "[2]" in str(result)


def test_checker_nan_in_the_claim_is_a_failed_result_naming_the_index():
    x = np.array([0.5, -0.5, 1.0])
    result = check_grad(lambda v: float(np.sum(v**2)), x, np.array([1.0, np.nan, 2.0]))
    assert not result.passed
    assert result.worst_index == (1,)
    assert "[1]" in str(result)


def test_checker_inf_from_f_in_a_jacobian_is_a_failed_result():
    def f(v):
        return np.where(v > 0.9, np.inf, v**2)

    x = np.array([0.2, 0.9])   # x[1] + h > 0.9 at every step
    result = check_jacobian(f, x, np.diag(2 * x))
    assert not result.passed
    assert result.worst_index[-1] == 1            # the column of x[1], the entry that stepped into inf
    assert "entry [1]" in " ".join(result.problems)
    assert np.isfinite(result.numerical[:, 0]).all()


def test_audit_marks_a_nan_derivative_as_a_failure_with_its_index():
    def nan_at_1(x):
        g = act.sigmoid_grad(x)
        g[..., 1] = np.nan
        return g

    broken = Formula(
        name="broken_sigmoid", section="test", equation="σ′ with a NaN planted at index 1",
        kind="elementwise",
        forward=act.sigmoid, derivative=nan_at_1,
        domain=Domain((Arg("x", ("three",), Reals(-3, 3)),), {"three": (3, 3)}),
        specials=(Case((np.array([0.1, 0.2, 0.3]),), {}, (0,), "planted"),),
    )
    report = run_audit([broken], samples=2, seed=0, oracles=("central",), use_tf=False)
    assert not report.passed
    (record,) = report.failures
    assert "NOT FINITE: the claimed fprime is nan at index [1]" in (record.failure or "")


# ---- the CLI: one line on stderr, exit 2, no traceback ------------------------------------------

CLI_ERRORS = [
    pytest.param([], "COMMAND", id="no command"),
    pytest.param(["frobnicate"], "frobnicate", id="unknown command"),
    pytest.param(["audit", "--samples", "0"], "--samples", id="samples 0"),
    pytest.param(["audit", "--samples", "many"], "--samples", id="samples not a number"),
    pytest.param(["audit", "--seed", "-1"], "--seed", id="negative seed"),
    pytest.param(["audit", "--only", "softsign"], "unknown formula 'softsign'", id="unknown formula"),
    pytest.param(["audit", "--json", "/no/such/dir/report.json"], "does not exist", id="json dir missing"),
    pytest.param(["audit", "--require-tf", "--no-tf"], "not allowed with", id="contradictory flags"),
    pytest.param(["check", "no_such_module_xyz:f", "--grad", "no_such_module_xyz:g", "--shape", "3"],
                 "cannot import module 'no_such_module_xyz'", id="unimportable module"),
    pytest.param(["check", "math", "--grad", "math:cos", "--shape", "3"], "MODULE:FUNCTION", id="no colon"),
    pytest.param(["check", "math:no_such_fn", "--grad", "math:cos", "--shape", "3"],
                 "has no attribute 'no_such_fn'", id="missing function"),
    pytest.param(["check", "math:pi", "--grad", "math:cos", "--shape", "3"], "not callable",
                 id="not callable"),
    pytest.param(["check", "numpy:sum", "--grad", "numpy:ones_like", "--x", "/no/such/x.npy"],
                 "cannot load --x", id="missing x file"),
    pytest.param(["check", "numpy:sum", "--grad", "numpy:ones_like", "--shape", "3,-1"], "positive",
                 id="bad shape"),
    pytest.param(["check", "numpy:sum", "--grad", "numpy:ones_like"], "--shape", id="no x"),
    pytest.param(["demo", "no_such_demo"], "no_such_demo", id="unknown demo"),
    pytest.param(["plot", "--out", "/etc/passwd"], "is a file, not a directory", id="plot out a file"),
]


@pytest.mark.parametrize("argv, says", CLI_ERRORS)
def test_cli_usage_error_is_one_stderr_line_and_exit_2(argv, says):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    lines = err.getvalue().splitlines()
    assert code == 2, err.getvalue()
    assert len(lines) == 1, lines
    assert says in lines[0] and "Traceback" not in lines[0]
    assert out.getvalue() == ""


@pytest.mark.parametrize("argv", [
    ["check", "no_such_module_xyz:f", "--grad", "no_such_module_xyz:g", "--shape", "3"],
    ["check", "numpy:sum", "--grad", "numpy:ones_like", "--x", "/no/such/x.npy"],
], ids=["unimportable module", "missing x file"])
def test_cli_process_usage_error_has_no_traceback(argv):
    proc = subprocess.run([sys.executable, "-m", "backprop_ref", *argv], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
