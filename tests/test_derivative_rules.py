"""The rules of Backward Propagation Algorithm §7.2.2 (Common property of derivatives) as properties: for f
and g drawn from a small family of smooth functions whose derivatives are known in closed form, the gradient
checker's derivative of the left-hand side, (f + g)′, (fg)′, (f/g)′ and (f∘g)′, is the right-hand side built
from f′ and g′.

The family's derivatives are textbook ones (d sin = cos, d eˣ = eˣ, …), checked here against the
checker as well, so that a wrong entry in the table cannot pass for a wrong rule or hide one; and each
rule stated wrongly (the mistakes people make: (fg)′ = f′g′, the quotient's numerator with a plus,
f′(x)·g′(x) for the chain) must fail, so the properties are known to have teeth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_ref import InconclusiveCheck, assert_grad, check_grad

Fn = Callable[[Any], Any]


@dataclass(frozen=True)
class Smooth:
    """A smooth function of one variable, elementwise, with its derivative in closed form.

    `positive`: f(x) > 0 for every real x (and is far from 0 on the points drawn), so that it can stand
    in a denominator (§7.2.2's g ≠ 0).
    All of them take complex x too (their analytic continuations), for the complex step.
    """

    name: str
    f: Fn
    df: Fn
    positive: bool = False


FAMILY = (
    Smooth("sin", np.sin, np.cos),
    Smooth("exp", np.exp, np.exp, positive=True),
    Smooth("cubic", lambda x: x**3 - 2 * x + 1, lambda x: 3 * x**2 - 2),
    Smooth("arctan", np.arctan, lambda x: 1 / (1 + x * x)),
    Smooth("gauss", lambda x: np.exp(-x * x), lambda x: -2 * x * np.exp(-x * x), positive=True),
    Smooth("1 + x²", lambda x: 1 + x * x, lambda x: 2 * x, positive=True),
)
DENOMINATORS = tuple(s for s in FAMILY if s.positive)

# x within ±3: exp(exp(3)) = 5e8 and (x³ − 2x + 1) ∘ exp stays below e²⁷; no composition leaves the
# range where the checker's error model and the family's closed forms are both exact enough.
POINTS = hnp.arrays(np.float64, st.integers(1, 5),
                    elements=st.floats(-3, 3, allow_nan=False, allow_infinity=False))
METHODS = ("central", "complex")


def sum_rule(f: Smooth, g: Smooth) -> tuple[Fn, Fn]:
    """(f + g)′ = f′ + g′."""
    return (lambda x: f.f(x) + g.f(x)), (lambda x: f.df(x) + g.df(x))


def product_rule(f: Smooth, g: Smooth) -> tuple[Fn, Fn]:
    """(fg)′ = f′·g + f·g′."""
    return (lambda x: f.f(x) * g.f(x)), (lambda x: f.df(x) * g.f(x) + f.f(x) * g.df(x))


def quotient_rule(f: Smooth, g: Smooth) -> tuple[Fn, Fn]:
    """(f/g)′ = (f′g − fg′)/g², g ≠ 0."""
    return (lambda x: f.f(x) / g.f(x)), (lambda x: (f.df(x) * g.f(x) - f.f(x) * g.df(x)) / g.f(x) ** 2)


def chain_rule(f: Smooth, g: Smooth) -> tuple[Fn, Fn]:
    """d f(g(x))/dx = f′(u)·g′(x) with u = g(x)."""
    return (lambda x: f.f(g.f(x))), (lambda x: f.df(g.f(x)) * g.df(x))


RULES = {"sum": (sum_rule, FAMILY), "product": (product_rule, FAMILY),
         "quotient": (quotient_rule, DENOMINATORS), "chain": (chain_rule, FAMILY)}


def total(h: Fn) -> Fn:
    """Σ h(x) over the entries: elementwise, so its gradient is h′(x) entry by entry."""
    return lambda x: np.sum(h(x))


def holds(lhs: Fn, rhs: Fn, x: np.ndarray, method: str) -> None:
    """Assert that the checker's derivative of `lhs` at x is `rhs(x)`; reject an undecidable draw."""
    try:
        assert_grad(total(lhs), x, rhs(x), method=method)
    except InconclusiveCheck:
        reject()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("member", FAMILY, ids=[s.name for s in FAMILY])
@given(x=POINTS)
def test_the_familys_derivatives_are_right(member, method, x):
    holds(member.f, member.df, x, method)


def test_the_familys_denominators_stay_away_from_0_on_the_points_drawn():
    x = np.linspace(-3, 3, 60_001)
    assert len(DENOMINATORS) >= 2
    for s in DENOMINATORS:
        assert np.all(s.f(x) >= np.exp(-9)), s.name  # e^{−x²} at |x| = 3 is the smallest


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("rule", RULES, ids=list(RULES))
@given(data=st.data())
def test_rule_of_section_7_2_2(rule, method, data):
    make, second = RULES[rule]
    f = data.draw(st.sampled_from(FAMILY), label="f")
    g = data.draw(st.sampled_from(second), label="g")
    holds(*make(f, g), data.draw(POINTS, label="x"), method)


def test_every_pair_of_the_family_obeys_every_rule_at_one_point():
    # The property tests draw pairs at random; this visits each (rule, f, g) once, at a point where no
    # family member is at a special value (x = 0.7, −1.3, 2.1).
    x = np.array([0.7, -1.3, 2.1])
    checked = 0
    for make, second in RULES.values():
        for f in FAMILY:
            for g in second:
                lhs, rhs = make(f, g)
                result = check_grad(total(lhs), x, rhs(x), method="complex")
                assert result.verdict == "pass", (make.__name__, f.name, g.name, result.reason)
                checked += 1
    assert checked == 3 * len(FAMILY) ** 2 + len(FAMILY) * len(DENOMINATORS)


SIN, EXP, CUBIC = FAMILY[0], FAMILY[1], FAMILY[2]
WRONG = {
    # (fg)′ = f′·g′
    "product as f′g′": (lambda x: SIN.f(x) * EXP.f(x), lambda x: SIN.df(x) * EXP.df(x)),
    # the quotient's numerator added, not subtracted
    "quotient with f′g + fg′": (lambda x: SIN.f(x) / EXP.f(x),
                                lambda x: (SIN.df(x) * EXP.f(x) + SIN.f(x) * EXP.df(x)) / EXP.f(x) ** 2),
    # the quotient over g, not g²
    "quotient over g": (lambda x: SIN.f(x) / EXP.f(x),
                        lambda x: (SIN.df(x) * EXP.f(x) - SIN.f(x) * EXP.df(x)) / EXP.f(x)),
    # the chain with f′ at x instead of at u = g(x)
    "chain with f′(x)": (lambda x: SIN.f(CUBIC.f(x)), lambda x: SIN.df(x) * CUBIC.df(x)),
    # the chain without the inner derivative
    "chain without g′": (lambda x: SIN.f(CUBIC.f(x)), lambda x: SIN.df(CUBIC.f(x))),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mistake", WRONG, ids=list(WRONG))
def test_a_rule_stated_wrongly_fails(mistake, method):
    lhs, wrong = WRONG[mistake]
    x = np.array([0.7, -1.3, 2.1])
    assert check_grad(total(lhs), x, wrong(x), method=method).verdict == "fail"
