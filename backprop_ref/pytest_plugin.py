"""pytest plugin (registered through the `pytest11` entry point): the `gradcheck` fixture.

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

In a hypothesis test a skip skips the whole test at the first undecided draw (hypothesis re-raises
pytest's skip), so discard the draw instead, under the default ``fail``::

    from hypothesis import given, reject
    from backprop_ref import InconclusiveCheck, assert_grad

    @given(x=...)
    def test_my_layer_everywhere(x):
        try:
            assert_grad(loss, x, loss_grad(x))
        except InconclusiveCheck:
            reject()   # this x says nothing for or against loss_grad: draw another

(`backprop_ref.assert_grad` rather than the fixture: hypothesis refuses a function-scoped fixture in a
@given test unless its health check is suppressed.)
"""

from __future__ import annotations

from typing import Any

import pytest

from backprop_ref import gradcheck as _gc
from backprop_ref._validate import choose

__all__ = ["GradChecker", "gradcheck", "INCONCLUSIVE_POLICIES"]

INCONCLUSIVE_POLICIES = ("fail", "skip")


class GradChecker:
    """The fixture's object: the checker's functions, failing the test with the report.

    `seed`, when set (``--gradcheck-seed``), is used by directional checks that do not pass their own.
    `inconclusive` (``--gradcheck-inconclusive``) says what an inconclusive check does: "fail" raises
    InconclusiveCheck (an AssertionError), "skip" skips the test with the checker's reason.
    """

    def __init__(self, seed: int | None = None, inconclusive: str = "fail"):
        self.seed = seed
        self.inconclusive = choose(inconclusive, "inconclusive policy", INCONCLUSIVE_POLICIES)
        self.results: list[_gc.GradCheckResult] = []

    def _seeded(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.seed is not None and kwargs.get("seed") is None:
            kwargs = {**kwargs, "seed": self.seed}
        return kwargs

    def _asserted(self, result: _gc.GradCheckResult) -> _gc.GradCheckResult:
        __tracebackhide__ = True
        if result.verdict == "inconclusive" and self.inconclusive == "skip":
            what = "Jacobian" if result.kind == "jacobian" else "gradient"
            pytest.skip(f"{what} check inconclusive: {result.reason}")
        return result.assert_passed()

    def check_grad(self, f: Any, x: Any, grad: Any, **kwargs: Any) -> _gc.GradCheckResult:
        """`backprop_ref.gradcheck.check_grad`: the result, never a failure."""
        result = _gc.check_grad(f, x, grad, **self._seeded(kwargs))
        self.results.append(result)
        return result

    def check_jacobian(self, f: Any, x: Any, jac: Any, **kwargs: Any) -> _gc.GradCheckResult:
        """`backprop_ref.gradcheck.check_jacobian`: the result, never a failure."""
        result = _gc.check_jacobian(f, x, jac, **self._seeded(kwargs))
        self.results.append(result)
        return result

    def assert_grad(self, f: Any, x: Any, grad: Any, **kwargs: Any) -> _gc.GradCheckResult:
        """Fail the test with the report unless the claimed gradient passes (an inconclusive check fails
        or skips, as `inconclusive` says); return the result."""
        __tracebackhide__ = True
        return self._asserted(self.check_grad(f, x, grad, **kwargs))

    def assert_jacobian(self, f: Any, x: Any, jac: Any, **kwargs: Any) -> _gc.GradCheckResult:
        """Fail the test with the report unless the claimed Jacobian passes (an inconclusive check fails
        or skips, as `inconclusive` says); return the result."""
        __tracebackhide__ = True
        return self._asserted(self.check_jacobian(f, x, jac, **kwargs))

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
