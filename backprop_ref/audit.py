"""The audit: every catalogue formula against every available oracle, as records a person can read.

`run_audit` is pure (formulas, samples, seed, oracles in; an `AuditReport` out; nothing printed):
for each formula it draws `samples` random cases from the formula's domain plus its special values
and checks the analytic derivative with three oracles:

- "central": central differences through `check_grad` / `check_jacobian` (kink-aware), on every
  random case and every special value;
- "complex": the complex step, on every random case (each lies on one smooth piece) and on the
  specials only when the formula is smooth there;
- "tape": TensorFlow's `tf.GradientTape` on the formula's twin, compared with
  `tolerances.agree` (forward against the twin's forward too), when TensorFlow is installed.
  Entries exactly at a declared kink are not compared (the conventions differ there by design);
  MLP cases with a ReLU-type pre-activation at its kink are skipped by every oracle (catalogue.at_kink).

One `Record` per formula × oracle, with one of four verdicts: "FAIL" when any case failed (or the
derivative raised); else "inconclusive" when the checker could not decide some case (`check_grad`'s
third verdict: f jumps at x, or an entry moves f by less than its rounding at every admissible step),
which is never counted as a pass; else "pass"; "skipped" when nothing ran. The report's verdict
(`AuditReport.verdict`, lowercase) is "fail" if any record failed, else "inconclusive" if any is
inconclusive, else "pass".

The writers below turn a report into the table text, JSON, Markdown and JUnit XML. JUnit has no third
verdict: an inconclusive record is written as <skipped type="inconclusive"> with its reason as the
message (and the first undecided case's report as its text), not as an <error>, which would say the
check itself broke; the suite's `skipped` count includes them. Read the report's own verdict (or the
CLI's exit status, 3) to tell them from a plain skip.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np

from backprop_ref import _numeric, tf_twins
from backprop_ref._validate import integer
from backprop_ref.catalogue import CATALOGUE, Formula, at_kink, check_tasks
from backprop_ref.domains import Case
from backprop_ref.gradcheck import check_grad, check_jacobian
from backprop_ref.tolerances import TAPE_ATOL_EPS, TAPE_RTOL

__all__ = [
    "ORACLES", "DEFAULT_SAMPLES", "DEFAULT_SEED", "Record", "AuditReport", "run_audit",
    "format_table", "to_json", "to_markdown", "to_junit_xml", "formula_rng",
]

ORACLES = ("central", "complex", "tape")
DEFAULT_SAMPLES = 20
# an undecided random draw is replaced by a fresh one, at most this many times per sample drawn
REDRAWS = 4
DEFAULT_SEED = 0

PASS, FAIL, SKIP = "pass", "FAIL", "skipped"
INCONCLUSIVE = "inconclusive"

Progress = Callable[[int, int, str], None]
"""progress(done, total, label): called before each formula × oracle starts and once at the end."""


@dataclass(frozen=True)
class Record:
    """One formula checked by one oracle.

    `samples` counts the cases checked (random draws plus specials; skipped cases excluded),
    `worst_rel_err` is the largest relative error any of them showed over the entries above their
    absolute tolerance (see `relative_error`; None when nothing ran),
    `tolerance` says which bound applied, `failure` is the first failing case's full report.
    `n_inconclusive` counts the cases the checker could not decide, `inconclusive` is the first one's
    full report and `reason` says why in one sentence (its case and the checker's reason; empty
    unless the verdict is "inconclusive").
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

    @property
    def passed(self) -> bool:
        """Neither failed nor inconclusive (a skipped record passes: nothing in it failed)."""
        return self.verdict in (PASS, SKIP)


@dataclass(frozen=True)
class AuditReport:
    """All records of one audit run, with what is needed to replay it."""

    records: tuple[Record, ...]
    seed: int
    samples: int
    tf_version: str | None
    seconds: float
    formulas: tuple[str, ...] = field(default=())

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
        tf = f"TensorFlow {self.tf_version}" if self.tf_version else "TensorFlow not installed"
        return (f"{self.verdict.upper()}: {c[PASS]} passed, {c[FAIL]} failed, "
                f"{c[INCONCLUSIVE]} inconclusive, {c[SKIP]} skipped "
                f"({len(self.formulas)} formulas × {len(ORACLES)} oracles, {self.samples} random samples "
                f"each + specials); seed {self.seed}; {tf}; {self.seconds:.1f} s")


def formula_rng(seed: int, name: str) -> np.random.Generator:
    """The generator for one formula: depends on the seed and the formula's name only, so that
    `--only NAME` replays exactly the cases the full audit drew for NAME."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def draw_cases(formula: Formula, samples: int, seed: int) -> list[Case]:
    """`samples` random cases from the formula's domain (deterministic for the seed)."""
    rng = formula_rng(seed, formula.name)
    return [formula.domain.sample(rng) for _ in range(samples)]


def redraws(formula: Formula, seed: int, method: str) -> Iterator[Case]:
    """Fresh random cases for the draws an oracle set aside: a stream of its own per formula and
    method (deterministic for the seed, so a replay with `--only` sets aside and redraws the same),
    away from ReLU kinks as the first draws are."""
    rng = np.random.default_rng([seed, zlib.crc32(formula.name.encode()), zlib.crc32(method.encode())])
    while True:
        case = formula.domain.sample(rng)
        if not at_kink(formula, case):
            yield case


# ---- the oracles ------------------------------------------------------------------------------

def describe(case: Case) -> str:
    """The case as a report names it: its label, and its keyword constants when it has any."""
    extra = ", ".join(f"{k}={v!r}" for k, v in case.kwargs.items())
    return f"case {case.label!r}" + (f" ({extra})" if extra else "")


class _Tally:
    """Accumulates one formula × oracle: cases, worst error, first failure, undecided cases."""

    def __init__(self) -> None:
        self.samples = 0
        self.skipped = 0
        self.worst: float | None = None
        self.failure: str | None = None
        self.n_inconclusive = 0
        self.inconclusive: str | None = None
        self.reason = ""
        self.tolerances: list[str] = []
        self.ratio = 0.0  # finite differences: the worst error as a fraction of its tolerance
        self.set_aside = 0  # undecided random draws replaced by fresh ones

    def add(self, rel_err: float, verdict: str, report: str, tolerance: str | None = None,
            reason: str = "") -> None:
        """One comparison with its verdict ("pass", "fail" or "inconclusive", as the checker says)."""
        if np.isfinite(rel_err) or verdict == "fail":
            self.worst = rel_err if self.worst is None else max(self.worst, rel_err)
        if tolerance and tolerance not in self.tolerances:
            self.tolerances.append(tolerance)
        if verdict == "fail" and self.failure is None:
            self.failure = report
        if verdict == "inconclusive" and self.inconclusive is None:
            self.inconclusive, self.reason = report, reason

    def raised(self, case: Case, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = f"{describe(case)}: raised {type(exc).__name__}: {exc}"


def relative_error(a: Any, b: Any, atol: Any, mask: Any = None) -> float:
    """Largest |a − b| / max(|a|, |b|) over the entries whose magnitude exceeds `atol`, the absolute
    tolerance they were judged by (a scalar or one per entry: the checker's per-entry tolerance, the
    tape comparison's absolute part), leaving out entries where `mask` is False or either side is
    not finite.

    An entry whose magnitude is within its absolute tolerance (σ′(−745) ≈ 5e-324 against a numerical
    0, say) is indistinguishable from zero at that tolerance, and its relative error (≈ 1) says
    nothing; those entries are judged by the absolute tolerance alone and left out here.
    """
    a = np.asarray(a, dtype=np.complex128 if np.iscomplexobj(a) else np.float64)
    b = np.asarray(b, dtype=np.float64)
    rel = _numeric.relative_error(a, b)
    keep = (np.maximum(np.abs(a), np.abs(b)) > np.asarray(atol)) & np.isfinite(rel)
    if mask is not None:
        keep &= np.broadcast_to(np.asarray(mask, bool), keep.shape)
    return float(np.max(np.where(keep, rel, 0.0), initial=0.0))


def _judged(result: Any) -> Any:
    """The entries the check judged: all but those its `ratio` marks NaN (undecided); None for all."""
    return None if result.ratio is None else ~np.isnan(result.ratio)


def _err_over_tol(result: Any) -> float:
    """The largest err/tol of a check, read from `result.ratio` (≤ 1 passes, 0 where the kink rule
    passed; a failed entry's is above 1; undecided entries, NaN there, left out); 0 when no entry was
    checked."""
    if result.ratio is None:
        return 0.0
    return float(np.max(result.ratio, where=_judged(result), initial=0.0))


def _finite_difference(formula: Formula, cases: Sequence[Case], method: str, seed: int,
                       redraws: Iterator[Case] | None = None) -> _Tally:
    """The checker over `cases`. A random draw the checker finds inconclusive (no finite difference can
    judge it: an entry buried in f's rounding) says nothing for or against the formula: it is set aside
    and replaced by the next of `redraws` (at most REDRAWS per sample), as the suite's hypothesis
    draws are rejected; a special's inconclusive verdict stands."""
    tally = _Tally()
    queue = list(cases)
    budget = REDRAWS * sum(1 for c in cases if c.label == "random")
    while queue:
        case = queue.pop(0)
        try:
            results = []
            for task in check_tasks(formula, case):
                check = check_jacobian if task.jacobian else check_grad
                results.append((task, check(task.f, task.x, task.claimed, method=method, seed=seed)))
        except Exception as exc:  # a planted or broken derivative may not even have the right shape
            tally.samples += 1
            tally.raised(case, exc)
            continue
        undecided = any(result.verdict == "inconclusive" for _, result in results)
        if undecided and case.label == "random" and redraws is not None and tally.set_aside < budget \
                and not any(result.verdict == "fail" for _, result in results):
            tally.set_aside += 1
            queue.insert(0, next(redraws))
            continue
        tally.samples += 1
        for task, result in results:
            header = f"{describe(case)}, {task.label}:\n"
            # an undecided entry's numerical value is no estimate of the derivative: its error is not one
            rel = relative_error(result.analytic, result.numerical, result.tolerance, _judged(result))
            tally.add(rel, result.verdict, header + str(result),
                      reason=f"{describe(case)}, {task.label}: {result.reason}")
            tally.ratio = max(tally.ratio, _err_over_tol(result))
        tally.n_inconclusive += undecided
    return tally


def _tape(formula: Formula, cases: Sequence[Case]) -> _Tally:
    tally = _Tally()
    tolerance = f"{TAPE_RTOL:g} rel + {TAPE_ATOL_EPS:g}·eps·scale"
    for case in cases:
        tally.samples += 1
        try:
            for c in tf_twins.compare(formula, case):
                tally.add(relative_error(c.ours, c.theirs, c.agreement.atol, c.mask),
                          PASS if c.agreement.passed else "fail",
                          f"{describe(case)}, {c.label}: {c.agreement}", tolerance)
        except Exception as exc:
            tally.raised(case, exc)
    return tally


def _record(formula: Formula, oracle: str, tally: _Tally, seconds: float, note: str = "") -> Record:
    if tally.skipped:
        note = (note + "; " if note else "") + f"{tally.skipped} case(s) at a ReLU kink skipped"
    if tally.set_aside:
        note = (note + "; " if note else "") + (f"{tally.set_aside} random draw(s) no finite difference "
                                                "could judge replaced by fresh ones")
    if tally.samples == 0:
        return Record(formula.name, formula.section, formula.equation, oracle, 0, None, "", SKIP,
                      None, note or "no cases", seconds)
    verdict = FAIL if tally.failure is not None else INCONCLUSIVE if tally.n_inconclusive else PASS
    tolerance = " / ".join(tally.tolerances) or f"error model, err/tol ≤ {tally.ratio:.2g}"
    return Record(formula.name, formula.section, formula.equation, oracle, tally.samples, tally.worst,
                  tolerance, verdict, tally.failure, note, seconds, n_inconclusive=tally.n_inconclusive,
                  inconclusive=tally.inconclusive,
                  reason=tally.reason if verdict == INCONCLUSIVE else "")


def _skip(formula: Formula, oracle: str, note: str) -> Record:
    return Record(formula.name, formula.section, formula.equation, oracle, 0, None, "", SKIP, None, note)


def run_audit(
    formulas: Iterable[Formula] = CATALOGUE,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    oracles: Sequence[str] = ORACLES,
    use_tf: bool | None = None,
    progress: Progress | None = None,
) -> AuditReport:
    """Check every formula with every oracle; return the records (nothing is printed).

    `use_tf=None` uses TensorFlow when it is installed; False skips the tape column ("not
    installed" when it is absent, "disabled" otherwise). Raises TypeError for a `samples` that is
    not an integer, ValueError for a non-positive one or an unknown oracle; the caller decides what a
    missing TensorFlow means.
    """
    formulas = tuple(formulas)
    samples = integer(samples, "samples", minimum=1)
    unknown = set(oracles) - set(ORACLES)
    if unknown:
        raise ValueError(f"unknown oracle(s) {sorted(unknown)}; valid oracles are {', '.join(ORACLES)}")
    installed = tf_twins.available()
    if use_tf is None:
        use_tf = installed
    tf_version = str(tf_twins.tensorflow().__version__) if use_tf else None
    start = time.perf_counter()
    total = len(formulas) * len(oracles)
    done = 0
    records: list[Record] = []
    for formula in formulas:
        drawn = draw_cases(formula, samples, seed)
        # MLP draws with a ReLU pre-activation at its kink are judged by no oracle (see at_kink).
        judged = [c for c in drawn if not at_kink(formula, c)]
        specials = list(formula.specials)
        for oracle in oracles:
            if progress is not None:
                progress(done, total, f"{formula.name} {oracle}")
            t0 = time.perf_counter()
            if oracle == "tape" and not use_tf:
                records.append(_skip(formula, oracle, "not installed" if not installed else "disabled"))
            elif oracle == "tape" and formula.twin is None:
                records.append(_skip(formula, oracle, "no TensorFlow twin"))
            else:
                note = ""
                if oracle == "central":
                    tally = _finite_difference(formula, judged + specials, "central", seed,
                                               redraws(formula, seed, "central"))
                elif oracle == "complex":
                    note = "" if formula.smooth or not specials else "specials: not smooth, central only"
                    tally = _finite_difference(formula, judged + (specials if formula.smooth else []),
                                               "complex", seed, redraws(formula, seed, "complex"))
                else:
                    tally = _tape(formula, judged + specials)
                tally.skipped = len(drawn) - len(judged)
                records.append(_record(formula, oracle, tally, time.perf_counter() - t0, note))
            done += 1
    if progress is not None:
        progress(total, total, "done")
    return AuditReport(tuple(records), seed, samples, tf_version, time.perf_counter() - start,
                       tuple(f.name for f in formulas))


# ---- the writers --------------------------------------------------------------------------------

COLUMNS = ("formula", "seed section", "oracle", "samples", "worst rel err", "tolerance", "verdict")


def _format_rel(r: Record) -> str:
    return "—" if r.worst_rel_err is None else f"{r.worst_rel_err:.1e}"


def _verdict(r: Record) -> str:
    if r.verdict == INCONCLUSIVE:
        return f"{r.verdict} ({r.n_inconclusive} of {r.samples} cases)"
    return f"{r.verdict} ({r.note})" if r.note and r.verdict == SKIP else r.verdict


def _replay(report: AuditReport) -> str:
    """The command that replays the failing and inconclusive records' formulas."""
    names = dict.fromkeys(r.formula for r in report.failures + report.inconclusive)
    return f"backprop-ref audit --seed {report.seed} --samples {report.samples} --only " + " ".join(names)


def _rows(report: AuditReport) -> list[tuple[str, ...]]:
    return [(r.formula, r.section, r.oracle, str(r.samples) if r.samples else "—", _format_rel(r),
             r.tolerance or "—", _verdict(r)) for r in report.records]


def format_table(report: AuditReport, *, failures: bool = True) -> str:
    """The plain-text table, the first failing and inconclusive cases' reports (when `failures`), and
    the summary line."""
    rows = [COLUMNS] + _rows(report)
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    right = {3, 4}

    def line(row: tuple[str, ...]) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()

    out = [line(rows[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in rows[1:]]
    if failures and (report.failures or report.inconclusive):
        out.append("")
        for r in report.failures:
            out.append(f"FAILED {r.formula} [{r.section}] by {r.oracle} ({r.equation}); first failing case:")
            out.extend("    " + s for s in (r.failure or "").splitlines())
        for r in report.inconclusive:
            out.append(f"INCONCLUSIVE {r.formula} [{r.section}] by {r.oracle} ({r.equation}): "
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
           "| " + " | ".join("---:" if i in (3, 4) else "---" for i in range(len(COLUMNS))) + " |"]
    for row in _rows(report):
        out.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    if report.failures:
        out += ["", "## Failures", ""]
        for r in report.failures:
            out += [f"### {r.formula} — {r.oracle}", "", f"{r.section}: `{r.equation}`", "",
                    "```", r.failure or "", "```", ""]
    if report.inconclusive:
        out += ["", "## Inconclusive", ""]
        for r in report.inconclusive:
            out += [f"### {r.formula} — {r.oracle}", "", f"{r.section}: `{r.equation}`", "",
                    f"{r.n_inconclusive} of {r.samples} cases could not be judged; the first:", "",
                    "```", r.inconclusive or "", "```", ""]
    if report.failures or report.inconclusive:
        out.append(f"Replay: `{_replay(report)}`")
    out.append("")
    return "\n".join(out)


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
                        ("tensorflow", report.tf_version or "not installed")):
        ET.SubElement(props, "property", {"name": name, "value": str(value)})
    for r in report.records:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"backprop_ref.audit.{r.formula}", "name": r.oracle, "time": f"{r.seconds:.3f}",
        })
        if r.verdict == FAIL:
            failure = ET.SubElement(case, "failure", {
                "message": f"{r.formula} [{r.section}] fails the {r.oracle} check; "
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
            ET.SubElement(case, "skipped", {"message": r.note})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"{r.samples} samples, worst rel err {_format_rel(r)}, tolerance {r.tolerance}"
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
