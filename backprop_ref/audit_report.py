"""The audit's report: one `Record` per formula × oracle, the `AuditReport` of a run, and the writers
that turn it into the table text, JSON, Markdown and JUnit XML. Nothing here runs a check
(`backprop_ref.audit` does, and re-exports these names).

One vocabulary in every output (`VERDICTS`): the report's verdict, the counts' keys, each record's
verdict in the JSON and the JUnit XML are the lowercase words "pass", "fail", "inconclusive" and, for
a record only, "skipped"; only the human table shouts FAIL in capitals. A run that could not start
(exit status 2) still writes its --json and --junit-xml files, with the verdict "error" and the
message (`error_json`, `error_junit_xml`), so a CI report step always finds them.

A record has one of four verdicts: "fail" when any case failed (or the derivative raised); else
"inconclusive" when the checker could not decide some case (`check_grad`'s third verdict: f jumps at x,
or an entry moves f by less than its rounding at every admissible step), which is never counted as a
pass; else "pass"; "skipped" when nothing ran. The report's verdict (`AuditReport.verdict`,
lowercase) is "fail" if any record failed, else "inconclusive" if any is inconclusive, else "pass".

JUnit has no third verdict: an inconclusive record is written as <skipped type="inconclusive"> with its
reason as the message (and the first undecided case's report as its text), not as an <error>, which
would say the check itself broke; the suite's `skipped` count includes them. Read the report's own
verdict (or the CLI's exit status, 3) to tell them from a plain skip.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np

__all__ = [
    "ORACLES", "PASS", "FAIL", "SKIP", "INCONCLUSIVE", "VERDICTS", "ERROR", "COLUMNS", "TF_STATUSES",
    "error_json",
    "error_junit_xml", "Record", "AuditReport", "format_table",
    "to_json", "to_markdown", "to_junit_xml",
]

ORACLES = ("central", "complex", "tape")
PASS, FAIL, SKIP = "pass", "fail", "skipped"
INCONCLUSIVE = "inconclusive"
VERDICTS = (PASS, FAIL, INCONCLUSIVE, SKIP)
# What the tape column had of TensorFlow: used (the report names its version), installed but disabled
# (run_audit(use_tf=False), --no-tf), or not installed. The skipped tape rows' note is the same word.
TF_USED, TF_DISABLED, TF_ABSENT = "used", "disabled", "not installed"
TF_STATUSES = (TF_USED, TF_DISABLED, TF_ABSENT)


@dataclass(frozen=True)
class Record:
    """One formula checked by one oracle.

    `samples` counts the cases checked (random draws plus specials; skipped cases excluded),
    `worst_rel_err` is the largest relative error any of them showed over the entries above their
    absolute tolerance (see `relative_error`; None when nothing ran),
    `tolerance` says which bound applied, `failure` is the first failing case's full report.
    `n_inconclusive` counts the cases the checker could not decide, `inconclusive` is the first one's
    full report and `reason` says why in one sentence (its case and the checker's reason). `reason` is
    empty unless the verdict is "inconclusive", or "skipped" for an oracle that does not apply to the
    formula (the complex step through a forward that drops complex input: the checker's reason).
    `wrt` names the arguments whose derivatives the formula claims and the oracle checked
    (`Formula.differentiated`).
    """

    formula: str
    section: str
    equation: str
    oracle: str
    samples: int
    worst_rel_err: float | None
    tolerance: str
    verdict: str
    failure: str | None = None
    note: str = ""
    seconds: float = 0.0
    n_inconclusive: int = 0
    inconclusive: str | None = None
    reason: str = ""
    wrt: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Neither failed nor inconclusive (a skipped record passes: nothing in it failed)."""
        return self.verdict in (PASS, SKIP)


@dataclass(frozen=True)
class AuditReport:
    """All records of one audit run, with what is needed to replay it.

    `tf_version` is the version of the TensorFlow the tape column used (None when it used none);
    `tf_disabled` says that TensorFlow was installed but not used (`run_audit(use_tf=False)`, `--no-tf`).
    """

    records: tuple[Record, ...]
    seed: int
    samples: int
    tf_version: str | None
    seconds: float
    formulas: tuple[str, ...] = field(default=())
    catalogues: tuple[str, ...] = field(default=())   # the user's MODULE:NAME specs, for the replay
    tf_disabled: bool = False

    @property
    def tf_status(self) -> str:
        """One of `TF_STATUSES`: "used", "disabled" (installed, not used) or "not installed"."""
        if self.tf_version is not None:
            return TF_USED
        return TF_DISABLED if self.tf_disabled else TF_ABSENT

    @property
    def verdict(self) -> str:
        """"fail" if any record failed; else "inconclusive" if any is; else "pass"."""
        if self.failures:
            return "fail"
        return "inconclusive" if self.inconclusive else "pass"

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def failures(self) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.verdict == FAIL)

    @property
    def inconclusive(self) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.verdict == INCONCLUSIVE)

    def counts(self) -> dict[str, int]:
        out = {PASS: 0, FAIL: 0, INCONCLUSIVE: 0, SKIP: 0}
        for r in self.records:
            out[r.verdict] += 1
        return out

    def summary(self) -> str:
        c = self.counts()
        tf = f"TensorFlow {self.tf_version or self.tf_status}"
        return (f"{self.verdict.upper()}: {c[PASS]} passed, {c[FAIL]} failed, "
                f"{c[INCONCLUSIVE]} inconclusive, {c[SKIP]} skipped "
                f"({count_of(len(self.formulas), 'formula')} × {len(ORACLES)} oracles, "
                f"{count_of(self.samples, 'random sample')} each + specials); seed {self.seed}; {tf}; "
                f"{self.seconds:.1f} s")


def count_of(n: int, noun: str) -> str:
    """"1 formula", "3 formulas": a count with its noun."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


# ---- the writers --------------------------------------------------------------------------------

COLUMNS = ("formula", "section", "checks", "oracle", "samples", "worst rel err", "tolerance", "verdict")
_RIGHT = (COLUMNS.index("samples"), COLUMNS.index("worst rel err"))   # the figures, right-aligned


def _checks(r: Record) -> str:
    """What the row checked: "∂/∂z", "∂/∂(x, W, b)"."""
    if not r.wrt:
        return "—"
    return f"∂/∂{r.wrt[0]}" if len(r.wrt) == 1 else f"∂/∂({', '.join(r.wrt)})"


def _format_rel(r: Record) -> str:
    return "—" if r.worst_rel_err is None else f"{r.worst_rel_err:.1e}"


def _verdict(r: Record) -> str:
    if r.verdict == INCONCLUSIVE:
        return f"{r.verdict} ({r.n_inconclusive} of {r.samples} cases)"
    if r.verdict == FAIL:
        return "FAIL"   # the one word a reader must not miss in the table
    return f"{r.verdict} ({r.note})" if r.note and r.verdict == SKIP else r.verdict


def _replay(report: AuditReport) -> str:
    """The command that replays the failing and inconclusive records' formulas (with --no-tf where the
    run left TensorFlow out though it is installed: the same oracles, the same rows)."""
    names = dict.fromkeys(r.formula for r in report.failures + report.inconclusive)
    spec = "".join(f" --catalogue {c}" for c in report.catalogues)
    no_tf = " --no-tf" if report.tf_disabled else ""
    return (f"backprop-ref audit{spec} --seed {report.seed} --samples {report.samples}{no_tf} --only "
            + " ".join(names))


def _cited(r: Record) -> str:
    """The record as a failure names it: its name, and its [section] when it gives one."""
    return r.formula + (f" [{r.section}]" if r.section else "")


def _equation(r: Record) -> str:
    return f" ({r.equation})" if r.equation else ""


def _md_source(r: Record) -> list[str]:
    """Markdown's line under a failure's heading: where the formula is derived and the equation, if given."""
    text = ": ".join(s for s in (r.section, f"`{r.equation}`" if r.equation else "") if s)
    return [text, ""] if text else []


def _not_applicable(report: AuditReport) -> list[Record]:
    """The skipped records that say why the oracle does not apply (their `reason`)."""
    return [r for r in report.records if r.verdict == SKIP and r.reason]


def _rows(report: AuditReport) -> list[tuple[str, ...]]:
    return [(r.formula, r.section, _checks(r), r.oracle, str(r.samples) if r.samples else "—",
             _format_rel(r), r.tolerance or "—", _verdict(r)) for r in report.records]


def format_table(report: AuditReport, *, failures: bool = True) -> str:
    """The plain-text table; when `failures`, why each skipped oracle that does not apply does not, and the
    first failing and inconclusive cases' reports; the summary line."""
    rows = [COLUMNS] + _rows(report)
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]

    def line(row: tuple[str, ...]) -> str:
        cells = [c.rjust(w) if i in _RIGHT else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()

    out = [line(rows[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in rows[1:]]
    if failures and _not_applicable(report):
        out.append("")
        for r in _not_applicable(report):
            out.append(f"SKIPPED {_cited(r)} by {r.oracle} ({r.note}):")
            out.append(f"    {r.reason}")
    if failures and (report.failures or report.inconclusive):
        out.append("")
        for r in report.failures:
            out.append(f"FAILED {_cited(r)} by {r.oracle}{_equation(r)}; first failing case:")
            out.extend("    " + s for s in (r.failure or "").splitlines())
        for r in report.inconclusive:
            out.append(f"INCONCLUSIVE {_cited(r)} by {r.oracle}{_equation(r)}: "
                       f"{r.n_inconclusive} of {r.samples} cases could not be judged; the first:")
            out.extend("    " + s for s in (r.inconclusive or "").splitlines())
        out.append("replay: " + _replay(report))
    out.append("")
    out.append(report.summary())
    return "\n".join(out)


def _jsonable(x: Any) -> Any:
    if isinstance(x, float) and not np.isfinite(x):
        return str(x)
    return x


def to_json(report: AuditReport) -> str:
    """A top-level verdict and one object per formula × oracle with its figures."""
    doc = {
        "verdict": report.verdict,
        "passed": report.passed,
        "seed": report.seed,
        "samples": report.samples,
        "tensorflow": report.tf_version,
        "tensorflow_status": report.tf_status,
        "seconds": round(report.seconds, 3),
        "counts": report.counts(),
        "summary": report.summary(),
        "records": [{k: _jsonable(v) for k, v in asdict(r).items()} for r in report.records],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|")


def to_markdown(report: AuditReport) -> str:
    """A report to attach to a pull request: the table, each failure's and each inconclusive record's
    first report, the summary."""
    out = [f"# backprop-ref audit: {report.verdict.upper()}", "", f"**{report.summary()}**", "",
           "| " + " | ".join(COLUMNS) + " |",
           "| " + " | ".join("---:" if i in _RIGHT else "---" for i in range(len(COLUMNS))) + " |"]
    for row in _rows(report):
        out.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    if report.failures:
        out += ["", "## Failures", ""]
        for r in report.failures:
            out += [f"### {r.formula} — {r.oracle}", "", *_md_source(r),
                    "```", r.failure or "", "```", ""]
    if report.inconclusive:
        out += ["", "## Inconclusive", ""]
        for r in report.inconclusive:
            out += [f"### {r.formula} — {r.oracle}", "", *_md_source(r),
                    f"{r.n_inconclusive} of {r.samples} cases could not be judged; the first:", "",
                    "```", r.inconclusive or "", "```", ""]
    if _not_applicable(report):
        out += ["", "## Not applicable", ""]
        for r in _not_applicable(report):
            out += [f"- **{r.formula} — {r.oracle}** ({r.note}): {r.reason}"]
        out.append("")
    if report.failures or report.inconclusive:
        out.append(f"Replay: `{_replay(report)}`")
    out.append("")
    return "\n".join(out)


ERROR = "error"   # the run's verdict when it could not start (a usage error, exit status 2)


def error_json(message: str) -> str:
    """The JSON written under --json when the audit could not run: the verdict "error" and why, with a
    run's `counts` (each 0) and no records."""
    return json.dumps({"verdict": ERROR, "passed": False, "error": message,
                       "counts": dict.fromkeys(VERDICTS, 0), "records": []}, indent=2, ensure_ascii=False)


def error_junit_xml(message: str) -> str:
    """The JUnit XML written under --junit-xml when the audit could not run: one <error> test case."""
    suite = ET.Element("testsuite", {"name": "backprop-ref audit", "tests": "1", "failures": "0",
                                     "errors": "1", "skipped": "0", "time": "0.000"})
    case = ET.SubElement(suite, "testcase", {"classname": "backprop_ref.audit", "name": "run"})
    ET.SubElement(case, ERROR, {"message": message}).text = message
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def to_junit_xml(report: AuditReport) -> str:
    """One <testcase> per formula × oracle (classname backprop_ref.audit.FORMULA, name ORACLE); an
    inconclusive one is a <skipped type="inconclusive"> with its reason (see the module docstring)."""
    c = report.counts()
    suite = ET.Element("testsuite", {
        "name": "backprop-ref audit", "tests": str(len(report.records)), "failures": str(c[FAIL]),
        "errors": "0", "skipped": str(c[SKIP] + c[INCONCLUSIVE]), "time": f"{report.seconds:.3f}",
    })
    props = ET.SubElement(suite, "properties")
    for name, value in (("seed", report.seed), ("samples", report.samples),
                        ("tensorflow", report.tf_version or report.tf_status)):
        ET.SubElement(props, "property", {"name": name, "value": str(value)})
    for r in report.records:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"backprop_ref.audit.{r.formula}", "name": r.oracle, "time": f"{r.seconds:.3f}",
        })
        if r.verdict == FAIL:
            failure = ET.SubElement(case, "failure", {
                "message": f"{_cited(r)} fails the {r.oracle} check of {_checks(r)}; "
                           f"worst rel err {_format_rel(r)}",
            })
            failure.text = r.failure
        elif r.verdict == INCONCLUSIVE:
            skipped = ET.SubElement(case, "skipped", {
                "type": INCONCLUSIVE,
                "message": f"inconclusive: {r.n_inconclusive} of {r.samples} cases could not be judged "
                           f"by the {r.oracle} check; first: {r.reason}",
            })
            skipped.text = r.inconclusive
        elif r.verdict == SKIP:
            ET.SubElement(case, "skipped", {"message": r.note + (f": {r.reason}" if r.reason else "")})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = (f"{_checks(r)}: {r.samples} samples, worst rel err {_format_rel(r)}, "
                        f"tolerance {r.tolerance}")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
