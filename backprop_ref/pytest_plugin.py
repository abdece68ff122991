"""pytest plugin (registered through the `pytest11` entry point): the `gradcheck` fixture.

In any test suite with backprop-ref installed::

    def test_my_layer(gradcheck):
        gradcheck.assert_grad(loss, W, dW)                 # every entry
        gradcheck.assert_grad(loss, W, dW, directions=8)   # 8 random directions, seed in the report
        gradcheck.assert_jacobian(softmax, z, J)

A failing check fails the test with the checker's report as the message (index, method, step, seed,
counts, which bound decided), and the checker's own frames are hidden from the traceback.
"""

from __future__ import annotations

from typing import Any

import pytest

from backprop_ref import gradcheck as _gc

__all__ = ["GradChecker", "gradcheck"]


class GradChecker:
    """The fixture's object: the checker's functions, failing the test with the report.

    `seed`, when set (``--gradcheck-seed``), is used by directional checks that do not pass their own.
    """

    def __init__(self, seed: int | None = None):
        self.seed = seed
        self.results: list[_gc.GradCheckResult] = []

    def _seeded(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.seed is not None and kwargs.get("seed") is None:
            kwargs = {**kwargs, "seed": self.seed}
        return kwargs

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
        """Fail the test with the report unless the claimed gradient passes; return the result."""
        __tracebackhide__ = True
        return self.check_grad(f, x, grad, **kwargs).assert_passed()

    def assert_jacobian(self, f: Any, x: Any, jac: Any, **kwargs: Any) -> _gc.GradCheckResult:
        """Fail the test with the report unless the claimed Jacobian passes; return the result."""
        __tracebackhide__ = True
        return self.check_jacobian(f, x, jac, **kwargs).assert_passed()

    numerical_grad = staticmethod(_gc.numerical_grad)
    numerical_jacobian = staticmethod(_gc.numerical_jacobian)
    taylor_test = staticmethod(_gc.taylor_test)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop_ref", "gradient checks (backprop-ref)")
    group.addoption("--gradcheck-seed", type=int, default=None,
                    help="seed for directional gradient checks that do not pass one (replay a failure)")


@pytest.fixture
def gradcheck(request: pytest.FixtureRequest) -> GradChecker:
    """The gradient checker with pytest-native failures: ``gradcheck.assert_grad(f, x, grad)``."""
    return GradChecker(request.config.getoption("--gradcheck-seed"))
