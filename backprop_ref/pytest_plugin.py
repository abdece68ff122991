"""pytest plugin (the `pytest11` entry point): the `gradcheck` and `gradcheck_given` fixtures.

In any test suite with backprop-ref installed::

    def test_my_layer(gradcheck):
        gradcheck.assert_grad(loss, W, dW)                 # every entry
        gradcheck.assert_grad(loss, W, dW, directions=8)   # 8 random directions, seed in the report
        gradcheck.assert_jacobian(softmax, z, J)

A failing check fails the test with the checker's report as the message (index, method, step, seed,
counts, which bound decided), and the checker's own frames are hidden from the traceback.

An inconclusive check (nothing failed, but some entries could not be judged at any admissible step: f
jumps there, or an entry moves f by less than its rounding) raises `backprop_ref.InconclusiveCheck`, an
AssertionError, so by default it fails the test too. ``--gradcheck-inconclusive=skip`` (or the ini
option ``gradcheck_inconclusive = skip``; the command line wins) turns it into a pytest skip whose reason
is the checker's sentence, shown by ``pytest -rs``; ``fail`` is the default.

Every check has its fixture method: ``check_grad``, ``check_jacobian``, ``check_vjp``, ``check_jvp``,
``check_adjoint``, ``check_elementwise``, ``check_tape`` return the result; each ``assert_*`` fails the
test unless it passes.

In a hypothesis ``@given`` test use the session-scoped `gradcheck_given` fixture instead (hypothesis
refuses a function-scoped fixture there): it rejects an inconclusive draw (``hypothesis.reject()``, so
hypothesis draws another) where a skip would skip the whole test at the first undecided draw::

    from hypothesis import given

    @given(x=...)
    def test_my_layer_everywhere(gradcheck_given, x):
        gradcheck_given.assert_grad(loss, x, loss_grad(x))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from backprop_ref import gradcheck as _gc
from backprop_ref._validate import choose
from backprop_ref.gradcheck.report import WHAT

__all__ = ["GradChecker", "gradcheck", "gradcheck_given", "INCONCLUSIVE_POLICIES"]

INCONCLUSIVE_POLICIES = ("fail", "skip")


def _checking(name: str) -> Callable[..., _gc.GradCheckResult]:
    """The fixture's `name`: backprop_ref's function of that name, with the run's seed, the result kept
    (check_tape is looked up in tf_twins when called, so TensorFlow is imported only by a tape check)."""
    def check(self: GradChecker, *args: Any, **kwargs: Any) -> _gc.GradCheckResult:
        if name == "check_tape":
            from backprop_ref import tf_twins
            fn = tf_twins.check_tape
        else:
            fn = getattr(_gc, name)
        result: _gc.GradCheckResult = fn(*args, **self._seeded(kwargs))
        if self.keep:
            self.results.append(result)
        return result
    check.__name__ = name
    check.__doc__ = f"`backprop_ref.{name}`: the result, never a failure."
    return check


def _asserting(name: str) -> Callable[..., _gc.GradCheckResult]:
    """The fixture's assert_*: the check, failing the test with the report unless it passes."""
    checking = _checking(name)

    def asserted(self: GradChecker, *args: Any, **kwargs: Any) -> _gc.GradCheckResult:
        __tracebackhide__ = True
        return self._asserted(checking(self, *args, **kwargs))
    asserted.__name__ = name.replace("check_", "assert_")
    asserted.__doc__ = (f"`backprop_ref.{name}`, failing the test with the report unless it passes (an "
                        "inconclusive check fails, skips or rejects the draw, as `inconclusive` says); "
                        "the result.")
    return asserted


class GradChecker:
    """The fixture's object: the checker's functions, failing the test with the report.

    `seed`, when set (``--gradcheck-seed``), is used by directional checks that do not pass their own.
    `inconclusive` (``--gradcheck-inconclusive``) says what an inconclusive check does: "fail" raises
    InconclusiveCheck (an AssertionError), "skip" skips the test with the checker's reason.
    """

    def __init__(self, seed: int | None = None, inconclusive: str = "fail", keep: bool = True):
        self.seed = seed
        self.inconclusive = choose(inconclusive, "inconclusive policy", (*INCONCLUSIVE_POLICIES, "reject"))
        self.keep = keep
        self.results: list[_gc.GradCheckResult] = []

    def _seeded(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.seed is not None and kwargs.get("seed") is None:
            kwargs = {**kwargs, "seed": self.seed}
        return kwargs

    def _asserted(self, result: _gc.GradCheckResult) -> _gc.GradCheckResult:
        __tracebackhide__ = True
        if result.verdict == "inconclusive" and self.inconclusive == "skip":
            pytest.skip(f"{WHAT[result.kind]} check inconclusive: {result.reason}")
        if result.verdict == "inconclusive" and self.inconclusive == "reject":
            import hypothesis  # (not a dependency: only a @given test, where it is installed, gets here)
            hypothesis.reject()
        return result.assert_passed()

    check_grad = _checking("check_grad")
    assert_grad = _asserting("check_grad")
    check_jacobian = _checking("check_jacobian")
    assert_jacobian = _asserting("check_jacobian")
    check_vjp = _checking("check_vjp")
    assert_vjp = _asserting("check_vjp")
    check_jvp = _checking("check_jvp")
    assert_jvp = _asserting("check_jvp")
    check_adjoint = _checking("check_adjoint")
    assert_adjoint = _asserting("check_adjoint")
    check_elementwise = _checking("check_elementwise")
    assert_elementwise = _asserting("check_elementwise")
    check_tape = _checking("check_tape")
    assert_tape = _asserting("check_tape")
    numerical_grad = staticmethod(_gc.numerical_grad)
    numerical_jacobian = staticmethod(_gc.numerical_jacobian)
    taylor_test = staticmethod(_gc.taylor_test)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop_ref", "gradient checks (backprop-ref)")
    group.addoption("--gradcheck-seed", type=int, default=None,
                    help="seed for directional gradient checks that do not pass one (replay a failure)")
    group.addoption("--gradcheck-inconclusive", choices=INCONCLUSIVE_POLICIES, default=None,
                    help="what the gradcheck fixture's assert_* do with a check that could not decide: "
                         "fail the test (default) or skip it with the reason; overrides the ini option")
    parser.addini("gradcheck_inconclusive", default="fail",
                  help="fail or skip: what the gradcheck fixture's assert_* do with an inconclusive check")


def _inconclusive_policy(config: pytest.Config) -> str:
    value = config.getoption("--gradcheck-inconclusive") or str(config.getini("gradcheck_inconclusive"))
    try:
        return choose(value, "gradcheck_inconclusive policy", INCONCLUSIVE_POLICIES)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_configure(config: pytest.Config) -> None:
    _inconclusive_policy(config)   # a misspelt ini value stops the run before any test


@pytest.fixture
def gradcheck(request: pytest.FixtureRequest) -> GradChecker:
    """The gradient checker with pytest-native failures: ``gradcheck.assert_grad(f, x, grad)``."""
    return GradChecker(request.config.getoption("--gradcheck-seed"), _inconclusive_policy(request.config))


@pytest.fixture(scope="session")
def gradcheck_given(request: pytest.FixtureRequest) -> GradChecker:
    """The checker for hypothesis ``@given`` tests: session-scoped (hypothesis refuses a
    function-scoped fixture in them), keeping no results, and rejecting an inconclusive draw
    (``hypothesis.reject()``: hypothesis draws another) where the `gradcheck` fixture would fail
    or skip the whole test."""
    return GradChecker(request.config.getoption("--gradcheck-seed"), "reject", keep=False)
