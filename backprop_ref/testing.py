"""Test templates for the user's own catalogue: one pytest test per record × oracle, hypothesis-drawn.

In a test module of the user's project (pytest and hypothesis installed)::

    from backprop_ref.testing import catalogue_tests
    from mycourse.derivations import CATALOGUE

    test_draws, test_specials = catalogue_tests(CATALOGUE)

`test_draws` is parametrised over record × oracle ("central", "complex" where the record is smooth,
"tape" where it has a TensorFlow twin) and draws cases from the record's domain with hypothesis, as
backprop_ref's own suite does for its catalogue; `test_specials` checks each record's declared special
values by each oracle that applies there. A draw the checker cannot judge (an entry buried in f's
rounding) is rejected and another drawn; a special's inconclusive verdict is accepted (it could only
have shown a failure). The tape tests skip with the install hint without TensorFlow, the complex-step
tests with the checker's reason where the record's forward does not carry complex input (float(),
math.exp, np.real).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

from backprop_ref.catalogue import ComplexStepRefused, Formula, at_kink, check_tasks
from backprop_ref.domains import Case
from backprop_ref.gradcheck import InconclusiveCheck

__all__ = ["catalogue_tests", "check_case"]

ORACLES = ("central", "complex", "tape")


def check_case(record: Formula, case: Case, oracle: str, *, draw: bool = True) -> None:
    """Assert `record`'s derivative at `case` by `oracle`; an inconclusive check rejects a hypothesis draw
    (`draw`) and is accepted at a special; the complex step through a forward that does not carry complex
    input skips, with the checker's reason."""
    __tracebackhide__ = True
    if oracle == "tape":
        from backprop_ref import tf_twins

        if not tf_twins.available():
            pytest.skip("TensorFlow is not installed (pip install 'backprop-ref[tf]')")
        for c in tf_twins.compare(record, case):
            assert c.agreement.passed, f"{record.name}: {c.label}: {c.agreement}"
        return
    for task in check_tasks(record, case):
        try:
            task.check(oracle).assert_passed()
        except InconclusiveCheck:
            if draw:
                reject()
        except ComplexStepRefused as exc:   # an oracle that does not apply faults no derivative
            pytest.skip(f"{record.name}: the complex step does not apply: {exc}")


def _oracles(record: Formula, specials: bool) -> list[str]:
    out = ["central"]
    if record.smooth or not specials:   # random draws keep off kinks: the complex step applies there
        out.append("complex")
    if record.twin is not None:
        out.append("tape")
    return out


def catalogue_tests(records: Iterable[Formula], *, max_examples: int | None = None
                    ) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The two tests (draws, specials) for `records`, to assign to module-level names starting with
    `test_`. `max_examples` overrides hypothesis's profile for the draws."""
    recs = tuple(records)
    bad = [type(r).__name__ for r in recs if not isinstance(r, Formula)]
    if bad:
        raise TypeError(f"catalogue_tests takes backprop_ref.catalogue.Formula records; got a {bad[0]}")
    if not recs:
        raise ValueError("catalogue_tests needs at least one record")
    draws = [pytest.param(r, o, id=f"{r.name}-{o}") for r in recs for o in _oracles(r, specials=False)]
    specials = [pytest.param(r, o, id=f"{r.name}-{o}") for r in recs if r.specials
                for o in _oracles(r, specials=True)]

    from backprop_ref.strategies import cases

    profile = settings() if max_examples is None else settings(max_examples=max_examples)

    @pytest.mark.parametrize("record, oracle", draws)
    @settings(profile, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_draws(record: Formula, oracle: str, data: Any) -> None:
        case = data.draw(cases(record.domain))
        assume(not at_kink(record, case))
        check_case(record, case, oracle)

    def test_specials(record: Formula, oracle: str) -> None:
        for case in record.specials:
            check_case(record, case, oracle, draw=False)
    if specials:
        test_specials = pytest.mark.parametrize("record, oracle", specials)(test_specials)
    else:   # (a parametrisation with no case would be an error: one skip that says why)
        test_specials = pytest.mark.skip(reason="no record declares special values")(test_specials)
    return test_draws, test_specials
