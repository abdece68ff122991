"""The Taylor-remainder second opinion and the bisection that localises wrong entries.

Pins what `taylor_test` computes (its steps, which remainders it keeps, the observed order and the
verdict at 1.5, its argument errors and its report line), when a check asks it for a second opinion
and along which direction, and what bisection names after a failing directional check: the
entries whose block fails the full-mode error model, no entry a correct claim puts inside that
model, and the blocks where it loses an error spread below the bound. Expected values are built
from the documented formulas or the results' own fields, never pasted from a run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop_ref.gradcheck import ERROR_MODEL, check_grad, taylor_test
from checker_internals import Judged, Verdict, quartic, quartic_grad, rademacher, second_opinion

C_A = ERROR_MODEL["analytic_rounding"][0]
C_F = ERROR_MODEL["f_rounding"][0]
MARGINAL = ERROR_MODEL["marginal"][0]
SAFETY = ERROR_MODEL["safety"][0]

EPS = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)
H_CENTRAL = ERROR_MODEL["central_step"][0]


X6 = np.linspace(-1.5, 1.2, 6)
NOTE = "directions: 4 random Rademacher (±1/√n) + the claimed gradient’s own"


# ---- taylor_test: steps, kept remainders, order --------------------------------------------------

@pytest.mark.parametrize("x, direction, seed", [
    (X6, None, 3),                       # rms x < 1; a Rademacher direction, max|d| = 1/√6
    (3 * X6, 3.0 * np.eye(6)[2], None),  # rms x > 2; a given direction, normalised to e_2
])
def test_taylor_steps_halve_from_a_first_step_moving_no_entry_more_than_a_tenth_of_x(x, direction, seed):
    r = taylor_test(quartic, x, quartic_grad(x), direction=direction, seed=seed)
    d = rademacher(seed, 0, 6) if direction is None else np.eye(6)[2]
    first = 0.1 * max(1.0, float(np.sqrt(np.mean(x * x))))   # 0.1·max(1, rms x), per entry
    np.testing.assert_allclose(r.steps, first / np.abs(d).max() * 0.5 ** np.arange(20), rtol=1e-14)
    assert r.conclusive and r.passed


def _kept_orders(f, x, g, d, r):
    """The documented rule from the result's own steps: a remainder counts when it exceeds 16× the
    rounding of its three terms, C_F·eps·(|f(x)| + |f(x + hd)| + |h⟨g, d⟩|); the order is log2 of
    the ratio of each pair of consecutive counted remainders."""
    slope = float(g @ d)
    f0 = f(x)
    fh = np.array([f(x + h * d) for h in r.steps])
    np.testing.assert_array_equal(r.remainders, np.abs(fh - f0 - r.steps * slope))
    kept = r.remainders > 16.0 * C_F * EPS * (abs(f0) + np.abs(fh) + np.abs(r.steps * slope))
    orders = [math.log2(r.remainders[i] / r.remainders[i + 1]) for i in range(len(kept) - 1)
              if kept[i] and kept[i + 1]]
    return kept, np.array(orders)


S22 = 2.0**22


@pytest.mark.parametrize("case", ["every remainder counts", "the finest drown in s·h's rounding"])
def test_taylor_order_is_the_median_of_the_finest_three_kept_pairs(case):
    # x = 0, d = e_0, first step 0.1: f = s·v + v² + v³ has the correct gradient s, remainder h² + h³
    s = 0.0 if case == "every remainder counts" else S22
    f = lambda v: float(s * v[0] + v[0] ** 2 + v[0] ** 3)  # noqa: E731
    x, d, g = np.zeros(1), np.ones(1), np.array([s])
    r = taylor_test(f, x, g, direction=d)
    kept, orders = _kept_orders(f, x, g, d, r)
    # s = 0: h² + h³ is far above 16·C_F·eps·(h² + h³). s = 2²²: the rounding is 16·C_F·eps·2sh, so
    # h² counts while h > 2⁹·eps·s = 2⁻²¹: h = 0.1·2⁻¹⁷ (7.6e-7) does, 0.1·2⁻¹⁸ (3.8e-7) does not.
    assert kept.tolist() == ([True] * 20 if s == 0 else [True] * 18 + [False] * 2)
    np.testing.assert_array_equal(r.orders, orders)
    assert r.order == float(np.median(orders[-3:]))
    assert r.conclusive and r.passed and abs(r.order - 2) < 0.05


@pytest.mark.parametrize("times, conclusive", [(16.0, False), (16.5, True)])
def test_a_remainder_counts_only_above_sixteen_times_fs_rounding(times, conclusive):
    # f jumps from 1 − c at x to 1 + c everywhere else, g = 0: every remainder is 2c, f's rounding
    # is R = C_F·eps·(|1 − c| + |1 + c|) = 32·eps (all exact in binary), so 2c = times·R.
    c = times * 16 * EPS
    x = np.zeros(1)
    r = taylor_test(lambda v: 1.0 - c if v[0] == 0.0 else 1.0 + c, x, np.zeros(1), direction=[1.0])
    np.testing.assert_array_equal(r.remainders, np.full(20, 2 * c))
    assert r.conclusive is conclusive
    if conclusive:   # a remainder that does not shrink: order 0, the gradient is wrong
        np.testing.assert_array_equal(r.orders, np.zeros(19))
        assert r.order == 0.0 and not r.passed
    else:
        assert math.isnan(r.order) and r.passed and r.orders.size == 0


def _pw(v):
    # along e_0 from x = 10 with steps t = 1, 1/2, 1/4, …: remainder t (order 1), 2t² (order 2), then 0
    t = v[0] - 10.0
    return float(t if t >= 0.5 else 2 * t * t if t >= 0.25 else 0.0)


def test_an_order_of_exactly_one_and_a_half_passes():
    # x = 10 makes the first step 0.1·10 = 1; orders [1, 2] have median 1.5: documented "order ≥ 1.5"
    r = taylor_test(_pw, np.array([10.0]), np.zeros(1), direction=[1.0])
    np.testing.assert_array_equal(r.steps[:3], [1.0, 0.5, 0.25])
    np.testing.assert_array_equal(r.orders, [1.0, 2.0])
    assert r.order == 1.5 and r.conclusive and r.passed


def test_taylor_with_a_seed_is_replayable_and_records_the_seed():
    x = np.linspace(-1, 1, 40)
    a = taylor_test(quartic, x, quartic_grad(x), seed=8)
    b = taylor_test(quartic, x, quartic_grad(x), seed=8)
    np.testing.assert_array_equal(a.remainders, b.remainders)
    d = rademacher(8, 0, 40)
    replay = taylor_test(quartic, x, quartic_grad(x), direction=d)
    np.testing.assert_allclose(a.remainders, replay.remainders, rtol=1e-9)
    assert a.seed == 8 and replay.seed is None


def test_taylor_passes_fs_shape_and_takes_a_callable_gradient():
    a = np.array([1.0, -2.0, 0.5])
    f = lambda W: 0.5 * float(np.sum((W @ a) ** 2))  # noqa: E731   (needs W as a matrix)
    W = np.arange(6.0).reshape(2, 3) / 5
    r = taylor_test(f, W, lambda W: np.outer(W @ a, a), seed=0)
    assert r.conclusive and r.passed and abs(r.order - 2) < 0.2


def test_taylor_inconclusive_result_keeps_its_figures():
    r = taylor_test(lambda v: float(np.sum(2 * v)), X6, np.full(6, 2.0), seed=5)
    assert r.conclusive is False and r.passed is True and math.isnan(r.order)
    assert r.seed == 5 and r.remainders.shape == (20,) and r.orders.shape == (0,)
    assert str(r) == ("Taylor test inconclusive: the remainder stays at f's rounding level at every step "
                      "(f is locally linear or the gradient is tiny)")


def test_taylor_report_of_a_wrong_gradient():
    r = taylor_test(quartic, X6, quartic_grad(X6) * 1.01, seed=4)
    assert r.conclusive and not r.passed and r.orders.size == 19
    assert str(r) == (f"Taylor test: remainder shrinks with observed order {r.order:.2f} over steps "
                      f"{r.steps[0]:.1e}…{r.steps[-1]:.1e} (2 for a correct gradient, 1 for a wrong one): "
                      "the gradient is WRONG")


def test_taylor_steps_past_an_overflow_whatever_np_seterr_says():
    # x = 700, d = 1: the first steps (70, 35, 17.5) reach past exp's overflow at 709.78
    x = np.array([700.0])
    with np.errstate(all="raise"):
        r = taylor_test(lambda v: float(np.sum(np.exp(v))), x, np.exp(x), direction=[1.0])
    assert not np.isfinite(r.remainders[:3]).any() and np.isfinite(r.remainders[3:]).all()
    assert r.conclusive and r.passed


@pytest.mark.parametrize("kw, exc, message", [
    ({"x": "abc"}, TypeError, "x must be numeric (bool, int, float); got str with dtype <U3"),
    ({"x": X6 + 0j}, TypeError, "x must be real, got dtype complex128"),
    ({"direction": ["a"] * 6}, TypeError,
     "direction must be numeric (bool, int, float); got list with dtype <U1"),
    ({"direction": np.ones(6) + 1j}, TypeError, "direction must be real, got dtype complex128"),
    ({"grad": np.ones(5)}, ValueError,
     "grad has shape (5,) but must have shape (6,) (x has shape (6,)); they must match"),
])
def test_taylor_argument_errors_name_the_argument(kw, exc, message):
    args = {"x": X6, "grad": quartic_grad(X6), "direction": None, **kw}
    with pytest.raises(exc) as info:
        taylor_test(quartic, args["x"], args["grad"], direction=args["direction"], seed=0)
    assert str(info.value) == message


def test_taylor_needs_a_scalar_f():
    with pytest.raises(ValueError, match="f must return a scalar"):
        taylor_test(lambda v: v, X6, X6, seed=0)


# ---- when a check asks for the second opinion, and along which direction -------------------------

@pytest.mark.parametrize("x, planted", [
    (X6, 1.5),            # fails by 1.5× its bound
    (X6, 0.5),            # passes at half its bound: still within 3× of it
    (np.array([0.7]), 1.5),   # a single entry
])
def test_a_marginal_full_check_asks_taylor_along_the_worst_entry(x, planted):
    g = quartic_grad(x)
    i = x.size // 2
    bad = g.copy()
    bad[i] += planted * check_grad(quartic, x, g).tolerance[i]
    r = check_grad(quartic, x, bad)
    assert r.worst_index == (i,) and 1 / MARGINAL < r.ratio[i] <= MARGINAL
    assert r.taylor is not None
    replay = taylor_test(quartic, x, bad, direction=np.eye(x.size)[i])
    np.testing.assert_array_equal(r.taylor.remainders, replay.remainders)


def test_a_marginal_verdict_under_the_users_tolerance_asks_no_taylor_test():
    g = quartic_grad(X6)
    bad = g.copy()
    bad[2] += 1e-4
    err = check_grad(quartic, X6, bad).max_abs_err
    r = check_grad(quartic, X6, bad, atol=err / 1.5)   # err/tol = 1.5: marginal, but the user decided
    assert not r.passed and 1 < r.ratio.max() <= MARGINAL
    assert r.taylor is None and "second opinion" not in str(r)


def test_a_marginal_own_direction_asks_taylor_along_the_claimed_gradient():
    x = np.linspace(-1, 1, 16)
    g = quartic_grad(x)
    k = 4
    own_tol = check_grad(quartic, x, g, directions=k, seed=6).tolerance[k]
    bad = g * (1 + 1.5 * own_tol / np.linalg.norm(g))   # a scale error: 1.5 bounds along d = g/‖g‖
    r = check_grad(quartic, x, bad, directions=k, seed=6)
    assert r.worst_index == (k,) and r.taylor is not None
    replay = taylor_test(quartic, x, bad, direction=bad / np.linalg.norm(bad))
    np.testing.assert_array_equal(r.taylor.remainders, replay.remainders)


@pytest.mark.parametrize("worst, asked", [
    (MARGINAL, True),                                   # within 3× of the bound includes 3×
    (np.nextafter(MARGINAL, np.inf), False),
    (np.nextafter(1 / MARGINAL, np.inf), True),
    (1 / MARGINAL, True),                               # either side: a third of the bound too
    (np.nextafter(1 / MARGINAL, 0.0), False),
    (0.5, True),
])
def test_marginal_means_a_worst_ratio_within_three_times_the_bound(worst, asked):
    # err/tol exactly 3 cannot be planted through f (tol is no round number): the helper is fed one
    g = quartic_grad(X6)
    none = np.zeros(6, bool)
    v = Verdict(ok=~none, tolerance=np.ones(6), numerical=g, ratio=np.where(np.arange(6) == 4, worst, 0.0),
                kink=none, kink_ok=none)
    judged = Judged("full", g, v, (6,), [], [], "", None, None)
    assert (second_opinion(judged, quartic, X6, g, None) is not None) is asked


# ---- bisection ----------------------------------------------------------------------------------

class Recorded:
    """f recording every point it is called at."""

    def __init__(self, f):
        self.f, self.points = f, []

    def __call__(self, v):
        self.points.append(np.array(v, dtype=float).ravel())
        return self.f(v)


def test_one_wrong_entry_is_localised_and_the_note_names_the_directions_only():
    x = np.linspace(-1, 1, 32)
    g = quartic_grad(x)
    g[9] += 0.1
    r = check_grad(quartic, x, g, directions=4, seed=5)
    assert not r.passed and r.localised == [(9,)]
    assert r.localised_note == NOTE      # nothing was lost on the way


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
    moved = np.concatenate([np.abs(dx[dx != 0]) for dx in blocks])
    assert np.all(np.isclose(moved, h, rtol=1e-9) | np.isclose(moved, 2 * h, rtol=1e-9))


def test_bisection_names_the_entries_full_mode_fails_with_float32_claims():
    # float32 claims of a linear f: each entry's bound is its claimed rounding
    # A_i = C_A·eps32·(|g_i| + max|g| + max(|f|, 1)) (f's rounding is 10⁴× smaller). Entries 0 and 2
    # are far off, entry 1 is 1.1·A_1 off, entries 3 and 4 are 0.9·A off: within their bound.
    c = np.array([0.25, -0.125, 0.0625, 0.1875, -0.25, 0.125, -0.0625, 0.03125])
    g = c.copy()
    g[[0, 2]] += [0.01, 0.03]
    A = C_A * EPS32 * (np.abs(g) + np.abs(g).max() + 1.0)
    g[[1, 3, 4]] += np.array([1.1, 0.9, 0.9]) * A[[1, 3, 4]]
    g32 = g.astype(np.float32)
    f = lambda v: float(c @ v)  # noqa: E731
    full = check_grad(f, np.zeros(8), g32)
    assert np.flatnonzero(full.ratio > 1).tolist() == [0, 1, 2]
    r = check_grad(f, np.zeros(8), g32, directions=4, seed=0)
    assert not r.passed and r.localised == [(0,), (1,), (2,)]
    assert r.localised_note == NOTE


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
    # f = 10⁶ + Σ v at x = 0: a block's bound is f's rounding, B = S·C_F·eps·10⁶/t along its v
    # (t = eps^(1/3)·√n, |v_i| = 1/√n), the same for every block. Five pairs of entries are each off by
    # 0.7·B along v (signs as d), so each pair fails (1.4·B) and neither of its halves does; entry 28 is
    # far off, so that the direction fails at all.
    n, seed = 32, 4
    d = rademacher(seed, 0, n)   # the first direction, replayed from the seed
    t = H_CENTRAL * math.sqrt(n)
    B = SAFETY * C_F * EPS * 1e6 / t
    g = np.ones(n)
    pairs = [2, 6, 10, 16, 24]
    for a in pairs:
        g[[a, a + 1]] += 0.7 * B * np.sign(d[[a, a + 1]]) * math.sqrt(n)
    g[28] += 10.0
    r = check_grad(lambda v: 1e6 + float(np.sum(v)), np.zeros(n), g, directions=4, seed=seed)
    assert not r.passed and r.localised == [(28,)]
    lost = ", ".join(f"[{a}, {a + 2})" for a in pairs[:4])    # the report lists the first four
    assert r.localised_note == (f"{NOTE}; bisection lost the error in flat block(s) {lost}: neither half "
                                "fails alone (errors that cancel, or an error near the bound)")
