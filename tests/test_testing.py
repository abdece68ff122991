"""backprop_ref.testing: the test templates a user's suite gets for its own catalogue, in two lines."""

from __future__ import annotations

import pytest

from backprop_ref.testing import catalogue_tests

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.no_mutmut   # runs pytest in a new process in pytester's directory

COURSE = '''
import numpy as np
from backprop_ref.catalogue import Formula
from backprop_ref.domains import Arg, Case, Domain, Reals

def loss(z):
    return np.sum(np.log1p(np.exp(z)))

def right(z):                      # ∂/∂z log(1 + eᶻ) = σ(z)
    return 1 / (1 + np.exp(-z))

def wrong(z):                      # σ′ where σ was meant
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)

DOMAIN = Domain(args=(Arg("z", ("n",), Reals(-5.0, 5.0)),), sizes={"n": (2, 4)})
ZERO = (Case((np.zeros(3),), label="z = 0"),)
CATALOGUE = [
    Formula(name="softplus_a", section="HW2 Q3", equation="∂L/∂z = σ(z)", kind="gradient", forward=loss,
            derivative=right, twin=lambda tf, z: tf.reduce_sum(tf.math.softplus(z)), domain=DOMAIN,
            specials=ZERO),
    Formula(name="softplus_b", section="HW2 Q3", equation="∂L/∂z = σ(z)", kind="gradient", forward=loss,
            derivative=wrong, twin=None, domain=DOMAIN, specials=ZERO),
    Formula(name="real_only", kind="gradient", forward=lambda z: float(np.sum(z ** 2)),
            derivative=lambda z: 2 * z, domain=DOMAIN, specials=ZERO),
]
'''

TESTS = '''
from backprop_ref.testing import catalogue_tests
from course import CATALOGUE
test_draws, test_specials = catalogue_tests(CATALOGUE, max_examples=10)
'''


def test_a_users_catalogue_gets_one_test_per_record_and_oracle(pytester):
    pytester.makepyfile(course=COURSE, test_course=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v", "-rs")
    out = result.stdout.str()
    for passed in ("test_draws[softplus_a-central] PASSED", "test_draws[softplus_a-complex] PASSED",
                   "test_specials[softplus_a-central] PASSED", "test_specials[softplus_a-complex] PASSED"):
        assert passed in out, out
    for failed in ("test_draws[softplus_b-central] FAILED", "test_draws[softplus_b-complex] FAILED",
                   "test_specials[softplus_b-central] FAILED", "test_specials[softplus_b-complex] FAILED"):
        assert failed in out, out
    assert "softplus_b-tape" not in out   # no twin, no tape test
    tape = [line for line in result.stdout.lines if "[softplus_a-tape]" in line]
    assert len(tape) == 2 and all(" PASSED" in line or " SKIPPED" in line for line in tape)
    # a forward that drops complex input: the complex step does not apply, and says why
    for verdict in ("test_draws[real_only-central] PASSED", "test_specials[real_only-central] PASSED",
                    "test_draws[real_only-complex] SKIPPED", "test_specials[real_only-complex] SKIPPED"):
        assert verdict in out, out
    assert out.count("real_only: the complex step does not apply: method='complex' needs an f that "
                     "carries complex input through") == 2, out


def test_it_takes_records_only():
    with pytest.raises(TypeError, match=r"takes backprop_ref\.catalogue\.Formula records; got a dict"):
        catalogue_tests([{"name": "f"}])
    with pytest.raises(ValueError, match="needs at least one record"):
        catalogue_tests([])
