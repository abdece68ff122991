"""The audit engine and its report writers: passes on the catalogue, catches a planted error."""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import pydoc
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from backprop_ref import audit, audit_report, catalogue, tf_twins
from backprop_ref.audit import ORACLES, draw_cases, format_table, run_audit, to_json
from backprop_ref.audit_report import VERDICTS
from backprop_ref.catalogue import BY_NAME, CATALOGUE, get
from backprop_ref.gradcheck import check_grad

SIGMOID = BY_NAME["sigmoid"]


def planted(formula, factor=1.001):
    """The record with its derivative scaled by `factor`: a wrong derivation, 0.1% off."""
    wrong = formula.derivative

    def derivative(*args, **kwargs):
        out = wrong(*args, **kwargs)
        return tuple(np.asarray(g) * factor for g in out) if isinstance(out, tuple) else out * factor

    derivative.__name__ = formula.derivative_name
    return dataclasses.replace(formula, derivative=derivative)


def heaviside_record():
    """A real inconclusive case, no patched verdict: the Heaviside step H(x) = [x > 0] in ReLU's
    record. Its derivative 0 is right on each piece (the random draws stay 1e-3 from 0, so central and
    complex differences pass there), but at ReLU's special x = 0 f jumps: no derivative exists for
    any claim to match, and the checker says it could not judge (the complex step is not used at the
    specials of a formula that is not smooth)."""
    def heaviside(x):
        return np.where(np.real(x) > 0, 1.0, 0.0) * np.ones_like(x)

    def heaviside_grad(x):
        return np.zeros_like(x)

    return dataclasses.replace(BY_NAME["relu"], name="heaviside", forward=heaviside,
                               derivative=heaviside_grad, twin=None)


HEAVISIDE = heaviside_record()


@pytest.fixture(scope="module")
def undecided_report():
    return run_audit([BY_NAME["tanh"], HEAVISIDE], samples=2, seed=5, use_tf=False)


@pytest.fixture(scope="module")
def full_report():
    # TensorFlow when installed: the tape column runs; otherwise it is skipped, not failed.
    return run_audit(CATALOGUE, samples=3, seed=0)


def test_the_catalogue_passes_every_oracle(full_report):
    assert full_report.passed, format_table(full_report)
    assert len(full_report.records) == len(CATALOGUE) * len(ORACLES)
    central = [r for r in full_report.records if r.oracle == "central"]
    assert all(r.verdict == "pass" and r.samples >= 3 for r in central)
    for r in full_report.records:
        assert r.verdict in ("pass", "skipped")
        if r.verdict == "pass":
            assert r.worst_rel_err is not None and r.tolerance


def test_the_tape_column_runs_when_tensorflow_is_installed(full_report, tf):
    tape = [r for r in full_report.records if r.oracle == "tape"]
    assert all(r.verdict == "pass" for r in tape), format_table(full_report)
    assert full_report.tf_version == tf.__version__


def test_specials_count_and_complex_step_skips_kinked_specials(full_report):
    by_key = {(r.formula, r.oracle): r for r in full_report.records}
    relu = BY_NAME["relu"]
    assert by_key["relu", "central"].samples == 3 + len(relu.specials)
    assert by_key["relu", "complex"].samples == 3
    assert "not smooth" in by_key["relu", "complex"].note
    assert by_key["sigmoid", "complex"].samples == 3 + len(SIGMOID.specials)


def test_a_planted_wrong_derivative_fails_and_is_named():
    report = run_audit([BY_NAME["tanh"], planted(SIGMOID)], samples=3, seed=0, use_tf=False)
    assert not report.passed
    failed = {(r.formula, r.oracle) for r in report.failures}
    assert failed == {("sigmoid", "central"), ("sigmoid", "complex")}
    text = format_table(report)
    assert "FAILED sigmoid [Backward Propagation Algorithm §7.3.1] by central" in text
    assert "--only sigmoid" in text and "--seed 0" in text
    first = next(r for r in report.failures if r.oracle == "complex")
    assert "case 'random'" in first.failure and len(first.failure.splitlines()) > 1


def test_a_planted_error_fails_the_tape_too(tf):
    report = run_audit([planted(BY_NAME["softmax_cross_entropy"], 1.0 + 1e-7)], samples=3, seed=0,
                       oracles=("tape",))
    (record,) = report.records
    assert record.verdict == "fail" and "vs tape" in record.failure


def test_a_derivative_that_raises_is_a_failure_not_a_crash():
    def broken(x):
        raise ValueError("shapes do not line up")

    record = dataclasses.replace(SIGMOID, derivative=broken)
    report = run_audit([record], samples=2, seed=0, use_tf=False)
    assert not report.passed
    assert "raised ValueError: shapes do not line up" in report.failures[0].failure


def test_the_audit_is_deterministic_for_a_seed():
    one = run_audit([SIGMOID, BY_NAME["mlp"]], samples=4, seed=11, use_tf=False)
    two = run_audit([SIGMOID, BY_NAME["mlp"]], samples=4, seed=11, use_tf=False)
    strip = [dataclasses.replace(r, seconds=0.0) for r in one.records]
    assert strip == [dataclasses.replace(r, seconds=0.0) for r in two.records]
    other = run_audit([SIGMOID, BY_NAME["mlp"]], samples=4, seed=12, use_tf=False)
    assert [r.worst_rel_err for r in other.records] != [r.worst_rel_err for r in one.records]


def test_only_replays_the_cases_of_the_full_run():
    # Each formula's draws depend on the seed and its name, not on which formulas run with it.
    a = draw_cases(SIGMOID, 5, seed=3)
    b = draw_cases(SIGMOID, 5, seed=3)
    assert all(np.array_equal(x.args[0], y.args[0]) for x, y in zip(a, b))
    alone = run_audit([SIGMOID], samples=3, seed=3, use_tf=False).records
    together = run_audit([BY_NAME["tanh"], SIGMOID], samples=3, seed=3, use_tf=False).records[3:]
    assert [r.worst_rel_err for r in alone] == [r.worst_rel_err for r in together]


def test_without_tensorflow_the_tape_column_is_skipped_not_failed(monkeypatch):
    monkeypatch.setattr(tf_twins, "available", lambda: False)
    report = run_audit([BY_NAME["tanh"]], samples=2, seed=0)
    tape = next(r for r in report.records if r.oracle == "tape")
    assert tape.verdict == "skipped" and tape.note == "not installed"
    assert report.passed and report.tf_version is None
    assert "TensorFlow not installed" in report.summary()
    assert "skipped (not installed)" in format_table(report)
    assert json.loads(to_json(report))["tensorflow_status"] == "not installed"
    # use_tf=False says "not installed" too when it is not: nothing was disabled
    assert run_audit([BY_NAME["tanh"]], samples=1, use_tf=False).tf_status == "not installed"


def test_with_tensorflow_installed_use_tf_false_says_disabled_not_not_installed(tf):
    report = run_audit([BY_NAME["tanh"]], samples=1, seed=0, use_tf=False)
    tape = next(r for r in report.records if r.oracle == "tape")
    assert (tape.verdict, tape.note) == ("skipped", "disabled")
    assert report.tf_version is None and report.tf_status == "disabled"
    assert "; TensorFlow disabled; " in report.summary() and "not installed" not in report.summary()
    doc = json.loads(to_json(report))
    assert (doc["tensorflow"], doc["tensorflow_status"]) == (None, "disabled")
    props = {p.get("name"): p.get("value")
             for p in ET.fromstring(audit.to_junit_xml(report)).iter("property")}
    assert props["tensorflow"] == "disabled"


def test_the_json_and_junit_name_the_tensorflow_used(tf):
    report = run_audit([BY_NAME["tanh"]], samples=1, seed=0, oracles=("tape",))
    doc = json.loads(to_json(report))
    assert (doc["tensorflow"], doc["tensorflow_status"]) == (tf.__version__, "used")
    props = {p.get("name"): p.get("value")
             for p in ET.fromstring(audit.to_junit_xml(report)).iter("property")}
    assert props["tensorflow"] == tf.__version__


def test_relative_error_leaves_out_entries_within_their_atol_masked_or_not_finite():
    a = np.array([2.0, 1e-300, 7.0, np.inf, 4.0])
    b = np.array([1.0, 0.0, 1.0, 1.0, 3.0])
    # entry 1 is within its atol, 2 is masked, 3 is not finite: |4 − 3| / 4 is the largest left
    atol = np.array([0.0, 1e-200, 0.0, 0.0, 0.0])
    mask = np.array([True, True, False, True, True])
    assert audit.relative_error(a[[0, 4]], b[[0, 4]], 0.0) == 0.5   # |2 − 1| / 2
    assert audit.relative_error(a[1:], b[1:], atol[1:], mask[1:]) == 0.25
    # symmetric: neither side is the truth
    assert audit.relative_error(b[1:], a[1:], atol[1:], mask[1:]) == 0.25
    assert audit.relative_error(np.zeros(2), np.zeros(2), 0.0) == 0.0


def test_err_over_tol_is_the_checks_worst_error_over_its_tolerance():
    x = np.array([0.5, -0.5, 1.0])
    claimed = 2 * x + np.array([0.0, 5e-4, 0.0])   # off by 5e-4 in entry 1, half the atol below
    result = check_grad(lambda v: float(np.sum(v**2)), x, claimed, atol=1e-3, rtol=0.0)
    assert result.passed and audit._err_over_tol(result) == pytest.approx(0.5, rel=1e-6)
    # a claim that is NaN in entry 1 fails there: its err/tol is above 1, not left out
    failed = check_grad(lambda v: float(np.sum(v**2)), x, np.array([1.0, np.nan, 2.0]))
    assert not failed.passed and audit._err_over_tol(failed) > 1.0
    assert audit._err_over_tol(check_grad(np.sum, np.zeros(0), np.zeros(0))) == 0.0


@pytest.mark.parametrize("samples", [0, -1])
def test_non_positive_samples_is_an_error(samples):
    with pytest.raises(ValueError, match=f"^samples must be an integer ≥ 1, got {samples}$"):
        run_audit([SIGMOID], samples=samples)


@pytest.mark.parametrize("samples", [2.0, True, "3"])
def test_non_integer_samples_is_a_type_error(samples):
    with pytest.raises(TypeError, match=r"^samples must be an integer, got "):
        run_audit([SIGMOID], samples=samples)


def test_progress_is_reported_for_every_step():
    calls = []
    run_audit([SIGMOID, BY_NAME["tanh"]], samples=1, use_tf=False, progress=lambda *a: calls.append(a))
    assert [c[0] for c in calls] == list(range(7))
    assert calls[-1] == (6, 6, "done") and calls[0][2] == "sigmoid central"


def test_formulas_defaults_to_none_so_help_does_not_print_the_catalogue(monkeypatch):
    assert inspect.signature(run_audit).parameters["formulas"].default is None
    assert "Formula(" not in pydoc.render_doc(run_audit, renderer=pydoc.plaintext)
    # None is the catalogue as it is at the call, not as it was at import
    monkeypatch.setattr(catalogue, "CATALOGUE", (BY_NAME["tanh"],))
    assert run_audit(samples=1, use_tf=False).formulas == ("tanh",)


def test_the_table_has_the_columns_and_a_summary_line_last(full_report):
    lines = format_table(full_report).splitlines()
    for column in audit_report.COLUMNS:
        assert column in lines[0]
    assert lines[-1] == full_report.summary() and "seed 0" in lines[-1]
    assert any(line.startswith("himmelblau") and "Backward Propagation Algorithm §7.8" in line
               for line in lines)
    # each row names what it checked: an MLP's every weight and bias, whatever the drawn depth
    assert any(line.startswith("mlp ") and " ∂/∂(W1, b1, …, WL, bL) " in line for line in lines)
    assert any(line.startswith("himmelblau ") and " ∂/∂x " in line for line in lines)


def test_json_report_parses_and_holds_every_record():
    report = run_audit([BY_NAME["tanh"], planted(SIGMOID)], samples=2, seed=5, use_tf=False)
    doc = json.loads(audit.to_json(report))
    assert doc["verdict"] == "fail" and doc["passed"] is False and doc["seed"] == 5
    assert len(doc["records"]) == 6
    bad = [r for r in doc["records"] if r["verdict"] == "fail"]
    assert {r["formula"] for r in bad} == {"sigmoid"}
    assert all(r["failure"] for r in bad)
    assert {"formula", "section", "oracle", "samples", "worst_rel_err", "tolerance"} <= set(bad[0])


def test_markdown_report_has_the_table_and_the_failures():
    report = run_audit([BY_NAME["tanh"], planted(SIGMOID)], samples=2, seed=5, use_tf=False)
    md = audit.to_markdown(report)
    assert md.startswith("# backprop-ref audit: FAIL")
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + 6
    assert all(row.count(" | ") == len(audit_report.COLUMNS) - 1 for row in rows)
    assert "### sigmoid — central" in md and "```" in md


def test_junit_xml_has_one_testcase_per_formula_and_oracle():
    report = run_audit([BY_NAME["tanh"], planted(SIGMOID)], samples=2, seed=5, use_tf=False)
    root = ET.fromstring(audit.to_junit_xml(report))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 6 == int(suite.get("tests"))
    failed = [c for c in cases if c.find("failure") is not None]
    assert {(c.get("classname"), c.get("name")) for c in failed} == {
        ("backprop_ref.audit.sigmoid", "central"), ("backprop_ref.audit.sigmoid", "complex")}
    assert suite.get("failures") == "2"
    assert "sigmoid" in failed[0].find("failure").get("message")


# ---- the third verdict ----------------------------------------------------------------------

def test_a_case_the_checker_cannot_decide_is_inconclusive_not_a_pass_or_a_failure(undecided_report):
    by_key = {(r.formula, r.oracle): r for r in undecided_report.records}
    central = by_key["heaviside", "central"]
    kinks_at_0 = [c for c in HEAVISIDE.specials if np.any(c.args[0] == 0.0)]
    assert kinks_at_0   # the special at the jump is what the checker cannot decide
    assert central.verdict == "inconclusive" and not central.passed and central.failure is None
    assert central.n_inconclusive == len(kinks_at_0) and central.samples == 2 + len(HEAVISIDE.specials)
    assert "elementwise derivative check INCONCLUSIVE" in central.inconclusive
    assert central.reason.startswith("case 'kink at 0', heaviside_grad (∂/∂x): ")
    assert "f jumps at x[0]" in central.reason
    # f's jump makes the numerical value at x = 0 about 1/h, no estimate of a derivative: the error
    # columns leave the undecided entries out
    assert central.worst_rel_err == 0.0 and central.tolerance == "error model, err/tol ≤ 0"
    assert by_key["heaviside", "complex"].verdict == "pass"
    assert by_key["tanh", "central"].reason == "" and by_key["tanh", "central"].n_inconclusive == 0
    assert undecided_report.verdict == "inconclusive" and not undecided_report.passed
    assert undecided_report.failures == () and undecided_report.inconclusive == (central,)
    assert undecided_report.counts() == {"pass": 3, "fail": 0, "inconclusive": 1, "skipped": 2}


def test_a_failure_outweighs_an_inconclusive_record():
    report = run_audit([planted(SIGMOID), HEAVISIDE], samples=2, seed=5, use_tf=False)
    assert report.verdict == "fail" and len(report.inconclusive) == 1
    assert report.summary().startswith("FAIL: ")
    assert json.loads(audit.to_json(report))["verdict"] == "fail"


def test_the_table_shows_the_inconclusive_record_its_report_and_the_replay(undecided_report):
    text = format_table(undecided_report)
    row = next(line for line in text.splitlines() if line.startswith("heaviside") and " central " in line)
    assert row.endswith("inconclusive (1 of 3 cases)")
    assert ("INCONCLUSIVE heaviside [Backward Propagation Algorithm §7.3.2] by central "
            "(ReLU′(x) = 1 for x ≥ 0, 0 for x < 0): 1 of 3 cases could not be judged; the first:") in text
    assert "    case 'kink at 0', heaviside_grad (∂/∂x):" in text and "FAILED" not in text
    no_tf = " --no-tf" if tf_twins.available() else ""   # use_tf=False with TensorFlow installed
    assert f"replay: backprop-ref audit --seed 5 --samples 2{no_tf} --only heaviside" in text
    assert text.splitlines()[-1] == undecided_report.summary()
    assert undecided_report.summary().startswith(
        "INCONCLUSIVE: 3 passed, 0 failed, 1 inconclusive, 2 skipped (2 formulas × 3 oracles")


def test_json_report_says_inconclusive(undecided_report):
    doc = json.loads(audit.to_json(undecided_report))
    assert (doc["verdict"], doc["passed"]) == ("inconclusive", False)
    assert doc["counts"]["inconclusive"] == 1
    (record,) = [r for r in doc["records"] if r["verdict"] == "inconclusive"]
    assert (record["formula"], record["oracle"], record["n_inconclusive"]) == ("heaviside", "central", 1)
    assert "f jumps" in record["reason"] and record["inconclusive"] and record["failure"] is None


def test_markdown_report_has_an_inconclusive_section(undecided_report):
    md = audit.to_markdown(undecided_report)
    assert md.startswith("# backprop-ref audit: INCONCLUSIVE")
    assert "## Inconclusive" in md and "### heaviside — central" in md and "## Failures" not in md
    assert "1 of 3 cases could not be judged; the first:" in md
    no_tf = " --no-tf" if tf_twins.available() else ""
    assert f"Replay: `backprop-ref audit --seed 5 --samples 2{no_tf} --only heaviside`" in md


def test_junit_xml_writes_an_inconclusive_record_as_skipped_with_its_reason(undecided_report):
    suite = ET.fromstring(audit.to_junit_xml(undecided_report)).find("testsuite")
    case = next(c for c in suite.findall("testcase")
                if (c.get("classname"), c.get("name")) == ("backprop_ref.audit.heaviside", "central"))
    skipped = case.find("skipped")
    assert skipped is not None and case.find("failure") is None and case.find("error") is None
    assert skipped.get("type") == "inconclusive"
    assert skipped.get("message").startswith(
        "inconclusive: 1 of 3 cases could not be judged by the central check; first: case 'kink at 0'")
    assert "elementwise derivative check INCONCLUSIVE" in skipped.text
    assert (suite.get("failures"), suite.get("skipped")) == ("0", "3")


def test_a_random_draw_no_finite_difference_can_judge_is_replaced_and_said_so():
    # exponential_objective at seed 0 draws x·eʷ ≪ eᵇ five times: ∂/∂w moves f by less than its
    # rounding (twice f does not move at all at any step, and a nonzero claim there cannot be told from
    # 0). Those draws say nothing about the formula: they are replaced by fresh ones (the suite's
    # hypothesis draws are rejected alike), the record passes on 20 judged cases and says so.
    (rec,) = run_audit([BY_NAME["exponential_objective"]], samples=20, seed=0, oracles=("central",),
                       use_tf=False).records
    assert rec.verdict == "pass" and rec.samples == 20 and rec.n_inconclusive == 0
    assert rec.note == "5 random draw(s) no finite difference could judge replaced by fresh ones"
    # the replacements depend on the seed and the formula alone: audited beside another, the same
    _, again = run_audit([SIGMOID, BY_NAME["exponential_objective"]], samples=20, seed=0,
                         oracles=("central",), use_tf=False).records
    assert (again.worst_rel_err, again.note) == (rec.worst_rel_err, rec.note)


def test_one_vocabulary_in_the_json_and_junit_outputs(undecided_report):
    doc = json.loads(to_json(undecided_report))
    assert doc["verdict"] in VERDICTS and set(doc["counts"]) == set(VERDICTS)
    assert {r["verdict"] for r in doc["records"]} <= set(VERDICTS)
    clean = run_audit([get("tanh")], samples=1, seed=0, oracles=("central",), use_tf=False)
    assert json.loads(to_json(clean))["verdict"] == "pass"


def test_a_run_that_cannot_start_still_writes_its_report_files(tmp_path):
    from backprop_ref.cli import main

    paths = {"--json": tmp_path / "a.json", "--junit-xml": tmp_path / "a.xml"}
    code = main(["audit", "--only", "nosuch", *[str(v) for kv in paths.items() for v in kv]],
                stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 2
    doc = json.loads(paths["--json"].read_text())
    assert doc["verdict"] == "error" and "unknown formula 'nosuch'" in doc["error"]
    # the same counts as a run's, each 0: a script reading doc["counts"]["fail"] meets no KeyError
    assert doc["counts"] == {"pass": 0, "fail": 0, "inconclusive": 0, "skipped": 0} and doc["records"] == []
    suite = ET.fromstring(paths["--junit-xml"].read_text())
    error = suite.find("testcase/error")
    assert suite.get("errors") == "1" and error is not None
    assert "unknown formula 'nosuch'" in error.get("message", "")
