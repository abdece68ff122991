"""The pytest11 plugin: the `gradcheck` fixture, its report as the failure message, --gradcheck-seed."""

from __future__ import annotations

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


def run(pytester, *args):
    pytester.makepyfile(test_users=MODULE)
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
