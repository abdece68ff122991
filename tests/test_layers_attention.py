"""Scaled dot-product attention: by hand (the √d included), the softmax's identities, masks (a key masked
is a key removed, causal, one position left, a row with none), scores beyond float64, the checker on the
backward, and the planted bug (dq without the 1/√d)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from backprop_ref.gradcheck import check_vjp
from backprop_ref.layers import attention_backward, attention_forward

RNG = np.random.default_rng(6)


def draw(N=2, Tq=3, Tk=4, d=4, dv=2):
    return RNG.normal(size=(N, Tq, d)), RNG.normal(size=(N, Tk, d)), RNG.normal(size=(N, Tk, dv))


def test_by_hand_with_the_square_root_of_d():
    # d = 4: s = q·k/√4; q = (ln 3, ln 3, 0, 0) against k_1 = 0 and k_2 = (1, 1, 0, 0) gives s = (0, ln 3),
    # p = (1/4, 3/4), and the values 4 and 8 average to 1 + 6 = 7
    q = np.array([[[np.log(3.0), np.log(3.0), 0.0, 0.0]]])
    k = np.array([[[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]])
    v = np.array([[[4.0], [8.0]]])
    np.testing.assert_allclose(attention_forward(q, k, v), [[[7.0]]], rtol=1e-15)


def test_one_key_gives_its_value_and_zero_queries_give_the_mean():
    q, k, v = draw(Tk=1)
    np.testing.assert_allclose(attention_forward(q, k, v), np.broadcast_to(v, (2, 3, 2)), rtol=1e-15)
    q, k, v = draw()
    mean = np.broadcast_to(v.mean(axis=1, keepdims=True), (2, 3, 2))
    np.testing.assert_allclose(attention_forward(0 * q, k, v), mean, rtol=1e-14)


def test_the_weights_sum_to_one_and_the_scores_shift_freely():
    q, k, v = draw()
    np.testing.assert_allclose(attention_forward(q, k, np.ones_like(v)), 1.0, rtol=1e-15)
    # a shift of every key by the same vector shifts each query's scores by one constant: no change
    shifted = attention_forward(q, k + RNG.normal(size=(2, 1, 4)), v)
    # the shifted scores round at eps·|q||k + c| (≈ 1e-15 each here), the weights with them
    np.testing.assert_allclose(shifted, attention_forward(q, k, v), rtol=1e-12)


def test_a_masked_key_is_a_removed_key():
    q, k, v = draw(Tk=5)
    mask = np.ones((1, 3, 5), dtype=bool)
    mask[:, :, 2] = False
    keep = [0, 1, 3, 4]
    removed = attention_forward(q, k[:, keep], v[:, keep])
    np.testing.assert_allclose(attention_forward(q, k, v, mask), removed, rtol=1e-14)
    _, dk, dv = attention_backward(q, k, v, np.ones((2, 3, 2)), mask)
    np.testing.assert_array_equal(dk[:, 2], 0.0)
    np.testing.assert_array_equal(dv[:, 2], 0.0)


def test_a_mask_of_shape_one_is_shared_by_the_batch():
    q, k, v = draw()
    mask = RNG.random((1, 3, 4)) < 0.7
    mask[..., 0] = True
    np.testing.assert_array_equal(attention_forward(q, k, v, mask),
                                  attention_forward(q, k, v, np.repeat(mask, 2, axis=0)))


def test_a_causal_mask_hides_the_future():
    q, k, v = draw(Tq=4, Tk=4)
    causal = np.tril(np.ones((4, 4), dtype=bool))[None]
    out = attention_forward(q, k, v, causal)
    v2 = v.copy()
    v2[:, 3] += 100.0       # only the last query may see the last key
    np.testing.assert_array_equal(attention_forward(q, k, v2, causal)[:, :3], out[:, :3])
    np.testing.assert_allclose(out[:, 0], v[:, 0], rtol=1e-15)   # the first query sees the first key alone


def test_one_allowed_position_gives_its_value_and_no_gradient_through_the_scores():
    q, k, v = draw()
    mask = np.zeros((2, 3, 4), dtype=bool)
    mask[:, :, 1] = True                      # every row blocked except key 1
    np.testing.assert_array_equal(attention_forward(q, k, v, mask), np.broadcast_to(v[:, 1:2], (2, 3, 2)))
    dq, dk, dv = attention_backward(q, k, v, RNG.normal(size=(2, 3, 2)), mask)
    np.testing.assert_array_equal(dq, 0.0)    # a softmax over one key is 1 whatever the score
    np.testing.assert_array_equal(dk, 0.0)
    np.testing.assert_array_equal(dv[:, [0, 2, 3]], 0.0)


def test_a_fully_masked_row_gives_zero_and_passes_no_gradient():
    q, k, v = draw()
    mask = RNG.random((2, 3, 4)) < 0.7
    mask[..., 0] = True
    mask[1, 2] = False                        # query 2 of sequence 1 may attend nothing
    dout = RNG.normal(size=(2, 3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = attention_forward(q, k, v, mask)
        dq, dk, dv = attention_backward(q, k, v, dout, mask)
    np.testing.assert_array_equal(out[1, 2], 0.0)
    np.testing.assert_array_equal(dq[1, 2], 0.0)
    # the other rows are as if that query were absent
    rest = [0, 1]
    sub = attention_backward(q[1:, rest], k[1:], v[1:], dout[1:, rest], mask[1:, rest])
    np.testing.assert_allclose(dk[1:], sub[1], rtol=1e-14)
    np.testing.assert_allclose(dv[1:], sub[2], rtol=1e-14)


def test_scores_beyond_float64_give_the_value_of_the_largest():
    q, k, v = draw()
    mask = RNG.random((2, 3, 4)) < 0.7
    mask[..., 2] = True
    scores = np.where(mask, q @ k.transpose(0, 2, 1), -np.inf)
    best = np.argmax(scores, axis=-1)                              # scores ×1e400: the softmax is one-hot
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = attention_forward(q * 1e200, k * 1e200, v, mask)
        grads = attention_backward(q * 1e200, k * 1e200, v, np.ones((2, 3, 2)), mask)
    np.testing.assert_array_equal(out, np.take_along_axis(v, best[..., None], axis=1))
    assert all(np.all(np.isfinite(g)) for g in grads)


@pytest.mark.parametrize("method", ["central", "complex"])
@pytest.mark.parametrize("masked", [False, True])
def test_the_backward_is_the_vjp(masked, method):
    q, k, v = draw(Tq=3, Tk=8)
    mask = None
    if masked:
        mask = RNG.random((2, 3, 8)) < 0.5
        mask[0, 0] = False                   # a fully masked row
        mask[1, 1] = np.arange(8) == 5       # a row with one position left
        mask[1, 2, 0] = True
    r = check_vjp(lambda q, k, v: attention_forward(q, k, v, mask), (q, k, v),
                  lambda u: attention_backward(q, k, v, u, mask), method=method)
    assert r.passed, str(r)


def test_dq_without_the_scale_fails_naming_q_with_the_factor():
    q, k, v = draw()                         # d = 4: the missing 1/√d is a factor 2

    def unscaled(u):
        dq, dk, dv = attention_backward(q, k, v, u)
        return dq * 2.0, dk, dv
    r = check_vjp(lambda q, k, v: attention_forward(q, k, v), (q, k, v), unscaled, seed=11)
    assert r.verdict == "fail" and [a for a, s in r.by_argument.items() if not s.passed] == ["q"]
    assert "ratio claim/numerical 2" in str(r).splitlines()[0]


def test_bad_input_names_the_argument():
    q, k, v = draw()
    with pytest.raises(ValueError, match=r"k has shape \(2, 4, 3\) but q has shape \(2, 3, 4\)"):
        attention_forward(q, k[..., :3], v)
    with pytest.raises(ValueError, match=r"v has shape \(2, 3, 2\) but k has shape \(2, 4, 4\)"):
        attention_forward(q, k, v[:, :3])
    with pytest.raises(TypeError, match="mask must be boolean"):
        attention_forward(q, k, v, np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"mask has shape \(3, 4\) but must have shape \(2 or 1, 3, 4\)"):
        attention_forward(q, k, v, np.ones((3, 4), dtype=bool))
    with pytest.raises(ValueError, match=r"dout has shape \(2, 3, 4\) but must have shape \(2, 3, 2\)"):
        attention_backward(q, k, v, np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"q must have shape \(N, Tq, d\)"):
        attention_forward(q[0], k, v)
