"""The tape comparison's verdict (backprop_ref.tolerances.agree): the bound and the reported errors."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_ref.tolerances import TAPE_RTOL, agree

INF = np.inf


def test_the_relative_error_is_symmetric_and_zero_where_both_are_zero():
    ours, theirs = np.array([2.0, 0.0, -3.0]), np.array([1.0, 0.0, -3.0])
    # |2 − 1| / max(2, 1) = 1/2, whichever side is called ours
    assert agree(ours, theirs).max_rel_err == agree(theirs, ours).max_rel_err == 0.5
    assert agree(np.zeros(3), np.zeros(3)).max_rel_err == 0.0


def test_the_same_inf_on_both_sides_agrees_with_no_error():
    a = agree(np.array([INF, -INF, 1.0]), np.array([INF, -INF, 1.0]))
    assert a.passed and a.max_abs_err == 0.0 and a.max_rel_err == 0.0


@pytest.mark.parametrize("ours, theirs", [(INF, 1.0), (-INF, INF), (np.nan, 1.0), (1.0, np.nan)])
def test_a_non_finite_disagreement_has_an_infinite_relative_error(ours, theirs):
    a = agree(np.array([0.5, ours]), np.array([0.5, theirs]))
    assert not a.passed
    assert a.max_rel_err == INF and a.worst_index == (1,)


def test_a_masked_entry_is_not_compared():
    a = agree(np.array([1.0, 5.0]), np.array([1.0, -5.0]), mask=np.array([True, False]))
    assert a.passed and a.max_abs_err == 0.0 and a.max_rel_err == 0.0


def test_an_entry_passes_within_the_relative_bound_and_fails_beyond_it():
    value = 1e3   # the scale is 1e3, so the absolute part is 1e3·eps·1e3 = 2.2e-10, beside 1e-10·1e3
    atol = agree(np.array([value]), np.array([value])).atol
    within = value * (1 + 0.5 * TAPE_RTOL) + 0.5 * atol
    beyond = value * (1 + 2 * TAPE_RTOL) + 2 * atol
    assert agree(np.array([value]), np.array([within])).passed
    assert not agree(np.array([value]), np.array([beyond])).passed


def test_an_overflowed_forward_scale_does_not_widen_the_bound():
    # a naive softplus overflows to inf at large x: the bound's scale comes from finite values alone,
    # or atol would be inf and any disagreement would pass
    assert not agree(np.array([1.0]), np.array([2.0]), forward_scale=np.array([np.inf])).passed
    overflowed = np.array([np.inf, 1.0])
    assert not agree(overflowed, np.array([1e4, 1.0]), forward_scale=overflowed).passed
