"""The pytest11 plugin: the `gradcheck` fixture, its report as the failure message, --gradcheck-seed."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]
# Each test runs pytest in a new process in pytester's directory, with the plugin found through the
# installed package's entry point: neither exists under mutmut (mutants are not installed).
pytestmark = pytest.mark.no_mutmut

MODULE = '''
import numpy as np

def f(v):
    return np.sum(np.sin(v))

X = np.array([0.1, 0.2, 0.3, 0.4])

def test_correct(gradcheck):
    result = gradcheck.assert_grad(f, X, np.cos(X))
    assert result.passed

def test_wrong_entry(gradcheck):
    g = np.cos(X)
    g[2] += 1e-3
    gradcheck.assert_grad(f, X, g)

def test_wrong_jacobian(gradcheck):
    gradcheck.assert_jacobian(np.tanh, X, np.eye(4))

def test_directional_seed(gradcheck):
    g = np.cos(X) * 1.01
    gradcheck.assert_grad(f, X, g, directions=2)
'''


# A real inconclusive check, no patched verdict: the step [v > 0] at its jump v = 0 has no derivative
# for any claim to match (its 0 is right everywhere else), and the checker says it cannot judge there.
UNDECIDED = '''
import numpy as np
from hypothesis import given, reject, strategies as st

from backprop_ref import InconclusiveCheck, assert_grad

def step(v):
    return float(np.sum(v > 0))

AT_THE_JUMP = np.array([0.0, 1.0])

def test_undecided_gradient(gradcheck):
    gradcheck.assert_grad(step, AT_THE_JUMP, np.zeros(2))

def test_undecided_jacobian(gradcheck):
    gradcheck.assert_jacobian(lambda v: (v > 0).astype(float), AT_THE_JUMP, np.zeros((2, 2)))

def test_a_failure_outweighs_an_undecided_entry(gradcheck):
    gradcheck.assert_grad(step, AT_THE_JUMP, np.array([0.0, 5.0]))

@given(x0=st.sampled_from([0.0, 0.5]))
def test_hypothesis_rejects_undecided_draws(x0):
    try:
        assert_grad(step, np.array([x0, 1.0]), np.zeros(2))
    except InconclusiveCheck:
        reject()
'''


def run(pytester, *args, module=MODULE):
    pytester.makepyfile(test_users=module)
    # the plugin is loaded through its pytest11 entry point, as in any user's suite
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_fixture_passes_and_fails_with_the_report(pytester):
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    assert "gradient check FAILED: 1 of 4 entries outside tolerance" in out
    assert "[2]" in out and "method central" in out
    assert "Jacobian check FAILED" in out
    assert "seed" in out
    # the checker's own frames are hidden: the failure points at the user's line
    assert "gradcheck.assert_grad(f, X, g)" in out
    assert "def _check(" not in out


def test_seed_option_replays_directional_checks(pytester):
    result = run(pytester, "--gradcheck-seed=4242", "-k", "directional_seed")
    result.assert_outcomes(failed=1)
    assert "seed 4242" in result.stdout.str()


def test_fixture_is_registered_through_the_entry_point(pytester):
    pytester.makepyfile("def test_has(gradcheck):\n    assert hasattr(gradcheck, 'assert_jacobian')\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures")
    assert "gradcheck" in result.stdout.str()


# pytest prints the short summary in full when the CI variable is set and cut to the terminal's
# width otherwise, so the exception names are counted in the tracebacks (lines "E   ..."), which
# read the same either way; both settings are run.
@pytest.mark.parametrize("ci", [None, "true"], ids=["local", "CI"])
def test_an_inconclusive_check_fails_by_default_with_the_report(pytester, monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    result = run(pytester, module=UNDECIDED)
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    raised = [m.group(1) for m in (re.match(r"E +(\S+): (gradient|Jacobian) check ", line)
                                    for line in result.stdout.lines) if m]
    assert sorted(raised) == ["AssertionError"] + ["backprop_ref.gradcheck.result.InconclusiveCheck"] * 2
    assert "gradient check INCONCLUSIVE: 0 of 2 entries outside tolerance, 1 could not be judged" in out
    assert "Jacobian check INCONCLUSIVE" in out
    assert "gradient check FAILED: 1 of 2 entries outside tolerance, 1 could not be judged" in out


def test_skip_option_turns_inconclusive_checks_into_skips_with_the_reason(pytester):
    result = run(pytester, "--gradcheck-inconclusive=skip", "-rs", module=UNDECIDED)
    result.assert_outcomes(passed=1, failed=1, skipped=2)   # the failure still fails
    skips = [line for line in result.stdout.lines if line.startswith("SKIPPED [1] test_users.py:")]
    assert len(skips) == 2
    assert (": gradient check inconclusive: 1 of 2 entries could not be judged at any admissible step "
            "(x[0]: f jumps at x[0] by 1 ") in skips[0]
    assert ": Jacobian check inconclusive: 1 of 4 entries could not be judged " in skips[1]
    assert all(line.endswith("; the rest pass") for line in skips)
    assert "InconclusiveCheck" not in result.stdout.str()


def test_the_ini_option_and_the_command_line_that_overrides_it(pytester):
    pytester.makeini("[pytest]\ngradcheck_inconclusive = skip\n")
    only = ("-k", "undecided_gradient or undecided_jacobian")
    run(pytester, *only, module=UNDECIDED).assert_outcomes(skipped=2, deselected=2)
    run(pytester, *only, "--gradcheck-inconclusive=fail", module=UNDECIDED).assert_outcomes(
        failed=2, deselected=2)


def test_an_unknown_policy_is_a_usage_error(pytester):
    pytester.makeini("[pytest]\ngradcheck_inconclusive = maybe\n")
    result = run(pytester, module=UNDECIDED)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown gradcheck_inconclusive policy 'maybe'; valid names are fail, skip" in result.stderr.str()
    bad = run(pytester, "--gradcheck-inconclusive=maybe", module=UNDECIDED)
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "invalid choice: 'maybe'" in bad.stderr.str()


RULES = '''
import numpy as np
from hypothesis import given, settings, strategies as st

X = np.array([[0.5, -1.0], [2.0, 0.1]])
W = np.array([[0.3, -0.2], [0.7, 0.4]])

def layer(X, W):
    return np.tanh(X @ W)

def vjp(u):   # (dX, dW) of tanh(XW): δ = u ∘ (1 − y²)
    d = u * (1 - np.tanh(X @ W) ** 2)
    return d @ W.T, X.T @ d

def jvp(v):
    return (1 - np.tanh(X @ W) ** 2) * (v[0] @ W + X @ v[1])

def test_vjp_jvp_adjoint(gradcheck):
    gradcheck.assert_vjp(layer, (X, W), vjp)
    gradcheck.assert_jvp(layer, (X, W), jvp)
    gradcheck.assert_adjoint(layer, (X, W), vjp, jvp)
    assert [r.kind for r in gradcheck.results] == ["vjp", "jvp", "adjoint"]

def test_wrong_vjp(gradcheck):
    gradcheck.assert_vjp(layer, (X, W), lambda u: (vjp(u)[0], 2 * vjp(u)[1]))

def step(v):
    return float(np.sum(v > 0))

@settings(max_examples=20, database=None)
@given(x0=st.sampled_from([0.0, 0.5, 0.75]))
def test_given_rejects_undecided_draws(gradcheck_given, x0):
    gradcheck_given.assert_grad(step, np.array([x0, 1.0]), np.zeros(2))
'''


def test_every_check_has_its_fixture_method_and_the_given_fixture_rejects_undecided_draws(pytester):
    result = run(pytester, module=RULES)
    result.assert_outcomes(passed=2, failed=1)
    # (the hypothesis test drew x0 = 0.0, the jump, among its 20 examples: rejected, not failed)
    raised = [line for line in result.stdout.lines if re.match(r"E +AssertionError: ", line)]
    assert len(raised) == 1 and "AssertionError: VJP check FAILED for W: 4 of 8 entries outside" in raised[0]
