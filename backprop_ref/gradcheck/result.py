"""The result of a check (`GradCheckResult`, `Kink`, `TaylorResult`), built once and frozen, and its report.

The report's first line must read on its own (pytest's summary and a JUnit message show only it): the
verdict, how many entries failed (or could not be judged) of how many, the method, the mode and the
evaluations of f.

Three verdicts: "fail" when any judged entry (or direction) is outside its tolerance or a value is not
finite; else "inconclusive" when some entries could not be judged at any admissible step (the report
lists them and why) or when the Taylor test's second opinion contradicts a marginal pass; else "pass".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_ref._numeric import relative_error
from backprop_ref.gradcheck.diagnosis import diagnose
from backprop_ref.gradcheck.error_model import dtype_name, param
from backprop_ref.gradcheck.evaluation import UserTolerance
from backprop_ref.gradcheck.verdict import Verdict

__all__ = ["InconclusiveCheck", "VERDICTS", "Kink", "TaylorResult", "GradCheckResult", "Directional",
           "Judged", "build_result", "combine", "model_reason"]

VERDICTS = ("pass", "fail", "inconclusive")


class InconclusiveCheck(AssertionError):
    """Raised by `assert_grad` / `assert_jacobian` (and `GradCheckResult.assert_passed`) when no entry
    failed but some could not be judged: a finite difference cannot decide there (f jumps, or the
    entry moves f by less than its rounding). A subclass of AssertionError, so an unguarded test still
    fails; a property-based test can discard such draws instead::

        try:
            assert_grad(f, x, g)
        except InconclusiveCheck:
            hypothesis.reject()   # or: hypothesis.assume(check_grad(f, x, g).verdict != "inconclusive")
    """

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Kink:
    """A coordinate where f is not differentiable: its one-sided derivatives and the verdict there."""

    index: tuple[int, ...]
    left: float
    right: float
    analytic: float
    passed: bool
    step: float
    label: str = ""   # the argument's, in a check of several arguments

    def __str__(self) -> str:
        where = "between them" if self.passed else "OUTSIDE them"
        return (f"{self.label}{list(self.index)}: left {self.left:.6g}, right {self.right:.6g}; "
                f"analytic {self.analytic:.6g} lies {where} (step {self.step:.3g})")


@dataclass(frozen=True)
class TaylorResult:
    """The Taylor-remainder test: |f(x + hd) − f(x) − h⟨g, d⟩| should shrink as h² (order 2)."""

    order: float
    passed: bool
    conclusive: bool
    steps: NDArray[np.floating[Any]]
    remainders: NDArray[np.floating[Any]]
    orders: NDArray[np.floating[Any]]
    seed: int | None

    def __str__(self) -> str:
        if not self.conclusive:
            return ("Taylor test inconclusive: the remainder stays at f's rounding level at every step "
                    "(f is locally linear or the gradient is tiny)")
        verdict = "consistent with a correct gradient" if self.passed else "the gradient is WRONG"
        return (f"Taylor test: remainder shrinks with observed order {self.order:.2f} over steps "
                f"{self.steps[0]:.1e}…{self.steps[-1]:.1e} (2 for a correct gradient, 1 for a wrong "
                f"one): {verdict}")


@dataclass(frozen=True)
class Directional:
    """What only a directional check has: its directions' reach and, on failure, the entries found."""

    directions: int
    miss_probability: float
    detectable_error: float
    localised: list[tuple[int, ...]]
    note: str


@dataclass(frozen=True)
class GradCheckResult:
    """The verdict of a gradient (or Jacobian) check, with everything needed to read or replay it.

    Attributes
    ----------
    verdict : {"pass", "fail", "inconclusive"}
        "fail" when an entry (or direction) lies outside its tolerance or a value is not finite;
        "inconclusive" when none failed but some could not be judged at any admissible step
        (`inconclusive` lists them and why); else "pass".
    passed : bool
        True only for the verdict "pass".
    reason : str
        The verdict in one sentence (empty on a plain pass).
    inconclusive : list of str
        The entries (or directions) that could not be judged, each with its reason.
    n_inconclusive : int
        How many.
    notes : list of str
        What the probes changed to judge an entry (a step shrunk to keep the stencil in f's domain).
    max_abs_err, max_rel_err : float
        Largest |analytic − numerical| and largest symmetric relative error
        |a − n| / max(|a|, |n|) (0 when both are 0) over the checked entries.
    worst_index : tuple of int
        Index of the entry with the largest error relative to its tolerance. In directional mode the
        first index is the direction number.
    analytic, numerical, tolerance : ndarray
        The claimed values, the numerical ones and the per-entry bound. Full mode: shape
        ``f(x).shape + x.shape``; directional mode: one row per direction.
    tolerance_reason : str
        Which bound decided (error model or the user's rtol/atol) and why.
    kinks : list of Kink
        Coordinates where f is not differentiable, with left and right derivatives.
    seed : int or None
        Seed of the random directions (directional mode), to replay the check.
    method, step, mode
        "central" / "richardson" / "complex"; the step(s) used; "full" or "directional".
    n_failed, n_checked, n_evals : int
        Failed and checked entries (directions), and calls of f.
    miss_probability, detectable_error : float or None
        Directional mode: an error larger than `detectable_error` in any one entry slips through all
        k random directions with probability at most `miss_probability` (2^−k). At a kink at x the
        width between the one-sided slopes counts in it: any claim in between passes there.
    localised : list of tuple of int
        Directional mode, on failure: the entries bisection found wrong.
    problems : list of str
        Non-finite values: where they appeared and why the check failed there.
    label : str
        The checked argument's name ("x" for a single array; a dict key or f's parameter name for a
        tuple or dict x); entries read ``W2[3, 1]``.
    worst : str
        The worst entry, as it reads in the report (``W2[3, 1]``; "direction 3" in directional mode).
    by_argument : dict of str to GradCheckResult
        A check of several arguments: each argument's own result, by label (empty otherwise). The
        top level then holds the overall verdict, counts and worst entry; its arrays are the
        arguments' raveled and concatenated in order.
    diagnosis : str or None
        What the failing entries' pattern says is wrong, where it is plain (a constant factor, a sign,
        a term not propagated, a transpose, a shift by one index, two arguments' claims swapped);
        None when no pattern fits.
    ratio : ndarray or None
        |analytic − numerical| / tolerance per entry (0 where the kink rule passed, NaN where the entry
        could not be judged): above 1 fails.
    terms : tuple of ndarray, or None
        The error model's three terms per entry (safety × truncation, safety × rounding, the claimed
        values' own rounding); None when f(x) itself is not finite.
    """

    passed: bool
    max_abs_err: float
    max_rel_err: float
    worst_index: tuple[int, ...]
    analytic: Array
    numerical: Array
    tolerance: Array
    tolerance_reason: str
    kinks: list[Kink]
    seed: int | None
    method: str
    step: Any
    mode: str
    n_failed: int
    n_checked: int
    n_evals: int
    kind: str = "gradient"
    user_tolerance: bool = False
    miss_probability: float | None = None
    detectable_error: float | None = None
    localised: list[tuple[int, ...]] = field(default_factory=list)
    localised_note: str = ""
    problems: list[str] = field(default_factory=list)
    taylor: TaylorResult | None = None
    directions: int | None = None
    x_shape: tuple[int, ...] = ()
    verdict: str = "pass"
    reason: str = ""
    inconclusive: list[str] = field(default_factory=list)
    n_inconclusive: int = 0
    notes: list[str] = field(default_factory=list)
    label: str = "x"
    by_argument: dict[str, GradCheckResult] = field(default_factory=dict)
    diagnosis: str | None = None
    # error/tolerance per entry (0 where the kink rule passed), for the report and the Taylor test
    ratio: Array | None = field(default=None, repr=False)
    # the bound's three terms per entry (safety × truncation, safety × rounding, claimed rounding)
    terms: tuple[Array, Array, Array] | None = field(default=None, repr=False)

    @property
    def abs_err(self) -> Array:
        with np.errstate(all="ignore"):   # inf − inf is a NaN error, reported as such
            return np.abs(self.analytic - self.numerical)

    @property
    def worst(self) -> str:
        if not self.n_checked:
            return ""
        if self.by_argument:
            sub = self.by_argument[_worst_argument(self.by_argument)]
            return sub.worst
        return _entry(self.label, self.worst_index, self.x_shape, self.mode, self.kind)

    def assert_passed(self) -> GradCheckResult:
        """Raise AssertionError with the report when the check failed, InconclusiveCheck (a subclass)
        when it could not decide; else return the result. The message's first line stands alone."""
        __tracebackhide__ = True
        if self.verdict == "inconclusive":
            raise InconclusiveCheck(str(self))
        if not self.passed:
            raise AssertionError(str(self))
        return self

    def __str__(self) -> str:
        with np.errstate(all="ignore"):   # the report formats inf and NaN, never raises on them
            return _report(self)


@dataclass(frozen=True)
class Judged:
    """What a mode hands on: the claimed values and their verdict, in the result's `shape`, and what the
    probes saw. The result is built from it once, with the run's bookkeeping (`build_result`)."""

    mode: str
    analytic: Array
    verdict: Verdict
    shape: tuple[int, ...]
    kinks: list[Kink]
    problems: list[str]
    reason: str
    step: Any
    terms: tuple[Array, Array, Array] | None
    directional: Directional | None = None
    inconclusive: list[str] = field(default_factory=list)   # the undecided entries, each with its reason
    # entries (directions) whose estimate needed a finer step than the first: f is not smooth at the
    # Taylor test's scale there (a kink inside the first stencil), so its second opinion would see that
    refined: NDArray[np.bool_] | None = None
    notes: list[str] = field(default_factory=list)   # what the probes changed to judge (a step shrunk)
    noisy: bool = False   # f's noise was measured above its rounding: no Taylor second opinion


def build_result(j: Judged, *, method: str, seed: int | None, n_evals: int, jacobian: bool,
                 user: UserTolerance | None, x_shape: tuple[int, ...],
                 taylor: TaylorResult | None, label: str = "x", kind: str | None = None,
                 dims: dict[str, tuple[int, ...]] | None = None) -> GradCheckResult:
    """The frozen result of a check: the verdict's figures reshaped, the worst entry, the reason, the
    diagnosis. `kind` names what was checked when it is not a gradient or Jacobian ("vjp", "jvp");
    `dims` the shapes, by name, a diagnosed factor is compared with (default: x's)."""
    v, shape = j.verdict, j.shape
    A, N = j.analytic, v.numerical
    diff = np.abs(A - N)
    w = v.worst()
    reason = j.reason if user is None else (
        "the user's tolerance decided: an entry passes when |analytic − numerical| ≤ atol + "
        f"rtol·|numerical| with atol = {user.atol:g}, rtol = {user.rtol:g} (the error model was not used)")
    d = j.directional
    verdict, why = _verdict(j, taylor, shape)
    kind = kind or ("jacobian" if jacobian else "gradient")
    failing = (~v.ok & ~v.undecided).reshape(shape)
    dims = {label: x_shape} if dims is None else dims
    diag = (diagnose(A.reshape(shape), N.reshape(shape), v.tolerance.reshape(shape), failing, dims,
                     full=j.mode == "full" and kind in ("gradient", "vjp", "elementwise"),
                     unit={"full": "entries", "directional": "directions", "adjoint": "pairs"}[j.mode])
            if verdict == "fail" and not j.problems else None)
    return GradCheckResult(
        passed=verdict == "pass", verdict=verdict, reason=why, inconclusive=list(j.inconclusive),
        notes=list(j.notes),
        n_inconclusive=v.n_undecided,
        max_abs_err=float(np.max(np.where(np.isnan(diff), np.inf, diff), initial=0.0)),
        max_rel_err=float(np.max(relative_error(A, N), initial=0.0)),
        worst_index=tuple(int(i) for i in np.unravel_index(w, shape)) if w >= 0 else (),
        analytic=A.reshape(shape), numerical=N.reshape(shape), tolerance=v.tolerance.reshape(shape),
        tolerance_reason=reason, seed=seed,
        kinks=[replace(k, label=label) for k in j.kinks] if label != "x" else j.kinks,
        method=method, step=j.step,
        mode=j.mode, n_failed=v.n_failed, n_checked=int(A.size),
        n_evals=n_evals, kind=kind, user_tolerance=user is not None, label=label, diagnosis=diag,
        miss_probability=None if d is None else d.miss_probability,
        detectable_error=None if d is None else d.detectable_error,
        localised=[] if d is None else d.localised, localised_note="" if d is None else d.note,
        problems=list(j.problems), taylor=taylor, directions=None if d is None else d.directions,
        x_shape=x_shape, ratio=v.ratio.reshape(shape),
        terms=None if j.terms is None else tuple(t.reshape(shape) for t in j.terms),  # type: ignore[arg-type]
    )


def _verdict(j: Judged, taylor: TaylorResult | None, shape: tuple[int, ...]) -> tuple[str, str]:
    """The three-way verdict and its sentence. The Taylor test only ever weakens a marginal pass to
    inconclusive (the two opinions disagree, and near a kink it may be the Taylor test that errs); it
    never passes a failed check, whose bound is already the conservative one."""
    v = j.verdict
    unit = UNIT[j.mode]
    if v.n_failed or j.problems:
        w = v.worst()
        where = (f"; worst {_index(w, shape)}, err/tol {float(v.ratio.ravel()[w]):.3g}"
                 if v.n_failed and w >= 0 else "")
        bad = f"{v.n_failed} of {v.ok.size} {unit} outside tolerance{where}" if v.n_failed else ""
        nonfinite = f"{len(j.problems)} non-finite value(s): {j.problems[0]}" if j.problems else ""
        return "fail", "; ".join(p for p in (bad, nonfinite) if p)
    if v.n_undecided:
        first = j.inconclusive[0] if j.inconclusive else ""
        return "inconclusive", (f"{v.n_undecided} of {v.ok.size} {unit} could not be judged at any "
                                f"admissible step ({first}{'; …' if len(j.inconclusive) > 1 else ''}); "
                                "the rest pass")
    if taylor is not None and taylor.conclusive and not taylor.passed:
        w = v.worst()
        return "inconclusive", (f"the error model passes by a small margin (worst {_index(w, shape)}, "
                                f"err/tol {float(v.ratio.ravel()[w]):.3g}) but the Taylor test along it "
                                f"observes order {taylor.order:.2f} (2 correct, 1 wrong): the two "
                                "opinions disagree; check again with method='richardson' or at another x")
    return "pass", ""


def _index(flat: int, shape: tuple[int, ...]) -> str:
    return str([int(i) for i in np.unravel_index(flat, shape)]) if shape else "[]"


WHAT = {"gradient": "gradient", "jacobian": "Jacobian", "vjp": "VJP", "jvp": "JVP", "adjoint": "adjoint",
        "elementwise": "elementwise derivative"}
UNIT = {"full": "entries", "directional": "directions", "adjoint": "pairs (u, v)"}


def _entry(label: str, index: tuple[int, ...], x_shape: tuple[int, ...], mode: str, kind: str) -> str:
    """An entry as the report names it: W2[3, 1]; x[1] (output [0]) of a Jacobian; output [2] of a JVP;
    direction 3 in directional mode."""
    idx = list(index)
    if mode == "adjoint":
        return f"{label} pair {idx[0]}" if label != "x" else f"pair {idx[0]}"
    if mode == "directional":
        return ((f"{label} " if label != "x" else "") + f"direction {idx[0]}"
                + (f" (output {idx[1:]})" if len(idx) > 1 else ""))
    if kind == "jvp":
        return f"output {idx}" + (f" along {label}" if label != "x" else "")
    n_out = len(idx) - len(x_shape)
    own = f"{label}{idx[n_out:]}" if x_shape else label
    return own + (f" (output {idx[:n_out]})" if n_out > 0 else "")


def _worst_argument(by: dict[str, GradCheckResult]) -> str:
    """The argument that decides: the failing one with the largest err/tol, else an inconclusive one,
    else the one closest to its bound."""
    def key(k: str) -> tuple[int, float]:
        r = by[k]
        rank = {"fail": 2, "inconclusive": 1, "pass": 0}[r.verdict]
        worst = float(np.nanmax(r.ratio)) if r.ratio is not None and np.isfinite(r.ratio).any() else 0.0
        return rank, worst
    return max(by, key=key)


def model_reason(trunc: Array, rnd: Array, ana: Array, method: str, eps_g: float,
                 directional: bool = False) -> str:
    """The report's sentence on how the bound was formed and which of its terms decided most entries."""
    s = param("safety")
    st, sr = s * trunc, s * rnd
    terms = {"truncation": st, "rounding of f": sr, "the claimed values' own rounding": ana}
    counts = {k: int(np.sum((v >= st) & (v >= sr) & (v >= ana))) for k, v in terms.items()}
    top = max(counts, key=lambda k: counts[k])
    how = {
        "central": ("truncation from the difference of steps h and 2h" if not directional else
                    "truncation bounded by the curvature t·|φ″|/6 from the second difference"),
        "richardson": "truncation from the difference of two extrapolations (h, 2h and 2h, 4h)",
        "complex": "no subtractive cancellation (complex step): rounding of an analytic derivative",
    }[method]
    return (f"error model ({how}; rounding from |f| and the step; claimed values in {dtype_name(eps_g)}): "
            f"bound = {s:g}×(truncation + rounding) + claimed rounding; {top} decided for most entries")


# ---- the report -------------------------------------------------------------------------------

def _fmt(v: float) -> str:
    return f"{v: .6e}" if np.isfinite(v) else f"{v!s:>13}"


def _step_line(r: GradCheckResult) -> list[str]:
    if r.step is None:
        return []
    st = np.asarray(r.step, dtype=np.float64)
    if not st.size:
        return []
    span = f"{float(st.min()):.3g}" + (f"…{float(st.max()):.3g}" if st.max() > st.min() else "")
    per = " per direction (unit directions)" if r.mode == "directional" else " per entry"
    return [f"  step: {span}{per}"]


def _seed_line(r: GradCheckResult) -> str:
    drawn = {"vjp": "the cotangent u", "jvp": "the tangent v", "adjoint": "u and v"}.get(r.kind)
    if drawn and r.seed is not None:
        also = " and the random directions" if r.mode == "directional" else ""
        return (f"  seed {r.seed}: {drawn}{also} drawn from it; replay with the same call and seed={r.seed}"
                + (f"; {r.localised_note}" if r.localised_note else ""))
    if r.mode == "directional":
        return (f"  seed {r.seed}: replay with the same call and seed={r.seed}"
                + (f"; {r.localised_note}" if r.localised_note else ""))
    if r.seed is not None:
        return f"  seed {r.seed} (full mode draws no random numbers)"
    return "  seed: none needed (full mode draws no random numbers)"


def _worst_rows(r: GradCheckResult) -> list[str]:
    ratio = r.ratio
    if ratio is None or not ratio.size:
        return []
    flat = ratio.ravel()
    order = np.argsort(-np.where(np.isnan(flat), -1.0, flat), kind="stable")   # NaN: not judged, last
    judged = [int(i) for i in order if not np.isnan(flat[i])]
    if not judged:
        return []
    if r.verdict != "fail":
        shown = judged[:3]
    else:
        shown = [i for i in judged[:10] if flat[i] > 1.0] or judged[:1]
    label = "worst entries" if r.mode == "full" else "worst directions"
    lines = [f"  {label} (error/tolerance > 1 fails):",
             f"    {'index':<14}{'analytic':>14}{'numerical':>14}{'abs err':>11}{'rel err':>11}"
             f"{'tolerance':>11}{'err/tol':>9}"]
    A, N, T = r.analytic.ravel(), r.numerical.ravel(), r.tolerance.ravel()
    rel = relative_error(A, N)
    shape = r.analytic.shape
    prefix = r.label if r.label != "x" and r.mode == "full" and r.kind != "jvp" else ""
    for i in shown:
        idx = prefix + (str([int(v) for v in np.unravel_index(i, shape)]) if shape else "[]")
        lines.append(f"    {idx:<14}{_fmt(A[i]):>14}{_fmt(N[i]):>14}{abs(A[i] - N[i]):>11.3g}{rel[i]:>11.3g}"
                     f"{T[i]:>11.3g}{flat[i]:>9.3g}")
    return lines


def _first_line(r: GradCheckResult) -> str:
    """The line that must read on its own: verdict, for which arguments, counts, method, mode and cost;
    on a failure the worst entry with both values, and the diagnosis."""
    unit = "output entries" if r.kind == "jvp" else UNIT[r.mode]
    head = {"pass": "passed", "fail": "FAILED", "inconclusive": "INCONCLUSIVE"}[r.verdict]
    if r.by_argument:
        named = [k for k, v in r.by_argument.items() if v.verdict == r.verdict] if r.verdict != "pass" else []
        whom = f" for {', '.join(named)}" if named else ""
    else:
        whom = f" for {r.label}" if r.label != "x" else ""
    undecided = f", {r.n_inconclusive} could not be judged" if r.n_inconclusive else ""
    line = (f"{WHAT[r.kind]} check {head}{whom}: {r.n_failed} of {r.n_checked} {unit} outside tolerance"
            f"{undecided} (method {r.method}, {r.mode} mode, {r.n_evals} evaluations of f)")
    if r.verdict == "fail" and r.n_failed:
        w = r.by_argument[_worst_argument(r.by_argument)] if r.by_argument else r
        a, n = float(w.analytic[w.worst_index]), float(w.numerical[w.worst_index])
        line += f"; worst {w.worst}: analytic {a:.6g} vs numerical {n:.6g}"
    if r.diagnosis:
        line += f" ({r.diagnosis})"
    return line


def _report(r: GradCheckResult) -> str:
    if r.by_argument:
        return _structured_report(r)
    lines = [_first_line(r)]
    if r.verdict == "inconclusive":   # (a failure's sentence is the first line's, a pass has none)
        lines.append(f"  inconclusive: {r.reason}")
    lines += _step_line(r)
    lines.append(_seed_line(r))
    lines.append(f"  max abs err {r.max_abs_err:.3g}, max rel err {r.max_rel_err:.3g} "
                 "(relative: |a − n| / max(|a|, |n|))")
    lines += [f"  NOT FINITE: {p}" for p in r.problems[:10]]
    if len(r.problems) > 10:
        lines.append(f"  … and {len(r.problems) - 10} more non-finite values")
    lines += [f"  note: {p}" for p in r.notes[:10]]
    lines += [f"  NOT JUDGED: {p}" for p in r.inconclusive[:10]]
    if len(r.inconclusive) > 10:
        lines.append(f"  … and {len(r.inconclusive) - 10} more entries not judged")
    lines += _worst_rows(r)
    if r.localised:
        lines.append("  bisection localised the wrong entries to: "
                     + ", ".join(str(list(i)) for i in r.localised))
    if r.kinks:
        lines.append(f"  kinks ({len(r.kinks)}): the one-sided derivatives differ; a claim between them "
                     "(a subgradient) passes")
        lines += [f"    {k}" for k in r.kinks[:8]]
    if r.mode == "directional" and r.miss_probability is not None:
        lines.append(f"  miss probability: an error above {r.detectable_error:.3g} in any one entry is seen "
                     f"by each random direction with probability ≥ 1/2, so slips through all "
                     f"with probability ≤ {r.miss_probability:.3g}; a lone wrong entry that large, "
                     "or a scale error along the claimed gradient, is seen with certainty")
    lines.append(f"  tolerance: {r.tolerance_reason}")
    if r.terms is not None and r.n_checked and not r.user_tolerance:
        w = r.worst_index
        wt, wr, wa = (float(t[w]) for t in r.terms)
        s = param("safety")
        lines.append(f"    at {r.worst}: {s:g}×truncation {wt:.2g} + {s:g}×rounding {wr:.2g} + "
                     f"claimed rounding {wa:.2g}")
    if r.taylor is not None and r.verdict != "inconclusive":
        t = r.taylor
        if r.verdict == "fail" and t.conclusive and t.passed:
            lines.append("  second opinion (verdict marginal): the Taylor test observes order "
                         f"{t.order:.2f}; it cannot see an error this close to the bound, so the "
                         "verdict stands")
        else:
            lines.append(f"  second opinion (verdict marginal): {t}")
    return "\n".join(lines)


def _structured_report(r: GradCheckResult) -> str:
    """A check of several arguments: the first line, one line per argument, then the report of each
    argument that did not pass."""
    lines = [_first_line(r)]
    if r.seed is not None:
        lines.append(f"  seed {r.seed}: replay with the same call and seed={r.seed}")
    lines.append("  by argument:")
    for label, sub in r.by_argument.items():
        head = {"pass": "passed", "fail": "FAILED", "inconclusive": "INCONCLUSIVE"}[sub.verdict]
        ratio = sub.ratio
        worst = (f", worst err/tol {float(np.nanmax(ratio)):.3g} at {sub.worst}"
                 if ratio is not None and np.isfinite(ratio).any() else "")
        unit = UNIT[sub.mode]
        undecided = f", {sub.n_inconclusive} could not be judged" if sub.n_inconclusive else ""
        shape = f" {tuple(sub.x_shape)}" if sub.kind in ("gradient", "jacobian", "vjp") else ""
        lines.append(f"    {label}{shape}: {head}, {sub.n_failed} of {sub.n_checked} {unit} "
                     f"outside tolerance{undecided}{worst}")
    for sub in r.by_argument.values():
        if sub.verdict != "pass":
            lines += ["  " + ln for ln in str(sub).splitlines()]
    return "\n".join(lines)


def combine(by: dict[str, GradCheckResult], *, diagnosis: str | None = None) -> GradCheckResult:
    """The result of a check of several arguments, from each argument's own (`by`, label to result):
    the overall verdict (fail > inconclusive > pass), summed counts and evaluations, the worst entry's
    argument, the arrays raveled and concatenated in order, and the diagnosis (a swap between
    arguments, else the arguments' own)."""
    subs = list(by.values())
    first = subs[0]
    verdicts = {r.verdict for r in subs}
    verdict = "fail" if "fail" in verdicts else ("inconclusive" if "inconclusive" in verdicts else "pass")
    top_label = _worst_argument(by)
    top = by[top_label]
    reasons = [f"{k}: {r.reason}" for k, r in by.items() if r.verdict == verdict and r.reason]
    if diagnosis is None:
        own = [f"{k}: {r.diagnosis}" for k, r in by.items() if r.diagnosis]
        diagnosis = "; ".join(own) or None

    def cat(name: str) -> Array:
        return np.concatenate([np.asarray(getattr(r, name), dtype=np.float64).ravel() for r in subs])

    def tagged(name: str) -> list[str]:   # (each line names its entry with the argument's label)
        return [p for r in subs for p in getattr(r, name)]

    labels = list(by)
    offset = sum(by[k].analytic.size for k in labels[:labels.index(top_label)])
    worst = ((offset + int(np.ravel_multi_index(top.worst_index, top.analytic.shape)),)
             if top.n_checked else ())
    return GradCheckResult(
        passed=verdict == "pass", verdict=verdict, reason="; ".join(reasons),
        max_abs_err=max(r.max_abs_err for r in subs), max_rel_err=max(r.max_rel_err for r in subs),
        worst_index=worst, analytic=cat("analytic"), numerical=cat("numerical"), tolerance=cat("tolerance"),
        tolerance_reason=top.tolerance_reason, kinks=[k for r in subs for k in r.kinks], seed=first.seed,
        method=first.method, step=None, mode=first.mode, n_failed=sum(r.n_failed for r in subs),
        n_checked=sum(r.n_checked for r in subs), n_evals=sum(r.n_evals for r in subs), kind=first.kind,
        user_tolerance=first.user_tolerance, problems=tagged("problems"), inconclusive=tagged("inconclusive"),
        n_inconclusive=sum(r.n_inconclusive for r in subs), notes=tagged("notes"),
        x_shape=(sum(r.analytic.size for r in subs),), label="", by_argument=dict(by), diagnosis=diagnosis,
        directions=first.directions,
        localised_note="; ".join(f"{k}: {r.localised_note}" for k, r in by.items() if r.localised_note),
        ratio=cat("ratio") if all(r.ratio is not None for r in subs) else None,
    )
