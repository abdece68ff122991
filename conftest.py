"""Root conftest: hypothesis profiles, the TensorFlow guard, and the `tf` marker's meaning.

Profiles (choose with BACKPROP_REF_PROFILE=… or pytest's --hypothesis-profile=…):
- dev (default): random examples, the example database on, no deadline;
- ci: derandomised (the same examples every run), no database, no deadline; .ci/run uses it;
- thorough: ten times dev's examples, for a nightly or a pre-release run.

TensorFlow: tests marked `tf` skip with the install hint when TensorFlow is absent, unless
BACKPROP_REF_REQUIRE_TF=1, which turns that skip into a failure (CI must run them).
"""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import HealthCheck, settings

_SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=_SLOW_DATA)
settings.register_profile(
    "ci", max_examples=40, derandomize=True, database=None, deadline=None,
    suppress_health_check=_SLOW_DATA, print_blob=True,
)
settings.register_profile("thorough", max_examples=400, deadline=None, suppress_health_check=_SLOW_DATA)
settings.load_profile(os.environ.get("BACKPROP_REF_PROFILE", "dev"))


def _tensorflow_or_skip():
    from backprop_ref import tf_twins

    if tf_twins.available():
        return tf_twins.tensorflow()
    reason = "TensorFlow is not installed (pip install 'backprop-ref[tf]')"
    if os.environ.get("BACKPROP_REF_REQUIRE_TF") == "1":
        pytest.fail(f"{reason}, and BACKPROP_REF_REQUIRE_TF=1 requires it")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tf():
    """The TensorFlow module, imported once; skips (or fails under REQUIRE_TF) without it."""
    return _tensorflow_or_skip()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tf" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.tf)


@pytest.fixture
def strict():
    """Any warning at all (not only backprop_ref's RuntimeWarnings, which the ini already makes errors)
    fails the test: for the formulas' overflow and saturation tests."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
