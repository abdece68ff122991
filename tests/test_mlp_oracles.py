"""The MLP's delta recursion (Backward Propagation Algorithm §7.7) on random architectures, against the tape
and the checker."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from backprop_ref import MLP, tf_twins
from backprop_ref.catalogue import BY_NAME, at_kink
from backprop_ref.domains import mlp_pack, mlp_unpack
from backprop_ref.gradcheck import assert_grad
from backprop_ref.strategies import cases

MLP_RECORD = BY_NAME["mlp"]
mlp_cases = cases(MLP_RECORD.domain)


def model_of(case):
    layers, _, _ = mlp_unpack(case.args)
    return MLP(layers, list(case.kwargs["activations"]), case.kwargs["loss"])


@given(case=mlp_cases)
def test_loss_and_grads_match_the_tape(case, tf):
    assume(not at_kink(MLP_RECORD, case))
    model = model_of(case)
    _, X, Y = mlp_unpack(case.args)
    loss, grads = model.loss_and_grads(X, Y)
    assert [(dW.shape, db.shape) for dW, db in grads] == [(W.shape, b.shape) for W, b in model.params]
    # the loss the recursion reports is the forward's, bit for bit
    assert loss == MLP_RECORD.forward(*case.args, **case.kwargs)
    for c in tf_twins.compare(MLP_RECORD, case):   # the forward and every dW, db against the tape
        assert c.agreement.passed, f"{c.label}: {c.agreement}"


@given(case=mlp_cases, seed=st.integers(0, 2**32 - 1))
def test_loss_and_grads_pass_a_directional_check(case, seed):
    # Several ReLUs exactly at 0 (hypothesis favours zero weights): the chain rule's ⟨g, d⟩ is then no
    # directional derivative at all (see catalogue.at_kink), so no finite difference can judge it.
    assume(not at_kink(MLP_RECORD, case))
    model = model_of(case)
    _, X, Y = mlp_unpack(case.args)
    shapes = [p.shape for p in mlp_pack(model.params)]
    sizes = [int(np.prod(s)) for s in shapes]

    def loss(theta):
        # θ is the case's differentiated args (W1, b1, …, WL, bL) raveled and joined, in the layout's order
        parts = np.split(theta, np.cumsum(sizes)[:-1])
        layers, _, _ = mlp_unpack([p.reshape(s) for p, s in zip(parts, shapes)] + [X, Y])
        return MLP(layers, model.activations, model.loss).loss_and_grads(X, Y)[0]

    theta = np.concatenate([p.ravel() for p in mlp_pack(model.params)])
    _, grads = model.loss_and_grads(X, Y)
    g = np.concatenate([p.ravel() for p in mlp_pack(grads)])
    assert_grad(loss, theta, g, directions=8, seed=seed)


@given(case=mlp_cases)
def test_one_small_step_lowers_the_loss(case):
    model = model_of(case)
    _, X, Y = mlp_unpack(case.args)
    loss, grads = model.loss_and_grads(X, Y)
    norm2 = sum(float(np.sum(dW**2) + np.sum(db**2)) for dW, db in grads)
    # A zero gradient (a dead ReLU net, a perfect fit) has nothing to descend; a gradient so small
    # that the first-order decrease lr·|g|² is below the loss's rounding cannot be seen to lower it.
    assume(norm2 > 1e-9 * max(1.0, loss))
    lr = 1e-3 / max(1.0, np.sqrt(norm2))
    stepped = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(model.params, grads)]
    new_loss, _ = MLP(stepped, model.activations, model.loss).loss_and_grads(X, Y)
    assert new_loss < loss
