"""2-D convolution: a hand case, the definition's loops, a 1×1 kernel as a dense layer, the backward as a
convolution with flipped kernels, the checker on every geometry, and planted bugs (no flip, wrong padding)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from backprop_ref.gradcheck import check_vjp
from backprop_ref.layers import conv2d_backward, conv2d_forward
from backprop_ref.layers.conv import output_size

RNG = np.random.default_rng(3)
# (H, W, KH, KW, stride, padding): square and not, strides that leave rows unread, padding beyond the kernel
GEOMETRIES = [(5, 5, 3, 3, 1, 0), (5, 6, 3, 3, 2, 1), (4, 4, 2, 2, 3, 2), (6, 5, 3, 2, (2, 1), (1, 0)),
              (3, 3, 3, 3, 1, 1), (1, 1, 1, 1, 1, 0)]


def loops(x, W, b, stride, padding):
    """The definition, one multiply-add at a time:
    y[n, f, i, j] = b[f] + Σ_{c, u, v} W[f, c, u, v]·x_pad[n, c, iS + u, jS + v]."""
    sh, sw = (stride, stride) if np.isscalar(stride) else stride
    ph, pw = (padding, padding) if np.isscalar(padding) else padding
    N, C, H, Wd = x.shape
    F, _, KH, KW = W.shape
    xp = np.zeros((N, C, H + 2 * ph, Wd + 2 * pw))
    xp[:, :, ph:ph + H, pw:pw + Wd] = x
    Ho, Wo = (H + 2 * ph - KH) // sh + 1, (Wd + 2 * pw - KW) // sw + 1
    y = np.zeros((N, F, Ho, Wo))
    for n, f, i, j in itertools.product(range(N), range(F), range(Ho), range(Wo)):
        y[n, f, i, j] = b[f] + sum(W[f, c, u, v] * xp[n, c, i * sh + u, j * sw + v]
                                   for c in range(C) for u in range(KH) for v in range(KW))
    return y


def draw(H, Wd, KH, KW, N=2, C=3, F=2):
    return RNG.normal(size=(N, C, H, Wd)), RNG.normal(size=(F, C, KH, KW)), RNG.normal(size=F)


def test_a_hand_case():
    # x[i, j] = 3i + j; the kernel [[1, 0], [0, −1]] takes x[i, j] − x[i + 1, j + 1] = −4 everywhere
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    W = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    np.testing.assert_array_equal(conv2d_forward(x, W, np.array([0.5])), np.full((1, 1, 2, 2), -3.5))
    # padded by 1, the same kernel gives x_pad[i, j] − x_pad[i + 1, j + 1] over the 4 × 4 positions
    y = conv2d_forward(x, W, np.array([0.0]), padding=1)
    xp = np.pad(x[0, 0], 1)
    np.testing.assert_array_equal(y[0, 0], xp[:-1, :-1] - xp[1:, 1:])


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_the_forward_is_the_definition(geometry):
    H, Wd, KH, KW, s, p = geometry
    x, W, b = draw(H, Wd, KH, KW)
    y = conv2d_forward(x, W, b, stride=s, padding=p)
    np.testing.assert_allclose(y, loops(x, W, b, s, p), rtol=1e-13, atol=1e-13)


def test_output_size():
    assert output_size(5, 3, 1, 0) == 3
    assert output_size(5, 3, 2, 1) == 3      # (5 + 2 − 3)/2 + 1
    assert output_size(4, 2, 3, 2) == 3      # ⌊(4 + 4 − 2)/3⌋ + 1: no row left over
    assert output_size(6, 3, 2, 0) == 2      # ⌊3/2⌋ + 1: the last row is read by no window


def test_a_one_by_one_kernel_is_a_dense_layer_over_the_channels():
    x, W, b = draw(4, 3, 1, 1, C=5, F=3)
    y = conv2d_forward(x, W, b)
    dense = np.einsum("nchw,fc->nfhw", x, W[:, :, 0, 0]) + b[:, None, None]
    # the two sum the same 5 products in different orders: they agree to rounding of Σ|terms|, not of |y|
    np.testing.assert_allclose(y, dense, rtol=0, atol=1e-15 * np.max(np.abs(x)) * np.abs(W).sum(axis=1).max())


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_dx_is_the_convolution_of_dy_with_the_flipped_kernels(padding):
    # stride 1: dx = conv2d(dy, W flipped in both spatial axes with F and C swapped, padding K − 1 − P)
    x, W, b = draw(5, 5, 3, 3)
    dy = RNG.normal(size=conv2d_forward(x, W, b, padding=padding).shape)
    flipped = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    expected = conv2d_forward(dy, flipped, np.zeros(3), padding=2 - padding)
    dx = conv2d_backward(x, W, dy, padding=padding)[0]
    np.testing.assert_allclose(dx, expected, rtol=1e-12, atol=1e-13)


def test_db_and_dw_by_the_definition():
    x, W, b = draw(4, 5, 2, 3)
    dy = RNG.normal(size=conv2d_forward(x, W, b, stride=(1, 2), padding=1).shape)
    _, dW, db = conv2d_backward(x, W, dy, stride=(1, 2), padding=1)
    np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), rtol=1e-14)
    # y is linear in W: ⟨dy, y(W + e)⟩ − ⟨dy, y(W)⟩ = dW[e] for a unit e, exactly (up to rounding)
    e = np.zeros_like(W)
    e[1, 2, 0, 1] = 1.0
    bump = np.sum(dy * (conv2d_forward(x, W + e, b, (1, 2), 1) - conv2d_forward(x, W, b, (1, 2), 1)))
    assert dW[1, 2, 0, 1] == pytest.approx(bump, rel=1e-12)


def test_rows_no_window_reads_get_no_gradient():
    x, W, _ = draw(6, 6, 3, 3)
    dx = conv2d_backward(x, W, np.ones((2, 2, 2, 2)), stride=2)[0]   # windows at rows 0–2 and 2–4
    np.testing.assert_array_equal(dx[:, :, 5, :], 0.0)
    np.testing.assert_array_equal(dx[:, :, :, 5], 0.0)
    assert np.all(dx[:, :, :5, :5] != 0)


@pytest.mark.parametrize("method", ["central", "complex"])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_the_backward_is_the_vjp(geometry, method):
    H, Wd, KH, KW, s, p = geometry
    x, W, b = draw(H, Wd, KH, KW)
    r = check_vjp(lambda x, W, b: conv2d_forward(x, W, b, s, p), (x, W, b),
                  lambda dy: conv2d_backward(x, W, dy, s, p), method=method)
    assert r.passed, str(r)


def test_dx_without_the_flip_fails_naming_x():
    x, W, b = draw(5, 5, 3, 3)

    def unflipped(dy):
        dx_wrong = conv2d_forward(dy, W.transpose(1, 0, 2, 3), np.zeros(3), padding=2)
        _, dW, db = conv2d_backward(x, W, dy)
        return dx_wrong, dW, db
    r = check_vjp(lambda x, W, b: conv2d_forward(x, W, b), (x, W, b), unflipped, seed=5)
    assert r.verdict == "fail" and [k for k, v in r.by_argument.items() if not v.passed] == ["x"]


def test_dw_with_the_wrong_padding_fails_naming_w():
    x, W, b = draw(5, 5, 3, 3)

    def padded_at_the_end(dy):   # 2 zeros after each axis instead of 1 on each side: dW of a shifted x
        dx, _, db = conv2d_backward(x, W, dy, padding=1)
        shifted = np.pad(x, ((0, 0), (0, 0), (0, 2), (0, 2)))
        return dx, conv2d_backward(shifted, W, dy, padding=0)[1], db
    r = check_vjp(lambda x, W, b: conv2d_forward(x, W, b, padding=1), (x, W, b), padded_at_the_end, seed=6)
    assert r.verdict == "fail" and [k for k, v in r.by_argument.items() if not v.passed] == ["W"]


def test_dw_flipped_as_for_a_true_convolution_fails_naming_w():
    # the forward is a cross-correlation: its dW correlates x with dy, unflipped
    x, W, b = draw(5, 5, 3, 3)

    def flipped(dy):
        dx, dW, db = conv2d_backward(x, W, dy)
        return dx, dW[:, :, ::-1, ::-1], db
    r = check_vjp(lambda x, W, b: conv2d_forward(x, W, b), (x, W, b), flipped, seed=12)
    assert r.verdict == "fail" and [k for k, v in r.by_argument.items() if not v.passed] == ["W"]


def test_overflow_is_quiet():
    x = np.full((1, 1, 2, 2), 1e308)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = conv2d_forward(x, np.ones((1, 1, 2, 2)), np.zeros(1))
        dx, dW, _ = conv2d_backward(x, np.ones((1, 1, 2, 2)), np.full((1, 1, 1, 1), 1e308))
    assert y[0, 0, 0, 0] == np.inf and np.all(dW == np.inf)   # 4e308 and 1e308·1e308
    np.testing.assert_array_equal(dx, x)                     # dy·W = 1e308·1 is representable


def test_bad_input_names_the_argument():
    x, W, b = draw(4, 4, 3, 3)
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\); got shape \(3, 4, 4\)"):
        conv2d_forward(x[0], W, b)
    with pytest.raises(ValueError, match=r"W has shape \(2, 2, 3, 3\) but x has shape \(2, 3, 4, 4\)"):
        conv2d_forward(x, W[:, :2], b)
    with pytest.raises(ValueError, match=r"its KH = 3 must lie in \[1, 2\]"):
        conv2d_forward(x[:, :, :2], W, b)
    with pytest.raises(ValueError, match=r"b has shape \(3,\) but must have shape \(2,\)"):
        conv2d_forward(x, W, np.zeros(3))
    with pytest.raises(ValueError, match="stride must be an integer ≥ 1"):
        conv2d_forward(x, W, b, stride=0)
    with pytest.raises(ValueError, match="padding must be an integer ≥ 0"):
        conv2d_forward(x, W, b, padding=-1)
    with pytest.raises(TypeError, match="padding must be an integer"):
        conv2d_forward(x, W, b, padding=1.5)
    with pytest.raises(ValueError, match=r"dy has shape \(2, 2, 3, 3\) but must have shape \(2, 2, 2, 2\)"):
        conv2d_backward(x, W, np.zeros((2, 2, 3, 3)))
