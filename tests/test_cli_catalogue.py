"""`backprop-ref audit --catalogue MODULE:NAME`: the user's own records audited, their failures named down to
the argument and replayed, their reports in one vocabulary, a malformed record one line and exit 2."""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_helpers import one_line_error, run

from backprop_ref import tf_twins
from backprop_ref.audit_report import VERDICTS

COURSE = '''
import numpy as np
from backprop_ref.catalogue import Formula
from backprop_ref.domains import Arg, Case, Cotangent, Domain, Reals

def loss(z):
    return np.sum(np.log1p(np.exp(z)))

def loss_grad(z):                       # σ(z): right
    return 1 / (1 + np.exp(-z))

def loss_grad_b(z):                     # student B: σ(z)·(1 − σ(z)), wrong
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)

DOMAIN = Domain(args=(Arg("z", ("n",), Reals(-5.0, 5.0)),), sizes={"n": (2, 4)})
CATALOGUE = [
    Formula(name="softplus_a", section="HW2 Q3", equation="∂L/∂z = σ(z)", kind="gradient",
            forward=loss, derivative=loss_grad, domain=DOMAIN),
    Formula(name="softplus_b", section="HW2 Q3", equation="∂L/∂z = σ(z)", kind="gradient",
            forward=loss, derivative=loss_grad_b, domain=DOMAIN),
]
NOT_RECORDS = [1, 2]

def dense(x, W, b):
    return x @ W + b

def dense_backward(x, W, b, dy):        # (dx, dW, db)
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)

def dense_backward_b(x, W, b, dy):      # student B: dW transposed
    return dy @ W.T, dy.T @ x, dy.sum(axis=0)

LAYER = Domain(args=(Arg("x", ("N", "H"), Reals(-3.0, 3.0)), Arg("W", ("H", "H"), Reals(-1.0, 1.0)),
                     Arg("b", ("H",), Reals(-1.0, 1.0))),
               sizes={"N": (1, 3), "H": (2, 3)}, wrt=(0, 1, 2),
               cotangent=Cotangent(("N", "H"), Reals(-1.0, 1.0)))
LAYERS = [
    Formula(name="dense_a", section="HW3", kind="vjp", forward=dense, derivative=dense_backward,
            domain=LAYER),
    Formula(name="dense_b", section="HW3", kind="vjp", forward=dense, derivative=dense_backward_b,
            domain=LAYER),
]

def step(x):                            # jumps at 0, where no derivative exists to match
    return np.where(np.real(x) > 0, 1.0, 0.0) * np.ones_like(x)

UNDECIDED = [
    Formula(name="heaviside", kind="elementwise", forward=step, derivative=np.zeros_like, smooth=False,
            kinks=(0.0,), domain=Domain(args=(Arg("x", ("n",), Reals(-3.0, 3.0, kinks=(0.0,), margin=1e-3)),),
                                        sizes={"n": (1, 3)}),
            specials=[Case((np.array([0.0, 1.0]),), label="at the jump")]),
]
'''


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course's catalogue, keywords only: right and wrong gradients, right and wrong layers, a step."""
    (tmp_path / "course.py").write_text(COURSE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("course", None)


def failed_block(out, name):
    """The lines the table prints for `name`'s first failure: its FAILED line and the case's report."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"FAILED {name} "))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("    "))
    return lines[start:end]


def test_audit_catalogue_audits_the_users_records_and_replays_the_failure(course):
    code, out, _ = run("audit", "--catalogue", "course:CATALOGUE", "--samples", "3", "--no-tf", "--quiet")
    assert code == 1
    assert "softplus_a" in out and "FAILED softplus_b [HW2 Q3] by central" in out
    failure = failed_block(out, "softplus_b")
    assert failure[1] == "    case 'random', ∂/∂z:"        # the argument, by the domain's name for it
    replay = next(line for line in out.splitlines() if line.startswith("replay: "))[len("replay: "):]
    # --no-tf joins the replay where TensorFlow is installed: the same oracles, the same rows
    no_tf = " --no-tf" if tf_twins.available() else ""
    expected = (f"backprop-ref audit --catalogue course:CATALOGUE --seed 0 --samples 3{no_tf} "
                "--only softplus_b")
    assert replay == expected
    code2, out2, _ = run(*replay.split()[1:], "--quiet")
    assert code2 == 1 and "softplus_a" not in out2
    assert failed_block(out2, "softplus_b") == failure          # the same case, the same report
    code3, out3, _ = run("audit", "--catalogue", "course:CATALOGUE", "--only", "softplus_a", "--no-tf", "-q")
    assert code3 == 0, out3


def test_a_users_layer_with_a_wrong_backward_fails_naming_the_argument(course):
    code, out, _ = run("audit", "--catalogue", "course:LAYERS", "--samples", "3", "--no-tf", "--quiet")
    assert code == 1, out
    assert "FAILED dense_a" not in out and "FAILED dense_b [HW3] by central" in out
    failure = "\n".join(failed_block(out, "dense_b"))
    assert "dense_backward_b: ∂⟨dy, y⟩/∂(x, W, b)" in failure
    assert "VJP check FAILED for W:" in failure and "FAILED for x" not in failure
    assert re.search(r"^ +W \(\d, \d\): FAILED", failure, re.M)
    assert re.search(r"^ +b \(\d,\): passed", failure, re.M)


@pytest.mark.parametrize("spec, exit_status, verdict", [
    ("course:CATALOGUE", 1, "fail"), ("course:LAYERS", 1, "fail"), ("course:UNDECIDED", 3, "inconclusive"),
])
def test_json_and_junit_xml_of_a_users_catalogue_carry_the_same_verdicts(course, spec, exit_status, verdict):
    code, out, _ = run("audit", "--catalogue", spec, "--samples", "2", "--no-tf", "--quiet",
                       "--json", "a.json", "--junit-xml", "a.xml")
    assert code == exit_status, out
    doc = json.loads((course / "a.json").read_text())
    assert doc["verdict"] == verdict and out.strip().splitlines()[-1].startswith(verdict.upper() + ":")
    assert set(doc["counts"]) == set(VERDICTS) and doc["counts"][verdict] >= 1
    assert {r["verdict"] for r in doc["records"]} <= set(VERDICTS)
    cases = ET.parse(course / "a.xml").getroot().find("testsuite").findall("testcase")
    assert len(cases) == len(doc["records"])
    for record, case in zip(doc["records"], cases):
        assert (case.get("classname"), case.get("name")) == (f"backprop_ref.audit.{record['formula']}",
                                                             record["oracle"])
        skipped = case.find("skipped")
        seen = ("fail" if case.find("failure") is not None else
                "pass" if skipped is None else skipped.get("type", "skipped"))
        assert seen == record["verdict"], (record, ET.tostring(case, encoding="unicode"))


@pytest.mark.parametrize("spec, says", [
    ("nosuch:CATALOGUE", "--catalogue nosuch:CATALOGUE: cannot import module 'nosuch'"),
    ("course:MISSING", "--catalogue course:MISSING: module 'course' has no attribute 'MISSING'"),
    ("course:NOT_RECORDS", "item 0 is a int, not a backprop_ref.catalogue.Formula"),
    ("course", "--catalogue must be MODULE:NAME, got 'course'"),
])
def test_audit_catalogue_that_cannot_be_read_is_one_line_and_exit_2(course, spec, says):
    code, _, err = run("audit", "--catalogue", spec)
    assert code == 2 and says in one_line_error(err)


@pytest.mark.parametrize("record, says", [
    ('Formula(name="softplus_c", kind="grad", forward=loss, derivative=loss_grad, domain=DOMAIN)',
     "ValueError: Formula 'softplus_c': unknown kind 'grad'; valid names are gradient, elementwise, "
     "jacobian, vjp"),
    ('Formula(name="softplus_c", kind="gradient", forward=loss, derivative="loss_grad", domain=DOMAIN)',
     "TypeError: Formula 'softplus_c': derivative must be a callable, got str 'loss_grad'"),
    ('Formula(name="softplus_c", kind="gradient", forward=loss, derivative=loss_grad)',
     "missing 1 required keyword-only argument: 'domain'"),
    ('Formula(name="dense_c", kind="vjp", forward=dense, derivative=dense_backward, domain=DOMAIN)',
     "Formula 'dense_c': kind \"vjp\" needs a domain with a cotangent"),
])
def test_a_malformed_record_is_one_line_naming_the_record_and_the_field_and_exit_2(course, record, says):
    (course / "badcourse.py").write_text(f"from course import *\n\nCATALOGUE = [{record}]\n")
    try:
        code, out, err = run("audit", "--catalogue", "badcourse:CATALOGUE", "--json", "a.json")
    finally:
        sys.modules.pop("badcourse", None)
    line = one_line_error(err)
    assert code == 2 and out == ""
    assert line.startswith("backprop-ref audit: --catalogue badcourse:CATALOGUE: cannot import module "
                           "'badcourse'")
    assert says in line
    assert json.loads((course / "a.json").read_text())["verdict"] == "error"   # CI's report step finds it


def test_audit_catalogue_only_names_its_own_records(course):
    code, _, err = run("audit", "--catalogue", "course:CATALOGUE", "--only", "sigmoid")
    assert code == 2
    assert "--only: unknown formula 'sigmoid'; valid names are softplus_a, softplus_b" in one_line_error(err)


def test_audit_catalogue_is_repeatable(course):
    code, out, _ = run("audit", "--catalogue", "course:CATALOGUE", "--catalogue", "course:LAYERS", "--list")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["softplus_a", "softplus_b", "dense_a",
                                                              "dense_b"]


# ---- the README's own user catalogue, as a reader would copy it --------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_block(first_line):
    """The README's ```python block whose first line is `first_line` (a file name comment)."""
    blocks = README.read_text(encoding="utf-8").split("```python\n")[1:]
    found = [b.split("```")[0] for b in blocks if b.startswith(first_line + "\n")]
    assert len(found) == 1, first_line
    return found[0]


@pytest.fixture
def mycourse(tmp_path, monkeypatch):
    package = tmp_path / "mycourse"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("derivations", "layers"):
        (package / f"{name}.py").write_text(readme_block(f"# mycourse/{name}.py"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield package
    for name in ("mycourse", "mycourse.derivations", "mycourse.layers"):
        sys.modules.pop(name, None)


def test_the_readmes_user_catalogue_passes_and_a_planted_bug_in_it_is_named(mycourse):
    code, out, _ = run("audit", "--catalogue", "mycourse.derivations:CATALOGUE", "--catalogue",
                       "mycourse.layers:CATALOGUE", "--samples", "3", "--no-tf", "--quiet")
    assert code == 0, out
    layers = mycourse / "layers.py"
    layers.write_text(layers.read_text().replace("dy.sum(axis=0)", "dy.mean(axis=0)"))
    sys.modules.pop("mycourse.layers", None)
    code, out, _ = run("audit", "--catalogue", "mycourse.layers:CATALOGUE", "--samples", "3", "--no-tf",
                       "--quiet")
    assert code == 1 and "FAILED dense [HW3 Q1] by central" in out and "VJP check FAILED for b" in out
