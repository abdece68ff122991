"""The user's own records: one of each kind, built with keywords and defaults, passes the audit; a bug
planted in each fails it, naming the record and the argument; a malformed record is an error naming the
field."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from backprop_ref.audit import format_table, run_audit, to_json, to_junit_xml, to_markdown
from backprop_ref.catalogue import KINDS, Formula
from backprop_ref.domains import Arg, Case, Cotangent, Domain, Reals, Targets

# ---- one record of each kind, as a user writes it -----------------------------------------------

def squared_error(w, b, x, y):              # L = mean (xw + b − y)²
    return np.mean((x * w + b - y) ** 2)


def squared_error_grads(w, b, x, y):        # ∂L/∂w = 2·mean(r·x), ∂L/∂b = 2·mean(r), r = xw + b − y
    r = x * w + b - y
    return 2 * np.mean(r * x), 2 * np.mean(r)


def squared_error_grads_b_halved(w, b, x, y):
    r = x * w + b - y
    return 2 * np.mean(r * x), np.mean(r)   # the chain rule's 2 forgotten in ∂L/∂b


def cube(t):
    return t ** 3


def cube_grad(t):
    return 3 * t ** 2


def cube_grad_power_dropped(t):
    return 3 * t


def row_scaled(z):                          # f_i = z_i · Σ_k z_k, row by row
    return z * z.sum(axis=-1, keepdims=True)


def row_scaled_jacobian(z):                 # ∂f_i/∂z_j = δ_ij Σ_k z_k + z_i
    k = z.shape[-1]
    return np.eye(k) * z.sum(axis=-1)[..., None, None] + z[..., :, None]


def row_scaled_jacobian_transposed(z):      # δ_ij Σ_k z_k + z_j: the blocks transposed
    k = z.shape[-1]
    return np.eye(k) * z.sum(axis=-1)[..., None, None] + z[..., None, :]


def dense(x, W, b):
    return x @ W + b


def dense_backward(x, W, b, dy):            # (dx, dW, db)
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def dense_backward_dW_scaled(x, W, b, dy):
    return dy @ W.T, 1.01 * (x.T @ dy), dy.sum(axis=0)


SCALARS = Domain(args=(Arg(name="w", dims=(), values=Reals(lo=-3.0, hi=3.0)), Arg("b", (), Reals(-3.0, 3.0)),
                       Arg("x", ("n",), Reals(-3.0, 3.0)), Arg("y", ("n",), Reals(-3.0, 3.0))),
                 sizes={"n": (1, 5)}, wrt=(0, 1))
VECTOR = Domain(args=(Arg("t", ("n",), Reals(-3.0, 3.0)),), sizes={"n": (1, 4)})
ROWS = Domain(args=(Arg("z", ("N", "K"), Reals(-3.0, 3.0)),), sizes={"N": (1, 3), "K": (1, 4)})
LAYER = Domain(args=(Arg("x", ("N", "I"), Reals(-3.0, 3.0)), Arg("W", ("I", "O"), Reals(-1.0, 1.0)),
                     Arg("b", ("O",), Reals(-1.0, 1.0))),
               sizes={"N": (1, 4), "I": (1, 4), "O": (1, 3)}, wrt=(0, 1, 2),
               cotangent=Cotangent(dims=("N", "O"), values=Reals(-1.0, 1.0)))

RIGHT = {
    "gradient": Formula(name="squared_error", kind="gradient", forward=squared_error,
                        derivative=squared_error_grads, domain=SCALARS),
    "elementwise": Formula(name="cube", kind="elementwise", forward=cube, derivative=cube_grad, domain=VECTOR,
                           specials=[Case(args=(np.array([0.0, -1.0, 2.0]),), label="t = 0, −1, 2")]),
    "jacobian": Formula(name="row_scaled", kind="jacobian", forward=row_scaled,
                        derivative=row_scaled_jacobian, domain=ROWS),
    "vjp": Formula(name="my_dense", section="HW3 Q1", equation="dx = dy Wᵀ, dW = xᵀ dy, db = Σ_rows dy",
                   kind="vjp", forward=dense, derivative=dense_backward, domain=LAYER),
}
# each with a bug planted, and the words of the report that name the argument it is in
WRONG = {
    "gradient": (dataclasses.replace(RIGHT["gradient"], name="squared_error_b",
                                     derivative=squared_error_grads_b_halved), "∂/∂b", "∂/∂w"),
    "elementwise": (dataclasses.replace(RIGHT["elementwise"], name="cube_b",
                                        derivative=cube_grad_power_dropped),
                    "cube_grad_power_dropped (∂/∂t)", None),
    "jacobian": (dataclasses.replace(RIGHT["jacobian"], name="row_scaled_b",
                                     derivative=row_scaled_jacobian_transposed),
                 "row_scaled_jacobian_transposed (∂/∂z)", None),
    "vjp": (dataclasses.replace(RIGHT["vjp"], name="my_dense_b", derivative=dense_backward_dW_scaled),
            "VJP check FAILED for W:", "FAILED for x"),
}


def test_a_record_needs_only_name_kind_forward_derivative_and_domain():
    r = RIGHT["gradient"]
    assert (r.section, r.equation, r.twin, r.specials, r.kinks, r.smooth) == ("", "", None, (), (), True)
    assert isinstance(RIGHT["elementwise"].specials, tuple)   # given as a list
    assert set(RIGHT) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_a_right_user_record_of_each_kind_passes_the_audit(kind):
    report = run_audit([RIGHT[kind]], samples=3, use_tf=False)
    assert report.verdict == "pass", format_table(report)
    assert [(r.oracle, r.verdict) for r in report.records] == [
        ("central", "pass"), ("complex", "pass"), ("tape", "skipped")]
    assert all(r.samples >= 3 for r in report.records[:2])


@pytest.mark.parametrize("kind", KINDS)
def test_a_planted_bug_fails_naming_the_record_and_the_argument(kind):
    record, argument, not_this = WRONG[kind]
    report = run_audit([record], samples=3, use_tf=False)
    text = format_table(report)
    assert report.verdict == "fail", text
    assert [r.oracle for r in report.failures] == ["central", "complex"]
    for r in report.failures:
        assert r.formula == record.name
        assert argument in (r.failure or ""), r.failure
        assert not_this is None or not_this not in (r.failure or "")
        cited = f" [{record.section}]" if record.section else ""   # no empty [] for a record without one
        assert f"FAILED {record.name}{cited} by {r.oracle}" in text


def test_a_user_layer_is_checked_by_the_tape_through_its_twin(tf):
    layer = dataclasses.replace(RIGHT["vjp"], twin=lambda tf, x, W, b: tf.matmul(x, W) + b)
    report = run_audit([layer], samples=2)
    assert [(r.oracle, r.verdict) for r in report.records] == [
        ("central", "pass"), ("complex", "pass"), ("tape", "pass")], format_table(report)


# ---- what each record checks: named in every output, and a backward that outgrows wrt is an error -----

def test_the_table_and_the_json_name_the_arguments_each_record_checks():
    report = run_audit(list(RIGHT.values()), samples=1, oracles=("central",), use_tf=False)
    rows = format_table(report).splitlines()
    assert rows[0].split()[:4] == ["formula", "section", "checks", "oracle"]
    checks = {"squared_error": "∂/∂(w, b)", "cube": "∂/∂t", "row_scaled": "∂/∂z", "my_dense": "∂/∂(x, W, b)"}
    assert [line.split()[0] for line in rows[2:6]] == list(checks)
    for line, checked in zip(rows[2:6], checks.values()):
        assert re.search(rf"\s{re.escape(checked)}\s+central\s", line), line
    records = json.loads(to_json(report))["records"]
    assert [r["wrt"] for r in records] == [["w", "b"], ["t"], ["z"], ["x", "W", "b"]]


def test_a_layer_whose_domain_forgets_wrt_fails_naming_what_it_checked_and_what_to_give():
    # Domain.wrt defaults to (0,): this layer's backward returns dx, dW and db, and only x would be checked
    forgot = Domain(args=LAYER.args, sizes=LAYER.sizes, cotangent=LAYER.cotangent)
    record = dataclasses.replace(RIGHT["vjp"], name="my_dense_forgot", domain=forgot)
    report = run_audit([record], samples=2, use_tf=False)
    assert [(r.oracle, r.verdict) for r in report.records][:2] == [("central", "fail"), ("complex", "fail")]
    says = ("raised ValueError: my_dense_forgot: dense_backward returned 3 arrays, but the case "
            "differentiates 1 argument, x (wrt=(0,)); give the domain wrt=(0, 1, 2) to check x, W, b")
    assert says in report.records[0].failure, report.records[0].failure
    assert "∂/∂x " in format_table(report).splitlines()[2]


@pytest.mark.parametrize("wrt, says", [
    ((), "domain.wrt must name at least one argument"),
    ((0, 4), "domain.wrt must be indices of the domain's 4 arguments (0 w, 1 b, 2 x, 3 y), got (0, 4)"),
    ((1, 1), "domain.wrt names b twice"),
    (("w",), "domain.wrt must be indices of the domain's 4 arguments (0 w, 1 b, 2 x, 3 y), got ('w',)"),
])
def test_a_domain_whose_wrt_names_no_argument_is_an_error(wrt, says):
    domain = dataclasses.replace(SCALARS, wrt=wrt)
    with pytest.raises(ValueError, match=re.escape(f"Formula 'r': {says}")):
        Formula(name="r", kind="gradient", forward=squared_error, derivative=squared_error_grads,
                domain=domain)


# ---- a forward the complex step cannot see through: that oracle does not apply -------------------

def squares_summed(t):                      # float() keeps the real part only
    return float(np.sum(t ** 2))


def squares_exp(t):                         # math.exp takes no complex number
    return math.exp(float(np.sum(t ** 2)) / 10)


def squares_real(t):                        # np.real drops the imaginary part
    return np.sum(np.real(t) ** 2)


def cube_root(t):                           # np.cbrt has no complex loop: it raises TypeError
    return np.cbrt(t)


POSITIVE = Domain(args=(Arg("t", ("n",), Reals(0.5, 3.0)),), sizes={"n": (1, 4)})
REAL_ONLY = {
    "float()": Formula(name="squares_summed", kind="gradient", forward=squares_summed,
                       derivative=lambda t: 2 * t, domain=VECTOR),
    "math.exp": Formula(name="squares_exp", kind="gradient", forward=squares_exp,
                        derivative=lambda t: squares_exp(t) * t / 5, domain=VECTOR),
    "np.real": Formula(name="squares_real", kind="gradient", forward=squares_real,
                       derivative=lambda t: 2 * t, domain=VECTOR),
    "np.cbrt": Formula(name="cube_root", kind="elementwise", forward=cube_root,
                       derivative=lambda t: 1 / (3 * np.cbrt(t) ** 2), domain=POSITIVE,
                       specials=[Case(args=(np.array([1.0, 8.0]),), label="t = 1, 8")]),
    "a layer's np.real": Formula(name="real_dense", kind="vjp", derivative=dense_backward, domain=LAYER,
                                 forward=lambda x, W, b: np.real(dense(x, W, b))),
}


@pytest.mark.parametrize("how", REAL_ONLY)
def test_a_forward_that_rejects_complex_input_skips_the_complex_step_with_the_reason(how):
    # A record is not faulted for an oracle that does not apply to it: the central column judges it.
    record = REAL_ONLY[how]
    report = run_audit([record], samples=3, use_tf=False)
    central, complex_step, _ = report.records
    assert (central.verdict, central.samples) == ("pass", 3 + len(record.specials)), format_table(report)
    assert complex_step.verdict == "skipped" and complex_step.failure is None, format_table(report)
    assert complex_step.note == "not applicable: the forward does not carry complex input"
    # the checker's reason, with the case it met
    assert complex_step.reason.startswith("case 'random': method='complex' needs an f that ")
    assert complex_step.reason.endswith("Use method='central'.")
    assert report.verdict == "pass"
    text = format_table(report)
    assert f"skipped ({complex_step.note})" in text
    assert (f"SKIPPED {record.name} by complex ({complex_step.note}):\n    {complex_step.reason}\n"
            in text)
    doc = json.loads(to_json(report))
    assert doc["records"][1]["verdict"] == "skipped" and doc["records"][1]["reason"] == complex_step.reason
    skipped = ET.fromstring(to_junit_xml(report)).find("testsuite/testcase[@name='complex']/skipped")
    assert skipped.get("message") == f"{complex_step.note}: {complex_step.reason}"
    md = to_markdown(report)
    assert f"- **{record.name} — complex** ({complex_step.note}): {complex_step.reason}" in md


def test_a_wrong_derivative_of_a_real_only_forward_still_fails_by_central():
    record = dataclasses.replace(REAL_ONLY["float()"], derivative=lambda t: 2.01 * t)
    report = run_audit([record], samples=3, use_tf=False)
    assert [(r.oracle, r.verdict) for r in report.records] == [
        ("central", "fail"), ("complex", "skipped"), ("tape", "skipped")], format_table(report)


def test_a_failure_the_complex_step_found_stands_where_it_stops_applying_later():
    def squares_real_at_five(t):        # carries complex input, except at five entries (the special)
        return np.sum((np.real(t) if t.size == 5 else t) ** 2)

    record = Formula(name="squares_b", kind="gradient", forward=squares_real_at_five,
                     derivative=lambda t: 2.01 * t, domain=VECTOR,
                     specials=[Case(args=(np.ones(5),), label="five ones")])
    (complex_step,) = run_audit([record], samples=2, oracles=("complex",), use_tf=False).records
    assert (complex_step.verdict, complex_step.samples) == ("fail", 2)
    assert complex_step.note.startswith("stopped where the forward does not carry complex input: "
                                        "case 'five ones': method='complex' needs an f that ")


# ---- a malformed record: the error names the record and the field -------------------------------

@pytest.mark.parametrize("change, error, says", [
    ({"kind": "grad"}, ValueError,
     "Formula 'r': unknown kind 'grad'; valid names are gradient, elementwise, jacobian, vjp"),
    ({"name": ""}, ValueError, "Formula: name must be a non-empty str"),
    ({"name": 3}, TypeError, "Formula: name must be a str, got int 3"),
    ({"section": None}, TypeError, "Formula 'r': section must be a str, got NoneType"),
    ({"forward": "squared_error"}, TypeError, "Formula 'r': forward must be a callable, got str"),
    ({"derivative": None}, TypeError, "Formula 'r': derivative must be a callable, got NoneType"),
    ({"twin": 1.0}, TypeError, "Formula 'r': twin must be None (no TensorFlow twin"),
    ({"domain": SCALARS.args}, TypeError, "Formula 'r': domain must be a backprop_ref.domains.Domain or "
                                          "MLPDomain, got tuple"),
    ({"specials": (np.zeros(2),)}, TypeError, "Formula 'r': specials[0] must be a backprop_ref.domains.Case"),
    ({"specials": Case((np.zeros(2),))}, TypeError,
     "Formula 'r': specials must be a tuple (or list), got Case"),
    ({"kind": "vjp"}, ValueError, 'Formula \'r\': kind "vjp" needs a domain with a cotangent'),
])
def test_a_malformed_record_is_an_error_naming_the_field(change, error, says):
    fields = {"name": "r", "kind": "gradient", "forward": squared_error, "derivative": squared_error_grads,
              "domain": SCALARS}
    with pytest.raises(error, match=re.escape(says)):
        Formula(**{**fields, **change})


def test_a_record_is_built_with_keywords_and_names_a_missing_field():
    with pytest.raises(TypeError, match="positional"):
        Formula("r", "", "", "gradient", squared_error, squared_error_grads, None, SCALARS)
    with pytest.raises(TypeError, match="'domain'"):
        Formula(name="r", kind="gradient", forward=squared_error, derivative=squared_error_grads)
    with pytest.raises(ValueError, match="unknown kind 'jac'"):
        dataclasses.replace(RIGHT["jacobian"], kind="jac")     # replace checks the fields as __init__ does


def test_the_domain_records_build_with_keywords_and_their_defaults():
    case = Case(args=(np.zeros(2),))
    assert (dict(case.kwargs), case.wrt, case.label, case.cotangent) == ({}, (0,), "random", None)
    values = Reals(lo=-1.0, hi=1.0)
    assert (values.kinks, values.margin, values.tiny) == ((), 0.0, 1e-6)
    assert Targets().kinds == ("onehot", "soft", "counts")
    dy = Cotangent(dims=("N",), values=values)
    assert (dict(dy.derived), dy.distinct) == ({}, True)
    domain = Domain(args=(Arg(name="z", dims=("N",), values=values),))
    assert (dict(domain.sizes), dict(domain.kwargs), domain.wrt, domain.cotangent) == ({}, {}, (0,), None)
