"""The audit: every catalogue formula against every available oracle, as records a person can read.

`run_audit` is pure (formulas, samples, seed, oracles in; an `AuditReport` out; nothing printed):
for each formula it draws `samples` random cases from the formula's domain plus its special values
and checks the analytic derivative with three oracles:

- "central": central differences through `check_grad`, `check_jacobian` or, for an elementwise
  formula, `check_elementwise` (kink-aware; `CheckTask.check` picks), on every random case and
  every special value;
- "complex": the complex step, on every random case (each lies on one smooth piece) and on the
  specials only when the formula is smooth there; skipped, with the checker's reason, for a forward
  that does not carry complex input through (`catalogue.ComplexStepRefused`);
- "tape": TensorFlow's `tf.GradientTape` on the formula's twin, compared with
  `tolerances.agree` (forward against the twin's forward too), when TensorFlow is installed.
  Entries exactly at a declared kink are not compared (the conventions differ there by design);
  MLP cases with a ReLU-type pre-activation at its kink are skipped by every oracle (catalogue.at_kink).

One `Record` per formula × oracle; the records, their verdicts and the writers (table, JSON, Markdown,
JUnit XML) are `backprop_ref.audit_report`'s, importable from here as well.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from backprop_ref import _numeric, catalogue, tf_twins
from backprop_ref._validate import integer
from backprop_ref.audit_report import (
    FAIL,
    INCONCLUSIVE,
    ORACLES,
    PASS,
    SKIP,
    TF_ABSENT,
    TF_DISABLED,
    AuditReport,
    Record,
    format_table,
    to_json,
    to_junit_xml,
    to_markdown,
)
from backprop_ref.catalogue import ComplexStepRefused, Formula, at_kink, check_tasks
from backprop_ref.domains import Case
from backprop_ref.tolerances import TAPE_ATOL_EPS, TAPE_RTOL

__all__ = [
    "ORACLES", "DEFAULT_SAMPLES", "DEFAULT_SEED", "Record", "AuditReport", "run_audit",
    "format_table", "to_json", "to_markdown", "to_junit_xml", "formula_rng",
]

DEFAULT_SAMPLES = 20
# an undecided random draw is replaced by a fresh one, at most this many times per sample drawn
REDRAWS = 4
DEFAULT_SEED = 0
# the note of a complex column skipped because the formula's forward cannot carry the complex step
NOT_APPLICABLE = "not applicable: the forward does not carry complex input"

Progress = Callable[[int, int, str], None]
"""progress(done, total, label): called before each formula × oracle starts and once at the end."""


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
        self.refused = ""   # why the oracle does not apply to the formula (the complex step), if it does not

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
                results.append((task, task.check(method, seed)))
        except ComplexStepRefused as exc:   # the forward's fault for this oracle, not the derivative's
            tally.refused = f"{describe(case)}: {exc}"
            break
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
    if tally.refused and tally.failure is None:   # the checker's reason as the record's
        return _skip(formula, oracle, NOT_APPLICABLE, seconds, reason=tally.refused)
    if tally.refused:   # a case it did apply to failed: that stands
        note = (note + "; " if note else "") + (f"stopped where the forward does not carry complex "
                                                f"input: {tally.refused}")
    if tally.samples == 0:
        return _skip(formula, oracle, note or "no cases", seconds)
    verdict = FAIL if tally.failure is not None else INCONCLUSIVE if tally.n_inconclusive else PASS
    tolerance = " / ".join(tally.tolerances) or f"error model, err/tol ≤ {tally.ratio:.2g}"
    return Record(formula.name, formula.section, formula.equation, oracle, tally.samples, tally.worst,
                  tolerance, verdict, tally.failure, note, seconds, n_inconclusive=tally.n_inconclusive,
                  inconclusive=tally.inconclusive,
                  reason=tally.reason if verdict == INCONCLUSIVE else "", wrt=formula.differentiated)


def _skip(formula: Formula, oracle: str, note: str, seconds: float = 0.0, reason: str = "") -> Record:
    return Record(formula.name, formula.section, formula.equation, oracle, 0, None, "", SKIP, None, note,
                  seconds, reason=reason, wrt=formula.differentiated)


def run_audit(
    formulas: Iterable[Formula] | None = None,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    oracles: Sequence[str] = ORACLES,
    use_tf: bool | None = None,
    progress: Progress | None = None,
) -> AuditReport:
    """Check every formula with every oracle; return the records (nothing is printed).

    `formulas`: the `Formula` records to audit, the user's own (see `backprop_ref.catalogue` for what a
    record holds) or, when None, backprop_ref's catalogue (`catalogue.CATALOGUE`). `use_tf=None` uses
    TensorFlow when it is installed; False skips the tape column ("not installed" when it is absent,
    "disabled" otherwise: the rows' note, the summary and `AuditReport.tf_status` say which). Raises
    TypeError for a `samples` that is not an integer, ValueError for a non-positive one or an unknown
    oracle; the caller decides what a missing TensorFlow means.
    """
    formulas = catalogue.CATALOGUE if formulas is None else tuple(formulas)
    samples = integer(samples, "samples", minimum=1)
    unknown = set(oracles) - set(ORACLES)
    if unknown:
        raise ValueError(f"unknown oracle(s) {sorted(unknown)}; valid oracles are {', '.join(ORACLES)}")
    installed = tf_twins.available()
    if use_tf is None:
        use_tf = installed
    tf_version = str(tf_twins.tensorflow().__version__) if use_tf else None
    without_tf = TF_DISABLED if installed else TF_ABSENT   # the tape rows' note when use_tf is False
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
                records.append(_skip(formula, oracle, without_tf))
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
                       tuple(f.name for f in formulas), tf_disabled=installed and not use_tf)
