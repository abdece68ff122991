"""Structured arguments: tuples called as f(*x), dicts as f(x), `wrt`, labels, by_argument."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_ref import assert_grad, check_grad, check_jacobian

RNG = np.random.default_rng(7)
N, D, H = 6, 3, 2
X = RNG.normal(size=(N, D))
Y = RNG.normal(size=(N, H))
W = RNG.normal(size=(D, H))
B = RNG.normal(size=H)


def loss(W, b, X, Y):
    """½·mean over rows of |XW + b − Y|²: ∂/∂W = Xᵀ R / N, ∂/∂b = Σ_rows R / N, R = XW + b − Y."""
    return 0.5 * np.sum((X @ W + b - Y) ** 2) / X.shape[0]


def grads(W=W, b=B):
    R = (X @ W + b - Y) / N
    return X.T @ R, R.sum(axis=0)


DW, DB = grads()


def test_a_tuple_is_called_as_positional_arguments_and_each_one_is_judged_and_named():
    r = check_grad(loss, (W, B, X, Y), (DW, DB), wrt=(0, 1))
    assert r.passed and list(r.by_argument) == ["W", "b"]
    assert r.by_argument["W"].analytic.shape == (D, H) and r.by_argument["b"].analytic.shape == (H,)
    assert r.n_checked == D * H + H
    assert all(sub.passed and sub.label == name for name, sub in r.by_argument.items())


def test_by_default_every_floating_argument_is_checked_and_integer_ones_are_data():
    labels = np.array([0, 1, 1, 0, 1, 0])

    def f(W, b, labels):   # a row-wise selection by integer labels: ∂/∂W_jk = Σ_rows [k = label]·X_rj
        z = X @ W + b
        return np.sum(z[np.arange(N), labels])
    onehot = np.eye(H)[labels]
    r = check_grad(f, (W, B, labels), (X.T @ onehot, onehot.sum(0)))
    assert r.passed and list(r.by_argument) == ["W", "b"]


def test_the_claim_may_hold_every_argument_of_which_the_checked_ones_are_read():
    r = check_grad(loss, (W, B, X, Y), (DW, DB, np.zeros_like(X), np.zeros_like(Y)), wrt=[1, 0])
    assert r.passed and list(r.by_argument) == ["b", "W"]   # in wrt's order


def test_a_dict_is_called_as_one_argument_and_labelled_by_its_keys():
    def f(p):
        return loss(p["W"], p["b"], X, Y)
    r = check_grad(f, {"W": W, "b": B}, {"W": DW, "b": DB})
    assert r.passed and list(r.by_argument) == ["W", "b"]
    wrong = check_grad(f, {"W": W, "b": B}, {"W": DW, "b": -DB})
    assert wrong.verdict == "fail" and wrong.by_argument["W"].passed and not wrong.by_argument["b"].passed
    first = str(wrong).splitlines()[0]
    assert first.startswith("gradient check FAILED for b: 2 of 8 entries outside tolerance")
    assert "worst b[" in first and "flipped sign" in first


def test_a_dict_claim_may_carry_unchecked_keys_but_not_unknown_ones():
    def f(p):
        return loss(p["W"], p["b"], p["X"], Y)
    x = {"W": W, "b": B, "X": X}
    assert check_grad(f, x, {"W": DW, "b": DB, "X": np.zeros_like(X)}, wrt=["W", "b"]).passed
    with pytest.raises(ValueError, match=r"grad has keys \['w'\] that are not arguments of x"):
        check_grad(f, x, {"W": DW, "b": DB, "w": DW}, wrt=["W", "b"])
    with pytest.raises(ValueError, match=r"grad lacks the checked argument\(s\) \['b'\]"):
        check_grad(f, x, {"W": DW}, wrt=["W", "b"])


def test_every_argument_is_judged_not_only_the_first_that_fails():
    r = check_grad(loss, (W, B, X, Y), (2 * DW, DB + 1.0), wrt=(0, 1))
    assert r.verdict == "fail"
    assert r.by_argument["W"].n_failed == D * H and r.by_argument["b"].n_failed == H
    assert r.n_failed == D * H + H
    text = str(r)
    assert "    W (3, 2): FAILED, 6 of 6 entries" in text and "    b (2,): FAILED, 2 of 2 entries" in text
    assert text.splitlines()[0].startswith("gradient check FAILED for W, b: 8 of 8 entries outside tolerance")


def test_the_report_names_the_wrong_argument_and_its_entry():
    dW = DW.copy()
    dW[2, 1] += 0.1
    r = check_grad(loss, (W, B, X, Y), (dW, DB), wrt=(0, 1))
    assert r.verdict == "fail" and r.by_argument["b"].passed
    assert r.worst == "W[2, 1]"
    first = str(r).splitlines()[0]
    assert first.startswith("gradient check FAILED for W: 1 of 8 entries outside tolerance")
    assert f"; worst W[2, 1]: analytic {dW[2, 1]:.6g} vs numerical " in first
    assert "      W[2, 1] " in str(r)   # the table's rows carry the label


def test_labels_fall_back_to_arg_i_where_no_parameter_name_can_be_read():
    def f(*args):
        return loss(*args)
    r = check_grad(f, (W, B, X, Y), (DW, DB), wrt=(0, 1))
    assert list(r.by_argument) == ["arg 0", "arg 1"]


def test_a_list_stays_an_array():
    r = check_grad(lambda v: np.sum(v ** 2), [1.0, 2.0], [2.0, 4.0])
    assert r.passed and r.by_argument == {} and r.label == "x"


def test_directional_mode_gives_each_argument_its_own_directions_from_one_seed():
    r = check_grad(loss, (W, B, X, Y), (DW, DB), wrt=(0, 1), directions=4, seed=3)
    assert r.passed and r.seed == 3 and r.mode == "directional"
    assert all(sub.seed == 3 and sub.directions == 4 for sub in r.by_argument.values())
    # a wrong bias gradient is seen at the bias's own scale, not under the weights'
    wrong = check_grad(loss, (W, B, X, Y), (DW, DB * (1 + 1e-4)), wrt=(0, 1), directions=4, seed=3)
    assert wrong.verdict == "fail" and wrong.by_argument["W"].passed
    assert not wrong.by_argument["b"].passed


def test_a_structured_jacobian_has_one_block_per_argument():
    def f(W, b):
        return np.tanh(X @ W + b).ravel()
    a = np.tanh(X @ W + B)
    s = (1 - a ** 2).ravel()              # ∂y_(r,k)/∂W_jk' = s_(r,k)·X_rj·[k = k']
    JW = np.zeros((N * H, D, H))
    Jb = np.zeros((N * H, H))
    for r_ in range(N):
        for k in range(H):
            JW[r_ * H + k, :, k] = s[r_ * H + k] * X[r_]
            Jb[r_ * H + k, k] = s[r_ * H + k]
    assert check_jacobian(f, (W, B), (JW, Jb)).passed
    bad = check_jacobian(f, (W, B), (JW, 0 * Jb))
    assert bad.verdict == "fail" and bad.by_argument["W"].passed and bad.by_argument["b"].n_failed == N * H


def test_a_claim_callable_is_called_as_f_is_on_copies():
    seen = []

    def claim(W, b, X, Y):
        seen.append(W)
        W[...] = 0.0   # a copy: the checker's point is not changed
        return grads()
    assert check_grad(loss, (W.copy(), B, X, Y), claim, wrt=(0, 1)).passed
    assert len(seen) == 1


def test_assert_grad_takes_structured_arguments_and_raises_with_the_named_argument():
    assert_grad(loss, (W, B, X, Y), (DW, DB), wrt=(0, 1))
    with pytest.raises(AssertionError, match=r"^gradient check FAILED for b: "):
        assert_grad(loss, (W, B, X, Y), (DW, 0 * DB), wrt=(0, 1))


@pytest.mark.parametrize("wrt, error, says", [
    (5, ValueError, "wrt position 5 is out of range for x of 4 arguments"),
    ("W", TypeError, "wrt must hold positions"),
    ((0, 0), ValueError, "wrt names an argument twice"),
    ((), ValueError, "wrt must select at least one argument"),
])
def test_a_bad_wrt_is_an_error_naming_it(wrt, error, says):
    with pytest.raises(error, match=says):
        check_grad(loss, (W, B, X, Y), (DW, DB), wrt=wrt)


def test_bad_structured_input_is_an_error_naming_the_argument():
    one_per = r"grad must be a tuple of 2 arrays, one per checked argument \(W, b\)"
    with pytest.raises(ValueError, match=one_per):
        check_grad(loss, (W, B, X, Y), (DW,), wrt=(0, 1))
    with pytest.raises(ValueError, match=r"grad for b has shape \(3,\) but must have shape \(2,\)"):
        check_grad(loss, (W, B, X, Y), (DW, np.zeros(3)), wrt=(0, 1))
    with pytest.raises(ValueError, match=r"b must be finite; b\[1\] = nan"):
        check_grad(loss, (W, np.array([0.0, np.nan]), X, Y), (DW, DB), wrt=(0, 1))
    with pytest.raises(ValueError, match="wrt selects arguments of a tuple or dict x"):
        check_grad(lambda v: np.sum(v), np.ones(2), np.ones(2), wrt=0)
    with pytest.raises(ValueError, match="no argument of x has a floating dtype"):
        check_grad(lambda i: 0.0, (np.array([1, 2]),), (np.zeros(2),))
    with pytest.raises(ValueError, match="x is an empty tuple"):
        check_grad(lambda: 0.0, (), ())


def test_an_f_that_modifies_a_data_argument_is_an_error_naming_it():
    def f(W, b, X, Y):
        X[0, 0] += 1.0
        return loss(W, b, X, Y)
    with pytest.raises(ValueError, match="f modified its argument X in place"):
        check_grad(f, (W, B, X.copy(), Y), (DW, DB), wrt=(0, 1))


def test_the_readme_mlp_example():
    """README, "Check your own derivation": the first line it shows is the one printed here."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    W1, b1, W2, b2 = rng.normal(size=(3, 5)), np.zeros(5), rng.normal(size=(5, 2)), np.zeros(2)

    def loss(W1, b1, W2, b2, X, Y):
        H = np.tanh(X @ W1 + b1)
        return 0.5 * np.sum((H @ W2 + b2 - Y) ** 2) / len(X)

    def grads(W1, b1, W2, b2, X, Y):
        H = np.tanh(X @ W1 + b1)
        D = (H @ W2 + b2 - Y) / len(X)
        dH = D @ W2.T * (1 - H ** 2)
        return X.T @ dH, dH.sum(0), H.T @ D * len(X), D.sum(0)

    r = check_grad(loss, (W1, b1, W2, b2, X, Y), grads, wrt=(0, 1, 2, 3))
    assert [k for k, v in r.by_argument.items() if v.passed] == ["W1", "b1", "b2"]
    first = str(r).splitlines()[0]
    H = np.tanh(X @ W1 + b1)
    assert first == ("gradient check FAILED for W2: 10 of 32 entries outside tolerance (method central, full "
                     f"mode, {r.n_evals} evaluations of f); worst {r.worst}: analytic "
                     f"{grads(W1, b1, W2, b2, X, Y)[2][r.by_argument['W2'].worst_index]:.6g} vs numerical "
                     f"{(H.T @ (H @ W2 + b2 - Y) / 4)[r.by_argument['W2'].worst_index]:.6g} (W2: ratio "
                     "claim/numerical 4 in all 10 failing entries: a missing or extra factor; 4 is a "
                     "dimension of X (shape (4, 3)): a mean or sum over that axis taken or missed?)")
    d = check_grad(loss, (W1, b1, W2, b2, X, Y), grads, wrt=(0, 1, 2, 3), directions=8)
    assert [k for k, v in d.by_argument.items() if not v.passed] == ["W2"]
    assert d.worst.startswith("W2 direction ")


def test_entries_not_judged_and_notes_name_their_argument():
    def f(s, p):   # s: a step (no derivative at 0); p: −Σ log p near the domain's edge
        return float(np.sum(s > 0)) - np.sum(np.log(p))
    s, p = np.array([0.0, 1.0]), np.array([1e-5, 0.5])
    r = check_grad(f, (s, p), (np.zeros(2), -1 / p))
    assert r.verdict == "inconclusive"
    assert r.by_argument["s"].inconclusive[0].startswith("s[0]: f jumps at s[0] by 1")
    assert r.inconclusive[0].startswith("s[0]: f jumps at s[0]")
    assert r.by_argument["p"].notes[0].startswith("entry p[0]: the step shrank")
