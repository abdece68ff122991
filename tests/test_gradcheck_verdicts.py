"""The three verdicts: "pass", "fail" and "inconclusive", how they combine, and how they are raised.

The rule (result module): any failed entry or non-finite value fails; else an entry that could not be
judged makes the check inconclusive; else a marginal pass whose Taylor second opinion says "wrong" is
inconclusive too (the two disagree); else it passes. Built here from hand-made verdicts, so that each
combination is pinned whatever f would give.
"""

from __future__ import annotations

import numpy as np
import pytest
from checker_internals import Judged, build_result, judge, no_kinks, quartic_grad

import backprop_ref
from backprop_ref.gradcheck import InconclusiveCheck, TaylorResult

X6 = np.linspace(-1.5, 1.2, 6)


def judged(ratio, undecided=(), problems=(), inconclusive=None, mode="full"):
    """A Judged of 6 entries with the given err/tol, `undecided` entries not judged."""
    g = quartic_grad(X6)
    und = np.isin(np.arange(6), undecided)
    tol = np.ones(6)
    v = judge(g, g + np.asarray(ratio, float) * tol, tol, no_kinks(6), None, und)
    why = [f"x[{i}]: f jumps at x[{i}]" for i in undecided] if inconclusive is None else inconclusive
    return Judged(mode, g, v, (6,), [], list(problems), "", None, None, inconclusive=why)


def result(j, taylor=None):
    return build_result(j, method="central", seed=None, n_evals=1, jacobian=False, user=None, x_shape=(6,),
                        taylor=taylor)


def taylor(passed, order):
    return TaylorResult(order, passed, True, np.array([0.1, 0.05]), np.array([1e-3, 2.5e-4]),
                        np.array([order]), None)


def test_the_exception_is_public_and_an_assertion_error():
    assert backprop_ref.InconclusiveCheck is InconclusiveCheck
    assert issubclass(InconclusiveCheck, AssertionError)


def test_an_undecided_entry_is_neither_passed_nor_failed():
    v = judged([0.5, 0.5, 0.5, 7.0, 0.5, 0.5], undecided=[3]).verdict
    assert not v.ok[3] and v.undecided[3] and np.isnan(v.ratio[3])
    assert v.n_failed == 0 and v.n_undecided == 1
    assert v.worst() != 3                      # the worst is the worst judged entry


def test_the_worst_entry_is_an_undecided_one_only_when_none_was_judged():
    assert judged(np.zeros(6), undecided=range(6)).verdict.worst() == 0


def test_plain_pass_has_no_reason():
    r = result(judged(np.full(6, 0.5)))
    assert (r.verdict, r.passed, r.reason, r.n_inconclusive) == ("pass", True, "", 0)
    assert r.assert_passed() is r


def test_undecided_entries_make_the_check_inconclusive_and_are_listed():
    r = result(judged(np.full(6, 0.5), undecided=[1, 4]))
    assert (r.verdict, r.passed, r.n_inconclusive, r.n_failed) == ("inconclusive", False, 2, 0)
    assert r.reason.startswith("2 of 6 entries could not be judged at any admissible step (x[1]: f jumps")
    text = str(r)
    assert text.splitlines()[0].startswith(
        "gradient check INCONCLUSIVE: 0 of 6 entries outside tolerance, 2 could not be judged")
    assert "  NOT JUDGED: x[1]: f jumps at x[1]" in text and "  NOT JUDGED: x[4]: f jumps at x[4]" in text
    with pytest.raises(InconclusiveCheck) as info:
        r.assert_passed()
    assert str(info.value) == text


@pytest.mark.parametrize("problems", [(), ("entry [0]: f(x + 1e-05·e_i) = nan at x_i = 0",)])
def test_a_failure_outweighs_undecided_entries(problems):
    ratio = [0.5, 9.0, 0.5, 0.5, 0.5, 0.5] if not problems else np.full(6, 0.5)
    r = result(judged(ratio, undecided=[4], problems=problems))
    assert r.verdict == "fail" and not r.passed and r.n_inconclusive == 1
    with pytest.raises(AssertionError) as info:
        r.assert_passed()
    assert not isinstance(info.value, InconclusiveCheck)


def test_a_failure_reason_names_the_worst_entry():
    r = result(judged([0.5, 9.0, 0.5, 3.0, 0.5, 0.5]))
    assert r.reason == "2 of 6 entries outside tolerance; worst [1], err/tol 9"


def test_a_marginal_pass_the_taylor_test_calls_wrong_is_inconclusive():
    r = result(judged(np.full(6, 0.8)), taylor(False, 1.02))
    assert r.verdict == "inconclusive" and r.n_inconclusive == 0
    assert "the Taylor test along it observes order 1.02" in r.reason and "disagree" in r.reason
    text = str(r)
    assert "passed" not in text.splitlines()[0] and "WRONG" not in text   # never both opinions
    with pytest.raises(InconclusiveCheck):
        r.assert_passed()


def test_a_taylor_test_that_agrees_keeps_the_pass():
    r = result(judged(np.full(6, 0.8)), taylor(True, 1.98))
    assert r.verdict == "pass" and "consistent with a correct gradient" in str(r)


def test_a_marginal_failure_stands_whatever_the_taylor_test_says():
    r = result(judged([0.5, 1.5, 0.5, 0.5, 0.5, 0.5]), taylor(True, 1.98))
    assert r.verdict == "fail"
    text = str(r)
    assert "consistent with a correct gradient" not in text
    assert "cannot see an error this close to the bound, so the verdict stands" in text


def test_undecided_entries_are_left_out_of_the_worst_table():
    r = result(judged([0.5, 0.25, 0.75, 0.5, 0.5, 0.5], undecided=[0, 3]))
    rows = [ln for ln in str(r).splitlines() if ln.startswith("    [")]
    assert [ln.split()[0] for ln in rows] == ["[2]", "[4]", "[5]"]


def test_more_than_ten_undecided_entries_are_summarised():
    g = np.zeros(12)
    und = np.ones(12, bool)
    v = judge(g, g, np.ones(12), no_kinks(12), None, und)
    why = [f"x[{i}]: f jumps at x[{i}]" for i in range(12)]
    r = build_result(Judged("full", g, v, (12,), [], [], "", None, None, inconclusive=why), method="central",
                     seed=None, n_evals=1, jacobian=False, user=None, x_shape=(12,), taylor=None)
    text = str(r)
    assert text.count("NOT JUDGED") == 10 and "… and 2 more entries not judged" in text

