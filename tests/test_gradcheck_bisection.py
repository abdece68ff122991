"""Bisection: how a failing directional check localises the wrong entries, and what it says when it cannot.

Pins which direction is bisected (the first that fails, the claimed gradient's own included) and
along which signs; that a block is judged at the full-mode steps h and 2h of its entries, by the
full-mode error model or the user's tolerance; the entries it names (those whose block fails, none a
correct claim puts inside the model, at most eight); and the blocks where it loses an error spread
below the bound or cannot judge f. Expected values are built from the documented formulas or the
results' own fields, never pasted from a run.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from checker_internals import direction_signs, quartic, quartic_grad, rademacher

from backprop_ref.gradcheck import ERROR_MODEL, check_grad

C_A = ERROR_MODEL["analytic_rounding"][0]
C_F = ERROR_MODEL["f_rounding"][0]
SAFETY = ERROR_MODEL["safety"][0]
EPS = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)
H_CENTRAL = ERROR_MODEL["central_step"][0]
NOTE = "directions: 4 random Rademacher (±1/√n) + the claimed gradient’s own"
X4 = np.zeros(4)


class Recorded:
    """f recording every point it is called at."""

    def __init__(self, f):
        self.f, self.points = f, []

    def __call__(self, v):
        self.points.append(np.array(v, dtype=float).ravel())
        return self.f(v)


# ---- which direction is bisected, and along which signs -----------------------------------------

def test_bisection_runs_along_the_first_direction_that_fails_not_the_first_one():
    # f = v0 + v1 at x = 0: every value is exact, so under atol = 0 a direction passes only when the
    # claim is exact along it. The error ±1/8 in entries 0 and 1 cancels along directions with equal
    # signs there (direction 0 here): bisecting along it would lose both entries.
    k, seed = 4, 2
    d = direction_signs(seed, 4, k)
    assert d[0][0] == d[0][1] and any(s[0] != s[1] for s in d[1:])
    g = np.array([1.125, 0.875, 0.0, 0.0])
    r = check_grad(lambda v: float(v[0] + v[1]), X4, g, directions=k, seed=seed, atol=0.0)
    assert r.abs_err[0] == 0.0 and r.ratio[0] == 0.0
    assert not r.passed and r.localised == [(0,), (1,)]


@pytest.mark.parametrize("ratio", [-3.0, 7.0, 31.0, 2.0, -0.875])
def test_bisection_follows_the_failing_directions_own_signs(ratio):
    # Two wrong entries a, b in one half, signs + and − along the failing direction d_0: its entries
    # ±1/4 see the pair's error e·(1 − ratio)/4 ≠ 0 (weighted: e·(w_a − ratio·w_b)/4, w in [1/2, 1]),
    # so bisection finds both for these ratios.
    n, k, seed = 16, 3, 0
    x = np.linspace(-1, 1, n)
    s0 = direction_signs(seed, n, k)[0]
    a = next(i for i in range(n // 2) if s0[i] > 0)
    b = next(i for i in range(n // 2) if s0[i] < 0)
    g = quartic_grad(x)
    g[a] += 0.125
    g[b] += 0.125 * ratio
    r = check_grad(quartic, x, g, directions=k, seed=seed)
    assert not r.passed and r.ratio[0] > 1
    assert r.localised == sorted([(a,), (b,)])


def test_bisection_along_the_own_direction_of_a_huge_gradient():
    # The random directions all pass (the error is orthogonal to them); the own direction g/‖g‖ fails
    # and bisection along it finds the two entries. ‖g‖ ≈ 1e160: its square is beyond float64.
    x = np.linspace(-1, 1, 8)
    k, seed = 2, 0
    d = direction_signs(seed, 8, k)
    a, b = next((i, j) for i in range(8) for j in range(i + 1, 8) if all(s[i] != s[j] for s in d))
    big = 1e160
    g = big * quartic_grad(x)
    g[[a, b]] += big * 0.25                          # ⟨e_a + e_b, d⟩ = 0 for both random directions
    r = check_grad(lambda v: big * quartic(v), x, g, directions=k, seed=seed)
    assert np.all(r.ratio[:k] <= 1) and r.ratio[k] > 1
    assert r.localised == [(a,), (b,)]


def test_a_scale_error_only_the_own_direction_sees_is_localised_along_it():
    # f depends on x_0 alone: d = g/‖g‖ = e_0 sees a scale error in full, a random direction 1/√16
    # of it. Float32 claims make the bound the same in both: 2 bounds fail one, 1/2 passes the others.
    x = np.zeros(16)
    x[0] = 0.5
    f = lambda v: 0.5 * float(v[0] ** 2)  # noqa: E731
    g = np.zeros(16)
    g[0] = 0.5
    tol = check_grad(f, x, g.astype(np.float32), directions=4, seed=1).tolerance
    bad = g.copy()
    bad[0] += 2 * tol[4]
    assert 2 * tol[4] / 4 < tol[:4].min()
    r = check_grad(f, x, bad.astype(np.float32), directions=4, seed=1)
    assert np.flatnonzero(np.abs(r.analytic - r.numerical) > r.tolerance).tolist() == [4]
    # the blocks d does not touch (d = 0 there) never fail
    assert r.localised == [(0,)] and r.localised_note == NOTE


# ---- the entries it names -----------------------------------------------------------------------

def test_one_wrong_entry_is_localised_and_the_note_names_the_directions_only():
    x = np.linspace(-1, 1, 32)
    g = quartic_grad(x)
    g[9] += 0.1
    r = check_grad(quartic, x, g, directions=4, seed=5)
    assert not r.passed and r.localised == [(9,)]
    assert r.localised_note == NOTE      # nothing was lost on the way


def test_bisection_localises_wrong_entries_away_from_the_first_block():
    x = np.linspace(-1, 1, 64)
    g = quartic_grad(x)
    g[[0, 41]] += 0.5
    r = check_grad(quartic, x, g, directions=8, seed=1)
    assert not r.passed and set(r.localised) == {(0,), (41,)}
    assert "bisection localised the wrong entries to: [0], [41]" in str(r)


def test_bisection_reports_at_most_eight_entries():
    x = np.linspace(-1, 1, 64)
    g = quartic_grad(x)
    wrong = [3, 9, 15, 22, 30, 37, 44, 51, 58, 63]
    g[wrong] += 0.01 * 2.0 ** np.arange(10)   # powers of two: no signed subset of them cancels
    r = check_grad(quartic, x, g, directions=8, seed=4)
    assert not r.passed
    assert len(r.localised) == 8 and {i for (i,) in r.localised} <= set(wrong)


def test_a_block_is_probed_at_the_full_mode_step_h_and_2h_of_each_of_its_entries():
    x = 1.5 * np.array([1, -1, 1, 1, -1, -1, 1, -1.0])   # |x_i| = rms x = 1.5
    g = quartic_grad(x)
    g[3] += 0.5
    f = Recorded(quartic)
    r = check_grad(f, x, g, directions=4, seed=0)
    assert r.localised == [(3,)]
    h = H_CENTRAL * 1.5          # the full-mode step eps^(1/3)·max(|x_i|, 1)
    blocks = [p - x for p in f.points if 0 < np.count_nonzero(p - x) < x.size]   # moves a block only
    assert blocks
    W_MIN = ERROR_MODEL["bisect_weight_min"][0]
    for dx in blocks:
        # the entry of the largest weight moves by h (or 2h), the others by their weight's share of it
        moved = np.abs(dx[dx != 0])
        top = moved.max()
        assert np.isclose(top, h, rtol=1e-9) or np.isclose(top, 2 * h, rtol=1e-9)
        assert np.all(moved >= W_MIN * top * (1 - 1e-12))


def test_bisection_names_the_entries_full_mode_fails_with_float32_claims():
    # float32 claims of a linear f: each entry's bound is its claimed rounding
    # A_i = C_A·eps32·(|g_i| + max|g|) + C_A·eps·max(|f|, |g_i|) (its own entries in float32, the floor
    # in float64: f(x) = 0 here; f's rounding is ~600× smaller). Entries 0 and 2 are far off, entry 1 is
    # 1.1·A_1 off, entries 3 and 4 are 0.9·A off: within their bound.
    c = np.array([0.25, -0.125, 0.0625, 0.1875, -0.25, 0.125, -0.0625, 0.03125])
    g = c.copy()
    g[[0, 2]] += [0.01, 0.03]
    A = C_A * EPS32 * (np.abs(g) + np.abs(g).max()) + C_A * np.finfo(np.float64).eps * np.abs(g)
    g[[1, 3, 4]] += np.array([1.1, 0.9, 0.9]) * A[[1, 3, 4]]
    g32 = g.astype(np.float32)
    f = lambda v: float(c @ v)  # noqa: E731
    full = check_grad(f, np.zeros(8), g32)
    assert np.flatnonzero(full.ratio > 1).tolist() == [0, 1, 2]
    r = check_grad(f, np.zeros(8), g32, directions=4, seed=0)
    assert not r.passed and r.localised == [(0,), (1,), (2,)]
    assert r.localised_note == NOTE


def test_under_atol_zero_a_block_that_agrees_exactly_is_not_blamed():
    # f ignores x_1 … x_7 and their claim is 0: along any block of them both sides are exactly 0
    r = check_grad(lambda v: 3.0 * float(v[0]), np.zeros(8), np.eye(8)[0] * 4.0, directions=4, seed=2,
                   atol=0.0)
    assert not r.passed and r.localised == [(0,)]


@pytest.mark.parametrize("case", ["|f| near 1e6", "x near 1e4"])
def test_bisection_does_not_blame_correct_entries_where_f_rounds_coarsely(case):
    rng = np.random.default_rng(7)
    a = rng.normal(size=32)
    if case == "|f| near 1e6":     # f's rounding 16·eps·|f| swamps its changes along a block
        x = rng.normal(size=32)
        f = lambda v: 1e6 + quartic(v)  # noqa: E731
        g = quartic_grad(x)
    else:   # f of the offset from x (as logits near 1e4 are): x + t·d rounds at eps·1e4, seen through
        # g; the error is odd in t, so no difference of f shows it (the fourth difference is exactly 0)
        x = 1e4 + rng.normal(size=32)
        f = lambda v: float(a @ (v - x))  # noqa: E731
        g = a.copy()
    g[21] += 1.0
    r = check_grad(f, x, g, directions=4, seed=3)
    assert not r.passed and r.localised == [(21,)] and r.localised_note == NOTE


# ---- under the user's tolerance -----------------------------------------------------------------

def test_directional_user_tolerance_judges_every_row_and_bisects_with_it():
    x = np.linspace(-1, 1, 32)
    g = quartic_grad(x)
    g[17] += 0.3
    r = check_grad(quartic, x, g, directions=6, seed=2, atol=1e-3)
    assert not r.passed and r.user_tolerance and r.localised == [(17,)]
    assert np.allclose(r.tolerance, 1e-3)
    assert check_grad(quartic, x, g, directions=6, seed=2, atol=10.0).passed


def test_bisection_under_a_relative_user_tolerance_finds_the_one_entry():
    x = np.linspace(-1, 1, 32)
    g = quartic_grad(x)
    g[17] *= 1.5
    r = check_grad(quartic, x, g, directions=6, seed=2, rtol=1e-4)
    assert not r.passed and r.localised == [(17,)]


def test_bisection_uses_the_users_tolerance_and_says_when_it_lost_the_error():
    # Two errors of 0.6·atol·√n (seen as 0.6·atol along a direction) in different halves: a direction
    # with equal signs there sees 1.2·atol and fails, but neither half alone exceeds atol.
    n, k, seed = 16, 4, 1
    x = np.linspace(-1, 1, n)
    atol = 1e-3
    a, b = 3, 12
    d = direction_signs(seed, n, k)
    first = next(j for j in range(k) if d[j][a] == d[j][b])
    assert all(d[j][a] != d[j][b] for j in range(first))
    g = quartic_grad(x)
    g[[a, b]] += 0.6 * atol * math.sqrt(n) * d[first][a]
    r = check_grad(quartic, x, g, directions=k, seed=seed, atol=atol)
    assert not r.passed and r.localised == []
    assert r.localised_note == (
        f"directions: {k} random Rademacher (±1/√n) + the claimed gradient’s own; bisection lost the "
        f"error in flat block(s) [0, {n}): neither half fails alone (errors that cancel, or an error "
        "near the bound)")


# ---- what it cannot localise --------------------------------------------------------------------

def test_a_non_finite_value_on_a_bisection_probe_blames_no_entry_and_is_named():
    # x_2 = 1e-6: the directional steps (1.5e-8 per entry) stay inside √'s domain, the block probes
    # (eps^(1/3) ≈ 6e-6 per entry) leave it
    x = np.full(8, 1.0)
    x[2] = 1e-6
    g = 0.5 / np.sqrt(x)
    g[5] += 10.0
    r = check_grad(lambda v: float(np.sum(np.sqrt(v))), x, g, directions=4, seed=0)
    assert not r.passed and r.problems == [] and r.localised == [(5,)]
    assert r.localised_note.endswith("bisection could not judge block(s) [0, 4): f is not finite at "
                                     "their probes (the step leaves f's domain)")


def test_bisection_names_the_blocks_where_an_error_spread_below_the_bound_is_lost():
    # f = 10⁶ + Σ v at x = 0: a block's bound is f's rounding, B = S·C_F·eps·10⁶/t along its v, with
    # t = eps^(1/3)/max|v_i|: B ∝ the block's largest weight, as is any one entry's share of ⟨e, v⟩.
    # Every entry of [0, 16) is off by 0.9·B·√n (signs as d): alone it is seen as 0.9·B (it passes
    # whatever its weight), two of them as at least (1 + W_MIN)·0.9·B (they fail whatever theirs). So
    # every pair of [0, 16) fails with both halves passing; entry 28 is far off, so that the direction
    # fails at all.
    n, seed = 32, 4
    d = rademacher(seed, 0, n)   # the first direction, replayed from the seed
    t = H_CENTRAL * math.sqrt(n)
    B = SAFETY * C_F * EPS * 1e6 / t
    g = np.ones(n)
    g[:16] += 0.9 * B * np.sign(d[:16]) * math.sqrt(n)
    g[28] += 10.0
    r = check_grad(lambda v: 1e6 + float(np.sum(v)), np.zeros(n), g, directions=4, seed=seed)
    assert not r.passed and r.localised == [(28,)]
    lost = ", ".join(f"[{a}, {a + 2})" for a in (0, 2, 4, 6))    # the report lists the first four
    assert r.localised_note == (f"{NOTE}; bisection lost the error in flat block(s) {lost}: neither half "
                                "fails alone (errors that cancel, or an error near the bound)")


# ---- errors that could cancel -------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_three_equal_errors_in_a_large_weight_matrix_are_all_localised(seed):
    # Along the failing direction's own signs two equal errors of opposite sign in one block cancel
    # exactly: that block passes and both are lost. Blocks are weighted at random: none can cancel.
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(784, 256))
    g = np.cos(W)
    flat = rng.choice(W.size, size=3, replace=False)
    g.ravel()[flat] += 0.01
    r = check_grad(lambda w: float(np.sum(np.sin(w))), W, g, directions=4, seed=seed)
    assert r.verdict == "fail"
    assert r.localised == sorted(tuple(int(i) for i in np.unravel_index(j, W.shape)) for j in flat), str(r)


def test_bisection_says_when_it_stopped_at_its_cap():
    x = np.linspace(-1, 1, 64)
    g = quartic_grad(x)
    wrong = [3, 9, 15, 22, 30, 37, 44, 51, 58, 63]
    g[wrong] += 0.01 * 2.0 ** np.arange(10)
    r = check_grad(quartic, x, g, directions=8, seed=4)
    assert len(r.localised) == 8
    # the blocks still failing when it stopped hold at least one wrong entry each: the two left are in
    # one block or two
    m = re.search(r"; bisection stopped at 8 entries: 8 of at least (\d+) wrong entries shown$",
                  r.localised_note)
    assert m and 9 <= int(m.group(1)) <= 10
    assert f"8 of at least {m.group(1)} wrong entries shown" in str(r)
