"""The layers' catalogue records: the "vjp" kind's machinery, the domain types that reach the hard parts
(ties, repeated ids, masked rows, long sequences), the conventions pinned against TensorFlow's tape, and
a wrong backward of each kind failing the audit's oracles with no per-formula check code."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backprop_ref import layers as L
from backprop_ref import tf_twins
from backprop_ref.audit import run_audit
from backprop_ref.catalogue import BY_NAME, check_tasks, derivatives
from backprop_ref.catalogue import layers as records
from backprop_ref.domains import Arg, Cotangent, Domain, Ids, Masks, Paired, Reals
from backprop_ref.strategies import cases, masks, paired

VJP_RECORDS = [r for r in records.RECORDS if r.kind == "vjp"]


# ---- the "vjp" kind -----------------------------------------------------------------------------

@pytest.mark.parametrize("record", VJP_RECORDS, ids=[r.name for r in VJP_RECORDS])
def test_a_vjp_record_is_one_check_vjp_task_over_its_wrt_arguments(record):
    case = record.domain.sample(np.random.default_rng(3))
    (task,) = check_tasks(record, case)
    names = [a.name for a in record.domain.args]
    assert list(task.x) == [names[i] for i in case.wrt] and task.cotangent is case.cotangent
    result = task.check("central")
    assert result.kind == "vjp" and list(result.by_argument) == list(task.x)
    # the claim is derivative(*args, dy), aligned with wrt
    for claim, expected in zip(task.claimed.values(), derivatives(record, case)):
        np.testing.assert_array_equal(claim, expected)


def test_a_vjp_case_without_a_cotangent_is_refused():
    case = dataclasses.replace(BY_NAME["conv2d"].specials[0], cotangent=None)
    with pytest.raises(ValueError, match="conv2d is a backward pass: its case needs a cotangent dy"):
        derivatives(BY_NAME["conv2d"], case)


def test_adapters_keep_the_public_names_and_docstrings_and_their_own_signatures():
    import inspect
    vjp = BY_NAME["conv2d"].derivative
    assert vjp.__name__ == "conv2d_backward" and vjp.__doc__ == L.conv2d_backward.__doc__
    assert list(inspect.signature(vjp).parameters) == ["x", "W", "b", "dy", "stride", "padding"]


# ---- domain types -------------------------------------------------------------------------------

def ties_at_window_maxima(x, size, stride):
    """How many entries share each window's maximum (N, C, Ho, Wo)."""
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.sum(win == win.max(axis=(4, 5), keepdims=True), axis=(4, 5))


def test_paired_values_tie_two_neighbours_and_never_more():
    rng = np.random.default_rng(0)
    values = Paired(Reals(-3, 3))
    counts = []
    for _ in range(200):
        x = values.sample(rng, (1, 1, 4, 5))
        _, repeats = np.unique(x, return_counts=True)
        assert repeats.max() <= 2
        counts.append(ties_at_window_maxima(x, 2, 1).max())
    assert max(counts) == 2 and np.mean(np.array(counts) == 2) > 0.5   # a tie at a maximum in most draws


@given(x=paired(Paired(Reals(-3, 3)), (2, 3, 6)))
def test_the_paired_strategy_ties_two_neighbours_and_never_more(x):
    assert np.unique(x, return_counts=True)[1].max() <= 2
    # the only equal entries are the pairs (j, j + 1), j even, of a row
    equal = x[..., 1::2] == x[..., 0::2]
    others = np.delete(x.reshape(-1), np.flatnonzero(np.repeat(equal.reshape(-1), 2)))
    assert len(np.unique(others)) == len(others)


def test_masks_draw_rows_of_every_kind():
    rng = np.random.default_rng(1)
    m = Masks().sample(rng, (400, 5))
    allowed = m.sum(axis=1)
    assert m.dtype == np.bool_
    assert {0, 1, 5} <= set(allowed.tolist())      # fully masked, one position, every position
    assert np.any((allowed > 1) & (allowed < 5))    # random rows


@given(m=masks(Masks(("one",)), (3, 4)))
def test_the_masks_strategy_follows_the_kinds(m):
    np.testing.assert_array_equal(m.sum(axis=1), 1)


def test_ids_stay_below_their_bound_and_repeat():
    rng = np.random.default_rng(2)
    domain = Domain((Arg("ids", ("S",), Ids("V")), Arg("W", ("V", "D"), Reals(-1, 1))),
                    {"S": (6, 6), "V": (1, 3), "D": (1, 1)})
    for _ in range(20):
        ids, W = domain.sample(rng).args
        assert ids.dtype == np.int64 and np.all((ids >= 0) & (ids < W.shape[0]))
        assert len(np.unique(ids)) < len(ids)      # 6 ids from at most 3 rows: a repeat, always


def test_a_multiple_dimension_and_a_derived_cotangent_dimension():
    domain = Domain((Arg("W", ("H", "4H"), Reals(-1, 1)),), {"H": (1, 3)}, {"s": (1, 2)},
                    cotangent=Cotangent(("Q",), Reals(-1, 1), {"Q": lambda sizes, kw: sizes["H"] + kw["s"]}))
    rng = np.random.default_rng(4)
    for _ in range(10):
        case = domain.sample(rng)
        h = case.args[0].shape[0]
        assert case.args[0].shape == (h, 4 * h) and case.cotangent.shape == (h + case.kwargs["s"],)
        assert len(np.unique(case.cotangent)) == case.cotangent.size


@given(case=cases(BY_NAME["conv2d"].domain))
def test_hypothesis_draws_a_cotangent_of_the_forward_shape_with_distinct_entries(case):
    y = BY_NAME["conv2d"].forward(*case.args, **case.kwargs)
    assert case.cotangent.shape == y.shape and len(np.unique(case.cotangent)) == case.cotangent.size


# ---- the hard parts, reached by the records' own draws --------------------------------------------

def draws(name, n=40, seed=0):
    rng = np.random.default_rng(seed)
    return [BY_NAME[name].domain.sample(rng) for _ in range(n)]


def test_the_layer_domains_reach_their_hard_parts():
    ties = [ties_at_window_maxima(c.args[0], c.kwargs["size"], c.kwargs["stride"] or c.kwargs["size"]).max()
            for c in draws("max_pool2d") if c.kwargs["size"] > 1]
    assert np.mean(np.array(ties) == 2) > 0.4 and max(ties) == 2          # two-way ties, never more
    repeated = [len(np.unique(c.args[0])) < c.args[0].size for c in draws("embedding")]
    assert np.mean(repeated) > 0.5
    rows = np.concatenate([c.args[3].sum(axis=-1).ravel() == 0 for c in draws("attention")])
    one = np.concatenate([c.args[3].sum(axis=-1).ravel() == 1 for c in draws("attention")])
    assert rows.any() and one.any()                                          # fully masked, one left
    assert all(c.args[0].shape[1] >= 8 for c in draws("rnn"))               # long sequences
    assert all(c.args[1].dtype == np.int64 for c in draws("multiclass_hinge"))


# ---- conventions against TensorFlow's tape ------------------------------------------------------

@pytest.mark.parametrize("special", range(2))
def test_tensorflow_sends_a_pooling_tie_to_the_first_maximum_exactly_as_ours(tf, special):
    record = BY_NAME["max_pool2d"]
    case = record.specials[special]
    (ours,) = derivatives(record, case)
    (theirs,) = tf_twins.tape_derivatives(record, case)
    np.testing.assert_array_equal(theirs, ours)


def test_the_tape_takes_integer_ids_and_boolean_masks_and_sums_repeated_ids(tf):
    record = BY_NAME["embedding"]
    case = record.specials[0]                     # one id repeated everywhere
    (theirs,) = tf_twins.tape_derivatives(record, case)
    expected = np.zeros_like(case.args[1])
    expected[2] = case.cotangent.reshape(-1, 2).sum(axis=0)
    np.testing.assert_allclose(theirs, expected, rtol=1e-15)
    att = BY_NAME["attention"]
    out = tf_twins.forward(att, att.specials[0])  # a boolean mask with a fully masked row
    np.testing.assert_array_equal(out[0, 2], 0.0)


def test_tensorflow_relu_gives_the_hinge_kink_our_value(tf):
    record = BY_NAME["multiclass_hinge"]
    case = record.specials[1]                     # margins exactly at the kink
    (ours,) = derivatives(record, case)
    (theirs,) = tf_twins.tape_derivatives(record, case)
    np.testing.assert_array_equal(theirs, ours)


# ---- a wrong backward of each kind fails the audit ------------------------------------------------

def dropped_mean_term(x, gamma, beta, dy, eps=1e-5):
    dx, dg, db = L.batch_norm_backward(x, gamma, beta, dy, eps)
    return dx + np.mean(dy * gamma, axis=0) / np.sqrt(x.var(axis=0) + eps), dg, db


def wrong_padding(x, W, b, dy, stride, padding):
    dx, _, db = L.conv2d_backward(x, W, dy, stride, padding)
    shifted = np.pad(x, ((0, 0), (0, 0), (0, 2 * padding), (0, 2 * padding)))   # all the padding at the end
    return dx, L.conv2d_backward(shifted, W, dy, stride, 0)[1], db


def split_tie(x, dy, size, stride=None):
    """dy shared equally among a window's tied maxima (the convention is: all of it to the first)."""
    s = size if stride is None else stride
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::s, ::s]
    top = win == win.max(axis=(4, 5), keepdims=True)
    share = top / top.sum(axis=(4, 5), keepdims=True) * dy[..., None, None]
    dx = np.zeros_like(x)
    for i in range(share.shape[2]):
        for j in range(share.shape[3]):
            dx[:, :, i * s: i * s + size, j * s: j * s + size] += share[:, :, i, j]
    return dx


def ids_once(ids, W, dy):
    dW = np.zeros_like(W)
    dW[ids.reshape(-1)] = dy.reshape(-1, W.shape[1])   # a repeated id keeps its last row of dy
    return dW


def truncated(x, h0, Wx, Wh, b, dh):
    """BPTT truncated to one step: δ_t = dh_t ⊙ tanh′(a_t), nothing carried back from step t + 1."""
    h = L.rnn_forward(x, h0, Wx, Wh, b)
    delta = dh * (1 - h ** 2)
    prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    return (delta @ Wx.T, delta[:, 0] @ Wh.T, np.einsum("ntd,nth->dh", x, delta),
            np.einsum("ntk,nth->kh", prev, delta), delta.sum(axis=(0, 1)))


def gate_at_its_value(x, h, c, Wx, Wh, b, dy):
    """The LSTM cell's backward with σ′ of the input gate taken at its value i, not its pre-activation a_i."""
    def sig(z):
        return 1 / (1 + np.exp(-z))
    dh_next, dc_next = np.split(dy, 2, axis=1)
    ai, af, ag, ao = np.split(x @ Wx + h @ Wh + b, 4, axis=1)
    i, f, g, o = sig(ai), sig(af), np.tanh(ag), sig(ao)
    c_next = f * c + i * g
    dct = dc_next + dh_next * o * (1 - np.tanh(c_next) ** 2)
    da = np.concatenate([dct * g * sig(i) * (1 - sig(i)), dct * c * f * (1 - f), dct * i * (1 - g ** 2),
                         dh_next * np.tanh(c_next) * o * (1 - o)], axis=1)
    return da @ Wx.T, da @ Wh.T, dct * f, x.T @ da, h.T @ da, da.sum(axis=0)


def unscaled_dq(q, k, v, mask, dout):
    dq, dk, dv = L.attention_backward(q, k, v, dout, mask)
    return dq * np.sqrt(q.shape[2]), dk, dv


PLANTED = [
    ("batch_norm", dropped_mean_term, "central"),
    ("conv2d", wrong_padding, "central"),
    ("embedding", ids_once, "central"),
    ("rnn", truncated, "central"),
    ("lstm_cell", gate_at_its_value, "central"),
    ("attention", unscaled_dq, "central"),
    ("max_pool2d", split_tie, "tape"),          # a split tie is a subgradient too: only the tape pins ours
]


@pytest.mark.parametrize("name, bug, oracle", PLANTED, ids=[p[0] for p in PLANTED])
def test_a_wrong_backward_fails_the_audit(name, bug, oracle, request):
    if oracle == "tape":
        request.getfixturevalue("tf")
    record = dataclasses.replace(BY_NAME[name], derivative=bug)
    (row,) = run_audit([record], samples=3, oracles=(oracle,)).records
    assert row.verdict == "fail", row
    assert BY_NAME[name].derivative is not bug


def test_a_split_tie_passes_every_finite_difference_and_fails_the_tape(tf):
    # at a two-way tie the one-sided slopes are 0 and dy: the split dy/2 is between them, as is ours
    record = dataclasses.replace(BY_NAME["max_pool2d"], derivative=split_tie)
    (central,) = run_audit([record], samples=3, oracles=("central",)).records
    assert central.verdict == "pass"
    bad = [c for case in record.specials for c in tf_twins.compare(record, case) if not c.agreement.passed]
    assert bad and all("vs tape" in c.label for c in bad)


@given(st.data())
def test_hypothesis_never_draws_more_than_two_tied_maxima_for_max_pool(data):
    case = data.draw(cases(BY_NAME["max_pool2d"].domain))
    size = case.kwargs["size"]
    most = ties_at_window_maxima(case.args[0], size, case.kwargs["stride"] or size).max()
    assert most <= (2 if size > 1 else 1)


# ---- the public names ---------------------------------------------------------------------------

@pytest.mark.no_mutmut
@pytest.mark.parametrize("name", L.__all__)
def test_each_layer_name_is_a_plain_function_at_the_top_level(name):
    import importlib
    import inspect

    import backprop_ref
    f = getattr(backprop_ref, name)
    assert name in backprop_ref.__all__ and f is getattr(L, name)
    assert inspect.isfunction(f) and f.__qualname__ == name and f.__closure__ is None
    assert importlib.import_module(f.__module__).__name__.startswith("backprop_ref.layers.")
    assert inspect.getdoc(f).splitlines()[1] == ""   # numpydoc: one summary line, then a blank line
