"""check_tape: what tf.GradientTape returns for the user's TensorFlow code (custom gradients among it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backprop_ref import tf_twins
from backprop_ref.tf_twins import check_tape

ROOT = Path(__file__).resolve().parents[1]
X = np.linspace(-3.0, 3.0, 7)


def softplus_pair(tf, wrong=False):
    """log(1 + eˣ) with a hand-written gradient σ(x) = 1 − 1/(1 + eˣ); `wrong` claims 1 − σ(x)."""
    @tf.custom_gradient
    def softplus(x):
        e = tf.exp(x)

        def grad(upstream):
            return upstream * (1 / (1 + e) if wrong else 1 - 1 / (1 + e))
        return tf.math.log(1 + e), grad
    return softplus


def test_a_right_custom_gradient_passes(tf):
    softplus = softplus_pair(tf)
    r = check_tape(lambda v: tf.reduce_sum(softplus(v)), X)
    assert r.passed and r.kind == "gradient"


def test_a_wrong_custom_gradient_fails_for_a_scalar_and_through_a_vjp(tf):
    softplus = softplus_pair(tf, wrong=True)
    r = check_tape(lambda v: tf.reduce_sum(softplus(v)), X)
    assert r.verdict == "fail" and r.n_failed == 6   # at x = 0, σ = 1 − σ = ½: the one right entry
    v = check_tape(softplus, X, seed=3)
    assert v.verdict == "fail" and v.kind == "vjp" and v.seed == 3


def test_several_arguments_are_named_by_fn_parameters(tf):
    rng = np.random.default_rng(0)
    Xd, W = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))

    def layer(X, W):
        return tf.tanh(X @ W)
    r = check_tape(layer, (Xd, W), wrt=1, cotangent=np.ones((4, 2)))
    assert r.passed and list(r.by_argument) == ["W"]


def test_an_unconnected_gradient_is_claimed_as_zeros(tf):
    r = check_tape(lambda a, b: tf.reduce_sum(a ** 2), (X, X))   # b does not reach the output
    assert r.passed and np.array_equal(r.by_argument["b"].analytic, np.zeros_like(X))


def test_the_gradcheck_fixture_checks_tapes(tf, gradcheck):
    softplus = softplus_pair(tf)
    gradcheck.assert_tape(lambda v: tf.reduce_sum(softplus(v)), X)
    with pytest.raises(AssertionError, match=r"^gradient check FAILED"):
        gradcheck.assert_tape(lambda v: tf.reduce_sum(softplus_pair(tf, wrong=True)(v)), X)


def test_without_tensorflow_it_says_how_to_install(monkeypatch):
    def absent():
        raise ImportError("TensorFlow is not installed; install the extra: pip install 'backprop-ref[tf]'")
    monkeypatch.setattr(tf_twins, "tensorflow", absent)
    with pytest.raises(ImportError, match=r"pip install 'backprop-ref\[tf\]'"):
        check_tape(lambda v: v, X)


def test_importing_tensorflow_through_the_python_api_prints_nothing(tf, tmp_path):
    # the CLI and the Python API share tf_twins.tensorflow(): neither lets TensorFlow's C++ start-up
    # lines (oneDNN, absl) reach the user's stderr
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", "from backprop_ref import tf_twins; tf_twins.tensorflow()"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "oneDNN" not in proc.stderr and "absl" not in proc.stderr, proc.stderr


def test_a_backward_whose_terms_cancel_exactly_is_compared_at_the_cotangents_scale(tf):
    # Found by benchmarks/flakiness.py (hypothesis seed 2081206201): the RNN at all-zero arguments with a
    # cotangent summing to 0. db = Σ_t dy_t is 0 exactly, ours 4.4e-16 (the rounding of a sum of O(1)
    # terms), the tape's 0; every value of the case is 0 or rounding, so the bound relative to them
    # (1e-28) failed a right backward. A backward's terms are of the cotangent's size: its absolute
    # floor counts max|dy| too
    from backprop_ref import catalogue
    from backprop_ref.domains import Case

    rnn = catalogue.get("rnn")
    zeros = (np.zeros((1, 8, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1))
    dy = np.array([0.0, 2.0, 2.5, -1.0, -1.4999999999999996, 1.0, -1.25, -1.75]).reshape(1, 8, 1)
    case = Case(zeros, {}, (0, 1, 2, 3, 4), cotangent=dy)
    assert abs(float(np.sum(catalogue.derivatives(rnn, case)[4]))) > 0   # the rounding is there
    bad = [c for c in tf_twins.compare(rnn, case) if not c.agreement.passed]
    assert bad == [], [f"{c.label}: {c.agreement}" for c in bad]
