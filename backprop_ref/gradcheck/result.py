"""The result of a check (`GradCheckResult`, `Kink`, `TaylorResult`), built once and frozen; `combine` for
a check of several arguments. Its report is `backprop_ref.gradcheck.report`'s.

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
from backprop_ref.gradcheck.report import UNIT, entry_name, render, worst_argument
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
            sub = self.by_argument[worst_argument(self.by_argument)]
            return sub.worst
        return entry_name(self.label, self.worst_index, self.x_shape, self.mode, self.kind)

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
            return render(self)


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


def combine(by: dict[str, GradCheckResult], *, diagnosis: str | None = None) -> GradCheckResult:
    """The result of a check of several arguments, from each argument's own (`by`, label to result):
    the overall verdict (fail > inconclusive > pass), summed counts and evaluations, the worst entry's
    argument, the arrays raveled and concatenated in order, and the diagnosis (a swap between
    arguments, else the arguments' own)."""
    subs = list(by.values())
    first = subs[0]
    verdicts = {r.verdict for r in subs}
    verdict = "fail" if "fail" in verdicts else ("inconclusive" if "inconclusive" in verdicts else "pass")
    top_label = worst_argument(by)
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
