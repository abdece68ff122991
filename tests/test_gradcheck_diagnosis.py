"""The diagnosis of a failed check: each pattern named where the numbers hold it, silence elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_ref import check_grad
from backprop_ref.gradcheck.diagnosis import diagnose

RNG = np.random.default_rng(5)
A = RNG.normal(size=(4, 4))
X = RNG.normal(size=(4, 4))


def quad(M):
    """½‖X M‖²: ∂/∂M = Xᵀ X M, a square matrix with no symmetry."""
    return 0.5 * np.sum((X @ M) ** 2)


G = X.T @ X @ A


def diagnosis(claim):
    r = check_grad(quad, A, claim)
    assert r.verdict == "fail"
    return r.diagnosis


def test_a_constant_factor_is_named_with_the_dimension_it_equals():
    factor = "in all 16 failing entries: a missing or extra factor"
    assert diagnosis(4 * G) == (f"ratio claim/numerical 4 {factor}; 4 is a dimension of x (shape (4, 4)): a "
                                "mean or sum over that axis taken or missed?")
    assert diagnosis(G / 3) == f"ratio claim/numerical 0.3333 {factor}"


def test_a_flipped_sign_and_a_term_not_propagated():
    assert diagnosis(-G) == "the claim is −1 × the numerical value in every failing entry: a flipped sign"
    g = G.copy()
    g[1] = 0.0
    assert diagnosis(g) == ("the claim is 0 in all 4 failing entries, where the numerical value is not: a "
                            "term not propagated")


def test_a_transpose_and_a_shift_by_one_index():
    assert diagnosis(G.T) == "the claim matches the numerical values transposed"
    shifted = np.vstack([G[1:], G[:1]])   # claim[i] = G[i + 1]; the last row wraps around
    assert diagnosis(shifted) == ("the claim matches the numerical values shifted by one index along axis 0 "
                                  "(claim[i] = numerical[i + 1]): an off-by-one")


@pytest.mark.parametrize("claim", [
    G + RNG.normal(size=G.shape),                     # unrelated errors
    np.where(np.arange(16).reshape(4, 4) == 5, 2 * G, G),   # one entry doubled: a lone ratio says nothing
    G * (1 + 0.1 * np.arange(16).reshape(4, 4)),      # a ratio that varies
], ids=["noise", "one entry", "varying ratio"])
def test_no_pattern_no_diagnosis(claim):
    assert diagnosis(claim) is None


def test_a_pass_has_no_diagnosis():
    assert check_grad(quad, A, G).diagnosis is None


def test_the_rules_compare_within_the_tolerance_given():
    N = np.array([1.0, 2.0, 3.0])
    failing = np.ones(3, bool)
    tight, loose = np.full(3, 1e-9), np.full(3, 0.2)
    wobbly = 2 * N + np.array([0.0, 0.1, -0.1])   # a factor 2 up to 0.1
    assert diagnose(wobbly, N, tight, failing, {}) is None
    said = diagnose(wobbly, N, loose, failing, {})
    assert said is not None and said.startswith("ratio claim/numerical 2 in all 3 failing entries")


def test_a_float32_accurate_claim_in_float64_is_told_to_declare_its_precision():
    # a gradient computed in float32 and held in float64 fails at float64's precision; every value of
    # it is a float32 number and it lies within float32's rounding: the diagnosis names claim_dtype
    x = np.random.default_rng(11).normal(size=8)
    g = np.cos(x).astype(np.float32).astype(np.float64)
    r = check_grad(lambda v: np.sum(np.sin(v)), x, g)
    assert r.verdict == "fail" and "claim_dtype=np.float32" in r.diagnosis
    assert check_grad(lambda v: np.sum(np.sin(v)), x, g, claim_dtype=np.float32).verdict == "pass"
    # an error far beyond float32's rounding is not excused so (its ratio rule still speaks)
    bad = check_grad(lambda v: np.sum(np.sin(v)), x, (g * 1.01).astype(np.float32).astype(np.float64))
    assert bad.diagnosis is None or "claim_dtype" not in bad.diagnosis
