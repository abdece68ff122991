"""The multiclass hinge loss (CS231n's multiclass SVM): hand-computed cases, the gradient's identities,
the kink convention, the checker on the gradient, and a planted bug."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from backprop_ref.gradcheck import check_grad
from backprop_ref.layers import multiclass_hinge, multiclass_hinge_grad

# CS231n's worked example (Linear classification notes): cat, car, frog scores, true classes 0, 1, 2.
SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
LABELS = np.array([0, 1, 2])
RNG = np.random.default_rng(14)


def test_the_cs231n_example():
    # cat: max(0, 5.1 − 3.2 + 1) + max(0, −1.7 − 3.2 + 1) = 2.9 + 0; car: 0 + 0 (4.9 wins by ≥ 1);
    # frog: max(0, 2.2 + 3.1 + 1) + max(0, 2.5 + 3.1 + 1) = 6.3 + 6.6 = 12.9; the mean of the three.
    assert multiclass_hinge(SCORES, LABELS) == pytest.approx((2.9 + 0.0 + 12.9) / 3, rel=1e-15)
    assert multiclass_hinge(SCORES[0], 0) == pytest.approx(2.9, rel=1e-15)   # one example: no mean


def test_the_gradient_of_the_cs231n_example():
    # cat: only j = 1 is active, so +1 there and −1 at the true class; car: nothing active;
    # frog: both others active, +1 each and −2 at class 2; every row divided by N = 3.
    expected = np.array([[-1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, -2.0]]) / 3
    np.testing.assert_array_equal(multiclass_hinge_grad(SCORES, LABELS), expected)


def test_the_margin():
    z = np.array([0.0, 2.0, 1.5])          # true class 1: z_0 − z_1 = −2, z_2 − z_1 = −0.5
    assert multiclass_hinge(z, 1) == 0.5                      # Δ = 1: max(0, −1) + max(0, 0.5)
    np.testing.assert_array_equal(multiclass_hinge_grad(z, 1), [0.0, -1.0, 1.0])
    assert multiclass_hinge(z, 1, margin=0.25) == 0.0         # wins by more than Δ everywhere
    np.testing.assert_array_equal(multiclass_hinge_grad(z, 1, margin=0.25), [0.0, 0.0, 0.0])
    assert multiclass_hinge(z, 0, margin=0.0) == 3.5          # the plain hinge: 2 + 1.5
    assert multiclass_hinge(z, 1, margin=3.0) == 1.0 + 2.5


def test_a_single_class_has_no_terms():
    assert multiclass_hinge(np.array([[4.0], [-1.0]]), np.array([0, 0])) == 0.0
    np.testing.assert_array_equal(multiclass_hinge_grad(np.array([[4.0]]), np.array([0])), [[0.0]])


def test_the_loss_is_invariant_to_a_shift_of_a_row_and_its_gradient_rows_sum_to_zero():
    z = RNG.normal(size=(6, 5)) * 3
    y = RNG.integers(0, 5, size=6)
    shifted = z + RNG.normal(size=(6, 1)) * 10
    assert multiclass_hinge(shifted, y) == pytest.approx(multiclass_hinge(z, y), rel=1e-12)
    g = multiclass_hinge_grad(z, y)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-15)
    # each active margin adds +1/N at j and −1/N at y: the true class's entry counts them
    active = (z - z[np.arange(6), y][:, None] + 1 > 0)
    active[np.arange(6), y] = False
    np.testing.assert_array_equal(g[np.arange(6), y], -active.sum(axis=1) / 6)


def test_a_margin_exactly_at_zero_contributes_zero_and_the_checker_accepts_it():
    z = np.array([[1.0, 0.0, 3.0]])        # true class 0: z_1 − z_0 + 1 = 0, the kink; z_2 active
    np.testing.assert_array_equal(multiclass_hinge_grad(z, np.array([0])), [[-1.0, 0.0, 1.0]])
    r = check_grad(lambda z: multiclass_hinge(z, np.array([0])), z, multiclass_hinge_grad(z, np.array([0])))
    assert r.passed and r.kinks   # 0 lies between the one-sided slopes (0 and 1) at z_1


@pytest.mark.parametrize("method", ["central", "complex"])
def test_the_gradient_passes_the_checker(method):
    for _ in range(5):
        z = RNG.normal(size=(4, 6)) * 2
        y = RNG.integers(0, 6, size=4)
        r = check_grad(lambda z, y=y: multiclass_hinge(z, y, 0.5), z, multiclass_hinge_grad(z, y, 0.5),
                       method=method)
        assert r.passed, str(r)


def test_a_planted_bug_fails_the_checker():
    # The true class's entry as −1 per row instead of minus the number of active margins: right for
    # rows with one violation (the cat above), wrong for the frog.
    def wrong(z, y):
        g = multiclass_hinge_grad(z, y)
        g[np.arange(len(y)), y] = -1.0 * (g[np.arange(len(y)), y] != 0) / len(y)
        return g
    r = check_grad(lambda z: multiclass_hinge(z, LABELS), SCORES, wrong(SCORES, LABELS))
    assert r.verdict == "fail" and r.worst_index == (2, 2)


def test_extreme_scores_give_inf_quietly():
    z = np.array([[-1e308, 1e308], [1e308, -1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert multiclass_hinge(z, np.array([0, 0])) == np.inf   # 1e308 − (−1e308) overflows
        # two finite margins of 1e308 + 1 whose sum is beyond float64
        assert multiclass_hinge(np.array([0.0, 1e308, 1e308]), 0) == np.inf
        np.testing.assert_array_equal(multiclass_hinge_grad(z, np.array([0, 0])), [[-0.5, 0.5], [0.0, 0.0]])


def test_complex_scores_take_the_branch_on_the_real_part():
    z = np.array([1.0, 0.5 + 1e-20j, 3.0])
    assert multiclass_hinge(z, 0) == pytest.approx(0.5 + 3.0 + 1e-20j)


def test_bad_input_names_the_argument():
    with pytest.raises(TypeError, match="labels must be integers"):
        multiclass_hinge(SCORES, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\); labels\[1\] = 3"):
        multiclass_hinge(SCORES, np.array([0, 3, 1]))
    with pytest.raises(ValueError, match=r"labels has shape \(2,\) but z has shape \(3, 3\)"):
        multiclass_hinge_grad(SCORES, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"z must have shape \(K,\) or \(N, K\)"):
        multiclass_hinge(np.zeros((2, 2, 2)), np.zeros((2, 2), int))
    with pytest.raises(ValueError, match="margin must be finite"):
        multiclass_hinge(SCORES, LABELS, margin=np.inf)
    with pytest.raises(ValueError, match="batch of no rows"):
        multiclass_hinge(np.zeros((0, 3)), np.zeros(0, int))
