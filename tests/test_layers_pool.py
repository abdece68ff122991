"""Max and average pooling: by hand, the tie convention pinned (ours and TensorFlow's), the padding counted
in the average, the checker on each backward, and planted bugs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from backprop_ref.gradcheck import check_vjp
from backprop_ref.layers import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)

RNG = np.random.default_rng(4)
# windows of 2 × 2 at stride 2: [[1, 3], [3, 2]] (a tie of two 3s), [[3, 0], [1, 1]], [[0, 0], [0, 0]]
# (four zeros), [[2, 2], [2, 2]] (four twos)
TIES = np.array([[1.0, 3.0, 3.0, 0.0],
                 [3.0, 2.0, 1.0, 1.0],
                 [0.0, 0.0, 2.0, 2.0],
                 [0.0, 0.0, 2.0, 2.0]])[None, None]


def test_max_pool_by_hand():
    np.testing.assert_array_equal(max_pool2d_forward(TIES, 2), [[[[3.0, 3.0], [0.0, 2.0]]]])
    np.testing.assert_array_equal(max_pool2d_forward(TIES, 3, stride=1), [[[[3.0, 3.0], [3.0, 2.0]]]])
    np.testing.assert_array_equal(max_pool2d_forward(TIES, (1, 4)), [[[[3.0], [3.0], [2.0], [2.0]]]])


def test_a_tie_sends_the_gradient_to_the_first_maximum_in_row_major_order():
    dx = max_pool2d_backward(TIES, np.array([[[[1.0, 2.0], [4.0, 8.0]]]]), 2)
    expected = np.zeros((4, 4))
    expected[0, 1] = 1.0   # of the 3s at (0, 1) and (1, 0), the first in row-major order
    expected[0, 2] = 2.0   # no tie: the 3
    expected[2, 0] = 4.0   # four zeros: the top-left one
    expected[2, 2] = 8.0   # four twos: the top-left one
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_overlapping_windows_that_share_their_maximum_add_up():
    # stride 1, 2 × 2: nine windows; (0, 1) is the first maximum of windows (0, 0) and (0, 1), (2, 2) of
    # (1, 2), (2, 1) and (2, 2) (tied with its neighbours in all three, first in each)
    dx = max_pool2d_backward(TIES, np.ones((1, 1, 3, 3)), 2, stride=1)
    expected = np.array([[0.0, 2.0, 1.0, 0.0],
                         [1.0, 1.0, 0.0, 0.0],
                         [1.0, 0.0, 3.0, 0.0],
                         [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_tensorflow_sends_a_tie_to_the_first_maximum_too(tf):
    # TensorFlow's CPU MaxPoolGrad, float64 and float32: the same convention on tie-heavy inputs
    for k, s in itertools.product((1, 2, 3), (1, 2, 3)):
        x = RNG.integers(0, 3, size=(2, 2, 6, 7)).astype(np.float64)
        dy = RNG.normal(size=max_pool2d_forward(x, k, s).shape)
        ours = max_pool2d_backward(x, dy, k, s)
        for dtype in (tf.float64, tf.float32):
            xt = tf.constant(x.transpose(0, 2, 3, 1), dtype=dtype)
            with tf.GradientTape() as tape:
                tape.watch(xt)
                y = tf.nn.max_pool2d(xt, k, s, "VALID")
            g = tape.gradient(y, xt, output_gradients=tf.constant(dy.transpose(0, 2, 3, 1), dtype=dtype))
            # exact in float64; in float32 dy itself is rounded (6e-8 relative) and sums of up to 9 of it
            rtol = 1e-6 if dtype == tf.float32 else 0.0
            np.testing.assert_allclose(g.numpy().transpose(0, 3, 1, 2), ours, rtol=rtol)


def split_ties(x, dy, size):
    """A max pool backward that splits dy equally among a window's tied maxima (stride = size)."""
    win = x.reshape(x.shape[0], x.shape[1], x.shape[2] // size, size, x.shape[3] // size, size)
    top = win == win.max(axis=(3, 5), keepdims=True)
    share = top / top.sum(axis=(3, 5), keepdims=True) * dy[:, :, :, None, :, None]
    return share.reshape(x.shape)


def test_a_split_tie_is_another_subgradient_that_the_pin_rejects_and_the_checker_cannot():
    dy = np.ones((1, 1, 2, 2))
    split = split_ties(TIES, dy, 2)
    # the split is a subgradient: at a tie of m entries each one-sided slope pair is (0, dy), and dy/m lies
    # between them, so finite differences accept it; only the convention tells the two apart
    assert check_vjp(lambda x: max_pool2d_forward(x, 2), TIES, lambda u: split_ties(TIES, u, 2)).passed
    assert not np.array_equal(split, max_pool2d_backward(TIES, dy, 2))
    np.testing.assert_array_equal(split[0, 0, 2:, :2], 0.25)


@pytest.mark.parametrize("method", ["central", "complex"])
@pytest.mark.parametrize("size, stride", [(2, None), (3, 1), ((2, 3), (1, 2)), (3, 2), (1, 1)])
def test_max_pool_backward_is_the_vjp(size, stride, method):
    x = RNG.normal(size=(2, 3, 5, 6))
    r = check_vjp(lambda x: max_pool2d_forward(x, size, stride), x,
                  lambda dy: max_pool2d_backward(x, dy, size, stride), method=method)
    assert r.passed, str(r)


def test_max_pool_backward_without_the_stride_in_the_offset_fails():
    # the window (i, j) placed at (i, j) rather than (i·S, j·S): the gradient lands on the wrong entries
    x = RNG.normal(size=(1, 2, 4, 4))

    def unstrided(dy):
        dx = np.zeros_like(x)
        for i, j in itertools.product(range(2), range(2)):
            win = x[:, :, 2 * i: 2 * i + 2, 2 * j: 2 * j + 2].reshape(1, 2, 4)
            first = np.argmax(win, axis=-1)
            for c in range(2):
                dx[0, c, i + first[0, c] // 2, j + first[0, c] % 2] += dy[0, c, i, j]
        return dx
    r = check_vjp(lambda x: max_pool2d_forward(x, 2), x, unstrided, seed=7)
    assert r.verdict == "fail"


# ---- average pooling ----------------------------------------------------------------------------

def test_avg_pool_by_hand():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(avg_pool2d_forward(x, 2), [[[[2.5, 4.5], [10.5, 12.5]]]])
    # padded by 1, 2 × 2 at stride 2: the corner window holds x[0, 0] = 0 and three zeros of padding
    y = avg_pool2d_forward(x, 2, padding=1)
    assert y.shape == (1, 1, 3, 3)
    assert y[0, 0, 0, 0] == 0.0 / 4
    assert y[0, 0, 0, 1] == (1.0 + 2.0) / 4      # padding counted: the mean of 4 entries, two of them 0
    assert y[0, 0, 2, 2] == 15.0 / 4
    assert y[0, 0, 1, 1] == (5.0 + 6.0 + 9.0 + 10.0) / 4


def test_avg_pool_backward_by_hand():
    dx = avg_pool2d_backward(np.zeros((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), 2, stride=1)
    np.testing.assert_array_equal(dx[0, 0], np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 4)
    # what falls on the padding is dropped: each of x's 4 entries is in one window, with weight ¼
    dx = avg_pool2d_backward(np.zeros((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), 2, padding=1)
    np.testing.assert_array_equal(dx, np.full((1, 1, 2, 2), 0.25))


def test_tensorflow_same_padding_leaves_the_padding_out_of_the_mean_and_ours_counts_it(tf):
    # a 3 × 3 window at stride 1 over ones: padded by 1, ours averages 9 entries everywhere (a corner holds
    # 4 ones and 5 zeros of padding: 4/9, an edge 6/9); TensorFlow's "SAME" divides by the real entries (1)
    x = np.ones((1, 1, 3, 3))
    ours = avg_pool2d_forward(x, 3, 1, 1)[0, 0]
    np.testing.assert_allclose(ours, np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]]) / 9, rtol=1e-15)
    same = tf.nn.avg_pool2d(tf.constant(x.transpose(0, 2, 3, 1), dtype=tf.float64), 3, 1, "SAME")
    np.testing.assert_allclose(same.numpy()[0, :, :, 0], np.ones((3, 3)), rtol=1e-15)


def test_avg_pool_is_a_convolution_with_a_constant_kernel():
    from backprop_ref.layers import conv2d_forward
    x = RNG.normal(size=(2, 1, 5, 5))
    kernel = np.full((1, 1, 3, 3), 1 / 9)
    np.testing.assert_allclose(avg_pool2d_forward(x, 3, 2, 1), conv2d_forward(x, kernel, np.zeros(1), 2, 1),
                               rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("method", ["central", "complex"])
@pytest.mark.parametrize("size, stride, padding",
                         [(2, None, 0), (3, 1, 1), ((2, 3), (1, 2), (1, 1)), (3, 2, 0)])
def test_avg_pool_backward_is_the_vjp(size, stride, padding, method):
    x = RNG.normal(size=(2, 2, 5, 6))
    r = check_vjp(lambda x: avg_pool2d_forward(x, size, stride, padding), x,
                  lambda dy: avg_pool2d_backward(x, dy, size, stride, padding), method=method)
    assert r.passed, str(r)


def test_avg_pool_dividing_by_the_entries_inside_x_fails():
    # count_include_pad=False in the backward of a forward that counts the padding: wrong at the border
    x = RNG.normal(size=(1, 1, 4, 4))

    def excluding(dy):
        ones = np.ones_like(x)
        inside = avg_pool2d_forward(ones, 2, 2, 1) * 4             # entries of x in each window
        return avg_pool2d_backward(x, dy * 4 / inside, 2, 2, 1)
    r = check_vjp(lambda x: avg_pool2d_forward(x, 2, 2, 1), x, excluding, seed=8)
    assert r.verdict == "fail"


def test_bad_input_names_the_argument():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"size \(5, 5\) does not fit x of shape \(1, 1, 4, 4\)"):
        max_pool2d_forward(x, 5)
    with pytest.raises(ValueError, match=r"padding \(2, 2\) must be at most half the window size \(2, 2\)"):
        avg_pool2d_forward(x, 2, padding=2)
    with pytest.raises(ValueError, match="size must be an integer ≥ 1"):
        max_pool2d_forward(x, 0)
    with pytest.raises(ValueError, match="stride must be an integer ≥ 1"):
        avg_pool2d_backward(x, np.zeros((1, 1, 2, 2)), 2, stride=0)
    with pytest.raises(ValueError, match=r"dy has shape \(1, 1, 3, 3\) but must have shape \(1, 1, 2, 2\)"):
        max_pool2d_backward(x, np.zeros((1, 1, 3, 3)), 2)
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\)"):
        avg_pool2d_forward(np.zeros((4, 4)), 2)
