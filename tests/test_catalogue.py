"""Every catalogue formula against both oracles: finite differences and tf.GradientTape.

Parametrised over CATALOGUE: a formula added there is checked here with no new test code.
"""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest
from hypothesis import assume, given, reject
from hypothesis import strategies as st

from backprop_ref import tf_twins
from backprop_ref.catalogue import BY_NAME, CATALOGUE, Formula, at_kink, check_tasks, derivatives
from backprop_ref.domains import Case, Domain, Grid, Ids, MLPDomain, Paired, Reals, mlp_pack, mlp_unpack
from backprop_ref.gradcheck import InconclusiveCheck
from backprop_ref.strategies import cases

ids = [f.name for f in CATALOGUE]
catalogue = pytest.mark.parametrize("formula", CATALOGUE, ids=ids)
# The records that declare special values: the specials tests run on these alone.
WITH_SPECIALS = [f for f in CATALOGUE if f.specials]
with_specials = pytest.mark.parametrize("formula", WITH_SPECIALS, ids=[f.name for f in WITH_SPECIALS])

# The public derivative names the issue lists: each must be the derivative under test somewhere.
PUBLIC_DERIVATIVES = {
    "sigmoid_grad", "tanh_grad", "relu_grad", "leaky_relu_grad", "softmax_jacobian",
    "mse_grad", "softmax_cross_entropy_grad", "cross_entropy_grad", "himmelblau_grad",
    # issue 14: the chapter's remaining records (Backward Propagation Algorithm §7.1, §7.2.1, §7.5)
    "free_fall_grad", "constant_grad", "linear_grad", "power_grad", "exponential_grad", "logarithm_grad",
    "sigmoid_neuron_grads", "sigmoid_layer_grads",
    # issue 14: the layers beyond the chapter, their backward passes as "vjp" records
    "multiclass_hinge_grad", "batch_norm_backward", "layer_norm_backward", "dropout_backward",
    "embedding_backward", "conv2d_backward", "max_pool2d_backward", "avg_pool2d_backward", "rnn_backward",
    "lstm_cell_backward", "attention_backward",
    # issue 14: the activations and losses beyond the chapter
    "gelu_grad", "softplus_grad", "elu_grad", "selu_grad", "silu_grad",
    "binary_cross_entropy_with_logits_grad", "huber_grad",
}


def check(task, method, draw=True):
    """Assert the task's derivative. An inconclusive check (an entry that moves f by less than f's
    rounding at every admissible step, as a saturated sigmoid's does) has nothing to say for or
    against the formula: a hypothesis draw is rejected (another is drawn), a declared special is
    accepted, its failures being the only thing it could show (InconclusiveCheck means none)."""
    try:
        task.check(method).assert_passed()
    except InconclusiveCheck:
        if draw:
            reject()


def test_every_public_derivative_is_catalogued():
    catalogued = {f.derivative_name for f in CATALOGUE}
    assert PUBLIC_DERIVATIVES <= catalogued, PUBLIC_DERIVATIVES - catalogued
    assert len(BY_NAME) == len(CATALOGUE), "two records share a name"


@catalogue
def test_docstring_cites_the_section(formula):
    doc = inspect.getdoc(formula.derivative) or ""
    assert formula.section in doc, f"{formula.derivative_name}'s docstring does not cite {formula.section}"


@catalogue
@given(data=st.data())
def test_central_differences(formula, data):
    case = data.draw(cases(formula.domain))
    assume(not at_kink(formula, case))  # several ReLUs at 0 at once: no derivative to compare with
    for task in check_tasks(formula, case):
        check(task, "central")


@catalogue
@given(data=st.data())
def test_complex_step(formula, data):
    # Random draws lie on one smooth piece (kinks are kept a margin away), so the complex
    # step applies to every formula here; at the kinks themselves see test_specials.
    case = data.draw(cases(formula.domain))
    assume(not at_kink(formula, case))
    for task in check_tasks(formula, case):
        check(task, "complex")


def test_the_specials_tests_run_on_every_record_with_specials_and_no_other():
    for test in (test_specials, test_tape_matches_at_specials):
        (mark,) = [m for m in test.pytestmark if m.name == "parametrize"]
        assert [f.name for f in mark.args[1]] == [f.name for f in CATALOGUE if f.specials] != []


@with_specials
def test_specials(formula):
    for case in formula.specials:
        for task in check_tasks(formula, case):
            check(task, "central", draw=False)
            if formula.smooth:
                check(task, "complex", draw=False)


@catalogue
@given(data=st.data())
def test_tape_matches_derivative(formula, data, tf):
    case = data.draw(cases(formula.domain))
    assume(not at_kink(formula, case))
    compare_with_tape(formula, case)


@with_specials
def test_tape_matches_at_specials(formula, tf):
    for case in formula.specials:
        compare_with_tape(formula, case)


@pytest.mark.parametrize("name", ["sigmoid_neuron", "sigmoid_layer"])
def test_the_sigmoid_residual_override_is_what_lets_an_exact_target_agree(name, tf):
    # t = σ(z) as we compute it: o − t is 0 here and an ulp of σ on the tape's side, so both gradients
    # are rounding alone; without the override the bound is relative to |L| ≈ 0 and they disagree.
    formula = BY_NAME[name]
    (case,) = [c for c in formula.specials if c.label.startswith("t = σ(z) to the last bit")]
    bare = dataclasses.replace(formula, tape_scale=(0.0, ""))
    assert not all(c.agreement.passed for c in tf_twins.compare(bare, case))
    compare_with_tape(formula, case)


def compare_with_tape(formula: Formula, case: Case):
    for c in tf_twins.compare(formula, case):
        assert c.agreement.passed, f"{c.label}: {c.agreement}"


@catalogue
def test_sampler_stays_in_domain(formula):
    rng = np.random.default_rng(0)
    for _ in range(50):
        case = formula.domain.sample(rng)
        assert all(np.all(np.isfinite(a)) for a in case.args)
        if isinstance(formula.domain, Domain):
            for arg, a in zip(formula.domain.args, case.args):
                v = arg.values.values if isinstance(arg.values, Paired) else arg.values
                if isinstance(v, (Reals, Grid)):
                    assert np.all((a >= v.lo) & (a <= v.hi)), arg.name
                    for k in getattr(v, "kinks", ()):
                        assert np.all(np.abs(a - k) >= v.margin), arg.name
                if isinstance(v, Grid):
                    assert np.all(np.isin(a, v.points())), arg.name
                if isinstance(v, Ids):   # below the size of their bound, read off an array that has it
                    upper = dimension(formula.domain, case, v.bound)
                    assert a.dtype == np.int64 and np.all((a >= 0) & (a < upper)), arg.name
        else:
            assert isinstance(formula.domain, MLPDomain)
        # every sample is a valid input: the forward and the derivative accept it
        y = formula.forward(*case.args, **case.kwargs)
        assert np.all(np.isfinite(y))
        assert all(np.all(np.isfinite(d)) for d in derivatives(formula, case))
        # a backward pass's case carries a cotangent of the forward's shape, and only a backward pass's
        assert (case.cotangent is not None) == (formula.kind == "vjp")
        if formula.kind == "vjp":
            assert case.cotangent.shape == np.shape(y) and np.all(np.isfinite(case.cotangent))


def dimension(domain, case, name):
    """The size of dimension `name` in a drawn case: the extent of the first argument that has it."""
    for arg, a in zip(domain.args, case.args):
        kept = [d.rstrip("?") for d in arg.dims if a.ndim == len(arg.dims) or not d.endswith("?")]
        if name in kept and a.ndim == len(kept):
            return a.shape[kept.index(name)]
    raise AssertionError(f"no argument has dimension {name}")


@catalogue
def test_sampler_is_deterministic(formula):
    a = formula.domain.sample(np.random.default_rng(7))
    b = formula.domain.sample(np.random.default_rng(7))
    assert len(a.args) == len(b.args)
    assert all(np.array_equal(x, y) for x, y in zip(a.args, b.args))
    assert a.kwargs == b.kwargs
    assert (a.cotangent is None and b.cotangent is None) or np.array_equal(a.cotangent, b.cotangent)


# ---- the MLP domain: one declaration, read alike by the NumPy sampler and by hypothesis -------------

def glorot_bound(n_in, n_out):
    """Glorot & Bengio (2010): U(±√(6/(n_in + n_out))), whose variance is 2/(n_in + n_out)."""
    return np.sqrt(6.0 / (n_in + n_out))


def scaled_mlp_weights(case):
    """Every weight of an MLP case over its layer's Glorot bound, after checking the other arrays'
    ranges: biases in ±0.5, X in ±3, mse targets in [0, 1], softmax targets one-hot."""
    layers, X, Y = mlp_unpack(case.args)
    scaled = []
    for W, b in layers:
        assert np.all(np.abs(b) <= 0.5)
        scaled.append(np.ravel(W) / glorot_bound(*W.shape))
    assert np.all(np.abs(X) <= 3.0)
    if case.kwargs["loss"] == "mse":
        assert np.all((Y >= 0.0) & (Y <= 1.0))
    else:
        assert np.all(np.sum(Y == 1.0, axis=-1) == 1) and np.all((Y == 0.0) | (Y == 1.0))
    return np.concatenate(scaled)


def test_the_mlp_layout_is_the_parameters_layer_by_layer_then_x_and_y():
    layers, X, Y = [("W1", "b1"), ("W2", "b2")], "X", "Y"
    assert mlp_pack(layers, X, Y) == ("W1", "b1", "W2", "b2", "X", "Y")
    assert mlp_pack(layers) == ("W1", "b1", "W2", "b2")
    assert mlp_unpack(mlp_pack(layers, X, Y)) == (layers, X, Y)


def assert_in_the_mlp_layout(case):
    layers, X, Y = mlp_unpack(case.args)
    # each W feeds the next, X the first, the last gives Y's width; only the parameters are wrt
    widths = [X.shape[1]] + [W.shape[1] for W, _ in layers]
    assert [(W.shape, b.shape) for W, b in layers] == [((i, o), (o,)) for i, o in zip(widths, widths[1:])]
    assert Y.shape == (X.shape[0], widths[-1])
    assert case.wrt == tuple(range(2 * len(layers))) and len(case.kwargs["activations"]) == len(layers)


def test_the_mlp_sampler_follows_the_layout():
    rng = np.random.default_rng(1)
    for _ in range(30):
        assert_in_the_mlp_layout(MLPDomain().sample(rng))


@given(case=cases(MLPDomain()))
def test_the_mlp_strategy_follows_the_layout(case):
    assert_in_the_mlp_layout(case)


def test_the_mlp_sampler_draws_glorot_uniform_weights():
    rng = np.random.default_rng(0)
    u = np.concatenate([scaled_mlp_weights(MLPDomain().sample(rng)) for _ in range(300)])
    assert u.size > 2000
    assert np.all(np.abs(u) <= 1.0)
    # U(−1, 1): E u² = 1/3 and half the mass beyond |u| = 1/2 (a normal of that variance has 39 %)
    assert np.mean(u**2) == pytest.approx(1 / 3, abs=0.02)
    assert np.mean(np.abs(u) > 0.5) == pytest.approx(0.5, abs=0.03)


@given(case=cases(MLPDomain()))
def test_the_mlp_strategy_draws_within_the_same_bounds(case):
    assert np.all(np.abs(scaled_mlp_weights(case)) <= 1.0)

